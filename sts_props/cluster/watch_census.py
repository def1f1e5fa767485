"""How many informers watch each resource through the apiserver, read from its ``/metrics``.

A kube-apiserver restart ends every client's watches. Each informer comes back on its own,
after a backoff that grows with every failed attempt and is forgiven only after two quiet
minutes (client-go's reflector: 0.8 s doubling up to 30 s, plus up to 100 % jitter). A fault
hunt restarts the apiserver about once a minute, so the backoff ratchets up: on kwok v1.34.0
(2026-12-06) kube-controller-manager's ControllerRevision watch came back 50 s after a
restart, and kube-scheduler first looked at a new pod 45 s after it was created, while both
had renewed their leader Leases within 4 s. A scenario run meanwhile is judged against a
blind controller and scheduler, which its model does not know about. The census shows it:
``apiserver_longrunning_requests{verb="WATCH", scope="cluster"}`` counts the open cluster-wide
watches per resource, which are the control plane's informers (the recorder's watches are
namespaced).

>>> def line(group, resource, scope, verb="WATCH", n=1):
...     return (f'apiserver_longrunning_requests{{component="apiserver",group="{group}",'
...             f'resource="{resource}",scope="{scope}",subresource="",verb="{verb}",'
...             f'version="v1"}} {n}')
>>> text = chr(10).join([line("apps", "statefulsets", "cluster", n=2),
...                   line("", "pods", "namespace"), line("", "pods", "cluster", "LIST", 3)])
>>> before = parse_census(text)
>>> before
{('apps', 'statefulsets'): 2}
>>> missing(before, {("apps", "statefulsets"): 1})
['statefulsets.apps (1 of 2)']
>>> missing(before, before)
[]
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from sts_props.cluster import rawhttp

__all__ = ["WATCHED", "census", "missing", "parse_census", "wait_for_watches"]

#: The resources whose informers a StatefulSet scenario depends on: the controller's (sets,
#: revisions, pods, claims), the scheduler's (pods, nodes, claims, volumes, storage classes)
#: and the EndpointSlice controller's (services, slices). Others (jobs, leases, ...) may stay
#: away longer without harm, so the wait does not hold on them.
WATCHED: frozenset[tuple[str, str]] = frozenset({
    ("", "pods"), ("", "persistentvolumeclaims"), ("", "persistentvolumes"), ("", "nodes"),
    ("", "services"), ("apps", "statefulsets"), ("apps", "controllerrevisions"),
    ("discovery.k8s.io", "endpointslices"), ("storage.k8s.io", "storageclasses"),
})

_LINE = re.compile(r'^apiserver_longrunning_requests\{([^}]*)\}\s+([0-9.eE+]+)\s*$')
_LABEL = re.compile(r'(\w+)="([^"]*)"')


def parse_census(text: str) -> dict[tuple[str, str], int]:
    """Open cluster-wide WATCH requests per ``(group, resource)`` in a ``/metrics`` text."""
    out: dict[tuple[str, str], int] = {}
    for line in text.splitlines():
        m = _LINE.match(line)
        if m is None:
            continue
        labels = dict(_LABEL.findall(m.group(1)))
        if labels.get("verb") != "WATCH" or labels.get("scope") != "cluster":
            continue
        if labels.get("subresource"):
            continue
        key = (labels.get("group", ""), labels.get("resource", ""))
        out[key] = out.get(key, 0) + int(float(m.group(2)))
    return out


def census(api_client: Any) -> dict[tuple[str, str], int] | None:
    """The census of the apiserver behind ``api_client``; None when ``/metrics`` cannot be
    read (not allowed, or the apiserver away): then nobody can wait on it."""
    try:
        resp = rawhttp.get(api_client, "/metrics", read_timeout=5.0)
    except Exception:  # an apiserver restarting, a refused connection: no census
        return None
    if resp.status != 200:
        return None
    return parse_census(resp.data.decode("utf-8", "replace"))


def missing(before: dict[tuple[str, str], int], now: dict[tuple[str, str], int]) -> list[str]:
    """The :data:`WATCHED` resources with fewer open watches ``now`` than ``before``."""
    out = []
    for key in sorted(before):
        if key in WATCHED and now.get(key, 0) < before[key]:
            group, resource = key
            name = f"{resource}.{group}" if group else resource
            out.append(f"{name} ({now.get(key, 0)} of {before[key]})")
    return out


def wait_for_watches(read: Callable[[], dict[tuple[str, str], int] | None],
                     before: dict[tuple[str, str], int], deadline_seconds: float,
                     poll: float = 0.5) -> tuple[float, list[str]]:
    """Poll ``read`` (a census) until no :data:`WATCHED` resource has fewer watches than
    ``before``, or ``deadline_seconds`` pass. Returns the seconds waited and what was still
    missing at the end ([] when everything came back).

    >>> counts = iter([{}, {("", "pods"): 2}])
    >>> seconds, left = wait_for_watches(lambda: next(counts), {("", "pods"): 2}, 5, poll=0)
    >>> left
    []
    """
    began = time.monotonic()
    left = ["(no census yet)"]
    while True:
        now = read()
        if now is not None:
            left = missing(before, now)
            if not left:
                break
        if time.monotonic() - began >= deadline_seconds:
            break
        # The census is a gauge with no watch of its own; polling it is the only way.
        time.sleep(poll)
    return time.monotonic() - began, left
