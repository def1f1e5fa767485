"""Unit tests of the reference model, one or more per rule; names cite the rule IDs."""

from __future__ import annotations

import pytest

from sts_props.model import Chooser, ModelConfig, ModelRun, controller
from sts_props.model.controller import resolve_max_unavailable, sync
from sts_props.model.validation import default_statefulset, validate_create, validate_update
from sts_props.model.world import revision_name
from sts_props.ops import (
    REPLACED_ANNOTATION,
    Create,
    DeletePod,
    DeletePVC,
    DeleteRevision,
    DeleteSet,
    FailPod,
    HoldNotReady,
    MarkPodStale,
    RecreateSet,
    ReleasePod,
    ReplaceRevision,
    RevertTemplate,
    Scale,
    SetHistoryLimit,
    SetMaxUnavailable,
    SetMinReadySeconds,
    SetOrdinalsStart,
    SetPartition,
    SetRetention,
    SetTemplate,
    Settle,
)
from sts_props.scenario import Manifests
from sts_props.snapshot import POD_INDEX_LABEL, POD_NAME_LABEL
from tests.model_helpers import pod_events, pods, revisions, run, web

V136 = ModelConfig.for_version("v1.36.3")


class NoDrain(Chooser):
    """Let nothing happen between ops (the next op comes before any reaction)."""

    def steps_after(self, op: object) -> int | None:
        return 0


# -- identity ---------------------------------------------------------------------------------
def test_id1_id7_id8_names_labels_hostname_subdomain() -> None:
    r = run(web(3), Create(), Settle())
    assert pods(r) == ["web-0", "web-1", "web-2"]
    for o in range(3):
        pod = r.world.pods[f"web-{o}"]
        assert pod.labels[POD_NAME_LABEL] == f"web-{o}"
        assert pod.labels[POD_INDEX_LABEL] == str(o)
        assert pod.hostname == f"web-{o}" and pod.subdomain == "web"
        assert pod.volumes == {"data": f"data-web-{o}"}


def test_id2_ordinals_start_shifts_the_range() -> None:
    r = run(web(2, start=5), Create(), Settle())
    assert pods(r) == ["web-5", "web-6"]
    assert r.world.pods["web-5"].labels[POD_INDEX_LABEL] == "5"  # ID-7: ordinal, not offset


@pytest.mark.parametrize(("policy", "retention", "stray_refs"), [
    ("OrderedReady", ("Retain", "Retain"), []),
    ("Parallel", ("Delete", "Retain"), ["StatefulSet"]),
    ("Parallel", ("Retain", "Delete"), []),  # a pod ref with no UID: refused
    ("OrderedReady", ("Delete", "Delete"), []),
])
def test_f9_a_slot_beyond_int32_creates_claims_of_ordinal_1_and_never_its_pod(
        policy: str, retention: tuple[str, str], stray_refs: list[str]) -> None:
    """F-9 (docs/findings.md), as kwok v1.34.0, v1.36.3 and v1.37.2 showed: ordinal 2^31
    cannot be read back from a pod name, so the pod is renamed web--1 and refused, and the
    claims of ordinal 1 are created instead, every sync ending in that error."""
    r = run(web(3, policy, start=2**31 - 2, retention=retention), Create(), Settle())
    assert pods(r) == ["web-2147483646", "web-2147483647"]
    assert sorted(r.world.claims) == ["data-web-1", "data-web-2147483646", "data-web-2147483647"]
    assert [ref.kind for ref in r.world.claims["data-web-1"].owner_refs] == stray_refs
    assert r.world.sts is not None and r.world.sts.status.replicas == 2
    assert r.rules["F-9"] >= 1 and not r.unsettled  # the claims, and any refs set after
    plan = sync(r.world, r.config)
    assert not plan.actions and ("web--1" in plan.error or "data-web-1" in plan.error)


def test_ord8_moving_start_creates_new_before_deleting_old() -> None:
    r = run(web(2), Create(), Settle(), SetOrdinalsStart(3), Settle())
    assert pods(r) == ["web-3", "web-4"]
    added, gone = pod_events(r, "ADDED"), pod_events(r, "terminating")
    # both new ones are created before the first old one starts terminating
    assert added.index("web-4") < len(added)
    first_delete = next(i for i, ev in enumerate(r.history.objects("Pod"))
                        if ev.obj["metadata"]["deletionTimestamp"] is not None)
    last_add = max(i for i, ev in enumerate(r.history.objects("Pod"))
                   if ev.action == "ADDED" and ev.name in ("web-3", "web-4"))
    assert last_add < first_delete
    assert gone == ["web-1", "web-0"]  # ORD-4: descending


