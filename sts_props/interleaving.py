"""How the system moves after one op, as a plan file records it for a model run.

A plan replays a model run exactly by carrying one :class:`Interleaving` per op; the
strategies draw them (:mod:`sts_props.strategies.chooser`), the model follows them.

>>> Interleaving(steps=2, picks=(1, 0))
Interleaving(steps=2, picks=(1, 0))
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MAX_SETTLE_STEPS", "Interleaving"]

#: the most steps the model takes to drain after one op (and so the most an interleaving
#: asks for): a system still moving after that many is reported as a livelock
MAX_SETTLE_STEPS = 20_000


@dataclass(frozen=True)
class Interleaving:
    """How the system moves after one op.

    ``steps`` is None to drain (run until nothing is enabled), else the number of steps to take
    (0: the next op lands before anything reacts). ``picks`` choose among the enabled steps, in
    order, for the steps that have a choice (more than one step enabled); once they run out the
    system moves in whole rounds (:attr:`Chooser.rounds`: the controller's sync, then every
    environment action enabled after it), each round counting as one step.
    """

    steps: int | None = None
    picks: tuple[int, ...] = ()
