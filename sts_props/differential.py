"""Differential runs: the same Scenario on the model and on a cluster, compared.

After every op the model drains to its quiescent state; the cluster run then waits (woken by
watch events, with a deadline) until the cluster's state equals the model's modulo named
nondeterminism, and records a quiescent point. At the end every safety check, quiescent check
and the ``CRASH`` check (a control-plane component that exited by itself) runs on the cluster
History, and :func:`~sts_props.checks.compare_histories` compares op outcomes and quiescent
states with the model's History.

A cluster History that shows a known upstream race the model cannot follow (F-11, an adopted
revision missing from the same sync's list: :mod:`sts_props.checks.adoption_race`) is compared
with the model only up to it; ``DifferentialResult.known`` names it, and so do the summary,
JUnit and ``replay``. Known crashes (F-2) are listed there too.

The first op whose state the cluster does not reach within the deadline ends the scenario
(``stop_at_divergence``, the default): it is reported with what still differed, the later ops
are not run (``DifferentialResult.not_run`` counts them), so a divergence costs one deadline,
not one per remaining op, and so does every scenario Hypothesis re-runs while shrinking.

>>> # with KwokCluster() as cluster:
>>> #     result = run_differential(scenario, cluster)
>>> #     print(result.render())
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sts_props.checks import (
    Violation,
    check_quiescent,
    compare_histories,
    compare_states,
    quiescent_view,
    run_history_checks,
)
from sts_props.checks._timeline import as_int
from sts_props.checks.adoption_race import adoption_races
from sts_props.checks.compare import BASIC, TARGET
from sts_props.checks.crash import known_crashes
from sts_props.checks.liveness import LivenessVerdict, check_liveness
from sts_props.cluster.base import Cluster
from sts_props.cluster.driver import ClusterRun
from sts_props.cluster.faults import RESOLVERS
from sts_props.errors import ManifestError
from sts_props.history import Event, History
from sts_props.model import ModelConfig, ModelRun
from sts_props.ops import Op, Settle
from sts_props.scenario import Scenario, cluster_wait_problem, min_ready_allowance
from sts_props.snapshot import is_ready, is_terminating

#: how long the cluster may take to reach the model's state after one op; a scenario with
#: minReadySeconds gets :func:`~sts_props.scenario.min_ready_allowance` more (its pods may each
#: wait it out in turn: 25 s for 5 pods at 5 s)
OP_TIMEOUT = 60.0


@dataclass
class DifferentialResult:
    """Both Histories and what the checks found."""

    scenario: Scenario
    model_history: History
    cluster_history: History
    violations: list[Violation] = field(default_factory=list)
    waits: list[str] = field(default_factory=list)
    seconds: float = 0.0
    livelocks: list[str] = field(default_factory=list)
    rules: Counter[str] = field(default_factory=Counter)
    #: set when the model reached a documented livelock and the comparison stopped there
    stopped: str = ""
    #: fault ops the cluster accepted, by kind
    faults: Counter[str] = field(default_factory=Counter)
    #: (fault kind, seconds) of component restarts
    fault_seconds: list[tuple[str, float]] = field(default_factory=list)
    #: (op index, fault kind, verdict) of the recovery after each fault op (section 10.4)
    liveness: list[tuple[int, str, LivenessVerdict]] = field(default_factory=list)
    #: the op after which the cluster did not reach the model's state and the run stopped
    diverged_at: int | None = None
    #: ops of the scenario not run because the run stopped (divergence or livelock) before them
    not_run: int = 0
    #: a failing run's control-plane log lines, by component (Cluster.log_excerpts): written
    #: into its artifacts
    logs: dict[str, str] = field(default_factory=dict)
    #: known upstream deviations the cluster showed, one line each (F-11: compared with the
    #: model only up to it; a known crash, F-2)
    known: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def event_span(self) -> float:
        """Seconds between the first and the last object event of the cluster History."""
        times = [ev.t for ev in self.cluster_history.objects()]
        return (max(times) - min(times)) if times else 0.0

    def render(self) -> str:
        lines = [f"{len(self.scenario.ops)} ops, {self.seconds:.1f}s, "
                 f"{len(self.violations)} violation(s)"]
        if self.not_run:
            where = (f"the cluster diverged after op {self.diverged_at}"
                     if self.diverged_at is not None else "stopped early")
            lines[0] += f"; {where}: {self.not_run} op(s) not run"
        lines += [f"  - {v.describe()}" for v in self.violations]
        return "\n".join(lines)


def _view_diffs(target: dict[str, Any], history: History, now: float | None = None) -> str:
    """What still differs between the model's view and the cluster's latest state ("" = same).

    ``now`` (seconds on the History's clock) also waits out minReadySeconds of Ready pods."""
    if not history.events:
        return "no events yet"
    view = quiescent_view(history, history.events[-1].seq)
    meta = target.get("meta") if isinstance(target.get("meta"), dict) else {}
    level = BASIC if isinstance(meta, dict) and meta.get("blocked") else TARGET
    notes = [d.note for d in compare_states(target, view, level=level)]
    if not notes:
        # Equal to the model is not enough: the cluster must also be at rest by its own
        # measure (status caught up with the pods, section 10.3), or the controller is still
        # between two syncs.
        notes = [v.message for v in check_quiescent(history, history.events[-1].seq)]
    if not notes and now is not None:
        notes = _not_yet_available(history, now)
    return "; ".join(notes[:3]) + (f" (+{len(notes) - 3} more)" if len(notes) > 3 else "")


def _not_yet_available(history: History, now: float) -> list[str]:
    """Ready pods whose minReadySeconds has not run out (PR-4).

    The model's state after an op has every Ready pod available (its time runs past the
    timers), but in a blocked state the comparison does not look at availability, so without
    this wait the next op could land while a pod is still unavailable on the cluster and meet a
    different controller decision (UPD-5: unavailable old pods go first). The clock is the time
    the watch saw the pod turn Ready: never earlier than the real transition, and, unlike the
    condition's lastTransitionTime, not truncated to whole seconds.
    """
    state = history.state_at(history.events[-1].seq)
    sets = list(state.get("StatefulSet", {}).values())
    min_ready = int(((sets[0].get("spec") or {}).get("minReadySeconds") or 0) if sets else 0)
    if min_ready <= 0:
        return []
    seen_ready: dict[str, float] = {}
    for ev in history.objects("Pod"):
        if ev.action == "DELETED" or not is_ready(ev.obj):
            seen_ready.pop(ev.name, None)
        else:
            seen_ready.setdefault(ev.name, ev.t)
    waiting = sorted(name for name, pod in state.get("Pod", {}).items()
                     if is_ready(pod) and not is_terminating(pod)
                     and seen_ready.get(name, now) + min_ready > now)
    return [f"{', '.join(waiting)} Ready but not yet available (minReadySeconds "
            f"{min_ready})"] if waiting else []


def run_differential(scenario: Scenario, cluster: Cluster, config: ModelConfig | None = None,
                     op_timeout: float = OP_TIMEOUT,
                     progress: Callable[[str], None] | None = None,
                     stop_at_divergence: bool = True,
                     cancel: threading.Event | None = None) -> DifferentialResult:
    """Run ``scenario`` on the model (``config``, default: the model of the cluster's version)
    and on ``cluster``; check and compare both Histories.

    ``stop_at_divergence`` (default) ends the run after the first op whose state the cluster
    does not reach: one disagreement is the verdict, and every later op would wait
    ``op_timeout`` for a state that has already diverged. False runs every op whatever
    happened: only for callers that judge the cluster's own behaviour over the whole scenario,
    not its agreement with the model (``sts-props claims`` confirming a claim on a cluster).

    ``cancel`` (scenarios side by side, :mod:`sts_props.concurrent_runs`): once set, the run
    raises :class:`~sts_props.cluster.driver.Cancelled` at its next op or wait.

    Each op may take ``op_timeout`` plus the scenario's minReadySeconds allowance
    (:func:`~sts_props.scenario.min_ready_allowance`); the liveness verdicts use the same bound.
    """
    say = progress or (lambda _line: None)
    started = time.monotonic()
    too_long = cluster_wait_problem(scenario)
    if too_long:
        raise ManifestError(too_long)
    deadline = op_timeout + min_ready_allowance(scenario)
    # the model of the cluster's version unless told otherwise: ModelConfig() is the newest
    # line, and a v1.36 cluster compared with it differs wherever a gate does
    model = ModelRun(scenario.manifests,
                     config or ModelConfig.for_version(cluster.version()))
    waits: list[tuple[int, str]] = []  # (op index, what the cluster did not reach)
    stopped = ""
    faults: Counter[str] = Counter()
    liveness: list[tuple[int, str, LivenessVerdict]] = []
    diverged: int | None = None
    ran = 0
    with ClusterRun(cluster, scenario.manifests, cancel=cancel) as crun:
        for index, op in enumerate(scenario.ops):
            crun.check_cancelled()
            ran = index + 1
            loops = len(model.livelocks)
            performed: Op = op
            if op.kind in RESOLVERS:
                # Part of the op is the cluster's choice (FailNode.colocated: which pods share
                # the failed node): perform it on the cluster first, give the model the same.
                outcome = crun.apply(op)
                performed = crun.performed or op
                model.apply(performed)
            else:
                model.apply(op)  # the default chooser drains: the model is quiescent after it
                outcome = crun.apply(op)
            if op.fault and outcome.ok:
                faults[op.kind] += 1
            if len(model.livelocks) > loops:
                # F-1 (docs/findings.md): upstream 1.37 loops here too, but may escape by a
                # timing race the model cannot predict; nothing after this op is comparable.
                stopped = f"op {index} ({op.describe()}): {model.livelocks[-1]}"
                say(f"    op {index}: {op.describe()}: documented livelock F-1; comparison "
                    "stops here")
                break
            # A fault that must land mid-operation (Op.mid_operation: a controller killed
            # mid-rollout) follows: do not wait for this op to settle.
            following = scenario.ops[index + 1] if index + 1 < len(scenario.ops) else None
            if following is not None and following.mid_operation and not isinstance(op, Settle):
                say(f"    op {index}: {op.describe()}: not waited for (a restart follows)")
                continue
            if not isinstance(op, Settle):  # Settle records its own quiescent point
                model.history.quiescent(index, True, t=model.world.now)
            target = quiescent_view(model.history, model.history.events[-1].seq)

            def missing(target: dict[str, Any] = target) -> str:
                # the op's own writes first: without them the state before the op may pass
                return crun.unseen_writes() or _view_diffs(target, crun.history(),
                                                           time.time() - crun.rec.t0)

            ok, why = crun.wait_until(missing, deadline,
                                      f"the model's state after op {index} ({op.describe()})")
            crun.mark_quiescent(index, ok, why)
            say(f"    op {index}: {op.describe()}: {'settled' if ok else 'NOT settled'}")
            if op.fault or not ok:
                verdict = _recovery(crun.history(), index, target, deadline)
                liveness.append((index, op.kind, verdict))
                if not ok:
                    why = f"{why}; liveness: {verdict.describe()}"
            if not ok:
                if stop_at_divergence:
                    diverged = index
                    left = len(scenario.ops) - index - 1
                    if left:
                        why += f"; the scenario stopped here, {left} later op(s) not run"
                    say(f"    diverged after op {index}: {left} op(s) not run")
                    waits.append((index, why))
                    break
                waits.append((index, why))
        crun.supervise()  # a crash since the last wait still belongs to this scenario
        cluster_history = crun.history()
        fault_seconds = list(crun.fault_seconds)
    violations = (run_history_checks(cluster_history)
                  + compare_histories(model.history, cluster_history))
    violations += [_unreached(why) for _, why in waits]
    violations, known = known_deviations(violations, waits, cluster_history)
    for line in known:
        say(f"    {line}")
    # the recorder's start is wall-clock time, the control-plane logs' clock
    logs = (cluster.log_excerpts(crun.rec.t0, time.time(), crun.namespace) if violations
            else {})
    return DifferentialResult(scenario, model.history, cluster_history, violations,
                              [why for _, why in waits],
                              time.monotonic() - started, list(model.livelocks), model.rules,
                              stopped, faults, fault_seconds, liveness, diverged,
                              len(scenario.ops) - ran, logs, known)


def known_deviations(violations: list[Violation], waits: list[tuple[int, str]],
                     cluster_history: History) -> tuple[list[Violation], list[str]]:
    """``violations`` less what a known upstream race explains, and one line per known
    deviation the cluster showed: its known crashes (F-2), and the first F-11 race, after which
    the cluster follows a status the model cannot predict (compared up to it). ``waits``: the
    (op index, what was not reached) of the L/10.4 violations among ``violations``."""
    known = known_crashes(cluster_history)
    races = adoption_races(cluster_history)
    if races:
        violations = _compared_up_to(violations, waits, races[0].moved, cluster_history)
        known.append(races[0].describe() + "; compared with the model up to it")
    return violations, known


def _compared_up_to(violations: list[Violation], waits: list[tuple[int, str]], cut: Event,
                    cluster_history: History) -> list[Violation]:
    """``violations`` without what a known deviation at cluster record ``cut`` explains: the
    comparisons (CMP) of cluster records from ``cut`` on, and the waits (L/10.4) of the op in
    flight at ``cut`` and of every later op. The checks of the cluster History alone stay."""
    invoked = [as_int(ev.data.get("index"), -1) for ev in cluster_history.ops()
               if ev.phase == "invoke" and ev.seq < cut.seq]
    first = max(invoked, default=0)
    late = {_unreached(why) for index, why in waits if index >= first}
    return [v for v in violations
            if not (v.check == "CMP" and len(v.events) >= 2 and v.events[1] >= cut.seq)
            and v not in late]


def _unreached(why: str) -> Violation:
    """The L/10.4 violation of a wait that ended without the model's state: ``why``."""
    return Violation("L", "L/10.4", f"the cluster did not reach the model's state: {why}", ())


def _recovery(history: History, index: int, target: dict[str, Any],
              bound: float = OP_TIMEOUT) -> LivenessVerdict:
    """The liveness verdict from the end of op ``index`` (its outcome record, else its
    invocation) to the quiescent mark after it, which had ``bound`` seconds from then, as the
    wait did. An apiserver restart returns only once the control plane's watches are back,
    which can take a minute (docs/findings.md F-10): that is the fault, not the recovery."""
    records = [ev for ev in history.ops() if ev.data.get("index") == index]
    done = [ev for ev in records if ev.phase != "invoke"]
    since = done[0].t if done else (records[0].t if records else 0.0)
    return check_liveness(history, target, since=since, bound=bound,
                          window=0.25, stall=5.0)
