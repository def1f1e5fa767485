"""Model-only tests of facts seen on a real v1.37.2 control plane (kwok backend).

Each test is named after the rule it pins down; the observation behind it is written up in
docs/findings.md (the UPD-10 delete/recreate livelock) and docs/unconfirmed-settled.md (the
open points of the spec). The cluster is not needed to run these tests.
"""

from __future__ import annotations

from sts_props.checks import run_quiescent_checks, run_safety_checks
from sts_props.model import Chooser, ModelConfig, ModelRun
from sts_props.model.controller import apply_plan, sync
from sts_props.model.environment import apply_env, env_actions
from sts_props.model.validation import default_statefulset, validate_create, validate_update
from sts_props.model.world import Pod
from sts_props.ops import (
    OUT_OF_SET,
    STALE_REVISION,
    Create,
    DeletePod,
    DeletePVC,
    DeleteSet,
    HoldNotReady,
    HoldTerminating,
    MarkPodStale,
    Op,
    RecreateSet,
    RelabelPod,
    ReleasePod,
    Scale,
    SetHistoryLimit,
    SetRetention,
    SetTemplate,
    Settle,
    UnlabelPod,
)
from sts_props.snapshot import POD_INDEX_LABEL, POD_NAME_LABEL, REVISION_LABEL
from tests.model_helpers import pod_events, pods, revisions, run, web

NO_BLOCK = {"type": "RollingUpdate"}
GATE_OFF = ModelConfig.for_version("v1.37.2", MaxUnavailableStatefulSet=False)


class NoDrain(Chooser):
    """Nothing happens between ops: the next op comes before any reaction."""

    def steps_after(self, op: Op) -> int | None:
        return 0


class OneRoundAfterTemplate(Chooser):
    """One round (a sync plus the environment) after a template change, else drain."""

    def steps_after(self, op: Op) -> int | None:
        return 1 if op.kind == "set_template" else None


def _sts(r: ModelRun):  # type: ignore[no-untyped-def]
    assert r.world.sts is not None
    return r.world.sts


def _remove_terminating_pods(r: ModelRun) -> None:
    for action in env_actions(r.world):
        if action.verb == "remove_pod":
            apply_env(r.world, action)


# -- UPD-10 with UPD-6 (a): the 1.37 delete/recreate livelock (docs/findings.md) -----------------
def test_upd10_upd6a_placeholder_is_created_and_deleted_in_the_same_sync() -> None:
    # kwok v1.37.2: redis-1 was created at the current revision and got its deletionTimestamp
    # 60-70 ms later, 387 times in 30 s. Upstream keeps the placeholder in `replicas`, so the
    # update step's phase 1 deletes, by name, the pod created from it earlier in the same sync.
    r = run(web(5, policy="Parallel", strategy=NO_BLOCK, min_ready=1), Create(), Settle(),
            HoldNotReady(1))
    r.chooser = NoDrain()
    r.apply(SetTemplate("image", "app:2"))
    first = sync(r.world, r.config)
    assert [(a.verb, a.name, a.rule) for a in first.actions if a.verb == "delete_pod"] == [
        ("delete_pod", "web-1", "UPD-10")]
    apply_plan(r.world, first)
    _remove_terminating_pods(r)
    current = _sts(r).status.current_revision
    second = sync(r.world, r.config)
    pod_actions = [(a.verb, a.name) for a in second.actions if a.verb.endswith("_pod")]
    assert pod_actions == [("create_pod", "web-1"), ("delete_pod", "web-1")]
    created = next(a.payload for a in second.actions if a.verb == "create_pod")
    assert isinstance(created, Pod) and created.labels[REVISION_LABEL] == current
    status = next(a.payload for a in second.actions if a.verb == "write_status")
    assert status.current_replicas == 3  # 4 old pods, minus the phase-1 deletion
    assert status.updated_replicas == 0


def test_upd10_upd6a_held_pod_livelocks_and_the_rollout_never_starts() -> None:
    # kwok v1.37.2, minReadySeconds 1 and 5: updatedReplicas stayed 0 and every recreated
    # redis-1 carried the old revision.
    for min_ready in (1, 5):
        r = run(web(5, policy="Parallel", strategy=NO_BLOCK, min_ready=min_ready), Create(),
                Settle(), HoldNotReady(1), SetTemplate("image", "app:2"))
        assert r.livelocks and "web-1" in r.livelocks[-1]
        sts = _sts(r)
        assert sts.status.updated_replicas == 0
        assert set(revisions(r).values()) == {sts.status.current_revision}


