"""The small interface every cluster backend implements, and the errors they raise.

A backend only knows how to bring a cluster up and down and how to perform the few faults that
depend on the kind of nodes it has; driving scenarios, recording Histories and waiting live in
:mod:`sts_props.cluster.driver`, written once.

>>> class Dummy(Cluster):
...     name = "dummy"
...     def start(self) -> None: ...
...     def stop(self) -> None: ...
...     def kubeconfig(self): return Path("/nonexistent")
>>> Dummy().capabilities.real_containers
False
>>> Dummy().supervise(), Dummy().crashes
([], ())
"""

from __future__ import annotations

import abc
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Label on every namespace (and StorageClass) the harness creates; the guard relies on it.
CREATED_BY_LABEL = "app.kubernetes.io/created-by"
CREATED_BY_VALUE = "sts-props"
#: Annotation naming the run (one Cluster object) that created a namespace.
RUN_ID_ANNOTATION = "sts-props.io/run-id"


class ClusterError(RuntimeError):
    """A backend cannot do what was asked; the message says what and how to fix it."""


class BackendUnavailable(ClusterError):
    """The backend cannot run here at all (missing Docker, binaries, ...)."""


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do beyond the API."""

    real_containers: bool = False
    restart_controller: bool = False
    #: pod readiness and phase can be set through the status subresource and stay so
    status_faults: bool = True
    #: the fault ops (plan-file kinds, :data:`sts_props.ops.FAULT_OPS`) this backend performs;
    #: ``sts-props check --faults`` generates only these and names the others as skipped.
    #: A backend derives it from the op catalogue (:func:`sts_props.ops.faults_performed_by`),
    #: where each op class states why a backend cannot perform it (``Op.unsupported``)
    faults: frozenset[str] = frozenset()
    #: why the backend performs none of the faults, when that is the backend's own choice
    #: rather than each op's (``Op.unsupported``); empty for backends that derive ``faults``
    faults_withheld: str = ""

    def missing_faults(self) -> list[str]:
        """Fault kinds this backend cannot perform, sorted.

        >>> Capabilities(faults=frozenset({"kill_pod"})).missing_faults()[:2]
        ['allow_pod_writes', 'deny_pod_writes']
        """
        from sts_props.ops import FAULT_OPS

        return sorted(set(FAULT_OPS) - self.faults)


class Cluster(abc.ABC):
    """A running Kubernetes API the harness may drive."""

    name: str = "cluster"
    capabilities: Capabilities = Capabilities()
    #: components that exited by themselves and were restarted (:meth:`supervise`), described
    crashes: Sequence[str] = ()
    #: provisioner of the StorageClass the harness maps every requested class to
    provisioner: str = "kubernetes.io/host-path"
    #: the harness created this cluster (so it may touch any namespace it labelled)
    owned: bool = True

    @abc.abstractmethod
    def start(self) -> None:
        """Bring the cluster up (or connect); raises :class:`ClusterError` with a diagnosis."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Tear down everything :meth:`start` made. Safe to call twice."""

    @abc.abstractmethod
    def kubeconfig(self) -> Path:
        """Path of a kubeconfig for this cluster."""

    @property
    def run_id(self) -> str:
        """Random id of this Cluster object's run, written on every namespace it creates."""
        rid: str | None = self.__dict__.get("_run_id")
        if rid is None:
            rid = self.__dict__["_run_id"] = uuid.uuid4().hex
        return rid

    def version(self) -> str:
        """``gitVersion`` reported by the apiserver."""
        from kubernetes import client

        info: Any = client.VersionApi(self.api_client()).get_code()
        return str(info.git_version)

    def restart_component(self, component: str) -> float:
        """Kill one control-plane component and start it again; returns the seconds until it
        serves again. Backends without ``restart_controller`` raise :class:`ClusterError`."""
        raise ClusterError(f"the {self.name} backend cannot restart {component}")

    def supervise(self) -> list[str]:
        """Restart control-plane components that exited by themselves, as a kubelet restarts
        a crashed static pod; one line per restart (also kept in :attr:`crashes`). Backends
        whose components run under a supervisor already (containers, real nodes) do nothing.
        """
        return []

    def api_client(self) -> Any:
        """A fresh ``kubernetes.client.ApiClient`` for this cluster."""
        return client_for(self.kubeconfig())

    def __enter__(self) -> Cluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def client_for(kubeconfig: Path, context: str | None = None) -> Any:
    """An ``ApiClient`` for a kubeconfig file (the loader is untyped upstream)."""
    from kubernetes import config

    return config.new_client_from_config(  # type: ignore[no-untyped-call]
        config_file=str(kubeconfig), context=context, persist_config=False)


def typed_apis(api_client: Any) -> tuple[Any, Any, Any]:
    """``(CoreV1Api, AppsV1Api, StorageV1Api)`` held as Any: the harness passes plain dicts,
    which the generated client accepts although its annotations name its model classes."""
    from kubernetes import client

    return (client.CoreV1Api(api_client), client.AppsV1Api(api_client),
            client.StorageV1Api(api_client))
