"""The fault ops of issue 5 on the reference model, one test per behaviour, named by rule."""

from __future__ import annotations

from sts_props.checks import run_quiescent_checks, run_safety_checks
from sts_props.checks.compare import quiescent_view
from sts_props.checks.liveness import check_liveness
from sts_props.model import ModelRun
from sts_props.model.environment import HOLD_FINALIZER
from sts_props.model.runner import Chooser
from sts_props.ops import (
    AllowPodWrites,
    Create,
    DeletePod,
    DeletePVC,
    DenyPodWrites,
    EvictPod,
    FailNode,
    FailPod,
    FlapReadiness,
    HoldScheduling,
    HoldTerminating,
    KillPod,
    Op,
    ReleaseScheduling,
    ReleaseTerminating,
    RestartController,
    Scale,
    SetTemplate,
    Settle,
    op_from_dict,
)
from tests.model_helpers import pod_events, pods, run, web


class _NoDrain(Chooser):
    def steps_after(self, op: Op) -> int | None:
        return 0


def _uid(r: ModelRun, name: str) -> str:
    return r.world.pods[name].uid


def _clean(r: ModelRun) -> None:
    assert run_safety_checks(r.history) == []
    assert run_quiescent_checks(r.history) == []


def test_fault_ops_round_trip_through_plan_data() -> None:
    for op in (KillPod(1), EvictPod(0), FlapReadiness(2), HoldTerminating(1),
               ReleaseTerminating(1), FailNode(1, (0, 2)), RestartController(),
               DenyPodWrites(3), AllowPodWrites(), HoldScheduling(), ReleaseScheduling()):
        assert op_from_dict(op.to_dict()) == op


def test_pr2_kill_pod_removes_it_at_once_and_rp2_recreates_it_with_the_same_claim() -> None:
    r = run(web(3), Create(), Settle())
    claim_uid = r.world.claims["data-web-1"].uid
    old = _uid(r, "web-1")
    assert r.apply(KillPod(1)).ok
    assert pod_events(r, "terminating") == []  # grace 0: DELETED with no Terminating phase
    r.apply(Settle())
    assert pods(r) == ["web-0", "web-1", "web-2"] and _uid(r, "web-1") != old
    assert r.world.claims["data-web-1"].uid == claim_uid  # STO-11: the claim is kept
    _clean(r)


def test_pr2_kill_pod_with_a_finalizer_leaves_it_terminating() -> None:
    r = run(web(3), Create(), Settle(), HoldTerminating(1), KillPod(1))
    pod = r.world.pods["web-1"]
    assert pod.terminating and pod.finalizers == [HOLD_FINALIZER]
    r.apply(ReleaseTerminating(1))
    r.apply(Settle())
    assert pods(r) == ["web-0", "web-1", "web-2"] and not r.world.pods["web-1"].terminating
    _clean(r)


def test_sto11_evict_pod_is_a_graceful_delete_that_keeps_the_claim() -> None:
    r = run(web(3), Create(), Settle())
    r.chooser = _NoDrain()
    assert r.apply(EvictPod(2)).ok
    assert r.world.pods["web-2"].terminating  # graceful: Terminating first
    r.chooser = Chooser()
    r.apply(Settle())
    assert pods(r) == ["web-0", "web-1", "web-2"]
    assert "data-web-2" in r.world.claims
    assert r.apply(EvictPod(7)).code == 404
    _clean(r)


def test_pr4_flap_readiness_restarts_the_availability_clock_ord1() -> None:
    # minReadySeconds 5: after the flap at t, web-1 is available again only at t+5, so under
    # OrderedReady web-3 (scale 3 -> 4) is not created before then (ORD-1, PR-4).
    r = run(web(3, min_ready=5), Create(), Settle())
    flap_at = r.world.now
    assert r.apply(FlapReadiness(1)).ok
    assert r.world.pods["web-1"].ready_since == flap_at
    r.apply(Scale(4))
    assert r.world.pods["web-3"].created >= flap_at + 5
    readiness = [ev.obj["status"]["ready"] for ev in r.history.objects("Pod")
                 if ev.name == "web-1"][-3:]
    assert readiness[-2:] == [False, True]
    _clean(r)


def test_rp4_hold_terminating_blocks_ordered_scale_up_until_released() -> None:
    r = run(web(3), Create(), Settle(), HoldTerminating(1), DeletePod(1), Scale(5), Settle())
    assert r.world.pods["web-1"].terminating
    assert pods(r) == ["web-0", "web-1", "web-2"]  # RP-4: the pass stops at the terminating pod
    r.apply(ReleaseTerminating(1))
    r.apply(Settle())
    assert pods(r) == [f"web-{i}" for i in range(5)]
    _clean(r)


