"""Is an image usable here, and may containers run privileged? Answers within a deadline.

    client = docker_client()
    image_status(client, "rancher/k3s:v1.34.1-k3s1")   # ("present" | "pullable" | "missing", why)
    privileged_status(client)                           # (True, "") or (False, the engine's error)
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sts_props.cluster.base import CREATED_BY_LABEL, CREATED_BY_VALUE, BackendUnavailable
from sts_props.cluster.docker.env import docker_host

REGISTRY_TIMEOUT = 8
PROBE_IMAGE = "sts-props/probe:busybox"
#: where a statically linked busybox is found: the probe image's only binary, and the
#: kwok-image's ``/bin/sh``
BUSYBOX_CANDIDATES = ("/bin/busybox", "/usr/bin/busybox")


def find_busybox() -> Path | None:
    """A statically linked busybox on this machine (Debian: ``busybox-static``)."""
    for candidate in BUSYBOX_CANDIDATES:
        path = Path(candidate)
        if path.is_file():
            return path
    return None


def image_status(client: Any, image: str) -> tuple[str, str]:
    """``("present", "")``, ``("pullable", "")`` or ``("missing", reason)``.

    "pullable" asks the registry for the image's manifest (no layers are downloaded).
    """
    import docker.errors

    try:
        client.api.inspect_image(image)
        return "present", ""
    except docker.errors.ImageNotFound:
        pass
    try:
        import docker

        quick = docker.DockerClient(base_url=docker_host(), timeout=REGISTRY_TIMEOUT)
        try:
            quick.api.inspect_distribution(image)
        finally:
            quick.close()
        return "pullable", ""
    except Exception as exc:
        return "missing", _engine_error(exc)


def ensure_image(client: Any, image: str, progress: Callable[[str], None] | None = None) -> None:
    """Make ``image`` present (pulling it if the registry answers) or raise a diagnosis."""
    state, reason = image_status(client, image)
    if state == "present":
        return
    if state == "missing":
        raise BackendUnavailable(
            f"image {image} is not present and cannot be pulled ({reason}); fix: pull it where a "
            f"registry is reachable and copy it here (`docker save {image} | docker load`)")
    if progress:
        progress(f"pulling {image}")
    repository, _, tag = image.rpartition(":") if ":" in image.split("/")[-1] else (image, "", "")
    client.api.pull(repository, tag=tag or "latest")


def probe_image(client: Any, busybox: str) -> str:
    """A one-binary image (busybox as /bin/true) to try container settings with; cached."""
    import docker.errors

    try:
        client.api.inspect_image(PROBE_IMAGE)
        return PROBE_IMAGE
    except docker.errors.ImageNotFound:
        pass
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(busybox, arcname="bin/busybox")
        link = tarfile.TarInfo("bin/true")
        link.type, link.linkname = tarfile.SYMTYPE, "busybox"
        tar.addfile(link)
    repository, _, tag = PROBE_IMAGE.rpartition(":")
    client.api.import_image_from_data(buffer.getvalue(), repository=repository, tag=tag,
                                      changes=[f"LABEL {CREATED_BY_LABEL}={CREATED_BY_VALUE}"])
    return PROBE_IMAGE


def privileged_status(client: Any, busybox: str) -> tuple[bool, str]:
    """Run ``true`` in a privileged container (k3s needs one); ``(ok, the engine's error)``."""
    image = probe_image(client, busybox)
    container = client.containers.create(image, ["/bin/true"], privileged=True,
                                         labels={CREATED_BY_LABEL: CREATED_BY_VALUE})
    try:
        container.start()
        container.wait(timeout=REGISTRY_TIMEOUT)
        return True, ""
    except Exception as exc:
        return False, _engine_error(exc)
    finally:
        container.remove(force=True)


def _engine_error(exc: Exception) -> str:
    """The engine's own explanation of a failed call (e.g. the OCI runtime's last words)."""
    text = str(getattr(exc, "explanation", None) or exc or type(exc).__name__)
    for prefix in ("failed to create shim task: ", "OCI runtime create failed: ",
                   "runc create failed: "):
        text = text.replace(prefix, "")
    return text.strip().splitlines()[0][:200]
