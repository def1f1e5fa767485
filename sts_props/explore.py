"""Two-tier search: many scenarios on the model, a diverse few of them on a cluster.

The command line for it is ``sts-props explore`` (:mod:`sts_props.cli.explore`)::

    sts-props explore --budget 10m --backend kwok --manifests ../shared/seed/
    sts-props explore --budget 2m --model-examples 3000 --backend model    # tier one only

As a library::

    tier = explore_model(None, examples=3000, config=ModelConfig(), seconds=150)
    subset = pick_diverse(tier.found, 60)
    with KwokCluster() as cluster:
        result = replay_on_cluster(subset, cluster, ModelConfig(), 450, ProgressBar())

Tier one runs thousands of generated scenarios on the reference model (a few ms each) and
steers Hypothesis with :func:`hypothesis.target` toward interesting states: many distinct
revisions, blocked settles (a held or unready pod stopping a rollout), rejected ops, deep scale
changes, many faults. Tier two picks a *diverse* subset of what tier one saw (greedy: each pick
adds the most features not seen yet, e.g. a policy x strategy x retention cell, an op kind in a
cell, a revision count; ties go to the pick farthest from those chosen) and replays it, most
diverse first, differentially on the cluster until the time budget is spent.

The model tier gets at most a quarter of the budget on a cluster backend (all of it on
``--backend model``); a scenario whose expected duration would overrun the budget is not started,
and one still running when the budget is spent is cut off after its current op (so the run ends
at most one op timeout, 60 s, late; cluster start and stop come on top).

>>> budget_seconds("10m"), budget_seconds("90s"), budget_seconds("1.5h"), budget_seconds("45")
(600.0, 90.0, 5400.0, 45.0)
"""

from __future__ import annotations

import math
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from hypothesis import HealthCheck, Phase, Verbosity, given, settings, target
from hypothesis import seed as hypothesis_seed

from sts_props.concurrent_runs import run_concurrently, runs_alone
from sts_props.coverage import Coverage, features_of, jaccard_distance, metrics_of
from sts_props.differential import OP_TIMEOUT, DifferentialResult, run_differential
from sts_props.model import ModelConfig, run_model
from sts_props.scenario import ManifestError, Manifests, Scenario, cap_min_ready
from sts_props.strategies import scenarios
from sts_props.suite import save_failure
from sts_props.time_share import TimeUp, run_until_time_up

#: the model tier's share of the budget when a cluster tier follows
MODEL_SHARE = 0.25


def budget_seconds(text: str) -> float:
    """Parse ``10m``, ``90s``, ``1.5h`` or plain seconds; raises ManifestError (exit 2)."""
    import re

    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", text)
    seconds = 0.0 if m is None else float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[
        m.group(2)]
    # a few hundred digits are an infinite float: no deadline, and the clock cannot show it
    if not 0 < seconds < math.inf:
        raise ManifestError(f"--budget {text!r}: expected a positive duration like 10m, 90s, 1h")
    return seconds


# -- tier one: the model --------------------------------------------------------------
@dataclass(frozen=True)
class Found:
    """One model scenario with what made it interesting."""

    scenario: Scenario
    metrics: dict[str, float]
    features: frozenset[str]

    @property
    def interest(self) -> float:
        """One number for ties: each metric counts, dampened so no single one dominates."""
        return sum(math.log1p(v) for v in self.metrics.values())


class _BudgetSpent(Exception):
    """Raised between two ops of a cluster scenario once the budget is spent."""


@dataclass
class ModelTier:
    examples: int = 0
    seconds: float = 0.0
    stopped_by_time: bool = False
    found: list[Found] = field(default_factory=list)
    best: dict[str, float] = field(default_factory=dict)


