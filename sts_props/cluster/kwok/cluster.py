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
import dataclasses
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sts_props.cluster import rawhttp, registry
from sts_props.cluster.base import (
    BackendUnavailable,
    Capabilities,
    Cluster,
    ClusterError,
    Crash,
    Finding,
    Outage,
    client_for,
    typed_apis,
)
from sts_props.cluster.crashlog import exit_text, read_excerpt
from sts_props.cluster.kwok.binaries import (
    DEFAULT_K8S_VERSION,
    BinarySet,
    BuildError,
    build_binaries,
    cache_dir,
    find_binaries,
)
from sts_props.cluster.kwok.checks import kwok_checks
from sts_props.cluster.kwok.config import render_kwokctl_config, stage_documents
from sts_props.cluster.kwok.nodes import KwokNodes, prepare_kwok_cluster
from sts_props.cluster.kwok.registration import register_kwok, unregister_kwok
from sts_props.cluster.lifecycle import exit_on_sigterm, pid_alive
from sts_props.cluster.log_window import excerpts, read_tail
from sts_props.cluster.watch_census import census, wait_for_watches
from sts_props.ops import faults_performed_by

HOSTPATH_ROOT = Path("/tmp/hostpath_pv")
START_DEADLINE = 120.0
#: components that hold a leader Lease of their own name in kube-system, and exit when they
#: cannot renew it (the apiserver away for more than their renew deadline, 10 s)
LEADERS = ("kube-controller-manager", "kube-scheduler")
#: components :meth:`KwokCluster.supervise` restarts when they exit by themselves (each such
#: exit is a ``CRASH``, :mod:`sts_props.checks.crash`). Not kwok-controller: once FailNode has
#: replaced nodes, a restarted one left new pods Pending (seen on v1.37.2 / kwok v0.8.0, not
#: yet understood), so it would hide nothing but mislead.
SUPERVISED = ("kube-apiserver", "kube-scheduler", "kube-controller-manager")
#: components whose log lines a failing run's artifacts keep (Cluster.log_excerpts): the
#: StatefulSet controller's decisions; the config logs its file at -v=4
LOGGED = ("kube-controller-manager",)
#: how long a restarted component may take to hold (or renew) its leader Lease
LEADER_DEADLINE = 60.0
#: How long an apiserver restart waits for the control plane's informers to watch again
#: (sts_props.cluster.watch_census): client-go's reflector backs off up to 30 s plus 100 %
#: jitter, so 60 s, and a relist after that.
WATCH_DEADLINE = 90.0


