"""Mutation testing of the *real* StatefulSet controller: is the harness sensitive enough to
notice a kube-controller-manager that breaks a rule?

Each *controller mutant* is a small unified diff of ``pkg/controller/statefulset`` in
k8s.io/kubernetes (``sts_props/data/controller_mutants/NN-name.diff``, described in that
directory's ``index.toml``). :func:`run_controller_mutants` builds each one
(:func:`~sts_props.cluster.kwok.patched.build_patched`: the module source with the diff
applied, cached by the diff's hash), starts a kwok cluster whose controller is that binary, and
runs the main job's differential scenarios on it (:func:`~sts_props.suite.run_cluster_suite`,
as ``sts-props check --backend kwok`` does) until the first violation. A *control* (the empty
diff, built the same way) runs the same scenarios first and must show none, and each catch is
confirmed by running its counterexample on the control again (:func:`confirm_on_control`).
The mutation score is confirmed catches / total, the control excluded.

Unlike the model mutants (:mod:`sts_props.mutants`, which break the reference model and are
caught against the real controller), here the model is the unmodified reference and the
controller is broken: the harness is used the way a user who changes the controller would.

>>> names = [m.name for m in catalogue()]
>>> len(names) >= 15, names[0]
(True, 'ordered-no-ready-wait')
>>> by_name("scale-down-ascending").rules
('ORD-4', 'CHK-4')
>>> by_name("scale-down-ascending").diff().startswith("diff --git a/pkg/controller/statefulset/")
True
>>> # report = run_controller_mutants(["observed-generation-stale"], examples=3)
>>> # print(report.render())
"""

from __future__ import annotations

import random
import statistics
import threading
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sts_props.cluster.base import Cluster, ClusterError
from sts_props.cluster.kwok import KwokCluster
from sts_props.cluster.kwok.patched import CONTROLLER, build_patched
from sts_props.concurrent_runs import prefixed, run_all
from sts_props.differential import run_differential
from sts_props.errors import BuildError, PatchError
from sts_props.model import ModelConfig
from sts_props.ops import FAULT_OPS
from sts_props.scenario import Manifests, Scenario
from sts_props.suite import run_cluster_suite, selected_scenarios

Progress = Callable[[str], None]

#: the catalogue shipped with sts-props
CATALOGUE_DIR = Path(__file__).resolve().parent / "data" / "controller_mutants"
#: the name of the unmodified controller (the empty diff) in reports
CONTROL = "control"

#: the Kubernetes version the catalogue's diffs are written against (index.toml): other versions'
#: sources may not take them
DIFFS_VERSION = "v1.37.2"
#: generated scenarios per mutant (the control runs all of them): the README's main job's
#: 30 (``check --backend kwok --examples 30``), since the question is whether *it* finds a
#: broken controller
DEFAULT_EXAMPLES = 30
#: how long the cluster may take to reach the model's state after one op in a mutant run (plus
#: the scenario's minReadySeconds allowance, which run_differential adds); 30 s is far beyond
#: what an unmodified controller needs on 2 shared cores, and a catch by waiting costs this much
DEFAULT_OP_TIMEOUT = 30.0
#: the op timeout of the control's replays at least: a counterexample the control passes
#: never waits it out, while a shorter one turned a slow moment of a loaded cluster into
#: "NOT CONFIRMED" (CI, 2026-12-05: the EndpointSlice 20 s late after an apiserver restart)
CONFIRM_OP_TIMEOUT = 60.0
#: further cluster runs spent on shrinking a mutant's first counterexample
DEFAULT_SHRINK_BUDGET = 2
#: runs of each caught mutant's counterexample on the unmodified controller
DEFAULT_CONFIRM_RUNS = 2


@dataclass(frozen=True)
class ControllerMutant:
    """One entry of the catalogue: the diff ``file``, what it breaks and where it came from."""

    name: str
    file: Path
    description: str
    rules: tuple[str, ...]
    #: it re-creates (or approximates) a defect that shipped upstream; see ``upstream``
    historical: bool = False
    #: verified upstream references (issue / PR) of a historical defect
    upstream: str = ""

    def diff(self) -> str:
        """The diff's text."""
        return self.file.read_text(encoding="utf-8")


