"""Can each backend run here? The checks, each problem with a one-line fix.

:func:`diagnose` makes the :class:`Finding` list that ``sts-props doctor``
(:mod:`sts_props.cli.doctor`) prints and that the pytest plugin stops a session on
(:func:`first_problem`)::

    $ sts-props doctor --backend k3s
    [ok]   docker: engine 20.10.24 at unix:///var/run/docker.sock (cgroup v2)
    [FAIL] privileged containers: unable to apply caps: operation not permitted
           fix: k3s needs --privileged: use a host or VM whose engine allows it, or kwok-image
    ...

Each check is bounded (a few seconds); nothing is pulled, started or built except the
one-megabyte probe image (busybox) used to try a privileged container.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sts_props.errors import BackendUnavailable

MIN_GO = (1, 26)


@dataclass(frozen=True)
class Finding:
    """One check's verdict; ``fix`` is set when ``ok`` is False."""

    name: str
    ok: bool
    detail: str
    fix: str = ""

    def render(self) -> str:
        head = f"{'[ok]  ' if self.ok else '[FAIL]'} {self.name}: {self.detail}"
        return head if self.ok else f"{head}\n       fix: {self.fix}"


def diagnose(backends: Iterable[str], version: str, *, k3s_image: str | None = None,
             kwok_image: str | None = None) -> list[Finding]:
    """The checks the given backends need, in a sensible order, each once."""
    wanted = set(backends)
    findings: list[Finding] = []
    if wanted & {"kwok", "kwok-image"}:
        go = _go_toolchain()
        findings += [go, _binaries(version, can_build=go.ok)]
    if wanted & {"kwok-image", "k3s"}:
        client, docker_finding = _docker()
        findings.append(docker_finding)
        if client is not None:
            try:
                if "kwok-image" in wanted:
                    findings += _kwok_image(client, version, kwok_image)
                if "k3s" in wanted:
                    findings += _k3s(client, k3s_image)
            finally:
                client.close()
    return findings


def first_problem(findings: Iterable[Finding]) -> Finding | None:
    return next((f for f in findings if not f.ok), None)


def render(findings: Iterable[Finding]) -> str:
    return "\n".join(f.render() for f in findings)


# -- individual checks ------------------------------------------------------------------------
def _go_toolchain() -> Finding:
    go = shutil.which("go")
    fix = "install Go >= 1.26 (only needed to build the control plane once)"
    if go is None:
        return Finding("go toolchain", False, "no `go` on PATH", fix)
    try:
        out = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True,
                             timeout=10, check=False).stdout.strip()
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Finding("go toolchain", False, f"`go env` failed: {exc}", fix)
    m = re.match(r"go(\d+)\.(\d+)", out)
    if m is None or (int(m.group(1)), int(m.group(2))) < MIN_GO:
        return Finding("go toolchain", False, f"{out or 'unknown version'} is too old", fix)
    return Finding("go toolchain", True, out)


def _binaries(version: str, *, can_build: bool) -> Finding:
    from sts_props.cluster.binaries import find_binaries

    found = find_binaries(version)
    if found is None and can_build:
        return Finding(f"control-plane binaries {version}", True,
                       "not built yet: the first run builds them (20-30 min once; or now: "
                       f"sts-props cluster build --k8s-version {version})")
    if found is None:
        return Finding(f"control-plane binaries {version}", False, "not built, and no Go",
                       "install Go >= 1.26, then "
                       f"sts-props cluster build --k8s-version {version}")
    return Finding(f"control-plane binaries {version}", True, str(found.bin_dir))


def _docker() -> tuple[Any, Finding]:
    from sts_props.cluster.docker_env import docker_client, docker_host

    try:
        client = docker_client()
    except BackendUnavailable as exc:
        text = str(exc)
        detail, _, fix = text.partition("; ")
        return None, Finding("docker", False, detail, fix or "start the Docker engine")
    info = _safe(lambda: client.info(), {})
    cgroup = info.get("CgroupVersion") or _host_cgroup_version()
    detail = (f"engine {info.get('ServerVersion', '?')} at {docker_host()} "
              f"(cgroup v{cgroup}, storage {info.get('Driver', '?')})")
    return client, Finding("docker", True, detail)


def _kwok_image(client: Any, version: str, image: str | None) -> list[Finding]:
    from sts_props.cluster.image_check import image_status
    from sts_props.cluster.kwok_image_build import find_busybox, local_image_tag

    if image is not None and image != local_image_tag(version):
        return [_image_finding(client, image, image_status)]
    busybox = find_busybox()
    findings = [Finding("busybox-static (the image's /bin/sh)", busybox is not None,
                        str(busybox) if busybox else "not found",
                        "apt-get install busybox-static")]
    tag = local_image_tag(version)
    state, _ = image_status(client, tag)
    if state == "present":
        findings.append(Finding(f"image {tag}", True, "present (rebuilt when binaries change)"))
    else:
        findings.append(Finding(f"image {tag}", True,
                                "not built yet: the first kwok-image run builds it (~10 s)"))
    return findings


def _k3s(client: Any, image: str | None) -> list[Finding]:
    from sts_props.cluster.image_check import image_status, privileged_status
    from sts_props.cluster.k3s import k3s_image
    from sts_props.cluster.kwok_image_build import find_busybox

    info = _safe(lambda: client.info(), {})
    cgroup = str(info.get("CgroupVersion") or _host_cgroup_version())
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
    findings.append(_image_finding(client, image or k3s_image(), image_status))
    return findings


def _image_finding(client: Any, image: str,
                   image_status: Callable[[Any, str], tuple[str, str]]) -> Finding:
    state, why = image_status(client, image)
    if state == "present":
        return Finding(f"image {image}", True, "present")
    if state == "pullable":
        return Finding(f"image {image}", True, "not present; the registry offers it")
    return Finding(f"image {image}", False, f"not present and not pullable ({why})",
                   f"pull it where a registry is reachable, then `docker save {image} | "
                   "docker load` here (or choose another image with --image)")


def _host_cgroup_version() -> str:
    return "2" if Path("/sys/fs/cgroup/cgroup.controllers").exists() else "1"


def _safe(call: Callable[[], Any], default: Any) -> Any:
    try:
        return call()
    except Exception:  # a diagnostic detail; the check itself already passed
        return default
