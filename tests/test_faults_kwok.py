"""The fault ops of issue 5 on a kwok cluster, differentially against the model
(``pytest --sts-backend=kwok tests/test_faults_kwok.py``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sts_props.cluster.base import Cluster, ClusterError, typed_apis
from sts_props.cluster.driver import ClusterRun
from sts_props.differential import DifferentialResult, run_differential
from sts_props.ops import (
    AllowPodWrites,
    Create,
    DeletePod,
    DenyPodWrites,
    EvictPod,
    FailNode,
    FailPod,
    FlapReadiness,
    HoldTerminating,
    KillPod,
    Op,
    ReleaseTerminating,
    RestartApiserver,
    RestartController,
    Scale,
    SetTemplate,
    Settle,
)
from sts_props.scenario import Manifests, Scenario
from sts_props.suite import SuiteSummary

pytestmark = pytest.mark.cluster


def _run(cluster: Cluster, *ops: Op) -> DifferentialResult:
    result = run_differential(Scenario(Manifests.seed(), (Create(), Settle(), *ops)), cluster)
    assert result.ok, result.render()
    return result


def _recovered(result: DifferentialResult) -> None:
    for index, kind, verdict in result.liveness:
        assert verdict.verdict == "converged", (index, kind, verdict.describe())


def test_pod_kill_eviction_flap_and_finalizer_hold_match_the_model(sts_cluster: Cluster) -> None:
    result = _run(sts_cluster, KillPod(2), EvictPod(1), FlapReadiness(0), HoldTerminating(1),
                  DeletePod(1), ReleaseTerminating(1), Settle())
    assert dict(result.faults) == {"kill_pod": 1, "evict_pod": 1, "flap_readiness": 1,
                                   "hold_terminating": 1, "release_terminating": 1}
    _recovered(result)
    # the held pod really stayed Terminating until the finalizer went (PR-2)
    held = [ev for ev in result.cluster_history.objects("Pod") if ev.name == "redis-1"
            and ev.obj["metadata"].get("deletionTimestamp") and ev.action == "MODIFIED"]
    assert held


def test_node_failure_evicts_the_node_pods_and_they_come_back(sts_cluster: Cluster) -> None:
    result = _run(sts_cluster, Scale(4), Settle(), FailNode(1), Settle())
    performed = [ev.data["op"] for ev in result.cluster_history.ops()
                 if ev.phase == "ok" and ev.data["op"]["op"] == "fail_node"]
    assert len(performed) == 1  # the cluster recorded which pods shared the node
    assert 1 not in performed[0]["colocated"]
    assert result.faults["fail_node"] == 1
    _recovered(result)
    core = typed_apis(sts_cluster.api_client())[0]
    assert all(not (n.spec.unschedulable or False) for n in core.list_node().items)


@pytest.mark.backend("kwok")  # the backend that runs kube-controller-manager as a process
def test_controller_restart_mid_rollout_resumes(sts_cluster: Cluster) -> None:
    result = _run(sts_cluster, SetTemplate("env", "restart"), RestartController(), Settle())
    assert [k for k, _ in result.fault_seconds] == ["restart_controller"]
    assert result.fault_seconds[0][1] < 30
    _recovered(result)


def test_write_denial_refuses_deletes_and_blocks_replacement_until_lifted(
        sts_cluster: Cluster) -> None:
    result = _run(sts_cluster, DenyPodWrites(1), DeletePod(1), FailPod(1), Scale(5),
                  AllowPodWrites(), Settle())
    outcomes = {ev.data["index"]: ev.data["outcome"] for ev in result.cluster_history.ops()
                if ev.phase in ("ok", "fail")}
    assert (outcomes[3]["code"], outcomes[3]["reason"]) == (403, "Forbidden")
    assert result.faults == {"deny_pod_writes": 1, "allow_pod_writes": 1}


def test_apiserver_restart_is_not_offered_and_is_refused_visibly(
        sts_cluster: Cluster, cluster_run: Callable[[Manifests], ClusterRun]) -> None:
    # kwokctl picks ports without reserving them: while the apiserver is down another
    # cluster on the machine may take its port, and kube-controller-manager and the scheduler
    # exit when they lose their leader lease (nothing restarts them). Not offered, so skipped.
    assert "restart_apiserver" in sts_cluster.capabilities.missing_faults()
    run = cluster_run(Manifests.seed())
    with pytest.raises(ClusterError, match="cannot perform restart_apiserver"):
        run.apply(RestartApiserver())
    summary = SuiteSummary(backend="kwok", skipped_faults=["restart_apiserver"])
    assert "faults skipped (the backend cannot perform them): restart_apiserver" in \
        summary.render()
