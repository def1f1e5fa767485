"""Safety checks CHK-1..CHK-9: each passes clean histories, flags a broken one, and leaves the
freedoms of section 10.2 alone (CHK-10, status honesty: test_status_honesty.py; the timing
checks CHK-11 and CHK-12: test_checks_timing.py)."""

from __future__ import annotations

from typing import Any

from sts_props.checks import (
    SAFETY_CHECKS,
    Violation,
    check_chk1,
    check_chk2,
    check_chk3,
    check_chk4,
    check_chk5,
    check_chk6,
    check_chk7,
    check_chk8,
    check_chk9,
    run_safety_checks,
)
from sts_props.history import History
from sts_props.ops import (
    Create,
    RelabelPod,
    Scale,
    SetTemplate,
    Settle,
    UnlabelPod,
)
from tests.histories import HistoryBuilder
from tests.model_helpers import run, web


def _up(**kwargs: Any) -> HistoryBuilder:
    return HistoryBuilder("web", **kwargs).create_set().bring_up().settle()


def _checks(vs: list[Violation]) -> set[str]:
    return {v.check for v in vs}


# -- general -------------------------------------------------------------------------------------
def test_clean_lifecycle_passes_every_safety_check() -> None:
    hb = _up()
    hb.set_template("b").roll().settle()
    hb.scale(5).sync_status().bring_up([3, 4]).settle()
    hb.scale_down(2).settle()
    hb.delete_pod(1).pod_up(1).settle()
    assert run_safety_checks(hb.build()) == []


def test_safety_checks_tolerate_partial_histories() -> None:
    empty = History.new(backend="model", set_name="web")
    assert run_safety_checks(empty) == []
    hb = HistoryBuilder("web")
    index = hb.invoke("create")
    hb.fail(index, causes=[("spec.replicas", "FieldValueInvalid")])
    hb.quiescent()
    assert run_safety_checks(hb.build()) == []
    # Pods without any set record (a history cut before the set was seen).
    hb2 = HistoryBuilder("web")
    hb2.set_uid = "uid-none"
    hb2.revisions["v0"] = "web-x"
    hb2.pod_added(0, owner=False)
    assert run_safety_checks(hb2.build()) == []


def test_registry_lists_every_check() -> None:
    # CHK-1..CHK-9 of section 10.1, CHK-10 status honesty, CHK-11/CHK-12 minReadySeconds timing
    assert list(SAFETY_CHECKS) == [f"CHK-{i}" for i in range(1, 13)]


# -- CHK-1 ---------------------------------------------------------------------------------------
def test_chk1_passes_well_named_pods() -> None:
    assert check_chk1(_up().build()) == []


def test_chk1_id1_flags_controlled_pod_with_non_canonical_name() -> None:
    hb = _up()
    hb.pod_deleted(1)
    hb.pod_added(1, name="web-01")
    vs = check_chk1(hb.build())
    assert [v.rule for v in vs] == ["CHK-1/ID-1"]
    assert "web-01" in vs[0].message and "web-1" in vs[0].message


def test_chk1_id5_flags_two_controlled_pods_with_one_ordinal() -> None:
    hb = _up()
    hb.pod_added(1, name="web-001")
    vs = check_chk1(hb.build())
    assert "CHK-1/ID-5" in {v.rule for v in vs}
    assert any("web-1" in v.message and "web-001" in v.message for v in vs)


def test_chk1_flags_name_re_added_without_deleted_record() -> None:
    hb = _up()
    hb.pod_added(2)  # a second web-2 while the first was never DELETED
    vs = check_chk1(hb.build())
    assert len(vs) == 1 and "web-2" in vs[0].message


def test_chk1_ignores_pods_the_set_does_not_control() -> None:
    hb = _up()
    hb.pod_added(7, name="web-x-1", owner=False)  # ID-3: member of set web-x, not web
    assert check_chk1(hb.build()) == []


# -- CHK-2 ---------------------------------------------------------------------------------------
def test_chk2_passes_scale_up_and_start_ordinal() -> None:
    hb = _up()
    hb.scale(5).sync_status().bring_up([3, 4]).settle()
    assert check_chk2(hb.build()) == []
    assert check_chk2(HistoryBuilder("web", start=4).create_set().bring_up().build()) == []


def test_chk2_flags_pod_created_outside_range() -> None:
    hb = _up()
    hb.pod_up(5)
    vs = check_chk2(hb.build())
    assert [v.rule for v in vs] == ["CHK-2/ID-2"]
    assert "web-5" in vs[0].message and "[0, 3)" in vs[0].message


