"""Quiescent-state checks (section 10.3): the fixpoint, and the stuck states that are allowed."""

from __future__ import annotations

from typing import Any

import pytest

from sts_props.checks import Violation, check_quiescent, run_quiescent_checks
from sts_props.history import Event, History
from sts_props.model import ModelConfig, run_model
from sts_props.ops import (
    Create,
    DeletePod,
    DeleteSet,
    HoldScheduling,
    HoldTerminating,
    SetRetention,
    Settle,
    UnlabelPod,
)
from sts_props.scenario import Manifests, Scenario
from tests.histories import HOLD, HistoryBuilder
from tests.model_helpers import run, web


def _up(**kwargs: Any) -> HistoryBuilder:
    return HistoryBuilder("web", **kwargs).create_set().bring_up().settle()


def _rules(vs: list[Violation]) -> set[str]:
    return {v.rule for v in vs}


def _at_end(hb: HistoryBuilder) -> list[Violation]:
    """Check the state after the last record (a settled quiescent record)."""
    return check_quiescent(hb.build(), hb.seq)


def test_q_clean_states_pass() -> None:
    hb = _up(templates=("data", "logs"))
    hb.set_template("b").roll().settle()
    hb.scale(5).sync_status().bring_up([3, 4]).settle()
    hb.scale_down(2).settle()
    assert run_quiescent_checks(hb.build()) == []


def test_q_only_settled_records_are_checked() -> None:
    hb = _up()
    hb.pod_up(4)  # condemned and unexplained...
    hb.quiescent(settled=False, reason="timeout")  # ...but the settle did not finish
    assert run_quiescent_checks(hb.build()) == []


def test_q_empty_and_set_less_histories_pass() -> None:
    h = History.new(backend="model", set_name="web")
    h.quiescent(after_op=0, settled=True)
    assert run_quiescent_checks(h) == []
    with pytest.raises(ValueError, match="no record #99"):
        check_quiescent(h, 99)


def test_q_id2_flags_missing_pod_without_blocker() -> None:
    hb = HistoryBuilder("web").create_set().bring_up([0, 1]).settle()
    vs = run_quiescent_checks(hb.build())
    assert "Q/ID-2" in _rules(vs)
    assert any("web-2" in v.message for v in vs if v.rule == "Q/ID-2")


def test_q_id2_flags_condemned_pod_left_behind() -> None:
    hb = _up()
    hb.scale(2).settle()
    vs = _at_end(hb)
    assert any(v.rule == "Q/ID-2" and "web-2" in v.message for v in vs)


def test_q_ordered_held_pod_blocks_higher_ordinals_ord2() -> None:
    # A held pod under OrderedReady legitimately stops creation above it (ORD-2, 10.3).
    hb = _up()
    hb.hold(1).scale(5).settle()
    assert _at_end(hb) == []


def test_q_ordered_unready_condemned_pods_may_stay_ord4() -> None:
    hb = _up(replicas=4)
    hb.hold(2).hold(3).scale(2).settle()  # the derived ORD-4 deadlock
    assert _at_end(hb) == []


def test_q_parallel_held_pod_does_not_excuse_missing_pods() -> None:
    hb = _up(policy="Parallel")
    hb.hold(1).scale(5).settle()
    vs = _at_end(hb)
    assert any(v.rule == "Q/ID-2" and "web-3" in v.message for v in vs)


def test_q_orphan_name_clash_blocks_its_ordinal_id13() -> None:
    hb = _up()
    hb.pod(1)["metadata"]["labels"]["app"] = "other"  # no longer matches the selector...
    hb.orphan(1).settle()  # ...so it is released and keeps the name web-1
    assert _at_end(hb) == []


def test_q_id18_flags_unadopted_matching_orphan() -> None:
    hb = _up()
    hb.orphan(1).settle()
    vs = _at_end(hb)
    assert any(v.rule == "Q/ID-18" and "web-1" in v.message for v in vs)


def test_q_upd1_flags_pod_not_updated_without_blocker() -> None:
    hb = _up()
    hb.set_template("b").roll(order=[2, 1]).settle()  # web-0 forgotten
    vs = _at_end(hb)
    assert any(v.rule == "Q/UPD-1" and "web-0" in v.message for v in vs)


def test_q_partition_keeps_low_pods_old() -> None:
    hb = _up(partition=2)
    hb.set_template("b").roll().settle()
    assert _at_end(hb) == []


def test_q_broken_template_stuck_rollout_upd12_is_allowed() -> None:
    hb = _up()
    hb.set_template("broken")
    hb.pod_deleted(2).sync_status().pod_added(2, revision=hb.update_revision)
    hb.pod_running(2).settle()  # web-2 never becomes Ready: the rollout is stuck
    assert _at_end(hb) == []