def explore_model(base: Manifests | None, examples: int, config: ModelConfig,
                  seconds: float, seed: int | None = None, max_ops: int = 12,
                  max_replicas: int = 5, tick: Callable[[int], None] | None = None,
                  tier: ModelTier | None = None) -> ModelTier:
    """Run up to ``examples`` scenarios (or ``seconds``) on the model, targeting interest.

    ``tier`` is filled in as scenarios finish (a new one by default), so that a caller that
    keeps it can report what finished when the run is interrupted.
    """

    tier = tier if tier is not None else ModelTier()
    started = time.monotonic()
    seen: set[Scenario] = set()
    # The scenarios are those a cluster can run (minReadySeconds capped, at least a few ops),
    # so that the model explores exactly what tier two may replay.
    strategy = scenarios(base=base, max_ops=max_ops, max_replicas=max_replicas,
                         recreate=config.gate("StatefulSetRecreateStrategy")).map(cap_min_ready)

    # quiet: no "add @seed(...) to this test" about this inner function when interrupted
    @settings(max_examples=examples, deadline=None, database=None, print_blob=False,
              verbosity=Verbosity.quiet, suppress_health_check=list(HealthCheck),
              phases=(Phase.generate, Phase.target))
    @given(strategy)
    def prop(scenario: Scenario) -> None:
        if time.monotonic() - started > seconds:
            raise TimeUp
        result = run_model(scenario, config)
        metrics = metrics_of(result)
        for name, value in metrics.items():
            target(value, label=name)
        tier.examples += 1
        for name, value in metrics.items():
            tier.best[name] = max(tier.best.get(name, 0.0), value)
        if scenario not in seen:
            seen.add(scenario)
            tier.found.append(Found(scenario, metrics, features_of(result, metrics)))
        if tick is not None:
            tick(tier.examples)

    runner = prop if seed is None else hypothesis_seed(seed)(prop)
    try:
        tier.stopped_by_time = run_until_time_up(runner)
    finally:
        tier.seconds = time.monotonic() - started
    return tier


def pick_diverse(pool: Sequence[Found], limit: int) -> list[Found]:
    """Greedy max-diversity: each pick adds the most unseen features; ties go to the pick
    farthest (Jaccard) from everything chosen, then to the most interesting.

    >>> from sts_props.ops import Create
    >>> sc = Scenario(Manifests.seed(), (Create(),))
    >>> a = Found(sc, {}, frozenset({"x", "y"}))
    >>> b = Found(sc, {}, frozenset({"x"}))
    >>> c = Found(sc, {}, frozenset({"z"}))
    >>> [f.features for f in pick_diverse([a, b, c], 2)] == [a.features, c.features]
    True
    """
    chosen: list[Found] = []
    covered: set[str] = set()
    nearest = [1.0] * len(pool)  # Jaccard distance to the closest chosen one
    left = set(range(len(pool)))
    while left and len(chosen) < limit:
        best = max(left, key=lambda i: (len(pool[i].features - covered), nearest[i],
                                        pool[i].interest, -i))
        left.discard(best)
        pick = pool[best]
        chosen.append(pick)
        covered |= pick.features
        for i in left:
            nearest[i] = min(nearest[i], jaccard_distance(pool[i].features, pick.features))
    return chosen


