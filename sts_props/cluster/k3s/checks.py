"""What the ``k3s`` backend needs here, as ``sts-props doctor`` checks it (and its preflight
before anything starts): Docker, cgroups, privileged containers (k3s runs its kubelet and
containerd inside the container), the image present or pullable.
"""

from __future__ import annotations

from typing import Any

from sts_props.cluster.base import Finding
from sts_props.cluster.docker.checks import (
    host_cgroup_version,
    image_finding,
    safe,
    with_docker,
)
from sts_props.cluster.docker.image_check import find_busybox, privileged_status


def k3s_checks(image: str) -> list[Finding]:
    return with_docker(lambda client: _engine(client, image))


def _engine(client: Any, image: str) -> list[Finding]:
    info = safe(lambda: client.info(), {})
    cgroup = str(info.get("CgroupVersion") or host_cgroup_version())
    findings = [Finding("cgroups", True, f"v{cgroup}" + (
        " (K3SContainer mounts /sys/fs/cgroup read-write; nested cgroup v2 needs an engine "
        "that delegates it)" if cgroup == "2" else ""))]
    busybox = find_busybox()
    if busybox is None:
        findings.append(Finding("privileged containers", False,
                                "cannot try (no busybox-static for the probe image)",
                                "apt-get install busybox-static, then run doctor again"))
    else:
        ok, why = privileged_status(client, str(busybox))
        findings.append(Finding(
            "privileged containers", ok, "allowed" if ok else why,
            "k3s needs --privileged: use a host or VM whose Docker allows it, or use the "
            "kwok-image / kwok backends here"))
    findings.append(image_finding(client, image))
    return findings
