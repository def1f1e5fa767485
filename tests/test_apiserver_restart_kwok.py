"""RestartApiserver on a kwok cluster (``pytest --sts-backend=kwok
tests/test_apiserver_restart_kwok.py``), plus the pieces that let a run ride out the outage
(recorder relist, driver retries, port check), which run without a cluster.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Callable
from typing import Any

import pytest
import urllib3

from sts_props.cluster.base import Cluster, ClusterError
from sts_props.cluster.driver import ClusterRun
from sts_props.cluster.kwok.cluster import LEADERS, WATCH_DEADLINE, KwokCluster, _port_free
from sts_props.cluster.lifecycle import pid_alive
from sts_props.cluster.recorder import _SYNC, Recorder
from sts_props.cluster.watch_census import WATCHED, census, missing
from sts_props.differential import DifferentialResult, run_differential
from sts_props.ops import Create, Op, RestartApiserver, Scale, SetTemplate, Settle
from sts_props.scenario import Manifests, Scenario
from sts_props.snapshot import is_ready


def _run(cluster: Cluster, *ops: Op) -> DifferentialResult:
    result = run_differential(Scenario(Manifests.seed(), (Create(), Settle(), *ops)), cluster)
    assert result.ok, result.render()
    return result


def _restart_ok(result: DifferentialResult) -> None:
    """One apiserver restart, recorded as an ok op with its duration; recovery converged."""
    assert result.faults == {"restart_apiserver": 1}
    assert [k for k, _ in result.fault_seconds] == ["restart_apiserver"]
    # the leases renew within seconds; the informers may wait out their backoff (watch_census)
    assert result.fault_seconds[0][1] < 30 + WATCH_DEADLINE
    done = [ev for ev in result.cluster_history.ops()
            if ev.data["op"]["op"] == "restart_apiserver" and ev.phase != "invoke"]
    assert [ev.phase for ev in done] == ["ok"]
    assert done[0].data["faultSeconds"] > 0
    for index, kind, verdict in result.liveness:
        assert verdict.verdict == "converged", (index, kind, verdict.describe())


def _leading(cluster: KwokCluster, since: float) -> None:
    """kube-controller-manager and kube-scheduler run and renewed their Lease after ``since``."""
    from kubernetes import client

    api = cluster.api_client()
    try:
        coord = client.CoordinationV1Api(api)
        for component in LEADERS:
            pid = int((cluster.cluster_dir / "pids" / f"{component}.pid").read_text())
            assert pid_alive(pid), component
            spec: Any = coord.read_namespaced_lease(component, "kube-system").spec
            assert spec.holder_identity, component
            assert spec.renew_time.timestamp() >= since, component
    finally:
        api.close()


@pytest.mark.cluster
@pytest.mark.backend("kwok")
def test_restart_then_scale_up_matches_the_model(sts_cluster: Cluster) -> None:
    result = _run(sts_cluster, RestartApiserver(), Scale(5), Settle())
    _restart_ok(result)
    assert "restart_apiserver" in sts_cluster.capabilities.faults


@pytest.mark.cluster
@pytest.mark.backend("kwok")
def test_restart_in_the_middle_of_a_rolling_update_matches_the_model(
        sts_cluster: Cluster) -> None:
    # no Settle between: the restart lands while the controller replaces pods
    result = _run(sts_cluster, SetTemplate("env", "apiserver-restart"), RestartApiserver(),
                  Settle())
    _restart_ok(result)


@pytest.mark.cluster
@pytest.mark.backend("kwok")
def test_controllers_alive_and_leading_after_a_restart_even_if_one_died(
        sts_cluster: Cluster, cluster_run: Callable[[Manifests], ClusterRun]) -> None:
    assert isinstance(sts_cluster, KwokCluster)
    run = cluster_run(Manifests.seed())
    assert run.apply(Create()).ok
    # The scheduler exits when the apiserver stays away past its renew deadline (10 s); kill
    # it now to take that path without waiting: the restart must notice and start it again.
    pids = sts_cluster.cluster_dir / "pids"
    scheduler = int((pids / "kube-scheduler.pid").read_text())
    os.kill(scheduler, signal.SIGKILL)
    before = time.time()
    outcome = run.apply(RestartApiserver())
    assert outcome.ok, outcome
    assert int((pids / "kube-scheduler.pid").read_text()) != scheduler
    _leading(sts_cluster, before)
    # and the controllers work: the set reaches 5 Ready pods (scheduled, so the new
    # scheduler leads, and created, so the controller-manager does)
    assert run.apply(Scale(5)).ok

    def missing() -> str:
        ready = [n for n, pod in run.rec.live["Pod"].items() if is_ready(pod)]
        return "" if len(ready) == 5 else f"{len(ready)} of 5 pods Ready"

    ok, why = run.wait_until(missing, 60, "5 Ready pods after the restart")
    assert ok, why
    assert not run.rec.errors
    # the watches broke and came back (resumed, or relisted after 410 Gone)
    assert run.rec.outage_failures
    print(f"watch failures in the outage: {len(run.rec.outage_failures)}, "
          f"relists: {run.rec.relists}")


@pytest.mark.cluster
@pytest.mark.backend("kwok")
def test_a_restart_returns_once_every_informer_watches_again(sts_cluster: Cluster) -> None:
    assert isinstance(sts_cluster, KwokCluster)
    api = sts_cluster.api_client()
    try:
        before = census(api)
        # The census must see the control plane's informers, or the wait would be a no-op:
        # kube-controller-manager watches sets and revisions, the scheduler nodes and volumes.
        assert before is not None
        for key in (("apps", "statefulsets"), ("apps", "controllerrevisions"), ("", "pods"),
                    ("", "nodes"), ("", "persistentvolumes")):
            assert key in WATCHED and before.get(key, 0) >= 1, (key, before)
        lines: list[str] = []
        progress = sts_cluster.progress
        sts_cluster.progress = lines.append
        try:
            sts_cluster.restart_component("kube-apiserver")
        finally:
            sts_cluster.progress = progress
        after = census(api)
    finally:
        api.close()
    assert after is not None
    assert missing(before, after) == []
    assert any("every watch back after" in line for line in lines), lines


# -- without a cluster ---------------------------------------------------------------------------
def test_port_check_sees_a_listener() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert not _port_free(port)
    assert _port_free(port)


class _Api:
    """Just enough of an ApiClient for the recorder's bookkeeping and the driver's wrapper."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0
        self.configuration = type("Cfg", (), {"verify_ssl": False, "ssl_ca_cert": None,
                                              "cert_file": None, "key_file": None})()

    def call_api(self, path: str, method: str, **_: Any) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise urllib3.exceptions.NewConnectionError(None, "Connection refused")  # type: ignore[arg-type]
        return "answer"


