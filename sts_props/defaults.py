"""The default Kubernetes version and the backend names, defined once.

Vocabulary like :mod:`sts_props.errors`: no first-party imports, so the CLI, the pytest plugin,
plan files and the cluster backends all read the same names from here.

>>> DEFAULT_VERSION
'v1.37.2'
>>> BACKENDS
('model', 'kwok', 'kwok-image', 'k3s', 'kubeconfig')
>>> [b for b in CLUSTER_BACKENDS if b not in STARTED_BACKENDS]
['kubeconfig']
"""

from __future__ import annotations

import os

#: The Kubernetes version modelled, built and started when none is given (the newest release
#: the Go module proxy serves when it was chosen).
DEFAULT_VERSION = "v1.37.2"

#: The executable reference model: no cluster at all.
MODEL_BACKEND = "model"
#: Backends with a real control plane (:func:`sts_props.cluster.backends.make_cluster`).
CLUSTER_BACKENDS: tuple[str, ...] = ("kwok", "kwok-image", "k3s", "kubeconfig")
#: The cluster backends sts-props starts (and stops) itself; ``kubeconfig`` uses a running one.
STARTED_BACKENDS: tuple[str, ...] = ("kwok", "kwok-image", "k3s")
#: The started backends that run in Docker containers (testcontainers): a session on one of them
#: first asks the doctor whether Docker can run it here.
CONTAINER_BACKENDS: tuple[str, ...] = ("kwok-image", "k3s")
#: Everywhere a scenario or plan can run.
BACKENDS: tuple[str, ...] = (MODEL_BACKEND, *CLUSTER_BACKENDS)

#: The most scenarios side by side that ``--jobs`` picks by itself on a cluster it started.
MAX_DEFAULT_JOBS = 6


def default_jobs(backend: str, cores: int | None = None) -> int:
    """How many scenarios run side by side when ``--jobs`` is not given.

    1 on the model (its scenarios use the CPU, nothing waits) and on an existing cluster
    (``kubeconfig``: somebody else's, asked with ``--jobs``); on a cluster sts-props started,
    three per core up to :data:`MAX_DEFAULT_JOBS`: a scenario spends most of its time waiting
    for the controller, not computing (``benchmarks/cluster_figures.py``: on 2 cores 30
    scenarios took 81 s with 4 at a time, 47 s with 6, 39 s with 8).

    >>> default_jobs("model", 2), default_jobs("kwok", 2), default_jobs("kwok", 1)
    (1, 6, 3)
    >>> default_jobs("kubeconfig", 16)
    1
    """
    if backend not in STARTED_BACKENDS:
        return 1
    count = cores if cores is not None else (os.cpu_count() or 1)
    return max(1, min(MAX_DEFAULT_JOBS, 3 * count))


__all__ = ["BACKENDS", "CLUSTER_BACKENDS", "CONTAINER_BACKENDS", "DEFAULT_VERSION",
           "MAX_DEFAULT_JOBS", "MODEL_BACKEND", "STARTED_BACKENDS", "default_jobs"]
