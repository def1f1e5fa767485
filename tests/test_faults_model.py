"""The fault ops of issue 5 on the reference model, one test per behaviour, named by rule."""

from __future__ import annotations

import pytest

from sts_props.checks import compare_histories, run_quiescent_checks, run_safety_checks
from sts_props.checks.compare import quiescent_view
from sts_props.checks.liveness import check_liveness
from sts_props.history import History
from sts_props.model import ModelConfig, ModelRun, controller, environment
from sts_props.model.controller import SyncPlan, sync
from sts_props.model.environment import write_denied
from sts_props.model.runner import Chooser
from sts_props.model.world import Pod, SetStatus, StatefulSet, World
from sts_props.ops import (
    AllowPodWrites,
    Create,
    DeletePod,
    DeletePVC,
    DeleteSet,
    DenyPodWrites,
    EvictPod,
    FailNode,
    FailPod,
    FlapReadiness,
    HoldNotReady,
    HoldScheduling,
    HoldTerminating,
    KillPod,
    Op,
    RecreateSet,
    ReleasePod,
    ReleaseScheduling,
    ReleaseTerminating,
    RestartController,
    Scale,
    SetMaxUnavailable,
    SetRetention,
    SetTemplate,
    Settle,
    op_from_dict,
)
from sts_props.scenario import Manifests
from sts_props.snapshot import HOLD_KEY
from tests.model_helpers import pod_events, pods, revisions, run, web


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
    assert pod.terminating and pod.finalizers == [HOLD_KEY]
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


def test_failing_the_gone_node_of_a_held_pod_again_is_not_found() -> None:
    """A finalizer holds the pod on its failed node, which is deleted: failing "its node"
    again finds no node, 404 on the cluster (seen in CI on kwok v1.37.2, 2026-12-06: the
    model accepted it, a false CMP/VAL-8). Once the finalizer is gone the re-created pod is
    on a live node again."""
    r = run(web(2), Create(), Settle(), HoldTerminating(0))
    assert r.apply(FailNode(0)).ok
    again = r.apply(FailNode(0))
    assert (again.status, again.code, again.reason) == ("rejected", 404, "NotFound")
    r.apply(ReleaseTerminating(0))
    r.apply(Settle())
    assert not r.world.pods["web-0"].node_lost
    assert r.apply(FailNode(0)).ok
    _clean(r)


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


# -- refused writes during rollouts, scale changes and set deletion (issue 12 item 6) -------------
# What a refused controller or GC write leaves behind, per the v1.37.2 source
# (pkg/controller/statefulset: updateStatefulSet, updateStatefulSetAfterInvariantEstablished,
# processCondemned via runForAll/slowStartBatch, CreateStatefulPod); docs/model-notes.md
# "Refused pod writes".
GATE_OFF = ModelConfig.for_version("v1.37.2", MaxUnavailableStatefulSet=False)


def _parallel(replicas: int) -> Manifests:
    return web(replicas, policy="Parallel")


def _first_sync(r: ModelRun, op: Op) -> SyncPlan:
    """Apply ``op`` with nothing moving after it, then plan (do not apply) the next sync."""
    r.chooser = _NoDrain()
    assert r.apply(op).ok
    r.chooser = Chooser()
    return sync(r.world, r.config)


def _deleted(plan: SyncPlan) -> list[str]:
    return [a.name for a in plan.actions if a.verb == "delete_pod"]


def _written_status(plan: SyncPlan) -> SetStatus:
    [status] = [a.payload for a in plan.actions if a.verb == "write_status"]
    assert isinstance(status, SetStatus)
    return status


def _at(r: ModelRun) -> dict[str, str]:
    """Pod name -> "cur" or "upd" (its revision against the set's status)."""
    sts = r.world.sts
    assert sts is not None
    return {n: "upd" if rev == sts.status.update_revision else "cur"
            for n, rev in revisions(r).items()}


