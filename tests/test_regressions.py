"""The conformance regression suite: every plan of ``tests/regressions/`` on the model and, with
``--sts-backend=kwok`` (or kubeconfig), on a real cluster compared with the model.

Each plan generalises one upstream e2e test of ``test/e2e/apps/statefulset.go`` (its ``upstream``
field is the test's full name) or is the seed tutorial; its ``expect`` entries state what that
test asserts. A plan passes when no check, no expectation and (on a cluster) no model/cluster
comparison finds a violation. Add a plan with ``sts-props promote PLAN --name NAME --tag TEST``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from sts_props.cluster.base import Cluster
from sts_props.expect import Expectation
from sts_props.model import ModelConfig
from sts_props.plan import Plan
from sts_props.replay import PlanRun, run_plan_on_model, run_plans_on_cluster
from sts_props.report import write_artifacts

REGRESSIONS = Path(__file__).parent / "regressions"
PLANS = sorted(REGRESSIONS.glob("*.yaml"))

_BASIC = "[sig-apps] StatefulSet Basic StatefulSet functionality [StatefulSetBasic] "
#: The upstream tests (It(...) text with its Describe path) the suite must generalise.
REQUIRED_UPSTREAM = (
    _BASIC + "should provide basic identity",
    _BASIC + "should perform rolling updates and roll backs of template modifications "
             "[Conformance]",
    _BASIC + "should perform canary updates and phased rolling updates of template "
             "modifications [Conformance]",
    _BASIC + "Scaling should happen in predictable order and halt if any stateful pod is "
             "unhealthy [Slow] [Conformance]",
    _BASIC + "Burst scaling should run to completion even with unhealthy pods [Slow] "
             "[Conformance]",
    _BASIC + "Should recreate evicted statefulset [Conformance]",
    _BASIC + "should have a working scale subresource [Conformance]",
    "[sig-apps] StatefulSet Scaling StatefulSetStartOrdinal Setting .start.ordinal",
    "[sig-apps] StatefulSet Non-retain StatefulSetPersistentVolumeClaimPolicy should delete "
    "PVCs with a WhenDeleted policy",
    "[sig-apps] StatefulSet Non-retain StatefulSetPersistentVolumeClaimPolicy should delete "
    "PVCs with a OnScaledown policy",
)


def _config(plan: Plan, version: str) -> ModelConfig:
    """The model for ``version`` (the run's, from --k8s-version or the cluster) with the
    plan's gate overrides."""
    return ModelConfig.for_version(version, **dict(plan.gates))


def _failure(run: PlanRun, where: Path) -> str:
    lines = [run.verdict(), *(f"  - {v.describe()}" for v in run.violations)]
    artifacts = write_artifacts(where, run.plan, run.history, run.violations, run.model_history)
    return "\n".join([*lines, f"artifacts: {artifacts}"])


def test_the_suite_has_the_seed_and_every_upstream_test() -> None:
    plans = [Plan.load(p) for p in PLANS]
    assert "seed-scenario" in {p.name for p in plans}
    tags = {p.upstream for p in plans}
    missing = [t for t in REQUIRED_UPSTREAM if t not in tags]
    assert not missing, f"no regression plan generalises: {missing}"
    for path, plan in zip(PLANS, plans, strict=True):
        assert plan.name == path.stem, f"{path}: name {plan.name!r} differs from the file name"
        assert plan.expect, f"{path}: a regression plan states what it asserts (expect)"
        # cluster runs in CI: short plans, no long waits
        assert len(plan.ops) <= 15
        assert int(plan.manifests.statefulset["spec"].get("minReadySeconds", 0)) <= 1


@pytest.mark.parametrize("path", PLANS, ids=[p.stem for p in PLANS])
def test_plan_passes_on_the_model(path: Path, model_config: ModelConfig, tmp_path: Path) -> None:
    plan = Plan.load(path)
    run = run_plan_on_model(plan, _config(plan, model_config.version))
    assert run.ok, _failure(run, tmp_path)


def _wrong(exp: Expectation) -> Expectation:
    """The expectation made false in every field it sets."""
    changes: dict[str, object] = {}
    for name in ("pods", "ready", "claims", "updated"):
        value = getattr(exp, name)
        if value is not None:
            changes[name] = (*value, "redis-99")
    if exp.rolled_out is not None:
        changes["rolled_out"] = not exp.rolled_out
    if exp.revisions is not None:
        changes["revisions"] = exp.revisions + 1
    if exp.outcome is not None:
        changes["outcome"] = "rejected" if exp.outcome == "accepted" else "accepted"
    return dataclasses.replace(exp, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize("path", PLANS, ids=[p.stem for p in PLANS])
def test_every_expectation_of_a_plan_can_fail(path: Path, model_config: ModelConfig) -> None:
    """Each expectation is live: made false, it is reported, once per field it sets."""
    plan = Plan.load(path)
    for i, exp in enumerate(plan.expect):
        wrong = dataclasses.replace(plan, expect=(_wrong(exp),))
        run = run_plan_on_model(wrong, _config(plan, model_config.version))
        fields = sum(getattr(exp, f) is not None
                     for f in ("pods", "ready", "claims", "updated", "rolled_out", "revisions",
                               "outcome"))
        assert [v.check for v in run.violations] == ["EXP"] * fields, (i, run.violations)


_ON_CLUSTER = "test_plan_passes_on_the_cluster_and_agrees_with_the_model"


@pytest.fixture(scope="module")
def cluster_runs(request: pytest.FixtureRequest, sts_cluster: Cluster,
                 sts_jobs: int) -> dict[Path, PlanRun]:
    """The cluster runs of every plan this session selected (``-k`` is honoured), made once,
    up to ``--sts-jobs`` side by side: one cluster-minute runs several plans."""
    paths = [item.callspec.params["path"] for item in request.session.items
             if getattr(item, "originalname", "") == _ON_CLUSTER]
    plans = [Plan.load(p) for p in paths]
    version = sts_cluster.version()
    runs = run_plans_on_cluster(plans, sts_cluster, jobs=sts_jobs,
                                config_of=lambda plan: _config(plan, version))
    return dict(zip(paths, runs, strict=True))


@pytest.mark.cluster
@pytest.mark.parametrize("path", PLANS, ids=[p.stem for p in PLANS])
def test_plan_passes_on_the_cluster_and_agrees_with_the_model(
        path: Path, cluster_runs: dict[Path, PlanRun], tmp_path: Path) -> None:
    run = cluster_runs[path]
    assert run.model_history is not None
    assert run.ok, _failure(run, tmp_path)
    # the run went all the way: one quiescent point per op, none cut short
    assert not run.stopped
    assert sum(1 for _ in run.history.quiescent_points()) == len(run.plan.ops)
