"""Timing checks CHK-11 (availability) and CHK-12 (update pacing) under minReadySeconds.

Hand-built Histories on both clocks: the model's (granularity 0, no skew: judged exactly) and a
cluster's (granularity 1 s, 1 s of skew between the harness's clock and the controller's). Each
rule has a broken History it flags, the honest one it passes, and its boundary: exactly at the
tolerance passes, a quarter second beyond is flagged (times are multiples of 0.25 s, so the
arithmetic is exact). Then the freedoms each rule leaves alone, and a property over generated
model scenarios with minReadySeconds > 0, with a model that ignores minReadySeconds as the
proof that the property can fail.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

import sts_props.model.controller as model_controller
from sts_props.checks import Violation, check_chk11, check_chk12, run_safety_checks
from sts_props.model.config import ModelConfig
from sts_props.model.runner import run_model
from sts_props.ops import Create, SetTemplate, Settle
from sts_props.scenario import Manifests, Scenario
from sts_props.strategies import DataChooser, scenarios
from tests.histories import HistoryBuilder

CLUSTER: dict[str, Any] = {"backend": "kwok", "granularity": 1.0, "k8s_version": "v1.37.2"}
MODEL: dict[str, Any] = {"backend": "model", "k8s_version": "v1.37.2"}


def _hb(clock: dict[str, Any], **kwargs: Any) -> HistoryBuilder:
    return HistoryBuilder("web", step=0.25, **clock, **kwargs)


def _rules(vs: list[Violation]) -> set[str]:
    return {v.rule for v in vs}


def _ready_since(hb: HistoryBuilder, ordinal: int) -> float:
    return float(hb.pod(ordinal)["status"]["readySince"])


def _slow_up(hb: HistoryBuilder, m: int) -> HistoryBuilder:
    """Create and ready every pod, each waiting minReadySeconds before the next (ORD-1)."""
    for o in range(hb.start, hb.start + hb.replicas):
        hb.pod_up(o).wait(m)
    return hb.settle()


def _roll(hb: HistoryBuilder, gap: float, order: list[int] | None = None) -> HistoryBuilder:
    """The rolling update from the top: delete, recreate, Ready, then ``gap`` seconds; the
    next deletion comes ``gap + 0.5`` s (two records) after the previous pod turned Ready."""
    for o in order if order is not None else range(hb.start + hb.replicas - 1, hb.start - 1, -1):
        hb.pod_deleted(o).sync_status()
        hb.pod_up(o, revision=hb.update_revision).sync_status()
        hb.wait(gap)
    return hb


# -- CHK-11 (a): no pod counted available before minReadySeconds --------------------------------
@pytest.mark.parametrize("clock", [CLUSTER, MODEL], ids=["cluster", "model"])
def test_chk11_flags_a_pod_counted_half_a_second_after_ready(clock: dict[str, Any]) -> None:
    hb = _hb(clock, replicas=1, min_ready_seconds=5).create_set()
    hb.pod_up(0).wait(0.25).sync_status(availableReplicas=1)  # bug: Ready only 0.5 s
    vs = check_chk11(hb.build())
    assert _rules(vs) == {"CHK-11/ST-3"}
    assert "availableReplicas=1" in vs[0].message and "web-0" in vs[0].message
    assert "0.50s before" in vs[0].message


@pytest.mark.parametrize(("clock", "at_boundary"), [(CLUSTER, 4.0), (MODEL, 5.0)],
                         ids=["cluster", "model"])
def test_chk11_boundary_is_ready_since_plus_min_ready_plus_skew(
        clock: dict[str, Any], at_boundary: float) -> None:
    """Counted at ``readySince + 5 - skew`` passes (cluster: 1 s of skew, no granularity: the
    controller reads the same truncated readySince); 0.25 s earlier is flagged."""
    for early, flagged in ((0.0, False), (0.25, True)):
        hb = _hb(clock, replicas=1, min_ready_seconds=5).create_set().pod_up(0)
        since = _ready_since(hb, 0)
        hb.wait(at_boundary - early - 0.25)  # the status record is the next one
        assert hb.t == since + at_boundary - early
        hb.sync_status(availableReplicas=1)
        assert bool(check_chk11(hb.build())) is flagged, (early, clock)


def test_chk11_passes_honest_statuses_of_a_whole_lifecycle() -> None:
    for clock in (CLUSTER, MODEL):
        hb = _slow_up(_hb(clock, min_ready_seconds=5).create_set(), 5)
        hb.set_template("b")
        _roll(hb, gap=5).settle()
        hb.scale(5).sync_status()
        hb.pod_up(3).sync_status().wait(2).sync_status().wait(3).sync_status()
        h = hb.build()
        assert run_safety_checks(h) == [], clock
        assert any(ev.obj["status"].get("availableReplicas") for ev in h.objects("StatefulSet"))


def test_chk11_reads_min_ready_of_the_generation_the_status_observed() -> None:
    """Raising minReadySeconds: a status of the old generation may still count the pods at
    once (ST-7); one that claims the new generation may not."""
    for observed, flagged in ((1, False), (2, True)):
        hb = _hb(MODEL, replicas=2, min_ready_seconds=0).create_set().bring_up()
        hb.edit("set_min_ready_seconds", {"minReadySeconds": 5}, seconds=5)
        hb.sync_status(observedGeneration=observed, availableReplicas=2)
        assert bool(check_chk11(hb.build())) is flagged


def test_chk11_counts_one_pod_per_name() -> None:
    """web-0 was available, was deleted and is back, Ready for 0.5 s: one name, one pod, even
    if the controller's cache still held the old one."""
    hb = _hb(CLUSTER, replicas=1, min_ready_seconds=5).create_set().pod_up(0).wait(6).settle()
    hb.delete_pod(0).sync_status().pod_up(0).sync_status(availableReplicas=1)
    assert check_chk11(hb.build()) == []
    hb.sync_status(availableReplicas=2)  # ...but never two
    assert _rules(check_chk11(hb.build())) == {"CHK-11/ST-3"}


