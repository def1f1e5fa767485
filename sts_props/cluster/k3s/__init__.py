"""The ``k3s`` backend: k3s in one privileged container through testcontainers.

Modules: :mod:`.cluster` (:class:`K3sCluster`), :mod:`.checks` (``sts-props doctor``).
"""

from sts_props.cluster.k3s.cluster import K3sCluster

__all__ = ["K3sCluster"]
