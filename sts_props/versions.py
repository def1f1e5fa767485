"""Kubernetes versions and feature gates as plans and command lines name them.

Vocabulary, not behaviour: which versions the model covers and which gates exist. What a
version or gate *does* is the model's business (:class:`sts_props.model.ModelConfig`).

>>> parse_version("v1.36.3"), parse_version("1.37")
((36, 3), (37, 0))
>>> parse_version("v1.20")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
sts_props.errors.VersionError: Kubernetes v1.20 is outside ... (v1.33 to v1.38)
>>> check_gates(["PodIndexLabel"]) is None
True
>>> check_gate_settings([("PodIndexLabel", False)], "v1.34.4")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
sts_props.errors.VersionError: feature gate PodIndexLabel is locked to true in v1.34 ...
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sts_props.errors import VersionError

__all__ = ["GATES", "MAX_MINOR", "MIN_MINOR", "PRE_RELEASE", "check_gate_settings", "check_gates",
           "parse_version", "pre_release_tag", "release_version"]

#: The suffix of a pre-release tag the module proxy serves (``-beta.0`` of v1.38.0-beta.0):
#: the one definition the version parsers, the build lookup and the model config share.
PRE_RELEASE = r"-(?:alpha|beta|rc)\.\d{1,3}"

#: the feature gates that change StatefulSet behaviour (section 11 of the spec)
GATES = (
    "MaxUnavailableStatefulSet",
    "PodIndexLabel",
    "StatefulSetAutoDeletePVC",
    "StatefulSetSemanticRevisionComparison",
    "StatefulSetRecreateStrategy",
)

#: The minor versions whose behaviour the model reproduces: the spec's v1.33-v1.36 line
#: (statefulset-semantics.md), v1.37 and v1.38 (docs/model-notes.md; v1.38 as read from
#: v1.38.0-beta.0, the newest tag on 2026-12-06). Older and newer versions differ
#: in rules the model does not know, so they are refused rather than modelled wrongly.
MIN_MINOR, MAX_MINOR = 33, 38


def parse_version(version: str) -> tuple[int, int]:
    """``v1.36.3`` (or ``1.36``) as (minor, patch); a :class:`VersionError` outside
    :data:`MIN_MINOR`..:data:`MAX_MINOR` or for what is not a version."""
    # at most 3 and 4 digits: a longer number is no release (and Python refuses int() of more
    # than 4300 digits); a suffix (``-rc.1``, ``+k3s1`` of a k3s cluster) is letters, digits,
    # dots and dashes only
    m = re.fullmatch(r"v?1\.(\d{1,3})(?:\.(\d{1,4}))?(?:[-+][0-9A-Za-z.+-]*)?",
                     version.strip())
    if m is None:
        raise VersionError(f"not a Kubernetes version: {version[:40]!r} (expected e.g. "
                           "v1.37.2)")
    minor = int(m.group(1))
    if not MIN_MINOR <= minor <= MAX_MINOR:
        raise VersionError(f"Kubernetes v1.{minor} is outside the versions the model covers "
                           f"(v1.{MIN_MINOR} to v1.{MAX_MINOR})")
    return minor, int(m.group(2) or 0)


def release_version(text: str) -> str:
    """A version as ``--k8s-version`` takes it: a release the model covers, ``v1.37.2`` or
    ``1.37.2``, or a pre-release tag of one (``v1.38.0-beta.0``, ``-alpha.N``, ``-rc.N``: the
    build takes its staging modules at the same tag), returned with its ``v``. The cluster
    backends build and start these, so a minor alone or another suffix is refused here rather
    than deep in a build.

    >>> release_version("1.36.3")
    'v1.36.3'
    >>> release_version("v1.38.0-beta.0")
    'v1.38.0-beta.0'
    >>> release_version("1.37")
    Traceback (most recent call last):
    ...
    sts_props.errors.VersionError: not a Kubernetes release version: '1.37' (expected e.g. v1.37.2)
    """
    m = re.fullmatch(rf"v?1\.(\d{{1,3}})\.(\d{{1,4}})({PRE_RELEASE})?", text.strip())
    parse_version(text)  # first: a version the model does not cover says so
    if m is None:
        raise VersionError(f"not a Kubernetes release version: {text[:40]!r} (expected e.g. "
                           "v1.37.2)")
    return f"v1.{int(m.group(1))}.{int(m.group(2))}{m.group(3) or ''}"


def pre_release_tag(version: str) -> str:
    """The pre-release tag at the end of ``version`` without its dash, or "".

    >>> pre_release_tag("v1.38.0-beta.0"), pre_release_tag("v1.37.2")
    ('beta.0', '')
    """
    m = re.search(rf"({PRE_RELEASE})$", version.strip())
    return m.group(1)[1:] if m else ""


def check_gates(names: Iterable[str]) -> None:
    """A :class:`VersionError` for the first name that is not in :data:`GATES`."""
    for name in names:
        if name not in GATES:
            raise VersionError(f"unknown feature gate {name[:40]!r}; known: {', '.join(GATES)}")


@dataclass(frozen=True)
class _Life:
    """When a gate can be set: from ``added`` (None: before every covered version), locked to
    its GA value from ``locked`` (a component refuses the other value), gone from ``removed``
    (a component refuses the name). Versions as (minor, patch)."""

    added: tuple[int, int] | None = None
    locked: tuple[int, int] | None = None
    removed: tuple[int, int] | None = None


#: Read from pkg/features/kube_features.go of k8s.io/kubernetes v1.34.0, v1.36.3 and v1.37.2:
#: PodIndexLabel and StatefulSetAutoDeletePVC went GA with LockToDefault in 1.32 ("remove in
#: 1.35", and they are gone in v1.36.3); StatefulSetSemanticRevisionComparison came in v1.34.2
#: (#135087's mitigation) and is not in v1.34.0. StatefulSetRecreateStrategy (KEP-3541, alpha)
#: came in v1.37.0. MaxUnavailableStatefulSet can be set on all.
_LIVES = {
    "PodIndexLabel": _Life(locked=(32, 0), removed=(35, 0)),
    "StatefulSetAutoDeletePVC": _Life(locked=(32, 0), removed=(35, 0)),
    "StatefulSetSemanticRevisionComparison": _Life(added=(34, 2)),
    "StatefulSetRecreateStrategy": _Life(added=(37, 0)),
}


def check_gate_settings(gates: Iterable[tuple[str, bool]], version: str) -> None:
    """A :class:`VersionError` for the first gate setting that Kubernetes ``version`` would
    refuse at start-up: a gate it does not have (not yet, or no more), or a locked gate set to
    the value it is not locked to. A model run with such a setting would describe a cluster
    that cannot exist, so it is refused like an unknown version.

    >>> check_gate_settings([("MaxUnavailableStatefulSet", True)], "v1.33.0") is None
    True
    >>> check_gate_settings([("StatefulSetAutoDeletePVC", True)], "v1.37.2")
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sts_props.errors.VersionError: feature gate StatefulSetAutoDeletePVC was removed in v1.35 ...
    """
    minor, patch = parse_version(version)
    for name, on in gates:
        check_gates([name])
        life = _LIVES.get(name)
        if life is None:
            continue
        if life.removed is not None and (minor, patch) >= life.removed:
            raise VersionError(
                f"feature gate {name} was removed in v1.{life.removed[0]} (after it went GA): "
                f"v1.{minor} does not accept it; leave it out")
        if life.added is not None and (minor, patch) < life.added:
            raise VersionError(
                f"feature gate {name} does not exist before v1.{life.added[0]}.{life.added[1]}:"
                f" v1.{minor}.{patch} does not accept it; leave it out")
        if life.locked is not None and (minor, patch) >= life.locked and not on:
            raise VersionError(
                f"feature gate {name} is locked to true in v1.{minor} (GA since "
                f"v1.{life.locked[0]}): a cluster refuses {name}=false")