def test_chk11_cluster_accepts_a_later_snapshot_as_timestamp_proof() -> None:
    """A watch relist can deliver the Ready snapshot after the status that counted it; on a
    cluster its readySince proves it; the model's History is exact, so not there."""
    for clock, flagged in ((CLUSTER, False), (MODEL, True)):
        hb = _hb(clock, replicas=1, min_ready_seconds=5).create_set().pod_added(0)
        hb.pod(0)["status"].update(phase="Running", ready=True, readySince=hb.t - 10)
        hb.sync_status(availableReplicas=1)
        hb._modify(0)  # the Ready record, late
        assert bool(check_chk11(hb.build())) is flagged, clock


# -- CHK-11 (b): availableReplicas catches up -----------------------------------------------------
def _quiet(clock: dict[str, Any], catch_up: float | None, *, before: str = "",
           replicas: int = 1) -> HistoryBuilder:
    """One pod Ready with minReadySeconds 2, the status then written at ``catch_up`` seconds
    after readySince (None: never), 30 s of quiet, then a scale op."""
    hb = _hb(clock, replicas=replicas, min_ready_seconds=2).create_set().pod_added(0)
    if before:
        index = hb.invoke(before, **({"ordinal": 0} if before == "deny_pod_writes" else {}))
        hb.ok(index).wait(10)
    hb.pod_ready(0).sync_status()
    since = _ready_since(hb, 0)
    if catch_up is not None:
        hb.wait(since + catch_up - hb.t).sync_status()
    hb.wait(since + 30 - hb.t).invoke("scale", replicas=replicas)
    return hb


def test_chk11_flags_a_status_that_never_catches_up() -> None:
    vs = check_chk11(_quiet(CLUSTER, None).build())
    assert _rules(vs) == {"CHK-11/EX-2"}
    assert "availableReplicas was still 0" in vs[0].message and "web-0" in vs[0].message


