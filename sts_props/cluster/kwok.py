"""The ``kwok`` backend: an upstream control plane built from source, with kwok nodes.

kube-apiserver, kube-controller-manager (the real StatefulSet controller, PV binder with the
hostpath provisioner, EndpointSlice controller, garbage collector), kube-scheduler and etcd run as
local processes under kwokctl's binary runtime, all on 127.0.0.1. kwok plays the kubelet by
stages: pods become Running and Ready at once; pods the harness marks are left alone.

>>> # cluster = KwokCluster("v1.37.2")
>>> # with cluster:                       # builds binaries on first use (~20-30 min), then ~8 s
>>> #     print(cluster.version())
>>> #     ... ClusterRun(cluster, manifests) ...

Everything it starts is torn down by :meth:`stop`, also on Ctrl-C and at interpreter exit:
processes (by the pids kwokctl wrote), the work directory, and the hostpath PV directories of
this cluster.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from sts_props.cluster import rawhttp, registry
from sts_props.cluster.base import (
    BackendUnavailable,
    Capabilities,
    Cluster,
    ClusterError,
    client_for,
    typed_apis,
)
from sts_props.cluster.binaries import (
    DEFAULT_K8S_VERSION,
    BinarySet,
    BuildError,
    build_binaries,
    cache_dir,
    find_binaries,
)
from sts_props.cluster.kwok_config import render_kwokctl_config, stage_documents
from sts_props.cluster.kwok_nodes import NODE_COUNT, kwok_node
from sts_props.cluster.lifecycle import exit_on_sigterm, pid_alive

HOSTPATH_ROOT = Path("/tmp/hostpath_pv")
START_DEADLINE = 120.0


class KwokCluster(Cluster):
    """A local upstream control plane with kwok nodes (see the module docstring)."""

    name = "kwok"
    capabilities = Capabilities(real_containers=False, restart_controller=True,
                                status_faults=True, faults=frozenset({
                                    "kill_pod", "evict_pod", "flap_readiness",
                                    "hold_terminating", "release_terminating", "fail_node",
                                    "restart_controller", "deny_pod_writes",
                                    "allow_pod_writes"}))
    provisioner = "kubernetes.io/host-path"

    def __init__(self, version: str = DEFAULT_K8S_VERSION, build: bool = True,
                 progress: Callable[[str], None] | None = None,
                 feature_gates: dict[str, bool] | None = None) -> None:
        self.k8s_version = version
        self.build = build
        self.progress = progress or (lambda _line: None)
        self.feature_gates = feature_gates or {}
        self.cluster_name = f"sts-props-{uuid.uuid4().hex[:6]}"
        self.workdir: Path | None = None
        self.binaries: BinarySet | None = None
        self._pids: list[int] = []
        #: components restarted by :meth:`restart_component` (our children, unlike kwokctl's)
        self._children: list[subprocess.Popen[bytes]] = []
        self._started_at = 0.0
        self.start_seconds = 0.0

    @staticmethod
    def adopt(entry: registry.ClusterEntry) -> KwokCluster:
        """A handle on a running cluster from the registry (``sts-props cluster down``)."""
        cluster = KwokCluster(build=False)
        cluster.cluster_name = entry.name
        cluster.workdir = Path(entry.workdir) if entry.workdir else None
        cluster._pids = list(entry.pids)
        with contextlib.suppress(Exception):
            cluster.binaries = find_binaries(cluster.k8s_version)
        return cluster

    def detach(self) -> None:
        """Leave the cluster running after this process exits (``sts-props cluster up``)."""
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)

    # -- paths ----------------------------------------------------------------------------------
    @property
    def cluster_dir(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "clusters" / self.cluster_name

    def kubeconfig(self) -> Path:
        return self.cluster_dir / "kubeconfig.yaml"

    def logs_dir(self) -> Path:
        return self.cluster_dir / "logs"

    # -- lifecycle -------------------------------------------------------------------------------
    def ensure_binaries(self) -> BinarySet:
        bins = find_binaries(self.k8s_version)
        if bins is not None:
            return bins
        if not self.build:
            raise BackendUnavailable(
                f"kwok backend: the binaries for {self.k8s_version} are not built; run "
                f"`sts-props cluster build --k8s-version {self.k8s_version}` (20-30 min once)")
        if shutil.which("go") is None:
            raise BackendUnavailable("kwok backend: no Go toolchain on PATH; it builds the "
                                     "control plane from source (install Go >= 1.26)")
        self.progress(f"building Kubernetes {self.k8s_version}, etcd and kwok from source "
                      "(first use only; 20-30 min on 2 cores)")
        try:
            return build_binaries(self.k8s_version, progress=self.progress)
        except BuildError as exc:
            raise BackendUnavailable(f"kwok backend: the build failed: {exc}") from None

    def start(self) -> None:
        self.binaries = self.ensure_binaries()
        self._started_at = time.monotonic()
        self.workdir = Path(tempfile.mkdtemp(prefix="sts-props-kwok-"))
        atexit.register(self.stop)
        exit_on_sigterm()
        config = self.workdir / "kwokctl.yaml"
        config.write_text(render_kwokctl_config(
            self.binaries, stage_crd=False, stages=stage_documents(),
            feature_gates=self.feature_gates), encoding="utf-8")
        env = self._env()
        self.progress(f"starting kwok cluster {self.cluster_name} ({self.k8s_version})")
        logs = self.logs_dir()
        try:
            # kwokctl picks "free" ports without reserving them: two creates at once on one
            # machine collide, so creates are serialised by a lock in the cache directory.
            with _create_lock():
                proc = subprocess.run(
                    [str(self.binaries.kwokctl), "create", "cluster", "--name",
                     self.cluster_name, "--config", str(config), "--kubeconfig",
                     str(self.workdir / "unused.yaml")],
                    env=env, capture_output=True, text=True, timeout=START_DEADLINE,
                    stdin=subprocess.DEVNULL, check=False)
                self._read_pids()
                if proc.returncode == 0:
                    self._wait_ready()
        except subprocess.TimeoutExpired:
            self.stop()
            raise ClusterError(f"kwokctl create did not return within {START_DEADLINE:.0f}s; "
                               f"logs: {logs}") from None
        except BaseException:
            self.stop()
            raise
        if proc.returncode != 0:
            tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-15:])
            self.stop()
            raise ClusterError(f"kwokctl create cluster failed:\n{tail}")
        try:
            self._create_nodes()
            registry.register_kwok(self)
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - self._started_at
        self.progress(f"cluster up in {self.start_seconds:.1f}s")

    def _env(self) -> dict[str, str]:
        assert self.binaries is not None and self.workdir is not None
        env = self.binaries.path_env()
        env["KWOK_WORKDIR"] = str(self.workdir)
        env["KWOK_RUNTIME"] = "binary"
        return env

    def _read_pids(self) -> None:
        pid_dir = self.cluster_dir / "pids"
        if not pid_dir.is_dir():
            return
        for f in pid_dir.glob("*.pid"):
            with contextlib.suppress(ValueError, OSError):
                pid = int(f.read_text().strip())
                if pid not in self._pids:
                    self._pids.append(pid)

    def _wait_ready(self) -> None:
        """Poll /readyz (kwokctl returns before the apiserver is ready); deadline-bound."""
        from kubernetes import client

        deadline = time.monotonic() + START_DEADLINE
        last = "no answer yet"
        while time.monotonic() < deadline:
            if self.kubeconfig().exists():
                try:
                    api = self.api_client()
                    try:
                        resp = rawhttp.get(api, "/readyz", read_timeout=2.0)
                        if resp.status == 200:
                            client.VersionApi(api).get_code()
                            return
                        last = f"/readyz answered {resp.status}"
                    finally:
                        api.close()
                except Exception as exc:  # not up yet; keep the last reason
                    last = str(exc).splitlines()[0][:200]
            time.sleep(0.2)  # polling a process that offers nothing to watch yet
        raise ClusterError(f"the kwok apiserver was not ready within {START_DEADLINE:.0f}s "
                           f"(last: {last}); logs: {self.logs_dir()}")

    def _create_nodes(self) -> None:
        api = self.api_client()
        try:
            core = typed_apis(api)[0]
            for i in range(NODE_COUNT):
                core.create_node(kwok_node(f"kwok-node-{i}"))
        finally:
            api.close()

    # -- faults ------------------------------------------------------------------------------------
    def restart_component(self, component: str) -> float:
        """SIGKILL one component (``kube-controller-manager``, ``kube-apiserver``,
        ``kube-scheduler``) and start it again with the arguments kwokctl gave it.

        kwokctl has no per-component stop/start, but its binary runtime writes each process's
        pid to ``<cluster>/pids/<name>.pid`` and its command line to ``<cluster>/kwok.yaml``.
        The new process is started in its own session (kwokctl's are too) and its pid written
        back, so :meth:`stop` finds it. For kube-controller-manager the dead process's leader
        Lease is deleted first: otherwise the new one waits out the lease (15 s) before its
        controllers start. Returns the seconds until the component serves again: the
        apiserver's /readyz, or a fresh leader Lease held by the new controller-manager.
        """
        import yaml

        began = time.monotonic()
        spec = next((c for d in yaml.safe_load_all(
            (self.cluster_dir / "kwok.yaml").read_text(encoding="utf-8"))
            if isinstance(d, dict) and d.get("kind") == "KwokctlConfiguration"
            for c in d.get("components") or [] if c.get("name") == component), None)
        pid_file = self.cluster_dir / "pids" / f"{component}.pid"
        if spec is None or not pid_file.exists():
            raise ClusterError(f"kwok: no component {component} in {self.cluster_dir}")
        old = int(pid_file.read_text().strip())
        with contextlib.suppress(ProcessLookupError):
            os.kill(old, signal.SIGKILL)
        end = time.monotonic() + 10
        while pid_alive(old) and time.monotonic() < end:
            time.sleep(0.02)  # not our child: nothing to wait() on
        if component == "kube-controller-manager":
            self._delete_kcm_lease()
        log = (self.logs_dir() / f"{component}.log").open("ab")
        try:
            proc = subprocess.Popen(
                [str(spec["binary"]), *[str(a) for a in spec.get("args") or []]],
                cwd=str(spec.get("workDir") or self.cluster_dir), stdout=log,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        finally:
            log.close()
        self._children.append(proc)
        pid_file.write_text(str(proc.pid), encoding="utf-8")
        self._pids = [p for p in self._pids if p != old] + [proc.pid]
        if component == "kube-controller-manager":
            self._wait_kcm_leader(began, proc.pid)
        else:
            self._wait_ready()
        return time.monotonic() - began

    def _delete_kcm_lease(self) -> None:
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException

        api = self.api_client()
        try:
            client.CoordinationV1Api(api).delete_namespaced_lease(
                "kube-controller-manager", "kube-system")
        except ApiException as exc:
            if exc.status != 404:
                raise
        finally:
            api.close()

    def _wait_kcm_leader(self, began: float, pid: int) -> None:
        """Until a new controller-manager holds the leader Lease (its controllers then start)."""
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException

        api = self.api_client()
        try:
            coord = client.CoordinationV1Api(api)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if not pid_alive(pid):
                    raise ClusterError(f"kube-controller-manager exited after a restart; logs: "
                                       f"{self.logs_dir()}")
                try:
                    lease = coord.read_namespaced_lease("kube-controller-manager", "kube-system")
                    if lease.spec and lease.spec.holder_identity:
                        return
                except ApiException as exc:
                    if exc.status != 404:
                        raise
                time.sleep(0.1)  # a Lease appears once; polling it briefly is simplest
            raise ClusterError(f"kube-controller-manager took no leadership within "
                               f"{time.monotonic() - began:.0f}s of a restart")
        finally:
            api.close()

    def stop(self) -> None:
        """Stop every process, remove the work directory and this cluster's PV directories."""
        if self.workdir is None:
            return
        workdir, self.workdir = self.workdir, None
        registry.unregister_kwok(self)
        volumes = self._pv_paths(workdir)
        self._read_pids_from(workdir)
        if self.binaries is not None:
            with contextlib.suppress(Exception):
                env = self.binaries.path_env()
                env["KWOK_WORKDIR"] = str(workdir)
                subprocess.run([str(self.binaries.kwokctl), "delete", "cluster", "--name",
                                self.cluster_name, "--kubeconfig", str(workdir / "unused.yaml")],
                               env=env, capture_output=True, timeout=60, check=False,
                               stdin=subprocess.DEVNULL)
        self._kill_all()
        for child in self._children:  # restarted components: reap them (no zombies)
            with contextlib.suppress(Exception):
                child.wait(timeout=5)
        self._children.clear()
        for path in volumes:
            shutil.rmtree(path, ignore_errors=True)
        shutil.rmtree(workdir, ignore_errors=True)
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)

    def _read_pids_from(self, workdir: Path) -> None:
        saved, self.workdir = self.workdir, workdir
        try:
            self._read_pids()
        finally:
            self.workdir = saved

    def _pv_paths(self, workdir: Path) -> list[Path]:
        """hostPath directories of this cluster's PVs (the root is shared by all clusters)."""
        paths: list[Path] = []
        kubeconfig = workdir / "clusters" / self.cluster_name / "kubeconfig.yaml"
        if not kubeconfig.exists():
            return paths
        with contextlib.suppress(Exception):
            api = client_for(kubeconfig)
            try:
                for pv in typed_apis(api)[0].list_persistent_volume(_request_timeout=5).items:
                    host = pv.spec.host_path.path if pv.spec.host_path else ""
                    if host and Path(host).parent == HOSTPATH_ROOT:
                        paths.append(Path(host))
            finally:
                api.close()
        return paths

    def _kill_all(self) -> None:
        """SIGTERM, then SIGKILL after a grace period; waits until every pid is gone."""
        for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            alive = [p for p in self._pids if pid_alive(p)]
            if not alive:
                break
            for pid in alive:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, sig)
            end = time.monotonic() + wait
            while time.monotonic() < end and any(pid_alive(p) for p in alive):
                time.sleep(0.05)  # the processes are not our children: nothing to wait() on
        self._pids = [p for p in self._pids if pid_alive(p)]


@contextlib.contextmanager
def _create_lock() -> Iterator[None]:
    import fcntl

    path = cache_dir() / "kwokctl-create.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


