"""One place that turns a backend name into a :class:`Cluster` (CLI, pytest plugin and doctor
alike), and the only generic module that imports the backend packages.

>>> sorted(CLUSTER_BACKENDS)
['k3s', 'kubeconfig', 'kwok', 'kwok-image']
>>> backend_class("kwok").__name__
'KwokCluster'
>>> make_cluster("nope")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
sts_props.errors.BackendUnavailable: unknown backend 'nope'; choose one of k3s, ...
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

# Imported at the top: none of the backend packages imports docker, testcontainers or the
# kubernetes client when it is imported (they do so where they talk to an engine or an API).
from sts_props.cluster.base import BackendUnavailable, Cluster
from sts_props.cluster.k3s import K3sCluster
from sts_props.cluster.kubeconfig import KubeconfigCluster
from sts_props.cluster.kwok import KwokCluster
from sts_props.cluster.kwok_image import KwokImageCluster
from sts_props.defaults import CLUSTER_BACKENDS as CLUSTER_BACKENDS
from sts_props.defaults import DEFAULT_VERSION

_CLASSES: dict[str, type[Cluster]] = {
    "kwok": KwokCluster, "kwok-image": KwokImageCluster, "k3s": K3sCluster,
    "kubeconfig": KubeconfigCluster,
}


def backend_class(backend: str) -> type[Cluster]:
    """The :class:`Cluster` subclass of ``backend`` (for its class-level answers such as
    :meth:`Cluster.diagnose`); raises :class:`BackendUnavailable` for an unknown name."""
    try:
        return _CLASSES[backend]
    except KeyError:
        raise BackendUnavailable(f"unknown backend {backend!r}; choose one of "
                                 f"{', '.join(sorted(CLUSTER_BACKENDS))}") from None


#: the backends that start their control plane with the feature gates they are given
GATED_BACKENDS: tuple[str, ...] = ("kwok", "kwok-image")


def make_cluster(backend: str, version: str = DEFAULT_VERSION, *,
                 progress: Callable[[str], None] | None = None,
                 kubeconfig: Path | None = None, context: str | None = None,
                 allow_existing: bool = False, image: str | None = None,
                 controller_manager: Path | None = None,
                 feature_gates: Mapping[str, bool] | None = None) -> Cluster:
    """A not yet started cluster of ``backend``.

    ``version`` is the Kubernetes version for the backends that build it (kwok, kwok-image);
    ``image`` overrides the container image of kwok-image and k3s; ``controller_manager`` (kwok
    only) is a kube-controller-manager to run instead of the built one, e.g. a patched build;
    ``feature_gates`` are set on the control plane the backend starts (kwok, kwok-image; an
    existing cluster's are its own, and k3s's image cannot be given them here).
    """
    say = progress or (lambda _line: None)
    if controller_manager is not None and backend != "kwok":
        raise BackendUnavailable(f"a patched controller runs only on --backend kwok, not "
                                 f"{backend!r}")
    if feature_gates and backend == "k3s":  # kubeconfig: the model takes them on trust
        raise BackendUnavailable("--gate needs a control plane sts-props starts from source "
                                 "(kwok, kwok-image): the k3s backend runs its image's gates")
    if backend == "kwok":
        return KwokCluster(version, progress=lambda line: say(f"kwok: {line}"),
                           controller_manager=controller_manager,
                           feature_gates=dict(feature_gates or {}))
    if backend == "kwok-image":
        return KwokImageCluster(version, image=image,
                                progress=lambda line: say(f"kwok-image: {line}"),
                                feature_gates=dict(feature_gates or {}))
    if backend == "k3s":
        return K3sCluster(image=image, progress=lambda line: say(f"k3s: {line}"))
    if backend == "kubeconfig":
        return KubeconfigCluster(kubeconfig, context, allow_existing=allow_existing)
    raise BackendUnavailable(f"unknown backend {backend!r}; choose one of "
                             f"{', '.join(sorted(CLUSTER_BACKENDS))}")
