"""Model vs cluster comparison: equal modulo named nondeterminism, and differences explained."""

from __future__ import annotations

from collections.abc import Callable

from sts_props.checks import (
    Difference,
    compare_histories,
    compare_states,
    quiescent_view,
    revision_symbols,
)
from sts_props.history import History, StateWalk
from tests.histories import HistoryBuilder

Script = Callable[[HistoryBuilder], object]


def _pair(script: Script, cluster_script: Script | None = None) -> tuple[History, History]:
    """The same script on a "model" and a "cluster" builder (other hashes, uids, clock)."""
    model = HistoryBuilder("web")
    cluster = HistoryBuilder(
        "web", backend="kwok", granularity=1.0, rev_prefix="kwok", uid_salt="k", step=0.5
    )
    script(model)
    (cluster_script or script)(cluster)
    return model.build(), cluster.build()


def _lifecycle(hb: HistoryBuilder) -> None:
    hb.create_set().bring_up().endpoint_slice().settle()
    hb.set_template("b").roll().settle()
    hb.revert_template(0).roll().settle()  # rollback reuses revision r1 (REV-7)
    hb.scale_down(1).settle()


def test_cmp_equal_runs_have_no_differences() -> None:
    model, cluster = _pair(_lifecycle)
    assert compare_histories(model, cluster) == []


def test_cmp_revision_symbols_follow_template_order() -> None:
    model, cluster = _pair(_lifecycle)
    msym, csym = revision_symbols(model), revision_symbols(cluster)
    assert sorted(msym.values()) == sorted(csym.values()) == ["r1", "r2"]
    assert set(msym).isdisjoint(csym)  # the names themselves differ (T-10)


def test_cmp_flags_differing_pod_revision() -> None:
    def cluster(hb: HistoryBuilder) -> None:
        hb.create_set().bring_up().settle()
        hb.set_template("b").roll(order=[2, 1]).settle()  # web-0 left at r1

    def model(hb: HistoryBuilder) -> None:
        hb.create_set().bring_up().settle()
        hb.set_template("b").roll().settle()

    vs = compare_histories(*_pair(model, cluster))
    pod = [v for v in vs if "web-0" in v.message]
    assert pod and pod[0].rule == "CMP/UPD-6"
    assert "'r2' in the model" in pod[0].message and "'r1' on the cluster" in pod[0].message


def test_cmp_volume_order_harness_annotations_and_slice_names_are_ignored() -> None:
    def model(hb: HistoryBuilder) -> None:
        hb.create_set().bring_up().endpoint_slice("web-aaaaa").settle()

    def cluster(hb: HistoryBuilder) -> None:
        hb.create_set().bring_up()
        hb.pod(1)["spec"]["volumes"].reverse()
        hb.pod(1)["metadata"]["annotations"]["sts-props.io/seen"] = "yes"
        hb.pod_ready(1).endpoint_slice("web-zzzzz").settle()

    model_h = HistoryBuilder("web", templates=("data", "logs"))
    cluster_h = HistoryBuilder("web", templates=("data", "logs"), rev_prefix="x", uid_salt="x")
    model(model_h)
    cluster(cluster_h)
    assert compare_histories(model_h.build(), cluster_h.build()) == []


def test_cmp_uids_compared_only_as_relations() -> None:
    def model(hb: HistoryBuilder) -> None:
        hb.create_set().bring_up().settle()
        hb.delete_pod(1).pod_up(1).settle()

    def cluster(hb: HistoryBuilder) -> None:
        hb.create_set().bring_up().settle()
        hb.delete_pod(1).claim_deleted("data-web-1").pod_up(1).settle()  # claim recreated

    vs = compare_histories(*_pair(model, cluster))
    assert [v.rule for v in vs] == ["CMP/STO-7"]
    assert "data-web-1" in vs[0].message