def test_upd5_refused_update_deletion_leaves_the_pod_and_is_not_counted() -> None:
    # OrderedReady, maxUnavailable 2 (gate on): the scan deletes web-4, then web-3's DELETE is
    # refused: ``return &status, err`` before ``status.CurrentReplicas--``, so the status the
    # failed sync writes subtracts web-4 only, and nothing below web-3 is tried.
    r = run(web(5), Create(), Settle(), SetMaxUnavailable(2), Settle(), DenyPodWrites(3))
    plan = _first_sync(r, SetTemplate("env", "b"))
    assert _deleted(plan) == ["web-4"]
    assert plan.error == 'pods "web-3" is forbidden'
    status = _written_status(plan)  # ST-10: written although the sync failed
    assert (status.replicas, status.current_replicas, status.updated_replicas) == (5, 4, 0)
    r.apply(Settle())
    assert _at(r) == {"web-0": "cur", "web-1": "cur", "web-2": "cur", "web-3": "cur",
                      "web-4": "upd"}
    sts = r.world.sts
    assert sts is not None and (sts.status.current_replicas, sts.status.updated_replicas) == (4, 1)
    _clean(r)
    r.apply(AllowPodWrites())  # the retry (EX-2 backoff) deletes web-3, the rollout resumes
    r.apply(Settle())
    assert set(_at(r).values()) == {"upd"} and sts.status.current_revision == \
        sts.status.update_revision
    _clean(r)


def test_upd1_legacy_refused_update_deletion_stops_the_rollout_at_that_pod() -> None:
    # Gate off: one deletion per sync, top down; the refused web-1 is met first by every retry,
    # so web-0 is not updated either until the window closes.
    r = run(web(3), Create(), Settle(), DenyPodWrites(1), config=GATE_OFF)
    r.apply(SetTemplate("env", "b"))
    r.apply(Settle())
    assert _at(r) == {"web-0": "cur", "web-1": "cur", "web-2": "upd"}
    plan = sync(r.world, r.config)
    assert _deleted(plan) == [] and plan.error == 'pods "web-1" is forbidden'
    sts = r.world.sts
    assert sts is not None and (sts.status.current_replicas, sts.status.updated_replicas) == (2, 1)
    _clean(r)
    r.apply(AllowPodWrites())
    r.apply(Settle())
    assert set(_at(r).values()) == {"upd"}
    _clean(r)


def test_upd1_legacy_refused_first_deletion_writes_the_undecremented_status() -> None:
    r = run(web(3), Create(), Settle(), DenyPodWrites(2), config=GATE_OFF)
    plan = _first_sync(r, SetTemplate("env", "b"))
    assert _deleted(plan) == [] and plan.error == 'pods "web-2" is forbidden'
    status = _written_status(plan)  # the new updateRevision and generation are written
    assert (status.current_replicas, status.updated_replicas) == (3, 0)
    assert status.update_revision != status.current_revision


def test_upd10_parallel_refused_phase1_deletion_skips_phase2() -> None:
    # Parallel, maxUnavailable 2, web-1 NotReady (old, unavailable): phase 1 tries web-1 first;
    # its refusal returns before phase 2 would spend the remaining budget of 1 on web-2.
    r = run(_parallel(3), Create(), Settle(), SetMaxUnavailable(2), Settle(), HoldNotReady(1))
    allowed = run(_parallel(3), Create(), Settle(), SetMaxUnavailable(2), Settle(),
                  HoldNotReady(1))
    assert _deleted(_first_sync(allowed, SetTemplate("env", "b"))) == ["web-1", "web-2"]
    r.apply(DenyPodWrites(1))
    plan = _first_sync(r, SetTemplate("env", "b"))
    assert _deleted(plan) == [] and plan.error == 'pods "web-1" is forbidden'
    r.apply(Settle())
    assert _at(r) == {"web-0": "cur", "web-1": "cur", "web-2": "cur"}
    _clean(r)
    r.apply(AllowPodWrites())
    r.apply(ReleasePod(1))
    r.apply(Settle())
    assert set(_at(r).values()) == {"upd"}
    _clean(r)


def test_upd5_parallel_phase2_refusal_keeps_deletions_made_before_it() -> None:
    # Parallel, maxUnavailable 2, all available: phase 2 deletes web-5, web-4's DELETE is
    # refused and ends the scan; every retry stops at web-4, so web-5 alone is updated.
    r = run(_parallel(6), Create(), Settle(), SetMaxUnavailable(2), Settle(), DenyPodWrites(4))
    plan = _first_sync(r, SetTemplate("env", "b"))
    assert _deleted(plan) == ["web-5"] and plan.error == 'pods "web-4" is forbidden'
    assert _written_status(plan).current_replicas == 5
    r.apply(Settle())
    assert [n for n, at in _at(r).items() if at == "upd"] == ["web-5"]
    _clean(r)


