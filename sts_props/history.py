"""History: a totally ordered log of op invocations/results and object events.

The model and every cluster backend write the same format, and every check reads only this, so a
check runs alike on a model run, on a cluster run, and offline on a saved ``history.jsonl``.

Records (one JSON object per line):

* ``header``: backend, Kubernetes version, set name, namespace, clock granularity in seconds
  (0 for the model; 1 for a cluster, whose timestamps have whole-second resolution).
* ``op``: ``phase`` is ``invoke`` then ``ok`` / ``fail`` / ``info`` (info = indeterminate, e.g. a
  timeout), with the op, its index in the scenario and its :class:`~sts_props.outcome.Outcome`.
* ``object``: ``ADDED`` / ``MODIFIED`` / ``DELETED`` of a Pod, PersistentVolumeClaim, StatefulSet,
  ControllerRevision or EndpointSlice, with the resourceVersion and a *normalised snapshot*
  (see :mod:`sts_props.snapshot`).
* ``quiescent``: a settle finished; ``settled`` says whether quiescence was reached, ``reason``
  says what was still moving if not.
* ``crash`` (clusters only): a control-plane component exited by itself and the harness restarted
  it (the fields of :meth:`sts_props.cluster.base.Crash.record`, plus ``opIndex``, the last op
  invoked, and ``found``, where the run was); the ``CRASH`` check reads them.

An op's result record may list the op's own ``writes`` (kind, name, uid, resourceVersion
``rv`` and ``verb`` of each object its API calls changed; ``rv`` null with a lower bound
``since`` when the call did not answer with the object): the checks attribute what those
writes did to the op whatever the order of the records. Histories without it (older files)
are attributed by timing.

Times ``t`` are seconds since the start of the run (model time for the model).

>>> h = History.new(backend="model", set_name="web")
>>> _ = h.op("invoke", 0, {"op": "create"})
>>> [e.type for e in h.events]
['header', 'op']
>>> History.from_jsonl(h.to_jsonl()).events == h.events
True
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

EventType = Literal["header", "op", "object", "quiescent", "crash"]
OBJECT_KINDS = (
    "Pod", "PersistentVolumeClaim", "StatefulSet", "ControllerRevision", "EndpointSlice",
)


@dataclass(frozen=True)
class Event:
    """One history record; ``data`` holds the type-specific fields."""

    seq: int
    t: float
    type: EventType
    data: dict[str, Any] = field(default_factory=dict, compare=True, hash=False)

    # Convenience accessors keep checks short and readable.
    @property
    def kind(self) -> str:
        return str(self.data.get("kind", ""))

    @property
    def action(self) -> str:
        return str(self.data.get("action", ""))

    @property
    def name(self) -> str:
        return str(self.data.get("name", ""))

    @property
    def obj(self) -> dict[str, Any]:
        value = self.data.get("obj")
        return value if isinstance(value, dict) else {}

    @property
    def phase(self) -> str:
        return str(self.data.get("phase", ""))

    def to_json(self) -> str:
        return json.dumps({"seq": self.seq, "t": self.t, "type": self.type, **self.data},
                          sort_keys=True)

    @staticmethod
    def from_json(line: str) -> Event:
        raw = json.loads(line)
        seq, t, typ = raw.pop("seq"), raw.pop("t"), raw.pop("type")
        return Event(int(seq), float(t), typ, raw)

    def where(self) -> str:
        """How a violation message points at this record: ``#12 (t=3.0s)``."""
        return f"#{self.seq} (t={self.t:g}s)"


State = dict[str, dict[str, dict[str, Any]]]


def empty_state() -> State:
    """``{kind: {}}`` for every object kind: the live objects before the first record."""
    return {k: {} for k in OBJECT_KINDS}


def apply_record(state: State, ev: Event) -> None:
    """Bring ``state`` (``{kind: {name: snapshot}}``) up to date with one record.

    What :meth:`History.state_at` does record by record; checks that walk a History once keep
    such a state instead of rebuilding it at every point.

    >>> state = empty_state()
    >>> apply_record(state, Event(1, 0.0, "object", {"action": "ADDED", "kind": "Pod",
    ...                                              "name": "web-0", "obj": {"a": 1}}))
    >>> state["Pod"]
    {'web-0': {'a': 1}}
    """
    if ev.type != "object":
        return
    bucket = state.setdefault(ev.kind, {})
    if ev.action == "DELETED":
        bucket.pop(ev.name, None)
    else:
        bucket[ev.name] = ev.obj


