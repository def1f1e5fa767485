"""One place that turns a backend name into a :class:`Cluster` (CLI and pytest plugin alike).

>>> sorted(CLUSTER_BACKENDS)
['k3s', 'kubeconfig', 'kwok', 'kwok-image']
>>> make_cluster("nope")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
sts_props.errors.BackendUnavailable: unknown backend 'nope'; choose one of k3s, ...
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sts_props.cluster.base import BackendUnavailable, Cluster
from sts_props.defaults import CLUSTER_BACKENDS as CLUSTER_BACKENDS
from sts_props.defaults import DEFAULT_VERSION


def make_cluster(backend: str, version: str = DEFAULT_VERSION, *,
                 progress: Callable[[str], None] | None = None,
                 kubeconfig: Path | None = None, context: str | None = None,
                 allow_existing: bool = False, image: str | None = None) -> Cluster:
    """A not yet started cluster of ``backend``.

    ``version`` is the Kubernetes version for the backends that build it (kwok, kwok-image);
    ``image`` overrides the container image of kwok-image and k3s.
    """
    say = progress or (lambda _line: None)
    if backend == "kwok":
        from sts_props.cluster.kwok import KwokCluster

        return KwokCluster(version, progress=lambda line: say(f"kwok: {line}"))
    if backend == "kwok-image":
        from sts_props.cluster.kwok_image import KwokImageCluster

        return KwokImageCluster(version, image=image,
                                progress=lambda line: say(f"kwok-image: {line}"))
    if backend == "k3s":
        from sts_props.cluster.k3s import K3sCluster

        return K3sCluster(image=image, progress=lambda line: say(f"k3s: {line}"))
    if backend == "kubeconfig":
        from sts_props.cluster.kubeconfig import KubeconfigCluster

        return KubeconfigCluster(kubeconfig, context, allow_existing=allow_existing)
    raise BackendUnavailable(f"unknown backend {backend!r}; choose one of "
                             f"{', '.join(sorted(CLUSTER_BACKENDS))}")
