"""The ``kubeconfig`` backend's guard and the registry of harness-created clusters.

The issue: *the kubeconfig backend refuses a context that the harness did not create unless
--allow-existing-cluster is given, and even then touches only namespaces it created and
labelled.*

Tests marked ``cluster`` start one real kwok cluster for the module (about 6-10 s with cached
binaries) and run with ``pytest --sts-backend=kwok``. The others (bad kubeconfigs, unreachable
servers, registry records) need no cluster and always run. The registry is pointed at a
temporary directory so that no test reads or writes the user's own.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sts_props.cluster import registry
from sts_props.cluster.base import (
    CREATED_BY_LABEL,
    CREATED_BY_VALUE,
    RUN_ID_ANNOTATION,
    BackendUnavailable,
    ClusterError,
    typed_apis,
)
from sts_props.cluster.driver import ClusterRun
from sts_props.cluster.kubeconfig.cluster import KubeconfigCluster
from sts_props.cluster.kwok import KwokCluster
from sts_props.cluster.kwok.registration import register_kwok
from sts_props.ops import Create, ReplaceRevision, Settle
from sts_props.scenario import Manifests

GUARD_MESSAGE = ("refusing to touch cluster {server} (context {ctx}): sts-props did not create "
                 "it; pass --allow-existing-cluster to run in namespaces it creates and labels "
                 "there")
DEADLINE = 10.0


@pytest.fixture(autouse=True)
def private_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets an empty registry of its own (the module's kwok cluster is registered
    or not per test, explicitly)."""
    root = tmp_path / "registry"
    monkeypatch.setenv(registry.REGISTRY_ENV, str(root))
    return root


@pytest.fixture(scope="module")
def kwok(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
         ) -> Iterator[KwokCluster]:
    """One kwok cluster for the module; anything it registers goes to a throw-away registry."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(registry.REGISTRY_ENV, str(tmp_path_factory.mktemp("kwok-registry")))
        cluster = KwokCluster(str(request.config.getoption("--k8s-version")), build=False)
        try:
            cluster.start()
        except BackendUnavailable as exc:
            pytest.fail(f"the kwok backend cannot start here: {exc}", pytrace=False)
        try:
            yield cluster
        finally:
            cluster.stop()


@pytest.fixture
def admin(kwok: KwokCluster) -> Iterator[Any]:
    """CoreV1Api with the kwok cluster's own credentials: plays "somebody else" on it."""
    api = kwok.api_client()
    try:
        yield typed_apis(api)[0]
    finally:
        api.close()


def _kubeconfig(path: Path, server: str, context: str = "ctx") -> Path:
    import yaml

    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": context,
        "clusters": [{"name": "c", "cluster": {"server": server,
                                                "insecure-skip-tls-verify": True}}],
        "contexts": [{"name": context, "context": {"cluster": "c", "user": "u"}}],
        "users": [{"name": "u", "user": {"token": "not-a-real-token"}}]}), encoding="utf-8")
    return path


def _refusal(cluster: KubeconfigCluster) -> tuple[str, float]:
    began = time.monotonic()
    with pytest.raises(ClusterError) as info:
        cluster.start()
    return str(info.value), time.monotonic() - began


def _namespace(core: Any, name: str, labels: dict[str, str] | None = None,
               annotations: dict[str, str] | None = None) -> str:
    created = core.create_namespace({"metadata": {"name": name, "labels": labels or {},
                                                  "annotations": annotations or {}}})
    return str(created.metadata.uid)


def _wait_gone(core: Any, name: str, timeout: float = 60.0) -> None:
    """Watch namespace ``name`` until it is deleted (namespaces finalize asynchronously)."""
    from kubernetes import watch as watch_module
    from kubernetes.client.exceptions import ApiException

    watch: Any = watch_module  # untyped upstream
    deadline = time.monotonic() + timeout
    last = "nothing yet"
    while time.monotonic() < deadline:
        try:
            ns = core.read_namespace(name)
        except ApiException as exc:
            if exc.status == 404:
                return
            raise
        last = f"phase {ns.status.phase}"
        w = watch.Watch()
        for event in w.stream(core.list_namespace, field_selector=f"metadata.name={name}",
                              resource_version=ns.metadata.resource_version,
                              timeout_seconds=max(1, int(deadline - time.monotonic()))):
            last = f"{event['type']} phase {event['object'].status.phase}"
            if event["type"] == "DELETED":
                w.stop()
                return
    raise AssertionError(f"namespace {name} still there after {timeout:.0f}s (last: {last})")


