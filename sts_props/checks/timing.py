"""Timing checks: CHK-11 (availability timing) and CHK-12 (update pacing) under minReadySeconds.

Private to :mod:`sts_props.checks`: the judges here are registered, and documented for users,
in :mod:`sts_props.checks.safety` (``check_chk11``, ``check_chk12``), which feeds them the
History's items one at a time like every other safety check.

What is judged, with which tolerance (``m`` is minReadySeconds; ``g`` the History's clock
granularity, 0 for the model and 1 s for a cluster; ``skew`` is :data:`CLOCK_SKEW` on a cluster
and 0 for the model, whose History *is* its clock). A pod's ``readySince`` is its Ready
condition's lastTransitionTime, truncated to the second on a cluster; the controller reads the
very same truncated value (PR-4: available once ``lastTransitionTime + m <= now``), and the
records' own times are receipt times, never earlier than the write they show. So comparing
``readySince + m`` with a record's time needs no granularity allowance, only the skew between
the harness's clock and the controller's (the kwok corpus shows status writes received up to
0.04 s before ``readySince + m`` by the harness's clock):

* **CHK-11 (a), ST-3 / PR-4.** A status write never counts as available a pod that had not
  been Ready for ``m`` seconds. At a status record at time ``t``, ``availableReplicas`` is at
  most the number of pod *names* with a Ready snapshot recorded before it (or, on a cluster,
  any snapshot whose ``readySince`` proves the same by timestamps) with
  ``readySince + m <= t + skew``. One name counts once: the controller's cache holds at most
  one pod per name, however stale. ``m`` is that of the generation the status names in
  ``observedGeneration`` (ST-7: the spec the sync read).
* **CHK-11 (b), EX-2 / T-5.** ``availableReplicas`` catches up. Judged only in a *quiet window*
  (no pod record, no spec change, no op but ``settle`` from its first record to its last) in
  which the controller has nothing left to write but status, so no failing write can hold its
  queue in backoff: the set is live and not being deleted, every pod named like the set's is
  owned by it, none is terminating, and the pods are exactly the ordinals of the range; no
  component restart, crash or ``deny_pod_writes`` in force, and ``m`` unchanged, from
  :data:`RESTART_RECOVERY` before the pod turned Ready to the end of the window. Then every
  Ready pod must be counted by the status in force (the last one received) at its deadline
  ``max(readySince + m, window start) + requeue + g + LOAD_SLACK``, if that deadline lies
  before the window's end (the next breaking record's time, less :data:`INFORMER_LAG` on a
  cluster for the records in flight); ``requeue`` is
  ``max(m, 2 s)`` from v1.35.1 (the pod-Ready trigger fires ``m + 1`` s after the transition,
  the sync chain re-queues every ``m`` s while ``availableReplicas != replicas``, EX-2) and
  ``2m + 2 s`` before or when the version is unknown (T-5: up to about twice ``m``). With
  ``m = 5`` on v1.37 that is ``readySince + 16 s``: a lenient bound, met in long quiet stretches
  only.
* **CHK-12, UPD-1 / UPD-4 / UPD-5.** An update deletion of pod ``j`` (a controller deletion,
  every candidate spec RollingUpdate with ``j`` in range at or above the partition, ``j`` not
  provably updated) is judged against every pod ``i`` that is provably at the update revision:
  it must have been Running+Ready with ``readySince + m <= deletion time + skew`` (a
  snapshot before the deletion, or a timestamp proof on a cluster; not the previous
  incarnation of ``i``, which a lagging cache could hold but which would have been deleted
  again, or stopped the update, instead of ``j``). Which ``i``, per the spec:

  - OrderedReady: every other in-range ordinal (RP-4..RP-6 stop the sync at any pod that is not
    available before the update step runs, UPD-4, UPD-5a), any maxUnavailable;
  - Parallel with an effective maxUnavailable of 1: only ordinals above ``j`` (the legacy scan
    stops at an unavailable pod above its target, UPD-1; the maxUnavailable path deletes
    nothing while one slot is unavailable, UPD-5), and not when ``j`` itself may have been
    unavailable (the v1.37 first phase deletes old unavailable pods without a budget,
    #137666). Before v1.34 (#130909), or with an unknown version, Parallel waits for
    Ready only, so ``m`` counts as 0 there.

  Not asserted: Parallel with maxUnavailable above 1 (T-6, the budget allows unavailable
  pods), missing or old pods (CHK-5, CHK-6), pods deleted in the same batch.

>>> from sts_props.history import History
>>> tl = Timeline(History.new(backend="kwok", set_name="web", clock_granularity=1.0))
>>> skew(tl)
1.0
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sts_props.checks._timeline import (
    CONTROLLER,
    INFORMER_LAG,
    Life,
    Obs,
    Spec,
    Step,
    Timeline,
    as_int,
    definitely_updated,
    is_held,
    spec_of,
    status_of,
)
from sts_props.checks.violation import Violation
from sts_props.history import Event
from sts_props.ops import kinds_where
from sts_props.snapshot import (
    is_ready,
    is_running_ready,
    is_terminating,
    meta,
    pod_name,
    ready_since,
    uid,
)

#: Seconds a cluster's controller clock and the harness's clock may disagree by, beyond the
#: History's granularity (section 10.1: "allowing equality and 1 s of skew"). A status record
#: was seen 4 ms before the controller's own arithmetic said its pod became available (kwok
#: v1.37.2): both clocks are read at different moments even on one machine.
CLOCK_SKEW = 1.0
#: CHK-11 (b): seconds for a sync to run, write the status and for the watch to deliver it,
#: on a loaded 2-core machine that also runs the control plane.
LOAD_SLACK = 5.0
#: CHK-11 (b): seconds a restarted controller-manager or apiserver may take to serve again
#: (leader election, informer lists); a restart this long before a pod turned Ready, or later,
#: leaves that pod unjudged.
RESTART_RECOVERY = 30.0
#: The ops that restart a control-plane component (their driver lands them mid-operation).
RESTART_OPS = frozenset(kinds_where(lambda cls: cls.mid_operation))
#: Float noise of the model's clock (sums of readySince and minReadySeconds).
_EPS = 1e-6


def skew(tl: Timeline) -> float:
    """:data:`CLOCK_SKEW` for a cluster History (granularity > 0), 0 for the model's."""
    return CLOCK_SKEW if tl.granularity > 0 else 0.0