def test_chk2_flags_ordinal_below_start() -> None:
    hb = HistoryBuilder("web", start=2).create_set().bring_up().settle()
    hb.pod_up(0)
    assert ["web-0" in v.message for v in check_chk2(hb.build())] == [True]


def test_chk2_allows_previous_generation_while_scale_down_is_in_flight() -> None:
    hb = HistoryBuilder("web").create_set()
    hb.pod_up(0).pod_up(1)
    hb.scale(2)  # observedGeneration still 1: the controller may act on replicas=3
    hb.pod_up(2)
    assert check_chk2(hb.build()) == []


# -- CHK-3 ---------------------------------------------------------------------------------------
def test_chk3_passes_ordered_bring_up() -> None:
    assert check_chk3(_up().build()) == []


def test_chk3_flags_pod_created_before_predecessor_ready() -> None:
    hb = HistoryBuilder("web").create_set()
    hb.pod_up(0).pod_added(1).pod_added(2)
    vs = check_chk3(hb.build())
    assert [v.rule for v in vs] == ["CHK-3/ORD-1"]
    assert "Pod web-2" in vs[0].message and "pod web-1" in vs[0].message


def test_chk3_parallel_creation_in_any_order_passes() -> None:
    hb = HistoryBuilder("web", policy="Parallel").create_set()
    hb.pod_added(2).pod_added(0).pod_added(1)  # T-1, T-2: no order, nobody Ready yet
    hb.pod_ready(1).pod_ready(2).pod_ready(0).settle()
    assert check_chk3(hb.build()) == []


def test_chk3_min_ready_seconds_requires_availability() -> None:
    hb = HistoryBuilder("web", min_ready_seconds=5).create_set()
    hb.pod_up(0).pod_added(1)
    vs = check_chk3(hb.build())
    assert len(vs) == 1 and "minReadySeconds=5" in vs[0].message
    ok = HistoryBuilder("web", min_ready_seconds=5).create_set()
    ok.pod_up(0).wait(5).pod_added(1)
    assert check_chk3(ok.build()) == []


def test_chk3_allows_clock_granularity_skew() -> None:
    hb = HistoryBuilder("web", min_ready_seconds=3, granularity=1.0).create_set()
    hb.pod_up(0).wait(1).pod_added(1)  # ready at t, created at t+2: 1 s short, within skew
    assert check_chk3(hb.build()) == []


def test_chk3_predecessor_ready_once_then_unready_passes() -> None:
    # The controller's cache may still show web-1 Ready (T-3): Ready at some instant suffices.
    hb = HistoryBuilder("web").create_set()
    hb.pod_up(0).pod_up(1).hold(1).pod_added(2)
    assert check_chk3(hb.build()) == []


def test_chk3_flags_predecessor_recreated_and_not_yet_ready() -> None:
    hb = HistoryBuilder("web").create_set()
    hb.pod_up(0).pod_up(1).delete_pod(1).pod_added(1).pod_added(2)
    vs = check_chk3(hb.build())
    assert len(vs) == 1 and "web-2" in vs[0].message and "web-1" in vs[0].message


# -- CHK-4 ---------------------------------------------------------------------------------------
def test_chk4_passes_descending_scale_down() -> None:
    hb = _up()
    hb.scale_down(0).settle()
    assert check_chk4(hb.build()) == []


def test_chk4_flags_scale_down_deleting_ascending() -> None:
    hb = _up()
    hb.scale_down(1, order=[1, 2]).settle()
    vs = check_chk4(hb.build())
    assert [v.rule for v in vs] == ["CHK-4/ORD-4"]
    assert "web-1" in vs[0].message and "web-2" in vs[0].message


def test_chk4_flags_deletion_before_higher_pod_disappeared() -> None:
    hb = _up()
    hb.scale(1).sync_status()
    hb.pod_terminating(2).pod_terminating(1).pod_gone(2).pod_gone(1)
    vs = check_chk4(hb.build())
    assert len(vs) == 1 and "web-2 (terminating" in vs[0].message


def test_chk4_set_deletion_unordered_passes() -> None:
    for propagation in ("Background", "Foreground"):
        hb = _up()
        hb.delete_set(propagation)
        for o in (0, 1, 2):  # T-8, ORD-9: GC deletes in any order
            hb.pod_deleted(o)
        assert check_chk4(hb.build()) == [], propagation


