"""Kubernetes versions and feature gates as plans and command lines name them.

Vocabulary, not behaviour: which versions the model covers and which gates exist. What a
version or gate *does* is the model's business (:class:`sts_props.model.ModelConfig`).

>>> parse_version("v1.36.3"), parse_version("1.37")
((36, 3), (37, 0))
>>> parse_version("v1.20")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
sts_props.errors.VersionError: Kubernetes v1.20 is outside ... (v1.33 to v1.37)
>>> check_gates(["PodIndexLabel"]) is None
True
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sts_props.errors import VersionError

__all__ = ["GATES", "MAX_MINOR", "MIN_MINOR", "check_gates", "parse_version"]

#: the feature gates that change StatefulSet behaviour (section 11 of the spec)
GATES = (
    "MaxUnavailableStatefulSet",
    "PodIndexLabel",
    "StatefulSetAutoDeletePVC",
    "StatefulSetSemanticRevisionComparison",
)

#: The minor versions whose behaviour the model reproduces: the spec's v1.33-v1.36 line
#: (statefulset-semantics.md) and v1.37 (docs/model-notes.md). Older and newer versions differ
#: in rules the model does not know, so they are refused rather than modelled wrongly.
MIN_MINOR, MAX_MINOR = 33, 37


def parse_version(version: str) -> tuple[int, int]:
    """``v1.36.3`` (or ``1.36``) as (minor, patch); a :class:`VersionError` outside
    :data:`MIN_MINOR`..:data:`MAX_MINOR` or for what is not a version."""
    m = re.fullmatch(r"v?1\.(\d+)(?:\.(\d+))?(?:[-+].*)?", version.strip())
    if m is None:
        raise VersionError(f"not a Kubernetes version: {version!r} (expected e.g. v1.37.2)")
    minor = int(m.group(1))
    if not MIN_MINOR <= minor <= MAX_MINOR:
        raise VersionError(f"Kubernetes v1.{minor} is outside the versions the model covers "
                           f"(v1.{MIN_MINOR} to v1.{MAX_MINOR})")
    return minor, int(m.group(2) or 0)


def check_gates(names: Iterable[str]) -> None:
    """A :class:`VersionError` for the first name that is not in :data:`GATES`."""
    for name in names:
        if name not in GATES:
            raise VersionError(f"unknown feature gate {name!r}; known: {', '.join(GATES)}")
