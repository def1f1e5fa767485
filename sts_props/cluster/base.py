"""The small interface every cluster backend implements, and the errors they raise.

A backend only knows how to bring a cluster up and down, how to perform the few faults that
depend on the kind of nodes it has (:meth:`Cluster.restart_component`, :meth:`Cluster.fail_node`)
and what to check before it can run here (:meth:`Cluster.diagnose`, for ``sts-props doctor``);
driving scenarios, recording Histories and waiting live in :mod:`sts_props.cluster.driver`,
written once. The backends live in packages of their own (``sts_props.cluster.kwok``, ...);
:mod:`sts_props.cluster.backends` is the one place that names them.

>>> class Dummy(Cluster):
...     name = "dummy"
...     def start(self) -> None: ...
...     def stop(self) -> None: ...
...     def kubeconfig(self): return Path("/nonexistent")
>>> Dummy().capabilities.real_containers
False
>>> Dummy().supervise(), Dummy().crashes
([], ())
>>> Dummy.diagnose("v1.37.2")
[]
>>> Dummy().fail_node(None, "node-0", "ns")
Traceback (most recent call last):
...
sts_props.errors.ClusterError: the dummy backend cannot fail a node
"""

from __future__ import annotations

import abc
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# defined once in sts_props.errors; re-exported here, where the backends have always found them
from sts_props.errors import BackendUnavailable as BackendUnavailable
from sts_props.errors import ClusterError as ClusterError
from sts_props.ops import FAULT_OPS

#: Label on every namespace (and StorageClass) the harness creates; the guard relies on it.
CREATED_BY_LABEL = "app.kubernetes.io/created-by"
CREATED_BY_VALUE = "sts-props"
#: Annotation naming the run (one Cluster object) that created a namespace.
RUN_ID_ANNOTATION = "sts-props.io/run-id"


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

        return sorted(set(FAULT_OPS) - self.faults)


@dataclass(frozen=True)
class Finding:
    """One doctor check's verdict; ``fix`` is set when ``ok`` is False.

    >>> print(Finding("go toolchain", False, "no `go` on PATH", "install Go").render())
    [FAIL] go toolchain: no `go` on PATH
           fix: install Go
    """

    name: str
    ok: bool
    detail: str
    fix: str = ""

    def render(self) -> str:
        head = f"{'[ok]  ' if self.ok else '[FAIL]'} {self.name}: {self.detail}"
        return head if self.ok else f"{head}\n       fix: {self.fix}"


def first_problem(findings: Iterable[Finding]) -> Finding | None:
    """The first failed check, if any."""
    return next((f for f in findings if not f.ok), None)


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

    def fail_node(self, core: Any, node: str, namespace: str, *,
                  cordoned: bool = False) -> tuple[list[str], str]:
        """Fail ``node`` as a machine that is lost (the cluster side of ``FailNode``): its pods
        end deleted, the node is gone and a fresh one replaces it, created cordoned when
        ``cordoned`` (a ``HoldScheduling`` is in force). ``core`` is the caller's CoreV1Api
        (the driver's, which rides out planned outages). Returns the names of ``namespace``'s
        pods that were on the node and the name of the new node. Backends that cannot raise
        :class:`ClusterError`."""
        raise ClusterError(f"the {self.name} backend cannot fail a node")

    @classmethod
    def diagnose(cls, version: str, image: str | None = None) -> list[Finding]:
        """Can this backend run here? The checks ``sts-props doctor`` prints, each bounded to a
        few seconds, each failure with its fix; ``version`` is the Kubernetes version and
        ``image`` the container image the backend would use (None: its default). Backends
        with nothing to check return no finding."""
        return []

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
