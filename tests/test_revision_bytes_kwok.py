"""docs/findings.md F-7 on a real control plane (``pytest --sts-backend=kwok``): a
ControllerRevision whose ``data`` is not in Go's canonical JSON can never be patched, so the
StatefulSet controller cannot adopt it as an orphan and every sync of its set fails; the same
revision written as Go writes JSON is adopted; a set that owns such a revision cannot be
deleted with propagationPolicy Orphan while it exists. These tests pin upstream's behaviour,
which changed in v1.38: its apiserver applies a strategic merge patch to the top-level fields
the patch names only (``canPruneTopLevelPatch`` in apiserver's ``handlers/patch.go``), so a
metadata patch leaves ``data`` as stored and F-7 is gone there (seen on v1.38.0-beta.0: these
tests, written for v1.37.2, failed on it). On v1.38 and later each test asserts the fixed
behaviour instead; the Go-JSON controls hold on every version."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from sts_props.cluster.base import typed_apis
from sts_props.cluster.driver import ClusterRun
from sts_props.cluster.faults import nudge
from sts_props.cluster.rawhttp import go_json, send
from sts_props.ops import Create, Scale
from sts_props.scenario import Manifests
from sts_props.versions import parse_version
from tests.cluster_helpers import poll

pytestmark = pytest.mark.cluster


#: The first release whose apiserver keeps ``data`` through a metadata patch (see above).
FIXED_IN = (38, 0)


def _fixed(run: ClusterRun) -> bool:
    return parse_version(run.cluster.version()) >= FIXED_IN


def _orphan(run: ClusterRun) -> dict[str, Any]:
    """An orphan revision the seed set's selector matches, holding the set's own data."""
    apps = typed_apis(run.api)[1]
    status = apps.read_namespaced_stateful_set("redis", run.namespace).status
    live = apps.read_namespaced_controller_revision(status.update_revision, run.namespace)
    return {"apiVersion": "apps/v1", "kind": "ControllerRevision",
            "metadata": {"name": "redis-orphan", "labels": {"app": "redis"}},
            "data": live.data, "revision": 100}


def _create_revision(run: ClusterRun, body: dict[str, Any], encoding: str) -> None:
    """Create the revision ``body`` as the generated Python client writes it (``python``) or
    in Go's JSON (``go``)."""
    if encoding == "python":
        typed_apis(run.api)[1].create_namespaced_controller_revision(run.namespace, body)
        return
    status, answer = send(run.api, "POST",
                          f"/apis/apps/v1/namespaces/{run.namespace}/controllerrevisions",
                          go_json(body))
    assert status == 201, answer


def _pods(run: ClusterRun) -> list[str]:
    history = run.history()
    return sorted(history.state_at(len(history) - 1).get("Pod", {}))


def _owners(run: ClusterRun) -> list[Any]:
    apps = typed_apis(run.api)[1]
    return list(apps.read_namespaced_controller_revision(
        "redis-orphan", run.namespace).metadata.owner_references or [])


def _started(cluster_run: Callable[[Manifests], ClusterRun]) -> ClusterRun:
    run = cluster_run(Manifests.seed())
    assert run.apply(Create()).ok
    ok, why = run.wait_until(lambda: "" if _pods(run) == ["redis-0", "redis-1", "redis-2"]
                             else f"pods {_pods(run)}", timeout=30.0, what="three pods")
    assert ok, why
    return run


