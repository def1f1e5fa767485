"""A kwok cluster's record in :mod:`sts_props.cluster.registry`: written when it is up, removed
first thing when it goes down, so the ``kubeconfig`` backend knows sts-props started it.

>>> # cluster.start() ends with register_kwok(cluster); cluster.stop() begins with
>>> # unregister_kwok(cluster)
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from sts_props.cluster.base import ClusterError
from sts_props.cluster.registry import (
    ClusterEntry,
    kubeconfig_target,
    probe_identity,
    register,
    registry_dir,
    unregister,
)

if TYPE_CHECKING:
    from sts_props.cluster.kwok.cluster import KwokCluster

__all__ = ["register_kwok", "unregister_kwok"]


def _where(root: Path | None) -> Path:
    return root if root is not None else registry_dir()


def register_kwok(cluster: KwokCluster, root: Path | None = None) -> ClusterEntry | None:
    """Record a started :class:`~sts_props.cluster.kwok.KwokCluster`; call it at the end of
    ``start()`` (and :func:`unregister_kwok` first thing in ``stop()``).

    A registry that cannot be written only makes the ``kubeconfig`` backend stricter (it will
    refuse this cluster without ``--allow-existing-cluster``), so that failure is a warning,
    not an error; the answer is then ``None``.

    >>> # cluster.start(); register_kwok(cluster).server  -> 'https://127.0.0.1:32741'
    """
    kubeconfig = cluster.kubeconfig()
    try:
        target = kubeconfig_target(kubeconfig)
    except ClusterError as exc:
        warnings.warn(f"sts-props: cluster {cluster.cluster_name} not registered: {exc}",
                      RuntimeWarning, stacklevel=2)
        return None
    seen = probe_identity(kubeconfig, target.context)
    entry = ClusterEntry(
        name=cluster.cluster_name, backend=cluster.name, kubeconfig=str(kubeconfig),
        server=target.server, workdir=str(cluster.workdir or ""),
        pids=tuple(getattr(cluster, "_pids", ())), created=time.time(), cluster_uid=seen.uid)
    try:
        register(entry, root)
    except (OSError, ValueError) as exc:
        warnings.warn(f"sts-props: cluster {cluster.cluster_name} not registered in "
                      f"{_where(root)}: {exc}", RuntimeWarning, stacklevel=2)
        return None
    return entry


def unregister_kwok(cluster: KwokCluster, root: Path | None = None) -> None:
    """Forget a :class:`~sts_props.cluster.kwok.KwokCluster` (first thing in its ``stop()``,
    before its processes go, so no one sees a record of a cluster that is going away).
    Never raises: a stop must get on with tearing down.

    >>> # cluster.stop() calls unregister_kwok(cluster)
    """
    try:
        unregister(cluster.cluster_name, root)
    except (OSError, ValueError) as exc:
        warnings.warn(f"sts-props: cluster {cluster.cluster_name} still in the registry "
                      f"{_where(root)}: {exc}", RuntimeWarning, stacklevel=2)