# -- tier two: the cluster --------------------------------------------------------------
class ProgressBar:
    """A single updating line on a TTY; plain lines otherwise (CI logs)."""

    def __init__(self, stream: TextIO = sys.stdout, tty: bool | None = None) -> None:
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self._width = 0

    def update(self, done: int, total: int, elapsed: float, budget: float, note: str) -> None:
        filled = int(20 * done / total) if total else 20
        line = (f"[{'#' * filled}{'.' * (20 - filled)}] {done}/{total} "
                f"{clock(elapsed)}/{clock(budget)}  {note}")
        if self.tty:
            pad = max(0, self._width - len(line))
            self.stream.write("\r" + line + " " * pad)
            self._width = len(line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self._width:
            self.stream.write("\n")
            self.stream.flush()
        self._width = 0


def clock(seconds: float) -> str:
    """Minutes and seconds, as the progress bar and the summary print them.

    >>> clock(754.9)
    '12m34s'
    """
    return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"


@dataclass
class ClusterTier:
    ran: int = 0
    ok: int = 0
    failures: list[tuple[Scenario, str, Path]] = field(default_factory=list)
    livelocks: int = 0
    #: scenarios that met a known upstream deviation (F-11), compared with the model up to it
    known: int = 0
    seconds: float = 0.0
    skipped: int = 0
    #: scenarios the budget cut off in the middle (not counted as run); more than 1 only
    #: with ``--jobs``
    cut_off: int = 0
    #: the seconds this tier was given
    budget: float = 0.0
    coverage: Coverage = field(default_factory=Coverage)
    rules: Counter[str] = field(default_factory=Counter)


def replay_on_cluster(subset: Sequence[Found], cluster: Any, config: ModelConfig,
                      seconds: float, bar: ProgressBar,
                      artifacts_dir: Path = Path("artifacts"),
                      tier: ClusterTier | None = None, jobs: int = 1) -> ClusterTier:
    """Replay ``subset`` in order, differentially, while the budget lasts.

    ``tier`` is filled in as scenarios finish (a new one by default), for a caller that
    reports what finished when the run is interrupted. ``jobs`` above 1 runs that many side
    by side (:mod:`sts_props.concurrent_runs`; one with a cluster-wide fault runs alone).
    """
    tier = tier if tier is not None else ClusterTier()
    tier.budget = seconds
    started = time.monotonic()
    try:
        if jobs > 1:
            _replay_side_by_side(subset, cluster, config, seconds, bar, artifacts_dir, tier,
                                 started, jobs)
        else:
            _replay(subset, cluster, config, seconds, bar, artifacts_dir, tier, started)
    finally:
        tier.seconds = time.monotonic() - started
    return tier


def _count(tier: ClusterTier, index: int, found: Found, result: DifferentialResult,
           artifacts_dir: Path) -> str:
    """Count one finished replay in the tier; the progress bar's note for it."""
    tier.ran += 1
    tier.rules.update(result.rules)
    tier.livelocks += bool(result.stopped)
    tier.known += bool(result.known)
    tier.coverage.record(found.scenario, [ev.phase != "fail" for ev in
                                          result.model_history.ops() if ev.phase != "invoke"])
    if result.violations:
        where = save_failure(artifacts_dir, result)
        tier.failures.append((found.scenario, result.violations[0].describe(), where))
        return f"scenario {index + 1}: FAILED ({where})"
    tier.ok += 1
    return f"scenario {index + 1}: ok in {result.seconds:.0f}s"


def _replay_side_by_side(subset: Sequence[Found], cluster: Any, config: ModelConfig,
                         seconds: float, bar: ProgressBar, artifacts_dir: Path,
                         tier: ClusterTier, started: float, jobs: int) -> None:
    """``--jobs`` above 1: the subset ``jobs`` at a time until the budget is spent; a
    scenario the budget cuts off is not counted (as one at a time)."""
    deadline = started + seconds
    numbers = {id(found): index for index, found in enumerate(subset)}

    def run(found: Found, cancel: threading.Event) -> DifferentialResult | None:
        def over_budget(_line: str) -> None:
            if time.monotonic() > deadline:
                raise _BudgetSpent

        try:
            return run_differential(
                found.scenario, cluster, config, progress=over_budget, cancel=cancel,
                op_timeout=max(5.0, min(OP_TIMEOUT, deadline - time.monotonic())))
        except _BudgetSpent:
            return None

    def done(found: Found, result: DifferentialResult | None) -> None:
        index = numbers[id(found)]
        if result is None:
            tier.cut_off += 1
            note = f"scenario {index + 1}: cut off (budget spent)"
        else:
            note = _count(tier, index, found, result, artifacts_dir)
        bar.update(tier.ran, len(subset), time.monotonic() - started, seconds, note)

    def spent(_result: DifferentialResult | None) -> bool:
        elapsed = time.monotonic() - started
        return elapsed + (elapsed / tier.ran if tier.ran else 0.0) / jobs > seconds

    finished = run_concurrently(
        subset, jobs, alone=lambda found: runs_alone(found.scenario),
        run=run, done=done, failed=spent)
    tier.skipped = len(subset) - finished
    bar.close()


def _replay(subset: Sequence[Found], cluster: Any, config: ModelConfig, seconds: float,
            bar: ProgressBar, artifacts_dir: Path, tier: ClusterTier, started: float) -> None:

    for index, found in enumerate(subset):
        elapsed = time.monotonic() - started
        mean = elapsed / tier.ran if tier.ran else 0.0
        if elapsed + mean > seconds:
            tier.skipped = len(subset) - index
            break
        deadline = started + seconds

        def over_budget(_line: str, deadline: float = deadline) -> None:
            # Called after every op: a scenario whose ops keep running into their timeout
            # would otherwise hold the run far past the budget. Leaving through an exception
            # still removes the scenario's namespace (ClusterRun's __exit__).
            if time.monotonic() > deadline:
                raise _BudgetSpent

        try:
            result = run_differential(
                found.scenario, cluster, config, progress=over_budget,
                op_timeout=max(5.0, min(OP_TIMEOUT, deadline - time.monotonic())))
        except _BudgetSpent:
            tier.cut_off, tier.skipped = 1, len(subset) - index - 1
            bar.update(tier.ran, len(subset), time.monotonic() - started, seconds,
                       f"scenario {index + 1}: cut off (budget spent)")
            break
        note = _count(tier, index, found, result, artifacts_dir)
        bar.update(tier.ran, len(subset), time.monotonic() - started, seconds, note)
    bar.close()


__all__ = ["MODEL_SHARE", "ClusterTier", "Found", "ModelTier", "ProgressBar", "budget_seconds",
           "clock", "explore_model", "features_of", "metrics_of", "pick_diverse",
           "replay_on_cluster"]