def test_cmp_flags_missing_pod_and_status() -> None:
    def cluster(hb: HistoryBuilder) -> None:
        hb.create_set().bring_up([0, 1]).settle()

    vs = compare_histories(*_pair(lambda hb: hb.create_set().bring_up().settle(), cluster))
    rules = {v.rule for v in vs}
    assert "CMP/ID-2" in rules and "CMP/ST-1" in rules
    assert any("Pod web-2 exists in the model but not on the cluster" in v.message for v in vs)


def test_cmp_compares_op_outcomes() -> None:
    def model(hb: HistoryBuilder) -> None:
        hb.create_set().bring_up().settle()
        hb.fail(hb.invoke("scale", replicas=-1), causes=[("spec.replicas", "FieldValueInvalid")])
        hb.fail(hb.invoke("set_partition", partition=-1),
                causes=[("spec.updateStrategy.rollingUpdate.partition", "FieldValueInvalid")])
        hb.info(hb.invoke("scale", replicas=2))

    def cluster(hb: HistoryBuilder) -> None:
        hb.create_set().bring_up().settle()
        hb.ok(hb.invoke("scale", replicas=-1))
        hb.fail(hb.invoke("set_partition", partition=-1),
                causes=[("spec.updateStrategy", "FieldValueForbidden")])
        hb.ok(hb.invoke("scale", replicas=2))  # indeterminate on the model side: not compared

    vs = compare_histories(*_pair(model, cluster))
    assert [v.rule for v in vs] == ["CMP/VAL-8", "CMP/VAL-8"]
    assert "Op 1 (scale to -1) was rejected 422 Invalid" in vs[0].message
    assert "accepted on the cluster" in vs[0].message
    assert "causes" in vs[1].message and "FieldValueForbidden" in vs[1].message


def test_cmp_pairs_quiescent_records_by_after_op() -> None:
    def model(hb: HistoryBuilder) -> None:
        hb.create_set().bring_up().settle()
        hb.scale(2).quiescent(settled=False, reason="timeout")

    def cluster(hb: HistoryBuilder) -> None:
        hb.create_set().bring_up().settle()
        hb.scale(2).settle()

    # Only the first pair is settled on both sides; the second is not compared.
    assert compare_histories(*_pair(model, cluster)) == []


def test_cmp_compare_states_explains_each_difference() -> None:
    left = {"set": {"exists": True}, "pods": {"web-0": {"phase": "Running"}}, "pvcs": {}}
    right = {"set": {"exists": False}, "pods": {"web-0": {"phase": "Pending"}}, "pvcs": {}}
    diffs = compare_states(left, right, "model", "kwok")
    assert diffs == [
        Difference("set/exists", True, False,
                   "The StatefulSet exists in the model but does not exist on the kwok."),
        Difference("pods/web-0/phase", "Running", "Pending",
                   "Pod web-0 has phase 'Running' in the model but 'Pending' on the kwok."),
    ]


def test_cmp_view_masks_revision_names() -> None:
    hb = HistoryBuilder("web").create_set().bring_up().settle()
    view = quiescent_view(hb.build(), hb.seq)
    assert view["set"]["status.updateRevision"] == "r1"
    assert {p["revision"] for p in view["pods"].values()} == {"r1"}
    assert "controller-revision-hash" not in view["pods"]["web-0"]["labels"]
    assert view["revisions"] == ["r1"]


def test_cmp_blocked_states_compare_identity_only() -> None:
    # Under OrderedReady a held pod stops creation above it; which pods above it exist
    # depends on when the hold landed, so only identity is compared (BASIC).
    def model(hb: HistoryBuilder) -> None:
        hb.create_set().bring_up().settle()
        hb.hold(1).scale(5).sync_status().settle()

    def cluster(hb: HistoryBuilder) -> None:
        hb.create_set().bring_up().settle()
        hb.scale(5).sync_status().pod_up(3).hold(1).settle()

    assert compare_histories(*_pair(model, cluster)) == []

    def cluster_bad(hb: HistoryBuilder) -> None:
        cluster(hb)
        hb.pod(0)["spec"]["subdomain"] = "elsewhere"
        hb.pod_ready(0).settle()

    def model_more(hb: HistoryBuilder) -> None:
        model(hb)
        hb.settle()

    vs = compare_histories(*_pair(model_more, cluster_bad))
    assert [v.rule for v in vs] == ["CMP/ID-8"] and "web-0" in vs[0].message