def test_chk4_parallel_scale_down_in_any_order_passes() -> None:
    hb = _up(policy="Parallel")
    hb.scale_down(0, order=[0, 2, 1])
    assert check_chk4(hb.build()) == []


def test_chk4_scale_down_of_an_unready_pod_passes() -> None:
    # ORD-4: the unhealthy condemned pod is the first unavailable one, so it is deleted.
    hb = _up()
    hb.hold(2).scale_down(2).settle()
    assert check_chk4(hb.build()) == []


def test_chk4_flags_scale_down_while_in_range_pod_never_ready() -> None:
    hb = _up()
    hb.delete_pod(1).pod_added(1)  # the replacement never becomes Ready
    hb.scale(2).sync_status().pod_deleted(2)
    vs = check_chk4(hb.build())
    assert len(vs) == 1 and "in-range pod web-1" in vs[0].message and "web-2" in vs[0].message


def test_chk4_user_deletion_of_condemned_pod_is_not_judged() -> None:
    hb = _up()
    hb.scale(1).sync_status().delete_pod(1)  # the harness deletes web-1 before web-2
    assert check_chk4(hb.build()) == []


# -- CHK-5 ---------------------------------------------------------------------------------------
def test_chk5_passes_one_at_a_time_rollout() -> None:
    hb = _up()
    hb.set_template("b").roll().settle()
    assert check_chk5(hb.build()) == []


def test_chk5_flags_second_deletion_while_replacement_unready() -> None:
    hb = _up()
    hb.set_template("b")
    hb.pod_deleted(2).pod_added(2, revision=hb.update_revision)  # not Ready yet
    hb.pod_deleted(1)
    vs = check_chk5(hb.build())
    assert [v.rule for v in vs] == ["CHK-5/UPD-4"]
    assert "web-1" in vs[0].message and "web-2" in vs[0].message


def test_chk5_flags_second_deletion_while_first_still_terminating() -> None:
    hb = _up()
    hb.set_template("b")
    hb.pod_terminating(2).pod_terminating(1)
    vs = check_chk5(hb.build())
    assert len(vs) == 1 and "still terminating" in vs[0].message


def test_chk5_max_unavailable_two_allows_batches() -> None:
    hb = _up(max_unavailable=2)
    hb.set_template("b")
    hb.pod_terminating(2).pod_terminating(1).pod_gone(2).pod_gone(1)  # T-6
    assert check_chk5(hb.build()) == []


def test_chk5_faults_in_the_window_suspend_the_check() -> None:
    hb = _up()
    hb.set_template("b").hold(0)
    hb.pod_terminating(2).pod_terminating(1)
    assert check_chk5(hb.build()) == []


# -- CHK-6 ---------------------------------------------------------------------------------------
def test_chk6_passes_descending_rollout() -> None:
    hb = _up()
    hb.set_template("b").roll().settle()
    assert check_chk6(hb.build()) == []


def test_chk6_flags_update_deleting_ascending() -> None:
    hb = _up()
    hb.set_template("b").roll(order=[0, 1, 2]).settle()
    vs = check_chk6(hb.build())
    assert {v.rule for v in vs} == {"CHK-6/UPD-1"}
    assert "web-1" in vs[0].message and "web-0" in vs[0].message


def test_chk6_new_template_starts_a_new_order() -> None:
    hb = _up(replicas=4)
    hb.set_template("b").roll(order=[3, 2])
    hb.set_template("c").roll().settle()  # 3, 2, 1, 0 again: a new rollout window
    assert check_chk6(hb.build()) == []


def test_chk6_pod_recreated_at_old_revision_may_be_updated_again() -> None:
    hb = _up(partition=1)
    hb.set_template("b").roll()  # updates 2, 1
    hb.set_partition(3).sync_status()
    hb.delete_pod(2).pod_up(2)  # recreated below the partition: old revision (UPD-6)
    assert hb.pod(2)["metadata"]["labels"]["controller-revision-hash"] != hb.update_revision
    hb.set_partition(0).sync_status().roll(order=[2, 0]).settle()
    assert check_chk6(hb.build()) == []


def test_chk6_parallel_batch_order_is_free_with_max_unavailable() -> None:
    hb = _up(policy="Parallel", max_unavailable=3)
    hb.set_template("b")
    hb.pod_deleted(0).pod_deleted(2).pod_deleted(1)  # one batch: no creation in between
    assert check_chk6(hb.build()) == []


