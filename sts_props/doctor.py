"""Can each backend run here? The checks, each problem with a one-line fix.

:func:`diagnose` makes the :class:`Finding` list that ``sts-props doctor``
(:mod:`sts_props.cli.doctor`) prints and that the pytest plugin stops a session on
(:func:`first_problem`)::

    $ sts-props doctor --backend k3s
    [ok]   docker: engine 20.10.24 at unix:///var/run/docker.sock (cgroup v2)
    [FAIL] privileged containers: unable to apply caps: operation not permitted
           fix: k3s needs --privileged: use a host or VM whose engine allows it, or kwok-image
    ...

Each check is bounded (a few seconds); nothing is pulled, started or built except the
one-megabyte probe image (busybox) used to try a privileged container.

The checks themselves belong to the backends (:meth:`Cluster.diagnose
<sts_props.cluster.base.Cluster.diagnose>`); this module asks the backends named in
:mod:`sts_props.cluster.backends` and prints what they answer, a check that several backends
share (Docker, the control-plane binaries) once.

>>> [f.name for f in diagnose(["kubeconfig"], "v1.37.2")]
[]
"""

from __future__ import annotations

from collections.abc import Iterable

from sts_props.cluster.backends import CLUSTER_BACKENDS, backend_class
from sts_props.cluster.base import Finding, first_problem

__all__ = ["Finding", "diagnose", "first_problem", "render"]



def diagnose(backends: Iterable[str], version: str, *,
             image: str | None = None) -> list[Finding]:
    """The checks the given backends need, in a sensible order, each once; ``image`` is the
    container image of the backends that run one."""
    wanted = set(backends)
    findings: dict[str, Finding] = {}
    for name in CLUSTER_BACKENDS:
        if name not in wanted:
            continue
        for finding in backend_class(name).diagnose(version, image):
            findings.setdefault(finding.name, finding)  # shared checks (Docker, Go) once
    return list(findings.values())


def render(findings: Iterable[Finding]) -> str:
    return "\n".join(f.render() for f in findings)
