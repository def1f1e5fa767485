"""Build the kwok all-in-one image locally, from the binaries sts-props built, without a pull.

The image mirrors upstream's ``kwok/cluster:<kwok>-k8s.<kube>``: kwokctl and the control-plane
binaries, an entrypoint that creates the cluster with kwokctl's binary runtime inside the
container, then serves the API without authentication on port 8080 with ``kubectl proxy``. It is
a scratch root filesystem (static binaries, busybox-static as ``/bin/sh``) fed to
``docker import``, so no base image and no BuildKit frontend are needed.

>>> local_image_tag("v1.37.2")
'sts-props/kwok-cluster:v0.8.0-k8s.v1.37.2'

    tag = build_local_image("v1.37.2", progress=print)   # ~10 s; then cached by content hash
"""

from __future__ import annotations

import hashlib
import io
import shutil
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sts_props.cluster.base import CREATED_BY_LABEL, CREATED_BY_VALUE, BackendUnavailable
from sts_props.cluster.docker.image_check import find_busybox
from sts_props.cluster.kwok.binaries import BinarySet, BuildError, build_binaries, find_binaries
from sts_props.cluster.kwok.config import (
    kwokctl_config_document,
    stage_documents,
    to_yaml_documents,
)

LOCAL_IMAGE_REPO = "sts-props/kwok-cluster"
KWOK_VERSION = "v0.8.0"
CONTENT_LABEL = "sts-props.io/content-hash"
PROXY_PORT = 8080
#: Printed by the entrypoint once kwokctl has created and started the control plane.
READY_LINE = "sts-props: control plane created"
#: kwokctl's default configuration path; a per-cluster file mounted here overrides the
#: image's (feature gates), and kwokctl in upstream's image reads it too.
CONFIG_PATH = "/root/.kwok/kwok.yaml"
BIN_DIR = "/usr/local/bin"
#: where kwokctl inside the container writes each component's log (the cluster is named kwok)
LOGS_DIR = "/root/.kwok/clusters/kwok/logs"

ENTRYPOINT = f"""#!/bin/sh
# sts-props kwok all-in-one image: the control plane under kwokctl, the API on :{PROXY_PORT}.
set -e
kwokctl create cluster --name kwok --kubeconfig /root/unused.yaml
echo "{READY_LINE}"
exec kubectl proxy --address 0.0.0.0 --port {PROXY_PORT} --accept-hosts '.*' \\
    --kubeconfig /root/.kwok/clusters/kwok/kubeconfig.yaml
"""

BUSYBOX_APPLETS = ("sh", "cat", "echo", "sleep", "mkdir", "ls", "ps", "kill", "env", "rm")


def local_image_tag(k8s_version: str) -> str:
    """The tag of the locally built image for a Kubernetes version."""
    return f"{LOCAL_IMAGE_REPO}:{KWOK_VERSION}-k8s.{k8s_version}"


def container_config(k8s_version: str, feature_gates: dict[str, bool] | None = None,
                     *, with_binary_paths: bool = True) -> str:
    """kwokctl configuration for a cluster inside the container (stages, gates, flags).

    ``with_binary_paths=False`` leaves the binary locations to the image (a foreign image
    keeps its binaries wherever it keeps them).
    """
    document = kwokctl_config_document(BinarySet.in_dir(k8s_version, Path(BIN_DIR)),
                                       stage_crd=False, feature_gates=feature_gates)
    if not with_binary_paths:
        document["options"] = {key: value for key, value in document["options"].items()
                               if not key.endswith("Binary")}
    return to_yaml_documents([document, *stage_documents()])


