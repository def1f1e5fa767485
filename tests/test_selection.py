"""Model-tier selection of cluster scenarios (sts_props.selection, sts_props.corners) and
``check``'s ``--selection model`` path, with the model standing in for the cluster."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from sts_props import selection as selection_module
from sts_props import suite as suite_module
from sts_props.checks import compare_histories
from sts_props.cli import main
from sts_props.cluster.base import Capabilities, load_client
from sts_props.corners import CORNERS, RECREATE_CORNERS, corners_of
from sts_props.coverage import ALL_CELLS, Coverage
from sts_props.defaults import DEFAULT_VERSION
from sts_props.differential import DifferentialResult
from sts_props.model import ModelConfig, run_model
from sts_props.mutant_scenarios import set_manifests
from sts_props.mutants import MutantName
from sts_props.ops import (
    FAULT_OPS,
    OP_TYPES,
    SHARED_OPS,
    Create,
    DeletePod,
    DeleteSet,
    FailPod,
    HoldNotReady,
    KillPod,
    Op,
    RecreateSet,
    ReplaceRevision,
    RestartController,
    Scale,
    SetMinReadySeconds,
    SetOrdinalsStart,
    SetRetention,
    SetTemplate,
    Settle,
    SetUpdateStrategy,
)
from sts_props.scenario import Manifests, Scenario, scenario_min_ready, scenario_pods
from sts_props.selection import (
    MAX_ALONE_PICKS,
    RECIPES,
    RECREATE_RECIPES,
    Candidate,
    build_pool,
    candidate_of,
    feature_weight,
    pick,
    with_corner,
)
from sts_props.suite import run_cluster_suite


def _manifests(**spec: Any) -> Manifests:
    sts = set_manifests(int(spec.pop("replicas", 3))).statefulset
    sts["spec"].update(spec)
    return Manifests.seed().with_statefulset(sts)


def _corners(manifests: Manifests, *ops: Op) -> Counter[str]:
    return corners_of(run_model(Scenario(manifests, (Create(), Settle(), *ops))).history)


# -- corners ------------------------------------------------------------------------------------
def test_a_plain_scale_reaches_no_corner() -> None:
    assert not _corners(_manifests(), Scale(4), Settle(), Scale(3), Settle())


@pytest.mark.parametrize("recipe", RECIPES)
def test_each_recipe_reaches_its_corner(recipe: str) -> None:
    for manifests in (_manifests(podManagementPolicy="Parallel"),
                      _manifests(replicas=1, podManagementPolicy="Parallel",
                                 updateStrategy={"type": "OnDelete"})):
        sc = with_corner(Scenario(manifests, (Create(), Settle())), recipe)
        config = (ModelConfig.for_version("v1.37.2", StatefulSetRecreateStrategy=True)
                  if recipe in RECREATE_RECIPES else None)
        history = run_model(sc, config).history
        assert recipe in corners_of(history), [op.describe() for op in sc.ops]


def test_recreate_recipes_and_corners_only_with_the_gate() -> None:
    """The pool inserts the Recreate recipes, and reaches their corners, only with the gate
    on; without it the pool's recipes are those it had before them (its seeds draw as
    before)."""
    kinds = frozenset(FAULT_OPS)
    gated = ModelConfig.for_version("v1.37.2", StatefulSetRecreateStrategy=True)
    on = build_pool(Manifests.seed(), gated, examples=80, seed=4, fault_kinds=kinds)
    off = build_pool(Manifests.seed(), ModelConfig(), examples=80, seed=4, fault_kinds=kinds)
    reached_on = set().union(*(c.corners for c in on.candidates))
    reached_off = set().union(*(c.corners for c in off.candidates))
    assert set(RECREATE_CORNERS) <= reached_on
    assert not set(RECREATE_CORNERS) & reached_off
    assert not any(isinstance(op, SetUpdateStrategy) and op.type == "Recreate"
                   for c in off.candidates for op in c.scenario.ops)


def test_the_parallel_recipe_leaves_an_ordered_set_alone() -> None:
    sc = Scenario(_manifests(), (Create(), Settle()))
    assert with_corner(sc, "parallel-rollout-old-notready") == sc
    with pytest.raises(ValueError, match="no recipe"):
        with_corner(sc, "pod-succeeded")


@pytest.mark.parametrize(("corner", "manifests", "ops"), [
    ("pod-succeeded", _manifests(), (FailPod(1, "Succeeded"), Settle())),
    ("ondelete-rollout-completed", _manifests(replicas=2, updateStrategy={"type": "OnDelete"}),
     (SetTemplate("env", "v2"), Settle(), DeletePod(0), Settle(), DeletePod(1), Settle())),
    ("history-limit-0", _manifests(revisionHistoryLimit=0), (SetTemplate("env", "v2"),
                                                             Settle())),
    ("scale-down-claims-deleted", _manifests(),
     (SetRetention("Retain", "Delete"), Scale(1), Settle())),
    ("min-ready-scale-up", _manifests(minReadySeconds=1), (Scale(4), Settle())),
    ("min-ready-rollout", _manifests(), (SetMinReadySeconds(1), SetTemplate("env", "v2"),
                                         Settle())),
    ("min-ready-long-scale-up", _manifests(replicas=1, minReadySeconds=5), (Scale(2), Settle())),
    ("min-ready-long-rollout", _manifests(replicas=2), (SetMinReadySeconds(2),
                                                        SetTemplate("env", "v2"), Settle())),
    ("scale-down-past-notready", _manifests(), (HoldNotReady(1), Settle(), Scale(1), Settle())),
    ("ordinals-start-moved", _manifests(), (SetOrdinalsStart(2), Settle())),
    ("orphans-adopted", _manifests(), (DeleteSet("Orphan"), Settle(), RecreateSet(), Settle())),
    ("revision-collision", _manifests(), (ReplaceRevision("update", "other"), Settle())),
])
def test_corner_is_found_in_the_history(corner: str, manifests: Manifests,
                                        ops: tuple[Op, ...]) -> None:
    assert corner in CORNERS
    assert corner in _corners(manifests, *ops)


def test_min_ready_of_1_is_no_long_min_ready_corner() -> None:
    found = _corners(_manifests(replicas=1, minReadySeconds=1), Scale(2), Settle(),
                     SetTemplate("env", "v2"), Settle())
    assert {"min-ready-scale-up", "min-ready-rollout"} <= set(found)
    assert not {"min-ready-long-scale-up", "min-ready-long-rollout"} & set(found)


def test_the_update_strategy_switch_alone_completes_no_rollout() -> None:
    found = _corners(_manifests(), SetUpdateStrategy("OnDelete"), Settle(), Scale(2), Settle())
    assert "ondelete-rollout-completed" not in found


# -- the pick -----------------------------------------------------------------------------------
def _cand(*features: str, cost: float = 4.0, alone: bool = False) -> Candidate:
    return Candidate(Scenario(Manifests.seed(), (Create(),)), frozenset(features), cost,
                     alone=alone)


def test_pick_covers_every_cell_of_a_pool_that_has_them() -> None:
    cells = ["cell " + "/".join(c) for c in ALL_CELLS]
    # decoys: many light features each (more weight in all than a cell), one cell for all
    decoys = [_cand(cells[0], *(f"revisions >= {i}-{j}" for j in range(6))) for i in range(20)]
    pool = decoys + [_cand(c) for c in cells]
    chosen = pick(pool, 16)
    assert {f for c in chosen for f in c.features if f.startswith("cell ")} == set(cells)


def test_pick_prefers_new_features_and_cheaper_scenarios() -> None:
    old = _cand("op scale", "op settle")
    repeat = _cand("op scale", "op settle", "revisions >= 1")
    corner = _cand("op scale", "corner pod-succeeded")
    assert pick([old, repeat, corner], 2)[1] is corner  # a corner beats a light feature
    cheap, dear = _cand("op scale", cost=1.0), _cand("op scale", cost=9.0)
    assert pick([dear, cheap], 1) == [cheap]
    assert feature_weight("op scale in Parallel/OnDelete") < feature_weight("op scale")


def test_a_scenario_that_runs_alone_costs_the_cluster_and_few_are_picked() -> None:
    """With --jobs N a scenario that runs alone holds the whole cluster: it costs N times its
    time, so a scenario beside others that adds less goes first; and no more than max_alone
    of them are picked, whatever they would add."""
    lone = _cand("op restart_controller", "op scale", alone=True)
    beside = _cand("op scale")
    assert pick([lone, beside], 1) == [lone]
    assert pick([lone, beside], 1, alone_cost=6.0) == [beside]
    one, other = (_cand(f"op restart_{c}", alone=True) for c in ("controller", "apiserver"))
    quiet = [_cand(f"x{i}") for i in range(3)]
    chosen = pick([one, other, lone, *quiet], 6, max_alone=1)
    assert sum(c.alone for c in chosen) == 1 and len(chosen) == 4
    assert not any(c.alone for c in pick([one, other, lone, *quiet], 6, max_alone=0))
    assert candidate_of(run_model(Scenario(Manifests.seed(), (
        Create(), RestartController(), Settle())))).alone
    assert not candidate_of(run_model(Scenario(Manifests.seed(), (
        Create(), KillPod(0), Settle())))).alone


def test_without_every_fault_the_pool_draws_faults_in_some_scenarios() -> None:
    """The main job's pool (faults, not in every scenario): some scenarios bear none."""
    mixed = build_pool(Manifests.seed(), ModelConfig(), examples=60, seed=4,
                       fault_kinds=frozenset(FAULT_OPS), every_fault=False)
    bearing = [any(op.kind in FAULT_OPS for op in c.scenario.ops) for c in mixed.candidates]
    assert any(bearing) and not all(bearing)
    every = build_pool(Manifests.seed(), ModelConfig(), examples=60, seed=4,
                       fault_kinds=frozenset(FAULT_OPS))
    assert all(any(op.kind in FAULT_OPS for op in c.scenario.ops) for c in every.candidates)


