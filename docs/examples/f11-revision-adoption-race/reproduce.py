"""Reproduce F-11 (docs/findings.md): a ControllerRevision that a StatefulSet adopts can be
missing from the list the same sync takes a moment later; when it is the current revision,
the set's ``status.currentRevision`` jumps to the update revision in the middle of a rollout.

From v1.36, ``realHistory.ListControllerRevisions`` (``pkg/controller/history``) reads two
keys of an informer index one after the other: the revisions the set controls, then the
orphans. A revision whose adoption reaches the informer between the two reads is in neither
answer. ``sync`` adopts orphans first and lists again a few hundred microseconds later in
``UpdateStatefulSet``, about when the adoption's watch event arrives.

The script needs only a kwok cluster built by ``sts-props cluster build``. It runs ``sets``
StatefulSets side by side, each with a rollout held by its partition (currentRevision C,
updateRevision U). Each round, for each set:

1. ``orphan``: takes the owner reference off revision C (a JSON merge patch as the harness);
   ``control``: changes a label of C instead, which moves it in no index;
2. annotates the set, which queues a sync (the controller has no handler on revisions);
3. waits until C is owned again (``orphan``) and the set's status shows the annotation's
   sync, then reads ``status.currentRevision``: a hit is the status naming U. After a hit it
   deletes pod 0, below the partition, says at which revision it comes back, and makes the
   set again.

With a fourth argument, a diff of k8s.io/kubernetes, the kube-controller-manager is built
with it applied (``sts-props cluster build --patch``; about a minute the first time):
``fix.diff`` beside this script reads the orphans before the owned revisions and keeps a
revision once, so an adoption between the two reads cannot hide it; it also adds a unit test
of ``pkg/controller/history`` that plays the adoption between the reads.

Usage (from the repository root)::

    python docs/examples/f11-revision-adoption-race/reproduce.py v1.37.2 orphan 500
    python docs/examples/f11-revision-adoption-race/reproduce.py v1.37.2 control 500
    python docs/examples/f11-revision-adoption-race/reproduce.py v1.37.2 orphan 500 \
        docs/examples/f11-revision-adoption-race/fix.diff
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # run from anywhere

from kubernetes import client

from sts_props.cluster.kwok.cluster import KwokCluster
from sts_props.cluster.kwok.patched import build_patched
from sts_props.cluster.rawhttp import send

MODES = ("orphan", "control")
SETS = 4
NAMESPACE = "f11-reproduce"


def statefulset(name: str) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name},
        "spec": {
            "replicas": 2, "serviceName": name, "podManagementPolicy": "Parallel",
            "selector": {"matchLabels": labels},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}},
            "template": {"metadata": {"labels": labels}, "spec": {
                "containers": [{"name": "c", "image": "busybox"}],
                "tolerations": [{"operator": "Exists"}]}}}}


def wait(what: str, ready: Any, timeout: float = 30.0) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = ready()
        if value:
            return value
        time.sleep(0.02)
    raise SystemExit(f"timed out after {timeout:.0f}s waiting for {what}")


class Set:
    """One StatefulSet mid-rollout: current revision C, update revision U."""

    def __init__(self, apps: Any, name: str) -> None:
        self.apps, self.name = apps, name
        self.current = self.update = ""
        self.make()

    def status(self) -> Any:
        return self.apps.read_namespaced_stateful_set_status(self.name, NAMESPACE).status

    def make(self) -> None:
        try:
            self.apps.delete_namespaced_stateful_set(self.name, NAMESPACE,
                                                     propagation_policy="Foreground")
            wait(f"{self.name} deleted", lambda: not any(
                s.metadata.name == self.name
                for s in self.apps.list_namespaced_stateful_set(NAMESPACE).items))
        except client.exceptions.ApiException as exc:
            if exc.status != 404:
                raise
        self.apps.create_namespaced_stateful_set(NAMESPACE, statefulset(self.name))
        wait(f"{self.name} ready", lambda: (self.status().ready_replicas or 0) == 2)
        self.apps.patch_namespaced_stateful_set(self.name, NAMESPACE, {"spec": {"template": {
            "metadata": {"annotations": {"f11": "rollout"}}}}})
        status = wait(f"{self.name}'s update revision", lambda: (
            s := self.status()) and s.update_revision != s.current_revision and s)
        self.current, self.update = status.current_revision, status.update_revision

    def below_partition(self, core: Any) -> str:
        """Delete pod 0, below the partition, and name the revision it comes back at: the
        status's current revision decides (UPD-2), so after a hit the update revision."""
        pod = f"{self.name}-0"
        old = core.read_namespaced_pod(pod, NAMESPACE).metadata.uid
        core.delete_namespaced_pod(pod, NAMESPACE, grace_period_seconds=0)

        def back() -> Any:
            try:
                new = core.read_namespaced_pod(pod, NAMESPACE)
            except client.exceptions.ApiException:
                return None
            return new if new.metadata.uid != old else None

        revision = wait(f"{pod} re-created", back).metadata.labels["controller-revision-hash"]
        which = ("the update revision" if revision == self.update else
                 "the old (current) revision" if revision == self.current else "another")
        return f"{pod}, below the partition, deleted and re-created at {which} {revision}"

    def round(self, number: int, mode: str) -> bool:
        """One round; True when the status jumped to the update revision."""
        body: dict[str, Any] = ({"metadata": {"ownerReferences": None}} if mode == "orphan"
                                else {"metadata": {"labels": {"f11-round": str(number)}}})
        status, answer = send(
            self.apps.api_client, "PATCH",
            f"/apis/apps/v1/namespaces/{NAMESPACE}/controllerrevisions/{self.current}",
            json.dumps(body), headers={"Content-Type": "application/merge-patch+json"})
        if status != 200:
            raise SystemExit(f"patching {self.current} answered {status}: "
                             f"{answer.get('message', '')}")
        self.apps.patch_namespaced_stateful_set(self.name, NAMESPACE, {"metadata": {
            "annotations": {"f11-round": str(number)}}})
        if mode == "orphan":
            wait(f"{self.current} adopted", lambda: self.apps.read_namespaced_controller_revision(
                self.current, NAMESPACE).metadata.owner_references)
        # The adopting sync writes the status a few ms after the adoption (4 ms in CI's case).
        time.sleep(0.05)
        return bool(self.status().current_revision != self.current)


