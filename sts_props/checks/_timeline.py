"""Replay of a History into object lifetimes and per-record context (shared by the checks).

Private to :mod:`sts_props.checks`. A :class:`Timeline` walks the records once, in order, and
keeps:

* one :class:`Life` per incarnation of every Pod and PersistentVolumeClaim (a new incarnation
  starts when a name is (re)added or its uid changes), with every observed snapshot, the record
  where its deletion started and *why* it was deleted (:data:`CONTROLLER`, an op, the set's
  deletion, a Failed/Succeeded phase, or an owner other than the live set);
* one :class:`Context` per record: the StatefulSet as last seen and the **candidate specs** the
  controller may have been acting on at that instant.

Which deletions are the harness's own. An op's result record lists the objects its own writes
touched (``writes``: uid, resourceVersion ``rv``, verb; see :mod:`sts_props.history`). A pod's
deletion is the op's when the op deleted that uid at or before the record where the deletion
started (``rv`` <= the record's, or the record after ``since`` when the call gave no
resourceVersion): whatever the order in which the op's result, its deletion's record and
settled quiescent records come. The result may come after the deletion's record (the recorder
places it at the newest resourceVersion seen when the call returned): the deletion is then
re-attributed when the result is replayed, before any check judges it (the checks judge a
History once it is replayed). Any record whose (uid, rv) is one of an op's writes is that op's
(:meth:`Timeline.written_by`: the status changes of fail_pod, hold_not_ready, flap_readiness).

Ops without ``writes`` (saved histories from before, and an op whose result is not replayed
yet) fall back on timing: the first deletion of a targeted ordinal after the op's invoke and
before the next settled quiescent record is the op's; once the op's result arrives, its
``writes`` confirm or undo that guess.

Candidate specs. The controller acts on a cached copy of the set. The last status it wrote
carries ``observedGeneration`` = og, and its cache never goes backwards, so after that status
record every controller action was based on a generation in ``[og, generation]``; before the
first status write, on any generation seen so far. Checks that flag an action therefore flag it
only if it is wrong under *every* candidate spec. This relies on the History listing object
records in the order the apiserver committed them (resourceVersion order across kinds), which
the model does by construction and a cluster recorder must preserve when it merges watches.

>>> from sts_props.history import History
>>> h = History.new(backend="model", set_name="web")
>>> tl = Timeline(h)
>>> tl.set_name, tl.pods, tl.context_at(0).set_live
('web', [], False)
"""

from __future__ import annotations

import bisect
import weakref
from dataclasses import dataclass, field
from typing import Any

from sts_props.history import Event, History
from sts_props.ops import ROLLOUT_OPS, kinds_where
from sts_props.snapshot import (
    HOLD_KEY,
    Snapshot,
    controller_ref,
    created_at,
    is_running_ready,
    is_terminating,
    meta,
    ordinal_of,
    phase,
    ready_since,
    revision_of,
    uid,
)

#: Ops after which, until the next settle, unhealthy, missing or terminating pods may be the
#: harness's doing, not the controller's (:attr:`sts_props.ops.Op.disturbs`).
DISTURBING_OPS = frozenset(kinds_where(lambda cls: cls.disturbs))
#: Ops after which the *targeted* pod is deleted by someone other than the update/scale logic
#: (the user for delete_pod, kill_pod, evict_pod; RP-1 replacing a Failed/Succeeded pod for
#: fail_pod; the node's eviction for fail_node, whose ``colocated`` pods go too):
#: :attr:`sts_props.ops.Op.deletes_pod`.
POD_DELETING_OPS = frozenset(kinds_where(lambda cls: cls.deletes_pod))
#: Ops after which, until the next settle, records of different kinds may be out of the
#: cluster's order (:attr:`sts_props.ops.Op.breaks_watches`).
WATCH_BREAKING_OPS = frozenset(kinds_where(lambda cls: cls.breaks_watches))
#: How far (seconds) a cluster controller's informer cache may lag the harness's own watch:
#: an action is judged against any state the controller could still have been looking at
#: (kubernetes#41889: the observer saw fresher state than the controller). The model's cache
#: is always fresh (granularity 0): no lag there.
INFORMER_LAG = 2.0
#: How soon (seconds) after the node agent removed a pod a namesake that vanishes at once is
#: taken for the node agent's late second delete of that name (docs/findings.md F-3):
#: milliseconds when seen; the controller has no reason to delete a pod it just created.
NAMESAKE_WINDOW = 1.0

# Why a pod's deletion started (Life.cause).
CONTROLLER = "controller"  # the StatefulSet controller's scale-down / update / RP-1 logic
BY_OP = "op"  # attributed to a delete_pod / fail_pod op of the harness
SET_DELETION = "set-deletion"  # the set is being deleted or gone: GC (ORD-9, DEL-1)
FAILED = "failed"  # the pod was Failed/Succeeded: RP-1 replacement
FOREIGN = "foreign"  # not controlled by the live set (orphan, old set incarnation)
NODE = "node"  # the node agent deleted it at once (grace 0) against the pod's grace period


