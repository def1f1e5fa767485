"""The local Docker engine: a probe that answers within a deadline, testcontainers settings,
and the labels that let sts-props find (and remove) every container it started.

>>> DOCKER_LABELS[CREATED_BY_LABEL]
'sts-props'
>>> sorted(tc_env_defaults("unix:///var/run/docker.sock"))
['TC_HOST', 'TESTCONTAINERS_CONNECTION_MODE', 'TESTCONTAINERS_RYUK_DISABLED']

Why the testcontainers defaults: the Ryuk reaper is an image that must be pulled, and sts-props
removes its own containers (on exit, on SIGTERM, and orphans of dead runs at the next start); and
without ``docker_host`` mode testcontainers may decide it runs inside a container and connect to
the docker0 bridge address instead of the loopback port Docker published.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from sts_props.cluster.base import CREATED_BY_LABEL, CREATED_BY_VALUE, BackendUnavailable
from sts_props.cluster.lifecycle import pid_alive

#: Labels on every container sts-props starts; ``OWNER_PID_LABEL`` lets a later run tell an
#: orphan (its process is gone) from a container another live run is using.
OWNER_PID_LABEL = "sts-props.io/owner-pid"
BACKEND_LABEL = "sts-props.io/backend"
#: The run's host work directory (kubeconfig, mounted config), removed with an orphan.
WORKDIR_LABEL = "sts-props.io/workdir"
WORKDIR_PREFIX = "sts-props-container-"
DOCKER_LABELS = {CREATED_BY_LABEL: CREATED_BY_VALUE}

PROBE_TIMEOUT = 5.0

INSTALL_HINT = ("install Docker (Debian: `apt-get install docker.io`) and start it "
                "(`dockerd --ip 127.0.0.1 &` or `systemctl start docker`)")


def docker_host() -> str:
    """The engine address the Docker SDK will use (``DOCKER_HOST`` or the default socket)."""
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def tc_env_defaults(host: str) -> dict[str, str]:
    """Settings testcontainers needs for a local engine (see the module docstring)."""
    if not host.startswith("unix://"):
        return {}  # a remote engine: its published ports are not on our loopback
    return {"TESTCONTAINERS_RYUK_DISABLED": "true",
            "TESTCONTAINERS_CONNECTION_MODE": "docker_host",
            "TC_HOST": "127.0.0.1"}


def configure_testcontainers() -> None:
    """Apply :func:`tc_env_defaults` where the user set nothing.

    Must run before ``testcontainers`` is imported: it reads its settings at import time.
    """
    for key, value in tc_env_defaults(docker_host()).items():
        os.environ.setdefault(key, value)


def docker_client(timeout: float = PROBE_TIMEOUT) -> Any:
    """A connected ``docker.DockerClient``, or :class:`BackendUnavailable` with a diagnosis.

    Answers within about ``timeout`` seconds whatever the engine does (missing socket,
    wrong permissions, an engine that accepts and never answers).
    """
    try:
        import docker
    except ImportError:  # pragma: no cover - a dependency of testcontainers
        raise BackendUnavailable("the Docker SDK for Python is not installed: "
                                 "pip install docker") from None
    host = docker_host()
    socket_path = host.removeprefix("unix://") if host.startswith("unix://") else None
    if socket_path is not None and not os.path.exists(socket_path):
        raise BackendUnavailable(f"Docker is not running here: no socket at {socket_path}; "
                                 f"{INSTALL_HINT}")
    try:
        client = docker.DockerClient(base_url=host, timeout=int(max(1, timeout)))
        client.ping()
    except Exception as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        if "Permission denied" in reason:
            fix = "add your user to the `docker` group or run as root"
        else:
            fix = INSTALL_HINT
        raise BackendUnavailable(f"Docker at {host} does not answer ({reason}); {fix}") from None
    return client


def remove_orphans(client: Any) -> list[str]:
    """Remove sts-props containers whose owning process is gone; return their names.

    Containers of live runs (another pytest worker, a `cluster up`) are left alone.
    """
    removed: list[str] = []
    containers = client.containers.list(
        all=True, filters={"label": f"{CREATED_BY_LABEL}={CREATED_BY_VALUE}"})
    for container in containers:
        pid_text = (container.labels or {}).get(OWNER_PID_LABEL, "")
        if pid_text.isdigit() and pid_alive(int(pid_text)):
            continue
        with contextlib.suppress(Exception):
            container.remove(force=True)
            removed.append(container.name)
        workdir = Path((container.labels or {}).get(WORKDIR_LABEL, ""))
        # only a directory this module's naming made, in the temp directory
        if workdir.name.startswith(WORKDIR_PREFIX) and workdir.parent == Path(
                tempfile.gettempdir()):
            shutil.rmtree(workdir, ignore_errors=True)
    return removed


def sts_containers(client: Any) -> list[Any]:
    """Every container (running or not) carrying the sts-props label."""
    return list(client.containers.list(
        all=True, filters={"label": f"{CREATED_BY_LABEL}={CREATED_BY_VALUE}"}))

