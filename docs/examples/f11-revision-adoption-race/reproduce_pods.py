"""F-11's sibling for pods (docs/findings.md): a pod the StatefulSet controller adopts can be
missing from the pod list of a sync that reads the pod index while the adoption arrives.

``controller.FilterPodsByOwner`` (``pkg/controller/controller_utils.go``) reads the owner's key,
then the orphans' key, of an informer index: a pod adopted between the two reads is in neither
answer. The StatefulSet controller then finds that pod's slot empty: it tries to create the pod
(the apiserver answers AlreadyExists, and the sync fails) and writes a status that counts one
pod too few.

The script runs ``sets`` StatefulSets (Parallel, 2 replicas) side by side. Each round, for each
set:

1. ``orphan``: takes the owner reference off pod 1; ``control``: changes a label of pod 1
   instead (it stays owned);
2. annotates the set three times in a row, so that syncs run while the adoption's watch event
   arrives;
3. waits until pod 1 is owned again.

At the end it counts, in kube-controller-manager's log, the failed syncs of these sets whose
error says a pod "already exists", and the status writes that counted fewer than 2 replicas.

Usage (from the repository root)::

    python docs/examples/f11-revision-adoption-race/reproduce_pods.py v1.37.2 orphan 500
    python docs/examples/f11-revision-adoption-race/reproduce_pods.py v1.37.2 control 500
"""

from __future__ import annotations

import argparse
import re
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # run from anywhere
sys.path.insert(0, str(Path(__file__).resolve().parent))  # its sibling, reproduce.py

from kubernetes import client
from reproduce import statefulset, wait  # the same sets (their partition plays no part here)

from sts_props.cluster.kwok.cluster import KwokCluster
from sts_props.cluster.kwok.patched import build_patched

NAMESPACE = "f11-pods"
SETS = 4


def make(cluster: KwokCluster, name: str) -> None:
    apps: Any = client.AppsV1Api(cluster.api_client())
    apps.create_namespaced_stateful_set(NAMESPACE, statefulset(name))
    wait(f"{name} ready", lambda: (apps.read_namespaced_stateful_set_status(
        name, NAMESPACE).status.ready_replicas or 0) == 2)


def drive(cluster: KwokCluster, name: str, mode: str, rounds: int) -> None:
    api = cluster.api_client()
    apps: Any = client.AppsV1Api(api)
    core: Any = client.CoreV1Api(api)
    pod = f"{name}-1"
    for number in range(rounds):
        body = ({"metadata": {"ownerReferences": None}} if mode == "orphan"
                else {"metadata": {"labels": {"f11-round": str(number)}}})
        core.patch_namespaced_pod(pod, NAMESPACE, body)
        for nudge in range(3):
            apps.patch_namespaced_stateful_set(name, NAMESPACE, {"metadata": {
                "annotations": {"f11-round": f"{number}.{nudge}"}}})
        wait(f"{pod} owned", lambda: core.read_namespaced_pod(
            pod, NAMESPACE).metadata.owner_references)


def main() -> None:
    parser = argparse.ArgumentParser(description="Reproduce F-11's pod sibling.")
    parser.add_argument("version", nargs="?", default="v1.37.2")
    parser.add_argument("mode", nargs="?", default="orphan", choices=("orphan", "control"))
    parser.add_argument("rounds", nargs="?", type=int, default=300, help="rounds per set")
    parser.add_argument("diff", nargs="?", type=Path,
                        help="a diff of k8s.io/kubernetes to build the controller with")
    args = parser.parse_args()
    controller = None
    if args.diff is not None:
        controller = build_patched(args.version, args.diff.read_text()).path
    with KwokCluster(args.version, build=False, controller_manager=controller) as cluster:
        core: Any = client.CoreV1Api(cluster.api_client())
        core.create_namespace({"metadata": {"name": NAMESPACE}})
        time.sleep(2)  # the namespace's service account
        for i in range(SETS):
            make(cluster, f"f11-{i}")
        time.sleep(1)  # the last status writes of the scale-up
        since = datetime.now().strftime("%H:%M:%S.%f")  # klog's clock: local time
        started = time.monotonic()
        threads = [threading.Thread(target=drive, args=(cluster, f"f11-{i}", args.mode,
                                                        args.rounds)) for i in range(SETS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.monotonic() - started
        time.sleep(2)  # the last syncs' log lines
        log = (cluster.logs_dir() / "kube-controller-manager.log").read_text(errors="replace")
    ours = [line for line in log.splitlines() if f'"{NAMESPACE}/f11-' in line
            and line[6:21] >= since[:15]]  # "I1207 02:58:12.345678 ...": from the rounds on
    exists = [line for line in ours if "already exists" in line]
    short = [line for line in ours if '"Updated status"' in line
             and re.search(r"\breplicas=[01]\b", line)]
    fixed = f" with {args.diff.name}" if args.diff is not None else ""
    for line in (exists + short)[:6]:
        print(line[:300])
    writes = sum('"Updated status"' in line for line in ours)
    print(f"{args.version}{fixed} {args.mode}: {len(exists)} syncs failed on a pod that "
          f"'already exists', {len(short)} of {writes} status writes counted fewer than 2 "
          f"replicas, in {args.rounds * SETS} rounds ({seconds:.0f}s)")


if __name__ == "__main__":
    main()
