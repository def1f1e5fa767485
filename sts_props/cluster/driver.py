"""Run ops on a real cluster, once for every backend: a labelled namespace per scenario, ops
through the ``kubernetes`` client, a History recorded from watches, waits that wake on events.

>>> # with a started cluster ``c`` (see sts_props.cluster.kwok):
>>> # with ClusterRun(c, Manifests.seed()) as run:
>>> #     run.apply(Create())
>>> #     settled, why = run.wait_for(target_view, timeout=60)
>>> #     history = run.history()

Every wait has a deadline; on expiry the answer says what it waited for and what it saw last.

Each op's result record lists its own writes (``writes``: kind, name, uid, resourceVersion and
verb of every pod or claim the op's API calls changed, the fault executors' and the node-failure
agent's included), so that the checks attribute what the op did to the op whatever the order in
which the watches delivered it (:mod:`sts_props.checks._timeline`); :meth:`ClusterRun.unseen_writes`
tells a wait that the watches have not shown them yet.

Control-plane components that exit by themselves are restarted (:meth:`ClusterRun.supervise`,
before every op and every second of a wait) and recorded as ``crash`` records, which the ``CRASH``
check (:mod:`sts_props.checks.crash`) turns into violations.

A planned apiserver outage (the ``RestartApiserver`` fault) is announced with
:meth:`ClusterRun.planned_outage`: during it and for :data:`OUTAGE_GRACE` seconds after it, API
calls that fail for want of an apiserver (connection refused or reset, 503, 429; any 5xx for a
read) are retried with backoff, and the recorder's watches reconnect instead of failing the
waits. When the window closes with the apiserver still away, the call fails with a
:class:`ClusterError` that says so.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from sts_props.cluster.base import (
    CREATED_BY_LABEL,
    CREATED_BY_VALUE,
    RUN_ID_ANNOTATION,
    Cluster,
    ClusterError,
    Crash,
    typed_apis,
)
from sts_props.cluster.faults import CLEANUPS, EXECUTORS, NUDGE_EVERY, RESOLVERS, nudge
from sts_props.cluster.quiet_gap import AS_WRITER, quiet_gap
from sts_props.cluster.rawhttp import go_json, send
from sts_props.cluster.recorder import Recorder
from sts_props.history import History
from sts_props.ops import (
    OP_TYPES,
    Create,
    DeletePVC,
    DeleteRevision,
    DeleteSet,
    FailPod,
    HoldNotReady,
    MarkPodStale,
    Op,
    RecreateSet,
    RelabelPod,
    ReleasePod,
    ReplaceRevision,
    RevisionRole,
    Settle,
    UnlabelPod,
    replaced_template,
)
from sts_props.outcome import Cause, Outcome
from sts_props.scenario import Manifests
from sts_props.snapshot import HOLD_KEY, pod_name, uid
from sts_props.spec_edit import SpecEditor

#: how long the state must stay as expected before a wait counts it as settled
QUIET_SECONDS = 0.25
#: seconds between the harness's watch showing a ControllerRevision deleted and the nudge
#: that has the set sync (the controller's informer gets the same event from the apiserver)
REVISION_CACHE_LAG = 0.5
#: how often a wait checks that the control-plane components still run (Cluster.supervise)
SUPERVISE_EVERY = 1.0
#: seconds after a planned apiserver outage during which failed API calls are still retried
OUTAGE_GRACE = 60.0
#: backoff between retries of an API call in a planned outage: doubles from the first to the last
RETRY_BACKOFF = (0.1, 2.0)
#: one supervisor at a time: scenarios that run side by side (``--jobs``) share the cluster,
#: and a crashed component must be restarted once, not once per scenario
_SUPERVISING = threading.Lock()


class Cancelled(Exception):
    """The run was told to stop (its ``cancel`` event is set: the user interrupted a run with
    scenarios side by side); it ends at its next op or wait, cleaning up as usual."""


def _transient(exc: BaseException, method: str) -> bool:
    """Did the call fail because no apiserver answered (so that retrying it is safe)?

    Connection errors never reached a handler; 503 and 429 are refusals before any work. Other
    5xx may follow a write that happened, so only reads are retried on them.
    """
    import urllib3
    from kubernetes.client.exceptions import ApiException

    if isinstance(exc, urllib3.exceptions.HTTPError | ConnectionError):
        return True
    if isinstance(exc, ApiException):
        status = int(exc.status or 0)
        return status in (429, 503) or (status >= 500 and method.upper() == "GET")
    return False


def outcome_from_api_error(exc: Any) -> Outcome:
    """Turn a ``kubernetes.client.ApiException`` into an :class:`Outcome` (the server's Status)."""
    code = int(getattr(exc, "status", 0) or 0)
    try:
        body = json.loads(getattr(exc, "body", "") or "{}")
    except ValueError:
        body = {}
    if code == 0:
        return Outcome.indeterminate(str(exc))
    causes = tuple(
        Cause(str(c.get("field", "")), str(c.get("reason", "")), str(c.get("message", "")))
        for c in ((body.get("details") or {}).get("causes") or [])
    )
    return Outcome("rejected", int(body.get("code", code)), body.get("reason") or
                   getattr(exc, "reason", None), str(body.get("message", "")), causes)


#: CoreV1Api calls whose answer is the object they wrote: (kind, verb) of the write
_WRITES = {
    "delete_namespaced_pod": ("Pod", "delete"),
    "patch_namespaced_pod": ("Pod", "patch"),
    "patch_namespaced_pod_status": ("Pod", "status"),
    "create_namespaced_pod": ("Pod", "create"),
    "replace_namespaced_pod": ("Pod", "replace"),
    "delete_namespaced_persistent_volume_claim": ("PersistentVolumeClaim", "delete"),
}


def write_record(kind: str, verb: str, obj: Any) -> dict[str, Any] | None:
    """One entry of an op's ``writes`` from the object an API call answered with (None when it
    is not an object with a uid, e.g. a Status).

    >>> from types import SimpleNamespace as NS
    >>> write_record("Pod", "delete", NS(metadata=NS(name="web-2", uid="u1",
    ...                                              resource_version="812")))
    {'kind': 'Pod', 'name': 'web-2', 'uid': 'u1', 'rv': 812, 'verb': 'delete'}
    """
    meta = getattr(obj, "metadata", None)
    uid = getattr(meta, "uid", None)
    if not uid:
        return None
    rv = getattr(meta, "resource_version", None)
    return {"kind": kind, "name": str(getattr(meta, "name", "") or ""), "uid": str(uid),
            "rv": int(rv) if rv else None, "verb": verb}


class _WritesOf:
    """A CoreV1Api that notes the pods and claims each write call answers with in the run's
    ``writes`` (while an op runs). Dry runs change nothing and are not noted."""

    def __init__(self, core: Any, run: ClusterRun) -> None:
        self._core = core
        self._run = run

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._core, name)
        if name not in _WRITES:
            return attr
        kind, verb = _WRITES[name]

        def call(*args: Any, **kwargs: Any) -> Any:
            answer = attr(*args, **kwargs)
            if not kwargs.get("dry_run"):
                self._run.note_write(write_record(kind, verb, answer))
            return answer

        return call


