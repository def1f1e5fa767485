"""Trim real API objects (plain JSON dicts) into the snapshots of :mod:`sts_props.snapshot`.

Timestamps become float seconds since ``t0`` (the run's start, epoch seconds); the Ready
condition becomes ``status.ready`` / ``status.readySince``. Objects are the camelCase JSON the
apiserver sends (the recorder reads watches as raw JSON).

>>> pod = {"metadata": {"name": "web-0", "uid": "u", "creationTimestamp": "2026-01-01T00:00:10Z"},
...        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True",
...                   "lastTransitionTime": "2026-01-01T00:00:12Z"}]}}
>>> t0 = parse_time("2026-01-01T00:00:00Z")
>>> snap = trim("Pod", pod, t0)
>>> snap["metadata"]["creationTimestamp"], snap["status"]
(10.0, {'phase': 'Running', 'ready': True, 'readySince': 12.0})
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any


def parse_time(value: Any) -> float | None:
    """RFC 3339 text (or a datetime) to epoch seconds."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        stamp = value
    else:
        stamp = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp.timestamp()


def _rel(value: Any, t0: float) -> float | None:
    stamp = parse_time(value)
    return None if stamp is None else round(stamp - t0, 3)


def _meta(obj: dict[str, Any], t0: float) -> dict[str, Any]:
    m = obj.get("metadata") or {}
    return {
        "name": m.get("name", ""),
        "uid": m.get("uid", ""),
        "labels": dict(m.get("labels") or {}),
        "annotations": {k: v for k, v in (m.get("annotations") or {}).items()
                        if not k.startswith("kubectl.kubernetes.io/")},
        "ownerReferences": [
            {"kind": r.get("kind"), "name": r.get("name"), "uid": r.get("uid"),
             "controller": bool(r.get("controller")),
             "blockOwnerDeletion": bool(r.get("blockOwnerDeletion"))}
            for r in m.get("ownerReferences") or []
        ],
        "finalizers": list(m.get("finalizers") or []),
        "creationTimestamp": _rel(m.get("creationTimestamp"), t0),
        "deletionTimestamp": _rel(m.get("deletionTimestamp"), t0),
        "generation": m.get("generation"),
    }


def trim_pod(obj: dict[str, Any], t0: float) -> dict[str, Any]:
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
    is_ready = ready is not None and ready.get("status") == "True"
    containers = spec.get("containers") or [{}]
    meta = _meta(obj, t0)
    meta.pop("generation", None)
    meta["deletionGracePeriodSeconds"] = (obj.get("metadata") or {}).get(
        "deletionGracePeriodSeconds")
    return {
        "metadata": meta,
        "spec": {
            "terminationGracePeriodSeconds": spec.get("terminationGracePeriodSeconds"),
            "hostname": spec.get("hostname", ""),
            "subdomain": spec.get("subdomain", ""),
            "volumes": sorted(
                ({"name": v.get("name"),
                  "claimName": (v.get("persistentVolumeClaim") or {}).get("claimName")}
                 for v in spec.get("volumes") or [] if v.get("persistentVolumeClaim")),
                key=lambda v: str(v["name"])),
            "image": containers[0].get("image", ""),
            "env": {e.get("name"): e.get("value") for e in containers[0].get("env") or []},
            # bound to a node: the apiserver deletes it gracefully unless asked for grace 0
            # (checks tell a force deletion, never the controller's, by it)
            "nodeName": spec.get("nodeName") or "",
        },
        "status": {
            "phase": status.get("phase", ""),
            "ready": is_ready,
            "readySince": _rel(ready.get("lastTransitionTime"), t0) if is_ready and ready
            else None,
        },
    }


def trim_claim(obj: dict[str, Any], t0: float) -> dict[str, Any]:
    meta = _meta(obj, t0)
    meta.pop("generation", None)
    return {"metadata": meta,
            "spec": {"volumeName": (obj.get("spec") or {}).get("volumeName", "")},
            "status": {"phase": (obj.get("status") or {}).get("phase", "")}}


def trim_statefulset(obj: dict[str, Any], t0: float) -> dict[str, Any]:
    spec = dict(obj.get("spec") or {})
    template = spec.pop("template", {})
    spec["volumeClaimTemplates"] = [
        (t.get("metadata") or {}).get("name", "") for t in spec.get("volumeClaimTemplates") or []]
    spec["templateKey"] = _key(template)
    status = obj.get("status") or {}
    keys = ("observedGeneration", "replicas", "readyReplicas", "currentReplicas",
            "updatedReplicas", "availableReplicas", "currentRevision", "updateRevision",
            "collisionCount")
    ints = {"currentRevision", "updateRevision"}
    return {"metadata": _meta(obj, t0), "spec": spec,
            "status": {k: status.get(k, "" if k in ints else 0) for k in keys}}


def trim_revision(obj: dict[str, Any], t0: float) -> dict[str, Any]:
    meta = _meta(obj, t0)
    meta.pop("generation", None)
    # REV-1: data is a strategic-merge patch of spec.template marked "$patch: replace"; without
    # the marker it is the set's (defaulted) template, so equal keys mean equal templates.
    template = dict((obj.get("data") or {}).get("spec", {}).get("template", {}))
    template.pop("$patch", None)
    return {"metadata": meta, "revision": int(obj.get("revision") or 0),
            "templateKey": _key(template)}


def trim_endpointslice(obj: dict[str, Any], t0: float) -> dict[str, Any]:
    meta = _meta(obj, t0)
    service = meta["labels"].get("kubernetes.io/service-name", "")
    return {"metadata": {"name": meta["name"], "labels": meta["labels"]}, "service": service,
            "endpoints": sorted(
                ({"hostname": e.get("hostname") or "",
                  "podName": (e.get("targetRef") or {}).get("name", ""),
                  "ready": bool((e.get("conditions") or {}).get("ready"))}
                 for e in obj.get("endpoints") or []),
                key=lambda e: (str(e["hostname"]), str(e["podName"])))}


def _key(template: Any) -> str:
    """Equal keys for templates equal in meaning: a ``creationTimestamp: null`` in the
    template's metadata (which client-go wrote before 1.34 and leaves out since) is not part
    of it (REV-7's semantic comparison; ReplaceRevision "same" writes one)."""
    meta = template.get("metadata") if isinstance(template, dict) else None
    if isinstance(meta, dict) and "creationTimestamp" in meta and meta["creationTimestamp"] is None:
        template = {**template, "metadata": {k: v for k, v in meta.items()
                                             if k != "creationTimestamp"}}
    text = json.dumps(template, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


TRIMMERS = {
    "Pod": trim_pod,
    "PersistentVolumeClaim": trim_claim,
    "StatefulSet": trim_statefulset,
    "ControllerRevision": trim_revision,
    "EndpointSlice": trim_endpointslice,
}


def trim(kind: str, obj: dict[str, Any], t0: float) -> dict[str, Any]:
    """The snapshot of ``obj`` of the given kind."""
    return TRIMMERS[kind](obj, t0)
