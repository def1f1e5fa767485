"""The ``kwok-image`` backend: the kwok all-in-one image (built here from the ``kwok`` backend's
binaries, or upstream's) run through testcontainers.

Modules: :mod:`.cluster` (:class:`KwokImageCluster`), :mod:`.build` (the local image),
:mod:`.checks` (``sts-props doctor``).
"""

from sts_props.cluster.kwok_image.cluster import KwokImageCluster

__all__ = ["KwokImageCluster"]