class ClusterRun:
    """One scenario's namespace on a cluster, with its recorder and op executor."""

    def __init__(self, cluster: Cluster, manifests: Manifests, namespace: str | None = None,
                 progress: Callable[[str], None] | None = None,
                 cancel: threading.Event | None = None) -> None:
        self.cluster = cluster
        #: set by whoever runs scenarios side by side to stop this one (:class:`Cancelled`)
        self.cancel = cancel
        self.manifests = manifests
        self.set_name = manifests.set_name
        self.namespace = namespace or f"sts-props-{uuid.uuid4().hex[:8]}"
        self.editor = SpecEditor(manifests.statefulset)
        self.progress = progress or (lambda _line: None)
        self.api: Any = None
        self.recorder: Recorder | None = None
        self.index = 0
        #: pod names a DenyPodWrites policy refuses (see sts_props.cluster.faults)
        self.denied: set[str] = set()
        #: (fault kind, seconds) of every component restart, for reports
        self.fault_seconds: list[tuple[str, float]] = []
        #: the last op as performed (FailNode learns which pods shared the node)
        self.performed: Op | None = None
        #: a HoldScheduling is in force; the nodes it cordoned (sts_props.cluster.faults)
        self.scheduling_held = False
        self.cordoned: set[str] = set()
        #: nodes a FailNode deleted: pods bound to them meanwhile are pod GC's (collect_strays)
        self.dead_nodes: set[str] = set()
        #: ``time.monotonic()`` until which failed API calls are retried (planned outage)
        self.outage_until = 0.0
        #: the writes of the op being performed (None between ops), see :meth:`note_write`
        self.writes: list[dict[str, Any]] | None = None
        #: the writes of the last op performed, for :meth:`unseen_writes`
        self.last_writes: list[dict[str, Any]] = []
        #: how many of the cluster's crash_log entries this run has accounted for
        self._crashes_seen = 0
        self._silent_nudged = 0.0  # silent_deletion_at of the last such deletion nudged for
        #: where the run is, for crash records: "before op N", "during op N", ...
        self._phase = "before the first op"

    # -- lifecycle -------------------------------------------------------------------------------
    def __enter__(self) -> ClusterRun:
        # A component that died between two scenarios is brought back before this one starts
        # (reported, but no scenario's CRASH: none was running).
        with _SUPERVISING:
            self.cluster.supervise()
            self._crashes_seen = len(self.cluster.crash_log)
        self.api = self.cluster.api_client()
        self._retry_in_outages(self.api)
        core, self.apps, self.storage = typed_apis(self.api)
        self.core: Any = _WritesOf(core, self)
        self.core.create_namespace({"metadata": {
            "name": self.namespace, "labels": {CREATED_BY_LABEL: CREATED_BY_VALUE},
            "annotations": {RUN_ID_ANNOTATION: self.cluster.run_id}}})
        self.recorder = Recorder(self.api, self.namespace, t0=time.time(), header={
            "backend": self.cluster.name, "set_name": self.set_name,
            "namespace": self.namespace, "k8s_version": self.cluster.version(),
            "clock_granularity": 1.0})
        try:
            self.recorder.start()
        except Exception as exc:
            self._delete_namespace()
            errors = "; ".join(self.recorder.errors) or repr(exc)
            raise ClusterError(f"cannot watch namespace {self.namespace}: {errors}") from None
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if self.recorder is not None:
            self.recorder.stop()
        try:
            for undo in CLEANUPS:  # what faults left behind (sts_props.cluster.faults)
                undo(self)
            self._delete_namespace()
        except Exception as error:
            if not _transient(error, "DELETE"):
                raise
            # The cluster went away under the run (its container was stopped, Ctrl-C reached
            # it first): one line, and never in place of the error that ended the run.
            message = (f"cannot clean up namespace {self.namespace}: the apiserver does not "
                       f"answer ({type(error).__name__})")
            if exc_type is None:
                raise ClusterError(message) from None
            self.progress(message)
        finally:
            if self.api is not None:
                self.api.close()

    def _delete_namespace(self) -> None:
        from kubernetes.client.exceptions import ApiException

        try:
            self.core.delete_namespace(self.namespace, propagation_policy="Background")
        except ApiException as exc:
            if exc.status != 404:
                raise

    @contextlib.contextmanager
    def planned_outage(self) -> Iterator[None]:
        """The apiserver goes away inside this block (a fault executor restarts it): until
        :data:`OUTAGE_GRACE` seconds after the block, failed API calls are retried and watch
        failures are not errors.

        >>> # with run.planned_outage():
        >>> #     run.cluster.restart_component("kube-apiserver")
        """
        self.outage_until = math.inf
        self.rec.expect_outage(math.inf)
        try:
            yield
        finally:
            self.outage_until = time.monotonic() + OUTAGE_GRACE
            self.rec.expect_outage(self.outage_until)

    def _retry_in_outages(self, api: Any) -> None:
        """Wrap ``api.call_api`` (every typed API call goes through it, the fault executors'
        too) so that a call failing in a planned outage window is retried until the window
        closes. Outside a window an error propagates at once, as before."""
        call = api.call_api

        def call_api(*args: Any, **kwargs: Any) -> Any:
            method = str(kwargs.get("method") or (args[1] if len(args) > 1 else ""))
            backoff = RETRY_BACKOFF[0]
            tried = 0
            while True:
                try:
                    return call(*args, **kwargs)
                except Exception as exc:
                    if not _transient(exc, method):
                        raise
                    if time.monotonic() >= self.outage_until:
                        if tried:
                            raise ClusterError(
                                f"the apiserver did not come back within {OUTAGE_GRACE:.0f}s "
                                f"of a planned restart: {method} {args[0] if args else ''} "
                                f"still fails after {tried} retries: "
                                f"{str(exc).splitlines()[0][:200]}") from exc
                        raise
                tried += 1
                time.sleep(min(backoff, max(0.0, self.outage_until - time.monotonic())))
                backoff = min(backoff * 2, RETRY_BACKOFF[1])

        api.call_api = call_api

    @property
    def rec(self) -> Recorder:
        assert self.recorder is not None, "use ClusterRun as a context manager"
        return self.recorder

    def history(self) -> History:
        self.rec.pump()
        return self.rec.history()

    # -- supervision ---------------------------------------------------------------------------
    def supervise(self) -> list[Crash]:
        """Restart any control-plane component that exited by itself (:meth:`Cluster.supervise`,
        an apiserver inside :meth:`planned_outage`) and record every crash the cluster found
        since the last call as a ``crash`` record: the component, what its log says, the exit
        status, and where the run was (``found``) after which op (``opIndex``)."""
        with _SUPERVISING:
            crashes = self.cluster.supervise(self.planned_outage)
            self.record_crashes()
        if any(c.component == "kube-apiserver" for c in crashes):
            # The watches broke when it died, before anybody knew: that is the crash (a CRASH
            # violation), not a failure of the run; they have reconnected in the outage.
            self.rec.outage_failures += self.rec.errors
            self.rec.errors.clear()
        return crashes

    def record_crashes(self) -> None:
        """A ``crash`` record for each entry of the cluster's crash_log not recorded yet."""
        log = self.cluster.crash_log
        for crash in log[self._crashes_seen:]:
            self.rec.note("crash", {**crash.record(), "opIndex": self.index - 1,
                                    "found": self._phase})
        self._crashes_seen = len(log)

    # -- own writes ------------------------------------------------------------------------------
    def note_write(self, entry: dict[str, Any] | None) -> None:
        """Note one write of the op being performed (see :func:`write_record`)."""
        if entry is not None and self.writes is not None:
            self.writes.append(entry)

    def unseen_writes(self) -> str:
        """The last op's writes the watches have not delivered yet ("" when all have).

        A wait must not end before: the model's state after an op that deletes a pod (which
        its controller re-creates) looks like the state before it, so the cluster's state from
        before the delete could pass for the result, and the op's own events would then come
        after the settled quiescent point."""
        unseen = [w for w in self.last_writes if w.get("rv")
                  and self.rec.kind_rv.get(str(w.get("kind")), 0) < int(w["rv"])]
        return "; ".join(f"the watch has not shown this op's {w['verb']} of {w['kind']} "
                         f"{w['name']} (rv {w['rv']}) yet" for w in unseen[:2])

    # -- ops ---------------------------------------------------------------------------------
    def apply(self, op: Op) -> Outcome:
        """Invoke ``op`` on the cluster and record invoke and result in the History."""
        from kubernetes.client.exceptions import ApiException

        index = self.index
        self._phase = f"before op {index}"
        self.supervise()  # a component that crashed since the last op is back first
        self.index += 1
        resolve = RESOLVERS.get(op.kind)
        if resolve is not None and op.kind in self.cluster.capabilities.faults:
            op = resolve(self, op)  # FailNode: the History names the pods it takes down
        # Injected faults are marked in the History (and restarts carry their duration).
        fault: dict[str, Any] = {"fault": True} if op.fault else {}
        restarts = len(self.fault_seconds)
        self.rec.note("op", {"phase": "invoke", "index": index, "op": op.to_dict(), **fault})
        rv: int | None = None
        self.performed = op
        self.writes = []
        self._phase = f"during op {index}"
        try:
            outcome, rv = self._perform(op)
        except ApiException as exc:
            outcome = outcome_from_api_error(exc)
        finally:
            self.last_writes, self.writes = self.writes, None
        self.record_crashes()  # found by a planned restart (a leader that lost its Lease)
        phase = {"ok": "ok", "rejected": "fail"}.get(outcome.status, "info")
        if len(self.fault_seconds) > restarts:
            fault["faultSeconds"] = round(self.fault_seconds[-1][1], 3)
        self.rec.note("op", {"phase": phase, "index": index, "op": self.performed.to_dict(),
                             "outcome": outcome.to_dict(), "writes": self.last_writes,
                             **fault}, rv=rv)
        self._phase = f"after op {index}"
        return outcome

    def _perform(self, op: Op) -> tuple[Outcome, int | None]:
        """Perform ``op``: a fault executor (:data:`sts_props.cluster.faults.EXECUTORS`, also
        DeletePod) or the driver's own (:data:`DRIVER_OPS`)."""
        executor = EXECUTORS.get(op.kind)
        if executor is not None:
            if op.fault and op.kind not in self.cluster.capabilities.faults:
                raise ClusterError(f"the {self.cluster.name} backend cannot perform {op.kind}")
            outcome, self.performed = executor(self, op)
            return outcome, None
        own = DRIVER_OPS.get(type(op))
        if own is None:
            raise ClusterError(f"the cluster driver has no executor for op {op.kind}")
        return own(self, op)

    def _create(self, op: Op) -> tuple[Outcome, int | None]:
        """Create: storage classes and the Service first; RecreateSet: the set only."""
        if isinstance(op, Create):
            self._ensure_storage_classes()
            svc = self.manifests.service
            if svc is not None:
                self.core.create_namespaced_service(self.namespace, svc)
        body = copy.deepcopy(self.editor.manifest)
        body.setdefault("metadata", {}).pop("namespace", None)
        created = self.apps.create_namespaced_stateful_set(self.namespace, body)
        self.note_write(write_record("StatefulSet", "create", created))
        return Outcome.accepted(), _rv(created)

    def _delete_set(self, op: Op) -> tuple[Outcome, int | None]:
        assert isinstance(op, DeleteSet)
        self.apps.delete_namespaced_stateful_set(self.set_name, self.namespace,
                                                 propagation_policy=op.propagation)
        return Outcome.accepted(), None

    def _delete_pvc(self, op: Op) -> tuple[Outcome, int | None]:
        assert isinstance(op, DeletePVC)
        spec = self.editor.manifest.get("spec") or {}
        templates = spec.get("volumeClaimTemplates") or []
        if not templates:
            return Outcome.rejected(404, "NotFound", "no volumeClaimTemplates"), None
        first = (templates[0].get("metadata") or {}).get("name")
        deleted = self.core.delete_namespaced_persistent_volume_claim(
            f"{first}-{self.set_name}-{op.ordinal}", self.namespace)
        return Outcome.accepted(), _rv(deleted)

    def _named_revision(self, role: RevisionRole) -> str:
        """The name of the revision the live set's status names for ``role`` ('' if none; the
        model's status is the same: the driver reached the model's state before this op)."""
        status = self.apps.read_namespaced_stateful_set(self.set_name, self.namespace).status
        if status is None:
            return ""
        return str((status.current_revision if role == "current" else status.update_revision)
                   or "")

    def _await_revision_change(self, name: str, before: str, what: str,
                               after: str | None = None, nudge_after: bool = True) -> None:
        """Wait for the watch to show ControllerRevision ``name`` gone or under a uid other
        than ``before`` (with ``after``: under that uid), then have the set sync.

        The model's state after the op may equal the state before it (the only revision
        deleted and created again with the same name and number, REV-4), so the wait for it
        could end before the change is recorded. Other ops' writes carry the rv the wait
        checks for (unseen_writes); these wait for the watch instead. Neither a deletion nor a
        creation of a revision queues a sync (no handler on the controller's revision
        informer), and what the next sync does is compared only in full
        (status.currentRevision, REV-8), so a wait would not notice that none came: the set is
        nudged, a moment after the watch showed the change so that the controller's informer
        has it too."""
        revisions = self.rec.live["ControllerRevision"]


        def shown() -> bool:
            now = uid(revisions[name]) if name in revisions else ""
            return now == after if after is not None else now != before

        ok, why = self.wait_until(
            lambda: "" if shown() else
            f"the watch has not shown the {what} of ControllerRevision {name} yet",
            timeout=30.0, what=f"the {what} of ControllerRevision {name}")
        if not ok:
            raise ClusterError(why)
        time.sleep(REVISION_CACHE_LAG)
        if nudge_after:
            nudge(self)

    def _delete_revision(self, op: Op) -> tuple[Outcome, int | None]:
        """Delete the revision the live set's status names."""
        assert isinstance(op, DeleteRevision)
        name = self._named_revision(op.role)
        if not name:
            return Outcome.rejected(
                404, "NotFound", "controllerrevision (none named) not found"), None
        revisions = self.rec.live["ControllerRevision"]
        before = uid(revisions[name]) if name in revisions else ""
        self.apps.delete_namespaced_controller_revision(name, self.namespace)  # a Status: no rv
        self._await_revision_change(name, before, "deletion")
        return Outcome.accepted(), None

    def _replace_revision(self, op: Op) -> tuple[Outcome, int | None]:
        """Delete the revision the live set's status names and create it again as the
        harness: the same name, labels and number, no owner, and the data
        :class:`ReplaceRevision` says, written as Go writes JSON (:func:`rawhttp.go_json`: in any
        other form no patch of it could pass, the controller's adoption included)."""
        assert isinstance(op, ReplaceRevision)
        name = self._named_revision(op.role)
        if not name:
            return Outcome.rejected(
                404, "NotFound", "controllerrevision (none named) not found"), None
        old = self.apps.read_namespaced_controller_revision(name, self.namespace)
        data = copy.deepcopy(old.data)  # the client leaves an object field as plain data
        spec = data["spec"]
        if op.content == "other":
            spec["template"] = replaced_template(spec["template"])
        else:
            # What the data of an older client-go looks like: the template's metadata with
            # "creationTimestamp": null, which newer ones leave out (or the other way round).
            meta = spec["template"].setdefault("metadata", {})
            if "creationTimestamp" in meta:
                del meta["creationTimestamp"]
            else:
                meta["creationTimestamp"] = None
        body = go_json({"apiVersion": "apps/v1", "kind": "ControllerRevision",
                        "metadata": {"name": name, "labels": dict(old.metadata.labels or {})},
                        "data": data, "revision": old.revision})
        path = f"/apis/apps/v1/namespaces/{self.namespace}/controllerrevisions"
        client = self.apps.api_client
        # No sync may see the name missing (sts_props.cluster.quiet_gap), where the harness
        # may hold the controller's writes with an admission policy.
        hold = self.cluster.capabilities.admission_policies
        with quiet_gap(self) if hold else contextlib.nullcontext():
            for method, url, text, wanted in (("DELETE", f"{path}/{name}", None, 200),
                                              ("POST", path, body, 201)):
                status, answer = send(client, method, url, text,
                                      headers=AS_WRITER if hold else None)
                if status != wanted:
                    raise ClusterError(f"replacing ControllerRevision {name}: the {method} "
                                       f"answered {status}: {answer.get('message', '')}")
            self._await_revision_change(name, str(old.metadata.uid), "replacement",
                                        after=str((answer.get("metadata") or {}).get("uid", "")),
                                        nudge_after=not hold)  # else quiet_gap nudges
        return Outcome.accepted(), None

    def _settle(self, op: Op) -> tuple[Outcome, int | None]:
        """Nothing to perform: the caller waits (``run_differential``, ``wait_until``)."""
        return Outcome.accepted(), None

    def _update_spec(self, op: Op) -> tuple[Outcome, int | None]:
        from kubernetes.client.exceptions import ApiException

        proposed = self.editor.propose(op)
        for _ in range(5):  # 409 Conflict on a stale resourceVersion: read again and retry
            live = self.apps.read_namespaced_stateful_set(self.set_name, self.namespace)
            body = copy.deepcopy(proposed)
            meta = body.setdefault("metadata", {})
            meta["resourceVersion"] = live.metadata.resource_version
            meta.pop("namespace", None)
            # A PUT replaces the finalizers and ownerReferences too: keep what others put there.
            # Without it an update of a set in a Foreground deletion drops the garbage
            # collector's foregroundDeletion finalizer, and the apiserver ends the deletion at
            # once, with the dependents it was waiting for still there (seen on v1.36.3).
            for key, value in (("finalizers", live.metadata.finalizers),
                               ("ownerReferences", live.metadata.owner_references)):
                if value:
                    meta[key] = self.api.sanitize_for_serialization(value)
            try:
                updated = self.apps.replace_namespaced_stateful_set(self.set_name,
                                                                    self.namespace, body)
            except ApiException as exc:
                if exc.status == 409:
                    continue
                raise
            self.editor.accept(op, proposed)
            self.note_write(write_record("StatefulSet", "update", updated))
            return Outcome.accepted(), _rv(updated)
        return Outcome.rejected(409, "Conflict", "the StatefulSet kept changing"), None

    def _pod_fault(self, op: Op) -> tuple[Outcome, int | None]:
        """Readiness and phase faults through the status subresource (kwok keeps them, as its
        stages skip pods carrying the hold annotation)."""
        assert isinstance(op, FailPod | HoldNotReady | ReleasePod)
        name = pod_name(self.set_name, op.ordinal)
        ns = self.namespace
        pod = self.core.read_namespaced_pod(name, ns)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        if isinstance(op, ReleasePod):
            if HOLD_KEY not in (pod.metadata.annotations or {}):
                return Outcome.accepted(), None
            self.core.patch_namespaced_pod(name, ns, {"metadata": {"annotations": {
                HOLD_KEY: None}}})
            if pod.status.phase == "Running":
                self.core.patch_namespaced_pod_status(name, ns, {"status": {"conditions": [
                    {"type": "Ready", "status": "True", "lastTransitionTime": now}]}})
            return Outcome.accepted(), None
        self.core.patch_namespaced_pod(name, ns, {"metadata": {"annotations": {
            HOLD_KEY: "true"}}})
        status: dict[str, Any] = {"conditions": [
            {"type": "Ready", "status": "False", "lastTransitionTime": now}]}
        if isinstance(op, FailPod):
            status["phase"] = op.phase
        self.core.patch_namespaced_pod_status(name, ns, {"status": status})
        return Outcome.accepted(), None

    def _relabel(self, op: Op) -> tuple[Outcome, int | None]:
        """UnlabelPod, RelabelPod and MarkPodStale: a merge patch of ``op.labels``."""
        assert isinstance(op, UnlabelPod | RelabelPod | MarkPodStale)
        selector = (self.editor.manifest.get("spec") or {}).get("selector") or {}
        patched = self.core.patch_namespaced_pod(
            pod_name(self.set_name, op.ordinal), self.namespace,
            {"metadata": {"labels": op.labels(selector.get("matchLabels") or {})}})
        return Outcome.accepted(), _rv(patched)

    def _ensure_storage_classes(self) -> None:
        """Every class the claims ask for exists, served by this backend's provisioner.

        The seed's ``storage-demo`` (an AWS EBS class) becomes a class of the same name backed
        by the cluster's provisioner, so the StatefulSet runs unchanged.
        """
        from kubernetes.client.exceptions import ApiException

        spec = self.editor.manifest.get("spec") or {}
        templates = spec.get("volumeClaimTemplates") or []
        names = {str((t.get("spec") or {}).get("storageClassName"))
                 for t in templates if (t.get("spec") or {}).get("storageClassName")}
        classless = [str((t.get("metadata") or {}).get("name")) for t in templates
                     if not (t.get("spec") or {}).get("storageClassName")]
        if classless and not self._has_default_storage_class():
            # Such claims would stay Pending, and so would every pod: each op would wait out
            # its timeout. Say why at once instead.
            raise ClusterError(
                f"claim template(s) {', '.join(classless)} name no storageClassName and the "
                "cluster has no default StorageClass, so their claims would never bind; name "
                "a class in the manifest or mark one of the cluster's classes as default")
        for name in sorted(names):
            try:
                self.storage.create_storage_class({
                    "metadata": {"name": name, "labels": {CREATED_BY_LABEL: CREATED_BY_VALUE}},
                    "provisioner": self.cluster.provisioner, "reclaimPolicy": "Delete",
                    "volumeBindingMode": "Immediate"})
            except ApiException as exc:
                if exc.status != 409:
                    raise

    def _has_default_storage_class(self) -> bool:
        """Is a StorageClass marked default (True too if we may not list them: let the API
        decide)?"""
        from kubernetes.client.exceptions import ApiException

        try:
            classes = self.storage.list_storage_class().items
        except ApiException as exc:
            if exc.status in (401, 403):
                return True
            raise
        keys = ("storageclass.kubernetes.io/is-default-class",
                "storageclass.beta.kubernetes.io/is-default-class")
        return any((sc.metadata.annotations or {}).get(k) == "true"
                   for sc in classes for k in keys)

    # -- waiting ----------------------------------------------------------------------------------
    def wait_until(self, ok: Callable[[], str], timeout: float, what: str) -> tuple[bool, str]:
        """Wake on every event batch until ``ok()`` returns "" and stays so for QUIET_SECONDS.

        ``ok`` returns an empty string when satisfied, else what is still missing. On expiry the
        answer names what was awaited, what was missing, and the last event seen.
        """
        deadline = time.monotonic() + timeout
        satisfied_since: float | None = None
        missing = ""
        first = True
        evaluated = 0.0
        supervised = nudged = time.monotonic()
        while True:
            self.check_cancelled()
            now = time.monotonic()
            if now - supervised >= SUPERVISE_EVERY:
                # A crashed scheduler or controller would make the wait run out with nothing
                # moving; restarting it (reported) lets the cluster catch up instead.
                supervised = now
                self.supervise()
                self._collect_strays()
                now = time.monotonic()
            if now >= deadline:
                return False, (f"gave up after {timeout:.0f}s waiting for {what}; still "
                               f"different: {missing}; last event: {self.rec.last_event}")
            arrived = self.rec.pump(wait=min(0.1, deadline - now))
            if self.rec.errors:
                return False, f"a watch failed while waiting for {what}: {self.rec.errors[-1]}"
            # ``ok`` reads the recorded History, so its answer changes when events arrive:
            # evaluate it then, not on every 0.1 s wake-up; and every 0.25 s while something
            # is missing, for answers that depend on the time (minReadySeconds running out).
            if arrived or first or (missing and time.monotonic() - evaluated >= 0.25):
                missing, first, evaluated = ok(), False, time.monotonic()
            if missing:
                satisfied_since = None
                if time.monotonic() - nudged >= NUDGE_EVERY and (
                        self.denied or self._after_a_claim_deletion()
                        or self._after_a_silent_deletion()):
                    # refused writes: the controller backs off; or a claim, orphan or
                    # revision deletion, which queues no sync: have it sync (faults.nudge)
                    nudged = time.monotonic()
                    nudge(self)
                continue
            if satisfied_since is None:
                satisfied_since = time.monotonic()
            if time.monotonic() - satisfied_since >= QUIET_SECONDS:
                return True, ""

    def _collect_strays(self) -> None:
        """Pods bound to a node a FailNode deleted are force-deleted, as pod GC would
        (:meth:`Cluster.collect_strays`), once the watched pods show one; an API error is
        left for the next second's pass."""
        if not any(pod.get("spec", {}).get("nodeName") in self.dead_nodes
                   for pod in self.rec.live["Pod"].values()):
            return
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        with contextlib.suppress(ApiException, HTTPError):
            self.cluster.collect_strays(self.core, self.namespace, self.dead_nodes)

    def _after_a_claim_deletion(self) -> bool:
        """Nothing has happened for NUDGE_EVERY seconds since a claim was deleted.

        The controller does not watch claims (EX-2): a scale-up that skipped a pod because its
        claim was stale (STO-12) resumes only at the next unrelated event after the garbage
        collector deleted that claim, which on an idle set may not come for hours (T-9; kwok
        v1.37.2: nothing within 60 s, docs/unconfirmed-settled.md). When that happens is a
        timing freedom, what the controller then does is under test: nudge once (the nudge
        is the next event, so it is not repeated unless another claim deletion comes last).
        """
        return (self.rec.last_event.startswith("DELETED PersistentVolumeClaim ")
                and time.monotonic() - self.rec.last_event_at >= NUDGE_EVERY)

    def _after_a_silent_deletion(self) -> bool:
        """A pod without a controller (one relabelled out of the selector, ID-13) or a
        ControllerRevision was deleted, nothing has happened for NUDGE_EVERY seconds since,
        and no nudge followed it yet.

        The controller's pod-delete handler ignores pods without a controller ref, so the
        deletion of the orphan that blocked an ordinal queues no sync of the set; the set's
        failed creates have meanwhile pushed its next retry up to minutes away (kwok v1.37.2:
        nothing for 63 s, docs/findings.md F-6). The controller has no handler on its revision
        informer at all, so a deleted current or update revision (DeleteRevision) is noticed
        at the next unrelated sync (REV-8, REV-7). When the set syncs is a timing freedom,
        what it then does is under test: nudge once per such deletion.
        """
        at = self.rec.silent_deletion_at
        if (at is None or at <= self._silent_nudged
                or time.monotonic() - self.rec.last_event_at < NUDGE_EVERY):
            return False
        self._silent_nudged = at
        return True

    def check_cancelled(self) -> None:
        """Raise :class:`Cancelled` if the run was told to stop."""
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled(f"scenario in namespace {self.namespace} cancelled")

    def mark_quiescent(self, after_op: int, settled: bool, reason: str) -> None:
        self.rec.note("quiescent", {"afterOp": after_op, "settled": settled, "reason": reason})