def k8s_version(tl: Timeline) -> tuple[int, int] | None:
    """(minor, patch) from the History header's ``k8sVersion``; None if it has none.

    >>> from sts_props.history import History
    >>> k8s_version(Timeline(History.new("kwok", "web", k8s_version="v1.37.2")))
    (37, 2)
    """
    text = str(tl.header.get("k8sVersion") or "")
    found = re.match(r"v?1\.(\d+)(?:\.(\d+))?", text.strip())
    if found is None:
        return None
    return int(found.group(1)), int(found.group(2) or 0)


# -- the items: status writes and quiet windows -------------------------------------------------
@dataclass(frozen=True)
class Window:
    """CHK-11 (b): the records from ``start`` (the record that began a quiet stretch) up to,
    not including, ``end`` (the record that broke it); judged once ``end`` exists. It carries
    what disturbed the controller up to ``end`` (times on the History's clock)."""

    start: int
    end: int
    #: restart op invocations and crash records
    restarts: tuple[float, ...] = ()
    #: (from, to) of each deny_pod_writes in force (to: inf while not yet allowed again)
    denials: tuple[tuple[float, float], ...] = ()
    #: (time, set uid, minReadySeconds) of every record of the set
    min_ready: tuple[tuple[float, str, int], ...] = ()

    @property
    def seq(self) -> int:
        return self.end

    def undisturbed(self, lo: float, hi: float, set_uid: str, m: int) -> bool:
        """No restart or crash, no deny_pod_writes in force and no other minReadySeconds on
        the set's records between times ``lo`` and ``hi``."""
        mine = [(t, v) for t, u, v in self.min_ready if u == set_uid and t <= hi]
        before = [v for t, v in mine if t < lo]
        in_force = before[-1:] + [v for t, v in mine if t >= lo]
        return (not any(lo <= t <= hi for t in self.restarts)
                and not any(a <= hi and b >= lo for a, b in self.denials)
                and all(v == m for v in in_force))


