"""Two-tier search (sts_props.explore): model tier, diverse subset, budgeted replay."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import pytest

from sts_props import explore
from sts_props.cli import main
from sts_props.explore import (
    Found,
    ProgressBar,
    budget_seconds,
    explore_model,
    pick_diverse,
    replay_on_cluster,
)
from sts_props.model import ModelConfig, run_model
from sts_props.scenario import ManifestError
from sts_props.time_share import TimeUp


@pytest.mark.parametrize("text", ["", "ten minutes", "0", "-5m", "3d"])
def test_bad_budgets_are_rejected(text: str) -> None:
    with pytest.raises(ManifestError, match="--budget"):
        budget_seconds(text)


@pytest.fixture(scope="module")
def tier() -> Any:
    return explore_model(None, 120, ModelConfig(), seconds=120, seed=11)


def test_model_tier_records_metrics_and_features(tier: Any) -> None:
    assert tier.examples == 120 and not tier.stopped_by_time
    assert tier.found and all("revisions" in f.metrics for f in tier.found)
    assert tier.best["revisions"] >= 2  # some scenario rolled out a new template
    assert tier.best["rejected ops"] >= 1
    assert all(any(x.startswith("cell ") for x in f.features) for f in tier.found)


def test_diverse_subset_covers_every_feature_seen(tier: Any) -> None:
    pool: list[Found] = tier.found
    everything = set().union(*(f.features for f in pool))
    subset = pick_diverse(pool, len(pool))
    covered: set[str] = set()
    needed = 0
    for i, f in enumerate(subset):
        if f.features - covered:
            needed = i + 1
        covered |= f.features
    assert covered == everything
    # greedy cover front-loads: the features are all covered well before the pool runs out
    assert needed < len(pool) / 2
    assert len({id(f) for f in subset}) == len(subset)


def test_time_share_stops_the_model_tier() -> None:
    t = explore_model(None, 100_000, ModelConfig(), seconds=1.0, seed=1)
    assert t.stopped_by_time and 0 < t.examples < 100_000 and t.seconds < 30


@pytest.mark.parametrize("others", [[], [ValueError("a real failure")]])
def test_time_running_out_in_a_replay_is_a_stop_not_an_error(
        monkeypatch: pytest.MonkeyPatch, others: list[Exception]) -> None:
    """Seen once in the unit suite under load: the 1 s budget ran out while Hypothesis
    replayed an example that had passed, and it raised a FlakyFailure holding the TimeUp
    instead of the TimeUp. That is the time share ending; anything else in the group is
    not."""
    from hypothesis.errors import FlakyFailure

    def seeded(seed: int) -> Any:
        def wrap(prop: Any) -> Any:
            def run() -> None:
                raise FlakyFailure("Inconsistent results", [TimeUp(), *others])
            return run
        return wrap

    monkeypatch.setattr(explore, "hypothesis_seed", seeded)
    if others:
        with pytest.raises(FlakyFailure):
            explore_model(None, 10, ModelConfig(), seconds=1.0, seed=1)
    else:
        assert explore_model(None, 10, ModelConfig(), seconds=1.0, seed=1).stopped_by_time


def test_progress_bar_tty_and_plain() -> None:
    out = io.StringIO()
    bar = ProgressBar(out, tty=True)
    bar.update(1, 4, 30, 600, "scenario 1: ok")
    bar.update(2, 4, 61, 600, "x")
    bar.close()
    text = out.getvalue()
    assert text.count("\r") == 2 and text.endswith("\n") and text.count("\n") == 1
    assert "[##########..........] 2/4 1m01s/10m00s" in text
    plain = io.StringIO()
    bar = ProgressBar(plain, tty=False)
    bar.update(1, 2, 0, 60, "a")
    bar.update(2, 2, 1, 60, "b")
    assert plain.getvalue().count("\n") == 2 and "\r" not in plain.getvalue()


class FakeResult:
    """What the cluster-tier tests' stand-in for ``run_differential`` returns: a passing run
    of 0.3 s whose model History is the scenario's."""

    violations: list[Any] = []
    rules: dict[str, int] = {}
    stopped = ""
    known: list[str] = []
    seconds = 0.3

    def __init__(self, scenario: Any) -> None:
        self.model_history = run_model(scenario).history


