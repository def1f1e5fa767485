"""Reproduce F-2 (docs/findings.md): kube-scheduler exits when a pod is deleted and re-created
under the same name while the apiserver restarts.

The StatefulSet controller re-creates pods under their names all the time, which is why
sts-props' fault runs met this. The script needs no StatefulSet, only a kwok cluster built by
``sts-props cluster build``. Each round does the following:

1. creates pod ``x<round>``; the scheduler binds it to a node;
2. restarts kube-apiserver (:meth:`KwokCluster.restart_component`, without waiting for the
   informers' watches to come back);
3. straight away, force-deletes the pod and creates it again under the same name. With
   ``recreate-other`` the new pod is bound at creation to the *other* kwok node; ``control``
   skips this step;
4. waits 15 s, then asks :meth:`KwokCluster.supervise` whether the scheduler exited, and prints
   the log line if it did.

Usage (from the repository root)::

    python docs/examples/f2-scheduler-exit/reproduce.py v1.37.2 recreate-other 8
    python docs/examples/f2-scheduler-exit/reproduce.py v1.37.2 control 8
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # run from anywhere

from kubernetes import client

from sts_props.cluster.kwok.cluster import KwokCluster

MODES = ("recreate", "recreate-other", "control")


def pod(name: str, node: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "busybox"}],
                            "tolerations": [{"operator": "Exists"}]}
    if node:  # bound at creation: no scheduler involved
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def bound(core: Any, namespace: str, name: str, timeout: float = 30) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = core.read_namespaced_pod(name, namespace)
        if found.spec.node_name:
            return found
        time.sleep(0.1)
    raise SystemExit(f"{name} was not bound within {timeout:.0f}s")


def main() -> None:
    version = sys.argv[1] if len(sys.argv) > 1 else "v1.37.2"
    mode = sys.argv[2] if len(sys.argv) > 2 else "recreate-other"
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    if mode not in MODES:
        raise SystemExit(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    exits = 0
    with KwokCluster(version, build=False) as cluster:
        # The race needs the scheduler's watch still away when the pod is re-created, so the
        # restart must not wait for the watches to come back (docs/findings.md F-10).
        cluster.watch_deadline = 0.0
        core: Any = client.CoreV1Api(cluster.api_client())
        namespace = "f2-reproduce"
        core.create_namespace({"metadata": {"name": namespace}})
        time.sleep(2)  # the namespace's service account
        for i in range(rounds):
            name = f"x{i}"
            core.create_namespaced_pod(namespace, pod(name))
            first = bound(core, namespace, name)
            cluster.restart_component("kube-apiserver")
            if mode != "control":
                nodes = sorted(n.metadata.name for n in core.list_node().items)
                other = next((n for n in nodes if n != first.spec.node_name), None)
                core.delete_namespaced_pod(name, namespace, grace_period_seconds=0)
                core.create_namespaced_pod(
                    namespace, pod(name, other if mode == "recreate-other" else None))
            time.sleep(15)
            lines = [line for crash in cluster.supervise() for line in crash.excerpt
                     if "different node" in line]
            exits += bool(lines)
            print(f"round {i}: {name} (uid {first.metadata.uid[:8]}) on "
                  f"{first.spec.node_name}: "
                  f"{'kube-scheduler exited: ' + lines[0] if lines else 'no exit'}",
                  flush=True)
    print(f"{version} {mode}: kube-scheduler exited in {exits} of {rounds} rounds")


if __name__ == "__main__":
    main()
