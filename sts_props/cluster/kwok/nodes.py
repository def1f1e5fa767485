"""What a fresh kwok cluster needs before scenarios run: fake nodes and a default StorageClass.

The nodes are plain Node objects that the kwok controller manages. The default StorageClass
makes claims that name no class bind, as on most real clusters (k3s ships one): without it a
claim template with no ``storageClassName`` stays Pending and so does every pod using it.

>>> kwok_node("kwok-node-0")["metadata"]["annotations"]
{'kwok.x-k8s.io/node': 'fake'}
>>> default_storage_class("kubernetes.io/host-path")["metadata"]["annotations"]
{'storageclass.kubernetes.io/is-default-class': 'true'}
"""

from __future__ import annotations

from typing import Any

from sts_props.cluster.base import CREATED_BY_LABEL, CREATED_BY_VALUE, typed_apis

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
