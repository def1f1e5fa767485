"""The ``kwok`` backend: an upstream control plane built from source, run as local processes
under kwokctl, with kwok playing the kubelets.

Modules: :mod:`.cluster` (:class:`KwokCluster`), :mod:`.binaries` (locate or build the control
plane with ``build_binaries.sh``), :mod:`.config` (kwokctl configuration and kwok Stages),
:mod:`.nodes` (fake nodes, the default StorageClass, node failure), :mod:`.registration` (the
cluster's record in :mod:`sts_props.cluster.registry`), :mod:`.checks` (``sts-props doctor``).
The ``kwok-image`` backend (:mod:`sts_props.cluster.kwok_image`) reuses the binaries, the
configuration and the nodes.
"""

from sts_props.cluster.kwok.cluster import KwokCluster

__all__ = ["KwokCluster"]
