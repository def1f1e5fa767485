"""The kwok backend restarts control-plane components that exit by themselves, and says so
(``pytest --sts-backend=kwok tests/test_supervisor_kwok.py``).

Seen in CI on v1.37.2: kube-scheduler exited ("Scheduler cache is corrupted") right after an
apiserver restart, and every later pod stayed Pending. A kubelet would restart it; kwokctl's
binary runtime does not, so :meth:`KwokCluster.supervise` does.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

import pytest

from sts_props.cluster.base import Cluster
from sts_props.cluster.driver import ClusterRun
from sts_props.cluster.kwok import KwokCluster
from sts_props.cluster.lifecycle import pid_alive
from sts_props.differential import run_differential
from sts_props.ops import Create, Scale, Settle
from sts_props.scenario import Manifests, Scenario

pytestmark = [pytest.mark.cluster, pytest.mark.backend("kwok")]


def _kill(cluster: KwokCluster, component: str) -> int:
    pid = int((cluster.cluster_dir / "pids" / f"{component}.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    return pid


def test_a_crashed_scheduler_is_restarted_during_a_wait_and_reported(
        sts_cluster: Cluster, cluster_run: Callable[[Manifests], ClusterRun]) -> None:
    assert isinstance(sts_cluster, KwokCluster)
    before = len(sts_cluster.crashes)
    run = cluster_run(Manifests.seed())
    assert run.apply(Create()).ok
    pid = _kill(sts_cluster, "kube-scheduler")
    # Nothing else restarts it: the wait itself must notice within SUPERVISE_EVERY.
    ok, why = run.wait_until(
        lambda: "" if len(sts_cluster.crashes) > before else "no restart yet", 60,
        "the supervisor to restart kube-scheduler")
    assert ok, why
    line = sts_cluster.crashes[before]
    assert line.startswith(f"kube-scheduler (pid {pid}) exited by itself"), line
    new = int((sts_cluster.cluster_dir / "pids" / "kube-scheduler.pid").read_text())
    assert new != pid and pid_alive(new)


def test_pods_created_after_a_crash_still_run_and_match_the_model(sts_cluster: Cluster) -> None:
    assert isinstance(sts_cluster, KwokCluster)
    before = len(sts_cluster.crashes)
    _kill(sts_cluster, "kube-scheduler")  # no pod would be placed on a node without it
    result = run_differential(
        Scenario(Manifests.seed(), (Create(), Settle(), Scale(4), Settle())), sts_cluster)
    assert result.ok, result.render()
    assert any(c.startswith("kube-scheduler") for c in sts_cluster.crashes[before:])
