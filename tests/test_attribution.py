"""The checks attribute the harness's own deletions to its ops by identity, not by timing (issue 12,
item 9).

The false alarm (1 in ~330 kwok scenarios): CHK-7/UPD-2 blamed the controller for deleting a pod
below the partition that the scenario's own ``delete_pod`` had deleted. Cause: the model's state
after "delete pod 2" (pod 2 re-created, Running, Ready) looks like the state before it, so the
wait after the op could end on the cluster's state from *before* the delete when the watch
delivered the deletion later than the wait's quiet period; its settled quiescent record then
cleared the timing-based attribution, and the deletion, recorded after it, was the
controller's. Now the op's result lists its own writes (uid, resourceVersion), the timeline
attributes by them whatever the order, and the wait does not end before the watch has shown
them (``ClusterRun.unseen_writes``; on kwok in ``tests/test_attribution_kwok.py``).
"""

from __future__ import annotations

from typing import Any

import pytest

from sts_props.checks import run_safety_checks
from sts_props.checks._timeline import BY_OP, CONTROLLER, Timeline
from sts_props.cluster.driver import _WritesOf
from sts_props.model import run_model
from sts_props.ops import Create, DeletePod, EvictPod, KillPod, Settle
from sts_props.outcome import Outcome
from sts_props.scenario import Manifests, Scenario
from tests.histories import HistoryBuilder


def _reported_shape(writes: str, result_first: bool) -> HistoryBuilder:
    """ordinals.start 2, partition 2 (so pods 2 and 3 are below start+partition = 4), up and
    settled; then ``delete pod 2`` whose deletion is recorded after the settled quiescent
    record that ended the op's wait. ``writes``: "none" (a History from before: no ``writes``),
    "own" (the op's result names the pod it deleted) or "other" (it names another uid)."""
    hb = HistoryBuilder("web", start=2, replicas=3, partition=2, backend="kwok",
                        granularity=1.0)
    hb.create_set().bring_up().settle()
    victim = hb.pod(2)["metadata"]["uid"]
    index = hb.invoke("delete_pod", ordinal=2)
    op = {"op": "delete_pod", "ordinal": 2}
    deletion_rv = hb.rv + 1  # the next object record is the deletion's
    extra: dict[str, Any] = {}
    if writes != "none":
        extra["writes"] = [{"kind": "Pod", "name": "web-2", "verb": "delete",
                            "uid": victim if writes == "own" else "uid-someone-else",
                            "rv": deletion_rv}]

    def result() -> None:
        hb.history.op("ok", index, op, t=hb._tick(), outcome=Outcome.accepted().to_dict(),
                      **extra)

    if result_first:
        result()
    hb.quiescent()  # the wait ended on the state from before the delete
    hb.pod_terminating(2)
    assert hb.history.events[-1].data["rv"] == deletion_rv
    if not result_first:
        result()  # placed after the deletion's record
    hb.pod_gone(2).pod_up(2).settle()
    return hb


@pytest.mark.parametrize("result_first", [True, False], ids=["result-first", "result-after"])
def test_own_deletion_after_a_settled_point_is_the_ops(result_first: bool) -> None:
    history = _reported_shape("own", result_first).build()
    assert run_safety_checks(history) == []
    web2 = next(life for life in Timeline(history).pods if life.ordinal == 2)
    assert web2.cause == BY_OP


def test_timing_alone_blamed_the_controller() -> None:
    """The same History without ``writes`` (the old format) gives the reported false alarm:
    the attribution by timing is what the fix replaces, and it is still the fallback."""
    rules = {v.rule for v in run_safety_checks(_reported_shape("none", True).build())}
    assert "CHK-7/UPD-2" in rules


@pytest.mark.parametrize("result_first", [True, False], ids=["result-first", "result-after"])
def test_a_deletion_of_another_uid_is_still_the_controllers(result_first: bool) -> None:
    """Sensitivity: the op deleted some other uid, so this deletion is not its own, however the
    records fall (after the result; or before it, where timing first guessed it was the op's
    and the result undoes the guess)."""
    history = _reported_shape("other", result_first).build()
    assert "CHK-7/UPD-2" in {v.rule for v in run_safety_checks(history)}
    web2 = next(life for life in Timeline(history).pods if life.ordinal == 2)
    assert web2.cause == CONTROLLER


@pytest.mark.parametrize("named", ["own", "other"])
def test_the_results_writes_confirm_or_undo_a_timing_guess(named: str) -> None:
    """Deletion recorded between the op's invoke and its result, no quiescent record between:
    timing guesses it is the op's; the result's ``writes`` then decide."""
    hb = HistoryBuilder("web", start=2, replicas=3, partition=2, backend="kwok",
                        granularity=1.0)
    hb.create_set().bring_up().settle()
    victim = hb.pod(2)["metadata"]["uid"]
    index = hb.invoke("delete_pod", ordinal=2)
    hb.pod_terminating(2)
    hb.history.op("ok", index, {"op": "delete_pod", "ordinal": 2}, t=hb._tick(),
                  outcome=Outcome.accepted().to_dict(),
                  writes=[{"kind": "Pod", "name": "web-2", "verb": "delete", "rv": hb.rv,
                           "uid": victim if named == "own" else "uid-someone-else"}])
    hb.pod_gone(2).pod_up(2).settle()
    flagged = "CHK-7/UPD-2" in {v.rule for v in run_safety_checks(hb.build())}
    assert flagged == (named == "other")