def catalogue(directory: Path = CATALOGUE_DIR) -> tuple[ControllerMutant, ...]:
    """The mutants of ``directory/index.toml``, in file order.

    Raises:
        ValueError: an entry lacks a field, names a missing file, or repeats a name.

    """
    data = tomllib.loads((directory / "index.toml").read_text(encoding="utf-8"))
    out: list[ControllerMutant] = []
    for entry in data.get("mutant", []):
        try:
            mutant = ControllerMutant(
                name=str(entry["name"]), file=directory / str(entry["file"]),
                description=str(entry["description"]),
                rules=tuple(str(r) for r in entry["rules"]),
                historical=bool(entry.get("historical", False)),
                upstream=str(entry.get("upstream", "")))
        except KeyError as exc:
            raise ValueError(f"{directory / 'index.toml'}: an entry lacks {exc}") from None
        if not mutant.file.is_file():
            raise ValueError(f"{directory / 'index.toml'}: {mutant.name}: no file {mutant.file}")
        if mutant.name == CONTROL or any(m.name == mutant.name for m in out):
            raise ValueError(f"{directory / 'index.toml'}: duplicate or reserved name "
                             f"{mutant.name!r}")
        out.append(mutant)
    return tuple(out)


def by_name(name: str, directory: Path = CATALOGUE_DIR) -> ControllerMutant:
    """The catalogue entry ``name``; a ValueError lists the known names."""
    mutants = catalogue(directory)
    for mutant in mutants:
        if mutant.name == name:
            return mutant
    raise ValueError(f"unknown controller mutant {name!r}; known: "
                     f"{', '.join(m.name for m in mutants)}")


@dataclass
class ControllerMutantResult:
    """What one mutant (or the control) did on the cluster."""

    name: str
    rules: tuple[str, ...] = ()
    #: the scenarios' seed (the control's runs differ by it)
    seed: int | None = None
    #: a violation was found (for the control: the control is *not* clean)
    caught: bool = False
    build_seconds: float = 0.0
    build_cached: bool = False
    #: kwok cluster start
    start_seconds: float = 0.0
    #: the scenarios, shrinking included
    run_seconds: float = 0.0
    #: from the first scenario's start to the end of the first failing scenario run
    first_violation_seconds: float | None = None
    #: the first violation of the (shrunk) counterexample
    check: str = ""
    rule: str = ""
    message: str = ""
    #: ops of the shrunk counterexample (Create included)
    shrunk_ops: int | None = None
    #: passing scenarios before (and while shrinking) the counterexample
    scenarios: int = 0
    #: the mutant could not be run (does not apply or build, cluster failed): not scored
    error: str = ""
    artifacts: Path | None = None
    #: controller components restarted by the supervisor (a crashing mutant shows here)
    crashes: list[str] = field(default_factory=list)
    #: the shrunk counterexample, replayed on the control to confirm a catch
    counterexample: Scenario | None = field(default=None, repr=False, compare=False)
    #: the counterexample failed again on the mutant (None: not replayed)
    reproduced: bool | None = None
    #: the counterexample passed on the unmodified controller every time (None: not replayed)
    confirmed: bool | None = None
    #: the control's first violation on the counterexample, when it had one
    control_violation: str = ""

    @property
    def counted(self) -> bool:
        """Caught, and neither refuted by a replay on the mutant that passed nor by one on
        the control that failed."""
        return self.caught and self.reproduced is not False and self.confirmed is not False

    @property
    def control(self) -> bool:
        return self.name == CONTROL

    @property
    def evidence(self) -> str:
        """What differed, shortly: the first "still different" note of a state the cluster did
        not reach, else the violation's first sentence.

        >>> ControllerMutantResult("m", message="gave up after 20s waiting for the model's "
        ...     "state after op 0 (create); still different: The set status.observedGeneration "
        ...     "is 1 in the model but 0 on the cluster.; last event: ...").evidence
        'The set status.observedGeneration is 1 in the model but 0 on the cluster.'
        """
        text = self.message
        if "still different: " in text:
            text = text.split("still different: ", 1)[1].split(";", 1)[0]
        else:
            text = text.split(". ", 1)[0]
        text = text.strip()
        return text if len(text) <= 110 else text[:107] + "..."

    @property
    def verdict(self) -> str:
        if self.error:
            return "error"
        if self.control:
            return "VIOLATIONS" if self.caught else "clean"
        if self.caught and not self.counted:
            return "unconfirmed"
        return "caught" if self.caught else "survived"

    def row(self) -> str:
        """One Markdown table row (see :meth:`ControllerMutantReport.render`)."""
        first = (f"{self.first_violation_seconds:.1f} s"
                 if self.first_violation_seconds is not None else "-")
        build = "cached" if self.build_cached else f"{self.build_seconds:.0f} s"
        found = self.rule or (self.error[:80] if self.error else "-")
        evidence = self.evidence.replace("|", "/") if self.caught else "-"
        name = (f"{self.name} (seed {self.seed})" if self.control and self.seed is not None
                else self.name)
        return (f"| {name} | {', '.join(self.rules) or '-'} | {self.verdict} | {first} | "
                f"{found} | {self.shrunk_ops if self.shrunk_ops is not None else '-'} | "
                f"{self.scenarios} | {build} | {self.run_seconds:.0f} s | {evidence} |")


