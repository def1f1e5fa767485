"""The ``k3s`` backend: k3s in testcontainers (``K3SContainer``), with real kubelets and
containers, where Docker can pull (or already has) the pinned image.

    with K3sCluster(progress=print) as cluster:     # 15-40 s on a small machine
        print(cluster.version())                    # e.g. v1.34.1+k3s1

Before anything starts, a preflight answers within seconds: Docker reachable, the image present
or pullable, privileged containers allowed (k3s runs its kubelet and containerd inside the
container). Each failure is one line with the fix, as ``sts-props doctor`` prints it.

Storage: every StorageClass the scenario asks for is mapped to k3s's ``rancher.io/local-path``
provisioner; with real containers, :mod:`sts_props.storage_data` checks reattachment at the data
level (a token written into each volume reads back after the pod is recreated).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from sts_props.cluster.base import (
    BackendUnavailable,
    Capabilities,
    ClusterError,
    Finding,
    first_problem,
)
from sts_props.cluster.docker.container_cluster import ContainerCluster, readyz_error
from sts_props.cluster.docker.image_check import ensure_image
from sts_props.cluster.k3s.checks import k3s_checks
from sts_props.ops import faults_performed_by

#: The pinned k3s image (its Kubernetes minor is what the model is configured for);
#: override with ``--image`` (pytest: ``--sts-image``) or ``STS_PROPS_K3S_IMAGE``.
DEFAULT_K3S_IMAGE = "rancher/k3s:v1.34.1-k3s1"
K3S_API_PORT = 6443


def k3s_image() -> str:
    return os.environ.get("STS_PROPS_K3S_IMAGE") or DEFAULT_K3S_IMAGE


class K3sCluster(ContainerCluster):
    """k3s (server with an agent) in one privileged container."""

    name = "k3s"
    # A real kubelet owns pod status (no readiness flaps or held readiness through the API)
    # and the one node runs everything (no node failure); each fault's reason: Op.unsupported.
    capabilities = Capabilities(real_containers=True, restart_controller=False,
                                status_faults=False, faults=faults_performed_by("k3s"))
    provisioner = "rancher.io/local-path"

    def __init__(self, image: str | None = None,
                 progress: Callable[[str], None] | None = None) -> None:
        super().__init__(progress=progress)
        self.image = image or k3s_image()

    @classmethod
    def diagnose(cls, version: str, image: str | None = None) -> list[Finding]:
        """Docker, cgroups, privileged containers, the image (``version`` does not apply: the
        image decides it)."""
        return k3s_checks(image or k3s_image())

    def _preflight(self, client: Any) -> None:
        problem = first_problem(self.diagnose("", self.image))
        if problem is not None:
            raise BackendUnavailable(f"k3s cannot start here: {problem.name}: {problem.detail}"
                                     f"; fix: {problem.fix}")
        ensure_image(client, self.image, progress=self.progress)

    def _container(self) -> Any:
        from testcontainers.community.k3s import K3SContainer

        return K3SContainer(self.image)

    def _wait_ready(self, container: Any, deadline: float) -> None:
        """Nothing more to wait for here: K3SContainer.start() waited for its log line
        ("Node controller sync successful"); /readyz is confirmed once the kubeconfig exists
        (:meth:`_after_start`)."""

    def _kubeconfig_text(self, container: Any) -> str:
        return str(container.config_yaml())

    def _after_start(self) -> None:
        self._wait_api(time.monotonic() + 60.0)

    def _wait_api(self, deadline: float) -> None:
        last = "no answer"
        while time.monotonic() < deadline:
            last = readyz_error(self.api_client)
            if not last:
                return
            time.sleep(0.5)  # polling a server that offers nothing to watch yet
        raise ClusterError(f"k3s: the API did not become ready (last: {last})")
