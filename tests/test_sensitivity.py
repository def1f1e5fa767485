"""Sensitivity: hand-broken Histories, each caught by the named check, naming the pod.

Each history is correct except for one planted bug; the test asserts which check catches it
and that the explanation names the pod involved, so a person can act on the report.
"""

from __future__ import annotations

from typing import Any

from sts_props.checks import (
    Violation,
    check_quiescent,
    compare_histories,
    run_quiescent_checks,
    run_safety_checks,
)
from tests.histories import HistoryBuilder


def _up(**kwargs: Any) -> HistoryBuilder:
    return HistoryBuilder("web", **kwargs).create_set().bring_up().settle()


def _by(vs: list[Violation], check: str) -> list[Violation]:
    return [v for v in vs if v.check == check]


def test_a_chk3_pod_2_created_while_pod_1_not_ready() -> None:
    hb = HistoryBuilder("web").create_set()
    hb.pod_up(0).pod_added(1).pod_added(2)  # bug: web-2 before web-1 is Ready
    hb.pod_ready(1).pod_ready(2).settle()
    vs = run_safety_checks(hb.build())
    assert [v.check for v in vs] == ["CHK-3"]
    assert "web-2" in vs[0].message and "web-1" in vs[0].message


def test_b_chk6_update_deletes_lowest_ordinal_first() -> None:
    hb = _up()
    hb.set_template("b").roll(order=[0, 2, 1]).settle()  # bug: web-0 first
    vs = run_safety_checks(hb.build())
    assert {v.check for v in vs} == {"CHK-6"}
    assert "web-2" in vs[0].message and "web-0" in vs[0].message
    assert run_quiescent_checks(hb.build()) == []  # the end state is fine: only order was wrong


def test_c_wrong_claim_sto1_caught_by_chk8_and_quiescent_id12() -> None:
    hb = HistoryBuilder("web").create_set().pod_up(0)
    hb.claim_added(1, name="data-web-01")  # bug: the claim is misnamed...
    hb.pod_up(1, claims=False, volumes={"data": "data-web-01"})  # ...and mounted
    hb.pod_up(2).settle()
    vs = run_safety_checks(hb.build())
    assert {v.check for v in vs} == {"CHK-8"}
    assert all("web-1" in v.message for v in vs)
    assert {v.rule for v in vs} == {"CHK-8/STO-6", "CHK-8/STO-3"}
    q = run_quiescent_checks(hb.build())
    assert {v.rule for v in q} == {"Q/ID-12", "Q/STO-3"}
    assert all("web-1" in v.message for v in q)


def test_c_pod_volume_points_at_a_neighbours_claim() -> None:
    hb = HistoryBuilder("web").create_set().pod_up(0)
    hb.claim_added(1).pod_up(1, claims=False, volumes={"data": "data-web-0"})
    hb.pod_up(2).settle()
    assert [v.rule for v in run_safety_checks(hb.build())] == ["CHK-8/STO-6"]
    q = run_quiescent_checks(hb.build())
    assert [v.rule for v in q] == ["Q/ID-12"] and "web-1" in q[0].message


def test_d_chk7_partition_ignored() -> None:
    hb = _up(partition=2)
    hb.set_template("b").roll(order=[2, 1, 0]).settle()  # bug: partition 2 not honoured
    vs = _by(run_safety_checks(hb.build()), "CHK-7")
    deleted = [v for v in vs if v.rule == "CHK-7/UPD-2"]
    assert [("web-1" in v.message, "web-0" in v.message) for v in deleted] == [
        (True, False),
        (False, True),
    ]


def test_e_chk1_pod_recreated_under_new_name() -> None:
    hb = _up()
    hb.set_template("b").roll(order=[2])
    hb.pod_deleted(1).pod_up(1, name="web-01", revision=hb.update_revision)  # bug: web-01
    hb.settle()
    vs = _by(run_safety_checks(hb.build()), "CHK-1")
    assert vs and all("web-01" in v.message for v in vs)
    q = check_quiescent(hb.build(), hb.seq)
    assert any(v.rule == "Q/ID-1" and "web-01" in v.message for v in q)
    assert any(v.rule == "Q/ID-2" and "web-1" in v.message for v in q)


