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
>>> Dummy().supervise(), Dummy().crashes, Dummy().crash_log
([], (), ())
>>> Dummy.diagnose("v1.37.2")
[]
>>> Dummy().fail_node(None, "node-0", "ns")
Traceback (most recent call last):
...
sts_props.errors.ClusterError: the dummy backend cannot fail a node
"""

from __future__ import annotations

import abc
import contextlib
import uuid
from collections.abc import Callable, Iterable, Sequence
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
    #: the harness may create cluster-scoped admission policies bound to its namespaces
    #: (:mod:`sts_props.cluster.quiet_gap` holds the controller's writes with one while it
    #: replaces a ControllerRevision); False on a cluster somebody else runs, where the
    #: replacement goes unheld and a sync may, rarely, land between its two requests
    admission_policies: bool = True

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


#: the control-plane components whose exit by themselves is a ``CRASH`` (issue 12)
CONTROL_PLANE = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")
#: :attr:`Crash.cause` values: what the component's log says it died of
PANIC, FATAL, LEADER_LOST = "panic", "fatal", "leader-election-lost"


@dataclass(frozen=True)
class Crash:
    """A control-plane component that exited by itself, as the harness found it.

    ``how`` is the exit status when the harness can know it (a process it started itself),
    else says why it cannot; ``cause`` is :data:`PANIC`, :data:`FATAL` (a klog ``F`` line or a
    Go runtime ``fatal error:``), :data:`LEADER_LOST` (it gave up its leader Lease) or ""
    (the log says nothing: killed by a signal, or a quiet exit); ``excerpt`` holds the first
    lines of the panic or fatal error, else the log's last lines. ``at`` is when the harness
    noticed (epoch seconds); ``restart_seconds`` how long the restart took. ``window`` names
    the planned restart fault during whose execution it was found ("" when the supervisor found
    it, see :meth:`Cluster.supervise`).

    >>> c = Crash("kube-scheduler", 42, "killed by signal 9 (SIGKILL)", "",
    ...           ("I1204 ... Starting",), at=0.0, restart_seconds=1.5)
    >>> c.summary()[:58]
    'kube-scheduler (pid 42) exited by itself: killed by signal'
    >>> c.describe().endswith("; restarted, serving again after 1.5s")
    True
    >>> Crash.from_record(c.record()) == c
    True
    """

    component: str
    pid: int
    how: str
    cause: str
    excerpt: tuple[str, ...]
    at: float
    restart_seconds: float
    window: str = ""

    def summary(self) -> str:
        """What happened, without the restart: ``exited by itself: ...; log: ...``."""
        excerpt = " | ".join(self.excerpt) or "(empty or unreadable log)"
        if self.cause == PANIC:
            said = f"it panicked: {excerpt}"
        elif self.cause == FATAL:
            said = f"a fatal error: {excerpt}"
        elif self.cause == LEADER_LOST:
            said = f"it lost its leader election: {excerpt}"
        else:
            said = f"no panic or fatal line in its log, which ends: {excerpt}"
        return f"{self.component} (pid {self.pid}) exited by itself: {self.how}; {said}"

    def describe(self) -> str:
        """One line for progress output and the ``check`` summary."""
        return (f"{self.summary()}; restarted, serving again after "
                f"{self.restart_seconds:.1f}s")

    def record(self) -> dict[str, Any]:
        """The fields of the History's ``crash`` record (:mod:`sts_props.history`)."""
        return {"component": self.component, "pid": self.pid, "how": self.how,
                "cause": self.cause, "excerpt": list(self.excerpt), "at": self.at,
                "restartSeconds": round(self.restart_seconds, 3), "window": self.window}

    @staticmethod
    def from_record(data: dict[str, Any]) -> Crash:
        """Back from :meth:`record` (a saved History), tolerant of missing fields."""
        return Crash(str(data.get("component", "")), int(data.get("pid") or 0),
                     str(data.get("how", "")), str(data.get("cause", "")),
                     tuple(str(line) for line in data.get("excerpt") or ()),
                     float(data.get("at") or 0.0), float(data.get("restartSeconds") or 0.0),
                     str(data.get("window", "")))


