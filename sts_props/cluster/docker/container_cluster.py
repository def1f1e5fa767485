"""What the Docker-based backends (``kwok-image``, ``k3s``) share: a preflight that diagnoses
within a deadline, one labelled container started through testcontainers, a kubeconfig on
loopback, and a stop that leaves nothing behind (also on Ctrl-C, SIGTERM and interpreter exit;
orphans of killed runs are removed by the next start).

A subclass says which container to run and when its API is ready::

    class MyBackend(ContainerCluster):
        name = "my-backend"
        def _preflight(self, client): ...           # raise BackendUnavailable(diagnosis)
        def _container(self): return DockerContainer("img:tag").with_exposed_ports(8080)
        def _wait_ready(self, container, deadline): ...
        def _kubeconfig_text(self, container): ...
"""

from __future__ import annotations

import abc
import atexit
import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sts_props.cluster import rawhttp
from sts_props.cluster.base import Cluster, ClusterError
from sts_props.cluster.docker.env import (
    BACKEND_LABEL,
    DOCKER_LABELS,
    OWNER_PID_LABEL,
    WORKDIR_LABEL,
    WORKDIR_PREFIX,
    configure_testcontainers,
    docker_client,
    remove_orphans,
)
from sts_props.cluster.lifecycle import exit_on_sigterm

START_DEADLINE = 180.0


class ContainerCluster(Cluster, abc.ABC):
    """A cluster in one Docker container (see the module docstring)."""

    def __init__(self, progress: Callable[[str], None] | None = None,
                 start_deadline: float = START_DEADLINE) -> None:
        self.progress = progress or (lambda _line: None)
        self.start_deadline = start_deadline
        self.workdir: Path | None = None
        self.container: Any = None
        self.start_seconds = 0.0

    # -- what a backend provides ------------------------------------------------------------
    @abc.abstractmethod
    def _preflight(self, client: Any) -> None:
        """Raise :class:`BackendUnavailable` with a one-line diagnosis if this cannot start."""

    @abc.abstractmethod
    def _container(self) -> Any:
        """The (not yet started) testcontainers container."""

    @abc.abstractmethod
    def _wait_ready(self, container: Any, deadline: float) -> None:
        """Return once the API answers; raise :class:`ClusterError` at ``deadline``."""

    @abc.abstractmethod
    def _kubeconfig_text(self, container: Any) -> str:
        """A kubeconfig whose server is the container's API port published on loopback."""

    def _after_start(self) -> None:
        """Hook: create nodes, StorageClasses, ... once the API is ready."""

    # -- lifecycle --------------------------------------------------------------------------
    def kubeconfig(self) -> Path:
        if self.workdir is None:
            raise ClusterError(f"{self.name}: the cluster is not running")
        return self.workdir / "kubeconfig.yaml"

    def start(self) -> None:
        started = time.monotonic()
        configure_testcontainers()
        client = docker_client()
        try:
            for name in remove_orphans(client):
                self.progress(f"removed container {name} left by a run that is gone")
            self._preflight(client)
        finally:
            client.close()
        self.workdir = Path(tempfile.mkdtemp(prefix=f"{WORKDIR_PREFIX}{self.name}-"))
        atexit.register(self.stop)
        exit_on_sigterm()
        try:
            container = self._container()
            add_labels(container, dict(DOCKER_LABELS, **{OWNER_PID_LABEL: str(os.getpid()),
                                                         BACKEND_LABEL: self.name,
                                                         WORKDIR_LABEL: str(self.workdir)}))
            self.progress(f"starting container {container.image}")
            self.container = container
            container.start()
            self._wait_ready(container, started + self.start_deadline)
            self.kubeconfig().write_text(self._kubeconfig_text(container), encoding="utf-8")
            self._after_start()
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - started
        self.progress(f"cluster up in {self.start_seconds:.1f}s")

    def stop(self) -> None:
        """Remove the container and the work directory; safe to call twice."""
        container, self.container = self.container, None
        if container is not None:
            with contextlib.suppress(Exception):
                wrapped = container.get_wrapped_container()
                if wrapped is not None:
                    wrapped.remove(force=True, v=True)
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)

    # -- helpers for subclasses -----------------------------------------------------------
    @staticmethod
    def _exited(container: Any) -> str | None:
        """The log tail if the container stopped running, else None."""
        wrapped = container.get_wrapped_container()
        if wrapped is None:
            return "the container was not created"
        wrapped.reload()
        if wrapped.status in ("created", "running"):
            return None
        logs = wrapped.logs(tail=15).decode("utf-8", "replace")
        return f"the container exited ({wrapped.status}):\n{logs}"

    @staticmethod
    def _log_tail(container: Any, lines: int = 15) -> str:
        with contextlib.suppress(Exception):
            wrapped = container.get_wrapped_container()
            return str(wrapped.logs(tail=lines).decode("utf-8", "replace"))
        return "(no logs)"


def add_labels(container: Any, labels: dict[str, str]) -> None:
    """Label a not yet started testcontainers container, keeping its other create arguments
    (``with_kwargs`` replaces them all, e.g. K3SContainer's ``privileged=True``)."""
    container.with_kwargs(**{**getattr(container, "_kwargs", {}), "labels": labels})


def readyz_error(make_api: Callable[[], Any]) -> str:
    """"" when the API behind ``make_api()`` answers /readyz with 200, else why not."""

    try:
        api = make_api()
        try:
            resp = rawhttp.get(api, "/readyz", read_timeout=2.0)
            return "" if resp.status == 200 else f"/readyz answered {resp.status}"
        finally:
            api.close()
    except Exception as exc:  # not listening yet, or restarting while it bootstraps
        return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def proxy_kubeconfig(name: str, server: str) -> str:
    """A kubeconfig for an API served without authentication (``kubectl proxy``).

    >>> "server: http://127.0.0.1:1234" in proxy_kubeconfig("kwok-image", "http://127.0.0.1:1234")
    True
    """
    return (f"apiVersion: v1\nkind: Config\n"
            f"clusters:\n- name: {name}\n  cluster:\n    server: {server}\n"
            f"users:\n- name: {name}\n  user: {{}}\n"
            f"contexts:\n- name: {name}\n  context:\n    cluster: {name}\n    user: {name}\n"
            f"current-context: {name}\n")