def test_cmp_path_dependent_revisions_need_a_single_op_segment() -> None:
    # Two ops between settles: whether web-0 (below the partition) was recreated in between
    # depends on timing, so its revision is not compared (TARGET) ...
    def model(hb: HistoryBuilder) -> None:
        hb.create_set().bring_up().settle()
        hb.set_template("b").set_partition(1).sync_status().roll().settle()

    def cluster(hb: HistoryBuilder) -> None:
        hb.create_set().bring_up().settle()
        hb.set_template("b").roll(order=[2, 1, 0]).set_partition(1).settle()

    assert compare_histories(*_pair(model, cluster)) == []

    # ... but after a single op from an equal state it is (FULL).
    def cluster_one_op(hb: HistoryBuilder) -> None:
        hb.create_set().bring_up().settle()
        hb.set_partition(1).sync_status().settle()
        hb.set_template("b").roll(order=[2, 1, 0]).settle()

    def model_one_op(hb: HistoryBuilder) -> None:
        hb.create_set().bring_up().settle()
        hb.set_partition(1).sync_status().settle()
        hb.set_template("b").roll().settle()

    vs = compare_histories(*_pair(model_one_op, cluster_one_op))
    assert any(v.rule == "CMP/UPD-6" and "web-0" in v.message for v in vs)


def test_cmp_not_found_answers_compared_only_from_an_equal_state() -> None:
    def model(hb: HistoryBuilder) -> None:
        hb.create_set().bring_up().settle()
        hb.scale(5).sync_status().bring_up([3, 4])
        hb.delete_pod(4).pod_up(4).settle()

    def cluster(hb: HistoryBuilder) -> None:
        hb.create_set().bring_up().settle()
        hb.scale(5).sync_status()
        hb.fail(hb.invoke("delete_pod", ordinal=4), code=404, reason="NotFound")
        hb.bring_up([3, 4]).settle()

    assert compare_histories(*_pair(model, cluster)) == []  # the race is a timing freedom

    def cluster_settled(hb: HistoryBuilder) -> None:
        hb.create_set().bring_up().settle()
        hb.fail(hb.invoke("delete_pod", ordinal=2), code=404, reason="NotFound")
        hb.settle()

    def model_settled(hb: HistoryBuilder) -> None:
        hb.create_set().bring_up().settle()
        hb.delete_pod(2).pod_up(2).settle()

    vs = compare_histories(*_pair(model_settled, cluster_settled))
    assert sorted(v.rule for v in vs) == ["CMP/ID-1", "CMP/VAL-8"]  # ID-1: web-2 not restarted
    assert any("Op 1 (delete pod 2)" in v.message and "404 NotFound" in v.message for v in vs)


def test_cmp_flags_an_owner_reference_without_block_owner_deletion() -> None:
    """Issue 12 item 5: the flags of an ownerReference are compared, not only its target. A
    controller ref without blockOwnerDeletion (a Foreground delete of the set would no longer
    wait for the pod) differs from the model's."""
    def cluster(hb: HistoryBuilder) -> None:
        hb.create_set().bring_up()
        hb.pod(1)["metadata"]["ownerReferences"][0]["blockOwnerDeletion"] = False
        hb.pod_ready(1).settle()

    def model(hb: HistoryBuilder) -> None:
        hb.create_set().bring_up().settle()

    vs = compare_histories(*_pair(model, cluster))
    assert [v.rule for v in vs if "web-1" in v.message] == ["CMP/ID-15"]