class KwokCluster(KwokNodes, Cluster):
    """A local upstream control plane with kwok nodes (see the module docstring)."""

    name = "kwok"
    # every fault (none names kwok in its Op.unsupported)
    capabilities = Capabilities(real_containers=False, restart_controller=True,
                                status_faults=True, faults=faults_performed_by("kwok"))
    provisioner = "kubernetes.io/host-path"

    def __init__(self, version: str = DEFAULT_K8S_VERSION, build: bool = True,
                 progress: Callable[[str], None] | None = None,
                 feature_gates: dict[str, bool] | None = None,
                 controller_manager: Path | None = None) -> None:
        self.k8s_version = version
        self.build = build
        self.progress = progress or (lambda _line: None)
        #: how long an apiserver restart waits for the informers' watches (0: not at all, as
        #: docs/examples/f2-scheduler-exit/reproduce.py needs: its race is inside that wait)
        self.watch_deadline = WATCH_DEADLINE
        self.feature_gates = feature_gates or {}
        #: a kube-controller-manager to run instead of the BinarySet's (a patched build of
        #: :func:`~sts_props.cluster.kwok.patched.build_patched`); kwokctl links it
        #: into the cluster's bin directory, and restarts (:meth:`restart_component`,
        #: :meth:`supervise`) start the binary kwokctl recorded, so every incarnation of the
        #: controller is this one
        self.controller_manager = controller_manager
        self.cluster_name = f"sts-props-{uuid.uuid4().hex[:6]}"
        self.workdir: Path | None = None
        self.binaries: BinarySet | None = None
        self._pids: list[int] = []
        #: components restarted by :meth:`restart_component` (our children, unlike kwokctl's)
        self._children: list[subprocess.Popen[bytes]] = []
        self._started_at = 0.0
        self.start_seconds = 0.0
        self._crashes: list[str] = []
        self.crashes = self._crashes
        self.crash_log: list[Crash] = []
        #: where in its log each restarted component's current process began writing
        self._log_starts: dict[str, int] = {}

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

    @classmethod
    def diagnose(cls, version: str, image: str | None = None) -> list[Finding]:
        """The Go toolchain and the control-plane binaries (no image: nothing runs in one)."""
        return kwok_checks(version)

    # -- paths ----------------------------------------------------------------------------------
    @property
    def cluster_dir(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "clusters" / self.cluster_name

    def kubeconfig(self) -> Path:
        return self.cluster_dir / "kubeconfig.yaml"

    def logs_dir(self) -> Path:
        return self.cluster_dir / "logs"

    def log_excerpts(self, since: float, until: float, namespace: str) -> dict[str, str]:
        if self.workdir is None:  # never started, or stopped: its logs went with it
            return {}
        return excerpts(LOGGED, lambda c: read_tail(self.logs_dir() / f"{c}.log"), since,
                        until, namespace)

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
        if self.controller_manager is not None:
            path = Path(self.controller_manager).resolve()
            if not (path.is_file() and os.access(path, os.X_OK)):
                raise BackendUnavailable(f"kwok backend: the controller binary {path} does not "
                                         "exist or is not executable")
            self.binaries = dataclasses.replace(self.binaries, kube_controller_manager=path)
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
            self._prepare()
            register_kwok(self)
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

    def _prepare(self) -> None:
        api = self.api_client()
        try:
            prepare_kwok_cluster(api, self.provisioner)
        finally:
            api.close()

    # -- faults ------------------------------------------------------------------------------------
    def restart_component(self, component: str) -> float:
        """SIGKILL one component (``kube-controller-manager``, ``kube-apiserver``,
        ``kube-scheduler``, ``kwok-controller``) and start it again with the arguments kwokctl
        gave it; returns the seconds until it (and, for the apiserver, the whole control
        plane) serves again.

        kwokctl has no per-component stop/start, but its binary runtime writes each process's
        pid to ``<cluster>/pids/<name>.pid`` and its command line to ``<cluster>/kwok.yaml``.
        The new process is started in its own session (kwokctl's are too) and its pid written
        back, so :meth:`stop` finds it. For a leader-elected component (:data:`LEADERS`) the
        dead process's Lease is deleted first: otherwise the new one waits out the lease (15 s)
        before its controllers start; the restart is done when a new leader holds the Lease.

        The apiserver is special (see :meth:`_restart_apiserver`): kwokctl does not reserve its
        port, so the restart holds the lock that serialises ``kwokctl create`` on this machine
        until the port is bound again, and the leader-elected components, which exit when they
        cannot renew their Lease, are checked afterwards and restarted if they died. Each of
        those is kept in :attr:`crash_log` with ``window`` naming the restarted component (the
        ``CRASH`` check excuses a lost leader election there, nothing else).

        >>> # seconds = cluster.restart_component("kube-apiserver")   # ~3 s on 2 cores
        """
        seconds, collateral = self._restart(component)
        for crash in collateral:
            self._note_crash(dataclasses.replace(crash, window=component,
                                                 restart_seconds=seconds))
        return seconds

    def _restart(self, component: str) -> tuple[float, list[Crash]]:
        """:meth:`restart_component` without the reporting: the seconds, and the leaders an
        apiserver restart found dead and brought back."""
        began = time.monotonic()
        collateral: list[Crash] = []
        if component == "kube-apiserver":
            collateral = self._restart_apiserver(began)
        else:
            pid = self._respawn(component)
            if component in LEADERS:
                self._wait_leader(component, began, pid)
            else:
                self._wait_ready()
        return time.monotonic() - began, collateral

    def supervise(self, outage: Outage | None = None) -> list[Crash]:
        """Restart any of :data:`SUPERVISED` that exited by itself (see :meth:`Cluster.supervise`).

        kwokctl's binary runtime starts the components once and watches none of them, whereas
        a real control plane runs them as static pods that the kubelet restarts. Seen on
        v1.37.2: kube-scheduler exits on purpose when it finds its cache inconsistent ("Pod
        updated on a different node than previously added to. Scheduler cache is corrupted")
        shortly after an apiserver restart; unsupervised, every later pod stayed Pending and
        each op waited out its timeout. Each restart is reported, never hidden: a
        :class:`~sts_props.cluster.base.Crash` with what the log says (read before the restart
        appends to it). The apiserver first, inside ``outage()``: its restart also brings back
        a scheduler or controller-manager that lost its Lease meanwhile (found dead here, they
        are reported too).
        """
        if self.workdir is None:
            return []
        found = []
        for component in SUPERVISED:
            pid = self._component_pid(component)
            if pid <= 0 or pid_alive(pid):
                continue
            crash = self._post_mortem(component, pid)
            try:
                with outage() if outage is not None and component == "kube-apiserver" \
                        else contextlib.nullcontext():
                    seconds, collateral = self._restart(component)
            except ClusterError as exc:
                raise ClusterError(f"{crash.summary()}; the harness could not restart it: "
                                   f"{exc}") from exc
            # leaders found dead by the apiserver's restart are part of this crash's aftermath
            found += [self._note_crash(dataclasses.replace(c, restart_seconds=seconds))
                      for c in (crash, *collateral)]
        return found

    def _note_crash(self, crash: Crash) -> Crash:
        self.progress(crash.describe())
        self._crashes.append(crash.describe())
        self.crash_log.append(crash)
        return crash

    def _post_mortem(self, component: str, pid: int) -> Crash:
        """What ``component``'s dead process ``pid`` left: its log excerpt and exit status
        (``restart_seconds`` still 0). Call it before the restart appends to the log.

        The exit status is known only for a process this object started (a restart): kwokctl
        starts the first ones detached, and nobody can wait() for them."""
        cause, excerpt = read_excerpt(self.logs_dir() / f"{component}.log",
                                      self._log_starts.get(component, 0))
        child = next((c for c in self._children if c.pid == pid), None)
        how = "exit status unknown (started by kwokctl, not a child of the harness)"
        if child is not None:
            code = None
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = child.wait(timeout=5)  # dead already; reaps it and gives the status
            how = exit_text(code)
        return Crash(component, pid, how, cause, excerpt, time.time(), 0.0)

    def _component_spec(self, component: str) -> dict[str, Any]:
        import yaml

        spec = next((c for d in yaml.safe_load_all(
            (self.cluster_dir / "kwok.yaml").read_text(encoding="utf-8"))
            if isinstance(d, dict) and d.get("kind") == "KwokctlConfiguration"
            for c in d.get("components") or [] if c.get("name") == component), None)
        if spec is None or not self._pid_file(component).exists():
            raise ClusterError(f"kwok: no component {component} in {self.cluster_dir}")
        return dict(spec)

    def _pid_file(self, component: str) -> Path:
        return self.cluster_dir / "pids" / f"{component}.pid"

    def component_binary(self, component: str) -> Path | None:
        """The executable the running ``component`` was started from (``/proc/<pid>/exe``),
        or ``None`` if it does not run; e.g. to see that a patched controller is the one
        running."""
        pid = self._component_pid(component)
        if not pid_alive(pid):
            return None
        try:
            return Path(os.readlink(f"/proc/{pid}/exe"))
        except OSError:
            return None

    def _component_pid(self, component: str) -> int:
        try:
            return int(self._pid_file(component).read_text().strip())
        except (OSError, ValueError):
            return 0

    def _respawn(self, component: str, port: int | None = None) -> int:
        """Kill ``component`` and start it again; returns the new pid. With ``port``: refuse
        (ClusterError) to start when something else took that port meanwhile."""
        spec = self._component_spec(component)
        old = self._component_pid(component)
        with contextlib.suppress(ProcessLookupError):
            os.kill(old, signal.SIGKILL)
        end = time.monotonic() + 10
        ours = [c for c in self._children if c.pid == old]
        for child in ours:  # restarted before: our child, reaped once all its threads exit
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=10)
        while pid_alive(old) and time.monotonic() < end:
            time.sleep(0.02)  # not our child: nothing to wait() on
        self._children = [c for c in self._children if c.pid != old or c.returncode is None]
        if component in LEADERS:
            self._delete_lease(component)
        # A multi-threaded process looks dead (its leader a zombie) a moment before its last
        # thread closes the listener: give the port a few seconds to come free.
        while port is not None and not _port_free(port) and time.monotonic() < end:
            time.sleep(0.05)
        if port is not None and not _port_free(port):
            raise ClusterError(
                f"kwok: port {port} of {component} is taken by another process since the "
                f"restart began; cluster {self.cluster_name} cannot come back (only creates "
                "under the sts-props create lock are kept off it); `sts-props cluster down` "
                "removes it")
        log = (self.logs_dir() / f"{component}.log").open("ab")
        self._log_starts[component] = log.tell()
        try:
            proc = subprocess.Popen(
                [str(spec["binary"]), *[str(a) for a in spec.get("args") or []]],
                cwd=str(spec.get("workDir") or self.cluster_dir), stdout=log,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        finally:
            log.close()
        self._children.append(proc)
        self._pid_file(component).write_text(str(proc.pid), encoding="utf-8")
        self._pids = [p for p in self._pids if p != old] + [proc.pid]
        return proc.pid

    def _restart_apiserver(self, began: float) -> list[Crash]:
        """Restart kube-apiserver; return once it is ready and every component works again.

        Everything happens under the create lock, so that no ``kwokctl create`` on this machine
        picks a port freed meanwhile (kwokctl reserves none): the apiserver's while it is down,
        or the port of a component that exited.

        1. The apiserver is killed, its port checked to be free, and it is started again;
           ``/readyz`` answering means the port is bound again.
        2. Each of :data:`LEADERS` must be alive and renew its Lease through the new apiserver
           (a renewal after the apiserver became ready proves its leader election works);
           one that exited is restarted (with a fresh Lease) and returned as a Crash.
           kwok-controller, which plays the kubelets, is restarted if it died.
        3. The control plane's informers must watch again: as many cluster-wide watches on
           each resource a scenario depends on as before the restart (watch_census), at most
           :attr:`watch_deadline` seconds (:data:`WATCH_DEADLINE`); a shortfall after that is
           said in the progress line.
        """
        before = self._watch_census() if self.watch_deadline > 0 else None
        with _create_lock():
            self._respawn("kube-apiserver", port=_flag_port(
                self._component_spec("kube-apiserver"), "--secure-port"))
            self._wait_ready()
            down = time.monotonic() - began
            ready_at = time.time()
            restarted = [c for c in ("kwok-controller",)
                         if not pid_alive(self._component_pid(c))]
            for component in restarted:
                self._respawn(component)
            leaders = self._recover_leaders(ready_at, began)
        restarted += [c.component for c in leaders]
        leading = time.monotonic() - began
        # 3. The informers watch again: leases renew within seconds, while a watch that failed
        #    during the outage may wait out a backoff of up to a minute (watch_census).
        watching = ""
        if before:  # None when the deadline is 0 or the census unreadable
            api = self.api_client()  # one client for the whole wait
            try:
                _, left = wait_for_watches(lambda: census(api), before, self.watch_deadline)
            finally:
                api.close()
            watching = (f", every watch back after {time.monotonic() - began:.1f}s" if not left
                        else f"; after {self.watch_deadline:.0f}s still fewer watches on "
                             f"{', '.join(left)}")
        self.progress(f"kube-apiserver restarted: ready after {down:.1f}s, "
                      f"{', '.join(LEADERS)} leading after {leading:.1f}s{watching} "
                      f"(restarted: {', '.join(restarted) or 'none'})")
        return leaders

    def _watch_census(self) -> dict[tuple[str, str], int] | None:
        """Open cluster-wide watches per resource (watch_census); None when unreadable."""
        try:
            api = self.api_client()
        except Exception:  # no kubeconfig yet: nothing to count
            return None
        try:
            return census(api)
        finally:
            api.close()

    def _recover_leaders(self, since: float, began: float) -> list[Crash]:
        """Until each of :data:`LEADERS` has renewed its Lease after ``since`` (epoch seconds);
        restarts those that exited. Returns what each restarted one left (its post-mortem)."""
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException

        restarted: list[Crash] = []
        pending = list(LEADERS)
        deadline = time.monotonic() + LEADER_DEADLINE
        api = self.api_client()
        try:
            coord = client.CoordinationV1Api(api)
            while pending:
                for component in list(pending):
                    dead = self._component_pid(component)
                    if not pid_alive(dead):
                        # it lost its Lease while the apiserver was away, and exited
                        restarted.append(self._post_mortem(component, dead))
                        port = _flag_port(self._component_spec(component), "--secure-port")
                        self._wait_leader(component, began, self._respawn(component, port))
                        pending.remove(component)
                        continue
                    try:
                        lease = coord.read_namespaced_lease(component, "kube-system")
                    except ApiException as exc:
                        if exc.status != 404:
                            raise
                        continue
                    renewed = lease.spec.renew_time if lease.spec else None
                    if renewed is not None and renewed.timestamp() >= since:
                        pending.remove(component)
                if pending and time.monotonic() > deadline:
                    raise ClusterError(
                        f"{', '.join(pending)} did not renew its leader Lease within "
                        f"{LEADER_DEADLINE:.0f}s of an apiserver restart; logs: "
                        f"{self.logs_dir()}")
                if pending:
                    time.sleep(0.1)  # Leases are renewed every 2 s; polling them is simplest
        finally:
            api.close()
        return restarted

    def _delete_lease(self, component: str) -> None:
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException

        api = self.api_client()
        try:
            client.CoordinationV1Api(api).delete_namespaced_lease(component, "kube-system")
        except ApiException as exc:
            if exc.status != 404:
                raise
        finally:
            api.close()

    def _wait_leader(self, component: str, began: float, pid: int) -> None:
        """Until a new ``component`` holds its leader Lease (its controllers then start)."""
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException

        api = self.api_client()
        try:
            coord = client.CoordinationV1Api(api)
            deadline = time.monotonic() + LEADER_DEADLINE
            while time.monotonic() < deadline:
                if not pid_alive(pid):
                    raise ClusterError(f"{component} exited after a restart; logs: "
                                       f"{self.logs_dir()}")
                try:
                    lease = coord.read_namespaced_lease(component, "kube-system")
                    if lease.spec and lease.spec.holder_identity:
                        return
                except ApiException as exc:
                    if exc.status != 404:
                        raise
                time.sleep(0.1)  # a Lease appears once; polling it briefly is simplest
            raise ClusterError(f"{component} took no leadership within "
                               f"{time.monotonic() - began:.0f}s of a restart")
        finally:
            api.close()

    def stop(self) -> None:
        """Stop every process, remove the work directory and this cluster's PV directories."""
        if self.workdir is None:
            return
        workdir, self.workdir = self.workdir, None
        unregister_kwok(self)
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


def _flag_port(spec: dict[str, Any], flag: str) -> int | None:
    """The port in ``flag=<port>`` among a kwokctl component's args, if any."""
    for arg in spec.get("args") or []:
        if str(arg).startswith(flag + "="):
            with contextlib.suppress(ValueError):
                return int(str(arg).split("=", 1)[1])
    return None


def _port_free(port: int) -> bool:
    """Can a listener bind 127.0.0.1:``port`` now? SO_REUSEADDR as Go's listeners set it, so
    the TIME_WAIT connections of the killed process do not count."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


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


