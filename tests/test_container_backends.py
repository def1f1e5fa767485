"""The Docker-based backends (kwok-image, k3s): fast diagnoses, no leaked containers, and the
data-level storage check.

The diagnosis tests need no Docker at all (they point DOCKER_HOST at a socket that does not
exist) and run on every backend. The container tests run with ``--sts-backend=kwok-image``;
the data-level storage test needs real containers and runs with ``--sts-backend=k3s``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from sts_props.cluster.base import CREATED_BY_LABEL, CREATED_BY_VALUE, Cluster
from sts_props.cluster.docker.env import OWNER_PID_LABEL, docker_client, remove_orphans
from sts_props.scenario import Manifests
from sts_props.storage_data import check_storage_data, data_manifests

NO_DOCKER = {"DOCKER_HOST": "unix:///nonexistent/docker.sock"}


def _run(args: list[str], env: dict[str, str], cwd: Path | None = None,
         timeout: float = 60) -> tuple[int, str, float]:
    started = time.monotonic()
    proc = subprocess.run(args, env=dict(os.environ, **env), capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, check=False)
    return proc.returncode, proc.stdout + proc.stderr, time.monotonic() - started


# -- without Docker: a diagnosis within 10 s, never a traceback -------------------------------
def test_k3s_check_without_docker_fails_fast_with_the_diagnosis() -> None:
    rc, out, seconds = _run([sys.executable, "-m", "sts_props.cli", "check", "--backend", "k3s",
                             "--examples", "1"], NO_DOCKER)
    assert rc == 3, out  # exit code 3: the cluster could not be had
    assert seconds < 10, f"took {seconds:.1f}s"
    assert "Docker is not running here: no socket at /nonexistent/docker.sock" in out
    assert "apt-get install docker.io" in out
    assert "Traceback" not in out


def test_pytest_k3s_backend_without_docker_stops_the_session_fast(tmp_path: Path) -> None:
    (tmp_path / "test_uses_cluster.py").write_text(textwrap.dedent("""
        import pytest

        @pytest.mark.cluster
        def test_needs_cluster(sts_cluster):
            assert sts_cluster is not None
    """))
    rc, out, seconds = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             "--sts-backend=k3s", str(tmp_path)], NO_DOCKER, cwd=tmp_path)
    assert rc == 2, out
    assert seconds < 10, f"took {seconds:.1f}s"
    assert "--sts-backend=k3s cannot run here: docker: Docker is not running here" in out
    assert "fix: install Docker" in out
    assert "Traceback" not in out


def test_doctor_without_docker_names_each_problem_with_a_fix() -> None:
    rc, out, _ = _run([sys.executable, "-m", "sts_props.cli", "doctor", "--backend", "k3s",
                       "--backend", "kwok-image"], NO_DOCKER)
    assert rc == 1, out
    assert "[FAIL] docker: Docker is not running here" in out
    assert "fix: install Docker" in out
    assert "problem(s) for k3s, kwok-image" in out


def test_data_manifests_keep_identity_and_claims_but_write_tokens() -> None:
    seed = Manifests.seed()
    data = data_manifests(seed, replicas=3, image="example/shell:1")
    spec = data.statefulset["spec"]
    assert data.set_name == seed.set_name and spec["replicas"] == 3
    assert spec["volumeClaimTemplates"] == seed.statefulset["spec"]["volumeClaimTemplates"]
    (container,) = spec["template"]["spec"]["containers"]
    assert container["image"] == "example/shell:1"
    claim = spec["volumeClaimTemplates"][0]["metadata"]["name"]
    assert container["volumeMounts"] == [{"name": claim, "mountPath": "/data"}]
    assert "test -s /data/token ||" in container["command"][-1]


def test_storage_data_check_refuses_a_cluster_without_containers() -> None:
    from sts_props.cluster.base import ClusterError
    from sts_props.cluster.kwok import KwokCluster

    with pytest.raises(ClusterError, match="no real containers"):
        check_storage_data(KwokCluster(build=False))


@pytest.mark.cluster
@pytest.mark.backend("kwok-image", "k3s")  # testcontainers' classes talk to Docker at once
def test_labels_do_not_drop_k3s_privileged_mode(sts_cluster: Cluster) -> None:
    """K3SContainer asks for ``privileged=True`` through ``with_kwargs``, which a second call
    would replace; the labels must be added next to it."""
    from sts_props.cluster.docker.container_cluster import add_labels
    from sts_props.cluster.k3s import K3sCluster

    container = K3sCluster(image="rancher/k3s:v0.0.0-example")._container()
    add_labels(container, {CREATED_BY_LABEL: CREATED_BY_VALUE})
    assert container._kwargs == {"privileged": True,
                                 "labels": {CREATED_BY_LABEL: CREATED_BY_VALUE}}


# -- kwok-image: labelled containers, removed on stop, on SIGTERM, and as orphans -------------
def _ours(client: Any) -> list[Any]:
    return list(client.containers.list(
        all=True, filters={"label": f"{CREATED_BY_LABEL}={CREATED_BY_VALUE}"}))


@pytest.mark.cluster
@pytest.mark.backend("kwok-image")
def test_session_container_is_labelled_and_published_on_loopback_only(
        sts_cluster: Cluster) -> None:
    client = docker_client()
    try:
        mine = [c for c in _ours(client) if c.labels.get(OWNER_PID_LABEL) == str(os.getpid())]
        assert len(mine) == 1, [c.name for c in mine]
        bindings = mine[0].attrs["NetworkSettings"]["Ports"]["8080/tcp"]
        assert bindings and {b["HostIp"] for b in bindings} == {"127.0.0.1"}
    finally:
        client.close()


@pytest.mark.cluster
@pytest.mark.backend("kwok-image")
def test_stop_removes_the_container_and_the_work_directory(sts_cluster: Cluster) -> None:
    from sts_props.cluster.kwok_image import KwokImageCluster

    cluster = KwokImageCluster(getattr(sts_cluster, "k8s_version", "v1.37.2"))
    cluster.start()
    container_id = cluster.container.get_wrapped_container().id
    workdir = cluster.workdir
    assert workdir is not None and workdir.exists()
    cluster.stop()
    cluster.stop()  # twice is harmless
    client = docker_client()
    try:
        assert container_id not in {c.id for c in _ours(client)}
    finally:
        client.close()
    assert not workdir.exists()


_CHILD = textwrap.dedent("""
    import sys, time
    from sts_props.cluster.kwok_image import KwokImageCluster
    cluster = KwokImageCluster(sys.argv[1])
    cluster.start()
    print("UP", cluster.container.get_wrapped_container().id, flush=True)
    time.sleep(600)