def test_chk11_catch_up_deadline_depends_on_the_version() -> None:
    """v1.37: readySince + m 2 + re-sync max(m, 2 s) + granularity 1 + 5 s of load = +10 s;
    with no version known the re-sync is 2m + 2 s: +14 s."""
    assert check_chk11(_quiet(CLUSTER, 2.25).build()) == []
    assert check_chk11(_quiet(CLUSTER, 10.0).build()) == []
    assert _rules(check_chk11(_quiet(CLUSTER, 10.25).build())) == {"CHK-11/EX-2"}
    unknown = {**CLUSTER, "k8s_version": ""}
    assert check_chk11(_quiet(unknown, 12.0).build()) == []
    assert _rules(check_chk11(_quiet(unknown, 14.25).build())) == {"CHK-11/EX-2"}


def test_chk11_catch_up_is_not_judged_when_the_controller_may_be_held_up() -> None:
    # a restart 10 s before the pod turned Ready (leader election, informer lists)
    assert check_chk11(_quiet(CLUSTER, None, before="restart_controller").build()) == []
    # a denied pod write would fail every sync, and the queue backs off
    assert check_chk11(_quiet(CLUSTER, None, before="deny_pod_writes").build()) == []
    # a missing pod: the controller still has a create to make (it might fail)
    assert check_chk11(_quiet(CLUSTER, None, replicas=2).build()) == []


def test_chk11_catch_up_is_not_judged_in_a_short_window() -> None:
    hb = _hb(CLUSTER, replicas=1, min_ready_seconds=2).create_set().pod_up(0).sync_status()
    hb.wait(8).invoke("scale", replicas=1)  # ends 8.5 s after readySince: before the deadline
    assert check_chk11(hb.build()) == []


# -- CHK-12: the update moves on only after updated pods are available --------------------------
def _rollout(clock: dict[str, Any], gap: float, **kwargs: Any) -> HistoryBuilder:
    kwargs.setdefault("min_ready_seconds", 5)
    hb = _slow_up(_hb(clock, **kwargs).create_set(), 5).set_template("b")
    return _roll(hb, gap)


def test_chk12_flags_update_deletion_one_second_after_updated_pod_became_ready() -> None:
    for clock in (CLUSTER, MODEL):
        vs = run_safety_checks(_rollout(clock, gap=0.5).build())
        chk12 = [v for v in vs if v.check == "CHK-12"]
        assert chk12 and chk12[0].rule == "CHK-12/UPD-4"
        assert "web-1" in chk12[0].message and "updated pod web-2" in chk12[0].message
        assert "1.00s before" in chk12[0].message


@pytest.mark.parametrize(("clock", "boundary"), [(CLUSTER, 4.0), (MODEL, 5.0)],
                         ids=["cluster", "model"])
def test_chk12_boundary_is_ready_since_plus_min_ready_plus_skew(
        clock: dict[str, Any], boundary: float) -> None:
    assert check_chk12(_rollout(clock, gap=boundary - 0.5).build()) == []
    assert check_chk12(_rollout(clock, gap=boundary - 0.75).build()) != []


def test_chk12_parallel_with_max_unavailable_1_waits_for_updated_pods_above() -> None:
    parallel = {"policy": "Parallel", "max_unavailable": 1}
    vs = run_safety_checks(_rollout(CLUSTER, gap=0.5, **parallel).build())
    assert _rules(vs) == {"CHK-12/UPD-1"}  # CHK-5 does not judge Parallel
    assert check_chk12(_rollout(CLUSTER, gap=4.0, **parallel).build()) == []


