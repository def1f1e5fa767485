"""The strict model-vs-cluster comparison (``CMP-STRICT``): same pods, same phase, even blocked.

:func:`~sts_props.checks.compare.compare_histories` compares a state blocked short of the
section 10.3 target (a held or failed pod stopping the controller) only on what every
interleaving agrees on. That hides a controller that wrongly stops, or wrongly goes on, at a
blocker. :func:`strict_differences` closes the gap for mutation runs
(:mod:`sts_props.mutation_runs`): at the last settled point of both Histories, if it follows the
same op, the two sides must have the same non-terminating pods in the same phase. A control run
of the unmutated model shows, per scenario, that this stricter check raises no alarm on the real
model.

Usage::

    from sts_props.checks.strict import strict_differences
    for v in strict_differences(model_history, cluster_history):
        print(v.describe())

>>> from sts_props.history import History
>>> h = History.new(backend="model", set_name="web")
>>> strict_differences(h, h)
[]
"""

from __future__ import annotations

from sts_props.checks.compare import quiescent_view
from sts_props.checks.violation import Violation
from sts_props.history import Event, History

__all__ = ["strict_differences"]


def _last_settled(history: History) -> Event | None:
    points = [ev for ev in history.quiescent_points() if ev.data.get("settled")]
    return points[-1] if points else None


def _pods(history: History, seq: int) -> dict[str, str]:
    """Non-terminating pods of the set and their phase, after record ``seq``."""
    pods = quiescent_view(history, seq)["pods"]
    return {name: str(pod["phase"]) for name, pod in pods.items() if not pod["terminating"]}


def strict_differences(model_history: History, cluster_history: History) -> list[Violation]:
    """Pods (and their phase) that differ at the last settled point of both Histories, if that
    point is after the same op; compared even when the state is blocked (see the module
    docstring). Terminating pods are left out: when they disappear is timing.
    """
    mev, cev = _last_settled(model_history), _last_settled(cluster_history)
    if mev is None or cev is None or mev.data.get("afterOp") != cev.data.get("afterOp"):
        return []
    left, right = _pods(model_history, mev.seq), _pods(cluster_history, cev.seq)
    out = []
    for name in sorted(set(left) | set(right)):
        lv, rv = left.get(name, "absent"), right.get(name, "absent")
        if lv != rv:
            out.append(Violation(
                "CMP-STRICT", "CMP-STRICT/10.3",
                f"At the last settled point (after op {mev.data.get('afterOp')}): pod {name} "
                f"is {lv} in the model but {rv} on the cluster.", (mev.seq, cev.seq)))
    return out
