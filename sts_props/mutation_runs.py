"""Mutation runs: is each broken model variant (:mod:`sts_props.mutants`) caught on a cluster?

For each mutant the *mutated* model runs differentially against the cluster on scenarios drawn
from its targeted strategy (:mod:`sts_props.mutant_scenarios`) until the first disagreement;
Hypothesis then shrinks that scenario, spending at most ``budget`` further cluster runs. A
*control* run replays the shrunk scenario with the unmutated model: the mutant counts as caught
only if the control agrees with the cluster, so a catch is due to the mutation and not to a
flaky comparison. :class:`MutationReport` gives, per mutant, caught / survived / unconfirmed,
the time to the first counterexample and the shrunk plan size, then the mutation score
(caught / total).

A disagreement is what :func:`~sts_props.differential.run_differential` reports (safety and
quiescent checks on the cluster History, model-vs-cluster comparison, a state the cluster never
reaches), plus the stricter comparison :func:`~sts_props.checks.strict.strict_differences`
(same pods in the same phase at the last settled point, even when blocked).

Usage (``sts-props mutants`` is the command line for it, :mod:`sts_props.cli.mutants`)::

    from sts_props.cluster.kwok import KwokCluster
    from sts_props.mutation_runs import run_mutation_suite

    with KwokCluster() as cluster:
        report = run_mutation_suite(cluster, ["rollback-not-bumped"], budget=2)
    print(report.render())          # one row per mutant, then the mutation score

>>> MutationReport([]).render().splitlines()[-1]
'mutation score: 0/0 (0%) in 0.0s'
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.errors import HypothesisException

from sts_props.checks import Violation
from sts_props.checks.strict import strict_differences
from sts_props.cluster.base import Cluster
from sts_props.cluster.driver import Cancelled
from sts_props.concurrent_runs import ControlPlaneLock, prefixed, run_all
from sts_props.differential import run_differential
from sts_props.model import ModelConfig
from sts_props.mutant_names import MUTANT_NAMES
from sts_props.mutant_scenarios import targeted_scenarios
from sts_props.mutants import Mutant, by_name
from sts_props.scenario import Scenario

__all__ = ["MUTANT_EXAMPLES", "MUTANT_OP_TIMEOUT", "MutantResult", "MutationReport", "run_mutant",
           "run_mutation_suite"]

Progress = Callable[[str], None]

#: how long the cluster may take to reach the model's state after one op, in a mutant run: the
#: targeted scenarios are small (<= 5 pods, no minReadySeconds), so a state that is not reached
#: in this time has diverged, and a shorter wait makes a catch cheaper
MUTANT_OP_TIMEOUT = 15.0
#: targeted scenarios tried per model mutant before it counts as survived
MUTANT_EXAMPLES = 10


# -- one mutant --------------------------------------------------------------------------------
@dataclass
class MutantResult:
    """What the differential runs found for one mutant."""

    mutant: Mutant
    #: differential runs made (generation, shrinking and the control run)
    runs: int = 0
    #: seconds from the mutant's start to its first counterexample (None: none found)
    first_seconds: float | None = None
    first_ops: int = 0
    shrunk: Scenario | None = None
    violations: list[Violation] = field(default_factory=list)
    #: which comparison flagged the shrunk scenario: "differential" or "strict"
    found_by: str = ""
    #: the control run (unmutated model, shrunk scenario): True = agrees with the cluster
    control_ok: bool | None = None
    control_violations: list[Violation] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def caught(self) -> bool:
        return self.shrunk is not None and self.control_ok is not False

    @property
    def verdict(self) -> str:
        if self.shrunk is None:
            return "survived"
        return "caught" if self.caught else "unconfirmed"

    def render(self) -> str:
        m = self.mutant
        head = f"{m.name} [{', '.join(m.rules)}]: {self.verdict}"
        if self.shrunk is None:
            return f"{head} after {self.runs} runs, {self.seconds:.1f}s"
        lines = [f"{head} in {self.first_seconds:.1f}s (first counterexample: "
                 f"{self.first_ops} ops; shrunk to {len(self.shrunk.ops)} ops; found by the "
                 f"{self.found_by} comparison; {self.runs} runs, {self.seconds:.1f}s)"]
        lines += [f"    - {_short(v.describe())}" for v in self.violations[:2]]
        if self.control_ok is False:
            lines.append("    control run (unmutated model) disagreed too, so this is not "
                         "counted as caught:")
            lines += [f"    - {_short(v.describe())}" for v in self.control_violations[:2]]
        lines.append("    shrunk plan: " + ", ".join(op.describe() for op in self.shrunk.ops))
        return "\n".join(lines)


def _short(text: str, limit: int = 400) -> str:
    return text if len(text) <= limit else text[: limit - 5] + " ..."


def _disagreement(scenario: Scenario, cluster: Cluster, config: ModelConfig,
                  op_timeout: float, lock: ControlPlaneLock | None = None,
                  cancel: threading.Event | None = None) -> tuple[list[Violation], str]:
    try:
        with lock.hold(scenario) if lock is not None else contextlib.nullcontext():
            result = run_differential(scenario, cluster, config, op_timeout=op_timeout,
                                      stop_at_divergence=True, cancel=cancel)
    except Cancelled:  # interrupted: the suite's results are dropped, find nothing
        return [], ""
    if result.violations:
        return result.violations, "differential"
    strict = strict_differences(result.model_history, result.cluster_history)
    return strict, "strict" if strict else ""


def run_mutant(cluster: Cluster, mutant: Mutant, *, examples: int = 10, budget: int = 4,
               op_timeout: float = MUTANT_OP_TIMEOUT, seed: int | None = None,
               control: bool = True, config: ModelConfig | None = None,
               progress: Progress = print, lock: ControlPlaneLock | None = None,
               cancel: threading.Event | None = None) -> MutantResult:
    """Run ``mutant``'s targeted scenarios on the mutated model and ``cluster`` until the first
    disagreement (at most ``examples`` scenarios), shrink it with at most ``budget`` further
    runs, then replay the shrunk scenario on the unmutated model (``control``).

    ``lock`` and ``cancel``: beside other mutants (:func:`run_mutation_suite` with ``jobs``),
    each run holds the lock (alone if it disturbs the whole cluster), and once ``cancel`` is
    set no further run starts."""
    base = config or ModelConfig.for_version(cluster.version())
    mutated = dataclasses.replace(base, mutant=mutant.name)
    out = MutantResult(mutant)
    started = time.monotonic()
    failed: list[tuple[Scenario, list[Violation], str]] = []
    first_run = [0]  # the run that found the first counterexample; the budget counts after it

    # quiet: no "add @seed(...) to this test" about this inner function when interrupted
    @settings(max_examples=examples, deadline=None, database=None, print_blob=False,
              verbosity=Verbosity.quiet, suppress_health_check=list(HealthCheck),
              phases=(Phase.generate, Phase.shrink))
    @given(targeted_scenarios(mutant.name))
    def prop(scenario: Scenario) -> None:
        known = next((f for f in failed if f[0] == scenario), None)
        if known is not None:  # a cluster is not deterministic: answer a repeat from memory
            raise AssertionError(known[1][0].describe())
        if failed and out.runs - first_run[0] >= budget:
            return  # shrink budget spent: keep the smallest failure found so far
        if cancel is not None and cancel.is_set():
            return
        out.runs += 1
        violations, how = _disagreement(scenario, cluster, mutated, op_timeout, lock, cancel)
        if not violations:
            progress(f"    run {out.runs}: {len(scenario.ops)} ops, no disagreement")
            return
        failed.append((scenario, violations, how))
        if out.first_seconds is None:
            out.first_seconds = time.monotonic() - started
            out.first_ops = len(scenario.ops)
            first_run[0] = out.runs
        progress(f"    run {out.runs}: {len(scenario.ops)} ops, {how}: "
                 f"{_short(violations[0].describe(), 200)}")
        raise AssertionError(violations[0].describe())

    runner = prop if seed is None else hypothesis_seed(seed)(prop)
    try:
        runner()
    except (AssertionError, HypothesisException, BaseExceptionGroup):
        if not failed:
            raise
    if failed:
        out.shrunk, out.violations, out.found_by = min(
            failed, key=lambda f: (len(f[0].ops), len(f[0].to_yaml())))
        if control:
            out.runs += 1
            out.control_violations, _ = _disagreement(out.shrunk, cluster, base, op_timeout,
                                                      lock, cancel)
            out.control_ok = not out.control_violations
    out.seconds = time.monotonic() - started
    return out


# -- the suite ---------------------------------------------------------------------------------
@dataclass
class MutationReport:
    """Every mutant's result and the mutation score."""

    results: list[MutantResult]
    seconds: float = 0.0

    @property
    def caught(self) -> int:
        return sum(r.caught for r in self.results)

    @property
    def score(self) -> float:
        return self.caught / len(self.results) if self.results else 0.0

    def table(self) -> str:
        """One row per mutant: name, rules, verdict, time to first counterexample, plan size."""
        rows = [("mutant", "rules", "verdict", "first (s)", "shrunk ops", "by", "runs")]
        for r in self.results:
            rows.append((r.mutant.name, ",".join(r.mutant.rules), r.verdict,
                         f"{r.first_seconds:.1f}" if r.first_seconds is not None else "-",
                         str(len(r.shrunk.ops)) if r.shrunk else "-", r.found_by or "-",
                         str(r.runs)))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
                         for row in rows)

    def render(self) -> str:
        return (f"{self.table()}\nmutation score: {self.caught}/{len(self.results)} "
                f"({self.score:.0%}) in {self.seconds:.1f}s")