def build_local_image(k8s_version: str, client: Any,
                      progress: Callable[[str], None] | None = None) -> str:
    """Make sure the local image for ``k8s_version`` exists and is current; return its tag.

    Rebuilt only when the binaries (their build stamps), the entrypoint or the default
    configuration changed: the image carries a hash of them as a label.
    """
    say = progress or (lambda _line: None)
    busybox = find_busybox()
    if busybox is None:
        raise BackendUnavailable("kwok-image: no static busybox for the image's /bin/sh; "
                                 "install it (Debian: `apt-get install busybox-static`)")
    binaries = _binaries(k8s_version, say)
    config = container_config(k8s_version)
    digest = _content_hash(binaries, busybox, config)
    tag = local_image_tag(k8s_version)
    existing = _inspect(client, tag)
    if existing is not None and existing.get("Config", {}).get("Labels", {}).get(
            CONTENT_LABEL) == digest:
        say(f"image {tag} is current")
        return tag
    say(f"building image {tag} from {binaries.bin_dir}")
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="sts-props-image-"))
    try:
        tarball = workdir / "rootfs.tar"
        _write_rootfs(tarball, binaries, busybox, config)
        changes = [
            "ENV HOME=/root",
            f"ENV PATH={BIN_DIR}:/bin",
            "ENV KWOK_RUNTIME=binary",
            f"EXPOSE {PROXY_PORT}",
            'ENTRYPOINT ["/entrypoint.sh"]',
            f"LABEL {CONTENT_LABEL}={digest}",
            f"LABEL {CREATED_BY_LABEL}={CREATED_BY_VALUE}",
        ]
        repository, _, image_tag = tag.rpartition(":")
        client.api.import_image_from_file(str(tarball), repository=repository, tag=image_tag,
                                          changes=changes)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if _inspect(client, tag) is None:
        raise BackendUnavailable(f"kwok-image: docker import did not produce {tag}")
    say(f"image {tag} built in {time.monotonic() - started:.1f}s")
    return tag


def _binaries(k8s_version: str, say: Callable[[str], None]) -> BinarySet:
    found = find_binaries(k8s_version)
    if found is not None:
        return found
    if shutil.which("go") is None:
        raise BackendUnavailable(
            f"kwok-image: the binaries for {k8s_version} are not built and there is no Go "
            "toolchain to build them (install Go >= 1.26, then `sts-props cluster build`)")
    say(f"building Kubernetes {k8s_version}, etcd and kwok from source (first use only)")
    try:
        return build_binaries(k8s_version, progress=say)
    except BuildError as exc:
        raise BackendUnavailable(f"kwok-image: the build failed: {exc}") from None


def _content_hash(binaries: BinarySet, busybox: Path, config: str) -> str:
    h = hashlib.sha256()
    for name, path in sorted(binaries.paths().items()):
        stamp = path.parent / f".{path.name}.stamp"
        h.update(name.encode())
        h.update(stamp.read_bytes() if stamp.exists() else str(path.stat().st_mtime).encode())
    h.update(str(busybox.stat().st_size).encode())
    h.update(ENTRYPOINT.encode())
    h.update(config.encode())
    return h.hexdigest()[:16]


def _inspect(client: Any, tag: str) -> dict[str, Any] | None:
    import docker.errors

    try:
        return dict(client.api.inspect_image(tag))
    except docker.errors.ImageNotFound:
        return None


def _write_rootfs(tarball: Path, binaries: BinarySet, busybox: Path, config: str) -> None:
    """The image's root filesystem as a tar file (no temporary tree on disk)."""
    with tarfile.open(tarball, "w") as tar:
        for directory, mode in (("bin", 0o755), ("usr", 0o755), ("usr/local", 0o755),
                                (BIN_DIR.lstrip("/"), 0o755), ("etc", 0o755), ("root", 0o700),
                                ("root/.kwok", 0o755), ("tmp", 0o1777), ("var", 0o755),
                                ("var/run", 0o755)):
            info = tarfile.TarInfo(directory)
            info.type, info.mode = tarfile.DIRTYPE, mode
            tar.addfile(info)
        for path in sorted(binaries.paths().values()):
            tar.add(str(path), arcname=f"{BIN_DIR.lstrip('/')}/{path.name}")
        tar.add(str(busybox), arcname="bin/busybox")
        for applet in BUSYBOX_APPLETS:
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type, link.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(link)
        _add_text(tar, "entrypoint.sh", ENTRYPOINT, 0o755)
        _add_text(tar, CONFIG_PATH.lstrip("/"), config, 0o644)
        _add_text(tar, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n", 0o644)
        _add_text(tar, "etc/group", "root:x:0:\n", 0o644)


def _add_text(tar: tarfile.TarFile, name: str, text: str, mode: int) -> None:
    data = text.encode()
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), mode
    tar.addfile(info, io.BytesIO(data))