def test_fail_node_marks_pods_not_ready_evicts_and_recreates_them() -> None:
    r = run(web(4), Create(), Settle())
    before = {n: _uid(r, n) for n in pods(r)}
    assert r.apply(FailNode(1, colocated=(3,))).ok
    r.apply(Settle())
    assert pods(r) == ["web-0", "web-1", "web-2", "web-3"]
    changed = sorted(n for n in before if _uid(r, n) != before[n])
    assert changed == ["web-1", "web-3"]  # only the pods on the failed node
    not_ready = {ev.name for ev in r.history.objects("Pod")
                 if ev.obj["status"]["ready"] is False and ev.obj["metadata"]["uid"]
                 in (before["web-1"], before["web-3"])}
    assert not_ready == {"web-1", "web-3"}  # marked NotReady before they went
    _clean(r)


def test_fail_node_of_a_pod_that_is_not_scheduled_is_a_conflict() -> None:
    r = run(web(1), Create(), Settle())
    r.world.pods["web-0"].phase = "Pending"  # as if its claim were not bound: on no node
    assert r.apply(FailNode(0)).code == 409


def test_ex3_restart_controller_changes_nothing_stored() -> None:
    plain = run(web(3), Create(), Settle(), Scale(5), SetTemplate("env", "b"), Settle())
    restarted = run(web(3), Create(), Settle(), Scale(5), RestartController(),
                    SetTemplate("env", "b"), RestartController(), Settle())
    a = quiescent_view(plain.history, plain.history.events[-1].seq)
    b = quiescent_view(restarted.history, restarted.history.events[-1].seq)
    assert a["pods"] == b["pods"] and a["set"] == b["set"]
    _clean(restarted)


def test_ex3_restart_mid_rollout_resumes_from_stored_state() -> None:
    r = run(web(4), Create(), Settle())
    r.chooser = _NoDrain()
    r.apply(SetTemplate("env", "b"))
    r.step()  # one sync of the rollout, then the controller dies
    r.apply(RestartController())
    r.chooser = Chooser()
    r.apply(Settle())
    sts = r.world.sts
    assert sts is not None and sts.status.updated_replicas == 4
    _clean(r)


def test_ex2_denied_create_stops_ordered_scale_up_at_that_ordinal() -> None:
    r = run(web(3), Create(), Settle(), DenyPodWrites(3), Scale(5), Settle())
    assert pods(r) == ["web-0", "web-1", "web-2"]  # ORD-1: web-4 waits for web-3
    _clean(r)
    r.apply(AllowPodWrites())
    r.apply(Settle())
    assert pods(r) == [f"web-{i}" for i in range(5)]
    _clean(r)


def test_ex2_denied_create_in_burst_mode_stops_later_batches_only() -> None:
    # Section 4 step 4 (#141057): slow-start batches {0}, {1, 2}, {3, 4, 5, 6}: a refused
    # create of web-3 fails its batch; web-4 to web-6 in the same batch are created, web-7
    # (next batch) is not.
    r = run(web(3, policy="Parallel"), Create(), Settle(), DenyPodWrites(3), Scale(8), Settle())
    assert pods(r) == ["web-0", "web-1", "web-2", "web-4", "web-5", "web-6"]
    _clean(r)
    r.apply(AllowPodWrites())
    r.apply(Settle())
    assert pods(r) == [f"web-{i}" for i in range(8)]


def test_ex2_denied_delete_answers_403_to_users() -> None:
    r = run(web(3), Create(), Settle(), DenyPodWrites(1))
    for op in (DeletePod(1), KillPod(1), EvictPod(1)):
        outcome = r.apply(op)
        assert (outcome.code, outcome.reason) == (403, "Forbidden")
    assert r.apply(DeletePod(7)).code == 404  # NotFound comes before admission
    assert r.apply(DeletePod(0)).ok


def test_rp1_failed_pod_is_not_replaced_while_its_delete_is_refused() -> None:
    r = run(web(3), Create(), Settle(), DenyPodWrites(2), FailPod(2), Settle())
    assert r.world.pods["web-2"].phase == "Failed" and not r.world.pods["web-2"].terminating
    _clean(r)
    r.apply(AllowPodWrites())
    r.apply(Settle())
    assert r.world.pods["web-2"].phase == "Running"
    _clean(r)