def test_upd10_upd6a_min_ready_0_livelocks_with_a_fresh_cache() -> None:
    # With minReadySeconds 0 the placeholder is still deleted in the sync that creates it, so
    # a controller with a fresh cache loops too. The kwok cluster left the loop after 0.6-15 s
    # only through stale-cache syncs that saw a recreated pod Ready before its deletion (a
    # timing freedom the model does not take; docs/findings.md).
    r = run(web(5, policy="Parallel", strategy=NO_BLOCK), Create(), Settle(), HoldNotReady(1),
            SetTemplate("image", "app:2"))
    assert r.livelocks


def test_upd10_upd6a_pod_deleted_by_hand_mid_rollout_livelocks() -> None:
    # kwok v1.37.2: SetTemplate then DeletePod(1) right away: redis-4 was updated, then redis-1
    # was recreated at the old revision and deleted again 336 times in 30 s.
    manifests = web(5, policy="Parallel", strategy=NO_BLOCK, min_ready=1)
    r = ModelRun(manifests, chooser=OneRoundAfterTemplate())
    for op in (Create(), Settle(), SetTemplate("image", "app:2"), DeletePod(1), Settle()):
        r.apply(op)
    assert r.livelocks and "web-1" in r.livelocks[-1]
    sts = _sts(r)
    assert revisions(r)["web-4"] == sts.status.update_revision
    assert sts.status.updated_replicas == 1


