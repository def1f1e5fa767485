"""Choosers that let Hypothesis pick the interleavings of the model's steps.

The model runner asks a :class:`~sts_props.model.runner.Chooser` two things: how far the system
moves after an op (``steps_after``: drain, or a number of steps), and which enabled step goes
next (``pick``: a controller sync or one of the environment's actions). A real cluster answers
both by timing; :class:`DataChooser` lets Hypothesis answer them, so it explores (and shrinks)
interleavings: an op landing mid-rollout, a GC racing a re-creation, a kubelet start before the
next sync.

Each op gets one draw, an :class:`Interleaving`, so a falsifying example prints one readable line
per op (``Draw 3 (after scale): Interleaving(steps=2, picks=(1, 0))``), and shrinks towards
"drain, controller first" (the default :class:`Chooser`'s behaviour).

>>> from hypothesis import given, settings, strategies as st
>>> from sts_props.model import run_model
>>> from sts_props.ops import Create, Scale, Settle
>>> from sts_props.scenario import Manifests, Scenario
>>> sc = Scenario(Manifests.seed(), (Create(), Scale(1), Settle()))
>>> @settings(max_examples=10, database=None)
... @given(st.data())
... def check(data):
...     chooser = DataChooser(data)
...     result = run_model(sc, chooser=chooser)
...     assert sorted(result.final_pods()) == ["redis-0"]
...     # The decisions replay exactly, outside Hypothesis:
...     again = run_model(sc, chooser=ScriptedChooser(chooser.log))
...     assert again.history.to_jsonl() == result.history.to_jsonl()
>>> check()
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from hypothesis import strategies as st

from sts_props.interleaving import Interleaving
from sts_props.model.runner import Chooser
from sts_props.ops import Op

__all__ = [
    "DataChooser", "Interleaving", "ScriptedChooser", "choosers", "decode_interleaving",
    "interleavings",
]

#: Pick values are drawn in 0..PICK_RANGE-1 and taken modulo the number of enabled steps.
PICK_RANGE = 8


def decode_interleaving(code: int, max_steps: int = 8, max_picks: int = 16) -> Interleaving:
    """The :class:`Interleaving` that one integer stands for (0: drain, controller first).

    Digits, least significant first: drain or not (base 3, 0 = drain, so about one in three
    drains), the step count (base ``max_steps + 1``), the number of picks (base
    ``max_picks + 1``; about eight on average, like the list of picks this replaces), then each
    pick (base :data:`PICK_RANGE`). Smaller codes mean fewer and smaller picks, so shrinking
    the integer simplifies the interleaving.

    >>> decode_interleaving(0)
    Interleaving(steps=None, picks=())
    >>> decode_interleaving(1 + 3 * (2 + 9 * (2 + 17 * (5 + 8 * 1))))
    Interleaving(steps=2, picks=(5, 1))
    """
    code, drain = divmod(code, 3)
    code, steps = divmod(code, max_steps + 1)
    code, count = divmod(code, max_picks + 1)
    picks = []
    for _ in range(count):
        code, pick = divmod(code, PICK_RANGE)
        picks.append(pick)
    return Interleaving(None if drain == 0 else steps, tuple(picks))


@functools.lru_cache(maxsize=16)  # one strategy object per shape, reused by every chooser
def interleavings(max_steps: int = 8, max_picks: int = 16) -> st.SearchStrategy[Interleaving]:
    """Interleavings, each from a single integer draw (:func:`decode_interleaving`).

    One draw per op instead of one per field and per pick keeps the state machine's per-step
    cost low; the falsifying example still prints the decoded Interleaving.

    >>> from hypothesis import find
    >>> find(interleavings(), lambda i: True)
    Interleaving(steps=None, picks=())
    """
    top = 3 * (max_steps + 1) * (max_picks + 1) * PICK_RANGE**max_picks - 1
    return st.integers(0, top).map(
        lambda code: decode_interleaving(code, max_steps, max_picks))


class _LoggingChooser(Chooser):
    """Applies :class:`Interleaving` decisions; subclasses say where they come from."""

    def __init__(self) -> None:
        self.log: list[Interleaving] = []
        self._picks: list[int] = []

    def _next(self, op: Op) -> Interleaving:
        raise NotImplementedError

    def steps_after(self, op: Op) -> int | None:
        decision = self._next(op)
        self.log.append(decision)
        self._picks = list(decision.picks)
        return decision.steps

    @property
    def rounds(self) -> bool:  # type: ignore[override]
        """Single steps while drawn picks remain; whole rounds (fast) once they are used up.

        A round (the controller's sync, then every environment action enabled after it) is one
        more valid interleaving, deterministic like "controller first"; the runner reads this
        before every step.
        """
        return not self._picks

    def pick(self, n: int) -> int:
        # Only real choices consume a pick, so a decision means the same thing on replay and
        # the drawn picks are not wasted on forced moves.
        if n <= 1 or not self._picks:
            return 0
        return self._picks.pop(0) % n


class DataChooser(_LoggingChooser):
    """A Chooser whose decisions are drawn from a Hypothesis ``st.data()`` object.

    ``max_steps_between_ops`` bounds the steps taken after an op when it does not drain;
    ``max_picks`` bounds the ordering choices drawn per op (later choices take the controller
    first). ``log`` keeps the decisions, for :class:`ScriptedChooser` and for reports.

    >>> from hypothesis import given, settings, strategies as st
    >>> from sts_props.model import ModelRun
    >>> from sts_props.ops import Create, Settle
    >>> from sts_props.scenario import Manifests
    >>> @settings(max_examples=5, database=None)
    ... @given(st.data())
    ... def check(data):
    ...     run = ModelRun(Manifests.seed(), chooser=DataChooser(data, max_steps_between_ops=3))
    ...     run.apply(Create()); run.apply(Settle())
    ...     assert not run.unsettled
    >>> check()
    """

    def __init__(self, data: st.DataObject, max_steps_between_ops: int = 8,
                 max_picks: int = 16) -> None:
        super().__init__()
        self.data = data
        self.strategy = interleavings(max_steps_between_ops, max_picks)

    def _next(self, op: Op) -> Interleaving:
        return self.data.draw(self.strategy, label=f"after {op.kind}")

    def __repr__(self) -> str:
        return f"DataChooser(decisions={len(self.log)})"


class ScriptedChooser(_LoggingChooser):
    """Replays recorded :class:`Interleaving` decisions; drains once they run out.

    >>> from sts_props.model import run_model
    >>> from sts_props.ops import Create, Scale, Settle
    >>> from sts_props.scenario import Manifests, Scenario
    >>> sc = Scenario(Manifests.seed(), (Create(), Scale(5), Settle()))
    >>> result = run_model(sc, chooser=ScriptedChooser([Interleaving(0), Interleaving(3)]))
    >>> sorted(result.final_pods())
    ['redis-0', 'redis-1', 'redis-2', 'redis-3', 'redis-4']
    """

    def __init__(self, decisions: Iterable[Interleaving]) -> None:
        super().__init__()
        self._script = list(decisions)

    def _next(self, op: Op) -> Interleaving:
        return self._script.pop(0) if self._script else Interleaving()


def choosers(max_steps_between_ops: int = 8, max_picks: int = 16
             ) -> st.SearchStrategy[DataChooser]:
    """A strategy of :class:`DataChooser` (each draws from its own ``st.data()``).

    >>> from hypothesis import given, settings
    >>> from sts_props.model import run_model
    >>> from sts_props.ops import Create, Settle
    >>> from sts_props.scenario import Manifests, Scenario
    >>> @settings(max_examples=5, database=None)
    ... @given(choosers())
    ... def check(chooser):
    ...     assert not run_model(Scenario(Manifests.seed(), (Create(), Settle())),
    ...                          chooser=chooser).unsettled
    >>> check()
    """
    return st.builds(DataChooser, st.data(), st.just(max_steps_between_ops), st.just(max_picks))
