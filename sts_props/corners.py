"""Situation *corners*: rare states the checks care about, read from a History.

A cell (:mod:`sts_props.coverage`) says which configuration a scenario ran in; a corner says
which hard situation it reached inside it: a pod below the partition deleted during a rollout,
an OnDelete rollout carried to its end, a pod that Succeeded, and so on (issue 13). ``sts-props
check`` picks its cluster scenarios partly by the corners their model run reaches
(:mod:`sts_props.selection`) and counts the corners each cluster scenario's model History
reached in its coverage summary.

Corners are computed from the History alone (op records with their outcomes, object snapshots),
in one pass, so they work on a model History, a cluster History and a saved ``history.jsonl``
alike. "During a rollout" means the StatefulSet's status has ``updateRevision !=
currentRevision`` at that point.

>>> from sts_props.model import run_model
>>> from sts_props.ops import Create, FailPod, Settle
>>> from sts_props.scenario import Manifests, Scenario
>>> history = run_model(Scenario(Manifests.seed(), (Create(), FailPod(0, "Succeeded"),
...                                                 Settle()))).history
>>> dict(corners_of(history))
{'pod-succeeded': 1}
>>> CORNERS["pod-succeeded"]
'a pod reached phase Succeeded (RP-1)'
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sts_props.history import History, apply_record, empty_state
from sts_props.scenario import CLUSTER_MAX_MIN_READY
from sts_props.snapshot import (
    is_ready,
    is_terminating,
    ordinal_of,
    phase,
    revision_of,
)

#: every corner: its name and what it means (the coverage summary prints both)
CORNERS: dict[str, str] = {
    "partition-pod-disrupted":
        "partition > 0 and a pod below it deleted or failed during a rollout (UPD-2)",
    "ondelete-rollout-completed":
        "an OnDelete rollout carried to the end: currentRevision promoted (UPD-1, REV-9)",
    "pod-succeeded": "a pod reached phase Succeeded (RP-1)",
    "history-limit-0": "revisionHistoryLimit 0 with a second revision created (REV-11)",
    "revision-collision":
        "status.collisionCount raised: a revision's name was held by other data (REV-5)",
    "scale-down-claims-deleted":
        "a scale-down with whenScaled=Delete and claim templates (STO-13)",
    "parallel-rollout-old-notready":
        "a Parallel rollout while an old-revision pod is NotReady (UPD-5, ORD-6)",
    "min-ready-rollout": "minReadySeconds > 0 during a rollout (PR-4)",
    "min-ready-scale-up": "minReadySeconds > 0 during a scale-up (PR-4)",
    "min-ready-long-rollout":
        "minReadySeconds of 2 s or more during a rollout: long enough for the timing checks "
        "to tell early from on time on a cluster (CHK-11, CHK-12)",
    "min-ready-long-scale-up":
        "a scale-up with minReadySeconds of 2 s or more (CHK-3, CHK-11 on a cluster)",
    "deletion-refused-in-rollout":
        "a pod deletion refused (403) during a rollout (faults: deny_pod_writes)",
    "rollout-while-denied":
        "a template change (a rollout) while a pod's writes are denied (faults: "
        "deny_pod_writes; the controller's update deletion of that pod is refused)",
    "scale-down-past-notready":
        "an OrderedReady scale-down while a pod is NotReady (CD-2, ORD-4)",
    "ordinals-start-moved": "ordinals.start changed while the set has pods (ORD-8)",
    "orphans-adopted": "the set re-created over pods an Orphan delete left behind (ID-13)",
}
#: corners of the alpha Recreate strategy (gate StatefulSetRecreateStrategy): counted like the
#: others, but apart from :data:`CORNERS`, whose figures hold for every cluster
RECREATE_CORNERS: dict[str, str] = {
    "recreate-rollout-completed":
        "a Recreate rollout carried to the end: currentRevision promoted (RCR-1, RCR-3)",
    "recreate-scale-down-in-rollout":
        "a scale-down while a Recreate rollout waits for an old pod to go (RCR-2; docs/"
        "findings.md F-8a)",
}

#: ops that remove or fail a pod (what "a pod deleted or failed" counts)
_POD_DISRUPTIONS = ("delete_pod", "fail_pod", "kill_pod", "evict_pod")
#: user deletions of a pod that a DenyPodWrites refuses
_POD_DELETES = ("delete_pod", "kill_pod", "evict_pod")


@dataclass
class _Before:
    """What an op found when it was invoked (the facts the op corners test)."""

    kind: str
    op: dict[str, Any]
    rollout: bool
    spec: dict[str, Any]
    pods: int
    notready: bool
    orphans: bool


@dataclass
class _Walk:
    """The running state of one pass over a History."""

    set_name: str
    state: dict[str, dict[str, dict[str, Any]]] = field(default_factory=empty_state)
    found: Counter[str] = field(default_factory=Counter)
    current_revision: str = ""
    revisions: int = 0
    collisions: int = 0
    denied: set[int] = field(default_factory=set)
    orphaned: bool = False
    before: dict[int, _Before] = field(default_factory=dict)
    #: corners found at object events: counted once per op, not once per event
    seen_in_op: set[str] = field(default_factory=set)

    @property
    def sts(self) -> dict[str, Any] | None:
        sets = self.state.get("StatefulSet") or {}
        return sets.get(self.set_name) or (next(iter(sets.values())) if sets else None)

    def rollout(self) -> bool:
        sts = self.sts
        status = (sts or {}).get("status") or {}
        update = str(status.get("updateRevision") or "")
        return bool(update) and update != str(status.get("currentRevision") or "")

    def once(self, name: str) -> None:
        if name not in self.seen_in_op:
            self.seen_in_op.add(name)
            self.found[name] += 1


def corners_of(history: History) -> Counter[str]:
    """How often each corner of :data:`CORNERS` and :data:`RECREATE_CORNERS` was reached in
    ``history``.

    Corners found in object records (a Succeeded pod, a Parallel rollout past a NotReady pod)
    count once per op during which they held; op corners count once per op.
    """
    walk = _Walk(history.set_name)
    for ev in history.events:
        if ev.type == "op":
            _op_event(walk, ev.phase, int(ev.data.get("index", -1)), ev.data)
        elif ev.type == "object":
            apply_record(walk.state, ev)
            _object_event(walk, ev.kind, ev.action, ev.obj)
    return walk.found


def _spec(walk: _Walk) -> dict[str, Any]:
    spec = (walk.sts or {}).get("spec")
    return spec if isinstance(spec, dict) else {}


def _op_event(walk: _Walk, when: str, index: int, data: dict[str, Any]) -> None:
    op = data.get("op") if isinstance(data.get("op"), dict) else {}
    assert isinstance(op, dict)
    kind = str(op.get("op", ""))
    if when == "invoke":
        walk.seen_in_op = set()
        pods = [p for p in walk.state.get("Pod", {}).values() if not is_terminating(p)]
        walk.before[index] = _Before(
            kind, op, walk.rollout(), dict(_spec(walk)) if walk.sts else {}, len(pods),
            any(not is_ready(p) for p in pods),
            walk.orphaned and walk.sts is None and bool(pods))
        return
    before = walk.before.pop(index, None)
    if before is None:
        return
    outcome = data.get("outcome") if isinstance(data.get("outcome"), dict) else {}
    assert isinstance(outcome, dict)
    ok = when == "ok"
    _op_corners(walk, before, ok, int(outcome.get("code") or 0))


def _op_corners(walk: _Walk, before: _Before, ok: bool, code: int) -> None:
    kind, op, spec = before.kind, before.op, before.spec
    ordinal = op.get("ordinal")
    start = int((spec.get("ordinals") or {}).get("start") or 0)
    replicas = int(spec.get("replicas") or 0)
    rolling = (spec.get("updateStrategy") or {}).get("rollingUpdate") or {}
    partition = int(rolling.get("partition") or 0)
    min_ready = int(spec.get("minReadySeconds") or 0)
    retention = spec.get("persistentVolumeClaimRetentionPolicy") or {}
    if (ok and before.rollout and partition > 0 and kind in _POD_DISRUPTIONS
            and isinstance(ordinal, int) and ordinal < start + partition):
        walk.found["partition-pod-disrupted"] += 1
    if kind == "scale" and ok and spec:
        target = int(op.get("replicas", 0))
        if target < replicas and retention.get("whenScaled") == "Delete" and spec.get(
                "volumeClaimTemplates"):
            walk.found["scale-down-claims-deleted"] += 1
        if target > replicas and min_ready > 0:
            walk.found["min-ready-scale-up"] += 1
        if target > replicas and min_ready > CLUSTER_MAX_MIN_READY:
            walk.found["min-ready-long-scale-up"] += 1
        if (target < replicas and before.notready
                and spec.get("podManagementPolicy", "OrderedReady") == "OrderedReady"):
            walk.found["scale-down-past-notready"] += 1
    if before.rollout and isinstance(ordinal, int) and (
            (kind in _POD_DELETES and code == 403)
            or (kind == "fail_pod" and ok and ordinal in walk.denied)):
        walk.found["deletion-refused-in-rollout"] += 1
    if (kind in ("set_template", "revert_template") and ok and before.notready
            and spec.get("podManagementPolicy") == "Parallel"
            and (spec.get("updateStrategy") or {}).get("type") != "OnDelete"
            and _spec(walk).get("templateKey") != spec.get("templateKey")):
        # a rollout starts while a pod is NotReady (the controller deletes such an old pod
        # first, UPD-5, so the state check below may never see it standing)
        walk.once("parallel-rollout-old-notready")
    if (kind in ("set_template", "revert_template") and ok and walk.denied and spec
            and _spec(walk).get("templateKey") != spec.get("templateKey")):
        walk.found["rollout-while-denied"] += 1
    if (kind == "set_ordinals_start" and ok and before.pods
            and int(op.get("start", 0)) != start):
        walk.found["ordinals-start-moved"] += 1
    if kind == "recreate_set" and ok and before.orphans:
        walk.found["orphans-adopted"] += 1
    if (kind == "scale" and ok and before.rollout and spec
            and (spec.get("updateStrategy") or {}).get("type") == "Recreate"
            and int(op.get("replicas", 0)) < replicas):
        walk.found["recreate-scale-down-in-rollout"] += 1
    # What later ops need to know.
    if kind == "deny_pod_writes" and ok and isinstance(ordinal, int):
        walk.denied.add(ordinal)
    elif kind == "allow_pod_writes" and ok:
        walk.denied.clear()
    elif kind == "delete_set" and ok:
        walk.orphaned = op.get("propagation") == "Orphan"


def _object_event(walk: _Walk, kind: str, action: str, obj: dict[str, Any]) -> None:
    if kind == "Pod":
        if phase(obj) == "Succeeded":
            walk.once("pod-succeeded")
        _parallel_rollout(walk)
    elif kind == "StatefulSet":
        status = obj.get("status") or {}
        spec = obj.get("spec") or {}
        current = str(status.get("currentRevision") or "")
        if action == "DELETED":
            walk.current_revision = ""
            return
        promoted = bool(current and walk.current_revision and current != walk.current_revision)
        strategy = (spec.get("updateStrategy") or {}).get("type")
        if promoted and strategy == "OnDelete":
            walk.once("ondelete-rollout-completed")
        if promoted and strategy == "Recreate":
            walk.once("recreate-rollout-completed")
        walk.current_revision = current or walk.current_revision
        collisions = status.get("collisionCount")
        if isinstance(collisions, int) and collisions > walk.collisions:
            walk.collisions = collisions
            walk.once("revision-collision")
        min_ready = int(spec.get("minReadySeconds") or 0)
        if walk.rollout() and min_ready > 0:
            walk.once("min-ready-rollout")
        if walk.rollout() and min_ready > CLUSTER_MAX_MIN_READY:
            # above the cap of large cluster scenarios: only small ones keep it (scenario.py)
            walk.once("min-ready-long-rollout")
        _parallel_rollout(walk)
    elif kind == "ControllerRevision" and action == "ADDED":
        walk.revisions += 1
        if walk.revisions >= 2 and _spec(walk).get("revisionHistoryLimit") == 0:
            walk.once("history-limit-0")


def _parallel_rollout(walk: _Walk) -> None:
    if "parallel-rollout-old-notready" in walk.seen_in_op or not walk.rollout():
        return
    spec = _spec(walk)
    if (spec.get("podManagementPolicy") != "Parallel"
            or (spec.get("updateStrategy") or {}).get("type") == "OnDelete"):
        return
    update = str(((walk.sts or {}).get("status") or {}).get("updateRevision") or "")
    for name, pod in walk.state.get("Pod", {}).items():
        if (ordinal_of(name, walk.set_name) is not None and revision_of(pod) != update
                and not is_ready(pod) and not is_terminating(pod)
                and phase(pod) in ("Running", "Pending")):
            walk.once("parallel-rollout-old-notready")
            return


def describe_corner(name: str) -> str:
    """The one-line meaning of corner ``name`` (the name itself if unknown)."""
    return CORNERS.get(name) or RECREATE_CORNERS.get(name, name)


__all__ = ["CORNERS", "RECREATE_CORNERS", "corners_of", "describe_corner"]
