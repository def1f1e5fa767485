"""Storage reattachment at the data level (STO-3, STO-4), on backends with real containers.

Each pod writes a token into its volume the first time it starts (and never again), then prints
the token. After the pod is deleted and rescheduled, after a scale-down-then-up and after the
StatefulSet is deleted and re-created, every ordinal must print the token it printed before:
the same PersistentVolume, with its data, came back to the same identity. Claims use the
``Retain`` retention policy (the default) so that the scale-down and the deletion keep them.

    with K3sCluster() as cluster:
        report = check_storage_data(cluster, progress=print)
        print(report.render()); assert report.ok

Never attempted on kwok: kwok pods have no containers and no volumes (``real_containers`` is
False), so :func:`check_storage_data` refuses such a cluster.
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sts_props.cluster.base import Cluster, ClusterError
from sts_props.cluster.driver import ClusterRun
from sts_props.ops import Create, DeletePod, DeleteSet, Op, RecreateSet, Scale
from sts_props.scenario import Manifests

#: A small image with a shell (pulled by the cluster's own runtime); ``STS_PROPS_DATA_IMAGE``.
DEFAULT_DATA_IMAGE = "busybox:1.36"
STEP_DEADLINE = 180.0

# Written only when the volume has no token yet, so a token that changes means the data did not
# come back. The pod name is part of the token so two ordinals can never share one by accident.
TOKEN_SCRIPT = ('test -s /data/token || echo "$(hostname)-$(date +%s)-$RANDOM" > /data/token; '
                'echo "token=$(cat /data/token)"; exec sleep 100000')


@dataclass
class DataReport:
    """Tokens seen per step; ``problems`` lists every mismatch in a sentence."""

    steps: list[tuple[str, dict[int, str]]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and len(self.steps) > 1

    def render(self) -> str:
        lines = ["storage at the data level (tokens written into each volume):"]
        for what, tokens in self.steps:
            shown = ", ".join(f"{k}={v}" for k, v in sorted(tokens.items()))
            lines.append(f"  after {what}: {shown}")
        lines += [f"  [FAIL] {p}" for p in self.problems] or ["  [ok] every token read back"]
        return "\n".join(lines)


def data_manifests(base: Manifests, replicas: int = 2, image: str | None = None) -> Manifests:
    """``base`` with its pod template replaced by the token writer (same claims, same names)."""
    sts = copy.deepcopy(base.statefulset)
    spec = sts["spec"]
    spec["replicas"] = replicas
    mount = spec["volumeClaimTemplates"][0]["metadata"]["name"]
    spec["template"]["spec"] = {
        "terminationGracePeriodSeconds": 1,
        "containers": [{
            "name": "data", "image": image or os.environ.get("STS_PROPS_DATA_IMAGE")
            or DEFAULT_DATA_IMAGE,
            "command": ["sh", "-c", TOKEN_SCRIPT],
            "volumeMounts": [{"name": mount, "mountPath": "/data"}],
        }],
    }
    spec.pop("persistentVolumeClaimRetentionPolicy", None)
    return base.with_statefulset(sts)


def compare_tokens(before: dict[int, str], after: dict[int, str], what: str) -> list[str]:
    """Sentences for every ordinal whose token changed or vanished.

    >>> compare_tokens({0: "a", 1: "b"}, {0: "a", 1: "c"}, "deleting pod 1")
    ['after deleting pod 1, ordinal 1 reads token c, not b: its volume did not come back']
    """
    problems = []
    for ordinal, token in sorted(before.items()):
        seen = after.get(ordinal)
        if seen is None:
            problems.append(f"after {what}, ordinal {ordinal} printed no token")
        elif seen != token:
            problems.append(f"after {what}, ordinal {ordinal} reads token {seen}, not {token}: "
                            "its volume did not come back")
    return problems


def check_storage_data(cluster: Cluster, base: Manifests | None = None, replicas: int = 2,
                       progress: Callable[[str], None] | None = None) -> DataReport:
    """Run the token scenario on ``cluster`` (see the module docstring)."""
    if not cluster.capabilities.real_containers:
        raise ClusterError(f"the {cluster.name} backend has no real containers: the data-level "
                           "storage check needs k3s (or another cluster with kubelets)")
    say = progress or (lambda _line: None)
    manifests = data_manifests(base or Manifests.seed(), replicas)
    report = DataReport()
    steps: list[tuple[str, list[Op], int]] = [
        ("creation", [Create()], replicas),
        ("deleting pod 1", [DeletePod(1)], replicas),
        ("scaling to 1 and back", [Scale(1), Scale(replicas)], replicas),
        ("deleting and re-creating the StatefulSet", [DeleteSet(), RecreateSet()], replicas),
    ]
    with ClusterRun(cluster, manifests) as run:
        first: dict[int, str] = {}
        for what, ops, expect in steps:
            for op in ops:
                outcome = run.apply(op)
                if not outcome.ok:
                    report.problems.append(f"{op.describe()} was rejected: {outcome}")
                    return report
                if isinstance(op, Scale | DeleteSet):
                    _wait_pods(run, op.replicas if isinstance(op, Scale) else 0, say)
            tokens = _wait_tokens(run, expect, say)
            report.steps.append((what, tokens))
            say(f"after {what}: {len(tokens)} token(s)")
            if not first:
                first = tokens
            else:
                report.problems += compare_tokens(first, tokens, what)
    return report


def _pods(run: ClusterRun) -> list[Any]:
    return list(run.core.list_namespaced_pod(run.namespace, _request_timeout=10).items)


def _wait_pods(run: ClusterRun, count: int, say: Callable[[str], None]) -> None:
    deadline = time.monotonic() + STEP_DEADLINE
    while time.monotonic() < deadline:
        if len(_pods(run)) == count:
            return
        time.sleep(0.5)  # real kubelets: seconds per step, polling is cheap enough
    raise ClusterError(f"{count} pod(s) expected within {STEP_DEADLINE:.0f}s")


def _wait_tokens(run: ClusterRun, count: int, say: Callable[[str], None]) -> dict[int, str]:
    """Wait until ``count`` pods are Ready and each printed its token; ordinal -> token."""
    deadline = time.monotonic() + STEP_DEADLINE
    tokens: dict[int, str] = {}
    while time.monotonic() < deadline:
        tokens = {}
        for pod in _pods(run):
            ready = any(c.type == "Ready" and c.status == "True"
                        for c in (pod.status.conditions or []))
            if not ready or pod.metadata.deletion_timestamp is not None:
                continue
            log = run.core.read_namespaced_pod_log(pod.metadata.name, run.namespace,
                                                   container="data", _request_timeout=10)
            token = next((line[6:] for line in log.splitlines() if line.startswith("token=")),
                         None)
            if token:
                tokens[int(pod.metadata.name.rsplit("-", 1)[1])] = token
        if len(tokens) == count:
            return tokens
        time.sleep(0.5)  # see _wait_pods
    say(f"only {len(tokens)} of {count} pods printed a token in time")
    return tokens