def test_replay_stops_at_the_budget(tier: Any, monkeypatch: pytest.MonkeyPatch,
                                    tmp_path: Path) -> None:
    calls: list[Any] = []

    def fake_run(scenario: Any, cluster: Any, config: Any, progress: Any = None,
                 op_timeout: float = 60.0) -> FakeResult:
        calls.append(scenario)
        time.sleep(0.3)
        return FakeResult(scenario)

    monkeypatch.setattr(explore, "run_differential", fake_run)
    subset = tier.found[:10]
    result = replay_on_cluster(subset, object(), ModelConfig(), 1.0,
                               ProgressBar(io.StringIO(), tty=False), tmp_path)
    assert 2 <= result.ran <= 3 and result.ran == len(calls) == result.ok
    assert result.skipped == len(subset) - result.ran
    assert [c for c in calls] == [f.scenario for f in subset[:result.ran]]  # in order


def test_explore_command_on_the_model(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["explore", "--backend", "model", "--model-examples", "60", "--budget", "2m",
                 "--subset", "8", "--seed", "3"])
    out = capsys.readouterr().out
    assert code == 0
    assert "model tier: 60 scenarios" in out
    assert "diverse subset: 8 scenarios" in out
    assert "coverage: " in out
    assert main(["explore", "--budget", "soon"]) == 2


def test_a_scenario_running_past_the_budget_is_cut_off(tier: Any,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: Path) -> None:
    """A scenario stuck in op timeouts must not hold the run past its budget."""
    timeouts: list[float] = []

    def slow_run(scenario: Any, cluster: Any, config: Any, progress: Any = None,
                 op_timeout: float = 60.0) -> Any:
        timeouts.append(op_timeout)
        for op in scenario.ops:  # each op "waits" 0.2 s, then reports like run_differential
            time.sleep(0.2)
            progress(f"op {op.kind}: NOT settled")
        raise AssertionError("the budget should have stopped this scenario")

    monkeypatch.setattr(explore, "run_differential", slow_run)
    long = next(f for f in tier.found if len(f.scenario.ops) >= 8)
    began = time.monotonic()
    result = replay_on_cluster([long, long], object(), ModelConfig(), 0.5,
                               ProgressBar(io.StringIO(), tty=False), tmp_path)
    assert time.monotonic() - began < 1.5
    assert (result.ran, result.cut_off, result.skipped) == (0, 1, 1)
    assert timeouts == [5.0]  # never more than what is left, never below 5 s


def test_the_cluster_tier_side_by_side_runs_more_within_the_budget(
        tier: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``--jobs 3``: about three times the scenarios of one at a time in the same budget,
    never more than three at once, every one counted once."""
    import threading

    lock, active, peak = threading.Lock(), [0], [0]

    def fake_run(scenario: Any, cluster: Any, config: Any, progress: Any = None,
                 op_timeout: float = 60.0, cancel: Any = None) -> FakeResult:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.3)
        with lock:
            active[0] -= 1
        return FakeResult(scenario)

    monkeypatch.setattr(explore, "run_differential", fake_run)
    subset = [f for f in tier.found if not any(op.fault for op in f.scenario.ops)][:20]
    result = replay_on_cluster(subset, object(), ModelConfig(), 1.0,
                               ProgressBar(io.StringIO(), tty=False), tmp_path, jobs=3)
    assert peak[0] == 3
    assert 6 <= result.ran == result.ok <= 12  # one at a time: 2-3
    assert result.ran + result.cut_off + result.skipped == len(subset)
