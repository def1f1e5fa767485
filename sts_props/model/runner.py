"""Run a Scenario on the reference model and get its History.

>>> from sts_props.scenario import Manifests, Scenario
>>> from sts_props.ops import Create, Scale, Settle
>>> result = run_model(Scenario(Manifests.seed(), (Create(), Settle(), Scale(1), Settle())))
>>> sorted(result.final_pods()), [o.describe() for o in result.outcomes]
(['redis-0'], ['accepted', 'accepted', 'accepted', 'accepted'])

Between ops the runner lets the system move; *how far* and *in which order* is decided by a
:class:`Chooser`. The default drains everything (a slow operator); Hypothesis strategies pass a
chooser that draws both, which explores the interleavings a real cluster may take.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sts_props.history import Event, History
from sts_props.interleaving import MAX_SETTLE_STEPS
from sts_props.model.config import ModelConfig
from sts_props.model.controller import SyncPlan, apply_plan, sync
from sts_props.model.environment import EnvAction, apply_env, env_actions, next_timer
from sts_props.model.handlers import HANDLERS
from sts_props.model.world import World
from sts_props.ops import Op, Settle
from sts_props.outcome import Outcome
from sts_props.scenario import Manifests, Scenario
from sts_props.snapshot import is_terminating, uid
from sts_props.spec_edit import SpecEditor

#: A settle that takes more steps than this is reported as not settled (a livelock).
#: A pod deleted for an update this often within one settle is caught in a delete/recreate
#: loop: within one settle the template does not change, so a healthy rollout deletes each pod
#: at most once.
LIVELOCK_REPEATS = 10


class Chooser:
    """Decides how far the system moves between ops, and which enabled step goes first.

    ``steps_after(op)`` returns None to drain (run until nothing is enabled) or a step count;
    ``pick(n)`` picks one of ``n`` enabled steps (0 = the controller's sync when it is enabled).
    With ``rounds`` set, a step is a whole round instead: the controller's sync, then every
    environment action enabled after it, in one go (fast; used when drawing is not wanted).
    """

    rounds: bool = True

    def steps_after(self, op: Op) -> int | None:
        return None

    def pick(self, n: int) -> int:
        return 0


@dataclass
class ModelResult:
    """What a model run produced."""

    scenario: Scenario
    history: History
    outcomes: list[Outcome]
    rules: Counter[str] = field(default_factory=Counter)
    steps: int = 0
    unsettled: list[str] = field(default_factory=list)
    livelocks: list[str] = field(default_factory=list)

    def final_pods(self) -> dict[str, dict[str, object]]:
        """Live pod snapshots at the end of the run, by name."""
        return self.history.state_at(len(self.history) - 1)["Pod"]


def own_writes(records: Sequence[Event]) -> list[dict[str, Any]]:
    """An op's ``writes`` (see :mod:`sts_props.history`): the object records the op itself
    made, i.e. every record between its invoke and its result (nothing else moves in the
    model meanwhile). A record that deletes, or leaves the object terminating, is a
    ``delete``.

    >>> from sts_props.history import Event
    >>> own_writes([Event(3, 0.0, "object", {"action": "MODIFIED", "kind": "Pod",
    ...     "name": "web-0", "rv": 9, "obj": {"metadata": {"uid": "pod-uid-1",
    ...     "deletionTimestamp": 1.0}}})])
    [{'kind': 'Pod', 'name': 'web-0', 'uid': 'pod-uid-1', 'rv': 9, 'verb': 'delete'}]
    """
    out = []
    for ev in records:
        if ev.type != "object" or not uid(ev.obj):
            continue
        verb = ("delete" if ev.action == "DELETED" or is_terminating(ev.obj)
                else "create" if ev.action == "ADDED" else "update")
        out.append({"kind": ev.kind, "name": ev.name, "uid": uid(ev.obj),
                    "rv": ev.data.get("rv"), "verb": verb})
    return out


class ModelRun:
    """A model run you can drive op by op (the state machine does) or all at once."""

    def __init__(self, manifests: Manifests, config: ModelConfig | None = None,
                 chooser: Chooser | None = None) -> None:
        self.manifests = manifests
        self.config = config or ModelConfig()
        self.chooser = chooser or Chooser()
        self.set_name = manifests.set_name
        self.world = World(self.set_name, History.new(
            "model", self.set_name, k8s_version=self.config.version, clock_granularity=0.0))
        self.editor = SpecEditor(manifests.statefulset)
        self.outcomes: list[Outcome] = []
        self.rules: Counter[str] = Counter()
        self.steps = 0
        self.unsettled: list[str] = []
        #: documented non-terminating behaviours met (not model failures), see settle()
        self.livelocks: list[str] = []
        self._update_deletions: Counter[str] = Counter()
        #: ``(settled, reason)`` of the last Settle op, recorded as its quiescent point
        self.last_settle: tuple[bool, str] = (True, "")

    @property
    def history(self) -> History:
        return self.world.history

    # -- ops ---------------------------------------------------------------------------------------
    def apply(self, op: Op) -> Outcome:
        """Invoke one op, record invoke/ok/fail, then let the system move as the chooser says.

        The op is performed by its handler (:data:`sts_props.model.handlers.HANDLERS`); a
        Settle's handler is the settle itself, after which nothing more moves.
        """
        index = len(self.outcomes)
        w = self.world
        op_dict = op.to_dict()  # one dict for both records (records are never changed)
        self.history.op("invoke", index, op_dict, t=w.now)
        first = len(self.history.events)
        handler = HANDLERS.get(type(op))
        if handler is None:  # pragma: no cover - tests/test_op_catalogue.py rules it out
            raise AssertionError(f"the model has no handler for op {op.kind}")
        outcome = handler(self, op)
        self.outcomes.append(outcome)
        self.rules.update(outcome.rules)
        phase = "ok" if outcome.ok else "fail"
        # A Settle writes nothing itself: what moved during it is the controller's doing.
        writes = [] if isinstance(op, Settle) else own_writes(self.history.events[first:])
        self.history.op(phase, index, op_dict, t=w.now, outcome=outcome.to_dict(),
                        writes=writes)
        if isinstance(op, Settle):
            self.history.quiescent(index, *self.last_settle, t=w.now)
            return outcome
        w.refresh_endpoints()
        budget = self.chooser.steps_after(op)
        if budget is None:
            self.settle()
        else:
            for _ in range(budget):
                if not self.step():
                    break
        return outcome

    # -- moving the system -------------------------------------------------------------------------
    def enabled(self) -> tuple[SyncPlan | None, list[EnvAction]]:
        """The controller's planned sync (None if it would do nothing) and environment steps."""
        plan = sync(self.world, self.config)
        return (plan if plan.actions else None), env_actions(self.world)

    def step(self) -> bool:
        """Take one step (a sync, an environment action, or a clock jump); False if idle."""
        if self.chooser.rounds:
            return self._round()
        plan, env = self.enabled()
        choices: list[SyncPlan | EnvAction] = ([plan] if plan is not None else []) + env
        if not choices:
            due = next_timer(self.world)
            if due is None:
                return False
            self.world.now = due  # nothing else can happen before this instant
            return True
        choice = choices[self.chooser.pick(len(choices)) % len(choices)]
        if isinstance(choice, SyncPlan):
            apply_plan(self.world, choice)
            self._note_plan(choice)
        else:
            apply_env(self.world, choice)
            self.rules[choice.rule] += 1
        self.world.refresh_endpoints()
        self.steps += 1
        return True

    def _round(self) -> bool:
        w = self.world
        plan = sync(w, self.config)
        moved = False
        if plan.actions:
            apply_plan(w, plan)
            self._note_plan(plan)
            moved = True
        # Each action was enabled in the same state; applying those that touch distinct objects
        # together equals some order of single steps. Two actions can address the same object
        # (a terminating pod of a set in Orphan deletion is offered both remove_pod and
        # orphan_pod): only the first is applied, the other is re-offered next round if it is
        # still enabled.
        touched: set[tuple[str, str]] = set()
        for action in env_actions(w):
            target = (action.verb.split("_", 1)[-1], action.name)
            if target in touched:
                continue
            touched.add(target)
            apply_env(w, action)
            self.rules[action.rule] += 1
            moved = True
        if not moved:
            due = next_timer(w)
            if due is None:
                return False
            w.now = due
            return True
        w.refresh_endpoints()
        self.steps += 1
        return True

    def _note_plan(self, plan: SyncPlan) -> None:
        self.rules.update(a.rule for a in plan.actions)
        self._update_deletions.update(
            a.name for a in plan.actions if a.verb == "delete_pod" and a.payload == "update")

    def settle(self) -> tuple[bool, str]:
        """Run until quiescent (10.3); a stuck state (UPD-12, held pods) is quiescent too.

        A delete/recreate loop is reported as a livelock, not as a failure of the model: on
        1.37 a Parallel set whose RollingUpdate has no rollingUpdate block recreates a pod
        below ``start + status.currentReplicas`` at the current revision (UPD-6 a), and the
        two-phase update step (#137666) deletes that old, not-yet-available pod again, in the
        same sync that created it, forever. Seen on v1.37.2 (kwok): 387 recreations of one pod
        in 30 s, the rollout never started (docs/findings.md). With minReadySeconds 0 the
        cluster sometimes leaves the loop through stale-cache syncs; the model, whose cache is
        always fresh, does not.
        """
        self._update_deletions.clear()
        for _ in range(MAX_SETTLE_STEPS):
            if not self.step():
                return True, ""
            looping = [n for n, c in self._update_deletions.items() if c >= LIVELOCK_REPEATS]
            if looping:
                reason = (f"livelock (UPD-10/UPD-6a): {', '.join(sorted(looping))} deleted for "
                          f"the update {LIVELOCK_REPEATS} times and recreated at the current "
                          "revision each time")
                self.livelocks.append(reason)
                return False, reason
        plan, env = self.enabled()
        moving = [a.verb + " " + a.name for a in (plan.actions if plan else [])][:5]
        moving += [a.verb + " " + a.name for a in env][:5]
        reason = f"still moving after {MAX_SETTLE_STEPS} steps: {', '.join(moving)}"
        self.unsettled.append(reason)
        return False, reason

    def result(self, scenario: Scenario) -> ModelResult:
        return ModelResult(scenario, self.history, list(self.outcomes), self.rules, self.steps,
                           list(self.unsettled), list(self.livelocks))


def run_model(scenario: Scenario, config: ModelConfig | None = None,
              chooser: Chooser | None = None,
              after_op: Callable[[int, ModelRun], None] | None = None) -> ModelResult:
    """Run every op of ``scenario`` on the model; returns its History and op outcomes.
    ``after_op(index, run)`` hears of each op once it is applied (a long replay's progress)."""
    run = ModelRun(scenario.manifests, config, chooser)
    for index, op in enumerate(scenario.ops):
        run.apply(op)
        if after_op is not None:
            after_op(index, run)
    return run.result(scenario)
