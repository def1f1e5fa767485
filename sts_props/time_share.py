"""Ending a Hypothesis run when its share of time is spent.

The model pool of a cluster ``check`` and the model tier of ``explore`` run a Hypothesis test
for at most some seconds: the test raises :class:`TimeUp` once they are spent, and
:func:`run_until_time_up` turns that into a normal end. Hypothesis may report the exception
inside a group, a ``FlakyFailure`` when the time ran out while it replayed an example that had
passed before (seen once in the unit suite under load), so a group that holds only
:class:`TimeUp` is the same normal end; anything else in it is raised.

>>> def runner() -> None:
...     raise TimeUp
>>> run_until_time_up(runner)
True
"""

from __future__ import annotations

from collections.abc import Callable


class TimeUp(Exception):
    """Raised inside a Hypothesis test to end the run when its time is spent."""


def run_until_time_up(runner: Callable[[], None]) -> bool:
    """Run ``runner`` (a Hypothesis test, seeded or not); True if :class:`TimeUp` ended it,
    False if it ran all its examples."""
    try:
        runner()
    except TimeUp:
        return True
    except BaseExceptionGroup as group:
        if group.split(TimeUp)[1] is not None:
            raise
        return True
    return False


__all__ = ["TimeUp", "run_until_time_up"]