@dataclass
class ControllerMutantReport:
    """Per-mutant results, the control's runs first; the score excludes the control.

    >>> r = ControllerMutantReport([ControllerMutantResult("control"),
    ...                             ControllerMutantResult("a", caught=True,
    ...                                                    first_violation_seconds=4.0),
    ...                             ControllerMutantResult("b")])
    >>> r.score, r.control_clean, r.median_first_violation
    ((1, 2), True, 4.0)
    """

    results: list[ControllerMutantResult]
    seconds: float = 0.0
    version: str = ""

    @property
    def controls(self) -> list[ControllerMutantResult]:
        """The control's runs (one per seed)."""
        return [r for r in self.results if r.control]

    @property
    def control(self) -> ControllerMutantResult | None:
        """The control's first run that is not clean, else its first run."""
        return next((r for r in self.controls if r.caught), None) or next(
            iter(self.controls), None)

    @property
    def mutants(self) -> list[ControllerMutantResult]:
        """The scored mutants: not the control, not those that could not be run."""
        return [r for r in self.results if not r.control and not r.error]

    @property
    def score(self) -> tuple[int, int]:
        """(caught, total) over :attr:`mutants`; a catch the control replay refuted (the
        control failed the counterexample too) does not count."""
        return sum(r.counted for r in self.mutants), len(self.mutants)

    @property
    def control_clean(self) -> bool | None:
        """Whether the control ran and showed no violation in any run (``None``: no control
        run, or one that could not be run, and none with a violation)."""
        controls = self.controls
        if any(r.caught for r in controls):
            return False
        if not controls or any(r.error for r in controls):
            return None
        return True

    @property
    def median_first_violation(self) -> float | None:
        times = [r.first_violation_seconds for r in self.mutants
                 if r.counted and r.first_violation_seconds is not None]
        return statistics.median(times) if times else None

    def render(self) -> str:
        """The table and the score, as ``sts-props mutants --controller`` prints them."""
        lines = [
            "| mutant | rules | verdict | first violation | rule found | shrunk ops | "
            "scenarios | build | run | evidence |",
            "|---|---|---|---|---|---|---|---|---|---|",
            *(r.row() for r in self.results),
        ]
        caught, total = self.score
        median = self.median_first_violation
        clean = self.control_clean
        lines.append("")
        lines.append(f"controller mutation score: {caught}/{total}"
                     + (f" ({100 * caught / total:.0f}%)" if total else "")
                     + (f", median time to first violation {median:.1f} s"
                        if median is not None else "")
                     + f", {self.seconds:.0f} s in all ({self.version})")
        if clean is None:
            lines.append("control: not run (the score is unconfirmed)")
        elif clean:
            runs = len(self.controls)
            lines.append("control (unmodified controller, built the same way): no violations"
                         + (f" in {runs} runs" if runs > 1 else ""))
        else:
            control = self.control
            assert control is not None
            lines.append(f"CONTROL NOT CLEAN: the unmodified controller shows {control.rule}: "
                         f"{control.message} -- the catches above are not trustworthy")
        for r in self.results:
            if r.error:
                lines.append(f"{r.name}: not run: {r.error}")
            elif r.caught and r.reproduced is False:
                lines.append(f"{r.name}: {r.rule} NOT CONFIRMED: the counterexample passed every "
                             f"time it was run again on the mutant (a timing-dependent finding)")
            elif r.caught and r.confirmed is False:
                lines.append(f"{r.name}: {r.rule} NOT CONFIRMED: the unmodified controller fails "
                             f"the counterexample too ({r.control_violation[:200]})")
            elif r.caught and r.message:
                lines.append(f"{r.name}: {r.rule}: {r.message}")
        return "\n".join(lines)