def test_an_orphan_revision_in_the_python_clients_json_wedges_its_set(
        cluster_run: Callable[[Manifests], ClusterRun]) -> None:
    """Created by the generated Python client (``json.dumps``: a space after every ``:`` and
    ``,``), the orphan is never adopted: the apiserver refuses even a label patch with
    ``data: field is immutable``, and the set, whose every sync begins with the adoption,
    does not scale. Deleting the orphan frees it."""
    run = _started(cluster_run)
    apps = typed_apis(run.api)[1]
    apps.create_namespaced_controller_revision(run.namespace, _orphan(run))
    from kubernetes.client.exceptions import ApiException

    if _fixed(run):
        # v1.38: the strategic merge patch leaves data alone; a JSON merge patch, which
        # F-7's table also refused, is measured and printed, not asserted
        path = f"/apis/apps/v1/namespaces/{run.namespace}/controllerrevisions/redis-orphan"
        status, answer = send(run.api, "PATCH", path, '{"metadata":{"labels":{"merge":"yes"}}}',
                              {"Content-Type": "application/merge-patch+json"})
        print(f"JSON merge patch of a Python-client revision: {status} "
              f"{str(answer.get('message', ''))[:120]}")
        apps.patch_namespaced_controller_revision("redis-orphan", run.namespace,
                                                  {"metadata": {"labels": {"touched": "yes"}}})
        assert run.apply(Scale(4)).ok
        ok, why = run.wait_until(lambda: "" if "redis-3" in _pods(run) else f"pods {_pods(run)}",
                                 timeout=30.0, what="redis-3 with the orphan adopted")
        assert ok, why
        assert [(o.kind, o.name) for o in _owners(run)] == [("StatefulSet", "redis")]
        return
    with pytest.raises(ApiException) as refused:
        apps.patch_namespaced_controller_revision("redis-orphan", run.namespace,
                                                  {"metadata": {"labels": {"touched": "yes"}}})
    assert refused.value.status == 422
    assert "data: Invalid value" in json.loads(refused.value.body)["message"]
    assert "field is immutable" in json.loads(refused.value.body)["message"]
    assert run.apply(Scale(4)).ok
    time.sleep(8)
    nudge(run)  # a sync now, whatever the backoff: it fails again
    time.sleep(4)
    assert _pods(run) == ["redis-0", "redis-1", "redis-2"]  # no redis-3: the set is stuck
    assert _owners(run) == []
    apps.delete_namespaced_controller_revision("redis-orphan", run.namespace)
    time.sleep(1)
    nudge(run)
    ok, why = run.wait_until(lambda: "" if "redis-3" in _pods(run) else f"pods {_pods(run)}",
                             timeout=30.0, what="redis-3 once the orphan is gone")
    assert ok, why


def test_the_same_orphan_in_gos_json_is_adopted(
        cluster_run: Callable[[Manifests], ClusterRun]) -> None:
    """The same orphan posted as Go writes JSON (``go_json``) is adopted at the next sync (it
    gets the set's controller reference, REV-6) and the set scales: what the harness's
    ReplaceRevision relies on (``rawhttp.send``)."""
    run = _started(cluster_run)
    status, answer = send(
        run.api, "POST", f"/apis/apps/v1/namespaces/{run.namespace}/controllerrevisions",
        go_json(_orphan(run)))
    assert status == 201, answer
    time.sleep(1)
    assert run.apply(Scale(4)).ok
    ok, why = run.wait_until(lambda: "" if "redis-3" in _pods(run) else f"pods {_pods(run)}",
                             timeout=30.0, what="redis-3")
    assert ok, why
    owners = _owners(run)
    assert [(o.kind, o.name, o.controller) for o in owners] == [("StatefulSet", "redis", True)]


def _gone(run: ClusterRun) -> str:
    from kubernetes.client.exceptions import ApiException

    try:
        typed_apis(run.api)[1].read_namespaced_stateful_set("redis", run.namespace)
    except ApiException as exc:
        if exc.status == 404:
            return ""
        raise
    return "the set is still there"


@pytest.mark.parametrize("encoding", ["python", "go"])
def test_orphan_deletion_of_a_set_owning_such_a_revision_waits_for_it(
        cluster_run: Callable[[Manifests], ClusterRun], encoding: str) -> None:
    """F-7's consequence for the garbage collector: a revision in the Python client's JSON
    that the set already owns is no obstacle to the controller (nothing to adopt), but
    ``delete --cascade=orphan`` asks the garbage collector to remove the set's reference from
    every dependent with a patch, which the apiserver refuses for this one: the pods are
    released, the set keeps its ``orphan`` finalizer and stays Terminating. Deleting the
    revision lets it go. The same revision in Go's JSON (the control) is released and the
    set deleted at once."""
    run = _started(cluster_run)
    apps = typed_apis(run.api)[1]
    owner = apps.read_namespaced_stateful_set("redis", run.namespace)
    body = _orphan(run)
    body["metadata"]["ownerReferences"] = [{
        "apiVersion": "apps/v1", "kind": "StatefulSet", "name": "redis",
        "uid": owner.metadata.uid, "controller": True, "blockOwnerDeletion": True}]
    _create_revision(run, body, encoding)
    apps.delete_namespaced_stateful_set("redis", run.namespace, propagation_policy="Orphan")
    if encoding == "go" or _fixed(run):
        ok, why = run.wait_until(lambda: _gone(run), timeout=30.0, what="the set deleted")
        assert ok, why
        return

    def pods_released() -> str:
        core = typed_apis(run.api)[0]
        owned = [p.metadata.name for p in core.list_namespaced_pod(run.namespace).items
                 if p.metadata.owner_references]
        return f"pods still owned: {owned}" if owned else ""

    ok, why = run.wait_until(pods_released, timeout=30.0, what="the pods orphaned")
    assert ok, why
    time.sleep(10)  # the collector retries the revision with backoff meanwhile
    stuck = apps.read_namespaced_stateful_set("redis", run.namespace)
    assert stuck.metadata.deletion_timestamp is not None
    assert "orphan" in (stuck.metadata.finalizers or [])
    apps.delete_namespaced_controller_revision("redis-orphan", run.namespace)
    ok, why = run.wait_until(lambda: _gone(run), timeout=60.0,
                             what="the set deleted once the revision is gone")
    assert ok, why