def deleted_by_node(obj: Snapshot) -> bool:
    """A deletion with grace 0 of a pod whose spec asks for a grace period was not issued by
    the controller (which uses the pod's own grace period) nor by a harness op: kwok's
    pod-delete stage deletes by name and can hit a pod just recreated under that name."""
    meta = as_dict(obj.get("metadata"))
    grace = meta.get("deletionGracePeriodSeconds")
    wanted = spec_of(obj).get("terminationGracePeriodSeconds")
    return grace == 0 and wanted not in (None, 0)


def force_deleted(action: str, obj: Snapshot) -> bool:
    """A pod that vanished (``DELETED``) without ever being marked for deletion, although it
    was bound to a node, alive and asked for a grace period: deleted with grace 0, which the
    controller never asks for (it deletes with the pod's own grace period; only an unbound or
    finished pod goes at once). Seen on kwok v1.37.2 with scenarios side by side: kwok's
    pod-delete stage, late under load, deleted by name the pod just re-created under the name
    it was meant for (docs/findings.md F-3)."""
    meta = as_dict(obj.get("metadata"))
    spec = spec_of(obj)
    return (action == "DELETED" and meta.get("deletionTimestamp") is None
            and (bool(spec.get("nodeName")) or phase(obj) == "Running")
            and not is_finished(obj)
            and spec.get("terminationGracePeriodSeconds") not in (None, 0))


def as_int(value: Any, default: int = 0) -> int:
    """``int(value)``, or ``default`` for None and anything unparseable (partial histories)."""
    if value is None or isinstance(value, bool):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def spec_of(obj: Snapshot) -> dict[str, Any]:
    return as_dict(obj.get("spec"))


def status_of(obj: Snapshot) -> dict[str, Any]:
    return as_dict(obj.get("status"))


def annotations_of(obj: Snapshot) -> dict[str, str]:
    return dict(meta(obj).get("annotations") or {})


def is_held(pod: Snapshot) -> bool:
    """True if the harness holds this pod NotReady (annotation, or label, ``sts-props.io/hold``)."""
    labels = meta(pod).get("labels") or {}
    return HOLD_KEY in annotations_of(pod) or HOLD_KEY in labels


def is_finished(pod: Snapshot) -> bool:
    """PR-6: Failed or Succeeded."""
    return phase(pod) in ("Failed", "Succeeded")