def _parallel_rollout_after_a_fresh_old_pod(wait: float) -> list[Violation]:
    """Parallel on a cluster: web-0 at the old revision is deleted for update ``wait``
    seconds after its incarnation appeared Ready, then web-2 is."""
    hb = HistoryBuilder("web", policy="Parallel", granularity=1.0, backend="kwok", step=0.002)
    hb.create_set().bring_up().settle().wait(5)
    old = hb.current_revision
    hb.set_template("b").sync_status()
    hb.delete_pod(0).pod_up(0, revision=old).wait(wait)  # re-created at the old revision
    hb.pod_deleted(0).pod_up(0).pod_deleted(2).pod_up(2).settle()
    return check_chk6(hb.build())


def test_chk6_a_pod_the_controller_may_not_have_seen_ready_is_not_in_the_order() -> None:
    """Seen on kwok v1.37.2: a pod re-created at the old revision, Ready 2 ms later and deleted
    first; the controller's cache (INFORMER_LAG) may still have held it unavailable, which
    Parallel replaces out of order (#137666): not an ordered update deletion."""
    assert _parallel_rollout_after_a_fresh_old_pod(0.01) == []


def test_chk6_a_long_available_lower_pod_deleted_first_is_still_flagged() -> None:
    vs = _parallel_rollout_after_a_fresh_old_pod(5.0)
    assert {v.rule for v in vs} == {"CHK-6/UPD-1"}


# -- CHK-7 ---------------------------------------------------------------------------------------
def test_chk7_passes_partitioned_rollout_and_recreation_at_current() -> None:
    hb = _up(partition=2)
    hb.set_template("b").roll().settle()  # only web-2
    hb.delete_pod(0).pod_up(0).settle()  # recreated at currentRevision (UPD-6)
    assert check_chk7(hb.build()) == []


def test_chk7_flags_partition_ignored() -> None:
    hb = _up(partition=2)
    hb.set_template("b").roll(order=[2, 1]).settle()
    vs = check_chk7(hb.build())
    assert "CHK-7/UPD-2" in {v.rule for v in vs}
    assert any("web-1" in v.message and "partition" in v.message for v in vs)


def test_chk7_flags_recreation_below_partition_at_update_revision() -> None:
    hb = _up(partition=2)
    hb.set_template("b").roll().settle()
    hb.delete_pod(0).pod_up(0, revision=hb.update_revision).settle()
    vs = check_chk7(hb.build())
    assert [v.rule for v in vs] == ["CHK-7/UPD-6"]
    assert "web-0" in vs[0].message


def test_chk7_flags_update_deletion_under_on_delete() -> None:
    hb = _up(strategy="OnDelete", partition=None)
    hb.set_template("b").pod_deleted(2)
    vs = check_chk7(hb.build())
    assert [v.rule for v in vs] == ["CHK-7/UPD-8"] and "web-2" in vs[0].message


def test_chk7_on_delete_user_deletion_passes() -> None:
    hb = _up(strategy="OnDelete", partition=None)
    hb.set_template("b").delete_pod(2).pod_up(2).settle()
    assert check_chk7(hb.build()) == []


def test_chk7_scale_to_zero_promotion_rev9_is_allowed() -> None:
    hb = _up(partition=2)
    hb.set_template("b").roll().settle()
    hb.scale_down(0).settle()  # REV-9: currentRevision := updateRevision (#121534)
    hb.scale(3).sync_status()
    for o in range(3):
        hb.pod_up(o, revision=hb.update_revision)
    hb.settle()
    assert check_chk7(hb.build()) == []


def test_chk7_failed_pod_replacement_below_partition_passes() -> None:
    hb = _up(partition=3)
    hb.fail_pod(0).pod_deleted(0).pod_up(0).settle()  # RP-1
    assert check_chk7(hb.build()) == []


# -- CHK-8 ---------------------------------------------------------------------------------------
def test_chk8_passes_claims_created_before_pods() -> None:
    assert check_chk8(_up(templates=("data", "logs")).build()) == []


def test_chk8_flags_pod_created_without_its_claim() -> None:
    hb = HistoryBuilder("web").create_set().pod_up(0)
    hb.pod_added(1, claims=False)
    vs = check_chk8(hb.build())
    assert [v.rule for v in vs] == ["CHK-8/STO-3"]
    assert "web-1" in vs[0].message and "data-web-1" in vs[0].message


