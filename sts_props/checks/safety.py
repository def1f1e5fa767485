"""Safety checks CHK-1..CHK-12: what must hold at every observed instant.

CHK-1..CHK-9 are those of section 10.1; CHK-10 (status honesty: each status the controller
writes agrees with the pods it could have seen, section 7 and REV-8/REV-9) is this project's
addition, judged in :mod:`.status`; CHK-11 and CHK-12 are the minReadySeconds timing checks
(:mod:`.timing`).

Each check replays the History's object records in order (see :mod:`._timeline`) and returns a
list of :class:`~sts_props.checks.violation.Violation`; an empty list means the history is
consistent with the rule. The checks are written to be *honest*: they never flag behaviour that
section 10.2 (T-1..T-11) leaves free, and when the controller may have been acting on a stale
view (a spec change in flight, a cache that lags) they flag an action only if it is wrong under
every view it could have had. Partial histories (no set, rejected ops, runs cut short) are fine.

Each check is written as a *judge* of one item at a time (a pod creation, a controller
deletion, a claim record), so the same judges serve the one-shot functions and
:class:`SafetyChecker`, which judges only what a growing History added since its last call.

Vocabulary used in the docstrings:

* **created by the controller**: a pod whose first record is ``ADDED`` and whose controller
  ownerReference already names the live set's uid (adopted pods are never "created").
* **controller deletion**: a pod's deletion started (deletionTimestamp appeared, or DELETED
  without a terminating record) while the set was live and not being deleted, the pod was
  controlled by it, was not Failed/Succeeded, and the deletion was not caused by an op: one
  whose result lists that pod's uid among its own deletions (``writes``), or, for a History
  without them, a ``delete_pod``/``fail_pod``/... op targeting that ordinal (the first such
  deletion after the op's invoke, until the next settled quiescent record, is the op's); see
  :mod:`._timeline`.
* **candidate specs**: the generations the controller may have been acting on, from the last
  written ``status.observedGeneration`` up to ``metadata.generation``.

>>> from sts_props.history import History
>>> run_safety_checks(History.new(backend="model", set_name="web"))
[]
>>> list(SAFETY_CHECKS)[:3], list(SAFETY_CHECKS)[-2:]
(['CHK-1', 'CHK-2', 'CHK-3'], ['CHK-11', 'CHK-12'])
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sts_props.checks._timeline import (
    CONTROLLER,
    INFORMER_LAG,
    Context,
    Life,
    Obs,
    Spec,
    Step,
    Timeline,
    as_dict,
    definitely_updated,
    is_finished,
    is_held,
)
from sts_props.checks.status import SetRecord, StatusJudge
from sts_props.checks.timing import (
    TimingStreams,
    Window,
    chk11_status,
    chk11_window,
    chk12_deletion,
)
from sts_props.checks.violation import Violation
from sts_props.history import Event, History
from sts_props.snapshot import (
    claim_name,
    is_ready,
    is_running_ready,
    is_terminating,
    ordinal_of,
    owner_refs,
    phase,
    pod_name,
    ready_since,
    revision_of,
    volumes,
)

_TIMELINES: weakref.WeakKeyDictionary[History, Timeline] = weakref.WeakKeyDictionary()


def timeline(history: History) -> Timeline:
    """The replayed history, shared by every check of one History; extended, not rebuilt, as
    the (append-only) History grows."""
    cached = _TIMELINES.get(history)
    if cached is not None and cached.extend():
        return cached
    tl = Timeline(history)
    _TIMELINES[history] = tl
    return tl


# -- CHK-1 ---------------------------------------------------------------------------------------
def check_chk1(history: History) -> list[Violation]:
    """CHK-1 (ID-1, ID-5): controlled pods are named ``<set>-<o>``, at most one per ordinal.

    Asserts, at every pod record whose controller ownerReference is a StatefulSet with the
    history's set name (any uid, so pods of an earlier incarnation of the set count too):

    * the name is exactly ``<set>-<o>`` for a decimal ordinal ``o`` (``web-01`` fails: ID-3
      parses it to ordinal 1, whose pod is ``web-1``);
    * no two live controlled pods share an ordinal, and a name is never re-added with another
      uid before the previous incarnation's DELETED record.

    Does not assert anything about pods the set does not control (orphans, ID-13/ID-16).
    """
    return _run_check(timeline(history), "CHK-1")


class _Chk1Names:
    """CHK-1 judge: remembers which live pod holds each ordinal and what was reported."""

    def __init__(self) -> None:
        self.bad_names: set[int] = set()
        self.holder: dict[int, Life] = {}
        self.reported: set[tuple[int, int]] = set()

    def pod_step(self, tl: Timeline, step: Step) -> list[Violation]:
        out: list[Violation] = []
        ev, life = step.event, step.life
        for slot, held in list(self.holder.items()):
            if held is life and (ev.action == "DELETED" or not tl.controlled_by_set_name(ev.obj)):
                del self.holder[slot]
        if ev.action == "DELETED" or not tl.controlled_by_set_name(ev.obj):
            return out
        o = ordinal_of(ev.name, tl.set_name)
        if (o is None or ev.name != pod_name(tl.set_name, o)) and life.key not in self.bad_names:
            self.bad_names.add(life.key)
            hint = (
                f"; its name parses to ordinal {o}, whose pod must be named "
                f"{pod_name(tl.set_name, o)}"
                if o is not None
                else f"; it does not parse as {tl.set_name}-<ordinal> at all (ID-3)"
            )
            out.append(
                Violation(
                    "CHK-1",
                    "CHK-1/ID-1",
                    f"Pod {ev.name} is controlled by StatefulSet {tl.set_name} at "
                    f"{ev.where()} but is not named {tl.set_name}-<ordinal>{hint}.",
                    (ev.seq,),
                )
            )
        if o is None:
            return out
        other = self.holder.get(o)
        if other is None or other is life:
            self.holder[o] = life
        elif other.name != life.name and (other.key, life.key) not in self.reported:
            self.reported.add((other.key, life.key))
            out.append(
                Violation(
                    "CHK-1",
                    "CHK-1/ID-5",
                    f"Pods {other.name} and {ev.name} are both controlled by StatefulSet "
                    f"{tl.set_name} with ordinal {o} at {ev.where()}; at most one pod may "
                    f"exist per ordinal.",
                    (ev.seq, other.first_seq),
                )
            )
        return out


def _chk1_duplicate(tl: Timeline, duplicate: tuple[Life, Life, int]) -> list[Violation]:
    out: list[Violation] = []
    old, new, seq = duplicate
    if tl.controlled_by_set_name(new.first.obj) or tl.controlled_by_set_name(old.obs[-1].obj):
        out.append(
            Violation(
                "CHK-1",
                "CHK-1/ID-1",
                f"Pod {new.name} was added again at {tl.where(seq)} (uid {new.uid or '?'}) "
                f"while the incarnation first seen at {tl.where(old.first_seq)} "
                f"(uid {old.uid or '?'}) had no DELETED record; two pods cannot share "
                f"one name.",
                (seq, old.first_seq),
            )
        )
    return out


# -- CHK-2 ---------------------------------------------------------------------------------------
def check_chk2(history: History) -> list[Violation]:
    """CHK-2 (ID-2, ID-5): the controller creates pods only for in-range ordinals.

    Asserts that a pod created by the controller has an ordinal in
    ``[start, start + replicas)`` of at least one candidate spec, or of the generation just
    before the current one (spec changes in flight, as section 10.1 allows).

    Does not judge pods that were adopted, or whose names do not parse (that is CHK-1).
    """
    return _run_check(timeline(history), "CHK-2")


def _chk2_creation(tl: Timeline, step: Step) -> list[Violation]:
    out: list[Violation] = []
    ev, o = step.event, step.life.ordinal
    ctx = tl.context_at(ev.seq)
    assert o is not None and ctx.current is not None
    specs = ctx.specs + ((ctx.previous,) if ctx.previous is not None else ())
    if any(s.in_range(o) for s in specs):
        return out
    out.append(
        Violation(
            "CHK-2",
            "CHK-2/ID-2",
            f"Pod {ev.name} (ordinal {o}) was created at {ev.where()}, outside the ordinal "
            f"range of every generation the controller could have been acting on "
            f"({_ranges(specs)}); it only creates pods for ordinals in "
            f"[start, start+replicas).",
            (ev.seq,),
        )
    )
    return out


    return out


# -- CHK-3 ---------------------------------------------------------------------------------------
def check_chk3(history: History) -> list[Violation]:
    """CHK-3 (ORD-1): under OrderedReady, lower ordinals are Ready before a pod is created.

    For every pod with ordinal ``k`` created by the controller while the policy is
    OrderedReady, and for every ordinal ``j`` in ``[start, k)`` (the largest candidate start,
    so that the obligation holds under every spec the controller might have used), asserts
    that the newest incarnation of ``<set>-<j>`` recorded before k's ADDED record was seen
    Running+Ready at some instant before it, available for ``minReadySeconds`` (smallest
    candidate) by ``k``'s creationTimestamp, allowing equality and the history's clock
    granularity. A readySince timestamp early enough is also accepted as evidence.

    Deliberately not asserted: that ``j`` is *still* Ready when ``k`` is created (the cache
    may lag, T-3); anything under Parallel (T-1, T-2); the order of creations itself.
    """
    return _run_check(timeline(history), "CHK-3")


def _chk3_creation(tl: Timeline, step: Step) -> list[Violation]:
    out: list[Violation] = []
    ev, life, k = step.event, step.life, step.life.ordinal
    assert k is not None
    ctx = tl.context_at(ev.seq)
    specs = [s for s in ctx.specs if s.in_range(k)]
    if not specs or not all(s.ordered for s in specs):
        return out
    lo = max(s.start for s in specs)
    mrs = min(s.min_ready_seconds for s in specs)
    for j in range(lo, k):
        jlife, witness = tl.healthy_witness(j, ev.seq, life.created, mrs)
        if witness is not None:
            continue
        name = pod_name(tl.set_name, j)
        if jlife is None:
            why = f"no pod {name} had been recorded"
            cited: tuple[int, ...] = (ev.seq,)
        else:
            last = jlife.last_before(ev.seq) or jlife.first
            why = (
                f"pod {name} (first seen {tl.where(jlife.first_seq)}) had not been "
                f"Running+Ready{_mrs_text(mrs)} before; its last state was "
                f"{_pod_state(last)} at {tl.where(last.seq)}"
            )
            cited = (ev.seq, last.seq)
        out.append(
            Violation(
                "CHK-3",
                "CHK-3/ORD-1",
                f"Pod {ev.name} (ordinal {k}) was created at {ev.where()} although {why}; "
                f"OrderedReady creates ordinal {k} only after ordinals {lo}..{k - 1} are "
                f"Ready.",
                cited,
            )
        )
        break
    return out


    return out


# -- CHK-4 ---------------------------------------------------------------------------------------
def check_chk4(history: History) -> list[Violation]:
    """CHK-4 (ORD-4): OrderedReady scale-down goes one pod at a time, highest ordinal first.

    When the controller starts deleting a condemned pod ``j`` (out of range under every
    candidate spec under which the deletion could not be an update deletion) while the policy is
    OrderedReady, asserts that

    * no other pod controlled by the set with an ordinal ``> j`` that is condemned is still
      recorded (live or terminating): each must already have *disappeared* (DELETED); and
    * every in-range ordinal's newest pod had been Running+Ready (+available) at some instant
      before the deletion (ORD-4 runs only once all slots are healthy).

    Not asserted: deletions caused by delete_pod/fail_pod ops, by set deletion or GC (ORD-9,
    T-8), of Failed/Succeeded pods (RP-1), or which of two *unhealthy* condemned pods goes
    first (ORD-4's first-unavailable exception affects only the pod itself); anything under
    Parallel (T-1).
    """
    return _run_check(timeline(history), "CHK-4")


def _chk4_deletion(tl: Timeline, step: Step) -> list[Violation]:
    out: list[Violation] = []
    ev, life, j = step.event, step.life, step.life.ordinal
    assert j is not None
    ctx = tl.context_at(ev.seq)
    if not all(s.ordered for s in ctx.specs) or _recreate_victim(tl, ctx, ev):
        return out
    condemned_specs = [s for s in ctx.specs if not s.in_range(j)]
    if not condemned_specs or any(
        _could_be_update_deletion(s, life, ctx, ev.seq) for s in ctx.specs if s.in_range(j)
    ):
        return out
    per_spec = [_higher_condemned(tl, ctx, s, j, ev.seq) for s in condemned_specs]
    if all(per_spec):
        blockers = per_spec[0]
        shown = ", ".join(
            f"{b.name} ({'terminating' if _terminating_at(b, ev.seq) else 'running'}, "
            f"first seen {tl.where(b.first_seq)})"
            for b in blockers
        )
        out.append(
            Violation(
                "CHK-4",
                "CHK-4/ORD-4",
                f"Condemned pod {ev.name} (ordinal {j}) started terminating at "
                f"{ev.where()} while higher condemned pod(s) {shown} had not disappeared; "
                f"OrderedReady deletes condemned pods one at a time in decreasing ordinal "
                f"order, each after the previous one is gone.",
                (ev.seq, *(b.first_seq for b in blockers)),
            )
        )
        return out
    unhealthy_per_spec = [_unhealthy_slots(tl, s, ev.seq, ev.t) for s in condemned_specs]
    if all(unhealthy_per_spec):
        o, olife = unhealthy_per_spec[0][0]
        state = (
            f"its last state was {_pod_state(olife.last_before(ev.seq) or olife.first)}"
            if olife is not None
            else "it did not exist"
        )
        out.append(
            Violation(
                "CHK-4",
                "CHK-4/ORD-4",
                f"Condemned pod {ev.name} (ordinal {j}) started terminating at "
                f"{ev.where()} although in-range pod {pod_name(tl.set_name, o)} had not "
                f"been Running+Ready before ({state}); OrderedReady scales down only when "
                f"every in-range pod is healthy.",
                (ev.seq,) + ((olife.first_seq,) if olife is not None else ()),
            )
        )
    return out


    return out


def _higher_condemned(tl: Timeline, ctx: Context, spec: Spec, j: int, seq: int) -> list[Life]:
    found: list[Life] = []
    for other in tl.pods:
        o = other.ordinal
        if o is None or o <= j or spec.in_range(o) or not other.live_at(seq - 1):
            continue
        snap = other.at(seq)
        if snap is not None and tl.owned_by_live_set(snap.obj, ctx):
            found.append(other)
    return sorted(found, key=lambda x: -(x.ordinal or 0))


def _unhealthy_slots(
    tl: Timeline, spec: Spec, seq: int, bound: float
) -> list[tuple[int, Life | None]]:
    bad: list[tuple[int, Life | None]] = []
    for o in range(spec.start, spec.end):
        olife, witness = tl.healthy_witness(o, seq, bound, spec.min_ready_seconds)
        if witness is None:
            bad.append((o, olife))
    return bad


# -- CHK-5 ---------------------------------------------------------------------------------------
def check_chk5(history: History) -> list[Violation]:
    """CHK-5 (UPD-1, UPD-4, RP-4..RP-6): one pod down at a time in an OrderedReady rollout.

    Applies to each controller deletion of a pod that is in range under every candidate spec
    (so it can only be an update deletion), while every candidate spec is OrderedReady +
    RollingUpdate with an effective maxUnavailable of 1 (absent, 1, or a percentage that rounds
    down to 1), and no fault op (delete_pod, fail_pod, hold_not_ready, delete_pvc, delete_set,
    recreate_set) was invoked since the rollout window began (the last template change).
    Asserts that at that moment, for every *other* ordinal in range under every candidate
    spec, the newest pod

    * exists (was recorded before the deletion),
    * is not terminating or gone *because of an earlier controller deletion*, and
    * was seen Running+Ready, available for minReadySeconds, at some instant before,

    i.e. at most one in-range pod is missing, terminating or unready because of the controller.
    A stale controller cache cannot explain a second pod down: it would show the first pod as
    old and delete *it* again.

    Not asserted: pods that were held or Failed at any time, or deleted by an op or GC (faults,
    possibly from before the window); anything with maxUnavailable > 1 (T-6) or under Parallel.
    """
    return _run_check(timeline(history), "CHK-5")


def _chk5_deletion(tl: Timeline, step: Step) -> list[Violation]:
    out: list[Violation] = []
    ev, j = step.event, step.life.ordinal
    assert j is not None
    ctx = tl.context_at(ev.seq)
    specs = ctx.specs
    if not all(s.in_range(j) for s in specs) or not all(
        s.ordered and s.rolling and s.effective_max_unavailable() == 1 for s in specs
    ):
        return out
    if tl.faults_between(ctx.window_seq, ev.seq):
        return out
    lo, hi = max(s.start for s in specs), min(s.end for s in specs)
    mrs = min(s.min_ready_seconds for s in specs)
    for i in range(lo, hi):
        if i == j:
            continue
        problem = _down_because_of_controller(tl, i, ev.seq, ev.t, mrs)
        if problem is None:
            continue
        text, cited = problem
        out.append(
            Violation(
                "CHK-5",
                "CHK-5/UPD-4",
                f"The controller started deleting pod {ev.name} (ordinal {j}) at "
                f"{ev.where()} for the rolling update while pod "
                f"{pod_name(tl.set_name, i)} {text}; with maxUnavailable 1 under "
                f"OrderedReady only one in-range pod may be down at a time.",
                (ev.seq, *cited),
            )
        )
        break
    return out


    return out


def _down_because_of_controller(
    tl: Timeline, i: int, seq: int, t: float, mrs: int
) -> tuple[str, tuple[int, ...]] | None:
    life = tl.latest_pod(i, seq)
    if life is None:
        return "did not exist", ()
    if life.deletion_seq is not None and life.deletion_seq < seq:
        if life.cause != CONTROLLER:
            return None  # removed by a fault or GC: not the controller's doing
        state = "was gone" if life.gone_seq is not None and life.gone_seq < seq else (
            "was still terminating"
        )
        return (
            f"{state} after the controller deleted it at {tl.where(life.deletion_seq)} and it "
            f"had not been recreated",
            (life.deletion_seq,),
        )
    if life.ever_held() or life.ever_finished():
        return None
    _, witness = tl.healthy_witness(i, seq, t, mrs)
    if witness is not None:
        return None
    last = life.last_before(seq) or life.first
    return (
        f"(first seen {tl.where(life.first_seq)}) had not been Running+Ready{_mrs_text(mrs)} "
        f"yet; its last state was {_pod_state(last)}",
        (life.first_seq,),
    )


# -- CHK-6 ---------------------------------------------------------------------------------------
def check_chk6(history: History) -> list[Violation]:
    """CHK-6 (UPD-1, UPD-4): rolling-update deletions go in decreasing ordinal order.

    An *update deletion* is a controller deletion of a pod that is in range under every
    candidate spec, all of them RollingUpdate, and that is not provably at the update
    revision already. Within one rollout window (from a template change, template op or set
    re-creation to the next), asserts that an update deletion of ordinal ``o`` never follows an
    update deletion of a lower ordinal ``p < o`` whose record came after ``<set>-<o>``'s
    incarnation was first seen.

    Not asserted: the order inside one batch when maxUnavailable may exceed 1 (T-6: deletions
    with no pod creation between them count as one batch); under Parallel, deletions of old pods
    that were not available (not Running+Ready for minReadySeconds, or held) just before: such
    pods do not block the update (ORD-7) and from v1.37 are all replaced first, before the
    top-down pass (#137666, UNCONFIRMED exact rule); re-deletion of a pod recreated at
    the old revision after the lower deletion (partition or currentReplicas rules, UPD-6);
    deletion of a pod adopted after the lower deletion (relabelled back into the selector:
    an old pod joins the rollout, ID-19); deletions by ops, GC, RP-1 or of condemned pods.
    """
    return _run_check(timeline(history), "CHK-6")


class _Chk6Order:
    """CHK-6 judge: remembers the update deletions of each rollout window seen so far."""

    def __init__(self) -> None:
        self.by_window: dict[int, list[tuple[int, int, str]]] = {}

    def deletion(self, tl: Timeline, step: Step) -> list[Violation]:
        out: list[Violation] = []
        ev, life, o = step.event, step.life, step.life.ordinal
        assert o is not None
        ctx = tl.context_at(ev.seq)
        specs = ctx.specs
        if not all(s.in_range(o) and s.rolling for s in specs):
            return out
        if all(definitely_updated(s, life, ctx, ev.seq) for s in specs):
            return out  # not an update deletion; CHK-7 judges it
        if not all(s.ordered for s in specs) and not _was_available(tl, step, specs):
            return out  # Parallel replaces broken old pods out of order (ORD-7, #137666)
        batches = any(s.effective_max_unavailable() > 1 for s in specs)
        earlier = self.by_window.setdefault(ctx.window, [])
        member_since = life.member_since(tl.set_name, ev.seq) if earlier else 0
        for lower, lower_seq, lower_name in earlier:
            if lower >= o or member_since > lower_seq:
                continue
            if batches and tl.creations_between(lower_seq, ev.seq) == 0:
                continue
            out.append(
                Violation(
                    "CHK-6",
                    "CHK-6/UPD-1",
                    f"The rolling update deleted pod {ev.name} (ordinal {o}) at {ev.where()} "
                    f"after it had already deleted lower pod {lower_name} (ordinal {lower}) at "
                    f"{tl.where(lower_seq)} in the same rollout; update deletions go in "
                    f"decreasing ordinal order.",
                    (ev.seq, lower_seq),
                )
            )
            break
        earlier.append((o, ev.seq, ev.name))
        return out


# -- CHK-7 ---------------------------------------------------------------------------------------
def check_chk7(history: History) -> list[Violation]:
    """CHK-7 (UPD-2, UPD-6, UPD-8): the partition protects low ordinals; recreation revision.

    Asserts that

    * the controller never deletes a non-Failed pod that is in range and below
      ``start + partition`` under every candidate spec (or in range under an OnDelete spec,
      UPD-8); ``partition`` is 0 when the rollingUpdate block is absent (VAL-3);
    * a pod created by the controller whose ordinal is below ``start + partition`` under every
      candidate spec (RollingUpdate with a rollingUpdate block) carries a revision that was
      ``status.currentRevision`` at some point between the previous and the next settled
      quiescent record (UPD-6 b). Because currentRevision moves on promotion, including the
      scale-to-0 promotion (REV-9, #121534), any value it took in that span is accepted; while
      currentRevision was still empty, the update revision is accepted (REV-8).

    Not asserted: the recreation revision without a rollingUpdate block (UPD-6 a depends on
    the cached status.currentReplicas) and the revision of pods at or above the partition
    (checked at quiescence).
    """
    return _run_check(timeline(history), "CHK-7")


def _chk7_deletion(tl: Timeline, step: Step) -> list[Violation]:
    out: list[Violation] = []
    ev, o = step.event, step.life.ordinal
    assert o is not None
    ctx = tl.context_at(ev.seq)
    if any(not s.in_range(o) or (s.rolling and o >= s.update_floor) for s in ctx.specs):
        return out
    cur = ctx.current
    assert cur is not None
    if _recreate_victim(tl, ctx, ev):
        return out
    if all(not s.rolling for s in ctx.specs):
        rule = "CHK-7/UPD-8"
        why = (
            "the update strategy is OnDelete, under which the controller deletes only "
            "Failed/Succeeded pods"
        )
        if any(s.recreate for s in ctx.specs):
            rule = "CHK-7/RCR-1"
            why = ("the update strategy is Recreate and the pod was at the update revision "
                   f"{revision_of(ev.obj)}, which Recreate keeps")
    else:
        rule = "CHK-7/UPD-2"
        why = (
            f"it is below the partition boundary start+partition = {cur.start}+"
            f"{cur.partition if cur.has_block else 0} = {cur.update_floor} of generation "
            f"{cur.generation}"
        )
    out.append(
        Violation(
            "CHK-7",
            rule,
            f"The controller started deleting pod {ev.name} (ordinal {o}) at {ev.where()} "
            f"although {why}; the update step never deletes such a pod.",
            (ev.seq,),
        )
    )
    return out


def _chk7_creation(tl: Timeline, step: Step) -> list[Violation]:
    out: list[Violation] = []
    ev, o = step.event, step.life.ordinal
    assert o is not None
    ctx = tl.context_at(ev.seq)
    specs = [s for s in ctx.specs if s.in_range(o)]
    if not specs or not all(s.rolling and s.has_block and o < s.update_floor for s in specs):
        return out
    rev = revision_of(ev.obj)
    accepted = _current_revisions(tl, ctx, ev.seq)
    if not rev or not accepted or rev in accepted:
        return out
    floor = min(s.update_floor for s in specs)
    out.append(
        Violation(
            "CHK-7",
            "CHK-7/UPD-6",
            f"Pod {ev.name} (ordinal {o}, below start+partition = {floor}) was created at "
            f"{ev.where()} at revision {rev}, but pods below the partition are created at "
            f"status.currentRevision ({' or '.join(sorted(accepted))} around then).",
            (ev.seq,),
        )
    )
    return out


def _recreate_victim(tl: Timeline, ctx: Context, ev: Event) -> bool:
    """RCR-1: could this controller deletion be Recreate's? Under a Recreate spec every pod
    not at the update revision goes, in-range or condemned, at once and whatever its health.
    Any update revision of the set around then will do; only a pod at the one update revision
    there was is never a Recreate victim."""
    if not any(s.recreate for s in ctx.specs):
        return False
    updates = _update_revisions(tl, ctx, ev.seq)
    return not updates or updates != {revision_of(ev.obj)}


def _statuses_around(tl: Timeline, ctx: Context, seq: int) -> list[dict[str, Any]]:
    """The set's recorded statuses from the settle before ``seq`` to the settle after it, and
    the last one recorded at or before ``seq`` (a status write comes at the end of the sync
    whose writes it explains)."""
    lo, hi = tl.prev_settle(seq), tl.next_settle(seq)
    records = [r for r in tl.set_records if r[1] == ctx.set_uid]
    chosen = [r for r in records if lo < r[0] < hi]
    before = [r for r in records if r[0] <= seq]
    if before:
        chosen.append(before[-1])
    return [as_dict(obj.get("status")) for _, _, obj in chosen]


def _update_revisions(tl: Timeline, ctx: Context, seq: int) -> set[str]:
    """The set's status.updateRevision values around ``seq`` (:func:`_statuses_around`)."""
    return {str(s.get("updateRevision") or "") for s in _statuses_around(tl, ctx, seq)} - {""}


def _current_revisions(tl: Timeline, ctx: Context, seq: int) -> set[str]:
    chosen = _statuses_around(tl, ctx, seq)
    current: set[str] = set()
    update: set[str] = set()
    empty = not chosen
    for status in chosen:
        cur, upd = str(status.get("currentRevision") or ""), str(status.get("updateRevision") or "")
        if cur:
            current.add(cur)
        else:
            empty = True
        if upd:
            update.add(upd)
    return current | update if empty else current


# -- CHK-8 ---------------------------------------------------------------------------------------
def check_chk8(history: History) -> list[Violation]:
    """CHK-8 (STO-1, STO-3, STO-6): a pod's claims exist before the pod; its volumes name them.

    For every pod created by the controller and every volumeClaimTemplate ``t``, asserts that

    * the pod has a volume named ``t`` whose claimName is ``<t>-<set>-<ordinal>`` (STO-6); and
    * a claim of that name existed when the pod was created: an incarnation recorded before the
      pod and not yet DELETED, with creationTimestamp <= the pod's (+ clock granularity).

    Tolerated: a claim DELETED since the previous settled quiescent record (the controller's
    claim cache may still have shown it, e.g. after a delete_pvc op or GC of a retained claim),
    a claim recorded after the pod but timestamped strictly before it, or, within a watch gap
    (an apiserver restart until the next settle, when a relist may record it late), in the
    same clock tick; and claims that are deleted after the pod was created. Outside a watch gap
    a cluster History is in resourceVersion order, etcd's one order across kinds: a claim
    recorded after its pod was created after it, whatever the one-second timestamps say.
    """
    return _run_check(timeline(history), "CHK-8")


def _chk8_creation(tl: Timeline, step: Step) -> list[Violation]:
    out: list[Violation] = []
    ev, life, o = step.event, step.life, step.life.ordinal
    assert o is not None
    cur = tl.context_at(ev.seq).current
    assert cur is not None
    vols = volumes(ev.obj)
    for t in cur.templates:
        claim = claim_name(t, tl.set_name, o)
        got = vols.get(t)
        if got != claim:
            what = (
                f"its volume {t} points at claim {got}"
                if got
                else f"it has no volume named {t}"
            )
            out.append(
                Violation(
                    "CHK-8",
                    "CHK-8/STO-6",
                    f"Pod {ev.name} (ordinal {o}) was created at {ev.where()} but {what}; "
                    f"volumeClaimTemplate {t} must mount claim {claim} (STO-1).",
                    (ev.seq,),
                )
            )
        problem = _claim_missing(tl, claim, ev.seq, life.created)
        if problem is not None:
            text, cited = problem
            out.append(
                Violation(
                    "CHK-8",
                    "CHK-8/STO-3",
                    f"Pod {ev.name} (ordinal {o}) was created at {ev.where()} but its claim "
                    f"{claim} (template {t}) did not exist then: {text}; the controller "
                    f"creates a pod's claims before the pod.",
                    (ev.seq, *cited),
                )
            )
    return out


    return out


def _claim_missing(
    tl: Timeline, claim: str, seq: int, pod_created: float
) -> tuple[str, tuple[int, ...]] | None:
    g = tl.granularity
    lives = tl.pvc_lives(claim)
    settle = tl.prev_settle(seq)
    for pvc in lives:
        if pvc.created > pod_created + g:
            continue
        if pvc.first_seq < seq:
            if pvc.gone_seq is None or pvc.gone_seq > seq or pvc.gone_seq > settle:
                return None
        elif pvc.created < pod_created or (g > 0 and not tl.in_record_order(seq)):
            # Recorded after the pod: on a cluster that is etcd's order, the claim came
            # later, unless a watch gap may have recorded it late (a relist).
            return None
    if not lives:
        return "no claim of that name was ever recorded", ()
    earlier = [p for p in lives if p.first_seq < seq]
    if earlier and earlier[-1].gone_seq is not None and earlier[-1].gone_seq < seq:
        gone = earlier[-1].gone_seq
        return f"it had been DELETED at {tl.where(gone)} and not recreated", (gone,)
    later = [p for p in lives if p.first_seq > seq]
    first = later[0] if later else lives[0]
    return (
        f"it was first recorded at {tl.where(first.first_seq)} with creationTimestamp "
        f"t={first.created:g}",
        (first.first_seq,),
    )


# -- CHK-9 ---------------------------------------------------------------------------------------
def check_chk9(history: History) -> list[Violation]:
    """CHK-9 (STO-8, STO-11): claims of in-range pods never receive a Pod ownerReference.

    Asserts that no claim ``<t>-<set>-<o>`` gains an ownerReference of kind Pod (one that its
    previous record did not have) while the set is live and ``o`` is in range under every
    candidate spec. The controller adds pod refs only to claims of condemned pods, just
    before deleting them (whenScaled=Delete).

    Not asserted: refs that were added while the ordinal was condemned and remain after a
    scale-up (stale refs, STO-12); anything while the set is being deleted.
    """
    return _run_check(timeline(history), "CHK-9")


def _chk9_claim(tl: Timeline, step: Step) -> list[Violation]:
    out: list[Violation] = []
    ev = step.event
    if ev.action == "DELETED":
        return out
    before = {
        (r.get("kind"), r.get("name"), r.get("uid"))
        for r in (owner_refs(step.prev.obj) if step.prev is not None else [])
    }
    new = [
        r
        for r in owner_refs(ev.obj)
        if r.get("kind") == "Pod" and (r.get("kind"), r.get("name"), r.get("uid")) not in before
    ]
    if not new:
        return out
    ctx = tl.context_at(ev.seq)
    if not ctx.managed or ctx.current is None:
        return out
    o = _claim_ordinal(ev.name, ctx.current.templates, tl.set_name)
    if o is None or not all(s.in_range(o) for s in ctx.specs):
        return out
    cur = ctx.current
    out.append(
        Violation(
            "CHK-9",
            "CHK-9/STO-11",
            f"Claim {ev.name} of in-range pod {pod_name(tl.set_name, o)} (ordinal {o}, "
            f"range [{cur.start}, {cur.end})) received an ownerReference to Pod "
            f"{new[0].get('name')} at {ev.where()}; the controller adds pod refs only to "
            f"claims of condemned pods (STO-8).",
            (ev.seq,),
        )
    )
    return out


    return out


# -- CHK-10 --------------------------------------------------------------------------------------
def check_chk10(history: History) -> list[Violation]:
    """CHK-10 (ST-1..ST-5, ST-7, ST-11, REV-8, REV-9): every status write is honest.

    For each status the controller writes while the set is live and not being deleted, asserts
    that every count lies between the pods that counted in *every* state its cache could have
    held and those that counted in *some* state (replicas ST-1, readyReplicas ST-2,
    availableReplicas ST-3, currentReplicas ST-4, updatedReplicas ST-5); that the counts pass the
    apiserver's own bounds (ST-11); that observedGeneration never exceeds the generation nor
    decreases (ST-7); and that currentRevision moves only to updateRevision, on a complete
    rollout (REV-9) or when the old revision's object is gone (REV-8).

    The states the cache could have held run from the previous status write to the write (on a
    cluster, from INFORMER_LAG + clock granularity before the previous write). The window, the
    leniencies and what is not asserted (T-3, T-5, REV-10) are in :mod:`sts_props.checks.status`.
    """
    return _run_check(timeline(history), "CHK-10")


# -- CHK-11 --------------------------------------------------------------------------------------
def check_chk11(history: History) -> list[Violation]:
    """CHK-11 (ST-3, PR-4, EX-2, T-5): availableReplicas counts pods only after minReadySeconds,
    and catches up.

    Asserts, for the generation a status names in ``observedGeneration`` with minReadySeconds
    ``m > 0``:

    * (a) every status record that changes ``availableReplicas`` or ``observedGeneration``
      reports at most as many available pods as there are pod names seen Ready with
      ``readySince + m <= t + skew`` (``t`` the status record's time; skew 1 s on a cluster,
      0 in the model; no granularity: the controller reads the same truncated readySince);
    * (b) at the end of a *quiet window* (no pod record, no spec change, no op but settle; the
      set live with exactly its in-range pods, all owned, none terminating; no restart, crash
      or deny_pod_writes, and ``m`` unchanged, from 30 s before a pod turned Ready), the last
      status counts every Ready pod whose ``readySince + m``, plus the re-sync delay
      (``max(m, 2 s)`` from v1.35.1, ``2m + 2 s`` before), the granularity and 5 s of load,
      lies before the window's end (less 2 s of watch delay on a cluster).

    Not asserted: anything with ``m = 0``; how *soon* availableReplicas moves inside those
    bounds (T-5); values while pods terminate (T-4). :mod:`sts_props.checks.timing` has the
    reasoning behind each tolerance.
    """
    return _run_check(timeline(history), "CHK-11")


# -- CHK-12 --------------------------------------------------------------------------------------
def check_chk12(history: History) -> list[Violation]:
    """CHK-12 (UPD-1, UPD-4, UPD-5): a rolling update deletes the next pod only after the pods
    it already updated have been available for minReadySeconds.

    For every update deletion of pod ``j`` (a controller deletion, ``j`` in range and at or
    above ``start + partition`` under every candidate spec, all RollingUpdate, ``j`` not
    provably updated), asserts that every pod provably at the update revision was seen
    Running+Ready with ``readySince + m <= deletion time + skew`` (``m`` the smallest candidate
    minReadySeconds; skew 1 s on a cluster, 0 in the model; no granularity, as for CHK-11),
    for

    * OrderedReady: every other in-range ordinal, whatever maxUnavailable (RP-4..RP-6 stop the
      sync before the update step at any pod not available);
    * Parallel with an effective maxUnavailable of 1: the ordinals above ``j``, unless ``j``
      itself may have been unavailable (v1.37 replaces those first, #137666); before v1.34 or
      with no version in the header, Ready alone (m = 0, #130909).

    Not asserted: Parallel with maxUnavailable above 1 (T-6); pods missing or still old
    (CHK-5, CHK-6); deletions by ops, GC, RP-1 or of condemned pods.
    """
    return _run_check(timeline(history), "CHK-12")


# -- feeding records to the checks -----------------------------------------------------------
# Every check judges one stream of records (pod creations, controller deletions, claim records,
# ...) item by item, so the same judges serve the one-shot functions above and
# :class:`SafetyChecker`, which judges each new item once as the History grows. An item's
# verdict can still change after it was judged: records up to the next settled quiescent record
# widen what CHK-7 accepts, and later records may supply the evidence that excuses a flagged
# item (a Ready witness, a claim, a hold); later records never turn an accepted item into a
# violation. So items that were flagged, or that no settled record follows yet, are judged
# again on every query; the rest keep their verdict. Judges with memory (CHK-1's ordinal
# holders, CHK-6's deletions per rollout) depend only on earlier records and judge each item
# once. CHK-10's judge remembers its verdicts itself (they depend on earlier records only) and
# answers again only with what a watch gap found later excuses.

_SOURCES = ("pod_steps", "pvc_steps", "duplicates", "creations", "deletions", "set_records",
            "status_writes", "windows")


@dataclass
class _Part:
    """One stream of one check: where its items come from and how each is judged."""

    source: str
    judge: Callable[[Timeline, Any], list[Violation]]
    #: the judge keeps state from item to item: judge each item exactly once
    once: bool = False
    cursor: int = 0
    #: (item, its violations) for the items judged again at the next query
    kept: list[tuple[Any, list[Violation]]] = field(default_factory=list)

    def advance(self, tl: Timeline, items: Sequence[Any], settled: int) -> list[Violation]:
        new = items[self.cursor :]
        self.cursor = len(items)
        if self.once:
            for item in new:
                found = self._judge(tl, item)
                if found:
                    self.kept.append((item, found))
        else:
            kept: list[tuple[Any, list[Violation]]] = []
            for item in [item for item, _ in self.kept] + list(new):
                found = self._judge(tl, item)
                if found or _item_seq(item) > settled:
                    kept.append((item, found))
            self.kept = kept
        return [v for _, found in self.kept for v in found]

    def _judge(self, tl: Timeline, item: Any) -> list[Violation]:
        if self.source == "deletions" and item.life.cause != CONTROLLER:
            # an op's writes, replayed after the deletion was sorted, showed it was the op's
            return []
        return self.judge(tl, item)


def _item_seq(item: Step | SetRecord | tuple[Life, Life, int] | Event | Window) -> int:
    if isinstance(item, tuple):
        return item[2]
    if isinstance(item, Step | SetRecord):
        return item.event.seq
    return item.seq


class _Streams:
    """The Timeline's pod records sorted into controller creations and deletions, and its set
    records, as they come."""

    def __init__(self) -> None:
        self.seen = 0
        self.creations: list[Step] = []
        self.deletions: list[Step] = []
        self.set_records: list[SetRecord] = []
        self.timing = TimingStreams()

    def advance(self, tl: Timeline) -> None:
        self.timing.advance(tl)
        for step in tl.pod_steps[self.seen :]:
            if _is_creation(tl, step):
                self.creations.append(step)
            if _is_controller_deletion(tl, step):
                self.deletions.append(step)
        self.seen = len(tl.pod_steps)
        for seq, set_uid, obj in tl.set_records[len(self.set_records) :]:
            self.set_records.append(SetRecord(tl.by_seq[seq], set_uid, obj))

    def items(self, tl: Timeline, source: str) -> Sequence[Any]:
        if source == "creations":
            return self.creations
        if source == "deletions":
            return self.deletions
        if source == "set_records":
            return self.set_records
        if source == "status_writes":
            return self.timing.status_writes
        if source == "windows":
            return self.timing.windows
        items: Sequence[Any] = getattr(tl, source)
        return items


#: How each check reads the History: its streams, in the order its violations are listed.
_PARTS: dict[str, Callable[[], list[_Part]]] = {
    "CHK-1": lambda: [
        _Part("pod_steps", _Chk1Names().pod_step, once=True),
        _Part("duplicates", _chk1_duplicate),
    ],
    "CHK-2": lambda: [_Part("creations", _chk2_creation)],
    "CHK-3": lambda: [_Part("creations", _chk3_creation)],
    "CHK-4": lambda: [_Part("deletions", _chk4_deletion)],
    "CHK-5": lambda: [_Part("deletions", _chk5_deletion)],
    "CHK-6": lambda: [_Part("deletions", _Chk6Order().deletion, once=True)],
    "CHK-7": lambda: [_Part("deletions", _chk7_deletion), _Part("creations", _chk7_creation)],
    "CHK-8": lambda: [_Part("creations", _chk8_creation)],
    "CHK-9": lambda: [_Part("pvc_steps", _chk9_claim)],
    "CHK-10": lambda: [_Part("set_records", StatusJudge().record)],
    "CHK-11": lambda: [_Part("status_writes", chk11_status), _Part("windows", chk11_window)],
    "CHK-12": lambda: [_Part("deletions", chk12_deletion)],
}


def _run_check(tl: Timeline, check_id: str) -> list[Violation]:
    """One check over the whole Timeline, in record order."""
    streams = _Streams()
    streams.advance(tl)
    settled = tl.settle_seqs[-1] if tl.settle_seqs else -1
    return [
        v
        for part in _PARTS[check_id]()
        for v in part.advance(tl, streams.items(tl, part.source), settled)
    ]


#: Every safety check by ID; each takes a History and returns its violations.
SAFETY_CHECKS: dict[str, Callable[[History], list[Violation]]] = {
    "CHK-1": check_chk1,
    "CHK-2": check_chk2,
    "CHK-3": check_chk3,
    "CHK-4": check_chk4,
    "CHK-5": check_chk5,
    "CHK-6": check_chk6,
    "CHK-7": check_chk7,
    "CHK-8": check_chk8,
    "CHK-9": check_chk9,
    "CHK-10": check_chk10,
    "CHK-11": check_chk11,
    "CHK-12": check_chk12,
}


def _known(only: Sequence[str]) -> tuple[str, ...]:
    unknown = [c for c in only if c not in _PARTS]
    if unknown:
        raise ValueError(f"unknown safety check(s) {unknown}; known: {sorted(_PARTS)}")
    return tuple(c for c in _PARTS if not only or c in only)


def _ordered(violations: list[Violation]) -> list[Violation]:
    return sorted(violations, key=lambda v: (v.events[0] if v.events else -1, v.check))


def run_safety_checks(history: History, only: Sequence[str] = ()) -> list[Violation]:
    """Run every safety check (or those named in ``only``) over one replay of ``history``.

    Violations come back ordered by the first record they cite. To check a History again and
    again as it grows, use :class:`SafetyChecker`: same verdicts, new records only.

    >>> from sts_props.history import History
    >>> run_safety_checks(History.new(backend="model", set_name="web"), only=["CHK-3"])
    []
    """
    tl = timeline(history)
    return _ordered([v for check_id in _known(only) for v in _run_check(tl, check_id)])


class SafetyChecker:
    """The safety checks of a History that is still growing, judging only what is new.

    ``violations()`` returns exactly what :func:`run_safety_checks` returns for the History as
    it is at that moment, but replays and judges only the records appended since the previous
    call (plus the few items whose verdict may still change, see above). The state machine
    calls it after every step.

    >>> from sts_props.history import History
    >>> h = History.new(backend="model", set_name="web")
    >>> checker = SafetyChecker(h)
    >>> checker.violations()
    []
    >>> _ = h.quiescent(after_op=0, settled=True)
    >>> checker.violations() == run_safety_checks(h) == []
    True
    """

    def __init__(self, history: History, only: Sequence[str] = ()) -> None:
        self.history = history
        self.only = _known(only)
        self._timeline: Timeline | None = None
        self._streams = _Streams()
        self._parts: list[_Part] = []

    def violations(self) -> list[Violation]:
        tl = timeline(self.history)
        if tl is not self._timeline:  # first call, or the History was rewritten: start over
            self._timeline, self._streams = tl, _Streams()
            self._parts = [part for check_id in self.only for part in _PARTS[check_id]()]
        self._streams.advance(tl)
        settled = tl.settle_seqs[-1] if tl.settle_seqs else -1
        found = [
            v
            for part in self._parts
            for v in part.advance(tl, self._streams.items(tl, part.source), settled)
        ]
        return _ordered(found)


# -- helpers -------------------------------------------------------------------------------------
def _is_creation(tl: Timeline, step: Step) -> bool:
    """A pod creation by the controller: first record ADDED, owned by the live, managed set."""
    if not step.first or not step.life.added or step.life.ordinal is None:
        return False
    ctx = tl.context_at(step.event.seq)
    return ctx.managed and tl.owned_by_live_set(step.event.obj, ctx)


def _is_controller_deletion(tl: Timeline, step: Step) -> bool:
    """A deletion start the controller is responsible for (see the module docstring)."""
    return (
        step.deletion_start
        and step.life.cause == CONTROLLER
        and step.life.ordinal is not None
        and tl.context_at(step.event.seq).managed
    )


def _could_be_update_deletion(spec: Spec, life: Life, ctx: Context, seq: int) -> bool:
    o = life.ordinal
    return (
        o is not None
        and spec.rolling
        and spec.in_range(o)
        and o >= spec.update_floor
        and not definitely_updated(spec, life, ctx, seq)
    )


def _was_available(tl: Timeline, step: Step, specs: Sequence[Spec]) -> bool:
    """PR-4 on the pod's last snapshot before its deletion started (held pods never are), and
    on a cluster in every view the controller's cache could still hold (INFORMER_LAG,
    kubernetes#41889): an incarnation first seen within the lag, or one unhealthy at some
    record within it, may have been unavailable to the controller that deleted it (seen on
    kwok v1.37.2: a pod re-created at the old revision and Ready 2 ms later, deleted first as
    unavailable under Parallel, #137666)."""
    before = step.prev
    if before is None or is_held(before.obj) or not is_running_ready(before.obj):
        return False
    if tl.granularity > 0:
        since_t = step.event.t - INFORMER_LAG
        life = step.life
        if life.obs[0].t >= since_t:
            return False
        if any(ob.seq < step.event.seq and ob.t >= since_t
               and (is_held(ob.obj) or not is_running_ready(ob.obj)) for ob in life.obs):
            return False
    mrs = max(s.min_ready_seconds for s in specs)
    since = ready_since(before.obj)
    return mrs <= 0 or (since is not None and since + mrs <= step.event.t + tl.granularity)


def _terminating_at(life: Life, seq: int) -> bool:
    snap = life.at(seq)
    return snap is not None and is_terminating(snap.obj)


def _claim_ordinal(claim: str, templates: Sequence[str], set_name: str) -> int | None:
    """The ordinal of a claim named ``<t>-<set>-<o>`` (STO-1), longest template name first."""
    for t in sorted(templates, key=len, reverse=True):
        prefix = f"{t}-{set_name}-"
        rest = claim[len(prefix) :]
        if claim.startswith(prefix) and rest.isdigit():
            return int(rest)
    return None


def _ranges(specs: Sequence[Spec]) -> str:
    seen = dict.fromkeys(f"[{s.start}, {s.end}) at generation {s.generation}" for s in specs)
    return ", ".join(seen)


def _mrs_text(mrs: int) -> str:
    return f" for minReadySeconds={mrs}" if mrs > 0 else ""


def _pod_state(ob: Obs) -> str:
    """A short phrase for a pod snapshot: ``Running, Ready since t=3``."""
    pod = ob.obj
    parts = [phase(pod) or "no phase"]
    if is_ready(pod):
        since = ready_since(pod)
        parts.append(f"Ready since t={since:g}" if since is not None else "Ready")
    else:
        parts.append("not Ready")
    if is_held(pod):
        parts.append("held by the harness")
    if is_finished(pod):
        parts.append("finished")
    if is_terminating(pod) or ob.action == "DELETED":
        parts.append("terminating" if ob.action != "DELETED" else "deleted")
    return ", ".join(dict.fromkeys(parts))