""")


def _start_child(version: str) -> tuple[subprocess.Popen[str], str]:
    child = subprocess.Popen([sys.executable, "-c", _CHILD, version], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    assert child.stdout is not None
    deadline = time.monotonic() + 120
    for line in child.stdout:
        if line.startswith("UP "):
            return child, line.split()[1]
        if time.monotonic() > deadline:
            break
    child.kill()
    raise AssertionError("the child never brought its cluster up")


@pytest.mark.cluster
@pytest.mark.backend("kwok-image")
def test_sigterm_removes_the_container(sts_cluster: Cluster) -> None:
    child, container_id = _start_child(getattr(sts_cluster, "k8s_version", "v1.37.2"))
    child.send_signal(signal.SIGTERM)
    assert child.wait(timeout=60) != 0
    client = docker_client()
    try:
        assert container_id not in {c.id for c in _ours(client)}
    finally:
        client.close()


@pytest.mark.cluster
@pytest.mark.backend("kwok-image")
def test_container_of_a_killed_run_is_removed_as_an_orphan(sts_cluster: Cluster) -> None:
    child, container_id = _start_child(getattr(sts_cluster, "k8s_version", "v1.37.2"))
    child.kill()  # SIGKILL: no clean-up runs, the container stays behind
    child.wait(timeout=30)
    client = docker_client()
    try:
        (orphan,) = [c for c in _ours(client) if c.id == container_id]
        workdir = Path(orphan.labels["sts-props.io/workdir"])
        assert workdir.exists()
        removed = remove_orphans(client)  # what the next start does first
        assert container_id not in {c.id for c in _ours(client)}
        assert removed
        assert not workdir.exists(), "the orphan's work directory was left behind"
        # the session's own container belongs to a live process and stays
        assert any(c.labels.get(OWNER_PID_LABEL) == str(os.getpid()) for c in _ours(client))
    finally:
        client.close()


@pytest.mark.cluster
@pytest.mark.backend("kwok-image")
def test_the_local_image_is_rebuilt_only_when_its_inputs_change(sts_cluster: Cluster) -> None:
    from sts_props.cluster.kwok_image.build import build_local_image

    lines: list[str] = []
    client = docker_client()
    try:
        started = time.monotonic()
        build_local_image(getattr(sts_cluster, "k8s_version", "v1.37.2"), client, lines.append)
        assert time.monotonic() - started < 5
    finally:
        client.close()
    assert any(line.endswith("is current") for line in lines), lines


# -- k3s: the data comes back -------------------------------------------------------------------
@pytest.mark.cluster
@pytest.mark.backend("k3s")
def test_storage_reattaches_at_the_data_level(sts_cluster: Cluster) -> None:
    report = check_storage_data(sts_cluster, progress=print)
    assert report.ok, report.render()