def select(names: Sequence[str] = (), directory: Path = CATALOGUE_DIR
           ) -> tuple[ControllerMutant, ...]:
    """The catalogue, or only ``names`` (in the given order); unknown names raise ValueError."""
    if not names:
        return catalogue(directory)
    return tuple(by_name(n, directory) for n in names)


def run_controller_mutants(
    names: Sequence[str] = (),
    *,
    version: str = DIFFS_VERSION,
    examples: int = DEFAULT_EXAMPLES,
    seed: int | None = 1,
    base: Manifests | None = None,
    control: bool = True,
    control_runs: int = 1,
    mutants: bool = True,
    confirm_runs: int = DEFAULT_CONFIRM_RUNS,
    shrink_budget: int = DEFAULT_SHRINK_BUDGET,
    op_timeout: float = DEFAULT_OP_TIMEOUT,
    min_ops: int = 8,
    max_ops: int = 12,
    max_replicas: int = 5,
    artifacts_dir: Path = Path("artifacts") / "controller-mutants",
    directory: Path = CATALOGUE_DIR,
    progress: Progress = print,
    jobs: int = 1,
    clusters: int = 1,
) -> ControllerMutantReport:
    """Build and run the control and each mutant of ``names`` (default: the catalogue); see
    the module docstring.

    Every mutant gets the same scenarios (one ``seed``, no example database), its own fresh
    kwok cluster, ``examples`` scenarios at most and ``shrink_budget`` further cluster runs
    for shrinking. Scenarios end at the first state the cluster does not reach within
    ``op_timeout`` (``stop_at_divergence``). A mutant that does not apply or build, or whose
    cluster cannot be had, is reported with its error and left out of the score.

    A catch is then *confirmed*: its shrunk counterexample must fail again on the mutant's
    cluster within ``confirm_runs`` more runs (:func:`reproduce_catch`), and pass
    ``confirm_runs`` times on a cluster with the unmodified controller
    (:func:`confirm_on_control`); otherwise the mutant is "unconfirmed" and not counted (timing
    or a flaky check, not the mutation, failed it). ``seed=None`` draws one seed for all.
    ``control_runs``: runs of the control, with seeds ``seed``, ``seed + 1``, ... (the first
    is the mutants' scenarios); the control is clean only if every run is. ``mutants=False``
    runs the control alone.
    ``jobs``: scenarios side by side on each mutant's cluster (``--jobs``; shrinking and the
    confirmation replays run one at a time). ``clusters`` (``--clusters``): mutants (and the
    control) side by side, each on its own cluster as before; their progress lines carry
    their names. An interrupt ends the runs in flight at their next op and stops their
    clusters.
    """
    if clusters < 1:
        raise ValueError(f"clusters must be at least 1, got {clusters}")
    chosen = select(names, directory) if mutants else ()
    started = time.monotonic()
    if seed is None:
        seed = random.randrange(2**31)
        progress(f"seed {seed} (the same for every mutant)")
    plan: list[tuple[str, tuple[str, ...], str, int]] = [
        (m.name, m.rules, m.diff(), seed) for m in chosen]
    if control:
        plan[:0] = [(CONTROL, (), "", seed + k) for k in range(max(1, control_runs))]
    numbered = list(enumerate(plan, 1))
    Entry = tuple[int, tuple[str, tuple[str, ...], str, int]]

    def starting(entry: Entry) -> None:
        index, (name, _, diff_text, run_seed) = entry
        progress(f"[{index}/{len(plan)}] {name}" + (f" (seed {run_seed})" if not diff_text
                                                     else ""))

    def one(entry: Entry, cancel: threading.Event) -> ControllerMutantResult:
        _, (name, rules, diff_text, run_seed) = entry
        return run_one(
            name, rules, diff_text, version=version, examples=examples, seed=run_seed, base=base,
            shrink_budget=shrink_budget, op_timeout=op_timeout, min_ops=min_ops,
            max_ops=max_ops, max_replicas=max_replicas,
            artifacts_dir=artifacts_dir / (f"{name}-seed-{run_seed}" if not diff_text else name),
            reproduce_runs=confirm_runs, progress=prefixed(progress, f"  {name}: "),
            jobs=jobs, cancel=cancel)

    def done(_entry: Entry, result: ControllerMutantResult) -> None:
        progress(f"  => {result.row()}")

    results = run_all(numbered, clusters, alone=lambda _entry: False, run=one, done=done,
                      started=starting)
    if confirm_runs > 0:
        confirm_on_control(results, version=version, runs=confirm_runs, op_timeout=op_timeout,
                           progress=prefixed(progress, "  confirm: "))
    return ControllerMutantReport(results, time.monotonic() - started, version)


