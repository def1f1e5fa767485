"""docs/findings.md F-8 on a real control plane (``pytest --sts-backend=kwok``, v1.37 or later):
the alpha ``Recreate`` update strategy (gate StatefulSetRecreateStrategy, KEP-3541) on a cluster
of its own with the gate on.

* F-8a: a scale-down that meets a template change deletes the condemned pods in the Recreate
  step, before their claims get the pod's owner reference, so ``whenScaled: Delete`` keeps
  their claims, for good. The control, RollingUpdate with the same ops, deletes them.
* F-8b: switching a set away from Recreate while it recreates leaves its ``Progressing``
  condition at ``RecreateInProgress`` through every later rollout.

And the gate itself: off (the default), the apiserver refuses the strategy.

These tests pin upstream's behaviour: when a release fixes one, its test fails, and F-8
should be revisited.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sts_props.cluster.base import typed_apis
from sts_props.cluster.driver import ClusterRun
from sts_props.ops import Create
from sts_props.scenario import Manifests
from sts_props.versions import parse_version
from tests.cluster_helpers import poll

pytestmark = [pytest.mark.cluster, pytest.mark.backend("kwok")]

GATE = "StatefulSetRecreateStrategy"


@pytest.fixture(scope="module")
def recreate_cluster(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A kwok cluster of ``--k8s-version`` with the Recreate gate on (its own: the session's
    cluster runs with the version's default gates)."""
    from sts_props.cluster.kwok import KwokCluster

    version = str(request.config.getoption("--k8s-version"))
    if parse_version(version) < (37, 0):
        pytest.skip(f"{GATE} and the Recreate strategy exist from v1.37 (kube_features.go); "
                    f"{version} has neither")
    with KwokCluster(version, feature_gates={GATE: True}) as cluster:
        yield cluster


def _ready(apps: Any, namespace: str, n: int) -> Callable[[], str]:
    def condition() -> str:
        status = apps.read_namespaced_stateful_set("redis", namespace).status
        counts = (status.replicas or 0, status.ready_replicas or 0, status.updated_replicas or 0)
        return "" if counts == (n, n, n) else f"replicas, ready, updated: {counts}"
    return condition


def _seed(strategy: str, retention: dict[str, str] | None = None) -> Manifests:
    seed = Manifests.seed()
    sts = seed.statefulset
    sts["spec"]["updateStrategy"] = {"type": strategy}
    if retention is not None:
        sts["spec"]["persistentVolumeClaimRetentionPolicy"] = retention
    return Manifests.of(sts, seed.service, seed.storageclass)


def _started(cluster: Any, manifests: Manifests) -> tuple[ClusterRun, Any, Any]:
    run = ClusterRun(cluster, manifests)
    run.__enter__()
    core, apps, _ = typed_apis(run.api)
    assert run.apply(Create()).ok
    missing = poll(_ready(apps, run.namespace, 3), 60.0)
    assert not missing, missing
    return run, core, apps


_TEMPLATE_CHANGE = {"op": "add", "path": "/spec/template/metadata/annotations",
                    "value": {"sts-props.io/changed": "yes"}}


@pytest.mark.parametrize("strategy", ["Recreate", "RollingUpdate"])
def test_a_scale_down_meeting_a_recreate_keeps_the_condemned_claims(
        recreate_cluster: Any, strategy: str) -> None:
    """replicas 3 -> 1 and a new template in one patch, ``whenScaled: Delete``: the claims of
    ordinals 1 and 2 must go with their pods (STO-9 d, STO-10). Under Recreate they stay, with
    no owner reference, 10 s after the set settled (F-8a); under RollingUpdate (the control)
    they go."""
    run, core, apps = _started(recreate_cluster, _seed(
        strategy, {"whenDeleted": "Retain", "whenScaled": "Delete"}))
    try:
        apps.patch_namespaced_stateful_set("redis", run.namespace, [
            {"op": "replace", "path": "/spec/replicas", "value": 1}, _TEMPLATE_CHANGE])
        missing = poll(_ready(apps, run.namespace, 1), 60.0)
        assert not missing, missing

        def claims() -> dict[str, list[str]]:
            return {c.metadata.name: [o.kind for o in c.metadata.owner_references or []]
                    for c in core.list_namespaced_persistent_volume_claim(run.namespace).items}

        if strategy == "RollingUpdate":
            missing = poll(lambda: "" if set(claims()) == {"redis-data-redis-0"}
                            else f"claims {sorted(claims())}", 30.0)
            assert not missing, missing
            return
        time.sleep(10)  # the garbage collector has long acted on any owner reference by now
        assert claims() == {"redis-data-redis-0": [], "redis-data-redis-1": [],
                            "redis-data-redis-2": []}
    finally:
        run.__exit__(None, None, None)