def test_pick_without_anything_new_takes_the_farthest() -> None:
    a, b = _cand("x", "y"), _cand("x", "y")
    c = _cand("z")
    chosen = pick([a, b, c], 3)
    assert chosen[:2] in ([a, c], [c, a]) and chosen[2] is b


#: A seed whose pool of 200 covers every cell and every non-fault kind (what
#: test_a_pick_of_30_covers_what_the_pool_has needs), checked with this file alone and with the
#: whole suite collected: Hypothesis mixes constants from the loaded modules into its draws, so
#: the same seed draws differently in the two. A new op or recipe moves the draws; when that
#: test then misses a kind, look for another seed that passes both ways (seed 7 did until
#: set_history_limit, 21 until replace_revision, 9 since).
POOL_SEED = 9


@pytest.fixture(scope="module")
def pool() -> Any:
    return build_pool(Manifests.seed(), ModelConfig(), examples=200, seed=POOL_SEED)


def test_the_pool_and_the_pick_repeat_with_the_seed(pool: Any) -> None:
    again = build_pool(Manifests.seed(), ModelConfig(), examples=200, seed=POOL_SEED,
                       reuse=False)
    assert not again.reused
    assert [c.scenario for c in again.candidates] == [c.scenario for c in pool.candidates]
    assert ([c.scenario for c in pick(again.candidates, 20)]
            == [c.scenario for c in pick(pool.candidates, 20)])
    other = build_pool(Manifests.seed(), ModelConfig(), examples=20, seed=8)
    assert [c.scenario for c in other.candidates] != [c.scenario for c in pool.candidates][:20]


