"""Controller mutation testing end to end on kwok (``pytest --sts-backend=kwok``): the control
(the unmodified controller, built from the module source the same way as a mutant) shows no
violation on the main job's scenarios, and a mutant the harness catches quickly is caught.

Each runs on its own kwok cluster whose kube-controller-manager is the patched build (checked
through ``/proc/<pid>/exe``); a third cluster with the control replays the mutant's
counterexample, which must pass there. About 2.5 minutes once the two builds are cached (~30 s
each).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sts_props.controller_mutants import run_controller_mutants

pytestmark = [pytest.mark.cluster, pytest.mark.backend("kwok")]

#: caught at the first op's quiescent point: the status never shows the set's generation
QUICK_MUTANT = "observed-generation-stale"


def test_the_control_is_clean_and_a_mutant_is_caught(request: pytest.FixtureRequest,
                                                     tmp_path: Path) -> None:
    version = str(request.config.getoption("--k8s-version"))
    if version != "v1.37.2":
        pytest.skip(f"the catalogue's diffs are written against v1.37.2, not {version}")
    lines: list[str] = []
    report = run_controller_mutants(
        [QUICK_MUTANT], version=version, examples=3, seed=3, shrink_budget=1,
        op_timeout=20.0, artifacts_dir=tmp_path, progress=lines.append)
    print("\n" + report.render())
    control, mutant = report.results
    assert control.name == "control" and not control.error, control.error
    assert report.control_clean is True, control.message
    assert control.scenarios == 3
    assert not mutant.error, mutant.error
    assert mutant.caught and report.score == (1, 1)
    # found by waiting: the cluster never reaches the model's state after the first op
    assert "observedGeneration" in mutant.message, mutant.message
    assert "observedGeneration" in mutant.evidence, mutant.evidence
    assert mutant.first_violation_seconds is not None
    assert mutant.first_violation_seconds <= mutant.run_seconds
    assert mutant.shrunk_ops is not None and mutant.shrunk_ops >= 9  # --min-ops 8 + Create
    assert mutant.artifacts is not None and (mutant.artifacts / "plan.yaml").is_file()
    # it fails again on the mutant and passes on the unmodified controller: the mutation did it
    assert mutant.reproduced is True
    assert mutant.confirmed is True, mutant.control_violation