#: how :meth:`Cluster.supervise` is told to bracket an apiserver restart (the driver's
#: :meth:`~sts_props.cluster.driver.ClusterRun.planned_outage`)
Outage = Callable[[], contextlib.AbstractContextManager[None]]


def first_problem(findings: Iterable[Finding]) -> Finding | None:
    """The first failed check, if any."""
    return next((f for f in findings if not f.ok), None)


class Cluster(abc.ABC):
    """A running Kubernetes API the harness may drive."""

    name: str = "cluster"
    capabilities: Capabilities = Capabilities()
    #: components that exited by themselves and were restarted (:meth:`supervise`), described
    crashes: Sequence[str] = ()
    #: the same as :class:`Crash` records, plus those a planned restart found (its
    #: ``window``), in the order found; the driver records the new ones in the History
    crash_log: Sequence[Crash] = ()
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

    def collect_strays(self, core: Any, namespace: str, dead_nodes: set[str]) -> None:
        """Pod GC for ``namespace``'s pods bound to ``dead_nodes`` (nodes :meth:`fail_node`
        deleted), called every second of a run's waits. Backends whose clusters run pod GC
        as it is leave it to them (this default does nothing); those whose :meth:`fail_node`
        plays it at once keep playing it here, for a scheduler that binds to a deleted node
        longer than the failure lasts."""
        return None

    @classmethod
    def diagnose(cls, version: str, image: str | None = None) -> list[Finding]:
        """Can this backend run here? The checks ``sts-props doctor`` prints, each bounded to a
        few seconds, each failure with its fix; ``version`` is the Kubernetes version and
        ``image`` the container image the backend would use (None: its default). Backends
        with nothing to check return no finding."""
        return []

    def check_inputs(self) -> None:
        """Check, without starting or reaching anything, what the user gave this cluster (a
        kubeconfig file and its context); bad input raises (a :class:`KubeconfigError`). A
        command that runs for minutes before it starts the cluster calls it first. Backends
        given nothing to check do nothing."""
        return None

    def supervise(self, outage: Outage | None = None) -> list[Crash]:
        """Restart control-plane components that exited by themselves, as a kubelet restarts
        a crashed static pod; one :class:`Crash` per restart (also kept in :attr:`crash_log`,
        described in :attr:`crashes`). An apiserver restart happens inside ``outage()`` (so
        that the caller's API calls and watches ride it out). Backends whose components run
        under a supervisor already (containers, real nodes) do nothing.
        """
        return []

    def log_excerpts(self, since: float, until: float, namespace: str) -> dict[str, str]:
        """Control-plane log lines a failing run's artifacts keep, by component: those written
        between ``since`` and ``until`` (epoch seconds) that concern ``namespace``
        (:mod:`sts_props.cluster.log_window`). Backends whose logs the harness cannot read
        (k3s, existing clusters) return none."""
        return {}

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


def load_client() -> None:
    """Import the Kubernetes client and build its typed APIs once (about 0.7 s: hundreds of
    modules, then the API classes' pydantic models), as a cluster's start would.

    For a caller about to run a CPU-bound thread beside a cluster start: every file read of an
    import hands the GIL over, and with that thread busy each handover waits up to the 5 ms
    switch interval (the kwok start went from 3.2 s to 6.5 s with the model pool beside it).
    """
    from kubernetes import client

    typed_apis(client.ApiClient())


def typed_apis(api_client: Any) -> tuple[Any, Any, Any]:
    """``(CoreV1Api, AppsV1Api, StorageV1Api)`` held as Any: the harness passes plain dicts,
    which the generated client accepts although its annotations name its model classes."""
    from kubernetes import client

    return (client.CoreV1Api(api_client), client.AppsV1Api(api_client),
            client.StorageV1Api(api_client))
