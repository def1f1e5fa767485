"""Normalised object snapshots: the shape every History ``object`` record carries.

The model renders its objects in this shape directly; a cluster backend trims real API objects
into it. Snapshots keep Kubernetes' ``metadata``/``spec``/``status`` layout but hold only what the
checks read, with timestamps as float seconds since the start of the run, and a few values
pre-digested (``status.ready``/``status.readySince`` instead of the conditions list).

Pod::

    {"metadata": {"name", "uid", "labels", "annotations", "ownerReferences", "finalizers",
                  "creationTimestamp", "deletionTimestamp"},
     "spec": {"hostname", "subdomain", "volumes": [{"name", "claimName"}], "image", "env"},
     "status": {"phase", "ready", "readySince"}}

PersistentVolumeClaim: ``metadata`` as above, ``spec.volumeName``, ``status.phase``.
StatefulSet: ``metadata`` (+ ``generation``), ``spec`` (the defaulted spec without the template,
plus ``templateKey``), ``status`` (the StatefulSet status fields).
ControllerRevision: ``metadata``, ``revision`` (int), ``templateKey`` (equal keys = equal
templates; the key's text is backend-specific and never compared across backends).
EndpointSlice: ``metadata``, ``service``, ``endpoints``: ``[{"hostname", "podName", "ready"}]``.

An ownerReference is ``{"kind", "name", "uid", "controller", "blockOwnerDeletion"}``.

>>> pod = {"metadata": {"name": "web-2", "labels": {}}, "status": {"phase": "Running",
...        "ready": True, "readySince": 1.0}}
>>> ordinal_of("web-2", "web"), is_running_ready(pod)
(2, True)
>>> ordinal_of("web-x-1", "web") is None   # ID-3: the parent is web-x, not web
True
"""

from __future__ import annotations

import functools
import re
from typing import Any

Snapshot = dict[str, Any]

POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
REVISION_LABEL = "controller-revision-hash"
HARNESS_PREFIX = "sts-props.io/"
#: The harness's hold: the annotation of ``HoldNotReady`` (a held pod stays NotReady on
#: purpose) and the finalizer of ``HoldTerminating``; one name for both.
HOLD_KEY = HARNESS_PREFIX + "hold"

_POD_NAME = re.compile(r"(.*)-([0-9]+)$")
#: the largest ordinal the controller can read back from a pod name (it parses 32 bits; F-9)
INT32_MAX = 2**31 - 1


@functools.lru_cache(maxsize=4096)
def parse_pod_name(name: str) -> tuple[str, int] | None:
    """ID-3: ``(parent, ordinal)``; ordinal -1 when the digits overflow int32."""
    m = _POD_NAME.match(name)
    if m is None:
        return None
    digits = int(m.group(2))
    return m.group(1), digits if digits <= INT32_MAX else -1


def ordinal_of(name: str, set_name: str) -> int | None:
    """The ordinal of a member pod of ``set_name`` (ID-4), else None."""
    parsed = parse_pod_name(name)
    if parsed is None or parsed[0] != set_name or parsed[1] < 0:
        return None
    return parsed[1]


def meta(obj: Snapshot) -> dict[str, Any]:
    value = obj.get("metadata")
    return value if isinstance(value, dict) else {}


def name(obj: Snapshot) -> str:
    return str(meta(obj).get("name", ""))


def uid(obj: Snapshot) -> str:
    return str(meta(obj).get("uid", ""))


def labels(obj: Snapshot) -> dict[str, str]:
    return dict(meta(obj).get("labels") or {})


def owner_refs(obj: Snapshot) -> list[dict[str, Any]]:
    return list(meta(obj).get("ownerReferences") or [])


def controller_ref(obj: Snapshot) -> dict[str, Any] | None:
    for ref in owner_refs(obj):
        if ref.get("controller"):
            return ref
    return None


def created_at(obj: Snapshot) -> float:
    return float(meta(obj).get("creationTimestamp") or 0.0)


def deleted_at(obj: Snapshot) -> float | None:
    value = meta(obj).get("deletionTimestamp")
    return None if value is None else float(value)


def is_terminating(obj: Snapshot) -> bool:
    return deleted_at(obj) is not None


def phase(obj: Snapshot) -> str:
    return str((obj.get("status") or {}).get("phase", ""))


def is_ready(pod: Snapshot) -> bool:
    return bool((pod.get("status") or {}).get("ready", False))


def ready_since(pod: Snapshot) -> float | None:
    value = (pod.get("status") or {}).get("readySince")
    return None if value is None else float(value)


def is_running_ready(pod: Snapshot) -> bool:
    """PR-3: phase Running and the Ready condition True."""
    return phase(pod) == "Running" and is_ready(pod)


def is_available(pod: Snapshot, min_ready_seconds: int, now: float) -> bool:
    """PR-4: Ready and (m == 0 or ready for at least m seconds at ``now``)."""
    if not is_ready(pod):
        return False
    if min_ready_seconds <= 0:
        return True
    since = ready_since(pod)
    return since is not None and since + min_ready_seconds <= now


def revision_of(pod: Snapshot) -> str:
    return labels(pod).get(REVISION_LABEL, "")


def volumes(pod: Snapshot) -> dict[str, str]:
    """``{volume name: claimName}`` for PVC volumes; a set, never an ordered list (STO-6)."""
    out: dict[str, str] = {}
    for vol in (pod.get("spec") or {}).get("volumes") or []:
        if vol.get("claimName"):
            out[str(vol["name"])] = str(vol["claimName"])
    return out


def claim_name(template_name: str, set_name: str, ordinal: int) -> str:
    """STO-1."""
    return f"{template_name}-{set_name}-{ordinal}"


def pod_name(set_name: str, ordinal: int) -> str:
    """ID-1."""
    return f"{set_name}-{ordinal}"


def without_harness_keys(mapping: dict[str, str]) -> dict[str, str]:
    """Drop the harness's own labels/annotations (used for holds) before comparing."""
    return {k: v for k, v in mapping.items() if not k.startswith(HARNESS_PREFIX)}
