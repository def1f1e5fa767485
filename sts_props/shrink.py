"""Shrink a failing scenario that Hypothesis did not generate: a deterministic reducer.

``sts-props check`` picks its cluster scenarios from a model pool (:mod:`sts_props.selection`),
so a failure there has no Hypothesis choice sequence to shrink. :func:`shrink_failure` reduces
the scenario itself, re-running every candidate on the failing system (the cluster) and keeping
it only if it still fails *with the same rule* as the original failure:

1. drop chunks of ops (half the ops, a quarter, ..., then single ops; the tail first, since
   ops after the failure usually do not matter), never the first Create;
2. simplify op arguments (scale down by one, partition lower, minReadySeconds 0, a Failed
   instead of Succeeded pod, Background instead of Foreground/Orphan deletion, ...);
3. fewer replicas in the manifest.

The passes repeat while one of them makes progress and the budget (cluster runs) lasts. A
candidate is normalised first (one Settle where several follow each other, open deny/hold
windows closed, a Settle at the end, as the generator does) and must run on the model without
error, so that a malformed candidate costs no cluster run. A cluster is not deterministic: a
candidate that passes once is dropped even if it would fail another time, which can only make
the result less small, never wrong (every kept candidate did fail with the same rule).

Usage with a cluster (what :func:`sts_props.suite.run_cluster_suite` does)::

    result = run_differential(scenario, cluster, config)          # failed
    shrunk = shrink_failure(scenario, result,
                            run=lambda sc: run_differential(sc, cluster, config),
                            violations_of=lambda r: r.violations, budget=20, config=config)
    save_failure(Path("artifacts"), shrunk.result, config)

A model-only example: a "system" that fails (rule ``X``) whenever the scenario scales to 3 or
more:

>>> from sts_props.checks import Violation
>>> from sts_props.ops import Create, Scale, Settle, SetTemplate
>>> from sts_props.scenario import Manifests, Scenario
>>> def system(sc):
...     big = any(isinstance(op, Scale) and op.replicas >= 3 for op in sc.ops)
...     return [Violation("X", "X", "scaled to 3 or more")] if big else []
>>> sc = Scenario(Manifests.seed(), (Create(), SetTemplate("env", "v2"), Settle(), Scale(5),
...                                  Settle(), Scale(1), Settle()))
>>> out = shrink_failure(sc, system(sc), run=system, violations_of=lambda v: v, budget=20)
>>> [op.describe() for op in out.scenario.ops], out.runs <= 20
(['create the StatefulSet', 'scale to 3', 'settle'], True)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sts_props.checks import Violation
from sts_props.model import ModelConfig, run_model
from sts_props.ops import (
    AllowPodWrites,
    Create,
    DeleteSet,
    DenyPodWrites,
    FailPod,
    HoldScheduling,
    HoldTerminating,
    Op,
    ReleaseScheduling,
    ReleaseTerminating,
    Scale,
    SetMaxUnavailable,
    SetMinReadySeconds,
    SetPartition,
    Settle,
)
from sts_props.scenario import Scenario

__all__ = ["ShrinkResult", "normalise", "shrink_failure", "simpler_ops"]

R = TypeVar("R")


@dataclass
class ShrinkResult(Generic[R]):
    """The smallest failing scenario found, the result of its (failing) run, and the cost."""

    scenario: Scenario
    result: R
    violations: list[Violation]
    #: runs of the failing system spent (at most the budget)
    runs: int = 0
    #: what each kept reduction did, in order
    steps: list[str] = field(default_factory=list)


def normalise(ops: tuple[Op, ...]) -> tuple[Op, ...]:
    """``ops`` as the generator would end them: no two Settles in a row, every deny, finalizer
    and scheduling hold lifted before the end, a Settle last.

    >>> from sts_props.ops import Create, DenyPodWrites, Settle
    >>> [op.kind for op in normalise((Create(), Settle(), Settle(), DenyPodWrites(1)))]
    ['create', 'settle', 'deny_pod_writes', 'allow_pod_writes', 'settle']
    """
    out: list[Op] = []
    denied = scheduling = False
    finalized: set[int] = set()
    for op in ops:
        if isinstance(op, Settle) and out and isinstance(out[-1], Settle):
            continue
        out.append(op)
        if isinstance(op, DenyPodWrites | AllowPodWrites):
            denied = isinstance(op, DenyPodWrites)
        elif isinstance(op, HoldScheduling | ReleaseScheduling):
            scheduling = isinstance(op, HoldScheduling)
        elif isinstance(op, HoldTerminating):
            finalized.add(op.ordinal)
        elif isinstance(op, ReleaseTerminating):
            finalized.discard(op.ordinal)
    if denied:
        out.append(AllowPodWrites())
    out.extend(ReleaseTerminating(o) for o in sorted(finalized))
    if scheduling:
        out.append(ReleaseScheduling())
    if not out or not isinstance(out[-1], Settle):
        out.append(Settle())
    return tuple(out)


def simpler_ops(op: Op) -> list[Op]:
    """Simpler variants of one op, simplest first (empty if it is as simple as it gets).

    >>> simpler_ops(Scale(4)), simpler_ops(FailPod(1, "Succeeded")), simpler_ops(Settle())
    ([Scale(replicas=3)], [FailPod(ordinal=1, phase='Failed')], [])
    """
    if isinstance(op, Scale) and op.replicas > 0:
        return [Scale(op.replicas - 1)]
    if isinstance(op, SetPartition) and op.partition > 0:
        return [SetPartition(op.partition - 1)]
    if isinstance(op, SetMinReadySeconds) and op.seconds > 0:
        return [SetMinReadySeconds(0)]
    if isinstance(op, SetMaxUnavailable) and op.value != 1:
        return [SetMaxUnavailable(1)]
    if isinstance(op, FailPod) and op.phase != "Failed":
        return [FailPod(op.ordinal, "Failed")]
    if isinstance(op, DeleteSet) and op.propagation != "Background":
        return [DeleteSet("Background")]
    return []


def runs_on_model(scenario: Scenario, config: ModelConfig | None = None) -> bool:
    """Whether the model takes ``scenario`` without an input error (a candidate worth a run)."""
    try:
        run_model(scenario, config)
    except (ValueError, KeyError):  # PlanError, OpFormatError, ManifestError are ValueErrors
        return False
    return True


def shrink_failure(scenario: Scenario, result: R, *, run: Callable[[Scenario], R],
                   violations_of: Callable[[R], list[Violation]], budget: int,
                   config: ModelConfig | None = None,
                   progress: Callable[[str], None] | None = None) -> ShrinkResult[R]:
    """Reduce failing ``scenario`` (whose run gave ``result``) within ``budget`` runs.

    ``run`` runs a candidate on the failing system; ``violations_of`` reads its violations. A
    candidate is kept if one of them has the rule of the original's first violation.
    """
    say = progress or (lambda _line: None)
    first = violations_of(result)
    if not first:
        raise ValueError("shrink_failure: the scenario's run has no violation to keep")
    rule = first[0].rule
    best = ShrinkResult(scenario, result, first)
    tried: set[Scenario] = {scenario}

    def attempt(candidate: Scenario, what: str) -> bool:
        if candidate in tried or best.runs >= budget:
            return False
        tried.add(candidate)
        if not runs_on_model(candidate, config):
            return False
        best.runs += 1
        outcome = run(candidate)
        violations = violations_of(outcome)
        kept = any(v.rule == rule for v in violations)
        say(f"    shrink {best.runs}/{budget}: {what}: {len(candidate.ops)} ops, "
            + ("still fails" if kept else "passes" if not violations else
               f"fails otherwise ({violations[0].rule})"))
        if kept:
            best.scenario, best.result, best.violations = candidate, outcome, violations
            best.steps.append(what)
        return kept

    progressed = True
    while progressed and best.runs < budget:
        progressed = False
        for make in (_drop_chunks, _simplify_args, _fewer_replicas):
            for candidate, what in make(best.scenario):
                if best.runs >= budget:
                    break
                if attempt(candidate, what):
                    progressed = True
                    break  # start this kind of reduction again from the smaller scenario
            if progressed:
                break
    return best


def _with_ops(scenario: Scenario, ops: tuple[Op, ...]) -> Scenario:
    return dataclasses.replace(scenario, ops=normalise(ops))


def _drop_chunks(scenario: Scenario) -> Iterator[tuple[Scenario, str]]:
    ops = scenario.ops
    lo = 1 if ops and isinstance(ops[0], Create) else 0
    body = len(ops) - lo
    size = max(1, body // 2)
    while size >= 1:
        # The tail first: ops after the failure seldom matter.
        for start in range(len(ops) - size, lo - 1, -1):
            candidate = _with_ops(scenario, ops[:start] + ops[start + size:])
            if len(candidate.ops) < len(ops):
                yield candidate, (f"drop op {start}" if size == 1
                                  else f"drop ops {start}-{start + size - 1}")
        size //= 2


def _simplify_args(scenario: Scenario) -> Iterator[tuple[Scenario, str]]:
    ops = scenario.ops
    for i, op in enumerate(ops):
        for simpler in simpler_ops(op):
            yield (_with_ops(scenario, (*ops[:i], simpler, *ops[i + 1:])),
                   f"op {i}: {simpler.describe()} instead of {op.describe()}")


def _fewer_replicas(scenario: Scenario) -> Iterator[tuple[Scenario, str]]:
    sts = scenario.manifests.statefulset
    spec = sts.get("spec") or {}
    replicas = spec.get("replicas")
    if isinstance(replicas, int) and replicas > 0:
        spec["replicas"] = replicas - 1
        yield (dataclasses.replace(scenario, manifests=scenario.manifests.with_statefulset(sts)),
               f"{replicas - 1} replicas in the manifest")
