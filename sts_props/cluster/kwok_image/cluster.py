"""The ``kwok-image`` backend: the kwok all-in-one image run through testcontainers.

By default the image is built here from sts-props's own binaries (see
:mod:`sts_props.cluster.kwok_image.build`); ``image=`` takes upstream's
``kwok/cluster:<kwok>-k8s.<kube>`` (or any equivalent) instead. Either way the same upstream
control plane and kwok run inside one container, the API is published on a loopback port, and
the harness drives it exactly as it drives the ``kwok`` backend.

    with KwokImageCluster("v1.37.2", progress=print) as cluster:   # ~10 s warm
        print(cluster.version())

The per-cluster kwokctl configuration (kwok stages that leave held pods alone, feature gates)
is mounted at kwokctl's default configuration path, so both images read it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sts_props.cluster.base import Capabilities, ClusterError, Finding
from sts_props.cluster.docker.container_cluster import (
    ContainerCluster,
    proxy_kubeconfig,
    readyz_error,
)
from sts_props.cluster.docker.env import docker_client
from sts_props.cluster.docker.image_check import ensure_image
from sts_props.cluster.kwok.binaries import DEFAULT_K8S_VERSION
from sts_props.cluster.kwok.cluster import LOGGED
from sts_props.cluster.kwok.nodes import KwokNodes, prepare_kwok_cluster
from sts_props.cluster.kwok_image.build import (
    CONFIG_PATH,
    LOGS_DIR,
    PROXY_PORT,
    build_local_image,
    container_config,
    local_image_tag,
)
from sts_props.cluster.kwok_image.checks import kwok_image_checks
from sts_props.cluster.log_window import excerpts
from sts_props.ops import faults_performed_by


class KwokImageCluster(KwokNodes, ContainerCluster):
    """An upstream control plane with kwok nodes inside one container."""

    name = "kwok-image"
    # The API-level faults and node failure work as on kwok; restarting a control-plane
    # process would need an exec into the container, which this backend does not do
    # (each fault's reason: its Op.unsupported).
    capabilities = Capabilities(real_containers=False, restart_controller=False,
                                status_faults=True, faults=faults_performed_by("kwok-image"))
    provisioner = "kubernetes.io/host-path"

    def __init__(self, version: str = DEFAULT_K8S_VERSION, image: str | None = None,
                 progress: Callable[[str], None] | None = None,
                 feature_gates: dict[str, bool] | None = None) -> None:
        super().__init__(progress=progress)
        self.k8s_version = version
        self.image = image
        self.feature_gates = feature_gates or {}
        self.cluster_name = "kwok-image"

    @classmethod
    def diagnose(cls, version: str, image: str | None = None) -> list[Finding]:
        """What the kwok backend needs, Docker, and the image (built here unless ``image``)."""
        return kwok_image_checks(version, image)

    def log_excerpts(self, since: float, until: float, namespace: str) -> dict[str, str]:
        """As on kwok (the same components, logged the same way), read from the container;
        none from a foreign image without ``cat`` or kwokctl's log directory."""
        container = self.container
        if container is None:
            return {}

        def read(component: str) -> bytes | None:
            try:
                code, data = container.get_wrapped_container().exec_run(
                    ["cat", f"{LOGS_DIR}/{component}.log"])
            except Exception:  # the container went away: no excerpt to keep
                return None
            return bytes(data) if code == 0 else None

        return excerpts(LOGGED, read, since, until, namespace)

    def _preflight(self, client: Any) -> None:
        if self.image is None:
            self.image = build_local_image(self.k8s_version, client, progress=self.progress)
        elif self.image != local_image_tag(self.k8s_version):
            ensure_image(client, self.image, progress=self.progress)

    def _container(self) -> Any:
        from testcontainers.core.container import DockerContainer

        assert self.workdir is not None and self.image is not None
        foreign = self.image != local_image_tag(self.k8s_version)
        config = self.workdir / "kwok.yaml"
        config.write_text(container_config(self.k8s_version, self.feature_gates,
                                           with_binary_paths=not foreign), encoding="utf-8")
        return (DockerContainer(self.image)
                .with_exposed_ports(PROXY_PORT)
                .with_volume_mapping(str(config), CONFIG_PATH, "ro"))

    def _wait_ready(self, container: Any, deadline: float) -> None:
        """Poll /readyz through the published port (``kubectl proxy`` starts last)."""
        from kubernetes import client as k8s

        def api() -> Any:
            return k8s.ApiClient(k8s.Configuration(host=self._server(container)))

        last = "no answer yet"
        while time.monotonic() < deadline:
            exited = self._exited(container)
            if exited:
                raise ClusterError(f"kwok-image: {exited}")
            last = readyz_error(api)
            if not last:
                return
            time.sleep(0.2)  # nothing to watch before the API exists
        raise ClusterError(f"kwok-image: the API was not ready within {self.start_deadline:.0f}s"
                           f" (last: {last}); container log:\n{self._log_tail(container)}")

    def _kubeconfig_text(self, container: Any) -> str:
        return proxy_kubeconfig(self.name, self._server(container))

    def _after_start(self) -> None:
        api = self.api_client()
        try:
            prepare_kwok_cluster(api, self.provisioner)
        finally:
            api.close()

    @staticmethod
    def _server(container: Any) -> str:
        return (f"http://{container.get_container_host_ip()}:"
                f"{container.get_exposed_port(PROXY_PORT)}")


def prepare_image(version: str, progress: Callable[[str], None] | None = None) -> str:
    """Build (or confirm) the local image for ``version``; for CI and ``sts-props doctor``."""
    client = docker_client()
    try:
        return build_local_image(version, client, progress=progress)
    finally:
        client.close()
