"""What every check returns: a :class:`Violation` that names the rule, the objects and the records.

A violation is meant to be read by a person who has the History at hand: the message names the
pods (and ordinals) involved and points at history records as ``#12 (t=3s)``
(:meth:`sts_props.history.Event.where`); ``events`` holds the same record numbers for tools
(the report's timeline highlights them).

>>> v = Violation("CHK-3", "CHK-3/ORD-1",
...               "Pod web-2 was created at #14 (t=6s) before pod web-1 had been Ready.", (14, 9))
>>> print(v.describe())
CHK-3/ORD-1: Pod web-2 was created at #14 (t=6s) before pod web-1 had been Ready. [#14, #9]
>>> v.check, v.events
('CHK-3', (14, 9))
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Violation:
    """One broken promise found in a History.

    ``check`` is the check's ID (``"CHK-3"``, ``"Q"`` for a quiescent-state check, ``"CMP"`` for
    a model-vs-cluster difference); ``rule`` lists the rule IDs of
    ``statefulset-semantics.md`` that the finding contradicts, check first
    (``"CHK-3/ORD-1"``); ``message`` is one or two sentences naming pods, ordinals and history
    positions; ``events`` are the ``seq`` numbers of the records the message cites, most
    important first. For ``CMP`` violations ``events`` is ``(model seq, cluster seq)``.
    """

    check: str
    rule: str
    message: str
    events: tuple[int, ...] = ()

    def describe(self) -> str:
        """One line: the rule IDs, the message and the cited records."""
        cited = f" [{', '.join(f'#{s}' for s in self.events)}]" if self.events else ""
        return f"{self.rule}: {self.message}{cited}"

    def __str__(self) -> str:
        return self.describe()