@dataclass
class TimingStreams:
    """The items of CHK-11, collected as the Timeline grows: status writes that changed
    ``availableReplicas`` or ``observedGeneration``, and closed quiet windows."""

    seen: int = 0
    status_writes: list[Event] = field(default_factory=list)
    windows: list[Window] = field(default_factory=list)
    _status_keys: dict[str, tuple[int, int]] = field(default_factory=dict)
    _set_shape: tuple[Any, ...] | None = None
    _start: int | None = None
    _restarts: list[float] = field(default_factory=list)
    _denials: list[tuple[float, float]] = field(default_factory=list)
    _min_ready: list[tuple[float, str, int]] = field(default_factory=list)

    def advance(self, tl: Timeline) -> None:
        for ev in tl.events[self.seen:]:
            self._note(tl, ev)
            if self._breaks(tl, ev):
                if self._start is not None:
                    self.windows.append(Window(
                        self._start, ev.seq, tuple(self._restarts), tuple(self._denials),
                        tuple(self._min_ready)))
                self._start = ev.seq
        self.seen = len(tl.events)

    def _note(self, tl: Timeline, ev: Event) -> None:
        """Keep the disturbances and the status writes."""
        kind = _op_kind(ev)
        if ev.type == "crash" or (ev.phase == "invoke" and kind in RESTART_OPS):
            self._restarts.append(ev.t)
        elif ev.phase == "invoke" and kind == "deny_pod_writes":
            if not self._denials or self._denials[-1][1] != _FOREVER:
                self._denials.append((ev.t, _FOREVER))
        elif (ev.phase == "ok" and kind == "allow_pod_writes" and self._denials
              and self._denials[-1][1] == _FOREVER):
            self._denials[-1] = (self._denials[-1][0], ev.t)
        if ev.type != "object" or ev.kind != "StatefulSet" or ev.name != tl.set_name \
                or ev.action == "DELETED":
            return
        obj, set_uid = ev.obj, uid(ev.obj)
        self._min_ready.append((ev.t, set_uid, as_int(spec_of(obj).get("minReadySeconds"), 0)))
        status = status_of(obj)
        key = (as_int(status.get("availableReplicas"), 0),
               as_int(status.get("observedGeneration"), 0))
        if self._status_keys.get(set_uid) != key:
            self._status_keys[set_uid] = key
            self.status_writes.append(ev)

    def _breaks(self, tl: Timeline, ev: Event) -> bool:
        """Is ``ev`` a change the controller could react to (or a harness action)? Status-only
        set records, quiescent records, settle ops and other kinds are not."""
        if ev.type == "crash":
            return True
        if ev.type == "op":
            return ev.phase == "invoke" and _op_kind(ev) != "settle"
        if ev.type != "object":
            return False
        if ev.kind == "Pod":
            return True
        if ev.kind != "StatefulSet" or ev.name != tl.set_name:
            return False
        obj = ev.obj
        m = meta(obj)
        shape = (ev.action == "DELETED", uid(obj), m.get("generation"),
                 m.get("deletionTimestamp"), spec_of(obj))
        changed = shape != self._set_shape
        self._set_shape = shape
        return changed


_FOREVER = float("inf")


def _op_kind(ev: Event) -> str | None:
    op = ev.data.get("op") if ev.type == "op" else None
    kind = op.get("op") if isinstance(op, dict) else None
    return kind if isinstance(kind, str) else None


# -- CHK-11 (a): no pod counted available too early ----------------------------------------------
def _status_min_ready(tl: Timeline, ev: Event) -> int:
    """minReadySeconds of the generation the status names (ST-7); without a record of that
    generation, the smallest of the set's generations recorded up to ``ev``."""
    set_uid = uid(ev.obj)
    observed = as_int(status_of(ev.obj).get("observedGeneration"), 0)
    seen: list[Spec] = []
    for (seq, suid, _), spec in zip(tl.set_records, tl.set_specs, strict=True):
        if seq > ev.seq:
            break
        if suid == set_uid:
            if spec.generation == observed:
                return spec.min_ready_seconds
            seen.append(spec)
    return min((s.min_ready_seconds for s in seen), default=0)


def _available_by(tl: Timeline, life: Life, before_seq: int, limit: float,
                  m: int) -> Obs | None:
    """A snapshot showing ``life`` Ready with ``readySince + m <= limit``: one recorded before
    ``before_seq`` (one without readySince is taken on trust), or on a cluster any snapshot,
    whose readySince proves it by timestamps (a watch relist may have dropped the earlier
    ones)."""
    for ob in life.obs:
        if not is_ready(ob.obj):
            continue
        since = ready_since(ob.obj)
        if ob.seq < before_seq and (since is None or since + m <= limit + _EPS):
            return ob
        if tl.granularity > 0 and since is not None and since + m <= limit + _EPS:
            return ob
    return None