def test_a_delete_that_found_the_pod_terminating_did_not_start_its_deletion() -> None:
    """The controller started deleting web-2 (below the partition) before the op's delete
    landed: the op's write comes after the deletion's first record, so it is not the op's."""
    hb = HistoryBuilder("web", start=2, replicas=3, partition=2, backend="kwok",
                        granularity=1.0)
    hb.create_set().bring_up().settle()
    victim = hb.pod(2)["metadata"]["uid"]
    hb.pod_terminating(2)  # the controller's deletion, rv R
    index = hb.invoke("delete_pod", ordinal=2)
    hb.history.op("ok", index, {"op": "delete_pod", "ordinal": 2}, t=hb._tick(),
                  outcome=Outcome.accepted().to_dict(),
                  writes=[{"kind": "Pod", "name": "web-2", "uid": victim, "rv": hb.rv + 5,
                           "verb": "delete"}])
    hb.pod_gone(2).pod_up(2).settle()
    assert "CHK-7/UPD-2" in {v.rule for v in run_safety_checks(hb.build())}


@pytest.mark.parametrize("op", [DeletePod(1), KillPod(1), EvictPod(1)], ids=lambda o: o.kind)
def test_model_results_name_their_own_deletions(op: Any) -> None:
    """The model writes the same data: the op's result lists the deleted pod's uid and the
    resourceVersion of the record its delete made, and the timeline matches them."""
    history = run_model(Scenario(Manifests.seed(), (Create(), Settle(), op, Settle()))).history
    result = next(ev for ev in history.ops() if ev.data.get("index") == 2
                  and ev.phase != "invoke")
    deletes = [w for w in result.data["writes"] if w["verb"] == "delete"]
    assert [w["name"] for w in deletes][:1] == ["redis-1"]
    tl = Timeline(history)
    first = tl.pod_lives(1)[0]
    assert first.uid == deletes[0]["uid"] and first.cause == BY_OP
    assert tl.written_by(first.deletion_seq or -1) == 2


class _FakeCore:
    def delete_namespaced_pod(self, name: str, namespace: str, **_: Any) -> Any:
        from types import SimpleNamespace as NS

        return NS(metadata=NS(name=name, uid="u-" + name, resource_version="41"))

    def create_namespaced_pod(self, namespace: str, body: Any, **_: Any) -> Any:
        from types import SimpleNamespace as NS

        return NS(metadata=NS(name="probe", uid="u-probe", resource_version="42"))

    def read_namespaced_pod(self, name: str, namespace: str) -> str:
        return "read"


class _Run:
    def __init__(self) -> None:
        self.writes: list[dict[str, Any]] = []

    def note_write(self, entry: dict[str, Any] | None) -> None:
        if entry is not None:
            self.writes.append(entry)


def test_the_driver_notes_writes_made_through_its_core() -> None:
    run = _Run()
    core = _WritesOf(_FakeCore(), run)  # type: ignore[arg-type]
    assert core.read_namespaced_pod("web-0", "ns") == "read"
    core.create_namespaced_pod("ns", {}, dry_run="All")  # changes nothing: not a write
    core.delete_namespaced_pod("web-0", "ns", grace_period_seconds=0)
    assert run.writes == [{"kind": "Pod", "name": "web-0", "uid": "u-web-0", "rv": 41,
                           "verb": "delete"}]


def test_the_state_after_a_delete_looks_like_the_state_before_it() -> None:
    """The premise of the false alarm: after ``delete pod 2`` the model's quiescent state (pod
    2 re-created, Running, Ready) equals the state before the delete, so a cluster whose watch
    has not shown the delete yet would pass the wait on its old state."""
    from sts_props.checks import compare_states, quiescent_view
    from sts_props.checks.compare import TARGET
    from sts_props.model import ModelRun

    run = ModelRun(Manifests.seed())
    for op in (Create(), Settle()):
        run.apply(op)
    before = quiescent_view(run.history, run.history.events[-1].seq)
    run.apply(DeletePod(2))
    after = quiescent_view(run.history, run.history.events[-1].seq)
    assert compare_states(after, before, level=TARGET) == []


def test_a_wait_does_not_end_before_the_watch_showed_the_ops_own_writes() -> None:
    from types import SimpleNamespace as NS

    from sts_props.cluster.base import Cluster
    from sts_props.cluster.driver import ClusterRun

    class Dummy(Cluster):
        def start(self) -> None: ...
        def stop(self) -> None: ...
        def kubeconfig(self) -> Any: ...

    run = ClusterRun(Dummy(), Manifests.seed())
    run.recorder = NS(kind_rv={"Pod": 40})  # type: ignore[assignment]
    run.last_writes = [{"kind": "Pod", "name": "redis-2", "uid": "u", "rv": 41,
                        "verb": "delete"},
                       {"kind": "Pod", "name": "redis-1", "uid": "v", "rv": None,
                        "since": 3, "verb": "delete"}]  # no rv: nothing to wait for
    assert run.unseen_writes() == ("the watch has not shown this op's delete of Pod redis-2 "
                                   "(rv 41) yet")
    run.recorder.kind_rv["Pod"] = 41  # type: ignore[union-attr]
    assert run.unseen_writes() == ""