def test_ord4_condemned_delete_refused_blocks_scale_down() -> None:
    r = run(web(4), Create(), Settle(), DenyPodWrites(2), Scale(1), Settle())
    assert pods(r) == ["web-0", "web-1", "web-2"]  # web-3 went, web-2's delete is refused
    _clean(r)
    r.apply(AllowPodWrites())
    r.apply(Settle())
    assert pods(r) == ["web-0"]


# -- HoldScheduling: Pending pods and their claims (STO-5) ----------------------------------------
def _phases(r: ModelRun) -> dict[str, str]:
    return {n: p.phase for n, p in sorted(r.world.pods.items())}


def test_pr3_hold_scheduling_leaves_new_pods_pending_and_running_pods_untouched() -> None:
    r = run(web(2, policy="Parallel"), Create(), Settle(), HoldScheduling(), Scale(4), Settle())
    assert _phases(r) == {"web-0": "Running", "web-1": "Running", "web-2": "Pending",
                          "web-3": "Pending"}
    assert r.world.pods["web-0"].ready and not r.unsettled  # a quiescent state, short of 10.3
    _clean(r)
    r.apply(ReleaseScheduling())
    r.apply(Settle())
    assert set(_phases(r).values()) == {"Running"}
    _clean(r)


def test_ord2_hold_scheduling_stops_ordered_scale_up_at_the_first_pending_pod() -> None:
    r = run(web(1), Create(), Settle(), HoldScheduling(), Scale(3), Settle())
    assert _phases(r) == {"web-0": "Running", "web-1": "Pending"}  # web-2 waits (ORD-1)
    _clean(r)
    r.apply(ReleaseScheduling())
    r.apply(Settle())
    assert pods(r) == ["web-0", "web-1", "web-2"]
    _clean(r)


def test_sto5_pending_pod_gets_its_deleted_claim_recreated_while_scheduling_is_held() -> None:
    # The with_fault recipe: hold, web-2 re-created Pending, its claim deleted, settle.
    r = run(web(3), Create(), Settle(), HoldScheduling(), DeletePod(2))
    assert _phases(r)["web-2"] == "Pending"
    old = r.world.claims["data-web-2"].uid
    assert r.apply(DeletePVC(2)).ok
    r.apply(Settle())
    claim = r.world.claims["data-web-2"]
    assert claim.uid != old and claim.phase == "Bound"  # removed (not in use), re-created
    assert r.rules["STO-5"] >= 1 and _phases(r)["web-2"] == "Pending"
    _clean(r)
    r.apply(ReleaseScheduling())
    r.apply(Settle())
    assert r.world.pods["web-2"].ready and r.world.claims["data-web-2"].uid == claim.uid
    _clean(r)


def test_sto5_claim_of_a_pod_created_pending_by_scale_up_is_recreated() -> None:
    r = run(web(2, policy="Parallel"), Create(), Settle(), HoldScheduling(), Scale(3))
    old = r.world.claims["data-web-2"].uid
    r.apply(DeletePVC(2))
    r.apply(Settle())
    assert r.world.claims["data-web-2"].uid != old and _phases(r)["web-2"] == "Pending"
    r.apply(ReleaseScheduling())
    r.apply(Settle())
    assert _phases(r)["web-2"] == "Running"
    _clean(r)


def test_sto5_running_pods_claim_is_not_recreated_while_scheduling_is_held() -> None:
    # Only Pending pods get claims re-created; a Running pod holds its claim (PVC protection),
    # so it stays Terminating: holding scheduling changes nothing for it.
    r = run(web(2), Create(), Settle(), HoldScheduling(), DeletePVC(1), Settle())
    assert r.world.claims["data-web-1"].terminating and r.rules["STO-5"] == 0


def test_fail_node_while_scheduling_is_held_brings_its_pods_back_pending() -> None:
    r = run(web(3), Create(), Settle(), HoldScheduling(), FailNode(1), Settle())
    assert _phases(r)["web-1"] == "Pending"
    r.apply(ReleaseScheduling())
    r.apply(Settle())
    assert set(_phases(r).values()) == {"Running"}
    _clean(r)


def test_pr3_liveness_names_held_scheduling_as_the_documented_blocker() -> None:
    r = run(web(2, policy="Parallel"), Create(), Settle(), HoldScheduling(), Scale(3), Settle())
    target = quiescent_view(r.history, r.history.events[-1].seq)
    verdict = check_liveness(r.history, target, since=0.0, bound=60.0)
    assert verdict.verdict == "converged" and not verdict.failed
    assert [(b.rule, b.subject) for b in verdict.blockers] == [("PR-3", "web-2")]
    assert "scheduling is held" in verdict.describe()
