"""Check a plan's expectations (:mod:`sts_props.expect`) against a History (check ``EXP``).

Each unmet expectation is a :class:`~sts_props.checks.Violation` with check ``EXP``, pointing at
the history record where the state was read. The state "after op ``i``" is read at the quiescent
record of op ``i`` if the History has one (cluster runs and Settle ops), else just before op
``i + 1`` is invoked (the model drains after every op, so that is its quiescent state).

>>> from sts_props.expect import Expectation
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

from sts_props.checks.violation import Violation
from sts_props.expect import Expectation
from sts_props.history import Event, History
from sts_props.snapshot import is_running_ready, is_terminating, revision_of

__all__ = ["check_expectations", "state_point"]


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