def test_seed_redis_statefulset_runs_as_is() -> None:
    r = run(Manifests.seed(), Create(), Settle())
    assert pods(r) == ["redis-0", "redis-1", "redis-2"]
    assert sorted(r.world.claims) == ["redis-data-redis-0", "redis-data-redis-1",
                                      "redis-data-redis-2"]
    assert [h for h, ready in r.world.endpoints if ready] == ["redis-0", "redis-1", "redis-2"]


# -- ordering -----------------------------------------------------------------------------------
def test_ord1_ordered_ready_creates_in_order_one_at_a_time() -> None:
    r = run(web(4), Create(), Settle())
    assert pod_events(r, "ADDED") == ["web-0", "web-1", "web-2", "web-3"]
    # each pod is added only after the previous one became Running+Ready
    ready_seen: set[str] = set()
    for ev in r.history.objects("Pod"):
        if ev.action == "ADDED":
            o = int(ev.name.rsplit("-", 1)[1])
            assert all(f"web-{j}" in ready_seen for j in range(o))
        if ev.obj["status"]["ready"]:
            ready_seen.add(ev.name)


def test_ord2_unready_pod_blocks_higher_ordinals_under_ordered_ready() -> None:
    r = run(web(2), Create(), Settle(), HoldNotReady(0), Scale(4), Settle())
    assert pods(r) == ["web-0", "web-1"]
    r.apply(ReleasePod(0))
    r.apply(Settle())
    assert pods(r) == ["web-0", "web-1", "web-2", "web-3"]


def test_ord6_t2_parallel_does_not_wait_for_readiness() -> None:
    r = run(web(2, policy="Parallel"), Create(), Settle(), HoldNotReady(0), Scale(4), Settle())
    assert pods(r) == ["web-0", "web-1", "web-2", "web-3"]


def test_ord4_scale_down_deletes_in_descending_order() -> None:
    r = run(web(5), Create(), Settle(), Scale(1), Settle())
    assert pods(r) == ["web-0"]
    assert pod_events(r, "terminating") == ["web-4", "web-3", "web-2", "web-1"]


def test_ord4_unready_condemned_pods_block_scale_down_derived_deadlock() -> None:
    # Spec example: replicas 5 -> 2 with pods 2 and 3 NotReady: pod 4 goes, 3 waits for 2.
    r = run(web(5), Create(), Settle(), HoldNotReady(2), HoldNotReady(3), Scale(2), Settle())
    assert pods(r) == ["web-0", "web-1", "web-2", "web-3"]
    r.apply(ReleasePod(2))
    r.apply(Settle())
    assert pods(r) == ["web-0", "web-1"]


def test_rp1_failed_pod_is_deleted_and_recreated_same_name() -> None:
    r = run(web(3), Create(), Settle())
    old_uid = r.world.pods["web-1"].uid
    r.apply(FailPod(1, "Failed"))
    r.apply(Settle())
    assert pods(r) == ["web-0", "web-1", "web-2"]
    assert r.world.pods["web-1"].uid != old_uid
    assert r.world.pods["web-1"].volumes == {"data": "data-web-1"}  # STO-7 same claim


def test_rp1_succeeded_pods_are_replaced_too() -> None:
    r = run(web(2), Create(), Settle(), FailPod(0, "Succeeded"), Settle())
    assert r.world.pods["web-0"].phase == "Running"


def test_ord9_foreground_deletion_no_recreation_only_status() -> None:
    r = run(web(3), Create(), Settle(), DeleteSet("Foreground"), Settle())
    assert r.world.sts is None and pods(r) == []
    assert "data-web-0" in r.world.claims  # STO-7: retained


# -- storage ------------------------------------------------------------------------------------
def test_sto3_claims_exist_before_their_pod() -> None:
    r = run(web(2, claims=2), Create(), Settle())
    added = [(ev.kind, ev.name) for ev in r.history.objects() if ev.action == "ADDED"]
    for o in range(2):
        pod_at = added.index(("Pod", f"web-{o}"))
        for claim in (f"data-web-{o}", f"data1-web-{o}"):
            assert added.index(("PersistentVolumeClaim", claim)) < pod_at


def test_sto7_deleted_pod_reattaches_the_same_claim() -> None:
    r = run(web(3), Create(), Settle())
    claim_uid = r.world.claims["data-web-1"].uid
    r.apply(DeletePod(1))
    r.apply(Settle())
    assert r.world.claims["data-web-1"].uid == claim_uid
    assert r.world.pods["web-1"].volumes["data"] == "data-web-1"