class StateWalk:
    """The live objects of one History at records visited in order, from one pass over it.

    :meth:`History.state_at` replays the History from its start at every call; a caller that
    visits many records in increasing order (every quiescent point, say) keeps a walk instead,
    which applies each record once. The states it hands out are shared: read them, do not
    change them.

    >>> h = History.new(backend="model", set_name="web")
    >>> a = h.object("ADDED", "Pod", "web-0", 1, {"v": 1})
    >>> b = h.object("DELETED", "Pod", "web-0", 2, {"v": 1})
    >>> walk = StateWalk(h)
    >>> walk.state(a.seq)["Pod"], walk.state(b.seq)["Pod"], walk.state(a.seq)["Pod"]
    ({'web-0': {'v': 1}}, {}, {'web-0': {'v': 1}})
    >>> sorted(walk.recorded(b.seq))
    ['Pod']
    """

    #: states handed out most recently, kept for a caller that asks again (a previous point)
    KEEP = 4

    def __init__(self, history: History) -> None:
        self.history = history
        #: position in ``history.events`` of each record's seq
        self.position = {ev.seq: i for i, ev in enumerate(history.events)}
        self._live = empty_state()
        self._next = 0  # position of the next record to apply to _live
        self._first: dict[str, int] = {}  # kind -> position of its first object record
        self._kept: dict[int, State] = {}

    def _advance(self, to: int) -> None:
        events = self.history.events
        while self._next <= to:
            ev = events[self._next]
            if ev.type == "object":
                self._first.setdefault(ev.kind, self._next)
                apply_record(self._live, ev)
            self._next += 1

    def state(self, seq: int) -> State:
        """Live objects right after record ``seq`` (a record before the last one applied,
        not kept, is replayed from the start)."""
        i = self.position[seq]
        kept = self._kept.get(i)
        if kept is not None:
            return kept
        if i < self._next - 1:
            return self.history.state_at(i)
        self._advance(i)
        state = {kind: dict(objects) for kind, objects in self._live.items()}
        if len(self._kept) >= self.KEEP:
            del self._kept[next(iter(self._kept))]
        self._kept[i] = state
        return state

    def recorded(self, seq: int) -> set[str]:
        """The kinds with an object record at or before record ``seq``."""
        i = self.position[seq]
        self._advance(i)
        return {kind for kind, first in self._first.items() if first <= i}


class History:
    """An append-only, totally ordered list of :class:`Event`."""

    def __init__(self, events: list[Event] | None = None) -> None:
        self.events: list[Event] = events or []

    @staticmethod
    def new(backend: str, set_name: str, namespace: str = "default",
            k8s_version: str = "", clock_granularity: float = 0.0,
            **extra: Any) -> History:
        h = History()
        h.append("header", 0.0, backend=backend, setName=set_name, namespace=namespace,
                 k8sVersion=k8s_version, clockGranularity=clock_granularity, **extra)
        return h

    # -- writing ------------------------------------------------------------------------------
    def append(self, type_: EventType, t: float, **data: Any) -> Event:
        ev = Event(len(self.events), t, type_, data)
        self.events.append(ev)
        return ev

    def op(self, phase: str, index: int, op: dict[str, Any], t: float = 0.0,
           outcome: dict[str, Any] | None = None,
           writes: list[dict[str, Any]] | None = None) -> Event:
        data: dict[str, Any] = {"phase": phase, "index": index, "op": op}
        if outcome is not None:
            data["outcome"] = outcome
        if writes is not None:
            data["writes"] = writes
        return self.append("op", t, **data)

    def object(self, action: str, kind: str, name: str, rv: int, obj: dict[str, Any],
               t: float = 0.0) -> Event:
        return self.append("object", t, action=action, kind=kind, name=name, rv=rv, obj=obj)

    def quiescent(self, after_op: int, settled: bool, reason: str = "", t: float = 0.0,
                  **extra: Any) -> Event:
        return self.append("quiescent", t, afterOp=after_op, settled=settled, reason=reason,
                           **extra)

    # -- reading ------------------------------------------------------------------------------
    @property
    def header(self) -> dict[str, Any]:
        for ev in self.events:
            if ev.type == "header":
                return ev.data
        return {}

    @property
    def set_name(self) -> str:
        return str(self.header.get("setName", ""))

    @property
    def clock_granularity(self) -> float:
        return float(self.header.get("clockGranularity", 0.0))

    def objects(self, kind: str | None = None) -> Iterator[Event]:
        for ev in self.events:
            if ev.type == "object" and (kind is None or ev.kind == kind):
                yield ev

    def ops(self) -> Iterator[Event]:
        return (ev for ev in self.events if ev.type == "op")

    def quiescent_points(self) -> Iterator[Event]:
        return (ev for ev in self.events if ev.type == "quiescent")

    def state_at(self, seq: int) -> State:
        """Live objects after record ``seq``: ``{kind: {name: snapshot}}``."""
        state = empty_state()
        for ev in self.events[: seq + 1]:
            apply_record(state, ev)
        return state

    # -- files --------------------------------------------------------------------------------
    def to_jsonl(self) -> str:
        return "".join(ev.to_json() + "\n" for ev in self.events)

    @staticmethod
    def from_jsonl(text: str) -> History:
        return History([Event.from_json(line) for line in text.splitlines() if line.strip()])

    def save(self, path: Path) -> None:
        path.write_text(self.to_jsonl(), encoding="utf-8")

    @staticmethod
    def load(path: Path) -> History:
        return History.from_jsonl(path.read_text(encoding="utf-8"))

    def __len__(self) -> int:
        return len(self.events)
