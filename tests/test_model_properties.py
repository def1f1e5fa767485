"""Properties of the reference model over generated scenarios and interleavings.

Every model History must pass every safety check (section 10.1) and, at every settled quiescent
record, the quiescent checks (10.3); no run may fail to settle; and every History must
round-trip through JSONL (checks run offline on saved histories). The state machine explores the
same properties op by op.

A failure here is either a model bug (sts_props/model) or a check bug (sts_props/checks): the
failure note prints the plan (Scenario YAML) and the interleavings, which replay outside
Hypothesis with ``run_model(scenario, chooser=ScriptedChooser(interleavings))``.

Example counts come from the profile loaded in conftest.py (STS_PROPS_PROFILE=model|model-ci).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import event, given, note
from hypothesis import strategies as st

from sts_props.history import History
from sts_props.model.config import ModelConfig
from sts_props.model.runner import ModelResult, run_model
from sts_props.scenario import Scenario
from sts_props.strategies import DataChooser, scenarios
from sts_props.strategies.state_machine import CheckFn, StatefulSetMachine, load_checks

#: The behaviour lines whose models differ most: 1.35.2 has the maxUnavailable path with the
#: UPD-10 regression, 1.36.3 the legacy update path (gate off), 1.37.2 the fixed path and
#: OnDelete promotion (REV-10).
CONFIGS = {
    "v1.35.2": ModelConfig.for_version("v1.35.2"),
    "v1.36.3": ModelConfig.for_version("v1.36.3"),
    "v1.37.2": ModelConfig.for_version("v1.37.2"),
}


@pytest.fixture(scope="module")
def checks() -> tuple[CheckFn, CheckFn]:
    return load_checks()


def _run(sc: Scenario, data: st.DataObject, config: ModelConfig) -> tuple[ModelResult, Any]:
    note(f"plan:\n{sc.to_yaml()}")
    chooser = DataChooser(data)
    result = run_model(sc, config, chooser)
    note(f"interleavings: {chooser.log!r}")
    return result, chooser


def _coverage(sc: Scenario, config: ModelConfig) -> None:
    """Record which policy x strategy x retention x op combinations ran (shown by
    ``pytest --hypothesis-show-statistics``): knowing what was covered is part of the result."""
    spec = sc.manifests.statefulset["spec"]
    strategy = (spec.get("updateStrategy") or {})
    stype = strategy.get("type") or "RollingUpdate"
    block = "block" if "rollingUpdate" in strategy or not strategy.get("type") else "no block"
    retention = spec.get("persistentVolumeClaimRetentionPolicy") or {}
    event(f"{config.version} {spec.get('podManagementPolicy') or 'OrderedReady'} "
          f"{stype} ({block}) retention "
          f"{retention.get('whenDeleted') or 'Retain'}/{retention.get('whenScaled') or 'Retain'}")
    for kind in sorted({op.kind for op in sc.ops} - {"create", "settle"}):
        event(f"op {kind}")


def _describe(violations: Any) -> str:
    return "\n".join(v.describe() if hasattr(v, "describe") else str(v) for v in violations)


@pytest.mark.parametrize("version", sorted(CONFIGS))
@given(sc=scenarios(), data=st.data())
def test_model_runs_settle_and_histories_round_trip(version: str, sc: Scenario,
                                                     data: st.DataObject) -> None:
    result, _ = _run(sc, data, CONFIGS[version])
    assert not result.unsettled, result.unsettled
    assert len(result.outcomes) == len(sc.ops)
    # One quiescent record per Settle; a settle that did not reach quiescence must be one of the
    # detected 1.37 delete/recreate livelocks (UPD-10 with UPD-6 a), which the runner reports
    # separately as a finding about upstream, not as a model failure.
    points = list(result.history.quiescent_points())
    assert len(points) == sum(1 for op in sc.ops if op.kind == "settle")
    for ev in points:
        if not ev.data["settled"]:
            assert str(ev.data["reason"]).startswith("livelock"), ev.data
    if result.livelocks:
        note(f"livelocks: {result.livelocks}")
    again = History.from_jsonl(result.history.to_jsonl())
    assert again.events == result.history.events
    assert again.to_jsonl() == result.history.to_jsonl()


@pytest.mark.parametrize("version", sorted(CONFIGS))
@given(sc=scenarios(), data=st.data())
def test_model_histories_pass_every_check(version: str, sc: Scenario, data: st.DataObject,
                                          checks: tuple[CheckFn, CheckFn]) -> None:
    safety, quiescent = checks
    _coverage(sc, CONFIGS[version])
    result, _ = _run(sc, data, CONFIGS[version])
    assert not result.unsettled, result.unsettled
    violations = safety(result.history)
    assert not violations, "safety:\n" + _describe(violations)
    violations = quiescent(result.history)
    assert not violations, "quiescent:\n" + _describe(violations)
    # Checks read Histories only: a saved history gives the same verdict.
    saved = History.from_jsonl(result.history.to_jsonl())
    assert not safety(saved) and not quiescent(saved)


#: The state machine, with the loaded profile's settings (max_examples, stateful_step_count).
TestStatefulSetMachine = StatefulSetMachine.TestCase


class _MachineOn1352(StatefulSetMachine):
    """The same exploration on the 1.35.0-1.35.3 maxUnavailable path (UPD-10)."""

    config = ModelConfig.for_version("v1.35.2")


TestStatefulSetMachineOn1352 = _MachineOn1352.TestCase
