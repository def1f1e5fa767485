"""Run a :class:`~sts_props.plan.Plan`: on the model alone, or differentially on a cluster.

>>> from sts_props.ops import Create, Settle
>>> from sts_props.plan import Plan
>>> from sts_props.scenario import Manifests, Scenario
>>> run = run_plan_on_model(Plan(Scenario(Manifests.seed(), (Create(), Settle()))))
>>> run.ok, run.backend
(True, 'model')

On a cluster (``run_plan_on_cluster(plan, cluster)``) the plan runs through
:func:`~sts_props.differential.run_differential`: every check on the cluster's History, the
comparison with the model, and the plan's expectations on the cluster's History.
:func:`run_plans_on_cluster` runs several side by side.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sts_props.checks import Violation, run_history_checks
from sts_props.checks.expectations import check_expectations
from sts_props.cluster.base import Cluster
from sts_props.concurrent_runs import run_all, runs_alone
from sts_props.differential import run_differential
from sts_props.errors import PlanError
from sts_props.history import History
from sts_props.model import ModelConfig, ModelRun, run_model
from sts_props.plan import Plan
from sts_props.strategies.chooser import ScriptedChooser


@dataclass
class PlanRun:
    """What running a plan produced: the run's History (the cluster's on a cluster), the
    model's History for a differential run, and the violations."""

    plan: Plan
    backend: str
    history: History
    model_history: History | None = None
    violations: list[Violation] = field(default_factory=list)
    seconds: float = 0.0
    #: a documented livelock (F-1) the differential comparison stopped at, if any
    stopped: str = ""
    #: control-plane log lines of a failing cluster run, by component (written into artifacts)
    logs: dict[str, str] = field(default_factory=dict)
    #: known upstream deviations the cluster showed (DifferentialResult.known)
    known: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def verdict(self) -> str:
        """One line: what ran where, and the outcome."""
        what = f"plan {self.plan.name or '(unnamed)'}: {len(self.plan.ops)} ops on {self.backend}"
        if self.ok:
            return f"{what}: ok in {self.seconds:.1f}s"
        return f"{what}: FAILED with {len(self.violations)} violation(s) in {self.seconds:.1f}s"


#: seconds of a model replay without a progress line (a plan of hundreds of replicas takes
#: minutes: every pod is simulated)
PROGRESS_EVERY = 5.0


def run_plan_on_model(plan: Plan, config: ModelConfig | None = None,
                      progress: Callable[[str], None] | None = None) -> PlanRun:
    """Run ``plan`` on the model (its interleavings replayed), check the History and the
    plan's expectations. ``config`` defaults to the plan's version and gates. ``progress``
    hears a line whenever an op ends :data:`PROGRESS_EVERY` seconds or more after the last
    line, and before the checks of a History that took that long."""
    started = time.monotonic()
    last = [started]  # when the last progress line was said
    ops = plan.scenario.ops

    def said(index: int, run: ModelRun) -> None:
        now = time.monotonic()
        if progress is not None and now - last[0] >= PROGRESS_EVERY:
            progress(f"  op {index + 1} of {len(ops)} ({ops[index].kind}) done, "
                     f"{len(run.history)} History records, {now - started:.0f}s")
            last[0] = now

    chooser = ScriptedChooser(plan.interleavings) if plan.interleavings else None
    h = run_model(plan.scenario, config or ModelConfig.for_plan(plan), chooser, said).history
    if progress is not None and time.monotonic() - started >= PROGRESS_EVERY:
        progress(f"  checking the History ({len(h)} records)")
    violations = run_history_checks(h) + check_expectations(h, plan.expect)
    return PlanRun(plan, "model", h, None, violations, time.monotonic() - started)


def run_plan_on_cluster(plan: Plan, cluster: Cluster, config: ModelConfig | None = None,
                        cancel: threading.Event | None = None) -> PlanRun:
    """Run ``plan`` on the model and on ``cluster``; checks, comparison and expectations.
    ``cancel``: see :func:`~sts_props.differential.run_differential`."""

    started = time.monotonic()
    result = run_differential(plan.scenario, cluster, config or ModelConfig.for_plan(plan),
                              cancel=cancel)
    violations = result.violations + check_expectations(result.cluster_history, plan.expect)
    return PlanRun(plan, cluster.name, result.cluster_history, result.model_history,
                   violations, time.monotonic() - started, result.stopped, result.logs,
                   result.known)


def run_plans_on_cluster(
    plans: Sequence[Plan],
    cluster: Cluster,
    jobs: int = 1,
    config_of: Callable[[Plan], ModelConfig] | None = None,
    done: Callable[[PlanRun], None] | None = None,
) -> list[PlanRun]:
    """Run ``plans`` on ``cluster``, up to ``jobs`` side by side (each in its own namespace; a
    plan with a fault that disturbs the whole cluster runs alone, see
    :mod:`sts_props.concurrent_runs`); their runs in the order of ``plans``.

    ``config_of(plan)`` gives each plan's model (default: the plan's version and gates);
    ``done(run)`` hears of each run as it finishes. Every plan runs, whatever the others
    found; a cluster error starts no further plan and is raised once the plans in flight
    have finished.

    The regression suite's cluster tests share one such run (``pytest --sts-jobs N``)::

        runs = run_plans_on_cluster([Plan.load(p) for p in paths], cluster, jobs=6)
    """
    def run(plan: Plan, cancel: threading.Event) -> PlanRun:
        return run_plan_on_cluster(plan, cluster, config_of(plan) if config_of else None,
                                   cancel=cancel)

    return run_all(plans, jobs, alone=lambda plan: runs_alone(plan.scenario), run=run,
                   done=None if done is None else lambda _plan, result: done(result))


def check_promotable(plan: Plan, source: str = "plan") -> None:
    """Refuse (:class:`PlanError`) a plan that does not replay on the model to its end.

    ``Plan.load`` has checked the file; this runs the plan on the model once, which finds
    what only a run can (a revert_template to a template version the run never made).
    Violations are fine: a counterexample is worth promoting.
    """
    try:
        run_plan_on_model(plan)
    except PlanError as exc:
        raise PlanError(f"{source}: does not replay on the model: {exc}") from None
