"""The fake nodes of a kwok cluster: plain Node objects that the kwok controller manages.

>>> kwok_node("kwok-node-0")["metadata"]["annotations"]
{'kwok.x-k8s.io/node': 'fake'}
"""

from __future__ import annotations

from typing import Any

from sts_props.cluster.base import CREATED_BY_LABEL, CREATED_BY_VALUE, typed_apis

NODE_COUNT = 2


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


def create_kwok_nodes(api_client: Any, count: int = NODE_COUNT) -> None:
    """Create ``kwok-node-0`` .. ``kwok-node-<count-1>``."""
    core = typed_apis(api_client)[0]
    for i in range(count):
        core.create_node(kwok_node(f"kwok-node-{i}"))
