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
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sts_props.history import Event, History
from sts_props.model.config import ModelConfig
from sts_props.model.controller import SyncPlan, apply_plan, sync
from sts_props.model.environment import (
    HOLD_ANNOTATION,
    EnvAction,
    apply_env,
    apply_fault,
    env_actions,
    next_timer,
)
from sts_props.model.validation import (
    default_statefulset,
    drop_disabled_fields,
    validate_create,
    validate_update,
)
from sts_props.model.world import Pod, StatefulSet, World
from sts_props.ops import (
    SPEC_OPS,
    Create,
    DeletePod,
    DeletePVC,
    DeleteSet,
    FailPod,
    HoldNotReady,
    Op,
    RecreateSet,
    ReleasePod,
    Settle,
)
from sts_props.outcome import Outcome
from sts_props.scenario import Manifests, Scenario
from sts_props.snapshot import is_terminating, pod_name, uid
from sts_props.spec_edit import SpecEditor

#: A settle that takes more steps than this is reported as not settled (a livelock).
MAX_SETTLE_STEPS = 20_000
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

    @property
    def history(self) -> History:
        return self.world.history

    # -- ops ---------------------------------------------------------------------------------------
    def apply(self, op: Op) -> Outcome:
        """Invoke one op, record invoke/ok/fail, then let the system move as the chooser says."""
        index = len(self.outcomes)
        w = self.world
        self.history.op("invoke", index, op.to_dict(), t=w.now)
        if isinstance(op, Settle):
            settled, reason = self.settle()
            outcome = Outcome.accepted()
            self.outcomes.append(outcome)
            self.history.op("ok", index, op.to_dict(), t=w.now, outcome=outcome.to_dict(),
                            writes=[])
            self.history.quiescent(index, settled, reason, t=w.now)
            return outcome
        first = len(self.history.events)
        outcome = self._perform(op)
        self.outcomes.append(outcome)
        self.rules.update(outcome.rules)
        phase = "ok" if outcome.ok else "fail"
        self.history.op(phase, index, op.to_dict(), t=w.now, outcome=outcome.to_dict(),
                        writes=own_writes(self.history.events[first:]))
        w.refresh_endpoints()
        budget = self.chooser.steps_after(op)
        if budget is None:
            self.settle()
        else:
            for _ in range(budget):
                if not self.step():
                    break
        return outcome

    def _perform(self, op: Op) -> Outcome:
        w = self.world
        faulted = apply_fault(w, op, self.set_name)  # fault ops, and deletes a policy refuses
        if faulted is not None:
            return faulted
        if isinstance(op, Create | RecreateSet):
            return self._create(op)
        if op.kind in SPEC_OPS:
            return self._update_spec(op)
        if isinstance(op, DeleteSet):
            if w.sts is None:
                return Outcome.rejected(404, "NotFound", f"statefulset {self.set_name} not found")
            if w.sts.deleted is not None:
                return Outcome.accepted()
            self.rules["DEL-1"] += 1
            if op.propagation == "Background":
                w.remove(w.sts)
            else:
                w.sts.deleted = w.now
                w.sts.finalizers.append(
                    "orphan" if op.propagation == "Orphan" else "foregroundDeletion")
                w.touch(w.sts)
            return Outcome.accepted()
        if isinstance(op, DeletePVC):
            templates = (self.editor.manifest.get("spec") or {}).get("volumeClaimTemplates") or []
            first = (templates[0].get("metadata") or {}).get("name") if templates else None
            cname = f"{first}-{self.set_name}-{op.ordinal}"
            claim = w.claims.get(cname) if first else None
            if claim is None:
                return Outcome.rejected(404, "NotFound", f"persistentvolumeclaim {cname} not found")
            if claim.deleted is None:
                claim.deleted = w.now
                w.touch(claim)
            return Outcome.accepted()
        if isinstance(op, DeletePod | FailPod | HoldNotReady | ReleasePod):
            pod = w.pods.get(pod_name(self.set_name, op.ordinal))
            if pod is None:
                return Outcome.rejected(404, "NotFound",
                                        f"pod {pod_name(self.set_name, op.ordinal)} not found")
            self._pod_op(op, pod)
            return Outcome.accepted()
        raise AssertionError(f"the model has no rule for op {op.kind}")  # pragma: no cover

    def _pod_op(self, op: Op, pod: Pod) -> None:
        w = self.world
        if isinstance(op, DeletePod):
            if pod.deleted is None:
                pod.deleted = w.now
        elif isinstance(op, FailPod):
            pod.phase, pod.ready, pod.ready_since = op.phase, False, None
        elif isinstance(op, HoldNotReady):
            pod.held, pod.ready, pod.ready_since = True, False, None
            pod.annotations[HOLD_ANNOTATION] = "true"
        elif isinstance(op, ReleasePod) and pod.held:
            pod.held = False
            pod.annotations.pop(HOLD_ANNOTATION, None)
            if pod.phase == "Running":
                pod.ready, pod.ready_since = True, w.now
        w.touch(pod)

    def _create(self, op: Op) -> Outcome:
        w = self.world
        if w.sts is not None:
            return Outcome.rejected(409, "AlreadyExists",
                                    f'statefulsets.apps "{self.set_name}" already exists')
        manifest = default_statefulset(self.editor.manifest, self.config)
        causes = validate_create(manifest, self.config)
        if causes:
            return Outcome.invalid(causes)
        if isinstance(op, Create):
            w.service = self.manifests.service
        w.add_set(StatefulSet(manifest))
        return Outcome.accepted()

    def _update_spec(self, op: Op) -> Outcome:
        w = self.world
        if w.sts is None:
            return Outcome.rejected(404, "NotFound", f"statefulset {self.set_name} not found")
        proposed = self.editor.propose(op)
        new = default_statefulset(proposed, self.config)
        drop_disabled_fields(w.sts.manifest, new, self.config)
        causes = validate_update(w.sts.manifest, new, self.config)
        if causes:
            return Outcome.invalid(causes)
        if new.get("spec") != w.sts.manifest.get("spec"):
            w.sts.generation += 1  # ST-7: any semantic spec change bumps the generation
        w.sts.replace_manifest(new)  # default_statefulset made ``new`` a private deep copy
        self.editor.accept(op, proposed)
        w.touch(w.sts)
        return Outcome.accepted()

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
              chooser: Chooser | None = None) -> ModelResult:
    """Run every op of ``scenario`` on the model; returns its History and op outcomes."""
    run = ModelRun(scenario.manifests, config, chooser)
    for op in scenario.ops:
        run.apply(op)
    return run.result(scenario)