def test_sto7_scale_down_then_up_reuses_claims_by_name() -> None:
    r = run(web(3), Create(), Settle())
    uid2 = r.world.claims["data-web-2"].uid
    r.apply(Scale(1))
    r.apply(Settle())
    assert "data-web-2" in r.world.claims
    r.apply(Scale(3))
    r.apply(Settle())
    assert r.world.claims["data-web-2"].uid == uid2


def test_sto3_claim_being_deleted_blocks_pod_until_gone() -> None:
    r = run(web(2), Create(), Settle(), DeletePVC(1))
    claim = r.world.claims["data-web-1"]
    assert claim.terminating  # protection holds it while web-1 runs
    old_uid = claim.uid
    r.apply(DeletePod(1))
    r.apply(Settle())
    assert r.world.claims["data-web-1"].uid != old_uid  # a fresh claim after the old is gone
    assert pods(r) == ["web-0", "web-1"]


def test_sto8_sto10_whenscaled_delete_removes_claims_of_condemned_pods() -> None:
    r = run(web(3, retention=("Retain", "Delete")), Create(), Settle(), Scale(1), Settle())
    assert sorted(r.world.claims) == ["data-web-0"]


def test_sto8_whendeleted_delete_sets_controller_ref_to_set() -> None:
    r = run(web(2, retention=("Delete", "Retain")), Create(), Settle())
    sts_uid = r.world.sts.uid if r.world.sts else ""
    for claim in r.world.claims.values():
        assert [(o.kind, o.uid, o.controller) for o in claim.owner_refs] == [
            ("StatefulSet", sts_uid, True)]
    r.apply(DeleteSet("Background"))
    r.apply(Settle())
    assert r.world.claims == {}  # STO-10: the GC removes them


def test_sto8_orphan_deletion_keeps_claims_and_pods() -> None:
    r = run(web(2, retention=("Delete", "Retain")), Create(), Settle(), DeleteSet("Orphan"),
            Settle())
    assert pods(r) == ["web-0", "web-1"] and len(r.world.claims) == 2
    assert all(not c.owner_refs for c in r.world.claims.values())


def test_sto9_policy_change_after_scale_down_leaves_orphaned_claims() -> None:
    r = run(web(3), Create(), Settle(), Scale(1), Settle(),
            SetRetention("Delete", "Delete"), Settle())
    assert "data-web-2" in r.world.claims and not r.world.claims["data-web-2"].owner_refs
    assert r.world.claims["data-web-0"].owner_refs[0].kind == "StatefulSet"


def test_sto12_stale_claim_gate_waits_for_gc() -> None:
    r = ModelRun(web(2, retention=("Retain", "Delete")), chooser=NoDrain())
    for op in (Create(), Settle(), Scale(1)):
        r.apply(op)
    while "web-1" in r.world.pods:  # run until the condemned pod is gone, not its claim
        assert r.step()
    claim = r.world.claims["data-web-1"]
    assert [o.kind for o in claim.owner_refs] == ["Pod"]  # STO-8: owned by the dead pod
    r.apply(Scale(2))
    assert not [a for a in sync(r.world, r.config).actions if a.verb == "create_pod"]
    r.apply(Settle())
    assert pods(r) == ["web-0", "web-1"]
    claims = [ev.action for ev in r.history.objects("PersistentVolumeClaim")
              if ev.name == "data-web-1" and ev.action in ("ADDED", "DELETED")]
    assert claims == ["ADDED", "DELETED", "ADDED"]  # a fresh claim after the GC


# -- revisions and updates ------------------------------------------------------------------------
def test_upd1_rolling_update_goes_down_from_the_highest_ordinal() -> None:
    r = run(web(3), Create(), Settle(), SetTemplate("image", "app:2"), Settle())
    assert pod_events(r, "terminating") == ["web-2", "web-1", "web-0"]
    assert len(set(revisions(r).values())) == 1
    sts = r.world.sts
    assert sts is not None and sts.status.current_revision == sts.status.update_revision


def test_upd2_partition_is_an_offset_from_start() -> None:
    r = run(web(4, start=10), Create(), Settle(), SetPartition(2), SetTemplate("image", "app:2"),
            Settle())
    revs = revisions(r)
    assert revs["web-10"] == revs["web-11"] != revs["web-12"] == revs["web-13"]


def test_upd7_chk7_pod_below_partition_recreated_at_current_revision() -> None:
    r = run(web(4), Create(), Settle(), SetPartition(2), SetTemplate("image", "app:2"), Settle())
    old = revisions(r)["web-0"]
    r.apply(DeletePod(1))
    r.apply(Settle())
    assert revisions(r)["web-1"] == old
    r.apply(SetPartition(0))
    r.apply(Settle())
    assert len(set(revisions(r).values())) == 1 and revisions(r)["web-0"] != old


