"""The reducer for scenarios Hypothesis did not generate (sts_props.shrink), on the model only.

The "failing system" is a mutated model (sts_props.mutants): run against the unmutated model it
disagrees on scenarios that reach the rule it breaks, as a broken cluster would.
"""

from __future__ import annotations

from sts_props.checks import Violation, compare_histories
from sts_props.model import ModelConfig, run_model
from sts_props.mutant_scenarios import set_manifests
from sts_props.mutants import MutantName
from sts_props.ops import (
    AllowPodWrites,
    Create,
    DeletePod,
    DenyPodWrites,
    FailPod,
    HoldNotReady,
    Op,
    ReleasePod,
    RevertTemplate,
    Scale,
    SetMinReadySeconds,
    SetPartition,
    SetTemplate,
    Settle,
)
from sts_props.scenario import Scenario
from sts_props.shrink import normalise, shrink_failure, simpler_ops


def _against(mutant: MutantName) -> tuple[list[Scenario], object]:
    """A failing system: the model mutated by ``mutant``, compared with the real model."""
    calls: list[Scenario] = []

    def system(scenario: Scenario) -> list[Violation]:
        calls.append(scenario)
        real = run_model(scenario, ModelConfig())
        broken = run_model(scenario, ModelConfig(mutant=mutant))
        return compare_histories(real.history, broken.history)

    return calls, system


#: a partitioned rollout (what update-ignores-partition breaks) buried in unrelated ops
_NOISY_PARTITION = Scenario(set_manifests(3), (
    Create(), Settle(), SetMinReadySeconds(1), HoldNotReady(0), Settle(), ReleasePod(0),
    Settle(), Scale(4), SetPartition(2), Settle(), SetTemplate("env", "v1"), Settle(),
    DeletePod(3), FailPod(3, "Succeeded"), Settle(), Scale(2), Settle()))


def test_a_mutant_failure_shrinks_to_the_partitioned_rollout() -> None:
    calls, system = _against("update-ignores-partition")
    first = system(_NOISY_PARTITION)  # type: ignore[operator]
    assert first
    out = shrink_failure(_NOISY_PARTITION, first, run=system,  # type: ignore[arg-type]
                         violations_of=lambda v: v, budget=60)
    kinds = [op.kind for op in out.scenario.ops]
    assert len(out.scenario.ops) < len(_NOISY_PARTITION.ops) - 6
    # what the rule needs stays: a partition and a template change
    assert {"set_partition", "set_template"} <= set(kinds)
    assert kinds[0] == "create" and kinds[-1] == "settle"
    assert out.violations and any(v.rule == first[0].rule for v in out.violations)
    assert out.runs == len(calls) - 1 <= 60 and out.steps
    # the kept scenario really fails, and the result is the run of that scenario
    assert system(out.scenario) == out.result  # type: ignore[operator]


def test_shrinking_is_deterministic() -> None:
    _, system = _against("update-ignores-partition")
    first = system(_NOISY_PARTITION)  # type: ignore[operator]
    a = shrink_failure(_NOISY_PARTITION, first, run=system,  # type: ignore[arg-type]
                       violations_of=lambda v: v, budget=15)
    b = shrink_failure(_NOISY_PARTITION, first, run=system,  # type: ignore[arg-type]
                       violations_of=lambda v: v, budget=15)
    assert a.scenario == b.scenario and a.steps == b.steps and a.runs == b.runs


def test_the_budget_caps_the_runs() -> None:
    calls, system = _against("update-ignores-partition")
    first = system(_NOISY_PARTITION)  # type: ignore[operator]
    calls.clear()
    out = shrink_failure(_NOISY_PARTITION, first, run=system,  # type: ignore[arg-type]
                         violations_of=lambda v: v, budget=3)
    assert out.runs == len(calls) == 3


def test_a_candidate_failing_with_another_rule_is_not_kept() -> None:
    """Only the original rule counts: a candidate that fails otherwise is a different bug."""
    def system(scenario: Scenario) -> list[Violation]:
        scales = [op for op in scenario.ops if isinstance(op, Scale)]
        if any(op.replicas >= 4 for op in scales):
            return [Violation("X", "X/1", "scaled to 4 or more")]
        return [Violation("Y", "Y/1", "another failure")] if scales else []

    sc = Scenario(set_manifests(2), (Create(), Settle(), Scale(5), Settle()))
    out = shrink_failure(sc, system(sc), run=system, violations_of=lambda v: v, budget=20)
    assert [op.describe() for op in out.scenario.ops] == [
        "create the StatefulSet", "scale to 4", "settle"]
    assert out.violations[0].rule == "X/1"


def test_candidates_the_model_rejects_as_input_cost_no_run() -> None:
    """Dropping the template change leaves RevertTemplate(1) naming a version that does not
    exist: the model refuses such a plan, so that candidate is never run."""
    seen: list[tuple[Op, ...]] = []

    def system(scenario: Scenario) -> list[Violation]:
        seen.append(scenario.ops)
        return [Violation("X", "X/1", "fails")] if any(
            isinstance(op, DeletePod) for op in scenario.ops) else []

    sc = Scenario(set_manifests(2), (Create(), SetTemplate("env", "v2"), Settle(),
                                     RevertTemplate(1), DeletePod(0), Settle()))
    out = shrink_failure(sc, system(sc), run=system, violations_of=lambda v: v, budget=30)
    assert all(not (any(isinstance(op, RevertTemplate) for op in ops)
                    and not any(isinstance(op, SetTemplate) for op in ops)) for ops in seen)
    assert [op.kind for op in out.scenario.ops] == ["create", "delete_pod", "settle"]


def test_normalise_closes_windows_and_ends_with_one_settle() -> None:
    ops = normalise((Create(), Settle(), Settle(), DenyPodWrites(1), FailPod(1)))
    assert [op.kind for op in ops] == ["create", "settle", "deny_pod_writes", "fail_pod",
                                       "allow_pod_writes", "settle"]
    closed = (Create(), DenyPodWrites(0), AllowPodWrites(), Settle())
    assert normalise(closed) == closed


def test_simpler_ops_move_towards_the_plain_case() -> None:
    assert simpler_ops(Scale(0)) == [] and simpler_ops(Scale(3)) == [Scale(2)]
    assert simpler_ops(SetPartition(2)) == [SetPartition(1)]
    assert simpler_ops(SetMinReadySeconds(5)) == [SetMinReadySeconds(0)]
    assert simpler_ops(FailPod(0, "Failed")) == []
