"""CHK-10, status honesty: each status write agrees with the pods the controller could have seen.

Hand-built Histories (tests/histories.py, whose ``sync_status`` computes a correct status and
takes overrides that plant a lie) that the check must flag, realistic honest ones it must pass
(lagging writes, the sync's own creations and deletions, promotions REV-8 and REV-9 allow), the
two model mutants that break status rules, and model runs with drawn faults and interleavings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sts_props.checks import Violation, check_chk10, run_safety_checks
from sts_props.history import History
from sts_props.model import ModelConfig, ModelRun
from sts_props.model.runner import run_model
from sts_props.mutant_names import MutantName
from sts_props.mutant_scenarios import set_manifests
from sts_props.ops import Create, DeletePod, Op, SetPartition, SetTemplate, Settle
from sts_props.scenario import Scenario
from sts_props.strategies import DataChooser, scenarios
from sts_props.strategies.ops import ALL_FAULTS
from tests.histories import HistoryBuilder


def _up(**kwargs: Any) -> HistoryBuilder:
    return HistoryBuilder("web", **kwargs).create_set().bring_up().settle()


def _chk10(hb: HistoryBuilder) -> list[Violation]:
    # run_safety_checks (not check_chk10) so that test_incremental_checks can wrap it and
    # compare SafetyChecker's verdicts with it at every prefix of these Histories.
    return [v for v in run_safety_checks(hb.build()) if v.check == "CHK-10"]


def _rules(vs: list[Violation]) -> list[str]:
    return [v.rule for v in vs]


# -- honest histories pass -----------------------------------------------------------------------
def test_clean_lifecycles_pass() -> None:
    hb = _up()
    hb.set_template("b").roll().settle()
    hb.scale(5).sync_status().bring_up([3, 4]).settle()
    hb.scale_down(2).settle()
    hb.delete_pod(1).pod_up(1).settle()
    hb.fail_pod(0).sync_status().pod_deleted(0).sync_status().pod_up(0).settle()
    assert _chk10(hb) == []
    parallel = _up(policy="Parallel", min_ready_seconds=2, max_unavailable=2)
    parallel.set_template("b").roll().wait(3).settle()
    assert _chk10(parallel) == []


def test_a_write_lagging_a_pod_deletion_passes() -> None:
    """The cache still shows web-2, deleted a moment before the write (T-3): allowed."""
    hb = _up()
    hb.pod_unready(0).delete_pod(2)
    hb.sync_status(replicas=3, readyReplicas=2, availableReplicas=2, currentReplicas=3,
                   updatedReplicas=3)
    assert _chk10(hb) == []


def test_pods_created_in_the_writing_sync_are_not_counted_yet() -> None:
    """ST-1 (#120732): the sync that creates pods writes replicas from its cache without them."""
    hb = HistoryBuilder("web", policy="Parallel").create_set()
    hb.pod_added(0).pod_added(1).pod_added(2)
    hb.sync_status(replicas=0, currentReplicas=0, updatedReplicas=0, observedGeneration=2)
    # observedGeneration 2 on a generation-1 set is the only lie here.
    assert _rules(_chk10(hb)) == ["CHK-10/ST-7"]


def test_scale_to_zero_promotes_under_a_partition() -> None:
    """REV-9 with spec.replicas 0 holds trivially (#121534): not a violation."""
    hb = _up(partition=2)
    old = hb.update_revision
    hb.set_template("b").roll().settle()
    hb.scale_down(0).settle()
    history = hb.build()
    last = [ev for ev in history.objects("StatefulSet")][-1].obj["status"]
    assert last["currentRevision"] == hb.update_revision != old
    assert check_chk10(history) == []


# -- the window ----------------------------------------------------------------------------------
def test_the_window_starts_at_the_previous_write_on_the_model() -> None:
    """A write after an honest write that already saw web-2 gone cannot count web-2 again:
    the model's cache is fresh, so the second sync started after the first write."""
    hb = _up()
    hb.delete_pod(2).sync_status()
    hb.pod_unready(0)
    hb.sync_status(replicas=3, currentReplicas=3, updatedReplicas=3)
    vs = _chk10(hb)
    assert _rules(vs) == ["CHK-10/ST-1", "CHK-10/ST-4", "CHK-10/ST-5"]
    assert "replicas=3" in vs[0].message and "only web-0, web-1 could count" in vs[0].message


@pytest.mark.parametrize(("gap", "flagged"), [(0.5, False), (5.0, True)])
def test_on_a_cluster_the_window_reaches_informer_lag_before_the_previous_write(
        gap: float, flagged: bool) -> None:
    """Clusters (clock granularity 1 s): the pod cache may lag by INFORMER_LAG (2 s), even
    behind the set's own previous write (seen on kwok v1.37.2). So a write after an honest write
    that saw web-2 gone may still count web-2 if it was deleted 0.5 s before that write, but
    not if it was deleted 5 s before."""
    hb = HistoryBuilder("web", granularity=1.0, step=0.1).create_set().bring_up().settle()
    hb.delete_pod(2).wait(gap).sync_status()
    hb.pod_unready(0)
    hb.sync_status(replicas=3, currentReplicas=3, updatedReplicas=3)
    assert bool(_chk10(hb)) is flagged


@pytest.mark.parametrize("gap", ["none", "restart_apiserver", "crash"])
def test_on_a_cluster_a_watch_gap_suspends_the_pod_based_rules(gap: str) -> None:
    """An apiserver restart (planned, or after a crash) makes the recorder relist: the pod
    states of the gap are lost, so until the next settled record the counts are not judged
    (the ST-7 bound still is)."""
    hb = HistoryBuilder("web", granularity=1.0).create_set().bring_up().settle()
    index = hb.invoke("restart_apiserver") if gap == "restart_apiserver" else None
    hb.pod_unready(1)
    hb.sync_status(readyReplicas=0, availableReplicas=0)  # web-0, web-2 Ready throughout
    if index is not None:
        hb.ok(index)
    if gap == "crash":
        hb.history.append("crash", hb.t, component="kube-apiserver", pid=7, how="exit status 2",
                          cause="", excerpt=[], at=1.7e9, restartSeconds=1.0, window="")
    hb.quiescent()
    hb.pod_ready(1).sync_status(observedGeneration=3)
    expected = ["CHK-10/ST-2", "CHK-10/ST-3"] if gap == "none" else []
    assert _rules(_chk10(hb)) == [*expected, "CHK-10/ST-7"]
    # The crash is recorded after the write it excuses: SafetyChecker, which judged the write
    # before the crash record came, must drop the findings as the one-shot check does.
    from tests.test_incremental_checks import assert_same_at_every_prefix  # (import cycle)
    assert_same_at_every_prefix(hb.build())


# -- counts --------------------------------------------------------------------------------------
def test_st2_three_ready_claimed_when_at_most_one_was_ready() -> None:
    hb = HistoryBuilder("web", policy="Parallel").create_set()
    hb.pod_added(0).pod_added(1).pod_added(2).pod_ready(0)
    hb.sync_status(readyReplicas=3, availableReplicas=3)
    vs = _chk10(hb)
    assert _rules(vs) == ["CHK-10/ST-2", "CHK-10/ST-3"]
    assert "readyReplicas=3" in vs[0].message and "only web-0 could count" in vs[0].message


def test_st2_lower_bound_ready_pods_left_out() -> None:
    hb = _up()
    hb.pod_unready(1)
    hb.sync_status(readyReplicas=0, availableReplicas=0)  # web-0 and web-2 stayed Ready
    vs = _chk10(hb)
    assert _rules(vs) == ["CHK-10/ST-2", "CHK-10/ST-3"]
    assert "(web-0, web-2)" in vs[0].message


def test_st5_updated_replicas_counts_a_pod_of_another_revision() -> None:
    hb = _up()
    hb.set_template("b")
    hb.pod_deleted(2).sync_status().pod_up(2, revision=hb.update_revision)
    hb.sync_status(updatedReplicas=2)  # web-1 is still at the old revision
    vs = _chk10(hb)
    assert _rules(vs) == ["CHK-10/ST-5"]
    assert "updatedReplicas=2" in vs[0].message and "only web-2 could count" in vs[0].message


def test_st5_terminating_pods_do_not_count_as_updated() -> None:
    hb = _up()
    hb.pod_terminating(2)
    hb.sync_status()
    hb.pod_unready(0).sync_status(updatedReplicas=3)  # web-2 terminating throughout
    assert _rules(_chk10(hb)) == ["CHK-10/ST-5"]


def test_st4_allows_one_update_deletion_per_sync_without_a_record() -> None:
    """UPD-1 decrements currentReplicas for each update deletion, even one that found no pod:
    one below the pods at currentRevision passes with maxUnavailable 1, two below does not."""
    hb = _up()
    hb.set_template("b").sync_status(currentReplicas=2)
    assert _chk10(hb) == []
    hb.pod_unready(0).sync_status(currentReplicas=1)
    vs = _chk10(hb)
    assert _rules(vs) == ["CHK-10/ST-4"] and "less 1 update deletion(s)" in vs[0].message


def test_st3_available_before_min_ready_seconds_elapsed() -> None:
    hb = HistoryBuilder("web", replicas=1, min_ready_seconds=10).create_set()
    hb.pod_up(0).sync_status(availableReplicas=1)
    vs = _chk10(hb)
    assert _rules(vs) == ["CHK-10/ST-3"] and "minReadySeconds 10" in vs[0].message
    honest = HistoryBuilder("web", replicas=1, min_ready_seconds=10).create_set()
    honest.pod_up(0).sync_status().wait(10).sync_status()
    assert _chk10(honest) == []


def test_st11_available_above_ready() -> None:
    hb = _up()
    hb.pod_unready(0).sync_status(readyReplicas=2, availableReplicas=3)
    assert _rules(_chk10(hb)) == ["CHK-10/ST-11"]


# -- observedGeneration --------------------------------------------------------------------------
def test_st7_observed_generation_above_generation() -> None:
    hb = _up()
    hb.sync_status(observedGeneration=5)
    vs = _chk10(hb)
    assert _rules(vs) == ["CHK-10/ST-7"] and "above the set's metadata.generation 1" in \
        vs[0].message


def test_st7_observed_generation_decreases() -> None:
    hb = _up()
    hb.scale(4).sync_status()
    hb.pod_unready(0).sync_status(observedGeneration=1)
    vs = _chk10(hb)
    assert _rules(vs) == ["CHK-10/ST-7"] and "from 2 to 1" in vs[0].message


def test_st7_a_recreated_set_starts_again() -> None:
    hb = _up()
    hb.scale(4).sync_status()
    hb.delete_set().recreate_set()  # the new uid's status starts at generation 1
    hb.bring_up().settle()
    assert _chk10(hb) == []


# -- currentRevision -----------------------------------------------------------------------------
def test_rev9_promotion_while_a_pod_at_the_old_revision_exists() -> None:
    hb = _up()
    hb.set_template("b").roll(order=[2, 1])  # web-0 still at the old revision
    hb.sync_status(currentRevision=hb.update_revision, currentReplicas=2)
    vs = _chk10(hb)
    assert _rules(vs) == ["CHK-10/REV-9", "CHK-10/REV-9"]
    assert "updatedReplicas=2" in vs[0].message
    assert "pod(s) web-0 of the set stayed at another revision" in vs[1].message


def test_rev9_old_pod_throughout_even_when_each_count_fits_some_instant() -> None:
    """The counts alone fit (web-2, briefly at the new revision, makes 2 updated pods at some
    instant), but web-0 stayed at the old revision throughout: no instant had the rollout
    complete."""
    hb = _up(replicas=2)
    hb.set_template("b").roll(order=[1])
    hb.pod_up(2, revision=hb.update_revision).pod_deleted(2)
    upd = hb.update_revision
    hb.sync_status(currentRevision=upd, currentReplicas=2, updatedReplicas=2, replicas=2,
                   readyReplicas=2, availableReplicas=2)
    vs = _chk10(hb)
    assert _rules(vs) == ["CHK-10/REV-9"] and "web-0" in vs[0].message


def test_rev8_current_revision_moves_to_neither_revision() -> None:
    hb = _up()
    hb.set_template("b").sync_status(currentRevision="web-bogus", currentReplicas=0)
    vs = _chk10(hb)
    assert _rules(vs) == ["CHK-10/REV-8"] and "web-bogus" in vs[0].message


@pytest.mark.parametrize("deleted", [True, False])
def test_rev8_current_revision_object_gone_allows_cur_to_become_upd(deleted: bool) -> None:
    """REV-8: with the current revision's ControllerRevision deleted the controller sets
    currentRevision to updateRevision without a complete rollout; with it present, that is an
    early promotion (REV-9)."""
    hb = _up()
    old = hb.update_revision
    hb.set_template("b")
    if deleted:
        hb._emit("DELETED", "ControllerRevision", old, hb.crs[old])
    hb.sync_status(currentRevision=hb.update_revision, currentReplicas=0)
    assert _rules(_chk10(hb)) == ([] if deleted else ["CHK-10/REV-9", "CHK-10/REV-9"])


def test_writes_during_set_deletion_are_not_judged() -> None:
    live = _up()
    live.sync_status(readyReplicas=0, availableReplicas=0)
    assert _rules(_chk10(live)) == ["CHK-10/ST-2", "CHK-10/ST-3"]
    hb = _up()
    hb.delete_set(propagation="Foreground")
    hb.sync_status(readyReplicas=0, availableReplicas=0)  # the same lie, set being deleted
    assert _chk10(hb) == []


def test_collision_count_changes_alone_are_not_writes() -> None:
    """ST-10: a record that changes only collisionCount is no controller write, so the next
    write's window still starts at the write before it (and may count web-2)."""
    hb = _up()
    hb.delete_pod(2)
    same = {"replicas": 3, "readyReplicas": 3, "availableReplicas": 3, "currentReplicas": 3,
            "updatedReplicas": 3}
    hb.sync_status(collisionCount=1, **same)
    hb.pod_unready(0)
    hb.sync_status(**{**same, "readyReplicas": 2, "availableReplicas": 2})
    assert _chk10(hb) == []


# -- the model ----------------------------------------------------------------------------------
def _model(mutant: MutantName | None, manifests: Any, *ops: Op) -> ModelRun:
    run = ModelRun(manifests, ModelConfig(mutant=mutant))
    for op in (Create(), Settle(), *ops):
        run.apply(op)
    return run


@pytest.mark.parametrize(("mutant", "ops", "rules"), [
    ("terminating-counted-updated",
     (SetPartition(1), SetTemplate("env", "v1"), Settle(), DeletePod(0), Settle()),
     {"CHK-10/ST-4", "CHK-10/ST-5", "CHK-10/REV-9"}),
    ("current-promoted-early",
     (SetPartition(1), SetTemplate("annotation", "v2"), Settle()),
     {"CHK-10/REV-9"}),
])
def test_model_mutants_breaking_status_rules_are_flagged_on_the_model_history(
        mutant: MutantName, ops: tuple[Op, ...], rules: set[str]) -> None:
    """The two mutants of sts_props.mutants that break ST-5 / REV-9 are caught by CHK-10 on the
    mutated model's own History; the same ops on the real model pass."""
    n = 2 if mutant == "terminating-counted-updated" else 3
    assert check_chk10(_model(None, set_manifests(n), *ops).history) == []
    found = check_chk10(_model(mutant, set_manifests(n), *ops).history)
    assert {v.rule for v in found} == rules
    assert any("redis-0" in v.message for v in found)


CONFIGS = {
    v: ModelConfig.for_version(v) for v in ("v1.33.0", "v1.35.2", "v1.36.3", "v1.37.2")
}


@pytest.mark.parametrize("version", sorted(CONFIGS))
@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(sc=scenarios(max_ops=14, fault_kinds=ALL_FAULTS), data=st.data())
def test_model_histories_with_faults_and_interleavings_are_honest(
        version: str, sc: Scenario, data: st.DataObject) -> None:
    """Every status the model writes passes CHK-10, under drawn faults and interleavings."""
    result = run_model(sc, CONFIGS[version], DataChooser(data))
    assert check_chk10(result.history) == [], sc.to_yaml()


def test_parallel_may_lower_current_replicas_by_more_than_max_unavailable_in_one_sync() -> None:
    """A model History from a derandomized run (Parallel, 5 replicas, pod 0 held NotReady,
    a template change, pod 1 deleted): in one sync the controller replaces the unavailable old
    pod and deletes maxUnavailable more (v1.37, #137666, UPD-10), lowering currentReplicas by
    two. CHK-10 flagged it while it allowed one update deletion per sync under Parallel."""
    data = Path(__file__).parent / "data" / "model-parallel-two-update-deletions.jsonl"
    assert check_chk10(History.load(data)) == []