def test_upd6b_rolling_block_with_partition_0_replaces_held_pod_at_update_revision() -> None:
    # kwok v1.37.2 contrast: with `rollingUpdate: {partition: 0}` redis-1 was recreated once at
    # the new revision and the rollout finished in 3.6 s.
    r = run(web(5, policy="Parallel", min_ready=1,
                strategy={"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}),
            Create(), Settle(), HoldNotReady(1), SetTemplate("image", "app:2"), Settle())
    assert not r.livelocks
    sts = _sts(r)
    assert set(revisions(r).values()) == {sts.status.update_revision}


def test_upd1_legacy_path_gate_off_has_no_livelock() -> None:
    # With MaxUnavailableStatefulSet off the legacy path deletes one pod per sync from the top;
    # the held pod is replaced when the scan reaches it, after currentReplicas dropped below it.
    for ops in ((HoldNotReady(1), SetTemplate("image", "app:2")),):
        r = run(web(5, policy="Parallel", strategy=NO_BLOCK, min_ready=1), Create(), Settle(),
                *ops, Settle(), config=GATE_OFF)
        assert not r.livelocks
        assert set(revisions(r).values()) == {_sts(r).status.update_revision}


def test_upd5_plain_parallel_rollout_without_block_completes() -> None:
    # kwok v1.37.2 baseline: no fault, one pod per second (minReadySeconds 1), 4 -> 0.
    r = run(web(5, policy="Parallel", strategy=NO_BLOCK, min_ready=1), Create(), Settle(),
            SetTemplate("image", "app:2"), Settle())
    assert not r.livelocks
    assert set(revisions(r).values()) == {_sts(r).status.update_revision}


# -- ID-10 / ID-11 / ORD-3: identity repair --------------------------------------------------------
def test_id10_wrong_or_missing_pod_index_label_alone_is_not_repaired() -> None:
    # kwok v1.37.2: pod-index "7" and a removed pod-index label both stayed for 8 s.
    r = run(web(3), Create(), Settle())
    pod = r.world.pods["web-1"]
    pod.labels[POD_INDEX_LABEL] = "7"
    assert not any(a.verb == "update_pod_identity" for a in sync(r.world, r.config).actions)
    del pod.labels[POD_INDEX_LABEL]
    assert not any(a.verb == "update_pod_identity" for a in sync(r.world, r.config).actions)


def test_id11_pod_name_repair_also_rewrites_pod_index() -> None:
    # kwok v1.37.2: pod-name "bogus" + pod-index "7" -> both repaired within 0.01 s.
    r = run(web(3), Create(), Settle())
    pod = r.world.pods["web-1"]
    pod.labels[POD_NAME_LABEL] = "bogus"
    pod.labels[POD_INDEX_LABEL] = "7"
    r.apply(Settle())
    assert pod.labels[POD_NAME_LABEL] == "web-1" and pod.labels[POD_INDEX_LABEL] == "1"


def test_ord3_ordered_ready_repair_waits_for_lower_pods() -> None:
    # kwok v1.37.2: redis-2's bogus pod-name label stayed while redis-1 was held NotReady and
    # was repaired 0.03 s after the release.
    r = run(web(3), Create(), Settle(), HoldNotReady(1))
    pod = r.world.pods["web-2"]
    pod.labels[POD_NAME_LABEL] = "bogus"
    r.apply(Settle())
    assert pod.labels[POD_NAME_LABEL] == "bogus"
    r.apply(ReleasePod(1))
    assert pod.labels[POD_NAME_LABEL] == "web-2"


def _orphan(name: str, labels: dict[str, str], volumes: dict[str, str] | None = None) -> Pod:
    return Pod(name=name, labels=labels, owner_refs=[], hostname="", subdomain="",
               volumes=volumes or {}, template={}, phase="Running", ready=True, ready_since=0.0)


def test_id3_id11_noncanonical_name_repair_is_a_noop_next_to_the_canonical_pod() -> None:
    # kwok v1.37.2 (OnDelete): a hand-made web-01 was adopted, never relabelled, no sync
    # error; scaling still worked. (Which of web-1/web-01 holds slot 1 is free, ID-5.)
    r = run(web(3, policy="Parallel", strategy={"type": "OnDelete"}), Create(), Settle())
    r.world.add_pod(_orphan("web-01", {"app": "web"}))
    plan = sync(r.world, r.config)
    assert ("adopt_pod", "web-01") in [(a.verb, a.name) for a in plan.actions]
    assert not plan.error
    assert not any(a.verb == "update_pod_identity" for a in plan.actions)
    r.apply(Scale(4))
    assert "web-3" in pods(r) and "web-01" in pods(r)


def test_id3_id11_noncanonical_name_alone_in_its_slot_errors() -> None:
    # Derived from the v1.37.2 code path seen on kwok: the repaired copy is PUT as web-1, which
    # does not exist -> NotFound -> the sync errors (not run on the cluster).
    r = run(web(3, policy="Parallel", strategy={"type": "OnDelete"}), Create(), Settle())
    r.world.remove(r.world.pods["web-1"])
    r.world.add_pod(_orphan("web-01", {"app": "web"}, {"data": "data-web-1"}))
    plan = sync(r.world, r.config)
    assert plan.error == 'pods "web-1" not found'
    assert not any(a.verb == "create_pod" for a in plan.actions)


def test_id12_adopted_pod_with_wrong_volumes_errors_every_sync_and_blocks_later_batches() -> None:
    # kwok v1.37.2: a hand-made redis-2 without volumes, relabelled to match, was adopted in
    # 0.03 s; then "FailedUpdate ... spec: Forbidden: pod updates may not change fields other
    # than ..." (3 events in 15 s), its labels were not repaired, and scaling 3 -> 4 created
    # nothing (the failing batch stops the later ones, #141057).
    r = run(web(2, policy="Parallel"), Create(), Settle())
    r.world.add_pod(_orphan("web-2", {"app": "web"}))
    r.apply(Scale(3))
    plan = sync(r.world, r.config)
    assert "pod updates may not change fields" in plan.error
    assert POD_NAME_LABEL not in r.world.pods["web-2"].labels
    r.apply(Scale(4))
    assert pods(r) == ["web-0", "web-1", "web-2"]


def test_id13_released_pod_blocks_its_ordinal_until_relabelled() -> None:
    # kwok v1.37.2 (OrderedReady): redis-1 relabelled app=other was released in 0.02 s; nothing
    # was created for 10 s, scale 3 -> 4 created nothing; relabelled back -> re-adopted and
    # settled at 4 pods in 0.61 s.
    r = run(web(3), Create(), Settle())
    r.world.pods["web-1"].labels["app"] = "other"
    r.apply(Settle())
    assert r.world.pods["web-1"].owner_refs == []
    assert _sts(r).status.replicas == 2
    r.apply(Scale(4))
    assert pods(r) == ["web-0", "web-1", "web-2"]
    r.world.pods["web-1"].labels["app"] = "web"
    r.apply(Settle())
    assert pods(r) == ["web-0", "web-1", "web-2", "web-3"]


def test_id13_unlabel_pod_releases_the_pod_and_relabel_pod_adopts_it_again() -> None:
    # The same facts through the ops a scenario draws (UnlabelPod, RelabelPod).
    r = run(web(3), Create(), Settle(), UnlabelPod(1), Settle())
    orphan = r.world.pods["web-1"]
    assert orphan.labels["app"] == OUT_OF_SET and orphan.owner_refs == []
    assert _sts(r).status.replicas == 2
    r.apply(Scale(4))
    assert pods(r) == ["web-0", "web-1", "web-2"]  # OrderedReady stops at the clash
    r.apply(RelabelPod(1))
    r.apply(Settle())
    assert pods(r) == ["web-0", "web-1", "web-2", "web-3"]
    assert r.world.pods["web-1"].controller_uid() == _sts(r).uid
    assert run_safety_checks(r.history) == run_quiescent_checks(r.history) == []


def test_id13_an_unlabelled_pod_outlives_its_set_and_blocks_the_new_one_until_relabelled() -> None:
    # No ownerRef, so the garbage collector leaves the orphan when the set goes; the new set's
    # create of web-0 fails (AlreadyExists) in the first slow-start batch, so web-1 waits too
    # (#141057); relabelled, web-0 is adopted (ID-18) and web-1 created.
    r = run(web(2, policy="Parallel"), Create(), Settle(), UnlabelPod(0), Settle(),
            DeleteSet("Background"), Settle())
    assert pods(r) == ["web-0"]
    r.apply(RecreateSet())
    r.apply(Settle())
    assert pods(r) == ["web-0"] and r.world.pods["web-0"].owner_refs == []
    r.apply(RelabelPod(0))
    r.apply(Settle())
    assert pods(r) == ["web-0", "web-1"]
    assert r.world.pods["web-0"].controller_uid() == _sts(r).uid
    assert run_safety_checks(r.history) == run_quiescent_checks(r.history) == []


def test_id14_a_pod_marked_stale_counts_neither_and_a_rolling_update_replaces_it() -> None:
    # The controller reads a pod's revision from its label alone: RollingUpdate deletes and
    # re-creates a pod whose label names no revision, even with no rollout under way; OnDelete
    # and a partition above the pod leave it, counted as neither current nor updated.
    for strategy, replaced in (({"type": "RollingUpdate"}, True), ({"type": "OnDelete"}, False),
                               ({"type": "RollingUpdate", "rollingUpdate": {"partition": 2}},
                                False)):
        r = run(web(3, strategy=strategy), Create(), Settle(), MarkPodStale(1), Settle())
        status = _sts(r).status
        assert pod_events(r, "DELETED") == (["web-1"] if replaced else []), strategy
        assert (revisions(r)["web-1"] == STALE_REVISION) != replaced
        assert status.current_replicas == status.updated_replicas == (3 if replaced else 2)
        assert run_safety_checks(r.history) == run_quiescent_checks(r.history) == []


def test_id13_orphan_with_foreign_labels_blocks_ordinal_but_its_claim_is_created() -> None:
    # kwok v1.37.2: scale 2 -> 3 next to a hand-made, non-matching redis-2: no pod, no
    # FailedCreate event, but the claim redis-data-redis-2 was created (STO-3 runs first).
    r = run(web(2, policy="Parallel"), Create(), Settle())
    r.world.add_pod(_orphan("web-2", {"app": "other"}))
    r.apply(Scale(3))
    assert "data-web-2" in r.world.claims
    assert r.world.pods["web-2"].owner_refs == []
    assert _sts(r).status.replicas == 2


# -- ORD-4, STO-5, STO-9, STO-12 -------------------------------------------------------------------
def test_ord4_two_unhealthy_condemned_pods_block_until_the_lower_recovers() -> None:
    # kwok v1.37.2: 5 -> 2 with redis-2 and redis-3 NotReady: redis-4 deleted, 2 and 3 stayed
    # for 10 s; releasing redis-2 settled at 2 pods in 0.56 s.
    r = run(web(5), Create(), Settle(), HoldNotReady(2), HoldNotReady(3), Scale(2))
    assert pods(r) == ["web-0", "web-1", "web-2", "web-3"]
    r.apply(ReleasePod(2))
    assert pods(r) == ["web-0", "web-1"]


def test_sto5_pending_pod_gets_its_deleted_claim_recreated() -> None:
    # kwok v1.37.2 (nodes cordoned): the claim of the Pending redis-2 was removed 0.08 s after
    # its deletion (an unscheduled pod does not hold it) and recreated 0.02 s later.
    r = ModelRun(web(2, policy="Parallel"), chooser=NoDrain())
    r.apply(Create())
    apply_plan(r.world, sync(r.world, r.config))  # claims and pods created, nothing started
    assert r.world.pods["web-1"].phase == "Pending"
    r.apply(DeletePVC(1))
    old_uid = r.world.claims["data-web-1"].uid
    for action in env_actions(r.world):
        if action.verb == "remove_claim":
            apply_env(r.world, action)
    assert "data-web-1" not in r.world.claims
    plan = sync(r.world, r.config)
    assert ("create_claim", "data-web-1", "STO-5") in [(a.verb, a.name, a.rule)
                                                      for a in plan.actions]
    apply_plan(r.world, plan)
    assert r.world.claims["data-web-1"].uid != old_uid


def test_sto9_retention_change_after_scale_down_leaves_orphaned_claims_alone() -> None:
    # kwok v1.37.2: 3 -> 1, then Delete/Delete: only redis-data-redis-0 got the set ref.
    r = run(web(3, policy="Parallel"), Create(), Settle(), Scale(1), Settle(),
            SetRetention("Delete", "Delete"), Settle())
    refs = {n: [(o.kind, o.name, o.controller) for o in c.owner_refs]
            for n, c in sorted(r.world.claims.items())}
    assert refs == {"data-web-0": [("StatefulSet", "web", True)], "data-web-1": [],
                    "data-web-2": []}


def test_sto12_stale_claim_skips_creation_without_error() -> None:
    # kwok v1.37.2: with the old claim held Terminating (stale Pod ref), scale 2 -> 3 created no
    # pod for 10 s and the sync did not error; after the claim went, nothing happened for 60 s
    # until an unrelated pod event triggered a sync (T-9: PVC events trigger nothing).
    r = run(web(3, policy="Parallel", retention=("Retain", "Delete")), Create(), Settle())
    r.chooser = NoDrain()
    r.apply(Scale(2))
    plan = sync(r.world, r.config)
    apply_plan(r.world, plan)
    claim = r.world.claims["data-web-2"]
    assert [o.kind for o in claim.owner_refs] == ["Pod"]
    _remove_terminating_pods(r)
    claim.deleted = r.world.now  # the GC deleted it; a finalizer keeps it
    r.apply(Scale(3))
    plan = sync(r.world, r.config)
    assert not plan.error
    assert not any(a.verb == "create_pod" for a in plan.actions)
    r.world.remove(claim)
    r.apply(Settle())
    assert "web-2" in pods(r)


# -- REV-12 / VAL-7 --------------------------------------------------------------------------------
def test_rev12_negative_history_limit_is_accepted_and_keeps_everything() -> None:
    # kwok v1.37.2: create with -5 and patch to -1 were accepted (with the warning); after five
    # template changes 6 ControllerRevisions remained.
    config = ModelConfig()
    assert validate_create(default_statefulset(web(1, history_limit=-5).statefulset, config),
                           config) == []
    ops: list[Op] = [Create(), Settle()]
    for i in range(5):
        ops += [SetTemplate("image", f"app:{i + 2}"), Settle()]
    r = run(web(2, policy="Parallel", history_limit=-1), *ops)
    assert len(r.world.revisions) == 6


def test_rev11_history_limit_counts_non_live_revisions() -> None:
    # kwok v1.37.2: limit 1 kept revisions [5, 6], limit 0 kept [6] (6 = current = update).
    for limit, kept in ((1, [5, 6]), (0, [6])):
        ops: list[Op] = [Create(), Settle()]
        for i in range(5):
            ops += [SetTemplate("image", f"app:{i + 2}"), Settle()]
        r = run(web(2, policy="Parallel", history_limit=limit), *ops)
        assert sorted(rev.revision for rev in r.world.revisions.values()) == kept


def test_rev11_a_lowered_history_limit_prunes_at_the_next_sync() -> None:
    # kwok v1.37.2 (docs/unconfirmed-settled.md, 13.3): the limit patched to -1, five template
    # changes (6 revisions), then patched to 1 kept [5, 6] and to 0 kept [6]; the patch alone
    # queues the sync that prunes (the set's update handler).
    ops: list[Op] = [Create(), Settle(), SetHistoryLimit(-1), Settle()]
    for i in range(5):
        ops += [SetTemplate("image", f"app:{i + 2}"), Settle()]
    r = run(web(2, policy="Parallel"), *ops)
    assert len(r.world.revisions) == 6
    for limit, kept in ((1, [5, 6]), (0, [6]), (-1, [6])):
        r.apply(SetHistoryLimit(limit))
        r.apply(Settle())
        assert sorted(rev.revision for rev in r.world.revisions.values()) == kept, limit


def test_val7_137_one_immutable_cause_per_changed_field() -> None:
    # kwok v1.37.2: serviceName + podManagementPolicy changed together -> 422 with two causes,
    # FieldValueInvalid at spec.serviceName and spec.podManagementPolicy, "field is immutable".
    config = ModelConfig()
    old = default_statefulset(web(1, policy="Parallel").statefulset, config)
    new = default_statefulset(web(1, policy="OrderedReady").statefulset, config)
    new["spec"]["serviceName"] = "other"
    causes = validate_update(old, new, config)
    assert [(c.field, c.type) for c in causes] == [
        ("spec.serviceName", "FieldValueInvalid"),
        ("spec.podManagementPolicy", "FieldValueInvalid")]
    assert all("field is immutable" in c.message for c in causes)
    new = default_statefulset(web(1, policy="Parallel").statefulset, config)
    new["spec"]["revisionHistoryLimit"] = 3
    new["spec"]["minReadySeconds"] = 2
    assert validate_update(old, new, config) == []


def test_del1_a_deletion_that_leaves_the_set_in_place_bumps_its_generation() -> None:
    """Seen on kwok v1.37.2 (a CI fault run): a Foreground delete held up by a pod's finalizer
    left the set with generation + 1. The apiserver bumps metadata.generation when it first
    sets deletionTimestamp on an object that stays (the generic store's markAsDeleting); the
    model kept the old generation, and the comparison waited its deadline out."""
    for propagation in ("Foreground", "Orphan"):
        r = ModelRun(web(replicas=2), GATE_OFF, NoDrain())  # the state right after the op
        for op in (Create(), Settle(), HoldTerminating(0), DeleteSet(propagation)):
            r.apply(op)
        assert r.world.sts is not None and r.world.sts.deleted is not None
        assert r.world.sts.generation == 2, propagation


def test_del1_a_second_delete_replaces_the_deletion_policy() -> None:
    """Seen on kwok v1.37.2 (a CI fault run, 2026-12-06): a Background delete of a set whose
    Foreground deletion waited for a pod held Terminating removed the set at once; the model
    had treated the second DELETE as a no-op and waited for a set the cluster no longer had.
    The apiserver swaps the garbage collector's finalizers for those of the new policy
    (deletionFinalizersForGarbageCollection); the same policy again changes nothing."""
    def deleting(*again: DeleteSet) -> ModelRun:
        r = ModelRun(web(replicas=2), GATE_OFF, NoDrain())
        for op in (Create(), Settle(), HoldTerminating(0), DeleteSet("Foreground"), *again):
            r.apply(op)
        return r

    assert deleting(DeleteSet("Background")).world.sts is None  # at once: no finalizer left
    r = run(web(replicas=2), Create(), Settle(), HoldTerminating(0), DeleteSet("Foreground"),
            DeleteSet("Background"), Settle())
    assert sorted(r.world.pods) == ["web-0"]
    held = r.world.pods["web-0"]
    assert held.deleted is not None and held.owner_refs  # still Terminating, its ref dangling
    r = deleting(DeleteSet("Orphan"))
    assert r.world.sts is not None and r.world.sts.finalizers == ["orphan"]
    assert r.world.sts.generation == 2  # deletionTimestamp was already set: no second bump
    r = deleting(DeleteSet("Foreground"))
    assert r.world.sts is not None and r.world.sts.finalizers == ["foregroundDeletion"]
    # and the Orphan switch then orphans the held pod and lets the set go (DEL-1)
    r = run(web(replicas=2), Create(), Settle(), HoldTerminating(0), DeleteSet("Foreground"),
            DeleteSet("Orphan"), Settle())
    assert r.world.sts is None
    assert r.world.pods["web-0"].owner_refs == []
