"""Each mutant of sts_props.mutants changes the model's behaviour on a hand-picked scenario.

Every test runs the same ops on the real model and on the mutated one and asserts the specific
difference the broken rule must make, so it fails if a mutation hook is inert (or misnamed).
The last tests check the targeted strategies: with the unmutated model standing in for the
cluster, every drawn scenario must expose its mutant to the same comparisons a kwok run uses.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings

from sts_props.checks import compare_histories, compare_states, quiescent_view
from sts_props.checks.compare import BASIC, TARGET
from sts_props.checks.strict import strict_differences
from sts_props.model import ModelConfig, ModelRun
from sts_props.mutant_names import MUTANT_NAMES, MutantName
from sts_props.mutant_scenarios import set_manifests, targeted_scenarios
from sts_props.mutants import MUTANTS, by_name
from sts_props.ops import (
    Create,
    DeletePod,
    FailPod,
    HoldNotReady,
    Op,
    RevertTemplate,
    Scale,
    SetPartition,
    SetRetention,
    SetTemplate,
    Settle,
)
from sts_props.scenario import Manifests, Scenario
from sts_props.snapshot import POD_INDEX_LABEL, REVISION_LABEL
from tests.model_helpers import run

Pair = tuple[ModelRun, ModelRun]


def _both(name: MutantName, manifests: Manifests, *ops: Op) -> Pair:
    """(real model, mutated model) after ``Create, Settle, *ops``."""
    all_ops = (Create(), Settle(), *ops)
    return (run(manifests, *all_ops, config=ModelConfig()),
            run(manifests, *all_ops, config=ModelConfig(mutant=name)))


def _rev(r: ModelRun, pod: str) -> str:
    return r.world.pods[pod].labels[REVISION_LABEL]


def _status_current(r: ModelRun) -> str:
    assert r.world.sts is not None
    return r.world.sts.status.current_revision


def failed_never_recreated() -> None:
    real, mut = _both("failed-never-recreated", set_manifests(2), FailPod(1), Settle())
    assert real.world.pods["redis-1"].phase == "Running"
    assert mut.world.pods["redis-1"].phase == "Failed"


def scale_down_ascending() -> None:
    real, mut = _both("scale-down-ascending", set_manifests(5), HoldNotReady(3),
                      HoldNotReady(4), Settle(), Scale(2), Settle())
    # CD-2: the held redis-4 is not the first unhealthy pod (redis-3 is), so nothing goes
    assert sorted(real.world.pods) == [f"redis-{i}" for i in range(5)]
    assert sorted(mut.world.pods) == ["redis-0", "redis-1"]


def update_ignores_partition() -> None:
    real, mut = _both("update-ignores-partition", set_manifests(3), SetPartition(2),
                      SetTemplate("env", "v1"), Settle())
    assert _rev(real, "redis-0") != _rev(real, "redis-2")
    assert _rev(mut, "redis-0") == _rev(mut, "redis-2")


def terminating_counted_updated() -> None:
    real, mut = _both("terminating-counted-updated", set_manifests(2), SetPartition(1),
                      SetTemplate("env", "v1"), Settle(), DeletePod(0), Settle())
    assert _rev(real, "redis-0") != _rev(real, "redis-1")  # back at the current revision
    assert _rev(mut, "redis-0") == _rev(mut, "redis-1")  # currentRevision was promoted early
    assert _status_current(real) != _status_current(mut)


def current_promoted_early() -> None:
    real, mut = _both("current-promoted-early", set_manifests(3), SetPartition(1),
                      SetTemplate("annotation", "v2"), Settle())
    assert _status_current(real) == _rev(real, "redis-0")
    assert _status_current(mut) == _rev(mut, "redis-2") != _rev(mut, "redis-0")


def pvc_of_k_for_k_plus_1() -> None:
    real, mut = _both("pvc-of-k-for-k-plus-1", set_manifests(3))
    assert real.world.pods["redis-1"].volumes == {"redis-data": "redis-data-redis-1"}
    assert mut.world.pods["redis-1"].volumes == {"redis-data": "redis-data-redis-0"}
    assert mut.world.pods["redis-0"].volumes == {"redis-data": "redis-data-redis-0"}


def ordered_two_at_once() -> None:
    real, mut = _both("ordered-two-at-once", set_manifests(3), HoldNotReady(0), DeletePod(2),
                      Settle())
    assert "redis-2" not in real.world.pods  # RP-5: the sync stops at the held redis-0
    assert "redis-2" in mut.world.pods


def parallel_waits_like_ordered() -> None:
    real, mut = _both("parallel-waits-like-ordered", set_manifests(3, "Parallel"),
                      HoldNotReady(0), DeletePod(2), Settle())
    assert "redis-2" in real.world.pods  # ORD-6: Parallel does not wait for redis-0
    assert "redis-2" not in mut.world.pods


def deleted_claims_retained() -> None:
    real, mut = _both("deleted-claims-retained", set_manifests(2),
                      SetRetention("Delete", "Retain"), Settle())
    assert [r.kind for r in real.world.claims["redis-data-redis-1"].owner_refs] == ["StatefulSet"]
    assert mut.world.claims["redis-data-redis-1"].owner_refs == []


def pod_index_label_missing() -> None:
    real, mut = _both("pod-index-label-missing", set_manifests(2))
    assert real.world.pods["redis-1"].labels[POD_INDEX_LABEL] == "1"
    assert POD_INDEX_LABEL not in mut.world.pods["redis-1"].labels


def rollback_not_bumped() -> None:
    real, mut = _both("rollback-not-bumped", set_manifests(1), SetTemplate("env", "v1"),
                      Settle(), RevertTemplate(0), Settle())

    def numbers(r: ModelRun) -> list[int]:
        """Revision numbers, the current (rolled back to) revision first."""
        current = _status_current(r)
        revs = sorted(r.world.revisions.values(), key=lambda rev: rev.name != current)
        return [rev.revision for rev in revs]

    assert numbers(real) == [3, 2]  # REV-7: the old revision is bumped past the newest
    assert numbers(mut) == [1, 2]


CASES: dict[MutantName, Callable[[], None]] = {
    "failed-never-recreated": failed_never_recreated,
    "scale-down-ascending": scale_down_ascending,
    "update-ignores-partition": update_ignores_partition,
    "terminating-counted-updated": terminating_counted_updated,
    "current-promoted-early": current_promoted_early,
    "pvc-of-k-for-k-plus-1": pvc_of_k_for_k_plus_1,
    "ordered-two-at-once": ordered_two_at_once,
    "parallel-waits-like-ordered": parallel_waits_like_ordered,
    "deleted-claims-retained": deleted_claims_retained,
    "pod-index-label-missing": pod_index_label_missing,
    "rollback-not-bumped": rollback_not_bumped,
}


def test_catalogue_is_complete_and_typed() -> None:
    assert len(MUTANTS) >= 10
    assert tuple(m.name for m in MUTANTS) == MUTANT_NAMES
    assert set(CASES) == set(MUTANT_NAMES)
    assert all(m.description and m.rules and m.hook for m in MUTANTS)
    with pytest.raises(ValueError, match="unknown mutant"):
        by_name("no-such-mutant")


@pytest.mark.parametrize("name", MUTANT_NAMES)
def test_mutant_changes_the_model(name: MutantName) -> None:
    CASES[name]()


def _exposes(scenario: Scenario, name: MutantName | None) -> bool:
    """Would a differential run flag mutant ``name`` (None: the real model) if the cluster
    behaved like the real model?

    The same comparisons as ``mutation_runs``: the per-op wait (BASIC when the mutated model is
    blocked, else TARGET), the History comparison and the strict last-point comparison.
    """
    mut = ModelRun(scenario.manifests, ModelConfig(mutant=name))
    real = ModelRun(scenario.manifests, ModelConfig())
    for index, op in enumerate(scenario.ops):
        for r in (mut, real):
            r.apply(op)
            if not isinstance(op, Settle):
                r.history.quiescent(index, True, t=r.world.now)
        if mut.livelocks or real.livelocks:
            break  # run_differential stops comparing at a livelock (F-1) too
        target = quiescent_view(mut.history, mut.history.events[-1].seq)
        seen = quiescent_view(real.history, real.history.events[-1].seq)
        level = BASIC if target["meta"]["blocked"] else TARGET
        if compare_states(target, seen, level=level):
            return True
    return bool(compare_histories(mut.history, real.history)
                or strict_differences(mut.history, real.history))


@pytest.mark.parametrize("name", MUTANT_NAMES)
def test_targeted_scenarios_expose_their_mutant(name: MutantName) -> None:
    """... and only the mutant: the real model against itself raises no alarm (the
    comparisons are not vacuous, nor too strict for these scenarios)."""
    @settings(max_examples=6, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(targeted_scenarios(name))
    def prop(scenario: Scenario) -> None:
        assert _exposes(scenario, name), scenario.to_yaml()
        assert not _exposes(scenario, None), scenario.to_yaml()

    prop()