def chk11_status(tl: Timeline, ev: Event) -> list[Violation]:
    """CHK-11 (a) for one status record: see the module docstring."""
    available = as_int(status_of(ev.obj).get("availableReplicas"), 0)
    if available <= 0:
        return []
    m = _status_min_ready(tl, ev)
    if m <= 0:
        return []
    limit = ev.t + skew(tl)
    counted: set[str] = set()
    young: list[tuple[float, str]] = []
    for life in tl.pods:
        if life.ordinal is None or life.name in counted:
            continue  # status drops pods whose ordinal does not parse (section 7)
        if _available_by(tl, life, ev.seq, limit, m) is not None:
            counted.add(life.name)
            continue
        for ob in life.obs:
            since = ready_since(ob.obj)
            if ob.seq < ev.seq and is_ready(ob.obj) and since is not None:
                young.append((since, life.name))
    if available <= len(counted):
        return []
    names = ", ".join(sorted(counted)) or "none"
    detail = ""
    if young:
        since, name = max(young)
        detail = (f"; {name} had been Ready only since t={since:g} "
                  f"({ev.t - since:.2f}s before)")
    return [Violation(
        "CHK-11", "CHK-11/ST-3",
        f"The status written at {ev.where()} reports availableReplicas={available} with "
        f"minReadySeconds={m}, but only {len(counted)} pod(s) ({names}) had been Ready for "
        f"{m}s by then (allowing {skew(tl):g}s of clock skew){detail}; a "
        f"pod counts as available only once it has been Ready for minReadySeconds (PR-4).",
        (ev.seq,))]


# -- CHK-11 (b): availableReplicas catches up -----------------------------------------------------
def _requeue(tl: Timeline, m: int) -> float:
    """How long after a pod became available the controller surely synced again (EX-2, T-5)."""
    version = k8s_version(tl)
    if version is not None and version >= (35, 1):
        return max(float(m), 2.0)
    return 2.0 * m + 2.0


def chk11_window(tl: Timeline, window: Window) -> list[Violation]:
    """CHK-11 (b) for one closed quiet window: see the module docstring."""
    first, breaker = tl.by_seq.get(window.start), tl.by_seq.get(window.end)
    if first is None or breaker is None:
        return []
    ctx = tl.context_at(window.start)
    spec = ctx.current
    if not ctx.managed or spec is None or len({s.min_ready_seconds for s in ctx.specs}) != 1:
        return []
    m = spec.min_ready_seconds
    if m <= 0:
        return []
    end = breaker.t - (INFORMER_LAG if tl.granularity > 0 else 0.0)
    owned: dict[int, Obs] = {}
    for life in tl.pods:
        if not life.live_at(window.start):
            continue
        ob = life.at(window.start)
        if ob is None:
            continue
        if not tl.owned_by_live_set(ob.obj, ctx):
            if life.ordinal is not None:
                return []  # a foreign pod with a set pod's name: creates may fail (ID-13)
            continue
        if is_terminating(ob.obj) or life.ordinal is None or life.ordinal in owned:
            return []
        owned[life.ordinal] = ob
    if set(owned) != set(range(spec.start, spec.end)):
        return []  # creations or deletions pending: a failing one would back the queue off
    due: list[tuple[float, str]] = []
    for o, ob in sorted(owned.items()):
        since = ready_since(ob.obj)
        if not is_running_ready(ob.obj) or is_held(ob.obj) or since is None:
            continue
        deadline = (max(since + m, first.t) + _requeue(tl, m) + tl.granularity + LOAD_SLACK)
        if deadline <= end and window.undisturbed(since - RESTART_RECOVERY, breaker.t,
                                                       ctx.set_uid, m):
            due.append((deadline, pod_name(tl.set_name, o)))
    if not due:
        return []
    records = [(seq, tl.by_seq[seq]) for seq, suid, _ in tl.set_records
               if seq < window.end and suid == ctx.set_uid]
    due.sort()
    for k, (deadline, name) in enumerate(due, 1):
        # the status in force at the deadline: the last one received by then
        in_force = [ev for seq, ev in records if ev.t <= deadline]
        if not in_force:
            continue
        status_ev = in_force[-1]
        available = as_int(status_of(status_ev.obj).get("availableReplicas"), 0)
        if available >= k:
            continue
        names = ", ".join(n for _, n in due[:k])
        return [Violation(
            "CHK-11", "CHK-11/EX-2",
            f"availableReplicas was still {available} at t={deadline:g} (the status of "
            f"{status_ev.where()}) although {k} pod(s) ({names}) had been Ready, unchanged, "
            f"long enough to count by then ({name}: readySince + minReadySeconds {m} + "
            f"re-sync {_requeue(tl, m):g}s + granularity + {LOAD_SLACK:g}s of load), and from "
            f"{first.where()} to {breaker.where()} nothing but status was left for the "
            f"controller to write; it re-syncs after minReadySeconds to count newly "
            f"available pods (EX-2).",
            (status_ev.seq, window.start, window.end))]
    return []