def main() -> None:
    parser = argparse.ArgumentParser(description="Reproduce F-11 (docs/findings.md).")
    parser.add_argument("version", nargs="?", default="v1.37.2")
    parser.add_argument("mode", nargs="?", default="orphan", choices=MODES)
    parser.add_argument("rounds", nargs="?", type=int, default=300, help="rounds per set")
    parser.add_argument("diff", nargs="?", type=Path,
                        help="a diff of k8s.io/kubernetes to build the controller with")
    args = parser.parse_args()
    version, mode, rounds = args.version, args.mode, args.rounds
    controller = None
    if args.diff is not None:
        controller = build_patched(version, args.diff.read_text()).path
        print(f"kube-controller-manager {version} with {args.diff.name}: {controller}",
              flush=True)
    hits: list[str] = []
    with KwokCluster(version, build=False, controller_manager=controller) as cluster:
        api = cluster.api_client()
        core: Any = client.CoreV1Api(api)
        core.create_namespace({"metadata": {"name": NAMESPACE}})
        time.sleep(2)  # the namespace's service account
        started = time.monotonic()

        def drive(index: int) -> None:
            one = Set(client.AppsV1Api(cluster.api_client()), f"f11-{index}")
            for number in range(rounds):
                if one.round(number, mode):
                    hits.append(f"f11-{index} round {number}: status.currentRevision "
                                f"{one.current} -> {one.update} with {one.current} present")
                    print(hits[-1], flush=True)
                    print(f"  then {one.below_partition(client.CoreV1Api(one.apps.api_client))}",
                          flush=True)
                    one.make()
                if number % 50 == 49:
                    print(f"f11-{index}: {number + 1} rounds, {time.monotonic() - started:.0f}s",
                          flush=True)

        threads = [threading.Thread(target=drive, args=(i,)) for i in range(SETS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    fixed = f" with {args.diff.name}" if args.diff is not None else ""
    print(f"{version}{fixed} {mode}: status.currentRevision jumped in {len(hits)} of "
          f"{rounds * SETS} rounds ({time.monotonic() - started:.0f}s)")


if __name__ == "__main__":
    main()
