"""Per-ordinal segments of a History: what the timeline picture draws.

A :class:`Segment` is a stretch of history records (``start``..``end``, by ``seq``) during which
the pod of one ordinal kept the same object (uid), phase, readiness, revision and terminating
state. Positions are history ``seq`` numbers, not seconds: the model's clock stands still
between timers and a cluster's has whole-second resolution, while every violation and every
explanation points at records by ``seq``.

>>> from sts_props.model import run_model
>>> from sts_props.ops import Create, Scale, Settle
>>> from sts_props.scenario import Manifests, Scenario
>>> h = run_model(Scenario(Manifests.seed(), (Create(), Settle(), Scale(1), Settle()))).history
>>> lanes = pod_lanes(h)
>>> sorted(lanes)
[0, 1, 2]
>>> lanes[0][-1].state, lanes[0][-1].revision
('Ready', 'rev 1')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sts_props.history import History
from sts_props.snapshot import (
    HOLD_KEY,
    is_ready,
    is_terminating,
    ordinal_of,
    phase,
    revision_of,
    uid,
)


@dataclass(frozen=True)
class Segment:
    """One ordinal's pod from record ``start`` up to (not including) record ``end``."""

    ordinal: int
    name: str
    uid: str
    start: int
    end: int
    state: str  # Pending, Running (not Ready), Ready, Failed, Succeeded, ...
    revision: str  # "rev N" (ControllerRevision number), "" if unlabelled
    terminating: bool
    held: bool  # the harness holds it NotReady (HoldNotReady)


def revision_names(history: History) -> dict[str, str]:
    """``{revision label value: "rev N"}``, N the ControllerRevision's first recorded number.

    A rollback raises the old revision's number (REV-7); the first number is kept so that the
    same template keeps the same name across the picture. Labels with no revision record are
    numbered after the known ones, in order of appearance.
    """
    names: dict[str, str] = {}
    for ev in history.objects("ControllerRevision"):
        if ev.name not in names and ev.action != "DELETED":
            number = ev.obj.get("revision")
            names[ev.name] = f"rev {number}" if number else f"rev ?{len(names) + 1}"
    extra = len(names)
    for ev in history.objects("Pod"):
        label = revision_of(ev.obj)
        if label and label not in names:
            extra += 1
            names[label] = f"rev {extra}?"
    return names


def _state(pod: dict[str, Any]) -> str:
    ph = phase(pod) or "Pending"
    if ph == "Running":
        return "Ready" if is_ready(pod) else "Running"
    return ph


def _held(pod: dict[str, Any]) -> bool:
    # the model and the kwok backend mark a held pod with this annotation (or label)
    meta = pod.get("metadata") or {}
    return HOLD_KEY in (meta.get("annotations") or {}) or HOLD_KEY in (meta.get("labels") or {})


def pod_lanes(history: History) -> dict[int, list[Segment]]:
    """``{ordinal: [Segment, ...]}`` for the set's pods, in history order."""
    set_name = history.set_name
    revs = revision_names(history)
    open_: dict[int, tuple[int, tuple[str, str, str, str, bool, bool]]] = {}
    lanes: dict[int, list[Segment]] = {}
    end = len(history)

    def close(ordinal: int, at: int) -> None:
        start, (name, pod_uid, state, rev, term, held) = open_.pop(ordinal)
        if at > start:
            lanes.setdefault(ordinal, []).append(
                Segment(ordinal, name, pod_uid, start, at, state, rev, term, held))

    for ev in history.objects("Pod"):
        ordinal = ordinal_of(ev.name, set_name)
        if ordinal is None:
            continue
        lanes.setdefault(ordinal, [])
        if ev.action == "DELETED":
            if ordinal in open_:
                close(ordinal, ev.seq)
            continue
        pod = ev.obj
        key = (ev.name, uid(pod), _state(pod), revs.get(revision_of(pod), ""),
               is_terminating(pod), _held(pod))
        if ordinal in open_ and open_[ordinal][1] == key:
            continue
        if ordinal in open_:
            close(ordinal, ev.seq)
        open_[ordinal] = (ev.seq, key)
    for ordinal in list(open_):
        close(ordinal, end)
    return lanes