# -- CHK-12: an update waits until updated pods are available -----------------------------------
def min_ready_in_parallel_updates(tl: Timeline) -> bool:
    """Does Parallel's update step count minReadySeconds (v1.34+, #130909)? No if unknown."""
    version = k8s_version(tl)
    return version is not None and version >= (34, 0)


def _maybe_unavailable(tl: Timeline, step: Step, m: int) -> bool:
    """Could the controller have seen the deleted pod as unavailable (PR-5) when it deleted
    it? It judged a cached snapshot: on a cluster any one recorded in the last
    :data:`INFORMER_LAG` seconds before, or the one current then; in the model the last."""
    ev, life = step.event, step.life
    lag = INFORMER_LAG + skew(tl) if tl.granularity > 0 else 0.0
    earliest = ev.t - lag
    seen = [ob for ob in life.obs if ob.seq < ev.seq]
    if not seen:
        return True
    candidates = [ob for ob in seen if ob.t >= earliest] if lag else []
    older = [ob for ob in seen if ob.t < earliest or not lag]
    if older:
        candidates.append(older[-1])
    for ob in candidates:
        since = ready_since(ob.obj)
        if not is_running_ready(ob.obj) or is_held(ob.obj) or is_terminating(ob.obj):
            return True
        if m > 0 and (since is None or since + m > earliest + _EPS):
            return True
    return False


def chk12_deletion(tl: Timeline, step: Step) -> list[Violation]:
    """CHK-12 for one controller deletion: see the module docstring."""
    ev, life, j = step.event, step.life, step.life.ordinal
    if j is None or life.cause != CONTROLLER:
        return []
    ctx = tl.context_at(ev.seq)
    specs = ctx.specs
    if not specs or not all(s.rolling and s.in_range(j) and j >= s.update_floor
                            for s in specs):
        return []
    if any(definitely_updated(s, life, ctx, ev.seq) for s in specs):
        return []  # not an update deletion
    ordered = all(s.ordered for s in specs)
    m = min(s.min_ready_seconds for s in specs)
    hi = min(s.end for s in specs)
    if ordered:
        others = [i for i in range(max(s.start for s in specs), hi) if i != j]
        rule = "CHK-12/UPD-4"
        why = ("under OrderedReady the update step runs only when every in-range pod is "
               "Running, Ready and available (RP-4..RP-6, UPD-4)")
    else:
        if any(s.ordered for s in specs) or any(
                s.effective_max_unavailable() > 1 for s in specs):
            return []
        if _maybe_unavailable(tl, step, max(s.min_ready_seconds for s in specs)):
            return []  # the v1.37 first phase replaces old unavailable pods at once (#137666)
        if not min_ready_in_parallel_updates(tl):
            m = 0
        others = list(range(j + 1, hi))
        rule = "CHK-12/UPD-1"
        why = ("under Parallel with maxUnavailable 1 the update step stops at an unavailable "
               "pod above its target (UPD-1) or deletes nothing while one is (UPD-5)")
    for i in others:
        ilife = tl.latest_pod(i, ev.seq)
        if ilife is None or not all(definitely_updated(s, ilife, ctx, ev.seq) for s in specs):
            continue
        # No informer-lag fallback to i's previous incarnation: a cache still holding it (old,
        # or terminating) would have deleted i again or stopped, not deleted j.
        _, witness = tl.healthy_witness(i, ev.seq, ev.t, m, slack=skew(tl), lag=False)
        if witness is not None:
            continue
        return [_pacing_violation(tl, ev, j, ilife, m, rule, why)]
    return []


def _pacing_violation(tl: Timeline, ev: Event, j: int, ilife: Life, m: int, rule: str,
                      why: str) -> Violation:
    ready = [ob for ob in ilife.obs if ob.seq < ev.seq and is_running_ready(ob.obj)]
    since = ready_since(ready[-1].obj) if ready else None
    if since is not None:
        state = (f"had been Ready only since t={since:g}, {ev.t - since:.2f}s before "
                 f"(minReadySeconds {m}, allowing {skew(tl):g}s of clock skew)")
    else:
        state = "had not been seen Running and Ready"
    return Violation(
        "CHK-12", rule,
        f"The rolling update deleted pod {ev.name} (ordinal {j}) at {ev.where()} while updated "
        f"pod {ilife.name} (first seen {tl.where(ilife.first_seq)}) {state}; {why}.",
        (ev.seq, ilife.first_seq))