#: ``(run, op) -> (outcome, resourceVersion or None)``: the ops the driver performs itself.
DriverOp = Callable[[ClusterRun, Op], tuple[Outcome, int | None]]
#: The driver's executor of every op class that is neither a fault nor DeletePod (those are
#: in :data:`sts_props.cluster.faults.EXECUTORS`).
DRIVER_OPS: dict[type[Op], DriverOp] = {
    Create: ClusterRun._create,
    RecreateSet: ClusterRun._create,
    **{cls: ClusterRun._update_spec for cls in OP_TYPES.values() if cls.edits is not None},
    DeleteSet: ClusterRun._delete_set,
    DeletePVC: ClusterRun._delete_pvc,
    DeleteRevision: ClusterRun._delete_revision,
    ReplaceRevision: ClusterRun._replace_revision,
    FailPod: ClusterRun._pod_fault,
    HoldNotReady: ClusterRun._pod_fault,
    ReleasePod: ClusterRun._pod_fault,
    UnlabelPod: ClusterRun._relabel,
    RelabelPod: ClusterRun._relabel,
    MarkPodStale: ClusterRun._relabel,
    Settle: ClusterRun._settle,
}


def _rv(obj: Any) -> int | None:
    meta = getattr(obj, "metadata", None)
    value = getattr(meta, "resource_version", None)
    return int(value) if value else None
