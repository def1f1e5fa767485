"""Small builders shared by the model's rule tests."""

from __future__ import annotations

from typing import Any

from sts_props.model import ModelConfig, ModelRun
from sts_props.ops import Op
from sts_props.scenario import Manifests
from sts_props.snapshot import REVISION_LABEL


def web(
    replicas: int = 3,
    policy: str = "OrderedReady",
    strategy: dict[str, Any] | None = None,
    start: int | None = None,
    retention: tuple[str, str] | None = None,
    min_ready: int = 0,
    claims: int = 1,
    history_limit: int | None = None,
) -> Manifests:
    """A minimal StatefulSet "web" with a headless Service "web"."""
    spec: dict[str, Any] = {
        "replicas": replicas,
        "serviceName": "web",
        "podManagementPolicy": policy,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "app", "image": "app:1"}]},
        },
        "volumeClaimTemplates": [
            {"metadata": {"name": f"data{i}" if i else "data"},
             "spec": {"accessModes": ["ReadWriteOnce"],
                      "resources": {"requests": {"storage": "1Gi"}}}}
            for i in range(claims)
        ],
    }
    if strategy is not None:
        spec["updateStrategy"] = strategy
    if start is not None:
        spec["ordinals"] = {"start": start}
    if retention is not None:
        spec["persistentVolumeClaimRetentionPolicy"] = {
            "whenDeleted": retention[0], "whenScaled": retention[1]}
    if min_ready:
        spec["minReadySeconds"] = min_ready
    if history_limit is not None:
        spec["revisionHistoryLimit"] = history_limit
    sts = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web"},
           "spec": spec}
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
           "spec": {"clusterIP": "None", "selector": {"app": "web"}}}
    return Manifests.of(sts, svc)


def run(manifests: Manifests, *ops: Op, config: ModelConfig | None = None) -> ModelRun:
    """Apply ``ops`` one after the other on a fresh model (draining between ops)."""
    r = ModelRun(manifests, config)
    for op in ops:
        r.apply(op)
    return r


def pods(r: ModelRun) -> list[str]:
    return sorted(r.world.pods)


def revisions(r: ModelRun) -> dict[str, str]:
    """Pod name -> revision name."""
    return {n: p.labels[REVISION_LABEL] for n, p in sorted(r.world.pods.items())}


def pod_events(r: ModelRun, action: str) -> list[str]:
    """Pod names, in order, of ADDED or DELETED events, or of pods starting to terminate."""
    out, seen = [], set()
    for ev in r.history.objects("Pod"):
        if action == "terminating":
            uid = ev.obj["metadata"]["uid"]
            if ev.obj["metadata"]["deletionTimestamp"] is not None and uid not in seen:
                seen.add(uid)
                out.append(ev.name)
        elif ev.action == action:
            out.append(ev.name)
    return out