def test_cmp_flags_claim_labels_and_owner_flags() -> None:
    """Claim labels (STO-2) and the flags of a claim's owner refs (STO-8) are compared."""
    def model(hb: HistoryBuilder) -> None:
        hb.create_set().bring_up()
        hb.claim_refs("data-web-0", [hb._set_ref()]).settle()

    def cluster(hb: HistoryBuilder) -> None:
        hb.create_set().bring_up()
        hb.pvcs["data-web-1"]["metadata"]["labels"]["app"] = "other"
        hb.claim_refs("data-web-0", [{**hb._set_ref(), "blockOwnerDeletion": False}])
        hb.claim_refs("data-web-1", hb.pvcs["data-web-1"]["metadata"]["ownerReferences"])
        hb.settle()

    vs = compare_histories(*_pair(model, cluster))
    assert sorted(v.rule for v in vs) == ["CMP/STO-2", "CMP/STO-8"], [v.message for v in vs]


def _scaled_down(collect: str) -> Script:
    """Three pods with whenScaled=Delete, a scale-down to 1, then one more op. ``collect``:
    when the garbage collector removes the two condemned pods' claims: "at once" (before the
    first point after the scale-down), "late" (between that point and the next), "never"."""
    def script(hb: HistoryBuilder) -> None:
        hb.create_set().bring_up().settle()
        hb.scale_down(1)
        gone = ("data-web-1", "data-web-2")
        if collect == "at once":
            for name in gone:
                hb.claim_deleted(name)
        hb.settle()
        hb.set_partition(0)
        if collect == "late":
            for name in gone:
                hb.claim_deleted(name)
        hb.settle()

    return script


def test_cmp_flags_a_claim_that_outlives_its_condemned_pod() -> None:
    """Issue 12, the when-scaled-delete-ignored mutant: claims of ordinals out of range are not
    compared (timing decides whether a briefly in-range ordinal got one), but one both sides
    agreed on while in range and that the model's garbage collector removed must be gone on
    the cluster by the next compared point (STO-10)."""
    def builders() -> tuple[HistoryBuilder, HistoryBuilder]:
        return (HistoryBuilder("web", retention=("Retain", "Delete")),
                HistoryBuilder("web", backend="kwok", granularity=1.0, rev_prefix="kwok",
                               uid_salt="k", step=0.5, retention=("Retain", "Delete")))

    def run(collect: str) -> list[str]:
        model, cluster = builders()
        _scaled_down("at once")(model)
        _scaled_down(collect)(cluster)
        return [v.message for v in compare_histories(model.build(), cluster.build())
                if v.rule == "CMP/STO-10"]

    assert run("at once") == []
    assert run("late") == []  # the garbage collector is late by one point: allowed
    flagged = run("never")
    assert len(flagged) == 2 and all("outlived its owner" in m for m in flagged), flagged
    assert "data-web-2" in flagged[0] + flagged[1]
    # a claim on its way out (deletionTimestamp set, held by PVC protection) is not lingering
    model, cluster = builders()
    _scaled_down("at once")(model)
    cluster.create_set().bring_up().settle()
    cluster.scale_down(1)
    for name in ("data-web-1", "data-web-2"):
        cluster.pvcs[name]["metadata"]["deletionTimestamp"] = cluster.t
        cluster.claim_refs(name, [])
    cluster.settle().set_partition(0)
    cluster.settle()
    assert not [v for v in compare_histories(model.build(), cluster.build())
                if v.rule == "CMP/STO-10"]


def test_cmp_views_from_one_walk_equal_views_replayed_from_the_start() -> None:
    # compare_histories and coverage.metrics_of view every quiescent point through one
    # StateWalk; each view must be the one a replay from the History's start gives.
    history, _ = _pair(_lifecycle)
    walk = StateWalk(history)
    points = [ev.seq for ev in history.quiescent_points()]
    assert len(points) >= 4
    previous = None
    for seq in points:
        assert quiescent_view(history, seq, previous, walk=walk) == quiescent_view(
            history, seq, previous)
        previous = seq
    # every record, then out of order: a record before the walk's position is replayed
    walk = StateWalk(history)
    seqs = [ev.seq for ev in history.events]
    for seq in seqs + seqs[::-3]:
        assert walk.state(seq) == history.state_at(seq)
