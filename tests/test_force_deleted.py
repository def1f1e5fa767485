"""A pod force-deleted by someone other than the controller is not blamed on it (F-3).

``tests/data/kwok-namesake-force-deleted.jsonl`` is a real History (kwok v1.37.2, six scenarios
side by side, no fault): kwok's pod-delete stage, running late under load, deleted by name the
pods the controller had just re-created under the names of the pods it was meant for, at once
(no deletionTimestamp ever seen). CHK-5 blamed the controller for two pods down at once.
"""

from __future__ import annotations

import copy
from pathlib import Path

from sts_props.checks import run_safety_checks
from sts_props.checks._timeline import force_deleted
from sts_props.history import Event, History

DATA = Path(__file__).parent / "data" / "kwok-namesake-force-deleted.jsonl"
#: A real History (kwok v1.37.2, the CI main job's scenario 20 of seed 3830569396, side by side):
#: an OnDelete set, ``delete_pod 0`` after a template change; kwok removed the old redis-0 with
#: grace 0 (#34), the controller re-created it (#37) and, 5 ms later and still unbound, the new
#: pod vanished without a deletionTimestamp (#38): kwok's second delete of the name. CHK-7/UPD-8
#: blamed the controller (once in 40 runs of the scenario, six at a time).
UNBOUND = Path(__file__).parent / "data" / "kwok-unbound-namesake-swept.jsonl"


def test_the_force_deleted_namesakes_are_not_the_controllers() -> None:
    assert run_safety_checks(History.load(DATA)) == []


def test_a_graceful_deletion_of_the_same_pods_is_still_judged() -> None:
    """Sensitivity: had the controller deleted the new j-1 and j-0 (a deletionTimestamp first,
    as its deletes always have), CHK-5 flags the second pod down, as before. (The new j-0 was
    unbound when it vanished: it is excused as a swept namesake, not by its own shape.)"""
    history = History.load(DATA)
    events: list[Event] = []
    for ev in history.events:
        if ev.type == "object" and ev.kind == "Pod" and ev.action == "DELETED" \
                and ev.obj["metadata"]["uid"].startswith(("8f0d28", "6aff9c")):
            marked = copy.deepcopy(ev.data)
            marked["action"] = "MODIFIED"
            marked["obj"]["metadata"]["deletionTimestamp"] = ev.t
            events.append(Event(ev.seq, ev.t, "object", marked))
        events.append(ev)
    renumbered = History([Event(i, ev.t, ev.type, ev.data) for i, ev in enumerate(events)])
    assert [v.rule for v in run_safety_checks(renumbered)] == ["CHK-5/UPD-4"]


def test_force_deleted() -> None:
    running = {"metadata": {"deletionTimestamp": None},
               "spec": {"terminationGracePeriodSeconds": 30}, "status": {"phase": "Running"}}
    assert force_deleted("DELETED", running)
    assert not force_deleted("MODIFIED", running)
    unbound = {**running, "status": {"phase": "Pending"}}
    assert not force_deleted("DELETED", unbound)  # the apiserver deletes it at once anyway
    bound = {**unbound, "spec": {"terminationGracePeriodSeconds": 30, "nodeName": "n1"}}
    assert force_deleted("DELETED", bound)
    failed = {**bound, "status": {"phase": "Failed"}}
    assert not force_deleted("DELETED", failed)  # finished pods go at once (RP-1)
    marked = {**running, "metadata": {"deletionTimestamp": 3.0}}
    assert not force_deleted("DELETED", marked)


def test_an_unbound_namesake_swept_at_once_is_not_the_controllers() -> None:
    assert run_safety_checks(History.load(UNBOUND)) == []


def _unbound_with(change: str) -> History:
    """The UNBOUND History with the swept pod (#38) deleted as the controller would have, or
    later than the node agent's late delete could explain."""
    events: list[Event] = []
    for ev in History.load(UNBOUND).events:
        if ev.seq == 38:
            if change == "marked":
                marked = copy.deepcopy(ev.data)
                marked["action"] = "MODIFIED"
                marked["obj"]["metadata"]["deletionTimestamp"] = ev.t
                events.append(Event(ev.seq, ev.t, "object", marked))
            else:
                ev = Event(ev.seq, ev.t + 2.0, ev.type, ev.data)
        events.append(ev)
    return History([Event(i, ev.t, ev.type, ev.data) for i, ev in enumerate(events)])


def test_the_same_pod_deleted_gracefully_or_late_is_still_judged() -> None:
    """Sensitivity: a deletionTimestamp first (as the controller's deletes have), or a
    vanishing 2 s after the old pod was removed, is the controller's: CHK-7/UPD-8 flags it."""
    assert [v.rule for v in run_safety_checks(_unbound_with("marked"))] == ["CHK-7/UPD-8"]
    assert [v.rule for v in run_safety_checks(_unbound_with("late"))] == ["CHK-7/UPD-8"]