def test_chk8_flags_claim_created_after_pod() -> None:
    hb = HistoryBuilder("web").create_set()
    hb.pod_added(0, claims=False).claim_added(0)
    vs = check_chk8(hb.build())
    assert len(vs) == 1 and "first recorded" in vs[0].message


def test_chk8_flags_volume_pointing_at_wrong_claim() -> None:
    hb = HistoryBuilder("web").create_set().pod_up(0)
    hb.claim_added(1).pod_added(1, volumes={"data": "data-web-2"})
    vs = check_chk8(hb.build())
    assert [v.rule for v in vs] == ["CHK-8/STO-6"] and "data-web-2" in vs[0].message


def test_chk8_tolerates_claim_deleted_in_flight() -> None:
    # delete_pvc then an immediate recreation: the claim cache may still show the claim.
    hb = _up()
    hb.delete_pvc(1).delete_pod(1).pod_added(1, claims=False)
    assert check_chk8(hb.build()) == []


def test_chk8_flags_claim_deleted_before_a_settle() -> None:
    hb = _up()
    hb.delete_pvc(1).settle()
    hb.delete_pod(1).pod_added(1, claims=False)
    vs = check_chk8(hb.build())
    assert len(vs) == 1 and "DELETED" in vs[0].message


def test_chk8_flags_claim_recorded_after_pod_in_the_same_second() -> None:
    """A cluster History is in resourceVersion order: a claim recorded after its pod was
    created after it, though both carry the same whole-second creationTimestamp (the
    controller mutant claims-created-after-pod)."""
    hb = HistoryBuilder("web", granularity=1.0, step=0.25).create_set()
    hb.pod_added(0, claims=False).claim_added(0)
    vs = check_chk8(hb.build())
    assert [v.rule for v in vs] == ["CHK-8/STO-3"] and "first recorded" in vs[0].message


def test_chk8_claim_in_same_second_after_a_watch_gap_is_within_skew() -> None:
    """After an apiserver restart (until the next settle) a relist may record a claim late."""
    hb = HistoryBuilder("web", granularity=1.0, step=0.25).create_set()
    hb.ok(hb.invoke("restart_apiserver"))
    hb.pod_added(0, claims=False).claim_added(0)
    assert check_chk8(hb.build()) == []


# -- CHK-9 ---------------------------------------------------------------------------------------
def _pod_ref(hb: HistoryBuilder, ordinal: int) -> dict[str, object]:
    pod = hb.pod(ordinal)
    return {"kind": "Pod", "name": pod["metadata"]["name"], "uid": pod["metadata"]["uid"],
            "controller": True, "blockOwnerDeletion": True}


def test_chk9_passes_pod_ref_on_condemned_claim() -> None:
    hb = _up(retention=("Retain", "Delete"))
    hb.scale(2).sync_status()
    hb.claim_refs("data-web-2", [_pod_ref(hb, 2)])  # STO-9 d: just before the deletion
    hb.pod_deleted(2).claim_deleted("data-web-2").settle()
    assert check_chk9(hb.build()) == []


def test_chk9_flags_pod_ref_on_in_range_claim() -> None:
    hb = _up(retention=("Retain", "Delete"))
    hb.claim_refs("data-web-1", [_pod_ref(hb, 1)])
    vs = check_chk9(hb.build())
    assert [v.rule for v in vs] == ["CHK-9/STO-11"] and "data-web-1" in vs[0].message


def test_chk9_scale_down_in_flight_is_not_flagged() -> None:
    hb = _up(retention=("Retain", "Delete"))
    hb.scale(2).sync_status().scale(3)  # back up before the controller saw it
    hb.claim_refs("data-web-2", [_pod_ref(hb, 2)])
    assert check_chk9(hb.build()) == []


def test_chk6_an_old_pod_adopted_after_the_rollout_deleted_lower_pods_may_be_deleted_next() -> None:
    # web-1 relabelled out (released, ID-17) and left out of the range; the rollout updates
    # web-0; back in range and relabelled, web-1 is adopted at the old revision (ID-19) and
    # deleted by the same rollout after web-0: not an order violation. Found by the first model
    # runs with UnlabelPod / RelabelPod.
    r = run(web(2), Create(), Settle(), UnlabelPod(1), Settle(), Scale(1), Settle(),
            SetTemplate("env", "v1"), Settle(), Scale(2), Settle(), RelabelPod(1), Settle())
    deleted = [ev.name for ev in r.history.objects("Pod") if ev.action == "DELETED"]
    assert deleted == ["web-0", "web-1"]
    assert run_safety_checks(r.history) == []
