"""The doctor's checks the Docker-based backends share: is the engine there, is an image
usable. Each answers within seconds; nothing is pulled.

>>> host_cgroup_version() in ("1", "2")
True
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sts_props.cluster.base import BackendUnavailable, Finding
from sts_props.cluster.docker.env import docker_client, docker_host
from sts_props.cluster.docker.image_check import image_status


def docker_finding() -> tuple[Any, Finding]:
    """A Docker client (None when the engine cannot be reached; the caller closes it) and the
    check's verdict."""
    try:
        client = docker_client()
    except BackendUnavailable as exc:
        text = str(exc)
        detail, _, fix = text.partition("; ")
        return None, Finding("docker", False, detail, fix or "start the Docker engine")
    info = safe(lambda: client.info(), {})
    cgroup = info.get("CgroupVersion") or host_cgroup_version()
    detail = (f"engine {info.get('ServerVersion', '?')} at {docker_host()} "
              f"(cgroup v{cgroup}, storage {info.get('Driver', '?')})")
    return client, Finding("docker", True, detail)


def with_docker(checks: Callable[[Any], list[Finding]]) -> list[Finding]:
    """The docker check, then (if the engine answers) ``checks(client)``; the client is closed."""
    client, finding = docker_finding()
    if client is None:
        return [finding]
    try:
        return [finding, *checks(client)]
    finally:
        client.close()


def image_finding(client: Any, image: str) -> Finding:
    state, why = image_status(client, image)
    if state == "present":
        return Finding(f"image {image}", True, "present")
    if state == "pullable":
        return Finding(f"image {image}", True, "not present; the registry offers it")
    return Finding(f"image {image}", False, f"not present and not pullable ({why})",
                   f"pull it where a registry is reachable, then `docker save {image} | "
                   "docker load` here (or choose another image with --image)")


def host_cgroup_version() -> str:
    return "2" if Path("/sys/fs/cgroup/cgroup.controllers").exists() else "1"


def safe(call: Callable[[], Any], default: Any) -> Any:
    try:
        return call()
    except Exception:  # a diagnostic detail; the check itself already passed
        return default
