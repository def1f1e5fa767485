"""What the ``kwok-image`` backend needs here, as ``sts-props doctor`` checks it: what the
``kwok`` backend needs (its binaries go into the image), Docker, and then either busybox-static
and the local image, or the foreign image it was given.
"""

from __future__ import annotations

from typing import Any

from sts_props.cluster.base import Finding
from sts_props.cluster.docker.checks import image_finding, with_docker
from sts_props.cluster.docker.image_check import find_busybox, image_status
from sts_props.cluster.kwok.checks import kwok_checks
from sts_props.cluster.kwok_image.build import local_image_tag


def kwok_image_checks(version: str, image: str | None) -> list[Finding]:
    return kwok_checks(version) + with_docker(lambda client: _image(client, version, image))


def _image(client: Any, version: str, image: str | None) -> list[Finding]:
    if image is not None and image != local_image_tag(version):
        return [image_finding(client, image)]
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
