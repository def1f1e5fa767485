"""The ``kubeconfig`` backend: a cluster somebody else started, behind a guard that refuses
clusters sts-props did not create (see :mod:`.cluster`)."""

from sts_props.cluster.kubeconfig.cluster import KubeconfigCluster

__all__ = ["KubeconfigCluster"]
