"""A divergence ends the scenario (issue 12, item 2): ``pytest --sts-backend=kwok
tests/test_stop_at_divergence_kwok.py``.

A model made wrong on purpose (the ``pvc-of-k-for-k-plus-1`` mutant mounts claim k in pod k+1;
the real controller mounts each pod's own claim) cannot be followed by the cluster once the set
scales from 1 to 3: the run must stop after that op, report the ops it did not run, and spend
one wait deadline on the divergence, not one per remaining op.
"""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

import pytest

from sts_props.cluster.base import Cluster
from sts_props.differential import run_differential
from sts_props.model import ModelConfig
from sts_props.ops import Create, Scale, Settle
from sts_props.scenario import Manifests, Scenario

pytestmark = pytest.mark.cluster

OP_TIMEOUT = 8.0


def test_the_run_stops_after_the_first_divergent_op(sts_cluster: Cluster,
                                                     model_config: ModelConfig) -> None:
    wrong = dataclasses.replace(model_config, mutant="pvc-of-k-for-k-plus-1")
    seed = Manifests.seed()
    one = copy.deepcopy(seed.statefulset)
    one["spec"]["replicas"] = 1
    ops = (Create(), Settle(), Scale(3), Settle(), Scale(1), Settle())
    result = run_differential(Scenario(seed.with_statefulset(one), ops), sts_cluster, wrong,
                              op_timeout=OP_TIMEOUT)
    assert result.diverged_at == 2, result.render()
    assert result.not_run == 3, result.render()
    assert "the cluster diverged after op 2: 3 op(s) not run" in result.render()
    waits = [v for v in result.violations if v.check == "L"]
    assert len(waits) == 1 and "3 later op(s) not run" in waits[0].message
    # what still differed when it stopped
    assert "still different: Pod redis-1 has volumes" in waits[0].message
    invoked = {ev.data["index"] for ev in result.cluster_history.ops() if ev.phase == "invoke"}
    assert invoked == {0, 1, 2}
    # one deadline on the divergence (and a few seconds to create the set), not five
    assert result.seconds < OP_TIMEOUT + 30, result.seconds


def test_a_failing_run_keeps_the_controllers_log_lines(sts_cluster: Cluster,
                                                       model_config: ModelConfig) -> None:
    """The artifacts of a failing run carry what the StatefulSet controller logged meanwhile
    (kwok, and kwok-image from inside its container: its file at -v=4, so each sync's
    revisions and status); the backends whose logs the harness cannot read keep none."""
    wrong = dataclasses.replace(model_config, mutant="pvc-of-k-for-k-plus-1")
    seed = Manifests.seed()
    one = copy.deepcopy(seed.statefulset)
    one["spec"]["replicas"] = 1
    result = run_differential(Scenario(seed.with_statefulset(one), (Create(), Scale(2))),
                              sts_cluster, wrong, op_timeout=OP_TIMEOUT)
    assert result.violations
    if sts_cluster.name not in ("kwok", "kwok-image"):
        assert result.logs == {}
        return
    namespace = str(result.cluster_history.header["namespace"])
    log = result.logs["kube-controller-manager"]
    syncs = [line for line in log.splitlines() if f'statefulSet="{namespace}/redis"' in line]
    assert any('"StatefulSet revisions"' in line for line in syncs), log[-2000:]
    assert any('"Updated status"' in line and "replicas=2" in line for line in syncs), log[-2000:]


def test_check_stops_its_scenarios_at_a_divergence_too(sts_cluster: Cluster,
                                                       model_config: ModelConfig,
                                                       tmp_path: Path) -> None:
    """``sts-props check`` on a cluster (``run_cluster_suite``) stops a scenario at its first
    divergence, as the README says: its default was once False, and a failing scenario then
    waited a deadline for every later op."""
    from sts_props.suite import run_cluster_suite

    wrong = dataclasses.replace(model_config, mutant="pvc-of-k-for-k-plus-1")
    summary = run_cluster_suite(sts_cluster, config=wrong, examples=1, seed=3, faults=False,
                                op_timeout=OP_TIMEOUT, shrink_budget=1, pool_examples=100,
                                artifacts_dir=tmp_path, progress=lambda _: None)
    assert not summary.ok
    assert any("later op(s) not run" in v.message for v in summary.violations), \
        summary.render()