# -- the DaemonSet controller claims orphan revisions the same way --------------------------
_DS = "f7-daemons"


def _daemon_pods(run: ClusterRun) -> list[str]:
    core = typed_apis(run.api)[0]
    return sorted(p.metadata.name for p in core.list_namespaced_pod(
        run.namespace, label_selector=f"app={_DS}").items
        if p.metadata.deletion_timestamp is None)


@pytest.mark.parametrize("encoding", ["python", "go"])
def test_an_orphan_revision_in_the_python_clients_json_stops_a_daemonset_too(
        cluster_run: Callable[[Manifests], ClusterRun], encoding: str) -> None:
    """F-7 beyond StatefulSets: every sync of a DaemonSet begins by claiming the namespace's
    revisions its selector matches (``controlledHistories`` in ``pkg/controller/daemon``),
    and a failed claim ends the sync before any pod is managed. With an orphan revision in the
    Python client's JSON, a deleted daemon pod is not replaced, also after a nudge, until the
    revision is deleted. The control: the same orphan in Go's JSON is adopted and the pod
    replaced at once."""
    run = cluster_run(Manifests.seed())  # for its namespace; the seed set is not created
    core, apps, _ = typed_apis(run.api)
    apps.create_namespaced_daemon_set(run.namespace, {
        "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": _DS},
        "spec": {"selector": {"matchLabels": {"app": _DS}},
                 "template": {"metadata": {"labels": {"app": _DS}},
                              "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}})

    def all_running() -> str:  # a daemon pod on every node (kwok's nodes: 2), all ready
        ds = apps.read_namespaced_daemon_set(_DS, run.namespace).status
        ready = (ds.number_ready or 0, ds.desired_number_scheduled or 0)
        pods = _daemon_pods(run)
        return "" if ready[1] > 0 and ready[0] == ready[1] == len(pods) else \
            f"ready/desired {ready}, pods {pods}"

    missing = poll(all_running, 60.0)
    assert not missing, missing
    revisions = apps.list_namespaced_controller_revision(
        run.namespace, label_selector=f"app={_DS}").items
    assert len(revisions) == 1
    orphan = {"apiVersion": "apps/v1", "kind": "ControllerRevision",
              "metadata": {"name": f"{_DS}-orphan", "labels": {"app": _DS}},
              "data": revisions[0].data, "revision": 100}
    _create_revision(run, orphan, encoding)
    nodes = len(_daemon_pods(run))
    victim = _daemon_pods(run)[0]
    core.delete_namespaced_pod(victim, run.namespace, grace_period_seconds=0)

    def touch() -> None:  # an update event: the DaemonSet is queued at once, whatever backoff
        apps.patch_namespaced_daemon_set(_DS, run.namespace, {"metadata": {"annotations": {
            "sts-props.io/touched": str(time.monotonic())}}})

    if encoding == "go" or _fixed(run):
        missing = poll(all_running, 30.0)
        assert not missing, missing
        owners = apps.read_namespaced_controller_revision(
            f"{_DS}-orphan", run.namespace).metadata.owner_references or []
        assert [(o.kind, o.name, o.controller) for o in owners] == [("DaemonSet", _DS, True)]
        return
    time.sleep(8)
    touch()
    time.sleep(4)
    assert len(_daemon_pods(run)) == nodes - 1, _daemon_pods(run)  # not replaced
    apps.delete_namespaced_controller_revision(f"{_DS}-orphan", run.namespace)
    time.sleep(1)
    touch()  # deleting an orphan revision queues no sync of the DaemonSet
    missing = poll(all_running, 30.0)
    assert not missing, "the daemon pod not replaced once the orphan is gone: " + missing
