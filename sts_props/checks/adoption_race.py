"""Known upstream deviation F-11: an adopted revision missing from the same sync's list.

From v1.36, ``realHistory.ListControllerRevisions`` (``pkg/controller/history``) reads two
keys of an informer index one after the other: the revisions the set controls, then the
orphans. A revision whose adoption reaches the informer between the two reads is in neither
answer, against REV-6 (a set considers its own revisions and the orphans). ``sync`` adopts
orphans first and lists again moments later, about when the adoption's watch event arrives.
When the missed revision is the one ``status.currentRevision`` names, the sync takes the update
revision as current (REV-8's "no such revision" case) and writes that status, for good: the
rollout's old pods count as not current, and pods re-created below the partition get the update
revision. Reproduced with ``docs/examples/f11-revision-adoption-race/reproduce.py``;
docs/findings.md F-11. The model cannot follow a race, so a cluster History that shows it is
compared with the model only up to it (:mod:`sts_props.differential`).

The fingerprint, in a cluster History: a ControllerRevision ``N`` goes from no controller to
the set as its controller (an adoption), and within :data:`WINDOW` seconds after, with ``N``
still there, the set's status moves ``currentRevision`` from ``N`` to another revision while
its rollout is not complete (``updatedReplicas < replicas``; at completion the move is
REV-8's). Nothing else moves it so: a move with no adoption before it stays a violation of
the checks that see it.

>>> from sts_props.history import History
>>> h = History.new(backend="kwok", set_name="web")
>>> owner = [{"kind": "StatefulSet", "name": "web", "uid": "u", "controller": True}]
>>> def st(current):
...     return {"metadata": {"uid": "u"}, "status": {"currentRevision": current,
...             "updateRevision": "web-2", "replicas": 3, "updatedReplicas": 1}}
>>> _ = h.object("ADDED", "StatefulSet", "web", 1, st("web-1"), t=0.0)
>>> _ = h.object("ADDED", "ControllerRevision", "web-1", 2, {"metadata": {}}, t=1.0)
>>> _ = h.object("MODIFIED", "ControllerRevision", "web-1", 3,
...              {"metadata": {"ownerReferences": owner}}, t=1.2)
>>> _ = h.object("MODIFIED", "StatefulSet", "web", 4, st("web-2"), t=1.21)
>>> [race.describe() for race in adoption_races(h)]  # doctest: +NORMALIZE_WHITESPACE
['status.currentRevision moved from web-1 to web-2 at #4 (t=1.21s), 0.01s after web-1 was
  adopted at #3 (t=1.2s), with web-1 still there and 1 of 3 replicas updated: known upstream
  deviation F-11 (docs/findings.md)']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sts_props.checks._timeline import as_int, status_of
from sts_props.history import Event, History
from sts_props.snapshot import controller_ref

#: the finding in docs/findings.md
FINDING = "F-11"
#: seconds from an adoption to the status write of the same sync (measured: 4 ms on kwok
#: v1.37.2 under load; a sync takes milliseconds, so a second leaves room and no more)
WINDOW = 1.0


@dataclass(frozen=True)
class AdoptionRace:
    """One sighting of F-11 in a cluster History."""

    adopted: Event  #: the ControllerRevision record that shows the adoption
    moved: Event  #: the StatefulSet record whose status names another current revision
    revision: str
    became: str
    updated: int
    replicas: int

    def describe(self) -> str:
        return (f"status.currentRevision moved from {self.revision} to {self.became} at "
                f"{self.moved.where()}, {self.moved.t - self.adopted.t:.2f}s after "
                f"{self.revision} was adopted at {self.adopted.where()}, with {self.revision} "
                f"still there and {self.updated} of {self.replicas} replicas updated: known "
                f"upstream deviation {FINDING} (docs/findings.md)")


def adoption_races(history: History) -> list[AdoptionRace]:
    """The sightings of F-11 in ``history``, in order (module docstring)."""
    revisions: dict[str, Event] = {}  # live ControllerRevisions, by name
    adopted: dict[str, Event] = {}  # revision name -> the record of its adoption
    status: dict[str, Any] = {}  # the set's status as last recorded
    out: list[AdoptionRace] = []
    set_name = history.set_name
    for ev in history.objects():
        if ev.kind == "ControllerRevision":
            before = revisions.get(ev.name)
            if ev.action == "DELETED":
                revisions.pop(ev.name, None)
                adopted.pop(ev.name, None)
                continue
            if (ev.action == "MODIFIED" and before is not None
                    and controller_ref(before.obj) is None and controller_ref(ev.obj) is not None):
                adopted[ev.name] = ev
            revisions[ev.name] = ev
        elif ev.kind == "StatefulSet" and ev.name == set_name:
            now = status_of(ev.obj)
            was = str(status.get("currentRevision") or "")
            became = str(now.get("currentRevision") or "")
            updated, replicas = as_int(now.get("updatedReplicas")), as_int(now.get("replicas"))
            adoption = adopted.get(was)
            if (ev.action == "MODIFIED" and was and became and became != was
                    and adoption is not None and ev.t - adoption.t <= WINDOW
                    and was in revisions and updated < replicas):
                out.append(AdoptionRace(adoption, ev, was, became, updated, replicas))
            status = now if ev.action != "DELETED" else {}
    return out