def reproduce_catch(scenario: Scenario, cluster: Cluster, runs: int,
                    op_timeout: float = DEFAULT_OP_TIMEOUT, progress: Progress = print,
                    cancel: threading.Event | None = None) -> bool:
    """Run a mutant's counterexample up to ``runs`` more times on its cluster; whether it
    failed again (at least once: a violation the mutation makes possible may need a race that
    kwok does not always lose, e.g. a pod created before its predecessor turned Ready).

    A catch that never fails again was timing or a flaky check, not the mutation.
    """
    config = ModelConfig.for_version(cluster.version())
    for attempt in range(1, runs + 1):
        outcome = run_differential(scenario, cluster, config, op_timeout=op_timeout,
                                   stop_at_divergence=True, cancel=cancel)
        if outcome.violations:
            progress(f"the counterexample fails again ({attempt}/{runs}): "
                     f"{outcome.violations[0].rule}")
            return True
        progress(f"the counterexample passed when run again ({attempt}/{runs})")
    progress(f"NOT REPRODUCED: the counterexample passed {runs} more runs on the mutant")
    return False


def confirm_on_control(
    results: Sequence[ControllerMutantResult],
    *,
    version: str,
    runs: int = DEFAULT_CONFIRM_RUNS,
    op_timeout: float = DEFAULT_OP_TIMEOUT,
    progress: Progress = print,
) -> None:
    """Run each caught mutant's counterexample ``runs`` times on one kwok cluster with the
    unmodified controller (the control build); set ``confirmed`` (and ``control_violation``).

    A catch stands only if the control passes the counterexample every time: then the
    violation is due to the mutation, not to a flaky check or to timing. The control waits
    at least :data:`CONFIRM_OP_TIMEOUT` per op, whatever the search's ``op_timeout``.
    """
    pending = [r for r in results if r.caught and not r.control
               and r.counterexample is not None and r.reproduced is not False]
    if not pending:
        return
    built = build_patched(version, "", progress=progress)
    cluster = KwokCluster(version, progress=progress, controller_manager=built.path)
    with cluster:
        config = ModelConfig.for_version(cluster.version())
        for r in pending:
            assert r.counterexample is not None
            r.confirmed = True
            for attempt in range(1, runs + 1):
                outcome = run_differential(r.counterexample, cluster, config,
                                           op_timeout=max(op_timeout, CONFIRM_OP_TIMEOUT),
                                           stop_at_divergence=True)
                if outcome.violations:
                    r.confirmed = False
                    r.control_violation = outcome.violations[0].describe()
                    break
                progress(f"{r.name}: the control passes the counterexample "
                         f"({attempt}/{runs})")
            if not r.confirmed:
                progress(f"{r.name}: NOT CONFIRMED: the control fails it too: "
                         f"{r.control_violation[:160]}")


