"""A fluent builder of hand-made Histories for the checks' tests.

The builder plays both the harness (ops, quiescent records) and, step by step, the controller,
kubelet and apiserver (object records), producing snapshots in the normalised format of
:mod:`sts_props.snapshot`: pods with a uid, the controller ownerReference to the set, the ID-7
labels, hostname/subdomain (ID-8) and one volume per claim template (STO-6); claims created
before their pod (STO-3); ControllerRevisions with a ``templateKey``; a set status computed from
the pods (section 7) by :meth:`HistoryBuilder.sync_status`.

Defaults are *correct* behaviour, so a test breaks exactly one thing::

    hb = HistoryBuilder("web", policy="OrderedReady", replicas=3)
    hb.create_set()
    hb.pod_added(0); hb.pod_ready(0)
    hb.pod_added(1); hb.pod_ready(1)
    hb.pod_added(2); hb.pod_ready(2)
    hb.settle()                       # status from the pods, then a settled quiescent record
    history = hb.build()

or, shorter, ``HistoryBuilder("web").create_set().bring_up().settle()``.

Every record advances the clock by ``step`` seconds (1 by default); :meth:`wait` jumps ahead.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterable
from typing import Any

from sts_props.history import History
from sts_props.outcome import Cause, Outcome
from sts_props.snapshot import (
    HARNESS_PREFIX,
    POD_INDEX_LABEL,
    POD_NAME_LABEL,
    REVISION_LABEL,
    claim_name,
    is_running_ready,
    is_terminating,
    ordinal_of,
    pod_name,
)

HOLD = HARNESS_PREFIX + "hold"
_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


class HistoryBuilder:
    """Build a :class:`History` record by record; every method returns ``self`` for chaining
    unless it returns an op index."""

    def __init__(
        self,
        set_name: str = "web",
        *,
        policy: str = "OrderedReady",
        replicas: int = 3,
        start: int = 0,
        strategy: str = "RollingUpdate",
        partition: int | None = 0,
        max_unavailable: int | str | None = None,
        min_ready_seconds: int = 0,
        templates: Iterable[str] = ("data",),
        service_name: str = "web",
        retention: tuple[str, str] = ("Retain", "Retain"),
        revision_history_limit: int = 10,
        backend: str = "model",
        granularity: float = 0.0,
        k8s_version: str = "",
        rev_prefix: str = "",
        uid_salt: str = "",
        step: float = 1.0,
    ) -> None:
        self.set_name = set_name
        self.history = History.new(
            backend=backend,
            set_name=set_name,
            k8s_version=k8s_version,
            clock_granularity=granularity,
        )
        self.t = 1.0
        self.step = step
        self.rv = 0
        self.next_op = 0
        self.last_op = -1
        self.uids = 0
        self.rev_prefix = rev_prefix  # different backends hash revisions differently (T-10)
        self.uid_salt = uid_salt  # ...and hand out different uids
        self.template_versions: list[str] = ["v0"]
        self.revisions: dict[str, str] = {}  # templateKey -> ControllerRevision name
        self.revision_numbers: dict[str, int] = {}  # CR name -> revision number
        self.crs: dict[str, dict[str, Any]] = {}  # CR name -> snapshot
        self.spec: dict[str, Any] = {
            "replicas": replicas,
            "podManagementPolicy": policy,
            "updateStrategy": {"type": strategy},
            "minReadySeconds": min_ready_seconds,
            "persistentVolumeClaimRetentionPolicy": {
                "whenDeleted": retention[0],
                "whenScaled": retention[1],
            },
            "revisionHistoryLimit": revision_history_limit,
            "serviceName": service_name,
            "selector": {"matchLabels": {"app": set_name}},
            "volumeClaimTemplates": list(templates),
            "templateKey": "v0",
        }
        if start:
            self.spec["ordinals"] = {"start": start}
        if strategy == "RollingUpdate" and partition is not None:
            block: dict[str, Any] = {"partition": partition}
            if max_unavailable is not None:
                block["maxUnavailable"] = max_unavailable
            self.spec["updateStrategy"]["rollingUpdate"] = block
        self.set_obj: dict[str, Any] | None = None
        self.set_uid = ""
        self.pods: dict[str, dict[str, Any]] = {}
        self.pvcs: dict[str, dict[str, Any]] = {}

    # -- plumbing ----------------------------------------------------------------------------
    def _tick(self) -> float:
        t = self.t
        self.t += self.step
        return t

    def _uid(self, what: str) -> str:
        self.uids += 1
        return f"uid-{self.uid_salt}{what}-{self.uids}"

    def _emit(self, action: str, kind: str, name: str, obj: dict[str, Any]) -> int:
        self.rv += 1
        ev = self.history.object(action, kind, name, self.rv, copy.deepcopy(obj), t=self._tick())
        return ev.seq

    def wait(self, seconds: float) -> HistoryBuilder:
        """Let time pass without records."""
        self.t += seconds
        return self

    def build(self) -> History:
        return self.history

    @property
    def seq(self) -> int:
        """The seq of the last record written."""
        return len(self.history.events) - 1

    # -- ops ---------------------------------------------------------------------------------
    def invoke(self, kind: str, **fields: Any) -> int:
        """Record an op invoke and return its index."""
        index = self.next_op
        self.next_op += 1
        self.last_op = index
        self.history.op("invoke", index, {"op": kind, **fields}, t=self._tick())
        return index

    def ok(self, index: int) -> HistoryBuilder:
        self.history.op("ok", index, {}, t=self._tick(), outcome=Outcome.accepted().to_dict())
        return self

    def fail(
        self,
        index: int,
        code: int = 422,
        reason: str = "Invalid",
        causes: Iterable[tuple[str, str]] = (),
    ) -> HistoryBuilder:
        if code == 422:
            outcome = Outcome.invalid([Cause(f, t) for f, t in causes])
        else:
            outcome = Outcome.rejected(code, reason)
        self.history.op("fail", index, {}, t=self._tick(), outcome=outcome.to_dict())
        return self

    def info(self, index: int) -> HistoryBuilder:
        outcome = Outcome.indeterminate("timeout").to_dict()
        self.history.op("info", index, {}, t=self._tick(), outcome=outcome)
        return self

    def quiescent(self, settled: bool = True, reason: str = "") -> HistoryBuilder:
        self.history.quiescent(self.last_op, settled, reason, t=self._tick())
        return self

    # -- the StatefulSet ---------------------------------------------------------------------
    @property
    def start(self) -> int:
        return int(self.spec.get("ordinals", {}).get("start", 0))

    @property
    def replicas(self) -> int:
        return int(self.spec["replicas"])

    @property
    def templates(self) -> list[str]:
        return list(self.spec["volumeClaimTemplates"])

    @property
    def update_revision(self) -> str:
        return self.revisions[self.spec["templateKey"]]

    @property
    def current_revision(self) -> str:
        assert self.set_obj is not None
        return str(self.set_obj["status"].get("currentRevision") or self.update_revision)

    def _set_ref(self) -> dict[str, Any]:
        return {
            "kind": "StatefulSet",
            "name": self.set_name,
            "uid": self.set_uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }

    def _revision_name(self, key: str) -> str:
        digest = hashlib.sha1(f"{self.rev_prefix}{key}".encode()).hexdigest()
        suffix = "".join(_ALPHABET[int(c, 16) % len(_ALPHABET)] for c in digest[:9])
        return f"{self.set_name}-{suffix}"

    def _ensure_revision(self) -> None:
        """Create (or bump, on rollback, REV-7) the ControllerRevision of the live template."""
        key = self.spec["templateKey"]
        number = max(self.revision_numbers.values(), default=0) + 1
        name = self.revisions.get(key) or self._revision_name(key)
        newest = max(self.revision_numbers, key=lambda n: self.revision_numbers[n], default="")
        if name == newest:
            return
        action = "MODIFIED" if name in self.crs else "ADDED"
        self.revisions[key] = name
        self.revision_numbers[name] = number
        cr = self.crs.setdefault(
            name,
            {
                "metadata": {
                    "name": name,
                    "uid": self._uid("cr"),
                    "labels": {"app": self.set_name},
                    "ownerReferences": [self._set_ref()],
                },
                "templateKey": key,
            },
        )
        cr["revision"] = number
        self._emit(action, "ControllerRevision", name, cr)

    def _set_snapshot(self) -> dict[str, Any]:
        assert self.set_obj is not None
        self.set_obj["spec"] = copy.deepcopy(self.spec)
        return self.set_obj

    def create_set(self, *, op: bool = True) -> HistoryBuilder:
        """The create op, the set ADDED (generation 1), its first revision and first status."""
        index = self.invoke("create") if op else None
        self.set_uid = self._uid("sts")
        self.set_obj = {
            "metadata": {
                "name": self.set_name,
                "uid": self.set_uid,
                "generation": 1,
                "creationTimestamp": self.t,
                "deletionTimestamp": None,
                "finalizers": [],
                "labels": {},
                "annotations": {},
            },
            "spec": copy.deepcopy(self.spec),
            "status": {"observedGeneration": 0},
        }
        self._emit("ADDED", "StatefulSet", self.set_name, self.set_obj)
        if index is not None:
            self.ok(index)
        self._ensure_revision()
        return self.sync_status()

    def edit(self, kind: str, changes: dict[str, Any], **fields: Any) -> HistoryBuilder:
        """A spec op: invoke, the set MODIFIED with ``changes`` (generation + 1), ok."""
        index = self.invoke(kind, **fields)
        for path, value in changes.items():
            target = self.spec
            keys = path.split(".")
            for k in keys[:-1]:
                target = target.setdefault(k, {})
            if value is None:
                target.pop(keys[-1], None)
            else:
                target[keys[-1]] = value
        assert self.set_obj is not None
        self.set_obj["metadata"]["generation"] += 1
        self._emit("MODIFIED", "StatefulSet", self.set_name, self._set_snapshot())
        return self.ok(index)

    def scale(self, replicas: int) -> HistoryBuilder:
        return self.edit("scale", {"replicas": replicas}, replicas=replicas)

    def set_partition(self, partition: int) -> HistoryBuilder:
        return self.edit(
            "set_partition", {"updateStrategy.rollingUpdate.partition": partition},
            partition=partition,
        )

    def set_ordinals_start(self, start: int) -> HistoryBuilder:
        return self.edit("set_ordinals_start", {"ordinals.start": start}, start=start)

    def set_update_strategy(self, type_: str) -> HistoryBuilder:
        changes: dict[str, Any] = {"updateStrategy.type": type_}
        if type_ == "OnDelete":
            changes["updateStrategy.rollingUpdate"] = None
        return self.edit("set_update_strategy", changes, type=type_)

    def set_template(self, value: str) -> HistoryBuilder:
        """A template change: new templateKey and a new (or bumped) ControllerRevision."""
        key = f"image={value}"
        self.template_versions.append(key)
        self.edit("set_template", {"templateKey": key}, field="image", value=value)
        self._ensure_revision()
        return self

    def revert_template(self, version: int) -> HistoryBuilder:
        key = self.template_versions[version]
        self.template_versions.append(key)
        self.edit("revert_template", {"templateKey": key}, version=version)
        self._ensure_revision()
        return self

    def sync_status(self, **overrides: Any) -> HistoryBuilder:
        """The controller's status write, computed from the pods (section 7, REV-9)."""
        assert self.set_obj is not None
        upd = self.update_revision
        cur = str(self.set_obj["status"].get("currentRevision") or upd)
        mine = {
            n: p
            for n, p in self.pods.items()
            if p["metadata"]["ownerReferences"]
            and p["metadata"]["ownerReferences"][0]["uid"] == self.set_uid
            and ordinal_of(n, self.set_name) is not None
        }
        created = [p for p in mine.values() if p["status"]["phase"]]
        live = [p for p in created if not is_terminating(p)]
        ready = [p for p in mine.values() if is_running_ready(p)]
        mrs = int(self.spec.get("minReadySeconds", 0))
        available = [
            p for p in ready if mrs == 0 or p["status"]["readySince"] + mrs <= self.t
        ]
        updated = sum(1 for p in live if p["metadata"]["labels"][REVISION_LABEL] == upd)
        current = sum(1 for p in live if p["metadata"]["labels"][REVISION_LABEL] == cur)
        status: dict[str, Any] = {
            "observedGeneration": self.set_obj["metadata"]["generation"],
            "replicas": len(created),
            "readyReplicas": len(ready),
            "availableReplicas": len(available),
            "currentReplicas": current,
            "updatedReplicas": updated,
            "currentRevision": cur,
            "updateRevision": upd,
            "collisionCount": 0,
        }
        reps = self.replicas
        if (
            self.spec["updateStrategy"]["type"] == "RollingUpdate"
            and updated == reps
            and len(ready) == reps
            and len(created) == reps
        ):
            status["currentRevision"], status["currentReplicas"] = upd, updated
        status.update(overrides)
        self.set_obj["status"] = status
        self._emit("MODIFIED", "StatefulSet", self.set_name, self._set_snapshot())
        return self

    def delete_set(self, propagation: str = "Background") -> HistoryBuilder:
        """delete_set op; Background removes the set at once, Foreground marks it."""
        index = self.invoke("delete_set", propagation=propagation)
        assert self.set_obj is not None
        if propagation == "Foreground":
            self.set_obj["metadata"]["deletionTimestamp"] = self.t
            self._emit("MODIFIED", "StatefulSet", self.set_name, self._set_snapshot())
        else:
            self._emit("DELETED", "StatefulSet", self.set_name, self._set_snapshot())
        return self.ok(index)

    def set_gone(self) -> HistoryBuilder:
        """The set's DELETED record (end of a Foreground deletion)."""
        self._emit("DELETED", "StatefulSet", self.set_name, self._set_snapshot())
        self.set_obj = None
        return self

    def recreate_set(self) -> HistoryBuilder:
        index = self.invoke("recreate_set")
        self.create_set(op=False)
        return self.ok(index)

    # -- pods --------------------------------------------------------------------------------
    def pod(self, ordinal: int) -> dict[str, Any]:
        return self.pods[pod_name(self.set_name, ordinal)]

    def _expected_revision(self, ordinal: int) -> str:
        """UPD-6: below start+partition (with a rollingUpdate block) the current revision."""
        ru = self.spec["updateStrategy"].get("rollingUpdate")
        if ru is not None and ordinal < self.start + int(ru.get("partition", 0)):
            return self.current_revision
        return self.update_revision

    def claim_added(
        self, ordinal: int, template: str | None = None, *, name: str | None = None
    ) -> HistoryBuilder:
        template = template or self.templates[0]
        cname = name or claim_name(template, self.set_name, ordinal)
        pvc = {
            "metadata": {
                "name": cname,
                "uid": self._uid("pvc"),
                "labels": {"app": self.set_name},
                "ownerReferences": [],
                "creationTimestamp": self.t,
                "deletionTimestamp": None,
            },
            "spec": {"volumeName": f"pv-{cname}"},
            "status": {"phase": "Bound"},
        }
        self.pvcs[cname] = pvc
        self._emit("ADDED", "PersistentVolumeClaim", cname, pvc)
        return self

    def claim_refs(self, name: str, refs: list[dict[str, Any]]) -> HistoryBuilder:
        """Replace a claim's ownerReferences (a MODIFIED record)."""
        pvc = self.pvcs[name]
        pvc["metadata"]["ownerReferences"] = refs
        self._emit("MODIFIED", "PersistentVolumeClaim", name, pvc)
        return self

    def claim_deleted(self, name: str) -> HistoryBuilder:
        pvc = self.pvcs.pop(name)
        self._emit("DELETED", "PersistentVolumeClaim", name, pvc)
        return self

    def pod_added(
        self,
        ordinal: int,
        *,
        revision: str | None = None,
        name: str | None = None,
        owner: bool = True,
        claims: bool = True,
        volumes: dict[str, str] | None = None,
    ) -> HistoryBuilder:
        """The controller creates pod ``ordinal``: missing claims first (STO-3), then the pod."""
        pname = name or pod_name(self.set_name, ordinal)
        if claims:
            for t in self.templates:
                if claim_name(t, self.set_name, ordinal) not in self.pvcs:
                    self.claim_added(ordinal, t)
        vols = volumes if volumes is not None else {
            t: claim_name(t, self.set_name, ordinal) for t in self.templates
        }
        pod = {
            "metadata": {
                "name": pname,
                "uid": self._uid("pod"),
                "labels": {
                    "app": self.set_name,
                    POD_NAME_LABEL: pname,
                    POD_INDEX_LABEL: str(ordinal),
                    REVISION_LABEL: revision or self._expected_revision(ordinal),
                },
                "annotations": {},
                "ownerReferences": [self._set_ref()] if owner else [],
                "finalizers": [],
                "creationTimestamp": self.t,
                "deletionTimestamp": None,
            },
            "spec": {
                "hostname": pname,
                "subdomain": self.spec["serviceName"],
                "volumes": [{"name": k, "claimName": v} for k, v in vols.items()],
                "image": self.spec["templateKey"],
                "env": {},
            },
            "status": {"phase": "Pending", "ready": False, "readySince": None},
        }
        self.pods[pname] = pod
        self._emit("ADDED", "Pod", pname, pod)
        return self

    def _modify(self, ordinal: int, name: str | None = None, **status: Any) -> HistoryBuilder:
        pname = name or pod_name(self.set_name, ordinal)
        pod = self.pods[pname]
        pod["status"].update(status)
        self._emit("MODIFIED", "Pod", pname, pod)
        return self

    def pod_running(self, ordinal: int) -> HistoryBuilder:
        return self._modify(ordinal, phase="Running")

    def pod_ready(self, ordinal: int, *, name: str | None = None) -> HistoryBuilder:
        """Running and Ready from now (readySince = now)."""
        return self._modify(ordinal, name, phase="Running", ready=True, readySince=self.t)

    def pod_unready(self, ordinal: int) -> HistoryBuilder:
        return self._modify(ordinal, ready=False, readySince=None)

    def pod_up(self, ordinal: int, **kwargs: Any) -> HistoryBuilder:
        """``pod_added`` then ``pod_ready``."""
        self.pod_added(ordinal, **kwargs)
        return self.pod_ready(ordinal, name=kwargs.get("name"))

    def hold(self, ordinal: int) -> HistoryBuilder:
        """hold_not_ready op: the pod gets the hold annotation and turns NotReady."""
        index = self.invoke("hold_not_ready", ordinal=ordinal)
        pod = self.pod(ordinal)
        pod["metadata"]["annotations"][HOLD] = "true"
        pod["status"].update(ready=False, readySince=None)
        self._emit("MODIFIED", "Pod", pod["metadata"]["name"], pod)
        return self.ok(index)

    def fail_pod(self, ordinal: int, phase: str = "Failed") -> HistoryBuilder:
        index = self.invoke("fail_pod", ordinal=ordinal, phase=phase)
        self._modify(ordinal, phase=phase, ready=False, readySince=None)
        return self.ok(index)

    def pod_terminating(self, ordinal: int, *, name: str | None = None) -> HistoryBuilder:
        pname = name or pod_name(self.set_name, ordinal)
        pod = self.pods[pname]
        pod["metadata"]["deletionTimestamp"] = self.t
        self._emit("MODIFIED", "Pod", pname, pod)
        return self

    def pod_gone(self, ordinal: int, *, name: str | None = None) -> HistoryBuilder:
        pname = name or pod_name(self.set_name, ordinal)
        pod = self.pods.pop(pname)
        self._emit("DELETED", "Pod", pname, pod)
        return self

    def pod_deleted(self, ordinal: int, *, name: str | None = None) -> HistoryBuilder:
        """A graceful deletion: terminating, then gone (whoever asked for it)."""
        self.pod_terminating(ordinal, name=name)
        return self.pod_gone(ordinal, name=name)

    def delete_pod(self, ordinal: int) -> HistoryBuilder:
        """delete_pod op: the harness deletes the pod."""
        index = self.invoke("delete_pod", ordinal=ordinal)
        self.pod_terminating(ordinal)
        self.ok(index)
        return self.pod_gone(ordinal)

    def delete_pvc(self, ordinal: int) -> HistoryBuilder:
        index = self.invoke("delete_pvc", ordinal=ordinal)
        self.claim_deleted(claim_name(self.templates[0], self.set_name, ordinal))
        return self.ok(index)

    def orphan(self, ordinal: int) -> HistoryBuilder:
        """Remove the pod's ownerReferences (Orphan propagation, ID-13 release)."""
        pod = self.pod(ordinal)
        pod["metadata"]["ownerReferences"] = []
        self._emit("MODIFIED", "Pod", pod["metadata"]["name"], pod)
        return self

    def endpoint_slice(self, name: str = "web-abcde") -> HistoryBuilder:
        """An EndpointSlice of the governing service listing every live pod (ID-8)."""
        endpoints = [
            {"hostname": n, "podName": n, "ready": bool(p["status"]["ready"])}
            for n, p in sorted(self.pods.items())
        ]
        es = {
            "metadata": {"name": name, "uid": self._uid("es")},
            "service": self.spec["serviceName"],
            "endpoints": endpoints,
        }
        self._emit("ADDED", "EndpointSlice", name, es)
        return self

    # -- whole behaviours --------------------------------------------------------------------
    def bring_up(self, ordinals: Iterable[int] | None = None) -> HistoryBuilder:
        """Create and ready pods one at a time (OrderedReady order by default)."""
        order = list(ordinals) if ordinals is not None else list(
            range(self.start, self.start + self.replicas)
        )
        for o in order:
            self.pod_up(o)
        return self

    def settle(self) -> HistoryBuilder:
        """A status write from the pods, then a settled quiescent record."""
        return self.sync_status().quiescent()

    def scale_down(self, replicas: int, order: Iterable[int] | None = None) -> HistoryBuilder:
        """scale op, then the controller deletes condemned pods (descending by default)."""
        old_end = self.start + self.replicas
        self.scale(replicas)
        self.sync_status()
        default = range(old_end - 1, self.start + replicas - 1, -1)
        for o in order if order is not None else default:
            self.pod_deleted(o)
            self.sync_status()
        return self

    def roll(self, order: Iterable[int] | None = None) -> HistoryBuilder:
        """The rolling update of the live template: delete, recreate, Ready, per ordinal.

        Default order: from the highest ordinal down to start+partition (UPD-1).
        """
        ru = self.spec["updateStrategy"].get("rollingUpdate") or {}
        floor = self.start + int(ru.get("partition", 0))
        default = range(self.start + self.replicas - 1, floor - 1, -1)
        for o in order if order is not None else default:
            self.pod_deleted(o)
            self.sync_status()
            self.pod_up(o, revision=self.update_revision)
            self.sync_status()
        return self
