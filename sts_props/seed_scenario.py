"""The seed tutorial end to end on a real cluster: its three files, applied as they are.

Checks what the tutorial shows and promises, on the cluster's own History, next to the model:

* pods ``redis-0..2`` are created in order, each after the previous one is Running and Ready;
* each has its claim ``redis-data-redis-N``, Bound, and hostname/subdomain set (ID-8);
* the headless Service's EndpointSlice lists the three hostnames;
* deleting ``redis-1`` brings it back under the same name with the same claim (same UID,
  same PV).

>>> # with KwokCluster() as c: print(run_seed_scenario(c, Manifests.seed()).render())
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sts_props.cluster.base import Cluster
from sts_props.differential import DifferentialResult, run_differential
from sts_props.history import History
from sts_props.ops import Create, DeletePod, Settle
from sts_props.scenario import Manifests, Scenario
from sts_props.snapshot import ordinal_of


@dataclass
class SeedReport:
    """One line per expectation, plus the differential result."""

    lines: list[tuple[bool, str]] = field(default_factory=list)
    result: DifferentialResult | None = None

    @property
    def ok(self) -> bool:
        return all(ok for ok, _ in self.lines) and (self.result is None or self.result.ok)

    def expect(self, ok: bool, text: str) -> None:
        self.lines.append((ok, text))

    def render(self) -> str:
        out = ["seed scenario (the tutorial's files as they are):"]
        out += [f"  [{'ok' if ok else 'FAILED'}] {text}" for ok, text in self.lines]
        if self.result is not None:
            out.append(f"  model vs cluster: {self.result.render()}")
        return "\n".join(out)


def run_seed_scenario(cluster: Cluster, manifests: Manifests | None = None) -> SeedReport:
    """Apply the seed, check the tutorial's expectations, delete redis-1 and check again."""
    manifests = manifests or Manifests.seed()
    name = manifests.set_name
    replicas = int((manifests.statefulset.get("spec") or {}).get("replicas", 1))
    scenario = Scenario(manifests, (Create(), Settle(), DeletePod(1), Settle()), name="seed")
    result = run_differential(scenario, cluster)
    report = SeedReport(result=result)
    h = result.cluster_history
    quiet = [ev.seq for ev in h.quiescent_points()]
    first = h.state_at(quiet[1] if len(quiet) > 1 else len(h) - 1)
    last = h.state_at(len(h) - 1)
    want = [f"{name}-{o}" for o in range(replicas)]

    added = [ev.name for ev in h.objects("Pod") if ev.action == "ADDED"]
    report.expect(added[:replicas] == want,
                  f"pods created in order {', '.join(want)} (saw {', '.join(added[:replicas])})")
    report.expect(_each_after_ready(h, name, replicas),
                  "each pod created only after the previous one was Running and Ready")
    templates = [(t.get("metadata") or {}).get("name")
                 for t in (manifests.statefulset.get("spec") or {}).get(
                     "volumeClaimTemplates") or []]
    service = str((manifests.statefulset.get("spec") or {}).get("serviceName") or "")
    for pod in want:
        snap = first["Pod"].get(pod, {})
        spec = snap.get("spec") or {}
        claims = [f"{t}-{pod}" for t in templates]
        bound = all((first["PersistentVolumeClaim"].get(c, {}).get("status") or {}).get(
            "phase") == "Bound" for c in claims)
        report.expect(bool(snap) and bound and spec.get("hostname") == pod
                      and spec.get("subdomain") == service,
                      f"{pod}: claim {', '.join(claims)} Bound, hostname {pod}, "
                      f"subdomain {service}")
    hostnames = sorted({e.get("hostname") for s in first["EndpointSlice"].values()
                        for e in s.get("endpoints") or [] if e.get("ready")})
    report.expect(hostnames == sorted(want),
                  f"EndpointSlice of Service {service} lists {', '.join(hostnames) or 'nothing'}")
    report.expect(_same_claim_after_delete(first, last, f"{name}-1", templates),
                  f"{name}-1 deleted and back with the same name, same claim UID and same PV")
    return report


def _each_after_ready(h: History, name: str, replicas: int) -> bool:
    ready: set[int] = set()
    for ev in h.objects("Pod"):
        o = ordinal_of(ev.name, name)
        if o is None:
            continue
        if ev.action == "ADDED" and o < replicas and not all(j in ready for j in range(o)):
            return False
        if (ev.obj.get("status") or {}).get("ready"):
            ready.add(o)
    return True


def _same_claim_after_delete(first: dict[str, Any], last: dict[str, Any], pod: str,
                             templates: list[Any]) -> bool:
    before, after = first["Pod"].get(pod), last["Pod"].get(pod)
    if not before or not after or before["metadata"]["uid"] == after["metadata"]["uid"]:
        return False
    for t in templates:
        c = f"{t}-{pod}"
        a, b = first["PersistentVolumeClaim"].get(c), last["PersistentVolumeClaim"].get(c)
        if not a or not b or a["metadata"]["uid"] != b["metadata"]["uid"] \
                or a["spec"]["volumeName"] != b["spec"]["volumeName"]:
            return False
    return True
