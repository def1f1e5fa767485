"""CHK-10, status honesty: every StatefulSet status the controller writes agrees with pods it
could have seen (section 7 ST-1..ST-7 and ST-11, section 6.2 REV-8/REV-9).

Private to :mod:`sts_props.checks`; :mod:`.safety` registers the judge as ``CHK-10`` next to
CHK-1..CHK-9, so ``run_safety_checks``, ``SafetyChecker`` and the reports run it. It is not in
section 10.1's list: the spec says to compare status only at quiescence (T-3) because values lag
or lead by a sync; this check keeps that freedom by judging each write against *every* state
the controller's cache could have held when it computed the write, and so asserts only what no
lag or lead explains.

**What is a status write.** A StatefulSet record of the live set (same uid as the set record
before it) in which one of replicas, readyReplicas, currentReplicas, updatedReplicas,
availableReplicas, currentRevision, updateRevision changed or observedGeneration increased: the
changes after which the controller writes (ST-10). Records that change only conditions or
collisionCount, and the first record of each uid, are not judged as writes. Writes while the set
is being deleted (deletionTimestamp, or a delete_set op in flight) are not judged (ORD-9, T-8).

**The window.** The controller computes a write from its informer caches, which are never newer
than the write (the History lists records in resourceVersion order) and never go backwards.
One sync runs at a time per set and each sync writes status at most once, at its end (EX-4), so
the sync behind a write started after the previous write ``w`` was committed. Its pod cache
therefore held one of the states after the records from ``a`` up to the record just before the
write, where

* ``a = w`` when the History's clock granularity is 0 (the model: its cache is always fresh);
* otherwise (a cluster) ``a`` is the last record received more than ``INFORMER_LAG`` (2 s)
  before ``w``: the pod cache may lag the History's own watch, and the set's cache, by that much
  (kubernetes#41889), as CHK-3's informer-lag allowance assumes. It does: on kwok v1.37.2 a
  write right after another one was computed from pods older than the previous write (a pod
  still Pending that the History showed Ready before that write), so ``a = w`` would raise false
  alarms there (2 of 61 kwok histories of a corpus run); a lag of 0.05 s explained every write
  of those 61;

and ``w`` is the set's first record when no write came before. The window does not depend on
how long the sync took (API calls, client-side rate limits on a loaded machine): however slow,
it started after ``w``.

**Per pod, leniently.** Every count is bounded pod by pod: a pod adds to a count's lower bound
only if it counted in *every* state of the window (it existed throughout), and to its upper bound
if it counted in *some* state. This is looser than one instant for all pods, and it absorbs what
the sync itself does between reading the cache and writing: pods it creates (not counted yet,
#120732), pods it adopts or releases, condemned or update deletions, and a stale pod cache.
When in doubt a pod is counted in the upper bound and left out of the lower one: pods with no
controller reference (the sync may adopt them), a missing phase, two pods claiming one ordinal
(ID-5: the controller keeps one in the slot and drops the other from every count, 13.6).

The rules (``CHK-10/<rule>``), for each status write:

* **ST-1** ``replicas``: pods of the set that are created (phase set), terminating, failed and
  succeeded included.
* **ST-2** ``readyReplicas``: of those, Running and Ready, terminating included (T-4).
* **ST-3** ``availableReplicas``: Running, Ready and available for minReadySeconds (PR-4) at the
  sync's clock, which lies between the state's record (minus the lag above) and the write (plus
  the granularity); minReadySeconds of the generation the write observed. How long after
  minReadySeconds the count moves is free (T-5) and not asserted.
* **ST-4** ``currentReplicas``: non-terminating pods labelled with the written currentRevision;
  the lower bound is loosened by the number of pods one sync may delete for the update
  (maxUnavailable, 1 on the legacy path), because the decrement of each update deletion counts
  also a deletion that found no pod (UPD-1, UPD-5; a placeholder not created, 13.4).
* **ST-5** ``updatedReplicas``: non-terminating pods labelled with the written updateRevision.
* **ST-7** ``observedGeneration`` never exceeds ``metadata.generation`` and never decreases for
  one uid (a re-created set starts again).
* **ST-11** the apiserver's bounds: counts >= 0; ready, available, current and updated <= replicas;
  available <= ready.
* **REV-8/REV-9** ``currentRevision`` changes only to the written updateRevision or to a value
  the set's cached status could still hold (a currentRevision recorded in the window). A change to
  updateRevision is a REV-9 promotion unless the ControllerRevision named by the old value had been
  deleted (or was never recorded), which REV-8 answers the same way. A promotion needs, in the
  written status, replicas == readyReplicas == updatedReplicas == spec.replicas of the observed
  generation and currentReplicas == updatedReplicas, and no pod of the set that stayed at another
  revision, or terminating, throughout the window. Not asserted: the strategy (OnDelete promotes
  from v1.37, REV-10), or that a promotion happens at all (quiescent checks).

Not asserted: anything about conditions or collisionCount (ST-8, ST-9, T-10), or when a write
happens (T-3, T-5, T-9). On a cluster, the pod-based rules (the counts and REV-9's pods) skip a
write whose window meets a watch gap: from a ``restart_apiserver`` invoke, or an apiserver's
crash, to the first settled quiescent record after it, the recorder relisted and lost the
intermediate states the controller may have seen.

>>> from sts_props.history import History
>>> from sts_props.checks._timeline import Timeline
>>> h = History.new(backend="model", set_name="web")
>>> StatusJudge().record(Timeline(h), SetRecord(h.events[0], "u", {}))
[]
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sts_props.checks._timeline import (
    INFORMER_LAG,
    Life,
    Obs,
    Spec,
    Timeline,
    as_int,
    status_of,
)
from sts_props.checks.violation import Violation
from sts_props.history import Event
from sts_props.snapshot import (
    Snapshot,
    controller_ref,
    is_ready,
    is_running_ready,
    is_terminating,
    meta,
    ordinal_of,
    phase,
    ready_since,
    revision_of,
)

#: The status fields whose change makes the controller write (ST-10), besides observedGeneration.
WRITE_FIELDS = (
    "replicas", "readyReplicas", "currentReplicas", "updatedReplicas", "availableReplicas",
    "currentRevision", "updateRevision",
)
#: The fault whose apiserver restart breaks the recorder's watches (a relist loses states).
RESTART = "restart_apiserver"
#: The counts judged, in the order violations are listed, with their rule and what they count.
COUNTS: tuple[tuple[str, str, str], ...] = (
    ("replicas", "ST-1", "created (phase set, terminating included)"),
    ("readyReplicas", "ST-2", "Running and Ready (terminating included)"),
    ("availableReplicas", "ST-3", "Running, Ready and available for minReadySeconds"),
    ("currentReplicas", "ST-4", "non-terminating at currentRevision {cur}"),
    ("updatedReplicas", "ST-5", "non-terminating at updateRevision {upd}"),
)
_K = len(COUNTS)
#: the count indices (bits) set in each mask of _K bits
_BITS = tuple(tuple(k for k in range(_K) if mask >> k & 1) for mask in range(1 << _K))


@dataclass(frozen=True)
class SetRecord:
    """One record of the set (what the judge is given): the record, the set's uid, its
    snapshot."""

    event: Event
    uid: str
    obj: Snapshot


@dataclass(frozen=True)
class Window:
    """The states the controller's cache may have held for one write: the states right after
    the records ``start`` .. ``end - 1`` (``end`` is the write's own record)."""

    start: int
    end: int
    t_start: float
    t_end: float


@dataclass
class _Bounds:
    """Per count: how many pods counted in every state (lower) and in some state (upper),
    and which pods (named in violation messages)."""

    #: (pod name, counted in every state, counted in some state, as bits of COUNTS; old)
    pods: list[tuple[str, int, int, bool]] = field(default_factory=list)
    lo: list[int] = field(default_factory=lambda: [0] * _K)
    hi: list[int] = field(default_factory=lambda: [0] * _K)

    def add(self, name: str, surely: int, possibly: int, old: bool) -> None:
        self.pods.append((name, surely, possibly, old))
        for k in _BITS[surely]:
            self.lo[k] += 1
        for k in _BITS[possibly]:
            self.hi[k] += 1

    def names(self, k: int, surely: bool) -> list[str]:
        return [name for name, lo, hi, _ in self.pods if (lo if surely else hi) >> k & 1]

    @property
    def old(self) -> list[str]:
        """Pods of the set surely at another revision, or terminating, in every state."""
        return [name for name, _, _, old in self.pods if old]


@dataclass(frozen=True)
class _Ask:
    """What the counts are judged against: the written revisions and the time bounds for
    availability (PR-4)."""

    set_uid: str
    cur: str
    upd: str
    mrs_lo: int
    mrs_hi: int
    #: how much earlier than a state's record the sync's clock may read (its cache lags)
    slack: float
    #: the latest the sync's clock may read: the write, plus the clock granularity
    now_hi: float


@dataclass(frozen=True)
class _Verdict:
    """The violations of one status write: those that stand whatever comes later, and those
    that read pod states (excused if the window turns out to meet a watch gap)."""

    window: Window
    always: tuple[Violation, ...]
    of_pods: tuple[Violation, ...]


class StatusJudge:
    """CHK-10 judge of the set's records, one at a time, in order (see the module docstring).

    Remembers, per set incarnation, the status last recorded and the last status write, and the
    ControllerRevisions recorded so far (REV-8).
    """

    def __init__(self) -> None:
        self.uid = ""
        self.status: dict[str, Any] = {}
        self.write_seq = -1
        #: ControllerRevision name -> seq of its first record / of its DELETED records
        self.cr_seen: dict[str, int] = {}
        self.cr_gone: dict[str, list[int]] = {}
        #: watch gaps of a cluster History: [first seq, last seq or None while open]
        self.gaps: list[list[int | None]] = []
        #: op index of a restart_apiserver -> its gap, until a settled record after its result
        self._restarts: dict[int, list[int | None]] = {}
        self._closing: list[list[int | None]] = []
        self._settled = 0  # seq of the last settled quiescent record
        self._cursor = 0
        self._memo: dict[Any, Any] = {}
        #: set record seq -> its verdict (None: nothing found)
        self._verdicts: dict[int, _Verdict | None] = {}
        #: the pods that may still be present in a later window, and how many of tl.pods
        #: were looked at
        self._active: list[Life] = []
        self._pods_seen = 0

    def record(self, tl: Timeline, item: SetRecord) -> list[Violation]:
        """The violations of one set record. Records come in order the first time; a record
        asked about again gets its verdict, less what a watch gap found since excuses."""
        self._scan(tl)
        seq = item.event.seq
        if seq not in self._verdicts:
            self._verdicts[seq] = self._judge(tl, seq, item.uid, item.obj)
        verdict = self._verdicts[seq]
        if verdict is None:
            return []
        if verdict.of_pods and self._in_gap(verdict.window):
            return list(verdict.always)
        return [*verdict.always, *verdict.of_pods]

    def _judge(self, tl: Timeline, seq: int, set_uid: str, obj: Snapshot) -> _Verdict | None:
        status = status_of(obj)
        if set_uid != self.uid or not set_uid:
            # A new incarnation (or a set without uid): its first record is not a write.
            self.uid, self.status, self.write_seq = set_uid, status, seq
            return None
        before, self.status = self.status, status
        if status == before:
            return None
        always = _observed_generation(tl, seq, obj, before, status)
        og_before = as_int(before.get("observedGeneration"), 0)
        og = as_int(status.get("observedGeneration"), 0)
        no_window = Window(seq, seq, 0.0, 0.0)
        if not any(status.get(k) != before.get(k) for k in WRITE_FIELDS) and og <= og_before:
            # conditions or collisionCount only: not a controller write (ST-10)
            return _Verdict(no_window, tuple(always), ()) if always else None
        previous_write, self.write_seq = self.write_seq, seq
        ctx = tl.context_at(seq - 1)
        if not ctx.managed or ctx.set_uid != set_uid:
            return _Verdict(no_window, tuple(always), ()) if always else None
        window = _window(tl, previous_write, seq)
        specs = _observed_specs(tl, seq, og)
        ask = _ask(tl, set_uid, status, specs, window)
        # A window that meets a watch gap already known stays in it: skip the pod states.
        bounds = None if self._in_gap(window) else _bounds(
            tl, window, ask, self._lives(tl, seq), self._memo)
        of_pods = [] if bounds is None else _judge_counts(
            tl, seq, status, window, bounds, ask, specs)
        always += _st11(tl, seq, status)
        rev_always, rev_pods = self._revisions(tl, seq, before, status, window, bounds, specs)
        if not (always or rev_always or of_pods or rev_pods):
            return None
        return _Verdict(window, (*always, *rev_always), (*of_pods, *rev_pods))

    def _lives(self, tl: Timeline, seq: int) -> list[Life]:
        """The pods that may be present in the window of the write at ``seq``.

        On the model (no lag) the next window starts at this write, so pods DELETED by then are
        dropped for good, which keeps the judge's cost per write flat as a History grows. On a
        cluster every pod is kept (record times may be slightly out of order there, and its
        Histories are judged once, not after every step).
        """
        self._active.extend(tl.pods[self._pods_seen:])
        self._pods_seen = len(tl.pods)
        lives = self._active
        if tl.granularity <= 0:
            self._active = [
                life for life in lives if life.gone_seq is None or life.gone_seq > seq]
        return lives

    def _in_gap(self, window: Window) -> bool:
        return any(
            lo is not None and lo <= window.end and (hi is None or hi >= window.start)
            for lo, hi in self.gaps
        )

    # -- REV-8 / REV-9 -----------------------------------------------------------------------
    def _scan(self, tl: Timeline) -> None:
        """Note the ControllerRevision records and the watch gaps replayed so far."""
        events = tl.events
        while self._cursor < len(events):
            ev = events[self._cursor]
            self._cursor += 1
            if ev.type == "object" and ev.kind == "ControllerRevision":
                self.cr_seen.setdefault(ev.name, ev.seq)
                if ev.action == "DELETED":
                    self.cr_gone.setdefault(ev.name, []).append(ev.seq)
            elif tl.granularity > 0:  # the model's History has no watch to break
                self._scan_gap(ev)

    def _revision_gone(self, name: str, seq: int) -> bool:
        """REV-8: no ControllerRevision ``name`` recorded before ``seq``, or one DELETED."""
        first = self.cr_seen.get(name)
        return first is None or first > seq or any(s < seq for s in self.cr_gone.get(name, ()))

    def _scan_gap(self, ev: Event) -> None:
        """A watch gap: from a restart_apiserver's invoke (or, for an apiserver that crashed,
        from the settled record before its crash record) to the first settled quiescent record
        after the op's result (or the crash record): the recorder relisted in between and lost
        intermediate states (sts_props.cluster.recorder).
        """
        if ev.type == "op":
            op = ev.data.get("op")
            index_of_op = as_int(ev.data.get("index"), -1)
            if ev.phase == "invoke" and isinstance(op, dict) and op.get("op") == RESTART:
                gap: list[int | None] = [ev.seq, None]
                self.gaps.append(gap)
                self._restarts[index_of_op] = gap
            elif ev.phase != "invoke" and index_of_op in self._restarts:
                self._closing.append(self._restarts.pop(index_of_op))
        elif ev.type == "crash" and ev.data.get("component") == "kube-apiserver":
            # When it exited is not in run time (the record has when it was noticed): from the
            # last settled record on, the watches may have been broken.
            self.gaps.append([self._settled, None])
            self._closing.append(self.gaps[-1])
        elif ev.type == "quiescent" and ev.data.get("settled"):
            self._settled = ev.seq
            for gap in self._closing:
                gap[1] = ev.seq
            self._closing = []

    def _revisions(
        self, tl: Timeline, seq: int, before: dict[str, Any], status: dict[str, Any],
        window: Window, bounds: _Bounds | None, specs: Sequence[Spec],
    ) -> tuple[list[Violation], list[Violation]]:
        """REV-8/REV-9: (violations that stand, violations that read pod states)."""
        old_cur = str(before.get("currentRevision") or "")
        cur = str(status.get("currentRevision") or "")
        upd = str(status.get("updateRevision") or "")
        if not old_cur or cur == old_cur:
            return [], []  # REV-8: the first sync sets it; unchanged needs nothing
        cached = _cached_current_revisions(tl, self.uid, window)
        if cur in cached:
            return [], []  # the sync's cached status may still have named it
        if cur != upd:
            return [Violation(
                "CHK-10", "CHK-10/REV-8",
                f"The status written at {tl.where(seq)} changes currentRevision from {old_cur} "
                f"to {cur or '(empty)'}, which is neither its updateRevision "
                f"{upd or '(empty)'} nor a currentRevision the controller's cached status could "
                f"hold ({', '.join(sorted(cached)) or 'none'}); currentRevision only moves to "
                f"updateRevision (REV-8, REV-9).",
                (seq, window.start),
            )], []
        if any(self._revision_gone(name, seq) for name in cached):
            return [], []  # REV-8: the old revision's object was gone (or never seen)
        return _promotion(tl, seq, old_cur, status, window, bounds, specs)


def _promotion(
    tl: Timeline, seq: int, old_cur: str, status: dict[str, Any], window: Window,
    bounds: _Bounds | None, specs: Sequence[Spec],
) -> tuple[list[Violation], list[Violation]]:
    """REV-9: a promotion needs a complete rollout, in the written counts (violations that
    stand) and in the pods (violations that read pod states)."""
    counts_broken: list[Violation] = []
    pods_old: list[Violation] = []
    cur = str(status.get("currentRevision") or "")
    counts = {k: as_int(status.get(k), -1) for k, _, _ in COUNTS}
    wanted = sorted({s.replicas for s in specs})
    complete = any(
        counts["replicas"] == counts["readyReplicas"] == counts["updatedReplicas"] == n
        for n in wanted
    ) and counts["currentReplicas"] == counts["updatedReplicas"]
    head = (
        f"The status written at {tl.where(seq)} promotes currentRevision from {old_cur} to "
        f"updateRevision {cur}"
    )
    if not complete:
        counts_broken.append(Violation(
            "CHK-10", "CHK-10/REV-9",
            f"{head} with replicas={counts['replicas']}, readyReplicas="
            f"{counts['readyReplicas']}, updatedReplicas={counts['updatedReplicas']}, "
            f"currentReplicas={counts['currentReplicas']} and spec.replicas="
            f"{' or '.join(map(str, wanted))}; promotion needs replicas, readyReplicas and "
            f"updatedReplicas all equal to spec.replicas, and sets currentReplicas to "
            f"updatedReplicas (REV-9).",
            (seq,),
        ))
    if bounds is not None and bounds.old:
        pods_old.append(Violation(
            "CHK-10", "CHK-10/REV-9",
            f"{head} while pod(s) {', '.join(bounds.old)} of the set stayed at another revision "
            f"or terminating in every state the controller could have seen (records "
            f"{tl.where(window.start)} to {tl.where(window.end - 1)}); the rollout was not "
            f"complete (REV-9).",
            (seq, window.start),
        ))
    return counts_broken, pods_old


def _cached_current_revisions(tl: Timeline, set_uid: str, window: Window) -> set[str]:
    """The currentRevision values of the set records the cache could hold: the last one at or
    before the window's start and every one inside it."""
    records = tl.set_records
    i = bisect.bisect_right(records, window.start, key=lambda r: r[0])
    lo = max(i - 1, 0)
    hi = bisect.bisect_left(records, window.end, key=lambda r: r[0])
    found: set[str] = set()
    for _, record_uid, obj in records[lo:hi]:
        value = str(status_of(obj).get("currentRevision") or "")
        if record_uid == set_uid and value:
            found.add(value)
    return found


# -- ST-7 ----------------------------------------------------------------------------------------
def _observed_generation(
    tl: Timeline, seq: int, obj: Snapshot, before: dict[str, Any], status: dict[str, Any]
) -> list[Violation]:
    out: list[Violation] = []
    og, og_before = status.get("observedGeneration"), before.get("observedGeneration")
    generation = meta(obj).get("generation")
    if isinstance(og, int) and isinstance(generation, int) and og > generation:
        out.append(Violation(
            "CHK-10", "CHK-10/ST-7",
            f"The status recorded at {tl.where(seq)} has observedGeneration {og} above the "
            f"set's metadata.generation {generation}; the controller writes the generation it "
            f"saw, which the apiserver never lowers (ST-7).",
            (seq,),
        ))
    if isinstance(og, int) and isinstance(og_before, int) and og < og_before:
        out.append(Violation(
            "CHK-10", "CHK-10/ST-7",
            f"The status recorded at {tl.where(seq)} lowers observedGeneration from "
            f"{og_before} to {og} for the same set (uid unchanged); the controller's cache "
            f"never goes back to an older generation (ST-7).",
            (seq,),
        ))
    return out


# -- ST-11 ---------------------------------------------------------------------------------------
def _st11(tl: Timeline, seq: int, status: dict[str, Any]) -> list[Violation]:
    n: dict[str, int] = {}
    for key, _, _ in COUNTS:
        value = status.get(key)
        if type(value) is not int:
            return []  # not all recorded (or not numbers): nothing to compare
        n[key] = value
    rep, ready, avail = n["replicas"], n["readyReplicas"], n["availableReplicas"]
    if 0 <= avail <= ready <= rep and 0 <= n["currentReplicas"] <= rep \
            and 0 <= n["updatedReplicas"] <= rep:
        return []  # the common case, without building a message
    broken = [f"{k}={v} < 0" for k, v in n.items() if v < 0]
    broken += [
        f"{k}={n[k]} > replicas={n['replicas']}"
        for k in ("readyReplicas", "availableReplicas", "currentReplicas", "updatedReplicas")
        if n[k] > n["replicas"]
    ]
    if n["availableReplicas"] > n["readyReplicas"]:
        broken.append(
            f"availableReplicas={n['availableReplicas']} > readyReplicas={n['readyReplicas']}")
    if not broken:
        return []
    return [Violation(
        "CHK-10", "CHK-10/ST-11",
        f"The status written at {tl.where(seq)} breaks the apiserver's status validation: "
        f"{'; '.join(broken)} (ST-11).",
        (seq,),
    )]


# -- the counts ----------------------------------------------------------------------------------
def _window(tl: Timeline, previous_write: int, seq: int) -> Window:
    """The window of the write at ``seq`` whose previous write is ``previous_write``."""
    events = tl.events
    g = tl.granularity
    i = bisect.bisect_left(events, previous_write, key=lambda e: e.seq)
    i = min(max(i, 0), len(events) - 1)
    if g > 0:  # a cluster: its informer caches may lag the History's watch
        limit = events[i].t - INFORMER_LAG
        while i > 0 and events[i].t >= limit:
            i -= 1
    first = events[i]
    return Window(first.seq, seq, first.t, tl.by_seq[seq].t if seq in tl.by_seq else first.t)


def _observed_specs(tl: Timeline, seq: int, og: int) -> list[Spec]:
    """The spec of the generation the write observed (ST-7), or every candidate if unknown."""
    candidates = list(tl.context_at(seq).specs) + list(tl.context_at(seq - 1).specs)
    exact = [s for s in candidates if s.generation == og]
    return exact[:1] or candidates


def _ask(
    tl: Timeline, set_uid: str, status: dict[str, Any], specs: Sequence[Spec], window: Window
) -> _Ask:
    g = tl.granularity
    mrs = [s.min_ready_seconds for s in specs] or [0]
    return _Ask(
        set_uid=set_uid,
        cur=str(status.get("currentRevision") or ""),
        upd=str(status.get("updateRevision") or ""),
        mrs_lo=min(mrs),
        mrs_hi=max(mrs),
        slack=INFORMER_LAG + g if g > 0 else 0.0,
        now_hi=window.t_end + g,
    )


# Bits of the counts in COUNTS order, for the per-snapshot masks of _bounds.
_REP, _READY, _AVAIL, _CUR, _UPD = (1 << k for k in range(_K))


class _Marks(NamedTuple):
    """What one pod snapshot contributes to the counts, for one set uid and pair of revisions
    (everything but availability, which depends on the clock): computed once per snapshot."""

    #: counted surely / possibly, as bits of _REP, _READY, _CUR, _UPD
    surely: int
    possibly: int
    #: surely at another revision than the update revision, or terminating (REV-9)
    old: bool
    #: Running and Ready and surely counted / Ready and possibly counted, and since when
    avail_surely: bool
    avail_possibly: bool
    since: float | None

    @staticmethod
    def of(pod: Snapshot, ask: _Ask, canonical: bool) -> _Marks:
        ref = controller_ref(pod)
        mine = bool(ref and ref.get("kind") == "StatefulSet"
                    and str(ref.get("uid", "")) == ask.set_uid)
        claimable = mine or ref is None  # an orphan the sync may adopt before counting
        surely = mine and canonical and phase(pod) != ""
        rr, ready, term, rev = (is_running_ready(pod), is_ready(pod), is_terminating(pod),
                                revision_of(pod))
        kinds = (_READY if rr else 0) | (
            _CUR if not term and ask.cur and rev == ask.cur else 0) | (
            _UPD if not term and ask.upd and rev == ask.upd else 0)
        return _Marks(
            surely=(_REP | kinds) if surely else 0,
            possibly=(_REP | kinds | (_READY if ready else 0)) if claimable else 0,
            old=surely and (term or rev != ask.upd),
            avail_surely=surely and rr,
            avail_possibly=claimable and ready,
            since=ready_since(pod),
        )


def _obs_seq(ob: Obs) -> int:
    return ob.seq


def _bounds(
    tl: Timeline, window: Window, ask: _Ask, lives: Sequence[Life], memo: dict[Any, Any],
) -> _Bounds:
    """Each count's pods counted in every state of the window, and in some state, from
    ``lives`` (a superset of the pods present in the window). ``memo`` caches each snapshot's
    :class:`_Marks` (snapshots live as long as the Timeline) and, when availability does not
    depend on the clock, each pod's contribution for a range of its snapshots: on the model most
    pods do not change between two writes."""
    start, end = window.start, window.end
    present: list[tuple[Life, int | None]] = []
    per_ordinal: dict[int, int] = {}
    for life in lives:
        if life.first_seq >= end or (life.gone_seq is not None and life.gone_seq <= start):
            continue  # absent in every state of the window
        o = ordinal_of(life.name, tl.set_name)
        present.append((life, o))
        if o is not None:
            per_ordinal[o] = per_ordinal.get(o, 0) + 1
    b = _Bounds()
    uid, cur, upd = ask.set_uid, ask.cur, ask.upd
    timeless = ask.mrs_hi <= 0
    for life, o in present:
        obs = life.obs
        n = len(obs)
        if obs[-1].seq <= start:
            i = j = n  # no record of it inside the window: one snapshot throughout
        else:
            i = j = bisect.bisect_right(obs, start, key=_obs_seq)
            while j < n and obs[j].seq < end:
                j += 1
        absent = life.first_seq > start or (life.gone_seq is not None and life.gone_seq < end)
        # Two pods for one ordinal: which one holds the slot is free (ID-5), the other is not
        # counted at all (13.6), so neither is counted surely.
        canonical = o is not None and per_ordinal[o] == 1
        key = (life.key, i, j, absent, canonical, uid, cur, upd) if timeless else None
        found = memo.get(key) if key is not None else None
        if found is None:
            found = _contribution(obs, i, j, absent, canonical, window, ask, memo)
            if key is not None:
                memo[key] = found
        if found[0] or found[1]:
            b.add(life.name, *found)
    return b


def _contribution(
    obs: Sequence[Obs], i: int, j: int, absent: bool, canonical: bool, window: Window,
    ask: _Ask, memo: dict[Any, Any],
) -> tuple[int, int, bool]:
    """(counted in every state, counted in some state, old in every state) of one pod whose
    snapshots in the window are ``obs[i - 1]`` (current at its start) and ``obs[i:j]``."""
    # (snapshot, when it became current); a DELETED record leaves the pod absent
    snaps = [(obs[i - 1].obj, window.t_start)] if i > 0 else []
    snaps += [(ob.obj, ob.t) for ob in obs[i:j] if ob.action != "DELETED"]
    surely, possibly, old = (0 if absent else (1 << _K) - 1), 0, not absent and bool(snaps)
    for pod, t in snaps:
        key = (id(pod), ask.set_uid, ask.cur, ask.upd, canonical)
        m = memo.get(key)
        if m is None:
            m = memo[key] = _Marks.of(pod, ask, canonical)
        since = m.since
        lo, hi = m.surely, m.possibly
        if m.avail_surely and (ask.mrs_hi <= 0 or (
                since is not None and since + ask.mrs_hi <= t - ask.slack)):
            lo |= _AVAIL
        if m.avail_possibly and (
                ask.mrs_lo <= 0 or since is None or since + ask.mrs_lo <= ask.now_hi):
            hi |= _AVAIL
        surely &= lo
        possibly |= hi
        old = old and m.old
    if not snaps:
        surely = 0
    return surely, possibly, old


def _update_deletions_per_sync(specs: Sequence[Spec]) -> int:
    """How many update deletions one sync may make (UPD-1: 1; UPD-5: maxUnavailable; under
    Parallel from v1.37 every unavailable old pod first and then maxUnavailable more, #137666,
    UPD-10: up to every pod of the set)."""
    rolling = [s for s in specs if s.rolling]
    return max((max(s.replicas, 1) if not s.ordered else
                min(s.effective_max_unavailable(), max(s.replicas, 1)) for s in rolling),
               default=0)


def _judge_counts(
    tl: Timeline, seq: int, status: dict[str, Any], window: Window, bounds: _Bounds, ask: _Ask,
    specs: Sequence[Spec],
) -> list[Violation]:
    out: list[Violation] = []
    for k, (key, rule, what) in enumerate(COUNTS):
        value = status.get(key)
        if not isinstance(value, int) or isinstance(value, bool):
            continue  # not recorded (an older or partial History): nothing to judge
        n_lo, n_hi = bounds.lo[k], bounds.hi[k]
        floor = n_lo - (_update_deletions_per_sync(specs) if rule == "ST-4" else 0)
        if floor <= value <= n_hi:
            continue
        lo, hi = bounds.names(k, True), bounds.names(k, False)
        what = what.format(cur=ask.cur or "(none)", upd=ask.upd or "(none)")
        if rule == "ST-3" and (ask.mrs_lo or ask.mrs_hi):
            what += f" {ask.mrs_lo}" if ask.mrs_lo == ask.mrs_hi else (
                f" {ask.mrs_lo}..{ask.mrs_hi}")
        span = (
            f"records {tl.where(window.start)} to {tl.where(window.end - 1)}"
            if window.start < window.end - 1 else f"record {tl.where(window.start)}"
        )
        if value > len(hi):
            who = f"only {', '.join(hi)} could count" if hi else "no pod could count"
            out.append(Violation(
                "CHK-10", f"CHK-10/{rule}",
                f"The status written at {tl.where(seq)} says {key}={value}, but at most "
                f"{len(hi)} pod(s) of the set were {what} in any state the controller could have "
                f"seen ({span}): {who} ({rule}).",
                (seq, window.start),
            ))
        elif value < floor:
            allowance = f", less {len(lo) - floor} update deletion(s) per sync" if (
                floor < len(lo)) else ""
            out.append(Violation(
                "CHK-10", f"CHK-10/{rule}",
                f"The status written at {tl.where(seq)} says {key}={value}, but {len(lo)} "
                f"pod(s) of the set ({', '.join(lo)}) were {what} in every state the controller "
                f"could have seen ({span}{allowance}) ({rule}).",
                (seq, window.start),
            ))
    return out
