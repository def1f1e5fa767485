"""What a fresh kwok cluster needs before scenarios run (fake nodes and a default StorageClass),
and how one of its nodes fails (:func:`fail_kwok_node`, and pod GC after it,
:func:`collect_strays`; :class:`KwokNodes` gives both to the ``kwok`` and ``kwok-image``
backends).

The nodes are plain Node objects that the kwok controller manages. The default StorageClass
makes claims that name no class bind, as on most real clusters (k3s ships one): without it a
claim template with no ``storageClassName`` stays Pending and so does every pod using it.

>>> kwok_node("kwok-node-0")["metadata"]["annotations"]
{'kwok.x-k8s.io/node': 'fake'}
>>> default_storage_class("kubernetes.io/host-path")["metadata"]["annotations"]
{'storageclass.kubernetes.io/is-default-class': 'true'}
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from typing import Any

from sts_props.cluster.base import CREATED_BY_LABEL, CREATED_BY_VALUE, typed_apis
from sts_props.cluster.faults import now_rfc3339, set_pod_ready
from sts_props.cluster.kwok.config import NODE_FAILED_ANNOTATION, NODE_LOST_ANNOTATION

NODE_COUNT = 2
DEFAULT_STORAGE_CLASS = "sts-props-default"


def kwok_node(name: str) -> dict[str, Any]:
    """A Node kwok will keep Ready, big enough that scheduling never fails for capacity."""
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {"type": "kwok", CREATED_BY_LABEL: CREATED_BY_VALUE,
                                              "kubernetes.io/hostname": name},
                     "annotations": {"kwok.x-k8s.io/node": "fake"}},
        "spec": {"taints": []},
        "status": {"allocatable": {"cpu": "64", "memory": "256Gi", "pods": "250"},
                   "capacity": {"cpu": "64", "memory": "256Gi", "pods": "250"}},
    }


def default_storage_class(provisioner: str) -> dict[str, Any]:
    """The cluster's default StorageClass, served by ``provisioner`` (the DefaultStorageClass
    admission plugin writes its name into claims that name no class)."""
    return {
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
        "metadata": {"name": DEFAULT_STORAGE_CLASS,
                     "labels": {CREATED_BY_LABEL: CREATED_BY_VALUE},
                     "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
        "provisioner": provisioner, "reclaimPolicy": "Delete", "volumeBindingMode": "Immediate",
    }


def prepare_kwok_cluster(api_client: Any, provisioner: str, count: int = NODE_COUNT) -> None:
    """Create ``kwok-node-0`` .. ``kwok-node-<count-1>`` and the default StorageClass."""
    core, _apps, storage = typed_apis(api_client)
    for i in range(count):
        core.create_node(kwok_node(f"kwok-node-{i}"))
    storage.create_storage_class(default_storage_class(provisioner))


def fail_kwok_node(core: Any, node: str, namespace: str, *,
                   cordoned: bool = False) -> tuple[list[str], str]:
    """Fail ``node`` as a lost machine on a cluster without kubelets, playing the controllers
    that would react to it. Returns ``namespace``'s pods that were on it and the new node.

    The node is annotated (kwok stops playing its kubelet), tainted, unschedulable and
    Ready=False; its pods are marked NotReady and annotated (kwok no longer finishes their
    deletion) as the node lifecycle controller's MarkPodsNotReady would, then deleted (taint
    eviction); the node is deleted and its pods force-deleted (pod GC's job, done at once
    instead of after its 40 s quarantine); a fresh node takes its place, created cordoned when
    ``cordoned``; pods bound to the dead node in the next :data:`STRAY_WATCH` seconds are
    force-deleted as well (:func:`_collect_strays`).
    """
    from kubernetes.client.exceptions import ApiException

    core.patch_node(node, {"metadata": {"annotations": {NODE_FAILED_ANNOTATION: "true"}},
                           "spec": {"unschedulable": True, "taints": [
                               {"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"},
                               {"key": NODE_FAILED_ANNOTATION, "effect": "NoSchedule"}]}})
    core.patch_node_status(node, {"status": {"conditions": [{
        "type": "Ready", "status": "False", "reason": "KubeletNotReady",
        "message": "sts-props: node failed", "lastHeartbeatTime": now_rfc3339(),
        "lastTransitionTime": now_rfc3339()}]}})
    victims = [p.metadata.name for p in core.list_namespaced_pod(
        namespace, field_selector=f"spec.nodeName={node}").items]
    for victim in victims:  # node lifecycle controller: MarkPodsNotReady; no kubelet from now
        core.patch_namespaced_pod(victim, namespace, {"metadata": {"annotations": {
            NODE_LOST_ANNOTATION: "true"}}})
        set_pod_ready(core, namespace, victim, False)
    for victim in victims:  # taint eviction: a graceful delete no kubelet will finish
        core.delete_namespaced_pod(victim, namespace)
    core.delete_node(node)
    for victim in victims:  # pod GC: pods bound to a node that is gone are force-deleted
        try:
            core.delete_namespaced_pod(victim, namespace, grace_period_seconds=0)
        except ApiException as exc:
            if exc.status != 404:
                raise
    fresh = kwok_node(f"kwok-node-r{uuid.uuid4().hex[:6]}")
    if cordoned:
        # Created cordoned, not cordoned after: in between the scheduler could place a
        # Pending pod on it, which HoldScheduling promises not to happen.
        fresh["spec"]["unschedulable"] = True
    core.create_node(fresh)
    _collect_strays(core, node, namespace)
    return victims, str(fresh["metadata"]["name"])


#: how long after a node failure pods bound to the dead node are looked for (:func:`fail_kwok_node`)
STRAY_WATCH = 1.0


def _collect_strays(core: Any, node: str, namespace: str) -> None:
    """Force-delete ``namespace``'s pods bound to the deleted ``node`` in the next
    :data:`STRAY_WATCH` seconds: pod GC's job for orphaned pods, done at once instead of after
    its 40 s quarantine.

    A pod the controller re-creates for a victim can be bound to the dead node by a scheduler
    whose cache has not yet seen the taint, nor the deletion (seen on kwok v1.37.2: bound 10 ms
    after its creation; it stayed Pending for 66 s, until pod GC, beyond the op's timeout).
    A scheduler that lags longer is caught by the waits after the op, which call
    :func:`collect_strays` every second (:meth:`~sts_props.cluster.driver.ClusterRun.wait_until`).
    """
    deadline = time.monotonic() + STRAY_WATCH
    while True:
        collect_strays(core, (node,), namespace)
        if time.monotonic() >= deadline:
            return
        time.sleep(0.2)


def collect_strays(core: Any, nodes: Iterable[str], namespace: str) -> None:
    """One pass of pod GC for ``nodes`` that a FailNode deleted: force-delete (grace 0)
    ``namespace``'s pods bound to any of them.

    Seen on kwok v1.34.0 (2026-12-06, the scenario after an apiserver restart, its scheduler
    binding a new pod 16 s late): 1 s after a FailNode the scheduler still bound a re-created
    pod to the dead node, which stayed Pending until pod GC, past the 60 s liveness bound.
    The grace-0 deletion is told apart from the controller's like the node agent's
    (``_timeline.deleted_by_node``).
    """
    from kubernetes.client.exceptions import ApiException

    for node in sorted(nodes):
        for pod in core.list_namespaced_pod(namespace,
                                            field_selector=f"spec.nodeName={node}").items:
            try:
                core.delete_namespaced_pod(pod.metadata.name, namespace, grace_period_seconds=0)
            except ApiException as exc:
                if exc.status != 404:
                    raise


class KwokNodes:
    """The node faults of a cluster of kwok nodes (the ``kwok`` and ``kwok-image`` backends,
    which list it before their :class:`~sts_props.cluster.base.Cluster` base): no kubelet to
    stop, and pod GC played at once."""

    def fail_node(self, core: Any, node: str, namespace: str, *,
                  cordoned: bool = False) -> tuple[list[str], str]:
        """:meth:`Cluster.fail_node <sts_props.cluster.base.Cluster.fail_node>`:
        :func:`fail_kwok_node`."""
        return fail_kwok_node(core, node, namespace, cordoned=cordoned)

    def collect_strays(self, core: Any, namespace: str, dead_nodes: set[str]) -> None:
        """:meth:`Cluster.collect_strays <sts_props.cluster.base.Cluster.collect_strays>`:
        :func:`collect_strays`."""
        collect_strays(core, dead_nodes, namespace)
