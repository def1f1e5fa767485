"""``sts-props mutants``: mutation testing of the harness against a real cluster (issue 5).

Usage::

    sts-props mutants --backend kwok                          # every mutant of sts_props.mutants
    sts-props mutants --backend kwok --only scale-down-ascending --budget 8
    sts-props mutants --list                                  # the catalogue, no cluster

For each mutant the *mutated* model runs differentially against the cluster on scenarios drawn
from its targeted strategy (:mod:`sts_props.mutant_scenarios`) until the first disagreement;
Hypothesis then shrinks that scenario, spending at most ``--budget`` further cluster runs. A
*control* run replays the shrunk scenario with the unmutated model: the mutant counts as caught
only if the control agrees with the cluster, so a catch is due to the mutation and not to a
flaky comparison. The command prints, per mutant, caught / survived / unconfirmed, the time to
the first counterexample and the shrunk plan size, then the mutation score (caught / total).

A disagreement is what :func:`~sts_props.differential.run_differential` reports (safety and
quiescent checks on the cluster History, model-vs-cluster comparison, a state the cluster never
reaches), plus one stricter comparison, :func:`strict_differences`: at the last settled point
the two sides must have the same pods in the same phase, even when a held or failed pod blocks
the state. The default comparison looks only at what every interleaving agrees on in a blocked
state, which hides a controller that wrongly stops (or wrongly goes on) at a blocker; the
control run shows that the stricter check raises no alarm on the real model for that scenario.

>>> render_catalogue().splitlines()[0].split(":")[0]
'failed-never-recreated [RP-1]'
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.errors import HypothesisException

from sts_props.checks import Violation, quiescent_view
from sts_props.cli_options import add_connection_options
from sts_props.cluster.base import Cluster
from sts_props.differential import run_differential
from sts_props.history import Event, History
from sts_props.model import ModelConfig
from sts_props.mutant_scenarios import targeted_scenarios
from sts_props.mutants import MUTANT_NAMES, MUTANTS, Mutant, by_name
from sts_props.scenario import Scenario

Progress = Callable[[str], None]

#: how long the cluster may take to reach the model's state after one op, in a mutant run: the
#: targeted scenarios are small (<= 5 pods, no minReadySeconds), so a state that is not reached
#: in this time has diverged, and a shorter wait makes a catch cheaper
MUTANT_OP_TIMEOUT = 15.0


# -- the stricter comparison -------------------------------------------------------------------
def _last_settled(history: History) -> Event | None:
    points = [ev for ev in history.quiescent_points() if ev.data.get("settled")]
    return points[-1] if points else None


def _pods(history: History, seq: int) -> dict[str, str]:
    """Non-terminating pods of the set and their phase, after record ``seq``."""
    pods = quiescent_view(history, seq)["pods"]
    return {name: str(pod["phase"]) for name, pod in pods.items() if not pod["terminating"]}


def strict_differences(model_history: History, cluster_history: History) -> list[Violation]:
    """Pods (and their phase) that differ at the last settled point of both Histories, if that
    point is after the same op; compared even when the state is blocked (see the module
    docstring). Terminating pods are left out: when they disappear is timing.

    >>> h = History.new(backend="model", set_name="web")
    >>> strict_differences(h, h)
    []
    """
    mev, cev = _last_settled(model_history), _last_settled(cluster_history)
    if mev is None or cev is None or mev.data.get("afterOp") != cev.data.get("afterOp"):
        return []
    left, right = _pods(model_history, mev.seq), _pods(cluster_history, cev.seq)
    out = []
    for name in sorted(set(left) | set(right)):
        lv, rv = left.get(name, "absent"), right.get(name, "absent")
        if lv != rv:
            out.append(Violation(
                "CMP-STRICT", "CMP-STRICT/10.3",
                f"At the last settled point (after op {mev.data.get('afterOp')}): pod {name} "
                f"is {lv} in the model but {rv} on the cluster.", (mev.seq, cev.seq)))
    return out


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
                  op_timeout: float) -> tuple[list[Violation], str]:
    result = run_differential(scenario, cluster, config, op_timeout=op_timeout,
                              stop_at_divergence=True)
    if result.violations:
        return result.violations, "differential"
    strict = strict_differences(result.model_history, result.cluster_history)
    return strict, "strict" if strict else ""


def run_mutant(cluster: Cluster, mutant: Mutant, *, examples: int = 10, budget: int = 4,
               op_timeout: float = MUTANT_OP_TIMEOUT, seed: int | None = None,
               control: bool = True, config: ModelConfig | None = None,
               progress: Progress = print) -> MutantResult:
    """Run ``mutant``'s targeted scenarios on the mutated model and ``cluster`` until the first
    disagreement (at most ``examples`` scenarios), shrink it with at most ``budget`` further
    runs, then replay the shrunk scenario on the unmutated model (``control``)."""
    base = config or ModelConfig.for_version(cluster.version())
    mutated = dataclasses.replace(base, mutant=mutant.name)
    out = MutantResult(mutant)
    started = time.monotonic()
    failed: list[tuple[Scenario, list[Violation], str]] = []
    first_run = [0]  # the run that found the first counterexample; the budget counts after it

    @settings(max_examples=examples, deadline=None, database=None, print_blob=False,
              suppress_health_check=list(HealthCheck), phases=(Phase.generate, Phase.shrink))
    @given(targeted_scenarios(mutant.name))
    def prop(scenario: Scenario) -> None:
        known = next((f for f in failed if f[0] == scenario), None)
        if known is not None:  # a cluster is not deterministic: answer a repeat from memory
            raise AssertionError(known[1][0].describe())
        if failed and out.runs - first_run[0] >= budget:
            return  # shrink budget spent: keep the smallest failure found so far
        out.runs += 1
        violations, how = _disagreement(scenario, cluster, mutated, op_timeout)
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
            out.control_violations, _ = _disagreement(out.shrunk, cluster, base, op_timeout)
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
                       examples: int = 10, budget: int = 4,
                       op_timeout: float = MUTANT_OP_TIMEOUT, seed: int | None = None,
                       control: bool = True, config: ModelConfig | None = None,
                       progress: Progress = print) -> MutationReport:
    """:func:`run_mutant` for each named mutant (default: the whole catalogue).

    >>> # with KwokCluster() as cluster:
    >>> #     print(run_mutation_suite(cluster, ["rollback-not-bumped"], budget=2).render())
    """
    started = time.monotonic()
    results = []
    for name in names:
        mutant = by_name(name)
        progress(f"mutant {mutant.name}: {mutant.description}")
        result = run_mutant(cluster, mutant, examples=examples, budget=budget,
                            op_timeout=op_timeout, seed=seed, control=control, config=config,
                            progress=progress)
        progress("  " + result.render())
        results.append(result)
    return MutationReport(results, time.monotonic() - started)


def render_catalogue() -> str:
    """The catalogue, one mutant a line (``sts-props mutants --list``)."""
    return "\n".join(f"{m.name} [{', '.join(m.rules)}]: {m.description} (hook: {m.hook})"
                     for m in MUTANTS)


# -- the command -------------------------------------------------------------------------------
def add_mutants_parser(sub: Any, default_version: str) -> None:
    """Register ``sts-props mutants`` (dispatched through ``args.run``)."""
    p = sub.add_parser("mutants", help="mutation testing: is each broken model variant caught "
                                       "by a differential run against a real cluster?")
    p.add_argument("--backend", default="kwok", choices=["kwok", "kubeconfig"])
    add_connection_options(p)
    p.add_argument("--k8s-version", default=default_version)
    p.add_argument("--only", action="append", default=[], metavar="NAME",
                   help="run only this mutant (repeatable)")
    p.add_argument("--budget", type=int, default=6,
                   help="cluster runs spent on shrinking each counterexample (default 6)")
    p.add_argument("--examples", type=int, default=10,
                   help="scenarios tried per mutant before it counts as survived (default 10)")
    p.add_argument("--op-timeout", type=float, default=MUTANT_OP_TIMEOUT,
                   help=f"seconds the cluster may take per op (default {MUTANT_OP_TIMEOUT:.0f})")
    p.add_argument("--seed", type=int, default=None, help="random seed, for a repeat run")
    p.add_argument("--no-control", action="store_true",
                   help="skip the control run of the unmutated model on each counterexample")
    p.add_argument("--list", action="store_true", help="print the catalogue and exit")
    p.set_defaults(run=run_mutants_command)


def run_mutants_command(args: argparse.Namespace, config: ModelConfig) -> int:
    """``sts-props mutants``: 0 if every mutant is caught, 1 if not, 2 on bad input."""
    import sys

    from sts_props.cluster.backends import make_cluster

    if args.list:
        print(render_catalogue())
        return 0
    try:
        names = [by_name(n).name for n in args.only] or list(MUTANT_NAMES)
    except ValueError as exc:
        print(f"sts-props: error: {exc}", file=sys.stderr)
        return 2
    if args.budget < 0 or args.examples < 1:
        print("sts-props: error: need --budget >= 0 and --examples >= 1", file=sys.stderr)
        return 2
    say: Progress = lambda line: print(line, flush=True)  # noqa: E731
    with make_cluster(args.backend, args.k8s_version, progress=say,
                      kubeconfig=args.kubeconfig, context=args.context,
                      allow_existing=args.allow_existing_cluster) as cluster:
        report = run_mutation_suite(
            cluster, names, progress=say, examples=args.examples, budget=args.budget,
            op_timeout=args.op_timeout, seed=args.seed, control=not args.no_control,
            config=config)
    print(report.render(), flush=True)
    return 0 if report.caught == len(report.results) else 1