def run_mutation_suite(cluster: Cluster, names: Sequence[str] = MUTANT_NAMES, *,
                       examples: int = MUTANT_EXAMPLES, budget: int = 4,
                       op_timeout: float = MUTANT_OP_TIMEOUT, seed: int | None = None,
                       control: bool = True, config: ModelConfig | None = None,
                       progress: Progress = print, jobs: int = 1) -> MutationReport:
    """:func:`run_mutant` for each named mutant (default: the whole catalogue).

    ``jobs``: up to this many mutants side by side on the cluster, each searching and
    shrinking one scenario at a time in its namespaces, as alone; a scenario that disturbs the
    whole cluster (:func:`~sts_props.concurrent_runs.runs_alone`) runs with nothing beside it
    (:class:`~sts_props.concurrent_runs.ControlPlaneLock`). Progress lines then start with the
    mutant's name; the report lists the mutants in the order of ``names``.

    >>> # with KwokCluster() as cluster:
    >>> #     print(run_mutation_suite(cluster, ["rollback-not-bumped"], budget=2).render())
    """
    started = time.monotonic()
    mutants = [by_name(name) for name in names]
    lock = ControlPlaneLock() if jobs > 1 else None

    def run(mutant: Mutant, cancel: threading.Event) -> MutantResult:
        say = progress if lock is None else prefixed(progress, f"[{mutant.name}] ")
        say(f"mutant {mutant.name}: {mutant.description}")
        result = run_mutant(cluster, mutant, examples=examples, budget=budget,
                            op_timeout=op_timeout, seed=seed, control=control, config=config,
                            progress=say, lock=lock, cancel=cancel)
        say("  " + result.render())
        return result

    results = run_all(mutants, jobs, lambda _: False, run)
    return MutationReport(results, time.monotonic() - started)