def _pod(name: str, rv: int, uid: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "resourceVersion": str(rv), "uid": uid},
            "spec": {}, "status": {}}


def test_a_relist_after_a_gap_emits_deletions_and_replacements() -> None:
    rec = Recorder(_Api(0), "ns", t0=time.time(), header={"backend": "kwok", "set_name": "web"})
    for item in (("Pod", "ADDED", _pod("web-0", 10, "a")), ("Pod", "ADDED", _pod("web-1", 11, "b")),
                 ("Pod", "ADDED", _pod("web-2", 12, "c"))):
        rec._apply(*item)
    # during the outage web-1 was replaced (new uid) and web-2 deleted; the relist at rv 30
    rec._apply("Pod", "ADDED", _pod("web-0", 10, "a"))
    rec._apply("Pod", "ADDED", _pod("web-1", 25, "b2"))
    rec._apply("Pod", _SYNC, {"rv": "30", "names": ["web-0", "web-1"]})
    actions = [(ev.action, ev.name, ev.data["rv"]) for ev in rec.history().objects()]
    assert actions[3:] == [("DELETED", "web-1", 25), ("ADDED", "web-1", 25),
                           ("DELETED", "web-2", 30)]
    assert sorted(rec.live["Pod"]) == ["web-0", "web-1"]


def test_watch_failures_in_a_planned_outage_are_not_errors() -> None:
    rec = Recorder(_Api(0), "ns", t0=time.time(), header={"backend": "kwok", "set_name": "web"})
    rec.expect_outage(time.monotonic() + 60)
    assert rec._in_outage()
    rec.expect_outage(time.monotonic() - 1)
    assert not rec._in_outage()


def _wrapped(api: _Api, until: float) -> ClusterRun:
    run = ClusterRun.__new__(ClusterRun)
    run.outage_until = until
    run._retry_in_outages(api)
    return run


def test_api_calls_are_retried_only_in_a_planned_outage() -> None:
    api = _Api(failures=2)
    _wrapped(api, time.monotonic() + 60)
    assert api.call_api("/api/v1/pods", "GET") == "answer"
    assert api.calls == 3
    api = _Api(failures=1)
    _wrapped(api, 0.0)  # no outage: the error is the caller's, at once
    with pytest.raises(urllib3.exceptions.NewConnectionError):
        api.call_api("/api/v1/pods", "GET")
    api = _Api(failures=100)
    _wrapped(api, time.monotonic() + 0.5)  # the window closes with the apiserver still away
    with pytest.raises(ClusterError, match="did not come back"):
        api.call_api("/api/v1/pods", "POST")
