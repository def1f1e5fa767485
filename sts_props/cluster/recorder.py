"""Record a namespace's object events from watches into a History ordered by resourceVersion.

One thread per kind runs list-then-watch with raw JSON (no client-side deserialisation); events
go into a queue; :meth:`Recorder.pump` moves them into the live state and the record list and
wakes anybody waiting. The History is rebuilt on demand, sorted by resourceVersion (etcd's global
revision, so the order across kinds is the apiserver's order); op records are placed at the
resourceVersion the apiserver returned for them.

A broken watch is resumed from its last resourceVersion after a backoff; when the apiserver
answers 410 Gone (its watch cache starts afresh after a restart) the kind is listed again and the
relist is reconciled with the live state: changed objects become MODIFIED events at their own
resourceVersion, an object replaced by a namesake (another uid) becomes DELETED then ADDED, and
an object missing from the list becomes DELETED at the list's resourceVersion. Intermediate
states during the gap are lost, but the History stays consistent with the cluster. Failures are
errors (they fail :meth:`ClusterRun.wait_until`) unless they fall in a planned outage announced
by :meth:`Recorder.expect_outage` (the ``RestartApiserver`` fault).

Usage (inside :class:`sts_props.cluster.driver.ClusterRun`)::

    rec = Recorder(api_client, "sts-props-1a2b", t0=time.time(), header={...})
    rec.start()                    # returns once every watch has listed
    rec.pump(wait=1.0)             # apply what arrived
    rec.expect_outage(time.monotonic() + 60)   # watch failures until then are not errors
    history = rec.history()
    rec.stop()
"""

from __future__ import annotations

import contextlib
import json
import queue
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

from sts_props.cluster import rawhttp
from sts_props.cluster.trim import trim
from sts_props.history import History
from sts_props.snapshot import controller_ref

#: (kind, API group path, plural). Core kinds use "/api/v1".
KINDS: tuple[tuple[str, str, str], ...] = (
    ("Pod", "/api/v1", "pods"),
    ("PersistentVolumeClaim", "/api/v1", "persistentvolumeclaims"),
    ("StatefulSet", "/apis/apps/v1", "statefulsets"),
    ("ControllerRevision", "/apis/apps/v1", "controllerrevisions"),
    ("EndpointSlice", "/apis/discovery.k8s.io/v1", "endpointslices"),
)
#: backoff between attempts to re-watch a broken stream: doubles from the first to the last
BACKOFF = (0.1, 2.0)
#: seconds :meth:`Recorder.stop` waits for its watch threads, all together
STOP_WAIT = 1.0
#: queue entry type of a relist's end: data ``{"rv": list rv, "names": [...]}``
_SYNC = "SYNC"


def _shut(resp: Any) -> None:
    """Unblock a thread reading ``resp``: shut its socket down (closing a dead stream is
    fine)."""
    with contextlib.suppress(Exception):
        resp.shutdown()
        return
    with contextlib.suppress(Exception):
        resp.connection.sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(Exception):
        resp.release_conn()


class _HTTPStatus(Exception):
    """A list or watch answered with a status other than 200 (410 Gone, 503 while starting)."""

    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(f"HTTP {status}: {body[:200].decode('utf-8', 'replace')}")
        self.status = status


@dataclass
class _Record:
    rv: int
    order: int  # 1 = object event, 2 = op or quiescent record (after objects of its rv)
    t: float
    type: str
    data: dict[str, Any]


