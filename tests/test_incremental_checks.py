"""The incremental checkers agree with the one-shot checks at every length of a History.

:class:`~sts_props.checks.SafetyChecker` and :class:`~sts_props.checks.QuiescentChecker` read
only the records appended since their previous call (the state machine calls them after every
step); ``run_safety_checks`` / ``run_quiescent_checks`` replay a History from scratch. Both
must give the same violations, in the same order, for every prefix: of the hand-built broken
Histories the check tests use (re-run here with the one-shot functions wrapped), and of model
runs with drawn interleavings.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sts_props import checks
from sts_props.checks import (
    QuiescentChecker,
    SafetyChecker,
    Violation,
    run_quiescent_checks,
    run_safety_checks,
)
from sts_props.history import History
from sts_props.model.runner import run_model
from sts_props.scenario import Scenario
from sts_props.strategies import DataChooser
from sts_props.strategies.chooser import decode_interleaving, interleavings
from sts_props.strategies.manifests import valid_statefulsets
from sts_props.strategies.ops import op_sequences
from tests import (
    test_checks_quiescent,
    test_checks_safety,
    test_checks_timing,
    test_sensitivity,
    test_status_honesty,
)


def assert_same_at_every_prefix(history: History) -> None:
    """Grow a copy of ``history`` record by record; after each record the incremental
    checkers must equal the one-shot checks on a fresh History of that prefix."""
    grown = History([])
    safety, quiescent = SafetyChecker(grown), QuiescentChecker(grown)
    for ev in history.events:
        grown.events.append(ev)
        prefix = History(list(grown.events))
        assert safety.violations() == run_safety_checks(prefix), f"safety differs after #{ev.seq}"
        assert quiescent.violations() == run_quiescent_checks(prefix), \
            f"quiescent checks differ after #{ev.seq}"


def _wrapping(fn: Callable[..., list[Violation]]) -> Callable[..., list[Violation]]:
    def checked(history: History, *args: Any, **kwargs: Any) -> list[Violation]:
        assert_same_at_every_prefix(history)
        return fn(history, *args, **kwargs)

    return checked


def _tests_of(module: ModuleType) -> Iterator[Any]:
    for name, fn in inspect.getmembers(module, inspect.isfunction):
        if name.startswith("test_") and fn.__module__ == module.__name__ \
                and not inspect.signature(fn).parameters:
            yield pytest.param(module, fn, id=f"{module.__name__.split('.')[-1]}::{name}")


@pytest.mark.parametrize(("module", "test"), [
    *_tests_of(test_sensitivity), *_tests_of(test_checks_safety),
    *_tests_of(test_checks_quiescent), *_tests_of(test_checks_timing),
    *_tests_of(test_status_honesty),
])
def test_hand_built_histories_agree_at_every_prefix(
        module: ModuleType, test: Callable[[], None], monkeypatch: pytest.MonkeyPatch) -> None:
    """Every History a check test hands to the one-shot checks is also grown incrementally."""
    for name in ("run_safety_checks", "run_quiescent_checks"):
        if hasattr(module, name):
            monkeypatch.setattr(module, name, _wrapping(getattr(checks, name)))
    test()


@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_model_runs_agree_at_every_prefix(data: st.DataObject) -> None:
    manifests = data.draw(valid_statefulsets(max_replicas=4), label="manifests")
    ops = data.draw(op_sequences(manifests, max_ops=8), label="ops")
    result = run_model(Scenario(manifests, tuple(ops)), chooser=DataChooser(data))
    assert_same_at_every_prefix(result.history)


def test_safety_checker_starts_over_when_the_history_is_rewritten() -> None:
    history = History.new(backend="model", set_name="web")
    checker = SafetyChecker(history)
    assert checker.violations() == []
    history.events = [history.events[0]]  # same length, but not the same records
    history.events.append(history.events[0])
    assert checker.violations() == run_safety_checks(History(list(history.events)))


def test_one_integer_per_interleaving_round_trips() -> None:
    assert decode_interleaving(0).steps is None
    shapes = {decode_interleaving(code).steps for code in range(3 * 9)}
    assert shapes == {None, *range(9)}
    assert interleavings() is interleavings()  # one strategy object, reused by every chooser