def test_upd3_partition_above_replicas_means_no_updates() -> None:
    r = run(web(2), Create(), Settle(), SetPartition(5), SetTemplate("image", "app:2"), Settle())
    assert pod_events(r, "terminating") == []


def test_upd6_ondelete_recreates_and_scales_up_at_update_revision() -> None:
    r = run(web(2, strategy={"type": "OnDelete"}), Create(), Settle(),
            SetTemplate("image", "app:2"), Settle())
    before = revisions(r)
    assert len(set(before.values())) == 1  # UPD-8: nothing rolls by itself
    r.apply(Scale(3))
    r.apply(DeletePod(0))
    r.apply(Settle())
    after = revisions(r)
    assert after["web-0"] == after["web-2"] != after["web-1"]


def test_rev10_ondelete_promotion_depends_on_version() -> None:
    ops = (Create(), Settle(), SetTemplate("image", "app:2"), Settle(), DeletePod(0), Settle())
    new = run(web(1, strategy={"type": "OnDelete"}), *ops)
    old = run(web(1, strategy={"type": "OnDelete"}), *ops, config=V136)
    for r, promoted in ((new, True), (old, False)):
        st = r.world.sts.status if r.world.sts else None
        assert st is not None
        assert (st.current_revision == st.update_revision) is promoted


def test_upd6a_no_rollingupdate_block_recreates_low_pods_at_current_revision() -> None:
    # VAL-3: an explicit RollingUpdate without a block has no partition; recreated pods below
    # start + status.currentReplicas take the current revision (UPD-6 a).
    r = run(web(3, strategy={"type": "RollingUpdate"}), Create(), Settle(),
            SetTemplate("image", "app:2"))
    assert r.world.sts is not None and r.world.sts.rolling_block is None
    r.apply(Settle())
    assert len(set(revisions(r).values())) == 1


def test_upd9_rev7_rollback_reuses_the_old_revision_and_bumps_its_number() -> None:
    r = run(web(2), Create(), Settle(), SetTemplate("image", "app:2"), Settle(),
            RevertTemplate(0), Settle())
    sts = r.world.sts
    assert sts is not None
    names = sorted(r.world.revisions, key=lambda n: r.world.revisions[n].revision)
    assert len(names) == 2
    first = names[-1]
    assert r.world.revisions[first].revision == 3
    assert sts.status.update_revision == first
    assert set(revisions(r).values()) == {first}


def test_upd12_ordered_ready_rollout_stuck_on_bad_pod_until_deleted() -> None:
    # A "bad" template: the new pod never becomes Ready (held), the rollback does not help.
    r = run(web(3), Create(), Settle(), SetTemplate("image", "bad:1"))
    r.apply(HoldNotReady(2))
    r.apply(Settle())
    assert r.world.pods["web-2"].labels != {} and not r.world.pods["web-2"].ready
    r.apply(RevertTemplate(0))
    r.apply(Settle())
    sts = r.world.sts
    assert sts is not None
    assert revisions(r)["web-2"] != sts.status.update_revision  # still the bad revision: stuck
    r.apply(DeletePod(2))  # forced rollback
    r.apply(Settle())
    assert revisions(r)["web-2"] == sts.status.update_revision


def test_upd10_parallel_137_replaces_broken_old_pod_after_revert() -> None:
    r = run(web(3, policy="Parallel"), Create(), Settle(), SetTemplate("image", "bad:1"))
    r.apply(HoldNotReady(2))
    r.apply(Settle())
    r.apply(RevertTemplate(0))
    r.apply(Settle())
    sts = r.world.sts
    assert sts is not None
    assert revisions(r)["web-2"] == sts.status.update_revision


def test_upd5_max_unavailable_deletes_several_at_once() -> None:
    r = run(web(4, strategy={"type": "RollingUpdate",
                             "rollingUpdate": {"maxUnavailable": 2}}), Create(), Settle())
    r.chooser = NoDrain()
    r.apply(SetTemplate("image", "app:2"))
    plan = sync(r.world, r.config)
    plan_deletes = [a.name for a in plan.actions if a.verb == "delete_pod"]
    assert plan_deletes == ["web-3", "web-2"]


def test_upd5_percentage_rounds_down_at_least_one() -> None:
    assert resolve_max_unavailable("50%", 3) == 1
    assert resolve_max_unavailable("10%", 3) == 1
    assert resolve_max_unavailable("100%", 5) == 5
    assert resolve_max_unavailable(2, 5) == 2


