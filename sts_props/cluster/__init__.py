"""Real clusters: the mechanism every backend shares, and one package per technology.

Shared: :mod:`~sts_props.cluster.base` (the :class:`~sts_props.cluster.base.Cluster` interface a
backend implements), :mod:`~sts_props.cluster.driver` (a scenario's ops on a cluster, in its own
labelled namespace), :mod:`~sts_props.cluster.recorder` (watches into a History),
:mod:`~sts_props.cluster.faults` (the API-level faults), :mod:`~sts_props.cluster.registry` (the
clusters sts-props started), :mod:`~sts_props.cluster.lifecycle` (clean-up after crashes) and
:mod:`~sts_props.cluster.backends` (a backend name to its class; the one module that knows them
all). Backends: ``kwok/``, ``kwok_image/``, ``k3s/``, ``kubeconfig/``, and ``docker/`` for what the
container backends share. Generic code imports no backend: what differs per technology (failing a
node, restarting a component, the doctor's checks) is a method of ``Cluster``.

>>> from sts_props.cluster.backends import backend_class
>>> backend_class("kwok").__name__
'KwokCluster'
"""
