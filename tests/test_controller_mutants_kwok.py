"""Controller mutation testing end to end on kwok (``pytest --sts-backend=kwok``): the control
(the unmodified controller, built from the module source the same way as a mutant) shows no
violation on the main job's scenarios, and three mutants the harness catches quickly are caught.

Each runs on its own kwok cluster whose kube-controller-manager is the patched build (checked
through ``/proc/<pid>/exe``), two clusters at a time (``clusters=2``); one more cluster with the
control replays the mutants' counterexamples, which must pass there.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sts_props.controller_mutants import mutant_scenarios, run_controller_mutants
from sts_props.scenario import Scenario

pytestmark = [pytest.mark.cluster, pytest.mark.backend("kwok")]

#: caught at the first op's quiescent point: the status never shows the set's generation
QUICK_MUTANT = "observed-generation-stale"
#: also caught at the first op's quiescent point of the first picked scenario (issue 12: CI
#: runs the control and at least three mutants): a pod without its index label, and a claim
#: whose ownerReference (whenDeleted Delete) is not a controller reference
MORE_MUTANTS = ("pod-index-label-missing", "claim-refs-not-controller")
#: The last mutant needs a picked scenario whose claims the set owns (volumeClaimTemplates and
#: whenDeleted Delete). Which seed gives one is worked out in the test's own process
#: (mutant_scenarios: the pick the run then reuses), from these: Hypothesis also draws
#: constants found in the loaded modules, so a seed's pick differs between processes that
#: loaded different modules (seed 4 had such sets in a script and none under pytest).
SEEDS = range(1, 41)


def _claims_owned_by_the_set(scenario: Scenario) -> bool:
    spec = scenario.manifests.statefulset.get("spec") or {}
    policy = spec.get("persistentVolumeClaimRetentionPolicy") or {}
    return bool(spec.get("volumeClaimTemplates")) and policy.get("whenDeleted") == "Delete"


def _seed(version: str) -> int:
    for seed in SEEDS:
        if any(_claims_owned_by_the_set(sc)
               for sc in mutant_scenarios(version, examples=3, seed=seed)):
            return seed
    raise AssertionError(f"no seed in {SEEDS} picks a set that owns its claims")


def test_the_control_is_clean_and_a_mutant_is_caught(request: pytest.FixtureRequest,
                                                     tmp_path: Path) -> None:
    version = str(request.config.getoption("--k8s-version"))
    if version != "v1.37.2":
        pytest.skip(f"the catalogue's diffs are written against v1.37.2, not {version}")
    lines: list[str] = []
    seed = _seed(version)
    report = run_controller_mutants(
        [QUICK_MUTANT, *MORE_MUTANTS], version=version, examples=3, seed=seed, shrink_budget=1,
        op_timeout=20.0, artifacts_dir=tmp_path, progress=lines.append, clusters=2)
    print("\n" + report.render())
    control, mutant, *more = report.results
    # two clusters at once: the first mutant started before the control had finished
    assert next(i for i, ln in enumerate(lines) if ln.startswith("[2/4] ")) < next(
        i for i, ln in enumerate(lines) if ln.startswith("  => ")), "\n".join(lines)
    assert control.name == "control" and not control.error, control.error
    assert report.control_clean is True, control.message
    assert control.scenarios == 3
    assert not mutant.error, mutant.error
    assert report.score == (3, 3), (
        f"{report.render()}\n(seed {seed}: its picks have a set that owns its claims)")
    for other in more:  # caught, failed again on the mutant and passed on the control
        assert other.caught and other.reproduced is True and other.confirmed is True, \
            (other.name, other.message, other.control_violation)
    # found by waiting: the cluster never reaches the model's state after the first op
    assert "observedGeneration" in mutant.message, mutant.message
    assert "observedGeneration" in mutant.evidence, mutant.evidence
    assert mutant.first_violation_seconds is not None
    assert mutant.first_violation_seconds <= mutant.run_seconds
    # the reducer keeps Create and never lengthens the picked scenario it started from
    longest = max(len(sc.ops) for sc in mutant_scenarios(version, examples=3, seed=seed))
    assert mutant.shrunk_ops is not None and 1 <= mutant.shrunk_ops <= longest
    assert mutant.artifacts is not None and (mutant.artifacts / "plan.yaml").is_file()
    # it fails again on the mutant and passes on the unmodified controller: the mutation did it
    assert mutant.reproduced is True
    assert mutant.confirmed is True, mutant.control_violation