def test_upd11_gate_off_drops_max_unavailable() -> None:
    r = run(web(2), Create(), SetMaxUnavailable(3), config=V136)
    assert r.world.sts is not None
    assert "maxUnavailable" not in (r.world.sts.rolling_block or {})


def test_rev9_scale_to_zero_promotes_current_revision_under_partition() -> None:
    r = run(web(3), Create(), Settle(), SetPartition(2), SetTemplate("image", "app:2"), Settle())
    sts = r.world.sts
    assert sts is not None and sts.status.current_revision != sts.status.update_revision
    r.apply(Scale(0))
    r.apply(Settle())
    assert sts.status.current_revision == sts.status.update_revision
    r.apply(Scale(3))
    r.apply(Settle())
    # #121534: pods below the partition now come back at the new revision
    assert set(revisions(r).values()) == {sts.status.update_revision}


def test_rev11_history_is_truncated_to_the_limit() -> None:
    ops = [Create(), Settle()]
    for i in range(4):
        ops += [SetTemplate("image", f"app:{i + 2}"), Settle()]
    r = run(web(1, history_limit=1), *ops)
    assert len(r.world.revisions) == 2  # the live one plus one of history


def test_rev1_non_template_changes_make_no_revision() -> None:
    r = run(web(2), Create(), Settle(), Scale(3), SetPartition(1), SetMinReadySeconds(2),
            SetRetention("Delete", "Retain"), Settle())
    assert len(r.world.revisions) == 1


def test_rev6_del2_recreated_set_adopts_orphans_without_restarts() -> None:
    r = run(web(2), Create(), Settle(), DeleteSet("Orphan"), Settle())
    uids = {n: p.uid for n, p in r.world.pods.items()}
    assert all(not p.owner_refs for p in r.world.pods.values())
    r.apply(RecreateSet())
    r.apply(Settle())
    assert {n: p.uid for n, p in r.world.pods.items()} == uids  # ID-18: adopted, not replaced
    sts = r.world.sts
    assert sts is not None
    assert all(p.controller_uid() == sts.uid for p in r.world.pods.values())
    assert len(r.world.revisions) == 1


def test_del1_background_deletion_removes_pods_and_revisions() -> None:
    r = run(web(2), Create(), Settle(), DeleteSet("Background"), Settle())
    assert pods(r) == [] and r.world.revisions == {} and len(r.world.claims) == 2


def test_rev8_a_deleted_current_revision_makes_the_update_revision_current() -> None:
    """DeleteRevision("current") in a partitioned rollout: at the next sync currentRevision :=
    updateRevision (REV-8); the old pods count as neither current nor updated, and an old pod
    below the partition that is deleted comes back at the update revision (UPD-6)."""
    rolling = {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}
    r = run(web(3, strategy=rolling), Create(), Settle(), SetTemplate("image", "v2"), Settle())
    status = r.world.sts.status
    old, new = status.current_revision, status.update_revision
    assert old != new and revisions(r) == {"web-0": old, "web-1": old, "web-2": new}
    r.apply(DeleteRevision("current"))
    r.apply(Settle())
    status = r.world.sts.status
    assert old not in r.world.revisions
    assert status.current_revision == status.update_revision == new
    assert (status.current_replicas, status.updated_replicas) == (1, 1)
    r.apply(DeletePod(0))
    r.apply(Settle())
    assert revisions(r) == {"web-0": new, "web-1": old, "web-2": new}


def test_rev7_a_deleted_update_revision_is_created_again_with_the_next_number() -> None:
    """DeleteRevision("update"): the template has no revision any more, so the next sync
    creates one under the same name (same template, same collisionCount) numbered 1 + the
    highest left (REV-4, REV-7); pods are not touched. Deleting a revision that is gone (the
    status still names it) answers 404."""
    rolling = {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}
    r = run(web(3, strategy=rolling), Create(), Settle(), SetTemplate("image", "v2"), Settle(),
            SetTemplate("image", "v3"), Settle())
    status = r.world.sts.status
    update = status.update_revision
    assert [rv.revision for rv in r.world.revisions.values()] == [1, 2, 3]
    before = revisions(r)
    r.apply(DeleteRevision("update"))
    r.apply(Settle())
    assert r.world.revisions[update].revision == 3  # 1 + max(1, 2)
    assert r.world.sts.status.update_revision == update and revisions(r) == before
    r = ModelRun(web(1), None, NoDrain())
    r.apply(Create())
    assert r.apply(DeleteRevision("current")).code == 404  # no sync yet: the status names none