def test_ord6_burst_condemned_deletions_run_in_slow_start_batches() -> None:
    # Parallel 6 -> 1, web-4 denied: condemned [5, 4, 3, 2, 1] in batches {5}, {4, 3}, {2, 1}:
    # web-5 goes, web-4 is refused and web-3 (same batch) goes, the batch fails, {2, 1} never
    # starts; each retry's first batch is {4} again.
    r = run(_parallel(6), Create(), Settle(), DenyPodWrites(4), Scale(1), Settle())
    assert pods(r) == ["web-0", "web-1", "web-2", "web-4"]
    _clean(r)
    r.apply(AllowPodWrites())
    r.apply(Settle())
    assert pods(r) == ["web-0"]
    _clean(r)


def test_ord6_rollout_and_scale_down_inside_one_window_then_allow() -> None:
    # The kwok scenario of tests/test_faults_kwok.py, on the model.
    r = run(_parallel(6), Create(), Settle(), SetMaxUnavailable(2), Settle(), DenyPodWrites(4),
            SetTemplate("annotation", "denied"), Settle(), Scale(1), Settle())
    assert _at(r) == {"web-0": "cur", "web-1": "cur", "web-2": "cur", "web-4": "cur"}
    r.apply(AllowPodWrites())
    r.apply(Settle())
    assert _at(r) == {"web-0": "upd"}
    _clean(r)


def test_sto9a_refused_create_still_applies_the_retention_refs() -> None:
    # CreateStatefulPod: only AlreadyExists skips UpdatePodClaimForRetentionPolicy; a 403 does
    # not. data-web-2 (kept by the scale-down, no refs under Retain) gets the set's ref.
    r = run(web(3), Create(), Settle(), Scale(2), Settle(), SetRetention("Delete", "Retain"),
            Settle(), DenyPodWrites(2), Scale(3), Settle())
    assert pods(r) == ["web-0", "web-1"]
    sts = r.world.sts
    assert sts is not None
    assert [ref.uid for ref in r.world.claims["data-web-2"].owner_refs] == [sts.uid]
    _clean(r)


def test_rp2_denied_name_is_refused_before_already_exists() -> None:
    # Admission runs before storage (Store.create), so a denied name answers 403 even where a
    # released pod holds it (ID-13); unlike AlreadyExists, the claim refs are still applied.
    def released_then_retention(deny: bool) -> ModelRun:
        r = run(web(3), Create(), Settle())
        r.world.pods["web-1"].labels["app"] = "other"
        r.apply(Settle())  # released (ID-17): web-1 is a clash for its own slot
        if deny:
            r.apply(DenyPodWrites(1))
        r.apply(SetRetention("Delete", "Retain"))
        return r

    clash, refused = released_then_retention(False), released_then_retention(True)
    assert sync(clash.world, clash.config).error == 'pods "web-1" already exists'
    assert sync(refused.world, refused.config).error == 'pods "web-1" is forbidden'
    assert clash.world.claims["data-web-1"].owner_refs == []
    assert [r.kind for r in refused.world.claims["data-web-1"].owner_refs] == ["StatefulSet"]


def test_del1_background_gc_delete_refused_leaves_the_pod_until_allowed() -> None:
    r = run(web(3), Create(), Settle(), DenyPodWrites(1), DeleteSet("Background"), Settle())
    assert r.world.sts is None and pods(r) == ["web-1"]
    _clean(r)  # DEL-1 is not flagged for a pod whose GC delete is refused
    r.apply(RecreateSet())
    r.apply(Settle())
    # web-1 is still the old set's; its create answers 403 each sync (ORD-1: web-2 waits)
    assert pods(r) == ["web-0", "web-1"]
    sts = r.world.sts
    assert sts is not None and r.world.pods["web-1"].controller_uid() != sts.uid
    _clean(r)
    r.apply(AllowPodWrites())
    r.apply(Settle())
    assert r.world.pods["web-1"].controller_uid() == sts.uid
    _clean(r)


