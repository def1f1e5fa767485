"""A checked History is freed with its last reference: the checks' shared replay (the
Timeline kept per History) must not keep it alive.

It did once: the replay was kept in a weak-keyed map whose values referred back to their
History, so every History ever checked stayed in memory (the state machine checks one per
example), and Python's full garbage collections, walking all of them, took about a fifth of
the state machine's time in ``benchmarks/model_throughput.py``.
"""

from __future__ import annotations

import gc
import weakref

from sts_props.checks import (
    QuiescentChecker,
    SafetyChecker,
    run_quiescent_checks,
    run_safety_checks,
)
from sts_props.model.runner import run_model
from sts_props.ops import Create, Scale, Settle
from sts_props.scenario import Manifests, Scenario


def _checked_history_ref(incremental: bool) -> weakref.ref[object]:
    history = run_model(Scenario(Manifests.seed(), (Create(), Scale(2), Settle()))).history
    if incremental:
        assert SafetyChecker(history).violations() == []
        assert QuiescentChecker(history).violations() == []
    else:
        assert run_safety_checks(history) == [] and run_quiescent_checks(history) == []
    return weakref.ref(history)


def test_a_history_checked_in_one_go_is_freed() -> None:
    ref = _checked_history_ref(incremental=False)
    gc.collect()
    assert ref() is None


def test_a_history_checked_incrementally_is_freed() -> None:
    ref = _checked_history_ref(incremental=True)
    gc.collect()
    assert ref() is None