@dataclass(frozen=True)
class Spec:
    """The parts of a StatefulSet spec the checks read, with apps/v1 defaults (VAL-1..VAL-3).

    >>> s = Spec.of({"metadata": {"generation": 2},
    ...              "spec": {"replicas": 3, "ordinals": {"start": 5},
    ...                       "updateStrategy": {"type": "RollingUpdate",
    ...                                          "rollingUpdate": {"partition": 1}}}})
    >>> (s.start, s.end, s.in_range(7), s.in_range(8), s.update_floor, s.generation)
    (5, 8, True, False, 6, 2)
    """

    generation: int = 0
    replicas: int = 1
    start: int = 0
    policy: str = "OrderedReady"
    strategy: str = "RollingUpdate"
    has_block: bool = False
    partition: int = 0
    max_unavailable: int | str | None = None
    min_ready_seconds: int = 0
    templates: tuple[str, ...] = ()
    template_key: str = ""
    service_name: str = ""
    when_deleted: str = "Retain"
    when_scaled: str = "Retain"
    revision_history_limit: int = 10
    match_labels: tuple[tuple[str, str], ...] = ()

    @staticmethod
    def of(set_obj: Snapshot) -> Spec:
        spec = spec_of(set_obj)
        strategy = as_dict(spec.get("updateStrategy"))
        block = strategy.get("rollingUpdate")
        retention = as_dict(spec.get("persistentVolumeClaimRetentionPolicy"))
        templates: list[str] = []
        for tmpl in spec.get("volumeClaimTemplates") or []:
            # Names as strings (the snapshot format); tolerate full template objects too.
            tname = tmpl if isinstance(tmpl, str) else str(meta(as_dict(tmpl)).get("name", ""))
            if tname:
                templates.append(tname)
        selector = as_dict(as_dict(spec.get("selector")).get("matchLabels"))
        mu = as_dict(block).get("maxUnavailable")
        return Spec(
            generation=as_int(meta(set_obj).get("generation"), 0),
            replicas=as_int(spec.get("replicas"), 1),
            start=as_int(as_dict(spec.get("ordinals")).get("start"), 0),
            policy=str(spec.get("podManagementPolicy") or "OrderedReady"),
            strategy=str(strategy.get("type") or "RollingUpdate"),
            has_block=isinstance(block, dict),
            partition=as_int(as_dict(block).get("partition"), 0),
            max_unavailable=mu if isinstance(mu, int | str) and not isinstance(mu, bool) else None,
            min_ready_seconds=as_int(spec.get("minReadySeconds"), 0),
            templates=tuple(templates),
            template_key=str(spec.get("templateKey") or ""),
            service_name=str(spec.get("serviceName") or ""),
            when_deleted=str(retention.get("whenDeleted") or "Retain"),
            when_scaled=str(retention.get("whenScaled") or "Retain"),
            revision_history_limit=as_int(spec.get("revisionHistoryLimit"), 10),
            match_labels=tuple(sorted((str(k), str(v)) for k, v in selector.items())),
        )

    @property
    def end(self) -> int:
        return self.start + self.replicas

    def in_range(self, ordinal: int) -> bool:
        """ID-2: ``start <= ordinal < start + replicas``."""
        return self.start <= ordinal < self.end

    @property
    def ordered(self) -> bool:
        return self.policy == "OrderedReady"

    @property
    def rolling(self) -> bool:
        return self.strategy == "RollingUpdate"

    @property
    def recreate(self) -> bool:
        """v1.37's alpha Recreate strategy (RCR-1: every pod not at the update revision goes)."""
        return self.strategy == "Recreate"

    @property
    def update_floor(self) -> int:
        """UPD-2: the lowest ordinal the update step may touch (``start + partition``)."""
        return self.start + (self.partition if self.has_block else 0)

    def effective_max_unavailable(self) -> int:
        """UPD-5: maxUnavailable as a pod count (percent of replicas rounded down, at least 1).

        An absent value counts as 1, which is also what the legacy path (gate off) does. An
        unparseable value counts as unbounded so that no check relies on it.
        """
        value = self.max_unavailable
        if value is None:
            return 1
        if isinstance(value, int):
            return max(1, value)
        text = value.strip()
        if text.endswith("%") and text[:-1].isdigit():
            return max(1, self.replicas * int(text[:-1]) // 100)
        if text.isdigit():
            return max(1, int(text))
        return 2**31


@dataclass(frozen=True)
class Obs:
    """One observed snapshot of an object."""

    seq: int
    t: float
    action: str
    obj: Snapshot


@dataclass
class Life:
    """One incarnation of a Pod or PVC name, from its first record to its DELETED record."""

    key: int
    kind: str
    name: str
    uid: str
    ordinal: int | None
    obs: list[Obs] = field(default_factory=list)
    deletion_seq: int | None = None
    gone_seq: int | None = None
    cause: str = ""
    cause_seq: int | None = None
    #: resourceVersion of the record where the deletion started (None: none recorded)
    deletion_rv: int | None = None
    #: the cause had no op been involved (an op's ``writes`` may later undo a timing guess)
    fallback_cause: str = ""

    @property
    def first(self) -> Obs:
        return self.obs[0]

    @property
    def first_seq(self) -> int:
        return self.obs[0].seq

    @property
    def added(self) -> bool:
        """Whether the incarnation was first seen being ADDED (a creation, not a relist gap)."""
        return self.obs[0].action == "ADDED"

    @property
    def created(self) -> float:
        """creationTimestamp, or the first record's time when the snapshot has none."""
        value = meta(self.first.obj).get("creationTimestamp")
        return self.first.t if value is None else created_at(self.first.obj)

    def owner_uid_at_first(self, set_name: str) -> str | None:
        ref = controller_ref(self.first.obj)
        if ref and ref.get("kind") == "StatefulSet" and ref.get("name") == set_name:
            return str(ref.get("uid", ""))
        return None

    def member_since(self, set_name: str, before: int) -> int:
        """The record from which the pod has been controlled by the set, with the same
        revision label, without a break up to record ``before``: its first record, or the
        first one after it was last seen orphaned (relabelled out of the selector, released
        and adopted again: ID-17, ID-18) or after its revision label last changed (only a
        user does that to a live pod, ID-14)."""
        since, orphaned, label = self.first_seq, False, revision_of(self.first.obj)
        for ob in self.obs:
            if ob.seq >= before:
                break
            ref = controller_ref(ob.obj)
            if not (ref and ref.get("kind") == "StatefulSet" and ref.get("name") == set_name):
                orphaned = True
                continue
            if orphaned or revision_of(ob.obj) != label:
                since, orphaned, label = ob.seq, False, revision_of(ob.obj)
        return since

    def last_before(self, seq: int) -> Obs | None:
        found: Obs | None = None
        for ob in self.obs:
            if ob.seq >= seq:
                break
            found = ob
        return found

    def at(self, seq: int) -> Obs | None:
        """The snapshot current at record ``seq`` (inclusive)."""
        return self.last_before(seq + 1)

    def live_at(self, seq: int) -> bool:
        """Known to the history at ``seq``: first seen at or before it and not yet DELETED."""
        return self.first_seq <= seq and (self.gone_seq is None or self.gone_seq > seq)

    def ever_held(self) -> bool:
        return any(is_held(ob.obj) for ob in self.obs)

    def ever_finished(self) -> bool:
        return any(is_finished(ob.obj) for ob in self.obs)


@dataclass(frozen=True)
class Context:
    """What is known about the StatefulSet right after a record."""

    set_obj: Snapshot | None = None
    set_uid: str = ""
    set_live: bool = False
    set_deleting: bool = False
    specs: tuple[Spec, ...] = ()
    previous: Spec | None = None
    status: dict[str, Any] = field(default_factory=dict)
    window: int = 0
    window_seq: int = -1
    last_settle_seq: int = -1
    #: templateKey of the generation named by status.observedGeneration: the template that
    #: status.updateRevision was computed from ("" when unknown).
    observed_template_key: str = ""

    @property
    def current(self) -> Spec | None:
        return self.specs[0] if self.specs else None

    @property
    def managed(self) -> bool:
        """The set exists and is not being deleted: its controller may act (ORD-9)."""
        return self.set_live and not self.set_deleting and bool(self.specs)


def definitely_updated(spec: Spec, life: Life, ctx: Context, seq: int) -> bool:
    """The pod is provably at ``spec``'s update revision at record ``seq``: its revision label
    is the last written ``status.updateRevision``, computed from ``spec``'s template (so
    deleting it is no update step, and it is an updated pod)."""
    snap = life.at(seq)
    rev = revision_of(snap.obj) if snap is not None else ""
    upd = str(ctx.status.get("updateRevision") or "")
    return bool(
        rev
        and rev == upd
        and ctx.observed_template_key
        and ctx.observed_template_key == spec.template_key
    )


@dataclass(frozen=True)
class Step:
    """One object record of a Pod or PVC, with the incarnation it belongs to."""

    event: Event
    life: Life
    prev: Obs | None
    first: bool
    deletion_start: bool


class Timeline:
    """The replayed History. Build once and share between checks; :meth:`extend` it as the
    History grows (records are replayed once, in order, so a longer History costs only its new
    records).

    >>> from sts_props.history import History
    >>> h = History.new(backend="model", set_name="web")
    >>> tl = Timeline(h)
    >>> _ = h.quiescent(after_op=0, settled=True)
    >>> tl.extend(), tl.settle_seqs
    (True, [1])
    """

    def __init__(self, history: History) -> None:
        # Weakly: the checks keep one Timeline per History in a weak-keyed map, whose values
        # must not refer to their keys (the map would keep every History alive for good).
        self._history = weakref.ref(history)
        self.set_name = history.set_name
        #: the History's header record (backend, version, clock granularity)
        self.header: dict[str, Any] = dict(history.header)
        self.granularity = history.clock_granularity
        self.events: list[Event] = []
        self.by_seq: dict[int, Event] = {}
        self.pods: list[Life] = []
        self.pvcs: list[Life] = []
        self.pod_steps: list[Step] = []
        self.pvc_steps: list[Step] = []
        self.duplicates: list[tuple[Life, Life, int]] = []  # (old, new, seq) name reused live
        self.settle_seqs: list[int] = []
        self.fault_seqs: list[int] = []
        #: invoke records of ops that break the watches (WATCH_BREAKING_OPS)
        self.watch_break_seqs: list[int] = []
        self.op_invokes: dict[int, Event] = {}
        #: (uid, rv) of every write an op's result record lists -> the op's index
        self.op_writes: dict[tuple[str, int], int] = {}
        self.set_records: list[tuple[int, str, Snapshot]] = []  # (seq, uid, snapshot)
        #: the parsed spec of each of set_records (parsing a snapshot again costs more than
        #: the checks that ask for it)
        self.set_specs: list[Spec] = []
        #: seq of the pods of the set created (ADDED with its controller ref), in order
        self.creation_seqs: list[int] = []
        self._contexts: list[tuple[int, Context]] = []
        self._ctx_seqs: list[int] = []
        self._pods_by_ordinal: dict[int, list[Life]] = {}
        self._pvcs_by_name: dict[str, list[Life]] = {}
        self._replay = _ReplayState()
        self._context_key: tuple[int, int, int, int, bool] | None = None
        self._context = Context()
        self._push(-1)
        self.extend()

    def extend(self) -> bool:
        """Replay the records appended to the History since the last call.

        False (and nothing replayed) when the History changed other than by appending: the
        records already replayed are no longer its prefix, or a header arrived late (it sets
        the set name every earlier record was read with); build a new Timeline then.
        """
        history = self._history()
        if history is None:  # gone: nothing can have been appended to it
            return True
        events = history.events
        done = len(self.events)
        if len(events) < done or (done and events[done - 1] is not self.events[-1]):
            return False
        new = events[done:]
        if done and any(ev.type == "header" for ev in new):
            return False
        for ev in new:
            self.events.append(ev)
            self.by_seq[ev.seq] = ev
            self._replay_one(ev)
        return True

    # -- queries -----------------------------------------------------------------------------
    def where(self, seq: int | None) -> str:
        """``#12 (t=3s)`` for a record, as messages cite it."""
        if seq is None:
            return "(unknown record)"
        ev = self.by_seq.get(seq)
        return ev.where() if ev is not None else f"#{seq}"

    def context_at(self, seq: int) -> Context:
        """The context right after record ``seq``."""
        i = bisect.bisect_right(self._ctx_seqs, seq) - 1
        return self._contexts[i][1] if i >= 0 else Context()

    def pod_lives(self, ordinal: int) -> list[Life]:
        return self._pods_by_ordinal.get(ordinal, [])

    def written_by(self, seq: int) -> int | None:
        """The index of the op whose own write record ``seq`` is (its uid and resourceVersion
        are among the op's ``writes``), or None.

        >>> from sts_props.history import History
        >>> h = History.new(backend="kwok", set_name="web")
        >>> _ = h.op("invoke", 0, {"op": "fail_pod", "ordinal": 0})
        >>> _ = h.object("MODIFIED", "Pod", "web-0", 7, {"metadata": {"uid": "u"}})
        >>> _ = h.op("ok", 0, {"op": "fail_pod", "ordinal": 0}, writes=[
        ...     {"kind": "Pod", "name": "web-0", "uid": "u", "rv": 7, "verb": "status"}])
        >>> Timeline(h).written_by(2), Timeline(h).written_by(1)
        (0, None)
        """
        ev = self.by_seq.get(seq)
        if ev is None or ev.type != "object":
            return None
        return self.op_writes.get((uid(ev.obj), as_int(ev.data.get("rv"), -1)))

    def latest_pod(self, ordinal: int, before_seq: int) -> Life | None:
        """The newest incarnation of ``<set>-<ordinal>`` first seen before ``before_seq``."""
        found: Life | None = None
        for life in self._pods_by_ordinal.get(ordinal, []):
            if life.first_seq < before_seq:
                found = life
        return found

    def pvc_lives(self, name: str) -> list[Life]:
        return self._pvcs_by_name.get(name, [])

    def prev_settle(self, seq: int) -> int:
        i = bisect.bisect_left(self.settle_seqs, seq) - 1
        return self.settle_seqs[i] if i >= 0 else -1

    def next_settle(self, seq: int) -> int:
        i = bisect.bisect_right(self.settle_seqs, seq)
        return self.settle_seqs[i] if i < len(self.settle_seqs) else len(self.events) + 1

    def faults_between(self, lo: int, hi: int) -> list[int]:
        """Invoke records of fault ops with ``lo < seq < hi``."""
        return [s for s in self.fault_seqs if lo < s < hi]

    def in_record_order(self, seq: int) -> bool:
        """Is the History's order around ``seq`` the cluster's? A cluster History is ordered
        by resourceVersion (etcd's revision, one order across kinds) unless an op that broke
        the watches was invoked since the settle before ``seq`` (then a relist may record an
        object late). The model's History is always in its own order."""
        lo = self.prev_settle(seq)
        return not any(lo < s < self.next_settle(seq) for s in self.watch_break_seqs)

    def creations_between(self, lo: int, hi: int) -> int:
        """How many pods of the set were created (ADDED) with ``lo < seq < hi``."""
        return bisect.bisect_left(self.creation_seqs, hi) - bisect.bisect_right(
            self.creation_seqs, lo
        )

    def owned_by_live_set(self, obj: Snapshot, ctx: Context) -> bool:
        ref = controller_ref(obj)
        return bool(
            ref
            and ref.get("kind") == "StatefulSet"
            and ctx.set_live
            and str(ref.get("uid", "")) == ctx.set_uid
        )

    def controlled_by_set_name(self, obj: Snapshot) -> bool:
        ref = controller_ref(obj)
        return bool(ref and ref.get("kind") == "StatefulSet" and ref.get("name") == self.set_name)

    def healthy_witness(
        self, ordinal: int, before_seq: int, bound: float, min_ready: int,
        slack: float | None = None, lag: bool = True,
    ) -> tuple[Life | None, Obs | None]:
        """Evidence that ordinal's newest pod was Running+Ready+available before ``bound``.

        Looks at the newest incarnation first seen before ``before_seq`` (the one a controller
        cache could have shown; an older one cannot be in a cache that already saw the newer
        one created). Evidence is either a snapshot recorded before ``before_seq`` that shows it
        Running+Ready with ``readySince + minReadySeconds <= bound + slack`` (``slack`` is the
        clock granularity unless given: ``bound`` may be a truncated timestamp), or, for
        cluster histories (granularity > 0), any later snapshot whose ``readySince`` proves the
        same by timestamps (CHK-3's timestamp form, which also survives a watch relist that
        dropped intermediate states).
        ``lag=False`` leaves out the informer-lag fallback below (for actions that a cache still
        holding the previous incarnation could not have led to).
        Returns ``(incarnation or None, the witnessing snapshot or None)``.
        """
        limit = bound + (self.granularity if slack is None else slack)
        life = self.latest_pod(ordinal, before_seq)
        if life is None:
            return None, None
        found = self._witness_in(life, before_seq, limit, min_ready)
        if found is not None or self.granularity <= 0 or not lag:
            return life, found
        # Informer lag (kubernetes#41889): if the newest incarnation was first recorded less
        # than INFORMER_LAG before the action, the controller's cache may still have held the
        # previous one; a healthy, not yet terminating snapshot of it is evidence too.
        lives = self._pods_by_ordinal.get(ordinal, [])
        i = lives.index(life)
        if i > 0 and life.obs and life.obs[0].t >= bound - INFORMER_LAG:
            older = lives[i - 1]
            for ob in older.obs:
                if ob.seq < before_seq and not is_terminating(ob.obj):
                    since = ready_since(ob.obj)
                    if is_running_ready(ob.obj) and (
                        since is None or min_ready <= 0
                        or since + min_ready <= limit
                    ):
                        return life, ob
        return life, None

    def _witness_in(self, life: Life, before_seq: int, limit: float,
                    min_ready: int) -> Obs | None:
        """A snapshot of ``life`` proving it Running+Ready+available by ``limit``, or None."""
        for ob in life.obs:
            if not is_running_ready(ob.obj):
                continue
            since = ready_since(ob.obj)
            if ob.seq < before_seq:
                if since is None or min_ready <= 0 or since + min_ready <= limit:
                    return ob
            elif self.granularity > 0 and since is not None and since + min_ready <= limit:
                # Timestamps only where records may be missing (a cluster watch can relist);
                # the model's history is exact, and its clock may not move at all.
                return ob
        return None

    # -- replay ------------------------------------------------------------------------------
    def _context_now(self) -> Context:
        r = self._replay
        pending = r.delete_set_pending is not None
        key = (r.set.version, r.window, r.window_seq, r.last_settle, pending)
        if key != self._context_key:  # most records change none of it: reuse the context
            self._context_key = key
            self._context = r.set.context(r.window, r.window_seq, r.last_settle, pending)
        return self._context

    def _push(self, seq: int) -> None:
        ctx = self._context_now()
        if self._contexts and (self._contexts[-1][1] is ctx or self._contexts[-1][1] == ctx):
            return
        self._contexts.append((seq, ctx))
        self._ctx_seqs.append(seq)

    def _cause_of(self, life: Life, ob: Obs, prev: Obs | None) -> tuple[str, int | None]:
        r = self._replay
        ctx = self._context_now()
        source = prev.obj if prev is not None else ob.obj
        if not (self.owned_by_live_set(source, ctx) or self.owned_by_live_set(ob.obj, ctx)):
            return FOREIGN, None
        if ctx.set_deleting:
            return SET_DELETION, r.delete_set_pending
        op = self._deleting_op(life)
        if op is not None:
            return BY_OP, op
        if prev is not None and deleted_by_node(ob.obj) and not deleted_by_node(prev.obj) \
                and as_dict(prev.obj.get("metadata")).get("deletionTimestamp") is None:
            return NODE, None
        if force_deleted(ob.action, ob.obj) or self._swept_namesake(life, ob):
            return NODE, None
        life.fallback_cause = FAILED if is_finished(ob.obj) or (
            prev is not None and is_finished(prev.obj)) else CONTROLLER
        if life.ordinal is not None and r.pending.get(life.ordinal):
            # timing: an op whose result (with its writes) has not been replayed, or has none
            index, seq = r.pending[life.ordinal].pop(0)
            r.guessed.setdefault(index, []).append(life)
            return BY_OP, seq
        return life.fallback_cause, None

    def _swept_namesake(self, life: Life, ob: Obs) -> bool:
        """``life`` vanished at once (no deletionTimestamp ever) within
        :data:`NAMESAKE_WINDOW` of the node agent's grace-0 removal of the pod it replaced:
        kwok's pod-delete stage, deleting by name a second time, hit it; unbound, the apiserver
        removes it at once, so :func:`force_deleted` cannot tell by the pod alone (F-3)."""
        if ob.action != "DELETED" or life.ordinal is None \
                or as_dict(ob.obj.get("metadata")).get("deletionTimestamp") is not None:
            return False
        lives = self._pods_by_ordinal.get(life.ordinal, [])
        i = next((k for k, other in enumerate(lives) if other is life), 0)
        if i == 0 or not lives[i - 1].obs:
            return False
        last = lives[i - 1].obs[-1]
        return last.action == "DELETED" and deleted_by_node(last.obj) \
            and ob.t - last.t <= NAMESAKE_WINDOW

    def _deleting_op(self, life: Life) -> int | None:
        """Invoke seq of the op whose own writes deleted ``life`` (see the module docstring)."""
        for _index, seq, rv, since in self._replay.op_deletes.get(life.uid, ()):
            if _started_by(life.deletion_rv, rv, since):
                return seq
        return None

    def _op_writes(self, ev: Event, index: int, writes: list[Any]) -> None:
        """An op's result with its ``writes``: its identity replaces the timing guess."""
        r = self._replay
        invoke = self.op_invokes.get(index)
        seq = invoke.seq if invoke is not None else ev.seq
        for queue in r.pending.values():
            queue[:] = [(i, s) for i, s in queue if i != index]
        deleted: set[str] = set()
        for w in writes:
            w = as_dict(w)
            wuid, rv = str(w.get("uid") or ""), w.get("rv")
            if not wuid:
                continue
            if isinstance(rv, int):
                self.op_writes[(wuid, rv)] = index
            if w.get("verb") == "delete":
                since = as_int(w.get("since"), -1)
                r.op_deletes.setdefault(wuid, []).append(
                    (index, seq, rv if isinstance(rv, int) else None, since))
                deleted.add(wuid)
        for life in r.guessed.pop(index, []):  # confirmed, or wrong: not a uid it deleted
            op = self._deleting_op(life)
            life.cause, life.cause_seq = (BY_OP, op) if op is not None else (
                life.fallback_cause, None)
        for wuid in deleted:  # its deletion came before the result: attribute it now
            for life in r.pods_by_uid.get(wuid, ()):
                if life.deletion_seq is not None and life.cause in (CONTROLLER, FAILED, NODE) \
                        and self._deleting_op(life) is not None:
                    life.cause, life.cause_seq = BY_OP, self._deleting_op(life)

    def _replay_one(self, ev: Event) -> None:
        r = self._replay
        if ev.type == "op":
            op = as_dict(ev.data.get("op"))
            kind = str(op.get("op", ""))
            index = as_int(ev.data.get("index"), -1)
            if ev.phase == "invoke":
                self.op_invokes[index] = ev
                if kind in DISTURBING_OPS:
                    self.fault_seqs.append(ev.seq)
                if kind in WATCH_BREAKING_OPS:
                    self.watch_break_seqs.append(ev.seq)
                if kind in POD_DELETING_OPS and isinstance(op.get("ordinal"), int):
                    r.pending.setdefault(int(op["ordinal"]), []).append((index, ev.seq))
                    for other in op.get("colocated") or ():  # fail_node: the node's pods
                        if isinstance(other, int):
                            r.pending.setdefault(other, []).append((index, ev.seq))
                if kind == "delete_set":
                    r.delete_set_pending = index
                if kind in ROLLOUT_OPS:
                    r.window, r.window_seq = r.window + 1, ev.seq
            else:
                if ev.phase == "fail":
                    # A rejected op changed nothing: forget what it was expected to cause.
                    for queue in r.pending.values():
                        queue[:] = [(i, s) for i, s in queue if i != index]
                    if r.delete_set_pending == index:
                        r.delete_set_pending = None
                writes = ev.data.get("writes")
                if isinstance(writes, list):
                    self._op_writes(ev, index, writes)
            self._push(ev.seq)
        elif ev.type == "quiescent":
            if ev.data.get("settled"):
                self.settle_seqs.append(ev.seq)
                r.last_settle = ev.seq
                # Everything an earlier op caused has been observed by now.
                r.pending.clear()
            self._push(ev.seq)
        elif ev.type == "object" and ev.kind == "StatefulSet" and ev.name == self.set_name:
            new_uid = uid(ev.obj)
            if ev.action == "DELETED":
                r.set.deleted()
            else:
                if r.set.update(ev.obj):
                    r.window, r.window_seq = r.window + 1, ev.seq
                if r.set.fresh:
                    r.delete_set_pending = None
                self.set_records.append((ev.seq, new_uid, ev.obj))
                self.set_specs.append(r.set.spec)
            self._push(ev.seq)
        elif ev.type == "object" and ev.kind in ("Pod", "PersistentVolumeClaim"):
            self._replay_member(ev)

    def _replay_member(self, ev: Event) -> None:
        """One Pod or PVC record: find or start its incarnation, note a deletion's start."""
        r = self._replay
        is_pod = ev.kind == "Pod"
        live = r.live_pods if is_pod else r.live_pvcs
        life = live.get(ev.name)
        obj = ev.obj
        new_uid = uid(obj)
        fresh = life is None or bool(new_uid and life.uid and new_uid != life.uid)
        if fresh:
            if life is not None:
                # The name came back with another uid without a DELETED in between.
                life.gone_seq = ev.seq
                new_life = self._new_life(r.keys, ev, is_pod)
                if is_pod:
                    self.duplicates.append((life, new_life, ev.seq))
                life = new_life
            else:
                life = self._new_life(r.keys, ev, is_pod)
            r.keys += 1
            live[ev.name] = life
        assert life is not None
        prev = life.obs[-1] if life.obs else None
        ob = Obs(ev.seq, ev.t, ev.action, obj if obj else (prev.obj if prev else {}))
        life.obs.append(ob)
        if fresh and is_pod and life.added and life.owner_uid_at_first(self.set_name):
            self.creation_seqs.append(ev.seq)
        started = False
        if life.deletion_seq is None and (ev.action == "DELETED" or is_terminating(obj)):
            life.deletion_seq = ev.seq
            rv = ev.data.get("rv")
            life.deletion_rv = rv if isinstance(rv, int) and not isinstance(rv, bool) else None
            started = True
            if is_pod:
                life.cause, life.cause_seq = self._cause_of(life, ob, prev)
        if ev.action == "DELETED":
            life.gone_seq = ev.seq
            live.pop(ev.name, None)
        step = Step(ev, life, prev, fresh, started)
        (self.pod_steps if is_pod else self.pvc_steps).append(step)

    def _new_life(self, key: int, ev: Event, is_pod: bool) -> Life:
        ordinal = ordinal_of(ev.name, self.set_name) if is_pod else None
        life = Life(key, ev.kind, ev.name, uid(ev.obj), ordinal)
        if is_pod:
            self.pods.append(life)
            if life.uid:
                self._replay.pods_by_uid.setdefault(life.uid, []).append(life)
            if ordinal is not None:
                self._pods_by_ordinal.setdefault(ordinal, []).append(life)
        else:
            self.pvcs.append(life)
            self._pvcs_by_name.setdefault(ev.name, []).append(life)
        return life


def _started_by(deletion_rv: int | None, rv: int | None, since: int) -> bool:
    """Did a delete with resourceVersion ``rv`` (or, with none, made after ``since``) start the
    deletion first recorded at ``deletion_rv``? A delete that found the pod terminating
    already came after that record and did not; an unknown record rv cannot be compared.

    >>> _started_by(12, 12, -1), _started_by(14, 12, -1), _started_by(12, 14, -1)
    (True, True, False)
    >>> _started_by(12, None, 10), _started_by(9, None, 10), _started_by(None, 3, -1)
    (True, False, True)
    """
    if deletion_rv is None:
        return True
    if rv is not None:
        return rv <= deletion_rv
    return deletion_rv > since


@dataclass
class _ReplayState:
    """What the replay carries from one record to the next (besides the Timeline's lists)."""

    set: _SetState = field(default_factory=lambda: _SetState())
    live_pods: dict[str, Life] = field(default_factory=dict)
    live_pvcs: dict[str, Life] = field(default_factory=dict)
    #: ordinal -> [(op index, invoke seq)] of delete_pod/fail_pod ops not yet matched, for ops
    #: whose own writes are not known (yet): attribution by timing
    pending: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    #: op index -> pods whose deletion a timing guess gave to that op (until its writes come)
    guessed: dict[int, list[Life]] = field(default_factory=dict)
    #: pod uid -> [(op index, invoke seq, rv or None, since)] of the ops' own deletions
    op_deletes: dict[str, list[tuple[int, int, int | None, int]]] = field(default_factory=dict)
    #: pod uid -> its incarnations (one, unless a History reuses a uid)
    pods_by_uid: dict[str, list[Life]] = field(default_factory=dict)
    #: op index of a delete_set in flight
    delete_set_pending: int | None = None
    window: int = 0
    window_seq: int = -1
    last_settle: int = -1
    keys: int = 0


class _SetState:
    """The StatefulSet as replayed so far (one name; a new uid is a new incarnation)."""

    def __init__(self) -> None:
        self.obj: Snapshot | None = None
        self.uid = ""
        self.live = False
        self.specs: dict[int, Spec] = {}
        #: the spec of the last snapshot applied
        self.spec = Spec()
        self.generation = 0
        self.observed = 0
        self.status: dict[str, Any] = {}
        self.fresh = False
        #: bumped by every update or deletion: equal versions give equal contexts
        self.version = 0

    def update(self, obj: Snapshot) -> bool:
        """Apply a set snapshot; True when the template changed (a new rollout window)."""
        new_uid = uid(obj)
        self.fresh = not self.live or (bool(new_uid) and new_uid != self.uid)
        old_key = (
            self.specs[self.generation].template_key if self.specs and not self.fresh else None
        )
        if self.fresh:
            self.specs = {}
            self.observed = 0
        self.version += 1
        previous = self.obj
        if (
            self.specs
            and not self.fresh
            and previous is not None
            and previous.get("spec") == obj.get("spec")
            and meta(previous).get("generation") == meta(obj).get("generation")
        ):
            # Most set records only change the status: the parsed spec is the same.
            spec = self.specs[self.generation]
        else:
            spec = Spec.of(obj)
        gen = spec.generation or (max(self.specs) + 1 if self.specs else 1)
        self.specs[gen] = spec
        self.spec = spec
        self.generation = gen
        self.obj, self.uid, self.live = obj, new_uid, True
        self.status = status_of(obj)
        self.observed = max(self.observed, as_int(self.status.get("observedGeneration"), 0))
        return self.fresh or (old_key is not None and old_key != spec.template_key)

    def deleted(self) -> None:
        self.version += 1
        self.live = False
        self.fresh = False

    def context(self, window: int, window_seq: int, settle: int, delete_pending: bool) -> Context:
        if not self.specs:
            return Context(window=window, window_seq=window_seq, last_settle_seq=settle)
        cur = self.generation
        lo = self.observed if 1 <= self.observed <= cur else min(self.specs)
        if self.observed > cur:
            lo = cur
        gens = sorted((g for g in self.specs if lo <= g <= cur), reverse=True)
        specs = tuple(self.specs[g] for g in gens) or (self.specs[cur],)
        prev_gens = [g for g in self.specs if g < cur]
        previous = self.specs[max(prev_gens)] if prev_gens else None
        deleting = (
            self.obj is not None and is_terminating(self.obj)
        ) or delete_pending or not self.live
        observed = self.specs.get(self.observed)
        return Context(
            set_obj=self.obj,
            set_uid=self.uid,
            set_live=self.live,
            set_deleting=deleting,
            specs=specs,
            previous=previous,
            status=dict(self.status),
            window=window,
            window_seq=window_seq,
            last_settle_seq=settle,
            observed_template_key=observed.template_key if observed is not None else "",
        )