def _uids(r: ModelRun) -> dict[str, str]:
    return {n: p.uid for n, p in sorted(r.world.pods.items())}


def test_rev5_a_collision_raises_collision_count_and_rolls_every_pod() -> None:
    """ReplaceRevision("update", "other"): the name the set's template maps to is held by
    other data. The next sync adopts that revision (REV-6), finds none equal to the template,
    meets the taken name, raises collisionCount to 1 and creates the revision under the next
    name, numbered 1 + the highest (REV-5, REV-4): every pod is then old and is replaced
    (UPD-1), with the same template. Later revisions are named with the raised count."""
    r = run(web(3), Create(), Settle())
    sts = r.world.sts
    assert sts is not None
    old, uids = sts.status.update_revision, _uids(r)
    r.apply(ReplaceRevision("update", "other"))
    r.apply(Settle())
    status = sts.status
    new = status.update_revision
    assert status.collision_count == 1 and new != old
    assert new == revision_name("web", sts.template, 1)
    assert status.current_revision == new  # the rollout completed (REV-9)
    planted = r.world.revisions[old]
    assert [o.uid for o in planted.owner_refs if o.controller] == [sts.uid]  # adopted
    assert (planted.revision, r.world.revisions[new].revision) == (1, 2)
    assert revisions(r) == dict.fromkeys(uids, new)
    assert all(_uids(r)[n] != u for n, u in uids.items())
    assert all(REPLACED_ANNOTATION not in p.annotations for p in r.world.pods.values())
    r.apply(SetTemplate("image", "v2"))
    r.apply(Settle())
    assert sts.status.update_revision == revision_name("web", sts.template, 1)
    assert sts.status.collision_count == 1


def test_rev5_a_pod_built_from_a_replaced_current_revision_carries_its_data() -> None:
    """ReplaceRevision("current", "other") in a partitioned rollout: the update revision still
    equals the template, so nothing collides; the current revision is the harness's, and a
    pod below the partition that is deleted comes back from it, annotation and all (UPD-6)."""
    rolling = {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}
    r = run(web(3, strategy=rolling), Create(), Settle(), SetTemplate("image", "v2"), Settle())
    sts = r.world.sts
    assert sts is not None
    current, update = sts.status.current_revision, sts.status.update_revision
    r.apply(ReplaceRevision("current", "other"))
    r.apply(Settle())
    assert (sts.status.current_revision, sts.status.update_revision) == (current, update)
    assert sts.status.collision_count == 0
    assert REPLACED_ANNOTATION not in r.world.pods["web-0"].annotations
    r.apply(DeletePod(0))
    r.apply(Settle())
    assert r.world.pods["web-0"].annotations.get(REPLACED_ANNOTATION) == "other"
    assert revisions(r) == {"web-0": current, "web-1": current, "web-2": update}


@pytest.mark.parametrize("version,semantic", [
    ("v1.33.7", False), ("v1.34.0", False), ("v1.34.2", True), ("v1.35.0", True),
    ("v1.37.2", True)])
def test_rev7_the_same_template_reserialised_is_equal_only_with_the_semantic_gate(
        version: str, semantic: bool) -> None:
    """ReplaceRevision("update", "same"): the newest revision holds the set's template, but
    not byte for byte. With StatefulSetSemanticRevisionComparison (1.34.2+, 1.35+) it is the
    update revision and nothing happens; without it the controller creates the revision
    again, meets its own name taken (REV-5), and re-rolls every pod: the upgrade re-roll the
    gate was made for (#135087)."""
    r = run(web(3), Create(), Settle(), config=ModelConfig.for_version(version))
    sts = r.world.sts
    assert sts is not None
    old, uids = sts.status.update_revision, _uids(r)
    r.apply(ReplaceRevision("update", "same"))
    r.apply(Settle())
    if semantic:
        assert sts.status.update_revision == old and sts.status.collision_count == 0
        assert _uids(r) == uids
    else:
        assert sts.status.update_revision != old and sts.status.collision_count == 1
        assert not set(_uids(r).values()) & set(uids.values())


def test_rev5_a_rollback_to_a_reserialised_revision_collides_even_with_the_gate() -> None:
    """The semantic fallback looks at the newest revision only: a rollback to an older one
    written by someone else finds no byte-equal revision, so the controller creates one and
    its name is taken (REV-7, REV-5): collisionCount 1, and the rolled-back revision gets a new
    name."""
    rolling = {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}
    r = run(web(3, strategy=rolling), Create(), Settle(), SetTemplate("image", "v2"), Settle(),
            ReplaceRevision("current", "same"), Settle())
    sts = r.world.sts
    assert sts is not None
    current = sts.status.current_revision
    assert sts.status.collision_count == 0
    r.apply(RevertTemplate(0))
    r.apply(Settle())
    assert sts.status.collision_count == 1
    assert sts.status.update_revision not in (current, "")
    assert sts.status.update_revision == revision_name("web", sts.template, 1)