def test_f_chk4_scale_down_deleting_ascending() -> None:
    hb = _up(replicas=5)
    hb.scale_down(2, order=[2, 3, 4]).settle()  # bug: ascending
    vs = run_safety_checks(hb.build())
    assert {v.check for v in vs} == {"CHK-4"}
    assert "web-2" in vs[0].message and "web-4" in vs[0].message


def test_g_chk2_pod_created_out_of_range() -> None:
    hb = _up()
    hb.pod_up(3).sync_status().quiescent()  # bug: replicas is 3, so ordinal 3 is out of range
    vs = run_safety_checks(hb.build())
    assert [v.check for v in vs] == ["CHK-2"] and "web-3" in vs[0].message
    q = check_quiescent(hb.build(), hb.seq)
    assert any(v.rule == "Q/ID-2" and "web-3" in v.message for v in q)


def test_h_chk9_in_range_claim_gets_pod_owner_ref() -> None:
    hb = _up(retention=("Retain", "Delete"))
    pod = hb.pod(1)["metadata"]
    hb.claim_refs(  # bug: a pod ref on the claim of an in-range pod
        "data-web-1",
        [{"kind": "Pod", "name": pod["name"], "uid": pod["uid"], "controller": True}],
    ).quiescent()
    vs = run_safety_checks(hb.build())
    assert [v.check for v in vs] == ["CHK-9"] and "web-1" in vs[0].message
    q = check_quiescent(hb.build(), hb.seq)
    assert [v.rule for v in q] == ["Q/STO-8"] and "web-1" in q[0].message


def test_h_chk11_pod_counted_available_half_a_second_after_ready() -> None:
    hb = HistoryBuilder("web", replicas=1, min_ready_seconds=5, backend="kwok", granularity=1.0,
                        k8s_version="v1.37.2", step=0.25).create_set()
    hb.pod_up(0).wait(0.25).sync_status(availableReplicas=1)  # bug: Ready for 0.5 s, not 5
    vs = run_safety_checks(hb.build())
    # CHK-10 (status honesty) sees the same lie from its side: no state of the window had an
    # available pod
    assert [v.rule for v in vs] == ["CHK-10/ST-3", "CHK-11/ST-3"]
    assert all("web-0" in v.message or "available" in v.message for v in vs)
    assert "web-0" in vs[1].message


def test_h_chk12_update_deletes_one_second_after_updated_pod_ready() -> None:
    hb = HistoryBuilder("web", policy="Parallel", max_unavailable=1, min_ready_seconds=5,
                        backend="kwok", granularity=1.0, k8s_version="v1.37.2",
                        step=0.25).create_set()
    for o in range(3):
        hb.pod_up(o).wait(5)
    hb.settle().set_template("b")
    hb.pod_deleted(2).sync_status().pod_up(2, revision=hb.update_revision).sync_status()
    hb.wait(0.5).pod_deleted(1)  # bug: web-2 (updated) Ready for 1 s, not 5
    vs = run_safety_checks(hb.build())
    assert [v.rule for v in vs] == ["CHK-12/UPD-1"]
    assert "pod web-1" in vs[0].message and "updated pod web-2" in vs[0].message


def test_i_quiescent_ready_replicas_wrong() -> None:
    hb = _up()
    hb.hold(2).sync_status(readyReplicas=3).quiescent()  # bug: web-2 is not Ready
    q = check_quiescent(hb.build(), hb.seq)
    assert [v.rule for v in q] == ["Q/ST-2"]
    assert "readyReplicas is 3" in q[0].message and "web-0, web-1" in q[0].message
    assert run_safety_checks(hb.build()) == []


def test_j_compare_model_and_cluster_disagree_on_a_pods_revision() -> None:
    def run(hb: HistoryBuilder, rolled: list[int]) -> HistoryBuilder:
        hb.create_set().bring_up().settle()
        return hb.set_template("b").roll(order=rolled).settle()

    model = run(HistoryBuilder("web"), [2, 1, 0])
    cluster = run(
        HistoryBuilder("web", backend="kwok", granularity=1.0, rev_prefix="k", uid_salt="k"),
        [2, 0],  # bug on the cluster side: web-1 is not recreated at the new revision
    )
    vs = compare_histories(model.build(), cluster.build())
    pod = [v for v in vs if v.rule == "CMP/UPD-6"]
    assert len(pod) == 1 and "web-1" in pod[0].message
    assert "'r2' in the model but 'r1' on the cluster" in pod[0].message