def test_chk12_leaves_parallel_freedoms_alone() -> None:
    # maxUnavailable 2: the budget allows an unavailable updated pod (T-6)
    wide = {"policy": "Parallel", "max_unavailable": 2}
    assert check_chk12(_rollout(CLUSTER, gap=0.5, **wide).build()) == []
    # before v1.34 Parallel's update step waited for Ready only (#130909)
    old = {**CLUSTER, "k8s_version": "v1.33.5"}
    assert check_chk12(_rollout(old, gap=0.5, policy="Parallel", max_unavailable=1).build()) \
        == []
    # v1.37 replaces an old pod that is not available first, without a budget (#137666)
    def rolled(unready: bool) -> HistoryBuilder:
        hb = _slow_up(_hb(CLUSTER, policy="Parallel", max_unavailable=1,
                          min_ready_seconds=5).create_set(), 5).set_template("b")
        _roll(hb, gap=0.25, order=[2])
        hb.pod_unready(1) if unready else hb.wait(0.25)
        return _roll(hb, gap=5, order=[1, 0])  # web-1 goes 1 s after web-2 turned Ready

    assert _rules(check_chk12(rolled(False).build())) == {"CHK-12/UPD-1"}
    assert check_chk12(rolled(True).build()) == []


def test_chk12_ordered_batches_wait_for_the_previous_batch() -> None:
    """OrderedReady with maxUnavailable 2: two pods go at once (T-6), but the next batch waits
    until the recreated ones are available (RP-6); CHK-5 leaves maxUnavailable > 1 alone."""
    hb = _slow_up(_hb(CLUSTER, replicas=4, max_unavailable=2,
                      min_ready_seconds=5).create_set(), 5).set_template("b")
    hb.pod_deleted(3).pod_deleted(2).sync_status()
    hb.pod_up(2, revision=hb.update_revision).wait(5).pod_up(3, revision=hb.update_revision)
    hb.sync_status().wait(1)  # bug: web-3 Ready only 1.5 s
    hb.pod_deleted(1)
    vs = run_safety_checks(hb.build())
    assert _rules(vs) == {"CHK-12/UPD-4"} and "updated pod web-3" in vs[0].message


# -- generated model scenarios --------------------------------------------------------------------
def _with_min_ready(sc: Scenario, seconds: int) -> Scenario:
    sts = sc.manifests.statefulset
    sts["spec"]["minReadySeconds"] = seconds
    return dataclasses.replace(sc, manifests=sc.manifests.with_statefulset(sts))


@pytest.mark.parametrize("version", ["v1.33.5", "v1.36.3", "v1.37.2"])
@settings(max_examples=max(10, settings.default.max_examples // 3))
@given(sc=scenarios(), seconds=st.sampled_from([1, 2, 5]), data=st.data())
def test_model_histories_with_min_ready_seconds_keep_the_timing_rules(
        version: str, sc: Scenario, seconds: int, data: st.DataObject) -> None:
    """v1.33 (Parallel waits for Ready only), v1.36 (legacy update path), v1.37 (two-phase)."""
    sc = _with_min_ready(sc, seconds)
    note(sc.to_yaml())
    result = run_model(sc, ModelConfig.for_version(version), DataChooser(data))
    assert run_safety_checks(result.history, only=["CHK-11", "CHK-12"]) == []


def test_a_model_that_ignores_min_ready_seconds_is_caught(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The property above can fail: the model with PR-4's minReadySeconds dropped (like the
    controller mutant min-ready-seconds-ignored) counts and rolls pods too early."""
    manifests = Manifests.seed()
    sts = manifests.statefulset
    sts["spec"].update(replicas=3, minReadySeconds=5)
    sc = Scenario(manifests.with_statefulset(sts),
                  (Create(), Settle(), SetTemplate("image", "redis:7"), Settle()))
    assert run_safety_checks(run_model(sc).history, only=["CHK-11", "CHK-12"]) == []
    available = model_controller.available
    monkeypatch.setattr(model_controller, "available",
                        lambda pod, _m, now: available(pod, 0, now))
    rules = _rules(run_safety_checks(run_model(sc).history, only=["CHK-11", "CHK-12"]))
    assert rules == {"CHK-11/ST-3", "CHK-12/UPD-4"}
