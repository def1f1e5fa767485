"""The ``kubeconfig`` backend: run scenarios on a cluster somebody else started, with a guard.

The guard (the issue's words): *the kubeconfig backend refuses a context that the harness did not
create unless --allow-existing-cluster is given, and even then touches only namespaces it created
and labelled.* "Created by the harness" means recorded in :mod:`sts_props.cluster.registry` by
the backend that started it, and still answering as that cluster.

>>> # cluster = KubeconfigCluster(Path("~/.kube/config").expanduser(), context="staging",
>>> #                             allow_existing=True)
>>> # with cluster:                        # refuses at once without allow_existing
>>> #     with ClusterRun(cluster, manifests) as run:
>>> #         run.apply(Create())
>>> # # stop() deleted the namespaces of *this* run that were still there, nothing else

Which namespaces are "this run's": every ``KubeconfigCluster`` object has a random
:attr:`~KubeconfigCluster.run_id`. A namespace is this run's when it carries the label
``app.kubernetes.io/created-by=sts-props`` *and* either the annotation
``sts-props.io/run-id=<run_id>`` (see :meth:`~KubeconfigCluster.namespace_body`) or it was handed
to :meth:`~KubeconfigCluster.created_namespace`, which remembers its UID. :meth:`stop` deletes
each of them with a UID precondition, so a namespace deleted and re-created by somebody else
under the same name is never hit. Labelled namespaces of other runs or other people are left
alone, as are unlabelled ones.

Capabilities: whether pods are real containers is unknown, so ``real_containers`` is False (the
checks that need it are skipped). ``status_faults`` is True: patching a pod's ``status``
subresource works on any apiserver, **but a real kubelet reports the pod's status again on its
next sync and may overwrite the fault** (kwok leaves pods carrying the hold annotation alone; a
kubelet knows no such annotation). Faults on a real cluster are therefore short-lived, and a
check that relies on one holding may see it undone.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from sts_props.cluster import rawhttp, registry
from sts_props.cluster.base import (
    CREATED_BY_LABEL,
    CREATED_BY_VALUE,
    RUN_ID_ANNOTATION,
    Capabilities,
    Cluster,
    ClusterError,
    typed_apis,
)
from sts_props.cluster.registry import KubeconfigError, KubeconfigTarget
from sts_props.user_files import configured_path, home_expanded

__all__ = ["CONNECT_DEADLINE", "KubeconfigCluster", "default_kubeconfig"]

#: Seconds :meth:`KubeconfigCluster.start` may spend reaching the apiserver before it gives up.
CONNECT_DEADLINE = 10.0
#: Per-request timeout of the guard's own reads and deletes.
_REQUEST_TIMEOUT = 10.0

_T = TypeVar("_T")


def default_kubeconfig() -> Path:
    """``$KUBECONFIG`` when set, else ``~/.kube/config`` (what kubectl reads).

    >>> os.environ["KUBECONFIG"] = "/tmp/kc.yaml"
    >>> str(default_kubeconfig())
    '/tmp/kc.yaml'
    >>> del os.environ["KUBECONFIG"]
    >>> default_kubeconfig().name
    'config'
    """
    return configured_path("KUBECONFIG", ".kube/config", KubeconfigError)


class KubeconfigCluster(Cluster):
    """A cluster reached through a kubeconfig context, guarded (see the module docstring).

    >>> c = KubeconfigCluster(Path("/nonexistent/kubeconfig"), context="dev")
    >>> try:
    ...     c.start()
    ... except ClusterError as exc:
    ...     print(exc)
    /nonexistent/kubeconfig: no such kubeconfig file (pass --kubeconfig FILE or set KUBECONFIG)
    >>> c.stop()                                   # nothing was started: nothing to do
    """

    name = "kubeconfig"
    capabilities = Capabilities(real_containers=False, restart_controller=False,
                                status_faults=True, faults_withheld=(
                                    "not offered on a cluster somebody else runs: the guard "
                                    "lets a run touch only its own namespaces, and node "
                                    "failures, cordons, restarts and admission policies act "
                                    "cluster-wide"), admission_policies=False)

    def __init__(self, kubeconfig: Path | None = None, context: str | None = None,
                 allow_existing: bool = False, provisioner: str | None = None,
                 registry_root: Path | None = None) -> None:
        self.kubeconfig_path = home_expanded(kubeconfig, "kubeconfig", KubeconfigError) \
            if kubeconfig is not None else default_kubeconfig()
        self.context = context
        self.allow_existing = allow_existing
        if provisioner:
            self.provisioner = provisioner
        self.registry_root = registry_root
        #: the harness created this cluster (decided by :meth:`start` from the registry)
        self.owned = False
        self.target: KubeconfigTarget | None = None
        self._run_id = uuid.uuid4().hex
        #: namespaces handed to :meth:`created_namespace`: name -> UID
        self._created: dict[str, str] = {}
        self._started = False
        #: namespaces :meth:`stop` could not delete, with the reason
        self.leftovers: dict[str, str] = {}

    @property
    def run_id(self) -> str:
        """Random id of this object's run; written as :data:`RUN_ID_ANNOTATION`."""
        return self._run_id

    @property
    def server(self) -> str:
        """The apiserver URL of the context (known after :meth:`start`)."""
        return self.target.server if self.target is not None else ""

    def kubeconfig(self) -> Path:
        return self.kubeconfig_path

    def api_client(self) -> Any:
        """An ``ApiClient`` for the chosen context (the kubeconfig file is never rewritten)."""
        context = self.target.context if self.target is not None else self.context
        return registry.api_client_for(self.kubeconfig_path, context)

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        """Load the context, reach the apiserver within :data:`CONNECT_DEADLINE`, apply the guard.

        Every failure is a :class:`ClusterError` with a one-line message naming the file, the
        context or the server, and the cause.
        """
        if self._started:
            return
        started = time.monotonic()
        target = self._target()
        _within(CONNECT_DEADLINE, lambda: self._reach(target),
                f"cannot reach the apiserver {target.server} (context {target.context}): no "
                f"answer within {CONNECT_DEADLINE:.0f}s")
        remaining = max(1.0, CONNECT_DEADLINE - (time.monotonic() - started))
        owned = registry.is_harness_created(target.path, target.context,
                                            root=self.registry_root,
                                            timeout=min(4.0, remaining))
        if not owned and not self.allow_existing:
            raise ClusterError(
                f"refusing to touch cluster {target.server} (context {target.context}): "
                "sts-props did not create it; pass --allow-existing-cluster to run in "
                "namespaces it creates and labels there")
        self.target = target
        self.owned = owned
        self._started = True
        atexit.register(self.stop)

    def check_inputs(self) -> None:
        """The kubeconfig file can be read and has the context (nothing is reached)."""
        self._target()

    def _target(self) -> KubeconfigTarget:
        return kubeconfig_target(self.kubeconfig_path, self.context)

    def _reach(self, target: KubeconfigTarget) -> None:
        where = f"the apiserver {target.server} (context {target.context})"
        try:
            api = registry.api_client_for(target.path, target.context)
        except Exception as exc:
            raise KubeconfigError(f"{target.path}: context {target.context!r}: cannot load its "
                                  f"credentials: {_first_line(exc)}") from None
        try:
            resp = rawhttp.get(api, "/version", read_timeout=4.0)
        except Exception as exc:
            raise ClusterError(f"cannot reach {where}: {registry.describe_error(exc)}") from None
        finally:
            api.close()
        if resp.status in (401, 403):
            raise ClusterError(f"{where} refused the credentials of the context "
                               f"(HTTP {resp.status} on /version)")
        if resp.status != 200:
            raise ClusterError(f"{where} is not healthy: HTTP {resp.status} on /version")

    def stop(self) -> None:
        """Delete the namespaces of this run that still exist (and only those). Safe to call
        twice; a namespace it cannot delete is reported in :attr:`leftovers` and warned about,
        never raised (stop runs from ``__exit__`` and must not hide the original error)."""
        if not self._started:
            return
        self._started = False
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
        from kubernetes.client.exceptions import ApiException

        self.leftovers = {}
        try:
            with self._core() as core:
                try:
                    victims = self._mine(core)
                except Exception as exc:
                    # no right to list namespaces: the ones handed over by name still go
                    victims = dict(self._created)
                    self.leftovers["(others)"] = ("cannot list namespaces: "
                                                  f"{registry.describe_error(exc)}")
                for name, uid in sorted(victims.items()):
                    try:
                        core.delete_namespace(name, body={"preconditions": {"uid": uid}},
                                              propagation_policy="Background",
                                              _request_timeout=_REQUEST_TIMEOUT)
                    except ApiException as exc:
                        if exc.status not in (404, 409):  # gone, or replaced by another
                            self.leftovers[name] = f"HTTP {exc.status} {exc.reason}"
                    except Exception as exc:
                        self.leftovers[name] = registry.describe_error(exc)
        except Exception as exc:
            self.leftovers["(all)"] = f"cannot connect: {registry.describe_error(exc)}"
        self._created.clear()
        if self.leftovers:
            warnings.warn(f"sts-props: namespaces of run {self.run_id} left on {self.server}: "
                          + "; ".join(f"{k}: {v}" for k, v in sorted(self.leftovers.items())),
                          RuntimeWarning, stacklevel=2)

    # -- namespaces --------------------------------------------------------------------------------
    def namespace_body(self, name: str) -> dict[str, Any]:
        """The body of a namespace of this run: the created-by label and the run-id annotation.

        >>> body = KubeconfigCluster(Path("/k")).namespace_body("sts-props-1")
        >>> body["metadata"]["labels"]
        {'app.kubernetes.io/created-by': 'sts-props'}
        """
        return {"metadata": {"name": name, "labels": {CREATED_BY_LABEL: CREATED_BY_VALUE},
                             "annotations": {RUN_ID_ANNOTATION: self.run_id}}}

    def created_namespace(self, name: str) -> str:
        """Remember that this run created namespace ``name`` (it must carry the created-by
        label); returns its UID. :meth:`stop` deletes it if it still has that UID."""
        self._require_started()
        with self._core() as core:
            ns = self._read_labelled(core, name)
        uid = str(ns.metadata.uid)
        self._created[name] = uid
        return uid

    def guard_namespace(self, name: str) -> None:
        """Raise :class:`ClusterError` unless this backend may touch namespace ``name``: it must
        carry the created-by label and, on a cluster the harness did not create, belong to this
        run (run-id annotation, or handed to :meth:`created_namespace`)."""
        self._require_started()
        with self._core() as core:
            ns = self._read_labelled(core, name)
        if self.owned or self._is_mine(ns):
            return
        raise ClusterError(
            f"refusing to touch namespace {name} on cluster {self.server}: another sts-props run "
            "created it, and on a cluster sts-props did not create only this run's namespaces "
            "are touched")

    def _read_labelled(self, core: Any, name: str) -> Any:
        from kubernetes.client.exceptions import ApiException

        try:
            ns = core.read_namespace(name, _request_timeout=_REQUEST_TIMEOUT)
        except ApiException as exc:
            if exc.status == 404:
                raise ClusterError(f"namespace {name} does not exist on cluster "
                                   f"{self.server}") from None
            raise ClusterError(f"cannot read namespace {name} on cluster {self.server}: "
                               f"HTTP {exc.status} {exc.reason}") from None
        if (ns.metadata.labels or {}).get(CREATED_BY_LABEL) != CREATED_BY_VALUE:
            raise ClusterError(
                f"refusing to touch namespace {name} on cluster {self.server}: it lacks the "
                f"label {CREATED_BY_LABEL}={CREATED_BY_VALUE}, so sts-props did not create it")
        return ns

    def _is_mine(self, ns: Any) -> bool:
        meta = ns.metadata
        if (meta.labels or {}).get(CREATED_BY_LABEL) != CREATED_BY_VALUE:
            return False
        if (meta.annotations or {}).get(RUN_ID_ANNOTATION) == self.run_id:
            return True
        return self._created.get(str(meta.name)) == str(meta.uid)

    def _mine(self, core: Any) -> dict[str, str]:
        """This run's namespaces that exist now: name -> UID (found by label, then filtered)."""
        listed = core.list_namespace(label_selector=f"{CREATED_BY_LABEL}={CREATED_BY_VALUE}",
                                     _request_timeout=_REQUEST_TIMEOUT)
        return {str(ns.metadata.name): str(ns.metadata.uid)
                for ns in listed.items if self._is_mine(ns)}

    @contextlib.contextmanager
    def _core(self) -> Iterator[Any]:
        api = self.api_client()
        try:
            yield typed_apis(api)[0]
        finally:
            api.close()

    def _require_started(self) -> None:
        if not self._started:
            raise ClusterError("the kubeconfig backend is not started: call start() (or use it "
                               "as a context manager) first")


def kubeconfig_target(path: Path, context: str | None) -> KubeconfigTarget:
    """:func:`registry.kubeconfig_target`, plus a clear word when ``$KUBECONFIG`` lists
    several files (kubectl merges them; sts-props reads exactly one)."""
    if not path.exists() and os.pathsep in str(path):
        raise KubeconfigError(f"{path}: KUBECONFIG lists several files; sts-props reads one: "
                              "pass --kubeconfig FILE")
    return registry.kubeconfig_target(path, context)


def _within(seconds: float, fn: Callable[[], _T], timeout_message: str) -> _T:
    """Run ``fn`` in a helper thread and give up after ``seconds`` (loading credentials may run
    an exec plugin, and a black-holed address only times out at the socket level)."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:
            box["error"] = exc

    worker = threading.Thread(target=run, name="sts-props-kubeconfig-probe", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise ClusterError(timeout_message)
    if "error" in box:
        error: BaseException = box["error"]
        raise error.with_traceback(None) from None
    value: _T = box["value"]
    return value


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:200] if lines else type(exc).__name__