def test_a_pool_with_a_seed_is_built_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """The controller mutant catalogue asks for the same pool for the control and each mutant:
    it is built once; callers at the same time wait for the one build."""
    built: list[int] = []
    real = selection_module._build_pool

    def counting(*args: Any) -> Any:
        built.append(args[3])
        time.sleep(0.3)  # long enough for the other thread to ask meanwhile
        return real(*args)

    monkeypatch.setattr(selection_module, "_build_pool", counting)
    monkeypatch.setattr(selection_module, "_BUILT", {})
    config = ModelConfig()
    results: list[Any] = []

    def ask() -> None:
        results.append(build_pool(Manifests.seed(), config, examples=20, seed=41))

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    third = build_pool(Manifests.seed(), config, examples=20, seed=41)
    assert built == [41]
    assert sorted(r.reused for r in results) == [False, True] and third.reused
    first = next(r for r in results if not r.reused)
    assert third.seconds == first.seconds and third.examples == first.examples == 20
    assert [c.scenario for c in third.candidates] == [c.scenario for c in first.candidates]
    third.candidates.clear()  # a caller's copy: the kept pool is untouched
    assert build_pool(Manifests.seed(), config, examples=20, seed=41).candidates
    # another seed, other arguments, no seed, or reuse=False: built anew
    build_pool(Manifests.seed(), config, examples=20, seed=42)
    build_pool(Manifests.seed(), config, examples=21, seed=41)
    build_pool(Manifests.seed(), config, examples=20, seed=41, reuse=False)
    no_seed = build_pool(Manifests.seed(), config, examples=20)
    assert len(built) == 5 and not no_seed.reused