def mutant_scenarios(version: str = DIFFS_VERSION, *, examples: int = DEFAULT_EXAMPLES,
                     seed: int = 1, base: Manifests | None = None, min_ops: int = 8,
                     max_ops: int = 12, max_replicas: int = 5, jobs: int = 1
                     ) -> list[Scenario]:
    """The scenarios every mutant of :func:`run_controller_mutants` with the same arguments is
    tried on (and the control's first run), in the order picked: what :func:`run_one` asks the
    suite on its kwok cluster for. Picked in this process, so a run after it uses the same
    pick (:func:`~sts_props.suite.selected_scenarios` says why that matters).

    >>> from sts_props.ops import Create
    >>> [type(sc.ops[0]) is Create for sc in mutant_scenarios(examples=2, seed=4)]
    [True, True]
    """
    return selected_scenarios(KwokCluster.capabilities.faults, version, examples=examples,
                              seed=seed, base=base, min_ops=min_ops, max_ops=max_ops,
                              max_replicas=max_replicas, some_faults=frozenset(FAULT_OPS),
                              jobs=jobs)


def run_one(
    name: str,
    rules: tuple[str, ...],
    diff_text: str,
    *,
    version: str,
    examples: int,
    seed: int | None,
    base: Manifests | None,
    shrink_budget: int,
    op_timeout: float,
    min_ops: int,
    max_ops: int,
    max_replicas: int,
    artifacts_dir: Path,
    progress: Progress,
    reproduce_runs: int = 0,
    jobs: int = 1,
    cancel: threading.Event | None = None,
) -> ControllerMutantResult:
    """One mutant (``diff_text``; the control when it is empty): build, start, run, stop.
    ``cancel``: see :func:`~sts_props.suite.run_cluster_suite`."""
    result = ControllerMutantResult(name, rules, seed=seed)
    try:
        built = build_patched(version, diff_text, progress=progress)
    except (PatchError, BuildError) as exc:
        result.error = f"build: {str(exc).splitlines()[0]}"
        return result
    result.build_seconds, result.build_cached = built.seconds, built.cached
    began = time.monotonic()
    try:
        cluster = KwokCluster(version, progress=progress, controller_manager=built.path)
        with cluster:
            result.start_seconds = time.monotonic() - began
            running = cluster.component_binary(CONTROLLER)
            if running is None or running.resolve() != built.path.resolve():
                raise ClusterError(f"the cluster runs {running}, not the built controller "
                                   f"{built.path}")
            ran = time.monotonic()
            summary = run_cluster_suite(
                cluster, base=base, examples=examples, seed=seed, progress=progress,
                database_dir=None, min_ops=min_ops, max_ops=max_ops, max_replicas=max_replicas,
                shrink_budget=shrink_budget, artifacts_dir=artifacts_dir,
                op_timeout=op_timeout, stop_at_divergence=True, jobs=jobs, cancel=cancel,
                some_faults=frozenset(FAULT_OPS))  # as the main job: faults in some
            result.run_seconds = time.monotonic() - ran
            if summary.counterexample is not None and summary.violations and reproduce_runs:
                result.reproduced = reproduce_catch(summary.counterexample, cluster,
                                                    reproduce_runs, op_timeout, progress, cancel)
    except ClusterError as exc:
        result.error = f"cluster: {str(exc).splitlines()[0]}"
        return result
    result.scenarios = summary.scenarios
    result.crashes = list(summary.crashes)
    result.artifacts = summary.artifacts
    if summary.violations:
        first = summary.violations[0]
        result.caught = True
        result.check, result.rule, result.message = first.check, first.rule, first.message
        result.first_violation_seconds = summary.first_violation_seconds
        if summary.counterexample is not None:
            result.counterexample = summary.counterexample
            result.shrunk_ops = len(summary.counterexample.ops)
    return result
