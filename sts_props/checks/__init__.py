"""Checks over Histories: safety (CHK-1..CHK-10, and the minReadySeconds timing checks CHK-11
and CHK-12), quiescent state (section 10.3), model vs cluster, and control-plane crashes
(``CRASH``, cluster runs only).

Every check reads only a :class:`~sts_props.history.History`, so it runs alike on the model's
histories, on a cluster's, and offline on a saved ``history.jsonl``. Each returns a list of
:class:`Violation`; empty means no broken promise was found. A violation names the rule IDs of
``statefulset-semantics.md`` it enforces, the pods involved and the history records
(``#12 (t=3s)``).

Usage::

    from sts_props.checks import compare_histories, run_history_checks
    history = History.load(Path("runs/42/history.jsonl"))
    for v in run_history_checks(history):  # safety, quiescent state, crashes
        print(v.describe())
    # model vs cluster, paired by quiescent records and op indices:
    for v in compare_histories(model_history, cluster_history):
        print(v.describe())

Known upstream deviations are recognised, not flagged: ``known_crashes`` (``crash.py``, F-2)
and ``adoption_races`` (``adoption_race.py``, F-11: the differential run compares a History
with its model only up to the race).

One check at a time: ``check_chk3(history)``, ``check_quiescent(history, at_seq)``;
``SAFETY_CHECKS`` maps each ID to its function. A History that is still growing (the state
machine checks after every step) is cheaper to check with ``SafetyChecker(history)`` and
``QuiescentChecker(history)``: their ``violations()`` equal the functions' results at every
length, but each call reads only the new records.

>>> from sts_props.history import History
>>> h = History.new(backend="model", set_name="web")
>>> run_history_checks(h) + compare_histories(h, h)
[]
"""

from sts_props.checks.compare import (
    BASIC,
    FULL,
    TARGET,
    Difference,
    compare_histories,
    compare_states,
    quiescent_view,
    revision_symbols,
)
from sts_props.checks.crash import check_crashes
from sts_props.checks.quiescent import QuiescentChecker, check_quiescent, run_quiescent_checks
from sts_props.checks.safety import (
    SAFETY_CHECKS,
    SafetyChecker,
    check_chk1,
    check_chk2,
    check_chk3,
    check_chk4,
    check_chk5,
    check_chk6,
    check_chk7,
    check_chk8,
    check_chk9,
    check_chk10,
    check_chk11,
    check_chk12,
    run_safety_checks,
)
from sts_props.checks.violation import Violation
from sts_props.history import History


def run_history_checks(history: History) -> list[Violation]:
    """Every check that reads one History: safety (CHK-1..CHK-12), quiescent state (10.3) and
    control-plane crashes (``CRASH``; a model History has none). The one list of them: a
    replayed plan, a differential run and the model suite all judge a History with it, and a
    new kind of check joins here."""
    return run_safety_checks(history) + run_quiescent_checks(history) + check_crashes(history)


__all__ = [
    "BASIC",
    "FULL",
    "SAFETY_CHECKS",
    "TARGET",
    "Difference",
    "QuiescentChecker",
    "SafetyChecker",
    "Violation",
    "check_chk1",
    "check_chk2",
    "check_chk3",
    "check_chk4",
    "check_chk5",
    "check_chk6",
    "check_chk7",
    "check_chk8",
    "check_chk9",
    "check_chk10",
    "check_chk11",
    "check_chk12",
    "check_crashes",
    "check_quiescent",
    "compare_histories",
    "compare_states",
    "quiescent_view",
    "revision_symbols",
    "run_history_checks",
    "run_quiescent_checks",
    "run_safety_checks",
]
