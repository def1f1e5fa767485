"""Expectations a plan states about the state after one of its ops (checked like the checks).

The safety and quiescent checks say what must hold after *any* scenario; an expectation says
what a particular upstream test asserts after a particular op: which pods and claims exist,
which pods run the update revision, whether the rollout finished, how many ControllerRevisions
there are, whether the op was accepted. Each unmet expectation is a
:class:`~sts_props.checks.Violation` with check ``EXP``, pointing at the history record where
the state was read.

The state "after op ``i``" is read at the quiescent record of op ``i`` if the History has one
(cluster runs and Settle ops), else just before op ``i + 1`` is invoked (the model drains
after every op, so that is its quiescent state).

>>> from sts_props.model import run_model
>>> from sts_props.ops import Create, Scale, Settle
>>> from sts_props.scenario import Manifests, Scenario
>>> h = run_model(Scenario(Manifests.seed(), (Create(), Settle(), Scale(1), Settle()))).history
>>> check_expectations(h, [Expectation(3, pods=("redis-0",))])
[]
>>> [v.rule for v in check_expectations(h, [Expectation(3, pods=("redis-0", "redis-1"))])]
['EXP/ORD']
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sts_props.checks import Violation
from sts_props.errors import ExpectationError as ExpectationError  # defined once there
from sts_props.history import Event, History
from sts_props.snapshot import is_running_ready, is_terminating, revision_of

_FIELDS = {"afterOp": "after_op", "outcome": "outcome", "pods": "pods", "ready": "ready",
           "claims": "claims", "updated": "updated", "rolledOut": "rolled_out",
           "revisions": "revisions", "rule": "rule", "note": "note"}


@dataclass(frozen=True)
class Expectation:
    """What must hold after op ``after_op`` (0-based); unset fields are not checked.

    * ``outcome``: ``accepted`` or ``rejected``;
    * ``pods`` / ``claims``: the names of the live (not terminating) pods / PVCs, as a set;
    * ``ready``: the live pods that are Running and Ready;
    * ``updated``: the live pods whose revision label is the set's ``status.updateRevision``;
    * ``rolled_out``: currentRevision == updateRevision and every live pod is at it (or not);
    * ``revisions``: the number of ControllerRevisions of the set;
    * ``rule``: the rule ID the expectation stands for (cited in the violation);
    * ``note``: a sentence for people.
    """

    after_op: int
    outcome: str | None = None
    pods: tuple[str, ...] | None = None
    ready: tuple[str, ...] | None = None
    claims: tuple[str, ...] | None = None
    updated: tuple[str, ...] | None = None
    rolled_out: bool | None = None
    revisions: int | None = None
    rule: str = ""
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, attr in _FIELDS.items():
            value = getattr(self, attr)
            if value is None or value == "":
                continue
            out[key] = list(value) if isinstance(value, tuple) else value
        return out

    @staticmethod
    def from_dict(data: Any, n_ops: int) -> Expectation:
        """Parse one ``expect`` entry of a plan with ``n_ops`` ops."""
        if not isinstance(data, dict):
            raise ExpectationError(f"an expectation must be a mapping, got {data!r}")
        unknown = sorted(set(map(str, data)) - set(_FIELDS))
        if unknown:
            raise ExpectationError(f"expectation has no field {unknown[0]!r} "
                                   f"(fields: {', '.join(_FIELDS)})")
        after = data.get("afterOp")
        if isinstance(after, bool) or not isinstance(after, int) or not 0 <= after < n_ops:
            raise ExpectationError(f"expectation afterOp must be an op index 0..{n_ops - 1}, "
                                   f"got {after!r}")
        kw: dict[str, Any] = {}
        for key in ("pods", "ready", "claims", "updated"):
            if key in data:
                value = data[key]
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise ExpectationError(f"expectation {key} must be a list of names")
                kw[_FIELDS[key]] = tuple(sorted(value))
        if "outcome" in data and data["outcome"] not in ("accepted", "rejected"):
            raise ExpectationError("expectation outcome must be accepted or rejected, got "
                                   f"{data['outcome']!r}")
        if "rolledOut" in data and not isinstance(data["rolledOut"], bool):
            raise ExpectationError("expectation rolledOut must be true or false")
        revisions = data.get("revisions")
        if revisions is not None and (isinstance(revisions, bool)
                                      or not isinstance(revisions, int)):
            raise ExpectationError("expectation revisions must be an integer")
        return Expectation(after, data.get("outcome"), rolled_out=data.get("rolledOut"),
                           revisions=revisions, rule=str(data.get("rule") or ""),
                           note=str(data.get("note") or ""), **kw)


def state_point(history: History, after_op: int) -> Event | None:
    """The record at which the state "after op ``after_op``" is read (None: op never ran)."""
    points = [ev for ev in history.quiescent_points() if ev.data.get("afterOp") == after_op]
    if points:
        return points[-1]
    invoked = [ev.seq for ev in history.ops()
               if ev.phase == "invoke" and ev.data.get("index") == after_op]
    if not invoked:
        return None
    later = [ev.seq for ev in history.ops()
             if ev.phase == "invoke" and int(ev.data.get("index", -1)) > after_op]
    end = min(later) - 1 if later else len(history) - 1
    return history.events[end]


def check_expectations(history: History, expectations: Iterable[Expectation]
                       ) -> list[Violation]:
    """Every unmet expectation as a Violation (check ``EXP``)."""
    out: list[Violation] = []
    for exp in expectations:
        out += _check_one(history, exp)
    return out


def _names(found: Iterable[str]) -> str:
    names = sorted(found)
    return ", ".join(names) if names else "none"


def _check_one(history: History, exp: Expectation) -> list[Violation]:
    point = state_point(history, exp.after_op)
    label = f"after op {exp.after_op}"
    if point is None:
        return [Violation("EXP", "EXP", f"Op {exp.after_op} never ran, so the expectation "
                          f"{label} could not be checked.")]
    where = point.where()
    state = history.state_at(point.seq)
    pods = {n: p for n, p in state["Pod"].items() if not is_terminating(p)}
    claims = {n for n, c in state["PersistentVolumeClaim"].items() if not is_terminating(c)}
    sts = next(iter(state["StatefulSet"].values()), None)
    status = (sts or {}).get("status") or {}
    update_rev = str(status.get("updateRevision") or "")
    updated = {n for n, p in pods.items() if update_rev and revision_of(p) == update_rev}
    found: list[tuple[str, str]] = []  # (rule family, sentence)

    def differ(what: str, want: Sequence[str], got: Iterable[str], family: str) -> None:
        got_set = set(got)
        if set(want) != got_set:
            found.append((family, f"expected {what} {_names(want)} {label}, found "
                                  f"{_names(got_set)} at {where}"))

    if exp.outcome is not None:
        result = next((ev for ev in history.ops() if ev.data.get("index") == exp.after_op
                       and ev.phase != "invoke"), None)
        got = "accepted" if result is not None and result.phase == "ok" else "rejected"
        if result is None or got != exp.outcome:
            seen = result.where() if result is not None else "no result record"
            found.append(("VAL", f"expected op {exp.after_op} to be {exp.outcome}, it was "
                                 f"{got} ({seen})"))
    if exp.pods is not None:
        differ("live pods", exp.pods, pods, "ORD")
    if exp.ready is not None:
        differ("Running and Ready pods", exp.ready,
               (n for n, p in pods.items() if is_running_ready(p)), "PR")
    if exp.claims is not None:
        differ("live claims", exp.claims, claims, "STO")
    if exp.updated is not None:
        differ("pods at the update revision", exp.updated, updated, "UPD")
    if exp.rolled_out is not None:
        done = bool(update_rev) and status.get("currentRevision") == update_rev and (
            updated == set(pods))
        if done != exp.rolled_out:
            state_word = "finished" if done else "not finished"
            found.append(("UPD", f"expected the rollout {'' if exp.rolled_out else 'not '}"
                                 f"to be finished {label}, it was {state_word} at {where} "
                                 f"(pods at the update revision: {_names(updated)})"))
    if exp.revisions is not None:
        count = len(state["ControllerRevision"])
        if count != exp.revisions:
            found.append(("REV", f"expected {exp.revisions} ControllerRevision(s) {label}, "
                                 f"found {count} at {where}"))
    rule = exp.rule or ""
    note = f" ({exp.note})" if exp.note else ""
    return [Violation("EXP", f"EXP/{rule or family}", f"The plan {text}{note}.", (point.seq,))
            for family, text in found]