def test_chk6_a_replaced_revision_starts_a_new_rollout_window() -> None:
    """Found by the model tier with seed 1: a stale pod 0 replaced (UPD-1), then the revision
    replaced, which starts another rollout from the top (2, 1, 0). The checks' rollout
    window begins again at ReplaceRevision (Op.starts_rollout), as at a template change, so
    the second rollout's deletion of pod 1 is not set against the first one's of pod 0."""
    from sts_props.checks import run_safety_checks

    r = run(web(3), Create(), Settle(), MarkPodStale(0), Settle(),
            ReplaceRevision("current", "other"), Settle())
    assert pod_events(r, "DELETED") == ["web-0", "web-2", "web-1", "web-0"]
    assert run_safety_checks(r.history) == []


# -- status --------------------------------------------------------------------------------------
def test_st1_st5_status_at_quiescence() -> None:
    r = run(web(3, min_ready=2), Create(), Settle())
    sts = r.world.sts
    assert sts is not None
    st = sts.status
    assert (st.replicas, st.ready_replicas, st.available_replicas, st.current_replicas,
            st.updated_replicas) == (3, 3, 3, 3, 3)
    assert st.observed_generation == sts.generation == 1
    assert r.world.now >= 6  # three pods each waited minReadySeconds (ORD-1 + RP-6)


def test_st7_min_ready_seconds_zero_is_no_change_when_absent() -> None:
    """minReadySeconds is an int32 with omitempty: 0 is stored as absent, so setting 0 on a
    StatefulSet without the field changes nothing (seen on kwok v1.35.4-v1.37.2: generation
    stays 1); setting 1 does change it."""
    seed = Manifests.seed()
    assert "minReadySeconds" not in seed.statefulset["spec"]
    r = run(seed, Create(), Settle(), SetMinReadySeconds(0), Settle())
    assert r.world.sts is not None and r.world.sts.generation == 1
    r = run(seed, Create(), Settle(), SetMinReadySeconds(1), Settle())
    assert r.world.sts is not None and r.world.sts.generation == 2


def test_st2_t4_held_pod_counts_in_replicas_not_ready() -> None:
    r = run(web(3, policy="Parallel"), Create(), Settle(), HoldNotReady(1), Settle())
    st = r.world.sts.status if r.world.sts else None
    assert st is not None and (st.replicas, st.ready_replicas) == (3, 2)


def test_st7_generation_moves_only_on_spec_changes() -> None:
    r = run(web(2), Create(), Scale(2), Scale(3))
    assert r.world.sts is not None and r.world.sts.generation == 2


class Rounds(Chooser):
    """Let the given number of rounds happen after each op in turn (None: drain)."""

    def __init__(self, *counts: int | None) -> None:
        self.counts = list(counts)

    def steps_after(self, op: object) -> int | None:
        return self.counts.pop(0) if self.counts else None


def _written_current_replicas() -> list[int]:
    r = ModelRun(web(2), None, Rounds(1, 4, 0, None))
    for op in (Create(), SetTemplate("env", "v1"), SetTemplate("env", "v2"), Settle()):
        r.apply(op)
    assert r.world.sts is not None and r.world.sts.status.current_replicas == 2
    return [int(ev.obj["status"].get("currentReplicas", 0))
            for ev in r.history.objects("StatefulSet")]