def test_q_held_pod_still_needs_identity() -> None:
    hb = _up()
    hb.hold(1)
    hb.pod(1)["spec"]["hostname"] = "elsewhere"
    hb.pod_unready(1).settle()
    vs = _at_end(hb)
    assert [v.rule for v in vs] == ["Q/ID-8"] and "web-1" in vs[0].message


def test_q_id7_flags_wrong_pod_index_label() -> None:
    hb = HistoryBuilder("web").create_set().bring_up([0, 1])
    hb.pod_added(2)
    hb.pod(2)["metadata"]["labels"]["apps.kubernetes.io/pod-index"] = "0"
    hb.pod_ready(2).settle()
    vs = _at_end(hb)
    assert [v.rule for v in vs] == ["Q/ID-7"] and "web-2" in vs[0].message


def test_q_pod_index_label_not_required_before_1_28() -> None:
    hb = HistoryBuilder("web", k8s_version="v1.27.3").create_set().bring_up([0, 1])
    hb.pod_added(2)
    del hb.pod(2)["metadata"]["labels"]["apps.kubernetes.io/pod-index"]
    hb.pod_ready(2).settle()
    assert _at_end(hb) == []


def test_q_id12_volumes_compared_as_a_set() -> None:
    hb = _up(templates=("data", "logs"))
    hb.pod(1)["spec"]["volumes"].reverse()  # STO-6: order is free
    hb.pod_ready(1).settle()
    assert _at_end(hb) == []


def test_q_sto3_flags_missing_claim_but_not_after_delete_pvc() -> None:
    hb = _up()
    hb.claim_deleted("data-web-1").settle()
    assert any(v.rule == "Q/STO-3" and "data-web-1" in v.message for v in _at_end(hb))
    hb2 = _up()
    hb2.delete_pvc(1).settle()
    assert _at_end(hb2) == []


def test_q_st_fields_are_computed_from_pods() -> None:
    hb = _up()
    hb.sync_status(currentReplicas=2, observedGeneration=0).quiescent()
    assert _rules(_at_end(hb)) == {"Q/ST-4", "Q/ST-7"}


def test_q_st3_available_replicas_lag_is_tolerated() -> None:
    hb = HistoryBuilder("web", min_ready_seconds=10).create_set().bring_up()
    hb.sync_status(availableReplicas=0).wait(12).quiescent()  # T-5: flip still pending
    assert _at_end(hb) == []
    hb.wait(30).quiescent()  # far past 2 x minReadySeconds + 1 s
    assert [v.rule for v in _at_end(hb)] == ["Q/ST-3"]


def test_q_rev9_promotion_required_when_its_condition_holds() -> None:
    hb = _up()
    hb.set_template("b").roll()
    hb.sync_status(currentRevision=hb.revisions["v0"], currentReplicas=0).quiescent()
    assert "Q/REV-9" in _rules(_at_end(hb))


def test_q_rev11_history_limit() -> None:
    hb = _up(revision_history_limit=1)
    for value in ("b", "c", "d"):
        hb.set_template(value).roll()
    hb.settle()
    vs = _at_end(hb)
    assert [v.rule for v in vs] == ["Q/REV-11"] and "revisionHistoryLimit is 1" in vs[0].message


def test_q_del1_pods_of_deleted_set_must_be_gone_or_orphaned() -> None:
    hb = _up()
    hb.delete_set("Background").quiescent()
    vs = _at_end(hb)
    assert {v.rule for v in vs} == {"Q/DEL-1"} and len(vs) == 3
    orphaned = _up()
    for o in range(3):
        orphaned.orphan(o)
    orphaned.delete_set("Orphan").quiescent()
    assert _at_end(orphaned) == []


def test_q_set_being_deleted_checks_identity_only() -> None:
    hb = _up()
    hb.delete_set("Foreground").pod_deleted(2).quiescent()
    assert _at_end(hb) == []


def test_q_sto8_claim_refs_follow_retention_policy() -> None:
    hb = _up(retention=("Delete", "Retain"))
    vs = _at_end(hb)
    assert {v.rule for v in vs} == {"Q/STO-8"} and len(vs) == 3  # no set refs were added
    for o in range(3):
        hb.claim_refs(f"data-web-{o}", [{"kind": "StatefulSet", "name": "web",
                                         "uid": hb.set_uid, "controller": True}])
    hb.quiescent()
    assert _at_end(hb) == []


def test_q_held_pod_annotation_key_is_the_harness_hold() -> None:
    assert HOLD == "sts-props.io/hold"