def _alive(core: Any, name: str) -> bool:
    """The namespace exists and nobody asked to delete it."""
    return core.read_namespace(name).metadata.deletion_timestamp is None


# -- (d) bad input: one line, fast, no cluster needed ---------------------------------------------
def test_missing_kubeconfig_file_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    message, took = _refusal(KubeconfigCluster(path, context="dev"))
    assert message == (f"{path}: no such kubeconfig file (pass --kubeconfig FILE or set "
                       "KUBECONFIG)")
    assert took < DEADLINE


def test_default_kubeconfig_comes_from_the_environment(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "from-env.yaml"
    monkeypatch.setenv("KUBECONFIG", str(path))
    message, _ = _refusal(KubeconfigCluster())
    assert message.startswith(f"{path}: no such kubeconfig file")


def test_unknown_context_is_one_line(tmp_path: Path) -> None:
    path = _kubeconfig(tmp_path / "kc.yaml", "https://127.0.0.1:1", context="dev")
    message, took = _refusal(KubeconfigCluster(path, context="prod"))
    assert message == f"{path}: no context 'prod' (it has: dev)"
    assert took < DEADLINE


@pytest.mark.parametrize("text, says", [
    ("clusters: [\n", "invalid YAML"),
    ("- just\n- a list\n", "expected a mapping"),
    ("contexts: [{name: a, context: {cluster: gone}}]\ncurrent-context: a\n",
     "names cluster 'gone'"),
])
def test_broken_kubeconfig_is_one_line(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "kc.yaml"
    path.write_text(text, encoding="utf-8")
    message, _ = _refusal(KubeconfigCluster(path))
    assert message.startswith(f"{path}: ") and says in message
    assert "\n" not in message


def test_unreadable_kubeconfig_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "kc.yaml"
    path.mkdir()  # a directory: unreadable as a file, also for root
    message, _ = _refusal(KubeconfigCluster(path))
    assert message.startswith(f"{path}: cannot read the kubeconfig: ")
    assert "\n" not in message


def test_unreachable_server_is_one_line_within_the_deadline(tmp_path: Path) -> None:
    path = _kubeconfig(tmp_path / "kc.yaml", "https://127.0.0.1:1")
    message, took = _refusal(KubeconfigCluster(path, allow_existing=True))
    assert message == ("cannot reach the apiserver https://127.0.0.1:1 (context ctx): "
                       "connection refused")
    assert took < DEADLINE


def test_server_that_never_answers_is_given_up_within_the_deadline(tmp_path: Path) -> None:
    with socket.socket() as listener:  # accepts connections (backlog), never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        server = f"https://127.0.0.1:{listener.getsockname()[1]}"
        path = _kubeconfig(tmp_path / "kc.yaml", server)
        message, took = _refusal(KubeconfigCluster(path, allow_existing=True))
    assert message.startswith(f"cannot reach the apiserver {server} (context ctx): ")
    assert "\n" not in message
    assert took < DEADLINE


@pytest.mark.cluster
def test_untrusted_certificate_is_one_line(kwok: KwokCluster, tmp_path: Path) -> None:
    import yaml

    server = registry.kubeconfig_target(kwok.kubeconfig()).server
    path = _kubeconfig(tmp_path / "kc.yaml", server)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    del data["clusters"][0]["cluster"]["insecure-skip-tls-verify"]  # verify with system CAs
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    message, took = _refusal(KubeconfigCluster(path, allow_existing=True))
    assert message.startswith(f"cannot reach the apiserver {server} (context ctx): "
                              "TLS handshake failed: ")
    assert "\n" not in message
    assert took < DEADLINE


# -- the registry, no cluster needed ------------------------------------------------------------
def test_registry_round_trip_and_atomic_files(private_registry: Path) -> None:
    entry = registry.ClusterEntry("c1", "kwok", "/k.yaml", "https://127.0.0.1:6443/",
                                  workdir="/w", pids=(1, 2), created=5.0, cluster_uid="u")
    path = registry.register(entry)
    assert path.parent == private_registry
    assert (private_registry.stat().st_mode & 0o777) == 0o700
    assert [p.name for p in private_registry.iterdir()] == ["c1.json"]  # no temp file left
    assert registry.entries() == [entry]
    assert registry.find_by_server("https://127.0.0.1:6443") == entry
    assert registry.find_by_server("https://127.0.0.1:6444") is None
    (private_registry / "garbage.json").write_text("{not json", encoding="utf-8")
    assert registry.entries() == [entry]  # skipped, not trusted, not deleted
    assert registry.unregister("c1") and not registry.unregister("c1")
    with pytest.raises(ValueError, match="cannot name a registry record"):
        registry.register(registry.ClusterEntry("../evil", "kwok", "/k", "https://x:1"))


def test_dead_registered_server_is_refused_and_pruned(tmp_path: Path) -> None:
    path = _kubeconfig(tmp_path / "kc.yaml", "https://127.0.0.1:1")
    registry.register(registry.ClusterEntry("dead", "kwok", str(path), "https://127.0.0.1:1"))
    assert not registry.is_harness_created(path)
    assert registry.entries() == []


def test_dead_server_with_a_live_process_is_refused_but_kept(tmp_path: Path) -> None:
    path = _kubeconfig(tmp_path / "kc.yaml", "https://127.0.0.1:1")
    entry = registry.ClusterEntry("starting", "kwok", str(path), "https://127.0.0.1:1",
                                  pids=(os.getpid(),))
    registry.register(entry)
    assert not registry.is_harness_created(path)
    assert registry.prune_stale() == []
    assert registry.entries() == [entry]


# -- (a), (b), (c) on a real kwok cluster ---------------------------------------------------------
@pytest.mark.cluster
def test_unregistered_cluster_is_refused(kwok: KwokCluster) -> None:
    registry.unregister(kwok.cluster_name)
    target = registry.kubeconfig_target(kwok.kubeconfig())
    message, took = _refusal(KubeconfigCluster(kwok.kubeconfig()))
    assert message == GUARD_MESSAGE.format(server=target.server, ctx=target.context)
    assert took < DEADLINE


@pytest.mark.cluster
def test_allow_existing_touches_only_its_own_namespaces(kwok: KwokCluster, admin: Any) -> None:
    registry.unregister(kwok.cluster_name)
    tag = uuid.uuid4().hex[:6]
    keep = f"keep-me-{tag}"  # unlabelled, somebody's
    labelled = f"someone-elses-{tag}"  # labelled by another tool or run, no run id
    other_run = f"other-run-{tag}"  # labelled and annotated by another sts-props run
    _namespace(admin, keep)
    _namespace(admin, labelled, {CREATED_BY_LABEL: CREATED_BY_VALUE})
    _namespace(admin, other_run, {CREATED_BY_LABEL: CREATED_BY_VALUE},
               {RUN_ID_ANNOTATION: "another-run"})
    untouched = [keep, labelled, other_run]
    cluster = KubeconfigCluster(kwok.kubeconfig(), allow_existing=True)
    try:
        cluster.start()
        assert not cluster.owned
        # leftovers of this run that stop() must clean: one annotated, one handed over by name
        annotated = f"sts-props-leftover-{tag}"
        admin.create_namespace(cluster.namespace_body(annotated))
        handed = f"sts-props-handed-{tag}"
        _namespace(admin, handed, {CREATED_BY_LABEL: CREATED_BY_VALUE})
        cluster.created_namespace(handed)

        spec = Manifests.seed().statefulset
        spec["spec"]["replicas"] = 1
        with ClusterRun(cluster, Manifests.seed().with_statefulset(spec)) as run:
            harness_ns = run.namespace
            cluster.created_namespace(harness_ns)  # what the driver does once it tells us
            cluster.guard_namespace(harness_ns)
            assert run.apply(Create()).status == "ok"

            def ready() -> str:
                sts = run.apps.read_namespaced_stateful_set(run.set_name, run.namespace)
                got = sts.status.ready_replicas or 0
                return "" if got == 1 else f"readyReplicas {got}, want 1"

            settled, why = run.wait_until(ready, timeout=60, what="1 ready replica")
            assert settled, why
        for name in untouched:
            with pytest.raises(ClusterError, match=f"refusing to touch namespace {name} "):
                cluster.guard_namespace(name)
    finally:
        cluster.stop()
    assert cluster.leftovers == {}
    for name in (harness_ns, annotated, handed):
        _wait_gone(admin, name)
    assert all(_alive(admin, name) for name in untouched)
    for name in untouched:
        admin.delete_namespace(name)


@pytest.mark.cluster
def test_replace_revision_creates_no_admission_policy_on_a_cluster_somebody_else_runs(
        kwok: KwokCluster) -> None:
    """On a kwok cluster it starts, the harness holds the controller's writes with a
    cluster-scoped admission policy while it replaces a revision (sts_props.cluster.quiet_gap);
    through the kubeconfig backend, whose guard touches nothing outside its namespaces, it
    creates none: a watch of the policies from before the op sees no ADDED."""
    from kubernetes import client
    from kubernetes import watch as watch_module

    registry.unregister(kwok.cluster_name)
    cluster = KubeconfigCluster(kwok.kubeconfig(), allow_existing=True)
    api = kwok.api_client()
    adm: Any = client.AdmissionregistrationV1Api(api)
    try:
        cluster.start()
        spec = Manifests.seed().statefulset
        spec["spec"]["replicas"] = 1
        with ClusterRun(cluster, Manifests.seed().with_statefulset(spec)) as run:
            cluster.created_namespace(run.namespace)
            assert run.apply(Create()).ok
            settled, why = run.wait_until(
                lambda: "" if run.apps.read_namespaced_stateful_set(
                    run.set_name, run.namespace).status.update_revision else "no revision yet",
                timeout=60, what="the set's first revision")
            assert settled, why
            before = adm.list_validating_admission_policy().metadata.resource_version
            assert run.apply(ReplaceRevision("update", "other")).ok
            assert run.apply(Settle()).ok
        watch: Any = watch_module  # untyped upstream
        added = [event["object"].metadata.name for event in watch.Watch().stream(
            adm.list_validating_admission_policy, resource_version=before, timeout_seconds=2)
            if event["type"] == "ADDED"]
        assert added == []
    finally:
        cluster.stop()
        api.close()


@pytest.mark.cluster
def test_namespace_recreated_under_the_same_name_is_not_deleted(kwok: KwokCluster,
                                                                admin: Any) -> None:
    """The UID precondition: a namespace this run created, deleted and re-created by somebody
    else under the same name, is not this run's any more."""
    name = f"sts-props-reused-{uuid.uuid4().hex[:6]}"
    cluster = KubeconfigCluster(kwok.kubeconfig(), allow_existing=True)
    with cluster:
        _namespace(admin, name, {CREATED_BY_LABEL: CREATED_BY_VALUE})
        cluster.created_namespace(name)
        admin.delete_namespace(name)
        _wait_gone(admin, name)
        _namespace(admin, name, {CREATED_BY_LABEL: CREATED_BY_VALUE})
        with pytest.raises(ClusterError, match="another sts-props run created it"):
            cluster.guard_namespace(name)
    assert _alive(admin, name)
    admin.delete_namespace(name)


@pytest.mark.cluster
def test_registered_cluster_is_accepted_without_the_flag(kwok: KwokCluster,
                                                         admin: Any) -> None:
    entry = register_kwok(kwok)
    assert entry is not None and entry.cluster_uid and entry.pids
    try:
        cluster = KubeconfigCluster(kwok.kubeconfig())
        with cluster:
            assert cluster.owned
            assert cluster.version().startswith("v1.")
            name = f"labelled-{uuid.uuid4().hex[:6]}"
            _namespace(admin, name, {CREATED_BY_LABEL: CREATED_BY_VALUE})
            cluster.guard_namespace(name)  # owned: the label suffices
            with pytest.raises(ClusterError, match="lacks the label"):
                cluster.guard_namespace("default")
        assert _alive(admin, name)  # not this run's: stop() leaves it
        admin.delete_namespace(name)
    finally:
        registry.unregister(kwok.cluster_name)
    message, _ = _refusal(KubeconfigCluster(kwok.kubeconfig()))
    assert message.startswith("refusing to touch cluster ")


@pytest.mark.cluster
def test_registered_url_answered_by_another_cluster_is_refused(kwok: KwokCluster) -> None:
    """Port reuse: the URL is registered, but the kube-system UID says another cluster answers
    there. Refused; the record is pruned unless its processes still run."""
    server = registry.kubeconfig_target(kwok.kubeconfig()).server
    ghost = registry.ClusterEntry("ghost", "kwok", "/gone.yaml", server, cluster_uid="not-it")
    registry.register(ghost)
    assert not registry.is_harness_created(kwok.kubeconfig())
    assert registry.entries() == []
    alive = registry.ClusterEntry("alive", "kwok", "/gone.yaml", server, cluster_uid="not-it",
                                  pids=(os.getpid(),))
    registry.register(alive)
    assert not registry.is_harness_created(kwok.kubeconfig())
    assert registry.entries() == [alive]
    with contextlib.suppress(Exception):
        registry.unregister("alive")
