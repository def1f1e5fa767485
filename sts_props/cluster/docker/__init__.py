"""What the Docker-based backends (``kwok-image``, ``k3s``) share, none of it a backend itself.

Modules: :mod:`.container_cluster` (:class:`ContainerCluster`, the base class of a cluster in
one container), :mod:`.env` (the engine probe, testcontainers settings, the labels on every
container), :mod:`.image_check` (image presence, privileged containers), :mod:`.checks` (the
doctor's Docker checks).

Importing this package imports neither ``docker`` nor ``testcontainers`` (both are slow to
import); the modules import them where they talk to the engine.
"""

from sts_props.cluster.docker.container_cluster import ContainerCluster

__all__ = ["ContainerCluster"]