class Recorder:
    """Watches one namespace; keeps the live snapshots and every event."""

    def __init__(self, api_client: Any, namespace: str, t0: float, header: dict[str, Any]) -> None:
        self.api = api_client
        self.namespace = namespace
        self.t0 = t0  # epoch seconds of the run's start (server timestamps are relative to it)
        self.started = time.monotonic()
        self.header = header
        self.records: list[_Record] = []
        self.live: dict[str, dict[str, dict[str, Any]]] = {k: {} for k, _, _ in KINDS}
        self._rvs: dict[tuple[str, str], int] = {}
        self._uids: dict[tuple[str, str], str] = {}
        self.max_rv = 0
        #: per kind, the newest resourceVersion its watch has delivered (a watch delivers in
        #: resourceVersion order, so every write of that kind up to it has been seen)
        self.kind_rv: dict[str, int] = {}
        self.last_event = "nothing yet"
        self.last_event_at = time.monotonic()
        #: when a deletion that queues no sync of the set was last recorded: of a pod with no
        #: controller (an orphan; docs/findings.md F-6) or of a ControllerRevision (the
        #: controller has no handler on its revision informer); see ClusterRun's waits
        self.silent_deletion_at: float | None = None
        self._queue: queue.Queue[tuple[str, str, dict[str, Any]]] = queue.Queue()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._responses: list[Any] = []
        self._lock = threading.Lock()
        self._pool = rawhttp.pool_for(api_client)
        self.errors: list[str] = []
        #: watch failures inside a planned outage (not errors), and relists after them
        self.outage_failures: list[str] = []
        self.relists = 0
        self._outage_until = 0.0

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        ready = threading.Barrier(len(KINDS) + 1, timeout=30)
        for kind, group, plural in KINDS:
            t = threading.Thread(target=self._watch, args=(kind, group, plural, ready),
                                 name=f"watch-{plural}", daemon=True)
            t.start()
            self._threads.append(t)
        ready.wait()  # every watch has listed, so nothing done from now on is missed

    def stop(self) -> None:
        """End the watches. Their threads are daemons: one still blocked in a read (its
        stream could not be shut down) ends with the read's timeout or the apiserver, and is
        not waited for beyond :data:`STOP_WAIT` in all, so an interrupted run stops at once."""
        self._stop.set()
        with self._lock:
            for resp in self._responses:
                _shut(resp)
        deadline = time.monotonic() + STOP_WAIT
        for t in self._threads:
            t.join(timeout=max(0.0, deadline - time.monotonic()))

    def expect_outage(self, until: float) -> None:
        """Watch failures before ``until`` (``time.monotonic()``) are a planned outage, not
        errors: the watches keep reconnecting with backoff and relist when they must. Call it
        again with the end of the outage plus a grace (the driver does, see
        :meth:`sts_props.cluster.driver.ClusterRun.planned_outage`)."""
        self._outage_until = until

    def _in_outage(self) -> bool:
        return time.monotonic() < self._outage_until

    def _request(self, path: str, query: list[tuple[str, Any]], stream: bool) -> Any:
        resp = rawhttp.get(self.api, path, query, stream=stream,
                           read_timeout=70.0 if stream else 10.0, pool=self._pool)
        if resp.status != 200:
            # a non-200 watch body is one Status, not a stream of events: never parse it as one
            body = resp.data if not stream else resp.read()
            with contextlib.suppress(Exception):
                resp.release_conn()
            raise _HTTPStatus(resp.status, body or b"")
        return resp

    def _watch(self, kind: str, group: str, plural: str, ready: threading.Barrier) -> None:
        path = f"{group}/namespaces/{self.namespace}/{plural}"
        first = True
        rv = ""
        backoff = BACKOFF[0]
        while not self._stop.is_set():
            try:
                if not rv:
                    resp = self._request(path, [], stream=False)
                    body = json.loads(resp.data)
                    rv = body["metadata"]["resourceVersion"]
                    items = body.get("items") or []
                    for obj in items:
                        self._queue.put((kind, "ADDED", obj))
                    # what the live state has and the list has not was deleted meanwhile
                    self._queue.put((kind, _SYNC, {"rv": rv, "names": [
                        (o.get("metadata") or {}).get("name") for o in items]}))
                    if not first:
                        self.relists += 1
                if first:
                    first = False
                    ready.wait()
                resp = self._request(path, [("watch", "true"), ("resourceVersion", rv),
                                            ("allowWatchBookmarks", "true"),
                                            ("timeoutSeconds", 50)], stream=True)
                with self._lock:
                    self._responses.append(resp)
                    if self._stop.is_set():  # stopped while this watch was reconnecting
                        _shut(resp)
                        break
                backoff = BACKOFF[0]  # connected: the next failure starts the backoff afresh
                for line in _lines(resp):
                    if self._stop.is_set():
                        break
                    event = json.loads(line)
                    etype, obj = event.get("type"), event.get("object") or {}
                    if etype == "ERROR":
                        rv = ""  # 410 Gone and friends: list again
                        break
                    rv = (obj.get("metadata") or {}).get("resourceVersion", rv)
                    if etype != "BOOKMARK":
                        self._queue.put((kind, str(etype), obj))
            except Exception as exc:  # a watch must not die silently
                if self._stop.is_set():
                    break
                if first:
                    self.errors.append(f"{kind} watch failed to start: {exc}")
                    with contextlib.suppress(threading.BrokenBarrierError):
                        ready.abort()
                    return
                if isinstance(exc, _HTTPStatus) and exc.status == 410:
                    rv = ""  # our resourceVersion is gone (a restarted apiserver): list again
                if self._in_outage():
                    self.outage_failures.append(f"{kind} watch: {exc!r}")
                else:
                    self.errors.append(f"{kind} watch: {exc!r}")
                # back off before re-watching: a restarting apiserver refuses connections for
                # seconds, and hammering it slows its start
                self._stop.wait(backoff)
                backoff = min(backoff * 2, BACKOFF[1])

    # -- pumping ---------------------------------------------------------------------------------
    def pump(self, wait: float = 0.0) -> int:
        """Move queued events into the state; waits up to ``wait`` s for the first one."""
        n = 0
        try:
            item = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
        except queue.Empty:
            return 0
        while True:
            self._apply(*item)
            n += 1
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return n

    def _apply(self, kind: str, etype: str, obj: dict[str, Any]) -> None:
        if etype == _SYNC:
            listed = int(obj["rv"] or 0)
            self.kind_rv[kind] = max(self.kind_rv.get(kind, 0), listed)
            self._sync(kind, listed, {str(n) for n in obj["names"]})
            return
        meta = obj.get("metadata") or {}
        name = str(meta.get("name", ""))
        rv = int(meta.get("resourceVersion") or 0)
        self.kind_rv[kind] = max(self.kind_rv.get(kind, 0), rv)
        key = (kind, name)
        uid = str(meta.get("uid") or "")
        if (etype != "DELETED" and name in self.live[kind] and uid
                and self._uids.get(key, uid) != uid):
            # a relist after a gap shows a namesake: the one we knew was deleted meanwhile
            self._forget(kind, name, rv)
        if rv and self._rvs.get(key, 0) >= rv and etype != "DELETED":
            return  # a relist replaying what we already have
        self._rvs[key] = rv
        self.max_rv = max(self.max_rv, rv)
        snap = trim(kind, obj, self.t0)
        if etype == "DELETED":
            if name not in self.live[kind]:
                return
            self.live[kind].pop(name, None)
            self._rvs.pop(key, None)
            self._uids.pop(key, None)
        else:
            etype = "ADDED" if name not in self.live[kind] else "MODIFIED"
            self.live[kind][name] = snap
            if uid:
                self._uids[key] = uid
        self._record(kind, etype, name, rv, snap)

    def _record(self, kind: str, etype: str, name: str, rv: int, snap: dict[str, Any]) -> None:
        t = time.monotonic() - self.started
        self.records.append(_Record(rv, 1, t, "object", {
            "action": etype, "kind": kind, "name": name, "rv": rv, "obj": snap}))
        self.last_event = f"{etype} {kind} {name} (rv {rv})"
        self.last_event_at = time.monotonic()
        if etype == "DELETED" and (kind == "ControllerRevision" or (
                kind == "Pod" and controller_ref(snap) is None)):
            self.silent_deletion_at = self.last_event_at

    def _forget(self, kind: str, name: str, rv: int) -> None:
        """A DELETED event, at ``rv``, for an object whose deletion a watch gap hid."""
        snap = self.live[kind].pop(name)
        self._rvs.pop((kind, name), None)
        self._uids.pop((kind, name), None)
        self.max_rv = max(self.max_rv, rv)
        self._record(kind, "DELETED", name, rv, snap)

    def _sync(self, kind: str, rv: int, listed: set[str]) -> None:
        """End of a (re)list at ``rv``: what is live but was not listed is gone."""
        for name in sorted(set(self.live[kind]) - listed):
            self._forget(kind, name, rv)

    # -- ops and quiescence records ----------------------------------------------------------------
    def note(self, type_: str, data: dict[str, Any], rv: int | None = None) -> None:
        """Record an op or quiescent record after every event up to ``rv``.

        Default ``rv``: the newest seen so far, so an op invoke sorts after everything already
        observed and before whatever it causes; an op result carries the resourceVersion the
        apiserver returned for it. Records at the same ``rv`` keep their order of arrival.
        """
        self.pump()
        at = self.max_rv if rv is None else rv
        self.records.append(_Record(at, 2, time.monotonic() - self.started, type_, data))

    def history(self) -> History:
        """All records so far as a History, in resourceVersion order."""
        h = History.new(**self.header)
        ordered = sorted(enumerate(self.records), key=lambda ir: (ir[1].rv, ir[1].order, ir[0]))
        for _, rec in ordered:
            h.append(rec.type, round(rec.t, 3), **rec.data)  # type: ignore[arg-type]
        return h


def _lines(resp: Any) -> Any:
    """Split a urllib3 streaming response into lines."""
    buf = b""
    for chunk in resp.stream(4096, decode_content=True):
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if line.strip():
                yield line
