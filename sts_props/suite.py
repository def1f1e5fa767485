"""The property suite: generated scenarios on the model (:func:`run_model_suite`) or
differentially on the model and a cluster (:func:`run_cluster_suite`), every check on each
History.

>>> summary = run_model_suite(examples=5, seed=1, progress=lambda s: None)
>>> summary.scenarios, summary.violations
(5, [])

A failing property is shrunk by Hypothesis; the summary then carries the minimal scenario (as a
replayable plan) and the violations found on it.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.errors import HypothesisException

from sts_props.checks import Violation, run_history_checks
from sts_props.cluster.base import Cluster, load_client
from sts_props.concurrent_runs import run_concurrently, runs_alone
from sts_props.corners import corners_of
from sts_props.coverage import Coverage
from sts_props.defaults import BACKENDS, DEFAULT_VERSION
from sts_props.differential import OP_TIMEOUT, DifferentialResult, run_differential
from sts_props.history import History
from sts_props.model import Chooser, ModelConfig, ModelResult, run_model
from sts_props.ops import FAULT_OPS, OP_TYPES
from sts_props.plan import Plan
from sts_props.report import write_artifacts
from sts_props.scenario import Manifests, Scenario, cap_min_ready
from sts_props.selection import (
    MAX_ALONE_PICKS,
    POOL_EXAMPLES,
    Candidate,
    Pool,
    build_pool,
    fingerprint,
    pick,
)
from sts_props.shrink import shrink_failure
from sts_props.strategies import scenarios
from sts_props.strategies.chooser import DataChooser
from sts_props.strategies.ops import GUARANTEED_FAULTS, INSERTABLE_FAULTS, with_fault

if TYPE_CHECKING:
    from sts_props.strategies.chooser import Interleaving

Progress = Callable[[str], None]


class _Record(Protocol):
    """Counts a passing cluster scenario in the summary and says so (``record`` below)."""

    def __call__(self, scenario: Scenario, result: DifferentialResult,
                 number: int | None = None) -> None: ...


@dataclass(frozen=True)
class Passed:
    """One passing scenario and all that the summary counts of it.

    The summary's sums (ops, steps, rules, faults, coverage ...) are sums over its list of
    these, so a Ctrl-C, which lands between any two statements, cannot leave one sum a
    scenario ahead of another: a scenario counts once it is appended, in every sum at once.
    """

    scenario: Scenario
    seconds: float
    #: per op after the create: was it accepted (False: rejected, as the model expected)
    accepted: tuple[bool, ...]
    #: model steps (model suite) or cluster History records (cluster runs)
    steps: int
    rules: Counter[str] = field(default_factory=Counter)
    #: fault ops performed (accepted), by kind
    faults: Counter[str] = field(default_factory=Counter)
    #: the documented livelock (F-1) the scenario reached, if any
    livelock: str = ""
    #: the situation corners reached (cluster runs; None: not recorded)
    corners: Counter[str] | None = None
    #: liveness verdicts after its faults (sts_props.checks.liveness)
    liveness: Counter[str] = field(default_factory=Counter)
    #: seconds of each component restart it made
    restart_seconds: tuple[float, ...] = ()
    #: known upstream deviations the cluster showed (DifferentialResult.known)
    known: tuple[str, ...] = ()


@dataclass
class SuiteSummary:
    """What a suite run did and found.

    >>> from sts_props.ops import Create, Settle
    >>> summary = SuiteSummary("model")
    >>> summary.add(Passed(Scenario(Manifests.seed(), (Create(), Settle())), 0.1,
    ...                    accepted=(True, True), steps=12))
    >>> summary.scenarios, summary.ops, summary.steps, summary.coverage.scenarios
    (1, 2, 12, 1)
    """

    backend: str
    violations: list[Violation] = field(default_factory=list)
    counterexample: Scenario | None = None
    seconds: float = 0.0
    #: the directory of the (last) failing run's files (sts_props.report), if written
    artifacts: Path | None = None
    #: every passing scenario, in the order they finished: what every sum below adds up
    passed: list[Passed] = field(default_factory=list)
    #: the op kinds the run could generate (the coverage's denominator; None: all) and why
    #: some are left out (sts_props.coverage.Coverage)
    kinds: tuple[str, ...] | None = None
    kinds_note: str = ""
    #: fault kinds the backend cannot perform, skipped (``--faults``)
    skipped_faults: list[str] = field(default_factory=list)
    #: components that exited by themselves and were restarted (Cluster.supervise)
    crashes: list[str] = field(default_factory=list)
    #: how the cluster scenarios were chosen (``--selection``), one line for the summary
    selection: str = ""
    #: seconds from the start of the run to the end of the first failing scenario run
    first_violation_seconds: float | None = None

    def add(self, passed: Passed) -> None:
        """Count a passing scenario: one append, see :class:`Passed`."""
        self.passed.append(passed)

    @property
    def ops(self) -> int:
        return sum(len(p.scenario.ops) for p in self.passed)

    @property
    def steps(self) -> int:
        return sum(p.steps for p in self.passed)

    @property
    def rejected_ops(self) -> int:
        return sum(p.accepted.count(False) for p in self.passed)

    @property
    def rules(self) -> Counter[str]:
        return sum((p.rules for p in self.passed), Counter())

    @property
    def faults(self) -> Counter[str]:
        """Fault ops performed (accepted), by kind."""
        return sum((p.faults for p in self.passed), Counter())

    @property
    def fault_scenarios(self) -> Counter[str]:
        """Passing scenarios with at least one accepted fault op of a kind, by kind (issue 5)."""
        return Counter(kind for p in self.passed for kind in p.faults)

    @property
    def fault_bearing(self) -> int:
        """Passing scenarios with at least one accepted fault op."""
        return sum(1 for p in self.passed if p.faults)

    @property
    def livelocks(self) -> list[str]:
        """Scenarios that reached a documented livelock (F-1), compared only up to it."""
        return [p.livelock for p in self.passed if p.livelock]

    @property
    def known(self) -> Counter[str]:
        """Passing scenarios that showed a known upstream deviation, by finding (F-11: compared
        with the model up to it)."""
        return Counter(finding for p in self.passed
                       for finding in sorted({_finding(line) for line in p.known}))

    @property
    def liveness(self) -> Counter[str]:
        return sum((p.liveness for p in self.passed), Counter())

    @property
    def restart_seconds(self) -> list[float]:
        return [sec for p in self.passed for sec in p.restart_seconds]

    @property
    def coverage(self) -> Coverage:
        """Policy x strategy x retention x op counts (and corners) of the passing scenarios,
        counted afresh from :attr:`passed` at each call."""
        cov = Coverage(kinds=self.kinds, kinds_note=self.kinds_note)
        for p in self.passed:
            cov.record(p.scenario, p.accepted)
            if p.corners is not None:
                cov.record_corners(p.corners)
        return cov

    @property
    def scenarios(self) -> int:
        """The passing scenarios so far: the length of :attr:`passed`, not a second count.
        A Ctrl-C lands between any two statements, and a separate counter once said 532 in
        the summary of an interrupted run whose JUnit file had the 531 scenarios of
        ``passed``."""
        return len(self.passed)

    @property
    def ok(self) -> bool:
        return not self.violations

    def render(self) -> str:
        """The summary printed by ``sts-props check``."""
        lines = [
            f"backend: {self.backend}",
            *([f"selection: {self.selection}"] if self.selection else []),
            f"scenarios: {self.scenarios}  ops: {self.ops}  rejected ops: {self.rejected_ops}  "
            f"model steps: {self.steps}  wall time: {self.seconds:.1f}s",
            f"rules exercised ({len(self.rules)}): "
            + ", ".join(f"{r}x{n}" for r, n in sorted(self.rules.items())),
            f"violations: {len(self.violations)}",
        ]
        faults = self.faults
        if faults or self.skipped_faults:
            in_scenarios = self.fault_scenarios
            lines.insert(-1, f"faults ({self.fault_bearing} fault-bearing scenarios): " + (
                ", ".join(f"{k}x{n} (in {in_scenarios[k]} scenarios)"
                          for k, n in sorted(faults.items())) or "none"))
            if self.skipped_faults:
                lines.insert(-1, "faults skipped (the backend cannot perform them): "
                             + ", ".join(self.skipped_faults))
            if self.restart_seconds:
                r = self.restart_seconds
                lines.insert(-1, f"component restarts: {len(r)}, {min(r):.1f}-{max(r):.1f}s "
                                 f"(mean {sum(r) / len(r):.1f}s) until serving again")
            if self.liveness:
                lines.insert(-1, "liveness after faults: " + ", ".join(
                    f"{k} {n}" for k, n in sorted(self.liveness.items())))
        for crash in self.crashes:
            lines.insert(-1, f"control-plane component restarted by the harness: {crash}")
        if self.livelocks:
            lines.insert(-1, f"documented livelock F-1 reached (compared up to it): "
                             f"{len(self.livelocks)} scenario(s)")
        if self.known:
            lines.insert(-1, "known upstream deviations met (docs/findings.md): " + ", ".join(
                f"{finding} in {n} scenario(s)" for finding, n in sorted(self.known.items())))
        for v in self.violations:
            lines.append(f"  - {v.describe()}")
        if self.counterexample is not None:
            lines.append("minimal counterexample (replayable plan):")
            lines.extend("    " + line for line in self.counterexample.to_yaml().splitlines())
        if self.artifacts is not None:
            lines.append(f"artifacts (plan, histories, explanation, timeline): {self.artifacts}")
        coverage = self.coverage
        if coverage.scenarios:
            lines.append(coverage.render())
        return "\n".join(lines)


def check_history_of(scenario: Scenario, config: ModelConfig,
                     chooser: Chooser | None = None) -> tuple[list[Violation], ModelResult]:
    """Run ``scenario`` on the model and every check on its History."""
    result = run_model(scenario, config, chooser)
    violations = run_history_checks(result.history)
    return violations, result


def run_model_suite(
    base: Manifests | None = None,
    examples: int = 200,
    config: ModelConfig | None = None,
    seed: int | None = None,
    progress: Progress = print,
    database_dir: Path | None = None,
    max_ops: int = 20,
    max_replicas: int = 5,
    artifacts_dir: Path | None = None,
    fault_kinds: frozenset[str] = frozenset(),
    summary: SuiteSummary | None = None,
) -> SuiteSummary:
    """Generate ``examples`` scenarios (on ``base`` if given) and check each model History.

    With ``artifacts_dir``, the minimal failing scenario's files are written there
    (:func:`save_model_failure`), its interleaving decisions included so that it replays.

    ``summary`` is filled in as scenarios finish (a new one by default): a caller that keeps
    it can report what finished when the run is interrupted (a KeyboardInterrupt ends the run
    at once, and the summary then holds the scenarios that passed and, if shrinking was under
    way, the smallest failing scenario found so far).
    """

    cfg = config or ModelConfig()
    summary = summary if summary is not None else SuiteSummary(backend="")
    summary.backend = f"model ({cfg.version})"
    started = time.monotonic()
    last_report = [started]
    failed: list[tuple[Scenario, list[Violation]]] = []
    #: the History and the chooser's decisions of each failure, for the artifacts
    failed_runs: list[tuple[History, tuple[Interleaving, ...]]] = []

    db = DirectoryBasedExampleDatabase(str(database_dir)) if database_dir else None

    # Quiet: the summary is the report. Hypothesis would otherwise print, on an interrupt,
    # "add @seed(...) to this test": advice about an inner function nobody can edit (--seed
    # is how a run is repeated).
    @settings(max_examples=examples, deadline=None, database=db, print_blob=False,
              verbosity=Verbosity.quiet, suppress_health_check=list(HealthCheck),
              phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink))
    @given(scenarios(base=base, max_ops=max_ops, max_replicas=max_replicas,
                     fault_kinds=fault_kinds, recreate=cfg.gate("StatefulSetRecreateStrategy")),
           st.data())
    def prop(scenario: Scenario, data: st.DataObject) -> None:
        chooser = DataChooser(data)
        began = time.monotonic()
        violations, result = check_history_of(scenario, cfg, chooser)
        if violations:
            # Hypothesis calls this again while shrinking: the last failure is the minimal one.
            failed.append((scenario, violations))
            failed_runs.append((result.history, tuple(chooser.log)))
            raise AssertionError(violations[0].describe())
        summary.add(Passed(
            scenario, time.monotonic() - began, tuple(o.ok for o in result.outcomes),
            result.steps, Counter(result.rules),
            Counter(op.kind for op, o in zip(scenario.ops, result.outcomes, strict=True)
                    if o.ok and op.kind in fault_kinds),
            livelock=(result.livelocks or [""])[0]))
        now = time.monotonic()
        if now - last_report[0] >= 5:
            last_report[0] = now
            progress(f"  ... {summary.scenarios} scenarios, {summary.steps} model steps, "
                     f"{now - started:.0f}s")

    runner = prop if seed is None else hypothesis_seed(seed)(prop)
    try:
        runner()
    except AssertionError:
        if not failed:
            raise  # not a property failure of ours: a bug in the harness itself
        summary.counterexample, summary.violations = failed[-1]
        if artifacts_dir is not None:
            history, decisions = failed_runs[-1]
            summary.artifacts = save_model_failure(
                artifacts_dir, summary.counterexample, history, summary.violations, cfg, seed,
                decisions)
    except KeyboardInterrupt:
        if failed:  # interrupted while shrinking: the smallest failure so far
            summary.counterexample, summary.violations = failed[-1]
        raise
    finally:
        summary.seconds = time.monotonic() - started
    return summary


#: ``--faults`` guarantees each of ``sts_props.strategies.ops.GUARANTEED_FAULTS`` (the fault
#: kinds whose generator recipe says so) in at least this many cluster scenarios
GUARANTEED_FAULT_SCENARIOS = 2

#: ``--selection`` values: scenarios drawn by Hypothesis, or picked from a model pool
SELECTIONS = ("model", "plain")


def run_cluster_suite(
    cluster: Cluster,
    base: Manifests | None = None,
    examples: int = 30,
    config: ModelConfig | None = None,
    seed: int | None = None,
    progress: Progress = print,
    database_dir: Path | None = None,
    min_ops: int = 8,
    max_ops: int = 12,
    max_replicas: int = 5,
    shrink_budget: int = 20,
    faults: bool = True,
    artifacts_dir: Path = Path("artifacts"),
    fault_kinds: frozenset[str] = frozenset(),
    some_faults: frozenset[str] = frozenset(),
    selection: str = "model",
    pool_examples: int | None = None,
    on_result: Callable[[DifferentialResult], None] | None = None,
    summary: SuiteSummary | None = None,
    op_timeout: float = OP_TIMEOUT,
    stop_at_divergence: bool = True,
    jobs: int = 1,
    cancel: threading.Event | None = None,
) -> SuiteSummary:
    """Scenarios run differentially on the model and on ``cluster``.

    ``selection="model"`` (``--selection model``, the default): a pool of ``pool_examples``
    scenarios (default :data:`sts_props.selection.POOL_EXAMPLES`) runs on the model first and
    the ``examples`` that add the most not-yet-covered features run on the cluster, most
    diverse first (:mod:`sts_props.selection`); a failure is shrunk by
    :func:`sts_props.shrink.shrink_failure`. ``selection="plain"``: Hypothesis generates the
    scenarios and shrinks a failure, as before issue 13.

    A slow system: no deadline, few examples, and a *shrink budget*: after the first failure
    at most ``shrink_budget`` further cluster runs are spent on shrinking; the smallest failing
    scenario found by then is reported.

    ``fault_kinds`` (``--faults``) mixes those issue-5 faults into the scenarios, less the ones
    the cluster cannot perform (named in the summary), and makes sure that at least
    :data:`GUARANTEED_FAULT_SCENARIOS` scenarios each have a controller restart, an apiserver
    restart, a node failure, a write-denial window and held scheduling (those of
    :data:`~sts_props.strategies.ops.GUARANTEED_FAULTS` the cluster performs; inserted into the
    first scenarios that lack them).

    ``some_faults`` (the default of ``check`` on a cluster, model selection only; ignored with
    ``fault_kinds``): the model pool may draw those faults too (less the ones the cluster
    cannot perform), and the pick covers them like any op kind, with at most
    :data:`~sts_props.selection.MAX_ALONE_PICKS` scenarios whose fault makes them run alone.

    ``on_result`` sees every passing scenario's differential result (benchmarks read wall
    time and event span from it).

    ``summary``: as for :func:`run_model_suite`, filled in as scenarios finish.

    ``op_timeout`` and ``stop_at_divergence`` go to :func:`run_differential`: by default a
    scenario, and every one re-run while shrinking, ends at the first op whose state the
    cluster does not reach (one wait deadline, not one per later op).

    ``jobs`` (``--jobs``, model selection only): up to that many scenarios at once, each in its
    own namespace; a scenario with an op that disturbs the whole cluster (:data:`SHARED_OPS`)
    runs alone (:mod:`sts_props.concurrent_runs`). Shrinking stays one run at a time.

    ``cancel``: for a suite that is one of several side by side (controller mutants, each on
    its own cluster): once set, the scenario in flight ends at its next op or wait and
    :class:`~sts_props.cluster.driver.Cancelled` is raised.
    """
    if selection not in SELECTIONS:
        raise ValueError(f"selection {selection!r}: expected one of {', '.join(SELECTIONS)}")
    if jobs < 1 or (jobs > 1 and selection != "model"):
        raise ValueError(f"jobs {jobs}: at least 1, and above 1 only with model selection "
                         "(Hypothesis generates plain scenarios one at a time)")
    cfg = config or ModelConfig.for_version(cluster.version())
    summary = summary if summary is not None else SuiteSummary(backend="")
    summary.backend = f"{cluster.name} ({cluster.version()}) vs model ({cfg.version})"
    fault_kinds, some_faults, summary.skipped_faults = _suite_faults(
        cluster.capabilities.faults, fault_kinds, some_faults, selection)
    summary.kinds, summary.kinds_note = _run_kinds(
        tuple(OP_TYPES), FAULT_OPS, fault_kinds | some_faults, summary.skipped_faults)
    guaranteed = [k for k in GUARANTEED_FAULTS if k in fault_kinds]
    insertable = [k for k in INSERTABLE_FAULTS if k in fault_kinds]
    started = time.monotonic()

    # Counted as scenarios are prepared, not as they pass: with --jobs several are prepared
    # before the first has finished.
    planned: Counter[str] = Counter()
    prepared = [0]

    def prepare(scenario: Scenario) -> Scenario:
        """The --faults guarantees, applied to the next scenario to run (not while shrinking)."""
        for kind in guaranteed:
            if planned[kind] < GUARANTEED_FAULT_SCENARIOS and not any(
                    op.kind == kind for op in scenario.ops):
                scenario = with_fault(scenario, kind)
                break
        if insertable and not any(op.kind in fault_kinds for op in scenario.ops):
            # --faults: every scenario bears at least one fault (kinds taken in turn)
            scenario = with_fault(scenario, insertable[prepared[0] % len(insertable)])
        planned.update({op.kind for op in scenario.ops if op.kind in guaranteed})
        prepared[0] += 1
        return scenario

    def record(scenario: Scenario, result: DifferentialResult, number: int | None = None) -> None:
        """Count a passing scenario and say how it went (with its ``number``: in one line that
        names it, for scenarios side by side, whose start was not announced)."""
        summary.add(Passed(
            scenario, result.seconds,
            tuple(ev.phase != "fail" for ev in result.model_history.ops()
                  if ev.phase != "invoke"),
            len(result.cluster_history), Counter(result.rules), Counter(result.faults),
            livelock=result.stopped or "", corners=corners_of(result.model_history),
            liveness=Counter(v.verdict + ("-stuck" if v.blockers and v.verdict == "converged"
                                          else "") for _, _, v in result.liveness),
            restart_seconds=tuple(sec for _, sec in result.fault_seconds),
            known=tuple(result.known)))
        took = f"ok in {result.seconds:.1f}s (cluster events span {result.event_span:.1f}s)"
        if number is not None:
            progress(f"{_headline(number, scenario)}: {took}")
        for line in result.known:
            progress(f"    {line}")
        if result.faults:
            progress("    faults: " + ", ".join(f"{k}x{n}" for k, n in sorted(
                result.faults.items())) + "; recovery: " + "; ".join(
                f"op {i} {k}: {v.describe()[:140]}" for i, k, v in result.liveness[:4]))
        if number is None:
            progress(f"    {took}")
        if on_result is not None:
            on_result(result)

    def differ(scenario: Scenario, told: threading.Event | None = None) -> DifferentialResult:
        """One differential run (ends early once ``told``, or the suite's ``cancel``, is set);
        notes when the first violation was found."""
        result = run_differential(scenario, cluster, cfg, op_timeout=op_timeout,
                                  stop_at_divergence=stop_at_divergence, cancel=told or cancel)
        if result.violations and summary.first_violation_seconds is None:
            summary.first_violation_seconds = time.monotonic() - started
        return result

    def announce(number: int, scenario: Scenario) -> None:
        progress(_headline(number, scenario))

    try:
        if selection == "model":
            _run_selected(cfg, summary, base, examples, seed, progress, min_ops,
                          max_ops, max_replicas, shrink_budget, faults, artifacts_dir,
                          fault_kinds, pool_examples, prepare, record, announce, differ, jobs,
                          some_faults, cancel)
        else:
            _run_plain(cfg, summary, base, examples, seed, database_dir, min_ops,
                       max_ops, max_replicas, shrink_budget, faults, artifacts_dir, fault_kinds,
                       progress, prepare, record, announce, differ)
    finally:  # interrupted too: the summary says what finished
        summary.seconds = time.monotonic() - started
        summary.crashes = list(cluster.crashes)
    return summary


def _run_kinds(kinds: tuple[str, ...], fault_ops: Sequence[str], asked: frozenset[str],
               skipped: Sequence[str]) -> tuple[tuple[str, ...], str]:
    """The op kinds a cluster run can generate, and a note on those left out.

    >>> _run_kinds(("create", "scale", "kill_pod", "fail_node"), ("kill_pod", "fail_node"),
    ...            frozenset({"fail_node"}), ["kill_pod"])
    (('create', 'scale', 'fail_node'), 'of the 4 less 1 fault kind the backend cannot perform')
    >>> _run_kinds(("create", "kill_pod"), ("kill_pod",), frozenset(), [])[1]
    'of the 2 less the 1 fault kind left out (--faults mixes them in)'
    """
    ran = tuple(k for k in kinds if k not in fault_ops or k in asked)
    left = len(kinds) - len(ran)
    if not left:
        return ran, ""
    plural = "s" if left > 1 else ""
    if not asked and not skipped:
        return ran, (f"of the {len(kinds)} less the {left} fault kind{plural} left out "
                     "(--faults mixes them in)")
    return ran, f"of the {len(kinds)} less {left} fault kind{plural} the backend cannot perform"


def _suite_faults(can: frozenset[str], fault_kinds: frozenset[str], some_faults: frozenset[str],
                  selection: str) -> tuple[frozenset[str], frozenset[str], list[str]]:
    """``(fault_kinds, some_faults, skipped)`` as a suite on a cluster that performs ``can``
    uses them: those it can perform (``some_faults`` only with model selection and without
    ``fault_kinds``), and the asked ones it cannot."""
    if fault_kinds or selection != "model":
        some_faults = frozenset()
    return (frozenset(fault_kinds) & can, frozenset(some_faults) & can,
            sorted(set(fault_kinds | some_faults) - can))


def _suite_pool(cfg: ModelConfig, base: Manifests | None, seed: int | None, size: int,
                min_ops: int, max_ops: int, max_replicas: int, faults: bool,
                fault_kinds: frozenset[str], some_faults: frozenset[str],
                cancel: threading.Event | None = None) -> Pool:
    """The model pool of a suite with model selection (also the one :func:`start_pool`
    builds ahead: the same arguments make the same pool, built once)."""
    return build_pool(base, cfg, examples=size, seed=seed, min_ops=min_ops, max_ops=max_ops,
                      max_replicas=max_replicas, fault_kinds=fault_kinds or some_faults,
                      faults=faults, every_fault=bool(fault_kinds), cancel=cancel)


def _pool_and_pick(cfg: ModelConfig, base: Manifests | None, seed: int | None, size: int,
                   examples: int, min_ops: int, max_ops: int, max_replicas: int, faults: bool,
                   fault_kinds: frozenset[str], some_faults: frozenset[str], jobs: int
                   ) -> tuple[Pool, list[Candidate]]:
    """The model pool of a suite with model selection and the ``examples`` it picks."""
    pool = _suite_pool(cfg, base, seed, size, min_ops, max_ops, max_replicas, faults,
                       fault_kinds, some_faults)
    # A scenario that runs alone holds the whole cluster: it costs `jobs` scenarios' time.
    return pool, pick(pool.candidates, examples, alone_cost=float(jobs),
                      max_alone=None if fault_kinds else MAX_ALONE_PICKS)


def selected_scenarios(faults_performed: frozenset[str], version: str, *, examples: int,
                       seed: int, base: Manifests | None = None, min_ops: int = 8,
                       max_ops: int = 12, max_replicas: int = 5, faults: bool = True,
                       fault_kinds: frozenset[str] = frozenset(),
                       some_faults: frozenset[str] = frozenset(),
                       pool_examples: int | None = None, jobs: int = 1) -> list[Scenario]:
    """The scenarios that :func:`run_cluster_suite` with the same arguments (model selection)
    picks for a cluster of ``version`` that performs ``faults_performed``, in the order picked,
    before ``--faults`` adds any. The pool is kept in the process (built once per seed and
    arguments), so a suite run after this uses this very pool and pick.

    Why not compute it from the seed elsewhere: Hypothesis also draws constants it finds in
    the loaded modules, so the same seed can draw differently in a process that has loaded
    other modules. A test whose premise is a property of the picked scenarios looks here,
    in its own process, before the run (``tests/test_controller_mutants_kwok.py``).
    """
    fault_kinds, some_faults, _ = _suite_faults(faults_performed, fault_kinds, some_faults,
                                                "model")
    _, chosen = _pool_and_pick(ModelConfig.for_version(version), base, seed,
                               pool_examples or POOL_EXAMPLES, examples, min_ops, max_ops,
                               max_replicas, faults, fault_kinds, some_faults, jobs)
    return [c.scenario for c in chosen]


def start_pool(cluster: Cluster, *, config: ModelConfig, seed: int,
               base: Manifests | None = None, min_ops: int = 8, max_ops: int = 12,
               max_replicas: int = 5, faults: bool = True,
               fault_kinds: frozenset[str] = frozenset(),
               some_faults: frozenset[str] = frozenset(),
               pool_examples: int | None = None) -> threading.Event:
    """Start building, in a background thread, the model pool that
    :func:`run_cluster_suite` with the same arguments (model selection) will ask for, so that
    it is built while ``cluster`` (not started yet) starts and the seed scenario runs; the
    suite then takes it (:func:`~sts_props.selection.build_pool` waits for a build of the same
    pool in progress). Returns an event that stops the build at its next scenario: set it
    when the suite will not run (a cluster that failed to start, an interrupt).

    The thread is a daemon and swallows its errors: the suite's own request builds the pool
    again and reports them.

    >>> import inspect
    >>> sorted(set(inspect.signature(start_pool).parameters) - {"cluster"}
    ...        - set(inspect.signature(run_cluster_suite).parameters))
    []
    """
    load_client()  # now, at full speed: with the thread running the start would be slow
    stop = threading.Event()
    kinds, some, _ = _suite_faults(cluster.capabilities.faults, fault_kinds, some_faults,
                                   "model")

    def build() -> None:
        with contextlib.suppress(Exception):  # the suite's own request reports it
            _suite_pool(config, base, seed, pool_examples or POOL_EXAMPLES, min_ops, max_ops,
                        max_replicas, faults, kinds, some, cancel=stop)

    threading.Thread(target=build, name="sts-props model pool", daemon=True).start()
    return stop


def _run_selected(cfg: ModelConfig, summary: SuiteSummary,
                  base: Manifests | None, examples: int, seed: int | None, progress: Progress,
                  min_ops: int, max_ops: int, max_replicas: int, shrink_budget: int,
                  faults: bool, artifacts_dir: Path, fault_kinds: frozenset[str],
                  pool_examples: int | None,
                  prepare: Callable[[Scenario], Scenario],
                  record: _Record,
                  announce: Callable[[int, Scenario], None],
                  differ: Callable[[Scenario, threading.Event | None], DifferentialResult],
                  jobs: int = 1, some_faults: frozenset[str] = frozenset(),
                  cancel: threading.Event | None = None) -> None:
    """``--selection model``: a model pool, the most teaching scenarios on the cluster."""

    size = pool_examples or POOL_EXAMPLES
    progress(f"  model pool: {size} generated scenarios run on the model (5-20 s of CPU), to "
             f"pick the {examples} that cover the most for the cluster")
    pool, chosen = _pool_and_pick(cfg, base, seed, size, examples, min_ops, max_ops,
                                  max_replicas, faults, fault_kinds, some_faults, jobs)
    features = pool.features()
    picked = frozenset().union(*(c.features for c in chosen)) if chosen else frozenset()
    summary.selection = (
        f"model pool of {pool.examples} scenarios ({len(pool.candidates)} distinct, "
        + (f"built beforehand in {pool.seconds:.1f}s" if pool.reused
           else f"{pool.seconds:.1f}s")
        + f", seed {pool.seed}"
        + (", stopped by its time limit: not repeatable" if pool.stopped_by_time else "")
        + f"); the {len(chosen)} picked (pick {fingerprint(chosen)}) cover {len(picked)} of "
        f"its {len(features)} features")
    progress(f"  {summary.selection} (--seed {pool.seed} repeats this pick)")
    if jobs > 1:
        # Those that run alone first, while nothing is in flight that they would wait for;
        # then the longest first, so that no long one starts late and runs on by itself.
        prepared = [(prepare(c.scenario), c.cost) for c in chosen]
        prepared.sort(key=lambda sc_cost: (not runs_alone(sc_cost[0]), -sc_cost[1]))
        failure = _run_side_by_side([sc for sc, _ in prepared], jobs, progress, record,
                                    announce, differ, cancel)
    else:
        failure = _run_one_by_one(chosen, prepare, record, announce, differ)
    for scenario, result in failure:
        where = save_failure(artifacts_dir, result, cfg, pool.seed)
        summary.artifacts = where
        progress(f"    FAILED: {result.violations[0].describe()}\n    artifacts: {where}")
        progress(f"  shrinking it (at most {shrink_budget} cluster runs)")
        shrunk = shrink_failure(scenario, result, budget=shrink_budget, config=cfg,
                                run=lambda sc: differ(sc, None),
                                violations_of=lambda r: r.violations, progress=progress)
        if shrunk.scenario != scenario:
            summary.artifacts = save_failure(artifacts_dir, shrunk.result, cfg, pool.seed)
            progress(f"    shrunk to {len(shrunk.scenario.ops)} ops in {shrunk.runs} runs; "
                     f"artifacts: {summary.artifacts}")
        summary.counterexample, summary.violations = shrunk.scenario, shrunk.violations


def _run_one_by_one(
        chosen: Sequence[Candidate], prepare: Callable[[Scenario], Scenario],
        record: _Record,
        announce: Callable[[int, Scenario], None],
        differ: Callable[[Scenario, threading.Event | None], DifferentialResult],
) -> list[tuple[Scenario, DifferentialResult]]:
    """``--jobs 1``: the scenarios in turn until the first failure, which is returned."""
    for number, candidate in enumerate(chosen, 1):
        scenario = prepare(candidate.scenario)
        announce(number, scenario)
        result = differ(scenario, None)
        if result.violations:
            return [(scenario, result)]
        record(scenario, result)
    return []


def _run_side_by_side(
        scenarios: list[Scenario], jobs: int, progress: Progress,
        record: _Record,
        announce: Callable[[int, Scenario], None],
        differ: Callable[[Scenario, threading.Event | None], DifferentialResult],
        cancel: threading.Event | None = None,
) -> list[tuple[Scenario, DifferentialResult]]:
    """``--jobs`` above 1: the scenarios side by side, those with a :data:`SHARED_OPS` op
    alone; each finished one reported as one block (its number is its place in the run
    order).
    Returns the first failure (by finishing time), if any; the runs in flight when it came
    finish and are reported too."""
    numbers = {id(sc): n for n, sc in enumerate(scenarios, 1)}
    alone = sum(1 for sc in scenarios if runs_alone(sc))
    progress(f"  {jobs} scenarios at a time, each in its own namespace"
             + (f"; {alone} with a fault that disturbs the whole cluster run alone" if alone
                else ""))
    failures: list[tuple[Scenario, DifferentialResult]] = []

    def done(scenario: Scenario, result: DifferentialResult) -> None:
        if not result.violations:
            record(scenario, result, numbers[id(scenario)])
        else:
            announce(numbers[id(scenario)], scenario)
            failures.append((scenario, result))
            if len(failures) > 1:  # the first one is shrunk; this one is only reported
                progress(f"    also FAILED: {result.violations[0].describe()}")

    run_concurrently(scenarios, jobs, alone=runs_alone, run=differ, done=done,
                     failed=lambda result: bool(result.violations), cancel=cancel)
    return failures[:1]


def _finding(line: str) -> str:
    """The finding a known-deviation line names.

    >>> _finding("... known upstream deviation F-11 (docs/findings.md)")
    'F-11'
    """
    found = re.search(r"known upstream deviation (F-\d+)", line)
    return found.group(1) if found else "other"


def _headline(number: int, scenario: Scenario) -> str:
    """``  scenario 3: 12 ops (create, scale, ...)``: how progress output names a scenario."""
    return (f"  scenario {number}: {len(scenario.ops)} ops "
            f"({', '.join(op.kind for op in scenario.ops[:6])}...)")




def _run_plain(cfg: ModelConfig, summary: SuiteSummary,
               base: Manifests | None, examples: int, seed: int | None,
               database_dir: Path | None, min_ops: int, max_ops: int, max_replicas: int,
               shrink_budget: int, faults: bool, artifacts_dir: Path,
               fault_kinds: frozenset[str], progress: Progress,
               prepare: Callable[[Scenario], Scenario],
               record: _Record,
               announce: Callable[[int, Scenario], None],
               differ: Callable[[Scenario], DifferentialResult]) -> None:
    """``--selection plain``: Hypothesis generates the scenarios and shrinks a failure."""

    failed: list[tuple[Scenario, list[Violation]]] = []
    runs_after_failure = [0]
    db = DirectoryBasedExampleDatabase(str(database_dir)) if database_dir else None
    strategy = scenarios(base=base, max_ops=max_ops, max_replicas=max_replicas,
                         faults=faults, fault_kinds=fault_kinds,
                         recreate=cfg.gate("StatefulSetRecreateStrategy")).filter(
        lambda sc: len(sc.ops) >= min_ops + 1).map(cap_min_ready)

    @settings(max_examples=examples, deadline=None, database=db, print_blob=False,
              verbosity=Verbosity.quiet, suppress_health_check=list(HealthCheck),
              phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink))
    @given(strategy)
    def prop(scenario: Scenario) -> None:
        if not failed:  # not while shrinking: the failure found is what gets shrunk
            scenario = prepare(scenario)
        known = next((v for sc, v in failed if sc == scenario), None)
        if failed:
            runs_after_failure[0] += 1
            if runs_after_failure[0] > shrink_budget:
                # Budget spent: keep the smallest failure found so far. A cluster is not
                # deterministic, so a known failure is answered from memory, not re-run.
                if known is not None:
                    raise AssertionError(known[0].describe())
                return
        announce(summary.scenarios + len(failed) + 1, scenario)
        result = differ(scenario)
        if result.violations:
            failed.append((scenario, result.violations))
            where = save_failure(artifacts_dir, result, cfg, seed)
            summary.artifacts = where
            progress(f"    FAILED: {result.violations[0].describe()}\n    artifacts: {where}")
            raise AssertionError(result.violations[0].describe())
        if known is not None:
            progress("    (passed this time: the earlier failure depends on timing)")
            raise AssertionError(known[0].describe())
        record(scenario, result)

    runner = prop if seed is None else hypothesis_seed(seed)(prop)
    try:
        runner()
    except (AssertionError, HypothesisException, BaseExceptionGroup):
        if not failed:
            raise
        summary.counterexample, summary.violations = failed[-1]
    except KeyboardInterrupt:
        if failed:  # interrupted while shrinking: the smallest failure so far
            summary.counterexample, summary.violations = failed[-1]
        raise


def save_failure(root: Path, result: DifferentialResult, config: ModelConfig | None = None,
                 seed: int | None = None) -> Path:
    """Write the files of a failing differential run (:mod:`sts_props.report`): plan.yaml,
    both Histories, explanation.md, the timeline pictures; returns the directory."""

    header = result.cluster_history.header
    cfg = config or ModelConfig.for_version(str(header.get("k8sVersion") or DEFAULT_VERSION))
    backend = str(header.get("backend") or "kwok")
    plan = Plan.of(result.scenario, cfg, backend if backend in BACKENDS else "kwok", seed)
    return write_artifacts(root, plan, result.cluster_history, result.violations,
                           result.model_history, result.logs)


def save_model_failure(root: Path, scenario: Scenario, history: History,
                       violations: list[Violation], config: ModelConfig,
                       seed: int | None = None,
                       decisions: tuple[Interleaving, ...] = ()) -> Path:
    """Write the files of a failing model run; ``decisions`` (the chooser's log) go into the
    plan, so that ``sts-props replay`` takes the same interleaving."""

    plan = Plan.of(scenario, config, "model", seed, decisions)
    return write_artifacts(root, plan, history, violations)