def test_st11_a_status_the_apiserver_rejects_is_not_written(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A second template change after the first rollout replaced web-0 leaves no pod at
    currentRevision; UPD-1 still decrements currentReplicas for the update deletion of web-1
    (at the middle revision), to -1. The apiserver rejects that status (ST-11, 422): the cached
    status stays and the sync returns the error. (Found by CHK-10, which flags a written -1.)"""
    assert min(_written_current_replicas()) == 0
    # Without the apiserver's validation the same run writes -1: the scenario reaches it.
    monkeypatch.setattr(controller, "_status_rejected", lambda sts, status: "")
    assert min(_written_current_replicas()) == -1



# -- API answers -----------------------------------------------------------------------------------
def test_val5_invalid_scale_is_rejected_with_cause() -> None:
    r = run(web(2), Create(), Scale(-1))
    out = r.outcomes[-1]
    assert (out.code, out.reason, out.rules) == (422, "Invalid", ("VAL-5",))
    assert r.world.sts is not None and r.world.sts.replicas == 2  # nothing lost


def test_val5_max_unavailable_on_ondelete_is_rejected() -> None:
    r = run(web(2, strategy={"type": "OnDelete"}), Create(), SetMaxUnavailable(2))
    assert r.outcomes[-1].code == 422


def test_val3_explicit_rolling_update_gets_no_block() -> None:
    m = default_statefulset(web(2, strategy={"type": "RollingUpdate"}).statefulset,
                            ModelConfig())
    assert "rollingUpdate" not in m["spec"]["updateStrategy"]
    m = default_statefulset(web(2).statefulset, ModelConfig())
    assert m["spec"]["updateStrategy"] == {
        "type": "RollingUpdate", "rollingUpdate": {"partition": 0, "maxUnavailable": 1}}


def test_val7_immutable_fields_version_specific_causes() -> None:
    old = default_statefulset(web(2).statefulset, ModelConfig())
    new = default_statefulset(web(2, policy="Parallel").statefulset, ModelConfig())
    assert [(c.field, c.type) for c in validate_update(old, new, ModelConfig())] == [
        ("spec.podManagementPolicy", "FieldValueInvalid")]
    assert [(c.field, c.type) for c in validate_update(old, new, V136)] == [
        ("spec", "FieldValueForbidden")]


@pytest.mark.parametrize("version", ["v1.33.0", "v1.34.4", "v1.36.3", "v1.37.2"])
def test_val7_revision_history_limit_is_mutable_on_every_covered_version(version: str) -> None:
    """The v1.33.0, v1.33.7, v1.34.0 and v1.34.4 sources clone revisionHistoryLimit in
    ValidateStatefulSetUpdate and list it in the Forbidden message, as 1.36.3 and 1.37.2 do
    (the model had it immutable before 1.35)."""
    config = ModelConfig.for_version(version)
    old = default_statefulset(web(2).statefulset, config)
    r = run(web(2), Create(), Settle(), SetHistoryLimit(3), config=config)
    assert r.outcomes[-1].ok and r.world.sts is not None
    assert r.world.sts.spec["revisionHistoryLimit"] == 3
    new = default_statefulset(web(2, policy="Parallel").statefulset, config)
    messages = [c.message for c in validate_update(old, new, config)]
    if config.k8s_minor < 37:
        assert messages == [
            "updates to statefulset spec for fields other than 'replicas', 'ordinals', "
            "'template', 'updateStrategy', 'revisionHistoryLimit', "
            "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"]


def test_val4_set_name_with_dots_is_rejected() -> None:
    sts = web(1).statefulset
    sts["metadata"]["name"] = "web.v1"
    causes = validate_create(default_statefulset(sts, ModelConfig()), ModelConfig())
    assert [c.rule for c in causes] == ["VAL-4"]


def test_api_answers_404_and_409() -> None:
    r = run(web(1), DeletePod(0), Create(), Create(), DeletePod(7), Settle())
    assert [o.code for o in r.outcomes] == [404, 200, 409, 404, 200]


def test_val4_the_sets_own_labels_and_annotations_on_create_and_update() -> None:
    """``ValidateObjectMeta`` (create) and ``ValidateObjectMetaUpdate`` (update) judge the
    set's own labels and annotations: a label value of 64 characters, and more than 256 KiB
    of annotations, are refused; exactly 256 KiB is taken. Agreed with a v1.37.2 apiserver's
    dry run (31 cases, 2026-12-06)."""
    config = ModelConfig()
    sts = default_statefulset(web().statefulset, config)
    assert validate_create(sts, config) == []
    long_label = {**sts, "metadata": {**sts["metadata"], "labels": {"tier": "x" * 64}}}
    at_limit = {**sts, "metadata": {**sts["metadata"],
                                    "annotations": {"note": "x" * (256 * 1024 - 4)}}}
    over = {**sts, "metadata": {**sts["metadata"],
                                "annotations": {"note": "x" * (256 * 1024 - 3)}}}
    assert [(c.field, c.type, c.rule) for c in validate_create(long_label, config)] == [
        ("metadata.labels", "FieldValueInvalid", "VAL-4")]
    assert validate_create(at_limit, config) == []
    assert [(c.field, c.type) for c in validate_create(over, config)] == [
        ("metadata.annotations", "FieldValueTooLong")]
    assert [(c.field, c.type) for c in validate_update(sts, long_label, config)] == [
        ("metadata.labels", "FieldValueInvalid")]