@pytest.mark.parametrize("version", ["v1.35.2", "v1.37.2"])
def test_q_sto3_leaves_claims_to_the_gc_while_the_set_is_deleted(version: str) -> None:
    """Found by the state machine on v1.35.2: a Foreground deletion of a set with
    whenDeleted=Delete, while a finalizer holds an unscheduled pod. The garbage collector deletes
    the claim (a Pending pod does not protect it, STO-5) while the pod stays Terminating: the
    controller deleted nothing, so STO-3 does not apply while the set is being deleted."""
    scenario = Scenario(Manifests.seed(), (
        Create(), SetRetention("Delete", "Retain"), Settle(), HoldScheduling(), DeletePod(0),
        HoldTerminating(0), DeleteSet("Foreground"), Settle()))
    history = run_model(scenario, ModelConfig.for_version(version)).history
    state = history.state_at(history.events[-1].seq)
    assert "redis-0" in state["Pod"] and "redis-data-redis-0" not in state["PersistentVolumeClaim"]
    assert run_quiescent_checks(history) == []


def test_a_refused_delete_of_a_finished_pod_excuses_missing_pods_under_parallel() -> None:
    """Section 4 step 4 and #141057: in burst mode a refused RP-1 delete (a Succeeded pod whose
    writes are denied) fails the first slow-start batch, so no later slot is created. Found by
    CI's fault run on kwok v1.37.2 (Parallel, pod 0 Succeeded and denied, scale 1 -> 5: no pod
    created until writes were allowed; the model agreed, the check called it "nothing blocks
    their creation")."""
    from sts_props.ops import DenyPodWrites, FailPod, Scale

    seed = Manifests.seed()
    sts = seed.statefulset
    sts["spec"].update(replicas=1, podManagementPolicy="Parallel")
    ops = (Create(), DenyPodWrites(0), Settle(), FailPod(0, "Succeeded"), Scale(5), Settle())
    history = run_model(Scenario(Manifests.of(sts, seed.service, seed.storageclass),
                                 ops)).history
    point = [ev.seq for ev in history.quiescent_points()][-1]
    pods = history.state_at([ev.seq for ev in history.events].index(point))["Pod"]
    assert sorted(pods) == ["redis-0"] and pods["redis-0"]["status"]["phase"] == "Succeeded"
    assert check_quiescent(history, point) == []


@pytest.mark.parametrize("denied, finished", [(False, True), (True, False)])
def test_q_parallel_missing_pods_are_flagged_unless_a_refused_delete_blocks_them(
        denied: bool, finished: bool) -> None:
    """The sensitivity side of the test above: only a finished pod whose delete is refused
    excuses the missing pods. A finished pod whose writes are allowed is deleted and the rest
    created in the same sync; a denied pod that is Running refuses no write of that sync."""
    hb = _up(policy="Parallel", replicas=1)
    if denied:
        hb.ok(hb.invoke("deny_pod_writes", ordinal=0))
    if finished:
        hb.fail_pod(0, "Succeeded")
    hb.scale(4).settle()
    vs = _at_end(hb)
    assert any(v.rule == "Q/ID-2" and "web-3" in v.message for v in vs), vs


def _claim_without_set_ref(history: History, claim: str) -> History:
    """``history`` with the last record of ``claim`` stripped of its StatefulSet ownerRef."""
    events = list(history.events)
    last = max(i for i, ev in enumerate(events) if ev.kind == "PersistentVolumeClaim"
               and ev.name == claim)
    ev = events[last]
    obj = {**ev.obj, "metadata": {**ev.obj["metadata"], "ownerReferences": [
        r for r in ev.obj["metadata"].get("ownerReferences", [])
        if r.get("kind") != "StatefulSet"]}}
    events[last] = Event(ev.seq, ev.t, ev.type, {**ev.data, "obj": obj})
    return History(events)


def test_q_sto8_parallel_claims_after_a_failed_batch_are_not_judged_earlier_ones_are() -> None:
    # Parallel, web-1 relabelled out of the selector: creating web-1 fails (AlreadyExists,
    # ID-13) in slow-start batch {1, 2}, so batch {3, 4} never runs (#141057), and after a
    # retention change only the claims of 0 and 2 get the set's ref. Found by the first model
    # runs with UnlabelPod: the check flagged data-web-3 and data-web-4.
    r = run(web(5, policy="Parallel"), Create(), Settle(), UnlabelPod(1), Settle(),
            SetRetention("Delete", "Retain"), Settle())
    final = r.history.state_at(r.history.events[-1].seq)["PersistentVolumeClaim"]
    has_set_ref = {name: any(ref["kind"] == "StatefulSet"
                             for ref in c["metadata"].get("ownerReferences", []))
                   for name, c in final.items()}
    assert has_set_ref == {"data-web-0": True, "data-web-1": False, "data-web-2": True,
                           "data-web-3": False, "data-web-4": False}
    assert run_quiescent_checks(r.history) == []
    # planted bug: the claim of a pod in the batch that ran misses its ref
    found = run_quiescent_checks(_claim_without_set_ref(r.history, "data-web-2"))
    assert [v.rule for v in found] == ["Q/STO-8"] and "data-web-2" in found[0].message