def test_start_pool_builds_the_suites_pool_while_the_cluster_starts(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``check`` starts the pool before the cluster; the suite's own request takes it."""
    monkeypatch.setattr(selection_module, "_BUILT", {})
    cluster: Any = SimpleNamespace(capabilities=Capabilities(faults=frozenset({"kill_pod"})))
    load_client()  # what start_pool does first (0.7 s once per process)
    started = time.monotonic()
    stop = suite_module.start_pool(cluster, config=ModelConfig(), seed=44, base=Manifests.seed(),
                                   some_faults=frozenset({"kill_pod", "fail_node"}),
                                   pool_examples=40)
    assert time.monotonic() - started < 0.5  # it returns at once; the build goes on
    kinds, some, skipped = suite_module._suite_faults(
        cluster.capabilities.faults, frozenset(), frozenset({"kill_pod", "fail_node"}), "model")
    assert (kinds, some, skipped) == (frozenset(), frozenset({"kill_pod"}), ["fail_node"])
    pool = suite_module._suite_pool(ModelConfig(), Manifests.seed(), 44, 40, 8, 12, 5, True,
                                    kinds, some)
    assert pool.reused and pool.examples == 40
    stop.set()


def test_a_stopped_start_pool_leaves_nothing_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(selection_module, "_BUILT", {})
    cluster: Any = SimpleNamespace(capabilities=Capabilities())
    stop = suite_module.start_pool(cluster, config=ModelConfig(), seed=45, pool_examples=400)
    stop.set()  # the cluster did not start: the build ends at its next scenario
    deadline = time.monotonic() + 10
    while any(t.name == "sts-props model pool" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the pool thread went on after its stop"
        time.sleep(0.05)
    assert selection_module._BUILT == {}


def test_a_pool_cut_short_by_its_time_limit_is_not_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(selection_module, "_BUILT", {})
    short = build_pool(Manifests.seed(), ModelConfig(), examples=50, seed=43, seconds=0.0)
    assert short.stopped_by_time
    again = build_pool(Manifests.seed(), ModelConfig(), examples=50, seed=43)
    assert not again.reused and not again.stopped_by_time and again.examples == 50


def test_a_pick_of_30_covers_what_the_pool_has(pool: Any) -> None:
    """The pool reaches every cell and every non-fault kind; 30 picks keep all of them."""
    def coverage(cands: list[Candidate]) -> Coverage:
        cov = Coverage()
        for c in cands:
            cov.record(c.scenario)
        return cov

    whole, chosen = coverage(pool.candidates), coverage(pick(pool.candidates, 30))
    kinds = {k for k in OP_TYPES if k not in FAULT_OPS}
    assert not whole.uncovered_cells() and kinds <= set(whole.op_totals())
    assert not chosen.uncovered_cells() and kinds <= set(chosen.op_totals())
    corners = set().union(*(c.corners for c in pool.candidates))
    assert {"partition-pod-disrupted", "parallel-rollout-old-notready"} <= corners  # recipes
    assert corners == set().union(*(c.corners for c in pick(pool.candidates, 30)))
    # each pool scenario is what a cluster runs: 8..12 ops after Create, minReadySeconds
    # capped (cap_min_ready: 5 s for at most 2 pods, else 1 s)
    assert all(len(c.scenario.ops) >= 9 for c in pool.candidates)
    assert all(scenario_min_ready(c.scenario) <= (5 if scenario_pods(c.scenario) <= 2 else 1)
               for c in pool.candidates)
    assert all(c.cost > 0 for c in pool.candidates)


def test_without_pod_disruptions_the_pool_has_none() -> None:
    """faults=False (the suite's pod and PVC disruptions off): no recipe inserts any either."""
    quiet = build_pool(Manifests.seed(), ModelConfig(), examples=40, seed=2, faults=False)
    kinds = {op.kind for c in quiet.candidates for op in c.scenario.ops}
    assert kinds and not kinds & {"delete_pod", "fail_pod", "hold_not_ready", "delete_pvc"}


def test_candidate_features_name_rejections_and_corners() -> None:
    sc = Scenario(_manifests(), (Create(), Scale(-1), FailPod(0, "Succeeded"), Settle()))
    cand = candidate_of(run_model(sc))
    assert {"rejected scale", "corner pod-succeeded", "op fail_pod"} <= cand.features
    assert cand.corners == {"pod-succeeded"}


# -- check --selection model, with the model as the cluster -------------------------------------
class _ModelCluster:
    """Stands in for a cluster: the suite's run_differential is replaced by a model run."""

    name = "model-as-cluster"
    capabilities = Capabilities()
    crashes: list[str] = []

    def version(self) -> str:
        return DEFAULT_VERSION


def _fake_differential(mutant: MutantName | None, runs: list[Scenario]) -> Any:
    def run(scenario: Scenario, cluster: Any, config: Any = None, **_: Any) -> DifferentialResult:
        runs.append(scenario)
        real = run_model(scenario, ModelConfig())
        other = run_model(scenario, ModelConfig(mutant=mutant))
        return DifferentialResult(scenario, real.history, other.history,
                                  compare_histories(real.history, other.history), [], 0.01,
                                  [], real.rules)
    return run


def test_selected_scenarios_run_and_the_summary_says_what_they_covered(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    runs: list[Scenario] = []
    monkeypatch.setattr(suite_module, "run_differential", _fake_differential(None, runs))
    summary = run_cluster_suite(_ModelCluster(), base=Manifests.seed(), examples=12, seed=3,  # type: ignore[arg-type]
                                progress=lambda _l: None, artifacts_dir=tmp_path,
                                pool_examples=120)
    assert summary.ok and summary.scenarios == len(runs) == 12
    assert "model pool of 120 scenarios" in summary.selection and "seed 3" in summary.selection
    text = summary.render()
    assert "selection: model pool" in text
    assert "of 24 op kinds (of the 36 less the 12 fault kinds left out (--faults mixes " \
        "them in))" in text
    assert "corners reached: " in text
    assert summary.coverage.scenarios == 12


def test_a_selected_failure_is_shrunk_and_saved(monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    """The mutant ignores whenDeleted=Delete: the "cluster" disagrees once a selected scenario
    sets it; the failure ends shrunk, within the budget, and saved as a plan."""
    runs: list[Scenario] = []
    monkeypatch.setattr(suite_module, "run_differential",
                        _fake_differential("deleted-claims-retained", runs))
    lines: list[str] = []
    summary = run_cluster_suite(_ModelCluster(), base=Manifests.seed(), examples=30, seed=3,  # type: ignore[arg-type]
                                progress=lines.append, artifacts_dir=tmp_path,
                                pool_examples=120, shrink_budget=10)
    assert not summary.ok and summary.counterexample is not None
    first_failure = runs[summary.scenarios]
    assert len(runs) - summary.scenarios - 1 <= 10  # the shrink budget
    assert len(summary.counterexample.ops) < len(first_failure.ops)
    assert run_model(summary.counterexample).history  # a scenario the model runs
    again = _fake_differential("deleted-claims-retained", [])(summary.counterexample, None)
    assert again.violations[0].rule == summary.violations[0].rule
    assert any(line.lstrip().startswith("shrink ") for line in lines)
    assert summary.artifacts is not None and (summary.artifacts / "plan.yaml").exists()
    assert "minimal counterexample (replayable plan):" in summary.render()


def test_the_main_job_covers_every_fault_kind_with_one_scenario_alone(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``check`` on a cluster without --faults (some_faults): faults are op kinds to cover,
    in some scenarios, at most MAX_ALONE_PICKS of them with a fault that runs alone."""
    runs: list[Scenario] = []
    monkeypatch.setattr(suite_module, "run_differential", _fake_differential(None, runs))
    cluster = _ModelCluster()
    cluster.capabilities = Capabilities(faults=frozenset(FAULT_OPS))
    summary = run_cluster_suite(cluster, base=Manifests.seed(), examples=30, seed=3,  # type: ignore[arg-type]
                                progress=lambda _l: None, artifacts_dir=tmp_path,
                                pool_examples=400, jobs=6, some_faults=frozenset(FAULT_OPS))
    assert summary.ok and len(runs) == 30
    alone = [sc for sc in runs if any(op.kind in SHARED_OPS for op in sc.ops)]
    bearing = [sc for sc in runs if any(op.kind in FAULT_OPS for op in sc.ops)]
    assert len(alone) == MAX_ALONE_PICKS == 1 and len(bearing) < 30
    assert set(SHARED_OPS) <= {op.kind for op in alone[0].ops}  # all five in the one
    kinds = {op.kind for sc in runs for op in sc.ops}
    assert len(kinds) >= 27, sorted(set(OP_TYPES) - kinds)
    assert f"of {len(OP_TYPES)} op kinds" in summary.render()


def test_selection_model_is_refused_on_the_model_backend(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--backend", "model", "--selection", "model", "--examples", "1"]) == 2
    assert "--selection model" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ["--backend", "model", "--jobs", "2"],
    ["--backend", "kwok", "--selection", "plain", "--jobs", "3"],
])
def test_jobs_without_cluster_and_model_selection_is_refused(
        argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """``--jobs`` above 1 needs a cluster and model selection: refused before anything
    starts, with one line that says so."""
    assert main(["check", "--examples", "1", *argv]) == 2
    err = capsys.readouterr().err
    assert "--jobs" in err and len(err.strip().splitlines()) == 1


def test_a_differential_run_models_the_clusters_version_by_default(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a config, run_differential compares with the model of the cluster's version,
    not the newest line: on v1.36.3 (maxUnavailable gate off) a `set_max_unavailable` does not
    change the spec, and the v1.37.2 model expected a new generation (two kwok tests failed on
    v1.35.4 and v1.36.3 that way)."""
    from sts_props import differential

    seen: list[str] = []

    class Stop(Exception):
        pass

    def model_run(manifests: Manifests, config: ModelConfig | None = None) -> None:
        seen.append(config.version if config else "none")
        raise Stop

    class Cluster:
        def version(self) -> str:
            return "v1.36.3"

    monkeypatch.setattr(differential, "ModelRun", model_run)
    scenario = Scenario(Manifests.seed(), (Create(), Settle()))
    for config in (None, ModelConfig.for_version("v1.35.4")):
        with pytest.raises(Stop):
            differential.run_differential(scenario, Cluster(), config)  # type: ignore[arg-type]
    assert seen == ["v1.36.3", "v1.35.4"]