def test_del1_foreground_deletion_waits_for_the_refused_pod() -> None:
    r = run(web(3), Create(), Settle(), DenyPodWrites(1), DeleteSet("Foreground"), Settle())
    sts = r.world.sts
    assert sts is not None and sts.deleted is not None and pods(r) == ["web-1"]
    _clean(r)
    r.apply(AllowPodWrites())
    r.apply(Settle())
    assert r.world.sts is None and pods(r) == []
    _clean(r)


# Sensitivity: a model that gets a refusal wrong is caught by the differential comparison (the
# correct model's History against the mutant's, as a cluster's would be) or by a check.
def _window_scenario() -> tuple[Op, ...]:
    return (Create(), Settle(), SetMaxUnavailable(2), Settle(), DenyPodWrites(3),
            SetTemplate("env", "b"), Settle(), AllowPodWrites(), Settle())


def _history(manifests: Manifests, ops: tuple[Op, ...]) -> History:
    return run(manifests, *ops).history


def test_sensitivity_refused_update_deletion_treated_as_done_is_flagged(
        monkeypatch: pytest.MonkeyPatch) -> None:
    ops = _window_scenario()
    good = _history(web(5), ops)

    def ignores_refusal(world: World, sts: StatefulSet, plan: SyncPlan, target: int,
                        pod: Pod | None, rule: str) -> bool:
        # the model before issue 12 item 6: the refused pod is deleted anyway
        name = pod.name if pod is not None else f"{sts.name}-{sts.start + target}"
        plan.add("delete_pod", name, rule, "update")
        return True

    monkeypatch.setattr(controller, "_delete_for_update", ignores_refusal)
    bad = _history(web(5), ops)
    found = compare_histories(good, bad)
    assert any("web-3" in v.message for v in found), found


def test_sensitivity_refused_update_deletion_counted_is_flagged(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Legacy path (one deletion per sync): the refused deletion is subtracted from
    # currentReplicas as if it had happened; the quiescent status check sees the pod still there.
    def counts_refusal(world: World, sts: StatefulSet, plan: SyncPlan, target: int,
                       pod: Pod | None, rule: str) -> bool:
        if pod is not None and write_denied(world, pod.name):
            plan.error = f'pods "{pod.name}" is forbidden'
            return True
        return original(world, sts, plan, target, pod, rule)

    original = controller._delete_for_update
    monkeypatch.setattr(controller, "_delete_for_update", counts_refusal)
    bad = run(web(3), Create(), Settle(), DenyPodWrites(1), SetTemplate("env", "b"), Settle(),
              config=GATE_OFF).history
    found = run_quiescent_checks(bad)
    assert [v.rule for v in found] == ["Q/ST-4"], found
    assert "web-0, web-1" in found[0].message


def test_sensitivity_burst_scale_down_stopping_at_the_refusal_is_flagged(
        monkeypatch: pytest.MonkeyPatch) -> None:
    ops = (Create(), Settle(), DenyPodWrites(4), Scale(1), Settle(), AllowPodWrites(), Settle())
    good = _history(_parallel(6), ops)

    def stops_at_refusal(world: World, plan: SyncPlan, order: list[Pod]) -> str:
        # the model before issue 12 item 6: no batches, the first refusal ends the pass
        for pod in order:
            if pod.terminating:
                continue
            if write_denied(world, pod.name):
                return f'pods "{pod.name}" is forbidden'
            plan.add("delete_pod", pod.name, "ORD-6", "condemned")
        return ""

    monkeypatch.setattr(controller, "_delete_condemned_burst", stops_at_refusal)
    bad = _history(_parallel(6), ops)
    found = compare_histories(good, bad)
    assert any("Pod web-3 exists on the cluster but not in the model" in v.message
               for v in found), found


def test_sensitivity_gc_ignoring_the_refusal_is_flagged(monkeypatch: pytest.MonkeyPatch) -> None:
    ops = (Create(), Settle(), DenyPodWrites(1), DeleteSet("Foreground"), Settle(),
           AllowPodWrites(), Settle())
    good = _history(web(3), ops)
    monkeypatch.setattr(environment, "write_denied", lambda world, pod: False)
    bad = _history(web(3), ops)
    found = compare_histories(good, bad)
    assert any("StatefulSet" in v.message or "web-1" in v.message for v in found), found