def test_switching_away_from_recreate_leaves_its_progressing_condition(
        recreate_cluster: Any) -> None:
    """A Recreate held by a pod that does not finish terminating (a finalizer), then the
    strategy set to RollingUpdate: the rollout completes, and a second one too, but the set
    still says ``Progressing=True, RecreateInProgress, Deleting old revision pods`` (F-8b):
    only a Recreate set's completion clears it (``completeUpdate``)."""
    run, core, apps = _started(recreate_cluster, _seed("Recreate"))
    namespace = run.namespace
    try:
        core.patch_namespaced_pod("redis-1", namespace,
                                  {"metadata": {"finalizers": ["sts-props.io/hold"]}})
        apps.patch_namespaced_stateful_set("redis", namespace, [_TEMPLATE_CHANGE])

        def conditions() -> list[tuple[str, str, str]]:
            status = apps.read_namespaced_stateful_set("redis", namespace).status
            return [(c.type, c.status, c.reason) for c in status.conditions or []]

        in_progress = [("Progressing", "True", "RecreateInProgress")]
        missing = poll(lambda: "" if conditions() == in_progress
                        else f"conditions {conditions()}", 30.0)
        assert not missing, missing
        apps.patch_namespaced_stateful_set("redis", namespace, [{
            "op": "replace", "path": "/spec/updateStrategy",
            "value": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}}])
        core.patch_namespaced_pod("redis-1", namespace,
                                  [{"op": "remove", "path": "/metadata/finalizers"}])
        for value in ("again", "and again"):  # the interrupted rollout ends, then a second one
            missing = poll(_ready(apps, namespace, 3), 60.0)
            assert not missing, missing
            apps.patch_namespaced_stateful_set("redis", namespace, [{
                "op": "replace", "path": "/spec/template/metadata/annotations",
                "value": {"sts-props.io/changed": value}}])
            time.sleep(1)
        missing = poll(_ready(apps, namespace, 3), 60.0)
        assert not missing, missing
        status = apps.read_namespaced_stateful_set("redis", namespace).status
        assert status.current_revision == status.update_revision
        time.sleep(3)
        assert conditions() == in_progress
    finally:
        with_finalizer = core.read_namespaced_pod("redis-1", namespace)
        if with_finalizer.metadata.finalizers:
            core.patch_namespaced_pod("redis-1", namespace,
                                      [{"op": "remove", "path": "/metadata/finalizers"}])
        run.__exit__(None, None, None)


def test_the_strategy_is_taken_as_the_versions_default_gate_says(sts_cluster: Any) -> None:
    """The session's cluster runs with the version's default gates: Recreate is alpha and off
    in 1.37, so the apiserver refuses ``updateStrategy.type: Recreate`` and names the two it
    takes; it is beta and on from 1.38, so the same set is created."""
    from kubernetes.client.exceptions import ApiException

    from sts_props.model.config import default_gates

    run = ClusterRun(sts_cluster, _seed("Recreate"))
    run.__enter__()
    try:
        create = typed_apis(run.api)[1].create_namespaced_stateful_set
        if default_gates(*parse_version(sts_cluster.k8s_version))[GATE]:
            created = create(run.namespace, _seed("Recreate").statefulset)
            assert created.spec.update_strategy.type == "Recreate"
            return
        with pytest.raises(ApiException) as refused:
            create(run.namespace, _seed("Recreate").statefulset)
        assert refused.value.status == 422
        assert "spec.updateStrategy: Invalid value" in str(refused.value.body)
        assert "must be 'RollingUpdate' or 'OnDelete'" in str(refused.value.body)
    finally:
        run.__exit__(None, None, None)


def test_generated_recreate_scenarios_agree_with_the_model(recreate_cluster: Any,
                                                           tmp_path: Any) -> None:
    """The model's Recreate (RCR-1, RCR-2) against the real controller: pool-selected
    scenarios with the gate on, side by side; every check and the model comparison pass, and
    Recreate sets were among them."""
    from sts_props.model import ModelConfig
    from sts_props.suite import run_cluster_suite

    config = ModelConfig.for_version(recreate_cluster.k8s_version, **{GATE: True})
    summary = run_cluster_suite(recreate_cluster, config=config, examples=8, seed=11, jobs=4,
                                pool_examples=300, artifacts_dir=tmp_path,
                                progress=lambda _: None)
    assert summary.ok, summary.render()
    assert summary.rules["RCR-1"] > 0, summary.render()
    assert "of the alpha Recreate strategy" in summary.render()


@pytest.mark.parametrize("denied", [0, 1])
def test_a_refused_delete_in_a_recreate_agrees_with_the_model(recreate_cluster: Any,
                                                              denied: int) -> None:
    """RCR-1's slow-start batches on the real controller, with the template changed while an
    admission policy refuses one pod's DELETE. web-1 refused: web-0 (batch 1) and web-2
    (batch 2, beside the refused one) go, web-1 stays and nothing is re-created while it does
    (RCR-2). web-0 refused: its batch fails first, so web-1 and web-2 stay old too, and the
    settled state must not be flagged for them (Q/RCR-1 flagged it until 2026-12-07, found on
    v1.38.0-beta.0). Once writes are allowed the Recreate completes. Model and cluster agree
    at every step."""
    from sts_props.differential import run_differential
    from sts_props.model import ModelConfig
    from sts_props.ops import AllowPodWrites, DenyPodWrites, SetTemplate, Settle
    from sts_props.scenario import Scenario

    config = ModelConfig.for_version(recreate_cluster.k8s_version, **{GATE: True})
    ops = (Create(), Settle(), DenyPodWrites(denied), SetTemplate("image", "redis:7"), Settle(),
           AllowPodWrites(), Settle())
    result = run_differential(Scenario(_seed("Recreate"), ops), recreate_cluster, config)
    assert result.ok, result.render()
    assert result.rules["RCR-1"] >= 3, result.render()
