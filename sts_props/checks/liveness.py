"""Liveness (section 10.4): once faults stop, does the system reach its quiescent state in time?

:func:`check_liveness` reads a History from the instant the last fault ended and answers with a
:class:`LivenessVerdict`:

* ``converged``: the state equal to the target (the model's quiescent view, or the section
  10.3 checks when there is no model) was reached within ``bound`` seconds and held for
  ``window`` seconds. If that state is a documented stuck state (a held pod under OrderedReady,
  ORD-2; UPD-12; ID-13; STO-3/STO-12; ORD-4; ORD-9; Pending pods while HoldScheduling is in
  force, PR-3) the verdict says so and names the rule:
  the model predicted it, it is expected, not a failure.
* ``slow``: it got there, but after ``bound``; or it had not yet, yet objects were still moving
  in the last ``stall`` seconds without looping.
* ``stuck``: nothing moved for ``stall`` seconds and the state is not the target; the verdict
  names the blocking rules found in the last state (see :func:`blockers`), or "no documented
  blocker" (a finding).
* ``livelock``: objects keep moving but a pod is deleted and recreated again and again (the
  F-1 livelock of docs/findings.md, UPD-10/UPD-6a), which is documented upstream behaviour.

>>> from sts_props.history import History
>>> h = History.new("model", "web")
>>> check_liveness(h, None, since=0.0, bound=5.0).verdict
'converged'

A verdict is a :class:`~sts_props.checks.Violation` only when :attr:`LivenessVerdict.failed`
(``stuck`` without a documented blocker, or ``slow``); :meth:`LivenessVerdict.describe` is
the sentence for reports.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from sts_props.checks._timeline import Spec, is_held, status_of
from sts_props.checks.compare import (
    BASIC,
    TARGET,
    compare_states,
    quiescent_view,
    revision_symbols,
    rule_for,
)
from sts_props.checks.quiescent import check_quiescent
from sts_props.checks.violation import Violation
from sts_props.history import Event, History
from sts_props.snapshot import (
    INT32_MAX,
    Snapshot,
    claim_name,
    controller_ref,
    is_running_ready,
    is_terminating,
    meta,
    ordinal_of,
    owner_refs,
    phase,
    revision_of,
    uid,
)

Verdict = Literal["converged", "slow", "stuck", "livelock"]

#: recreations of one pod name within the observed span that count as a delete/recreate loop
LOOP_RECREATIONS = 5


@dataclass(frozen=True)
class Blocker:
    """A documented reason (section 10.4) why a state stays short of the 10.3 target."""

    rule: str
    subject: str
    sentence: str


@dataclass(frozen=True)
class LivenessVerdict:
    """The answer of :func:`check_liveness`."""

    verdict: Verdict
    #: seconds from ``since`` until the target was reached (None if it was not)
    seconds: float | None
    bound: float
    blockers: tuple[Blocker, ...] = ()
    detail: str = ""
    #: the model's target was itself blocked: a documented stuck state was predicted
    expected: bool = False
    rules: tuple[str, ...] = field(default=())
    #: the rules of what still differed from the model's target (the transitions the cluster
    #: never made), most telling first; empty without a model
    missing: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        """Is this a broken liveness promise? Documented stuck states and F-1 are not."""
        if self.verdict == "slow":
            return True
        if self.verdict == "stuck":
            return not (self.expected and self.blockers)
        return False

    def describe(self) -> str:
        rules = ", ".join(sorted({b.rule for b in self.blockers}))
        if self.verdict == "converged":
            head = f"converged in {self.seconds:.1f}s (bound {self.bound:.0f}s)"
            if self.blockers:
                head += (f" to a documented stuck state [{rules}], as the model predicted: "
                         + "; ".join(b.sentence for b in self.blockers[:3]))
            return head
        if self.verdict == "slow":
            when = (f"after {self.seconds:.1f}s" if self.seconds is not None
                    else "not yet, still moving")
            return f"slow: reached the target {when}, bound {self.bound:.0f}s. {self.detail}"
        if self.verdict == "livelock":
            return f"livelock (documented, F-1, UPD-10/UPD-6a): {self.detail}"
        if self.failed and self.missing:
            # The model went on where the cluster stopped: what is cited is the rule of the
            # transition that never came; blockers on the cluster explain nothing here.
            seen = ("; documented blockers on the cluster, which the model did not predict: "
                    + "; ".join(b.sentence for b in self.blockers[:3])) if self.blockers \
                else " (no documented blocker found)"
            return (f"stuck [{', '.join(dict.fromkeys(self.missing))}] (a finding): the "
                    f"cluster never made the transition the model made{seen}. "
                    f"{self.detail}").rstrip()
        why = ("; ".join(b.sentence for b in self.blockers[:3])
               if self.blockers else "no documented blocker found")
        tag = "expected, documented" if not self.failed else "a finding"
        return f"stuck [{rules or 'L/10.4'}] ({tag}): {why}. {self.detail}".rstrip()

    def violation(self) -> Violation | None:
        """A :class:`Violation` if the verdict is a failure, else None: rule ``L/<rule>``
        naming the first transition the cluster never made when a model target says which,
        else ``L/10.4``."""
        if not self.failed:
            return None
        rule = f"L/{self.missing[0]}" if self.verdict == "stuck" and self.missing else "L/10.4"
        return Violation("L", rule, self.describe(), ())


def blockers(state: dict[str, dict[str, Snapshot]], set_name: str,
             denied: frozenset[int] = frozenset(),
             scheduling_held: bool = False) -> list[Blocker]:
    """Documented blockers (section 10.4) in one state (``History.state_at``), by rule;
    ``denied`` are ordinals whose pod writes an admission policy refuses (DenyPodWrites);
    ``scheduling_held``: a HoldScheduling is in force, so every Pending pod of the set stays
    Pending (rule PR-3: it never becomes Running+Ready), whatever the pod management policy.

    >>> sts = {"metadata": {"name": "web", "uid": "s1"},
    ...        "spec": {"replicas": 1, "podManagementPolicy": "Parallel"}}
    >>> pod = {"metadata": {"name": "web-0", "ownerReferences": [
    ...     {"kind": "StatefulSet", "name": "web", "uid": "s1", "controller": True}]},
    ...     "status": {"phase": "Pending"}}
    >>> state = {"StatefulSet": {"web": sts}, "Pod": {"web-0": pod}}
    >>> [b.rule for b in blockers(state, "web", scheduling_held=True)]
    ['PR-3']
    >>> blockers({}, "web")
    []
    """
    out: list[Blocker] = []
    sts = state.get("StatefulSet", {}).get(set_name)
    if sts is None:
        return out
    spec = Spec.of(sts)
    ordered = spec.policy != "Parallel"
    if is_terminating(sts):
        out.append(Blocker("ORD-9", set_name, "the set is being deleted; the controller only "
                           "writes status"))
    pods = {ordinal_of(n, set_name): p for n, p in state.get("Pod", {}).items()}
    for o in range(spec.start, spec.end):
        pod = pods.get(o)
        name = f"{set_name}-{o}"
        if o in denied:
            out.append(Blocker("EX-2", name, f"writes to {name} are refused by an admission "
                               "policy; the sync fails and is retried with backoff"))
        if scheduling_held and pod is not None and phase(pod) == "Pending" \
                and not is_terminating(pod):
            # The harness's doing, not the controller's: it created the pod, no node takes it.
            out.append(Blocker("PR-3", name, f"{name} is Pending and unscheduled: scheduling "
                               "is held (HoldScheduling cordons every node) until "
                               "ReleaseScheduling"))
        if pod is None and o > INT32_MAX:
            out.append(Blocker("F-9", name, f"ordinal {o} is above 2^31-1: the controller "
                               f"renames its pod {set_name}--1, which the apiserver refuses, "
                               "every sync (docs/findings.md F-9)"))
            continue
        if pod is None:
            for t in spec.templates:
                claim = state.get("PersistentVolumeClaim", {}).get(claim_name(t, set_name, o))
                if claim is not None and is_terminating(claim):
                    out.append(Blocker("STO-3", name, f"claim {meta(claim).get('name')} is "
                                       "being deleted, so the pod is not created"))
                elif claim is not None and any(r.get("kind") == "Pod" for r in owner_refs(claim)):
                    out.append(Blocker("STO-12", name, f"claim {meta(claim).get('name')} is "
                                       "still owned by an earlier pod (stale claim)"))
            continue
        ref = controller_ref(pod)
        if ref is None or ref.get("uid") != uid(sts):
            out.append(Blocker("ID-13", name, f"{name} exists but the set does not control it; "
                               "creating it fails with AlreadyExists"))
        elif is_terminating(pod) and meta(pod).get("finalizers"):
            out.append(Blocker("PR-2", name, f"{name} is held Terminating by finalizers "
                               f"{meta(pod).get('finalizers')}"))
        elif ordered and (is_held(pod) or not is_running_ready(pod)):
            status = status_of(sts)
            rolling_out = status.get("updateRevision") != status.get("currentRevision")
            if rolling_out and revision_of(pod) == status.get("updateRevision"):
                out.append(Blocker("UPD-12", name, f"{name} at the new revision never became "
                                   "Ready; the rollout stops (a forced rollback needs it "
                                   "deleted by hand)"))
            else:
                out.append(Blocker("ORD-2", name, f"{name} is {phase(pod) or 'missing'} and not "
                                   "Ready" + (" (held NotReady)" if is_held(pod) else "")
                                   + "; OrderedReady stops at it"))
    if ordered:
        for cond, cpod in pods.items():
            if cond is not None and not spec.in_range(cond) and not is_running_ready(cpod):
                out.append(Blocker("ORD-4", f"{set_name}-{cond}", f"condemned {set_name}-{cond} "
                                   "is unhealthy; scale-down waits"))
    return out


def _diffs(target: dict[str, Any] | None, history: History, seq: int,
           symbols: dict[str, str]) -> tuple[list[str], list[str]]:
    """What still differs from the target at ``seq`` (sentences), and the rules they fall
    under (from the model comparison; the 10.3 checks' own rules otherwise)."""
    if target is None:
        found = check_quiescent(history, seq)
        return [v.message for v in found], [v.rule for v in found]
    view = quiescent_view(history, seq, symbols=symbols)
    meta_t = target.get("meta") if isinstance(target.get("meta"), dict) else {}
    level = BASIC if isinstance(meta_t, dict) and meta_t.get("blocked") else TARGET
    diffs = compare_states(target, view, level=level)
    if diffs:
        # Objects first: a status field only follows the pods and claims it counts.
        diffs = sorted(diffs, key=lambda d: d.path.startswith("set/"))
        return [d.note for d in diffs], [rule_for(d.path) for d in diffs]
    found = check_quiescent(history, seq)
    return [v.message for v in found], [v.rule for v in found]


def _recreations(events: list[Event]) -> Counter[str]:
    return Counter(ev.name for ev in events if ev.kind == "Pod" and ev.action == "ADDED")


def check_liveness(history: History, target: dict[str, Any] | None, since: float, bound: float,
                   window: float = 1.0, stall: float = 5.0,
                   until: float | None = None) -> LivenessVerdict:
    """Judge liveness from ``since`` (seconds, History time) until ``until`` (default: the last
    record). ``target`` is the model's ``quiescent_view`` (None: the 10.3 checks alone).

    The target counts as reached at an object event after which the state equals it and no
    object event breaks that for ``window`` seconds (or until ``until``).
    """
    evs = [ev for ev in history.events if ev.type == "object" and ev.t >= since]
    end = until if until is not None else (history.events[-1].t if history.events else since)
    symbols = revision_symbols(history)
    expected = bool(target and isinstance(target.get("meta"), dict)
                    and target["meta"].get("blocked"))
    # Evaluate at the last event of each instant (events at one instant form one state).
    points = [ev for i, ev in enumerate(evs) if i + 1 == len(evs) or evs[i + 1].t != ev.t]
    if not points and history.events:
        points = [history.events[-1]]
    reached: float | None = None
    last_diffs: list[str] = []
    last_rules: list[str] = []
    for i, ev in enumerate(points):
        last_diffs, last_rules = _diffs(target, history, ev.seq, symbols)
        if last_diffs:
            reached = None
            continue
        if reached is None:
            reached = max(ev.t, since)
        nxt = points[i + 1].t if i + 1 < len(points) else end
        if nxt - reached >= window or i + 1 == len(points):
            break
    position = {e.seq: k for k, e in enumerate(history.events)}
    final_seq = points[-1].seq if points else None
    state = history.state_at(position[final_seq]) if final_seq is not None else {}
    denied: set[int] = set()
    held = False
    for ev in history.ops():
        op = ev.data.get("op") or {}
        if ev.phase == "ok" and op.get("op") == "deny_pod_writes":
            denied.add(int(op.get("ordinal", -1)))
        elif ev.phase == "ok" and op.get("op") == "allow_pod_writes":
            denied.clear()
        elif ev.phase == "ok" and op.get("op") in ("hold_scheduling", "release_scheduling"):
            held = op.get("op") == "hold_scheduling"
    found = tuple(blockers(state, history.set_name, frozenset(denied), held))
    if reached is not None and not last_diffs:
        took = reached - since
        verdict: Verdict = "converged" if took <= bound else "slow"
        return LivenessVerdict(verdict, took, bound, found if verdict == "converged" else (),
                               expected=expected)
    loops = [n for n, c in _recreations(evs).items() if c >= LOOP_RECREATIONS]
    detail = "still different: " + "; ".join(last_diffs[:3])
    if loops:
        return LivenessVerdict("livelock", None, bound, found,
                               f"{', '.join(sorted(loops))} recreated over and over. {detail}",
                               expected=True)
    last_move = evs[-1].t if evs else since
    if end - last_move >= stall:
        # A blocker excuses the stall only if the model agrees the state is blocked; without a
        # model (the 10.3 checks alone) the documented blockers are all there is to go on.
        return LivenessVerdict("stuck", None, bound, found,
                               f"no object changed for {end - last_move:.1f}s. {detail}",
                               expected=expected if target is not None else bool(found),
                               missing=tuple(last_rules) if target is not None else ())
    return LivenessVerdict("slow", None, bound, (), f"last change {end - last_move:.1f}s "
                           f"before the end. {detail}", expected=expected)
