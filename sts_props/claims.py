"""The seed tutorial's four claims (``CLAIMS.md``) as properties with verdicts.

Each claim is a property of a History plus the conditions under which the tutorial's promise is
meant. :func:`evaluate_claim` checks the property on scenarios that meet every condition, then,
for each condition, searches scenarios that break just that one: a shrunk counterexample there
shows the condition is really needed. On a cluster, :func:`confirm_on_cluster` replays a
verdict's counterexamples (and a few scenarios that kept the claim) and checks the claim on the
cluster's History (``sts-props claims --backend kwok``, :mod:`sts_props.cli.claims`).

>>> verdict = evaluate_claim(CLAIMS[0], examples=10, search=20, seed=0)
>>> verdict.status in ("holds", "holds under conditions", "does not hold")
True
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, assume, find, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.errors import NoSuchExample

from sts_props.concurrent_runs import run_all, runs_alone
from sts_props.differential import run_differential
from sts_props.history import Event, History
from sts_props.model import ModelConfig, run_model
from sts_props.ops import (
    OP_TYPES,
    DeletePod,
    DeletePVC,
    DeleteSet,
    Op,
    RecreateSet,
    SetTemplate,
    Settle,
    kinds_where,
)
from sts_props.scenario import Manifests, Scenario, cap_min_ready
from sts_props.snapshot import (
    controller_ref,
    deleted_at,
    is_running_ready,
    ordinal_of,
    volumes,
)
from sts_props.strategies import scenarios

#: Ops that take a pod down by hand, from the op catalogue: every injected fault, and the
#: disruptions that delete their pod or hold it until a release (DeletePod, FailPod,
#: HoldNotReady, UnlabelPod: a pod out of the selector is out of the set). Not DeletePVC: a
#: claim deleted by hand takes no pod down by itself.
DISRUPTING_OPS: tuple[type[Op], ...] = tuple(
    cls for cls in OP_TYPES.values()
    if cls.fault or (cls.disruption and (cls.deletes_pod or cls.release is not None)))
#: Ops whose target pod is deleted by someone other than the controller's scale and update
#: logic (:attr:`~sts_props.ops.Op.deletes_pod`): that deletion is no termination order.
_POD_DELETING = kinds_where(lambda cls: cls.deletes_pod)


@dataclass(frozen=True)
class Condition:
    """A condition under which a claim is meant; ``breaks`` makes a scenario violate it."""

    name: str
    rule: str
    met: Callable[[Scenario], bool]
    breaks: Callable[[Scenario], Scenario] | None = None


@dataclass(frozen=True)
class SeedClaim:
    number: int
    title: str
    statement: str
    check: Callable[[History], str | None]
    conditions: tuple[Condition, ...] = ()
    note: str = ""
    #: applied to every generated scenario, e.g. to make sure a rollout happens at all
    prepare: Callable[[Scenario], Scenario] | None = None


@dataclass
class Verdict:
    claim: SeedClaim
    status: str
    examples: int = 0
    needed: list[tuple[Condition, Scenario, str]] = field(default_factory=list)
    counterexample: tuple[Scenario, str] | None = None
    #: a few scenarios that met every condition and kept the claim (the longest ones), so that
    #: a cluster backend can confirm "holds" on them too
    samples: list[Scenario] = field(default_factory=list)

    def witnesses(self) -> list[tuple[str, Scenario, str]]:
        """Every shrunk counterexample: (what it shows, scenario, why the claim failed)."""
        out = [("counterexample", sc, why) for sc, why in
               ([self.counterexample] if self.counterexample else [])]
        out += [(f"without: {cond.name} ({cond.rule})", sc, why) for cond, sc, why in self.needed]
        return out

    def render(self) -> str:
        lines = [f"Claim {self.claim.number} ({self.claim.title}): {self.status.upper()}"
                 f"  [{self.examples} scenarios under the conditions]"]
        if self.counterexample is not None:
            sc, why = self.counterexample
            lines += [f"  counterexample: {why}", _indent(sc)]
        for cond, sc, why in self.needed:
            lines += [f"  needs: {cond.name} ({cond.rule}); without it: {why}", _indent(sc)]
        if self.claim.note:
            lines.append(f"  note: {self.claim.note}")
        return "\n".join(lines)


def _indent(sc: Scenario) -> str:
    ops = ", ".join(op.describe() for op in sc.ops)
    return f"    plan: {ops}"


# -- history helpers ------------------------------------------------------
def _set_spec(ev_obj: dict[str, Any]) -> dict[str, Any]:
    spec = ev_obj.get("spec")
    return spec if isinstance(spec, dict) else {}


class _Replay:
    """The live pods and the set's spec as of the event being looked at."""

    def __init__(self, history: History) -> None:
        self.history = history
        self.set_name = history.set_name
        self.pods: dict[str, dict[str, Any]] = {}
        self.spec: dict[str, Any] = {}
        self.set_alive = False
        self.set_deleting = False
        self.op: dict[str, Any] = {}

    def in_range(self, ordinal: int) -> bool:
        start = int((self.spec.get("ordinals") or {}).get("start", 0))
        return start <= ordinal < start + int(self.spec.get("replicas", 1))


def _iter(history: History) -> Any:
    """Yield (replay, event, previous snapshot) with the replay state updated to the event."""
    r = _Replay(history)
    for ev in history.events:
        prev = None
        if ev.type == "op" and ev.phase == "invoke":
            r.op = dict(ev.data.get("op") or {})
        if ev.type == "object" and ev.kind == "Pod":
            prev = r.pods.get(ev.name)
            if ev.action == "DELETED":
                r.pods.pop(ev.name, None)
            else:
                r.pods[ev.name] = ev.obj
        if ev.type == "object" and ev.kind == "StatefulSet":
            r.set_alive = ev.action != "DELETED"
            r.set_deleting = ev.action == "DELETED" or deleted_at(ev.obj) is not None
            if ev.action != "DELETED":
                r.spec = _set_spec(ev.obj)
        yield r, ev, prev


def _deletion_start(ev: Event, prev: dict[str, Any] | None) -> bool:
    """This event is where a pod starts going away."""
    if ev.action == "DELETED":
        return prev is not None and deleted_at(prev) is None
    return ev.action == "MODIFIED" and deleted_at(ev.obj) is not None and (
        prev is None or deleted_at(prev) is None)


def _targets(op: dict[str, Any], name: str, set_name: str) -> bool:
    return op.get("op") in _POD_DELETING and \
        f"{set_name}-{op.get('ordinal')}" == name


# -- claim 1: stable network identity ------------------------------------------------------
def check_identity(history: History) -> str | None:
    """Pods are <set>-<o>, keep hostname/subdomain, and each Ready pod is in the Service's DNS."""
    service = ""
    for r, ev, _ in _iter(history):
        if ev.type == "object" and ev.kind == "Pod" and ev.action == "ADDED":
            o = ordinal_of(ev.name, r.set_name)
            spec = ev.obj.get("spec") or {}
            if o is None:
                return f"pod {ev.name} at {ev.where()} is not named {r.set_name}-<ordinal>"
            if spec.get("hostname") != ev.name:
                return f"pod {ev.name} at {ev.where()} has hostname {spec.get('hostname')!r}"
            service = str(r.spec.get("serviceName") or "")
            if spec.get("subdomain") != service:
                return f"pod {ev.name} at {ev.where()} has subdomain {spec.get('subdomain')!r}"
        if ev.type == "quiescent" and ev.data.get("settled"):
            state = history.state_at(ev.seq)
            slices = state.get("EndpointSlice", {})
            names = {e.get("hostname") for s in slices.values()
                     if s.get("service") == service for e in s.get("endpoints", [])
                     if e.get("ready")}
            for name, pod in state["Pod"].items():
                ref = controller_ref(pod)
                if ref and is_running_ready(pod) and name not in names:
                    return (f"at {ev.where()} pod {name} is Running and Ready but has no DNS "
                            f"record: no Service {service!r} lists it (the controller never "
                            "creates the Service, ID-8)")
    return None


# -- claim 2: stable storage ------------------------------------------------------
def check_storage(history: History) -> str | None:
    """Every incarnation of ordinal o mounts claim <t>-<set>-o, the very same claim object."""
    claims: dict[str, str] = {}  # claim name -> uid live now
    used: dict[str, str] = {}  # claim name -> uid that the last pod of that ordinal ran with
    for r, ev, prev in _iter(history):
        if ev.type == "object" and ev.kind == "PersistentVolumeClaim":
            if ev.action == "DELETED":
                claims.pop(ev.name, None)
            else:
                claims[ev.name] = str((ev.obj.get("metadata") or {}).get("uid"))
        if ev.type != "object" or ev.kind != "Pod" or ev.action == "DELETED":
            continue
        o = ordinal_of(ev.name, r.set_name)
        became_running = (ev.obj.get("status") or {}).get("phase") == "Running" and (
            prev is None or (prev.get("status") or {}).get("phase") != "Running")
        if o is None or not became_running:
            continue
        for vol, cname in volumes(ev.obj).items():
            if not cname.endswith(f"-{r.set_name}-{o}") or not cname.startswith(vol):
                return f"pod {ev.name} at {ev.where()} mounts {cname}, not {vol}-{ev.name}"
            uid = claims.get(cname)
            if cname in used and uid != used[cname]:
                return (f"pod {ev.name} started at {ev.where()} with a new claim {cname}: the "
                        "claim its previous incarnation used is gone, and its data with it")
            if uid is not None:
                used[cname] = uid
    return None


# -- claim 3: ordered deployment and termination --------------------------------------------------
def check_ordering(history: History) -> str | None:
    """Pod k is created only after 0..k-1 are Running+Ready; pods go away highest first."""
    ready: dict[int, bool] = {}
    for r, ev, prev in _iter(history):
        if ev.type != "object" or ev.kind != "Pod":
            continue
        o = ordinal_of(ev.name, r.set_name)
        if o is None:
            continue
        if ev.action == "ADDED" and r.set_alive and not r.set_deleting:
            start = int((r.spec.get("ordinals") or {}).get("start", 0))
            for j in range(start, o):
                if not ready.get(j, False):
                    return (f"pod {ev.name} was created at {ev.where()} while "
                            f"{r.set_name}-{j} was not Running and Ready")
        if ev.action == "DELETED":
            ready[o] = False
        else:
            ready[o] = is_running_ready(ev.obj) and deleted_at(ev.obj) is None
        if _deletion_start(ev, prev) and not _targets(r.op, ev.name, r.set_name) \
                and (prev or ev.obj).get("status", {}).get("phase") not in ("Failed",
                                                                          "Succeeded") \
                and (not r.in_range(o) or r.set_deleting or not r.set_alive):
            # Only pods that are going away too count: a higher pod that stays in range
            # (ordinals.start moved up, ORD-8) is not part of a termination sequence.
            going = r.set_deleting or not r.set_alive
            higher = sorted(n for n in r.pods if (ordinal_of(n, r.set_name) or -1) > o
                            and n != ev.name
                            and (going or not r.in_range(ordinal_of(n, r.set_name) or -1)))
            if higher:
                return (f"pod {ev.name} started terminating at {ev.where()} while "
                        f"{', '.join(higher)} still existed")
    return None


# -- claim 4: ordered rolling update ------------------------------------------------------
def check_rolling_update(history: History) -> str | None:
    """Updates go one pod at a time; the next only once the previous is Running+Ready again.

    Every deletion of an in-range pod by the controller counts as an update deletion: the only
    other reason, a Failed/Succeeded pod (RP-1), is left out, and so are pods an op deleted.
    The order is reset when the template changes.
    """
    last_deleted: int | None = None
    template = ""
    for r, ev, prev in _iter(history):
        if ev.type == "object" and ev.kind == "StatefulSet" and ev.action != "DELETED":
            key = str((ev.obj.get("spec") or {}).get("templateKey", ""))
            if key != template:
                template, last_deleted = key, None
        if ev.type != "object" or ev.kind != "Pod" or not _deletion_start(ev, prev):
            continue
        o = ordinal_of(ev.name, r.set_name)
        before = prev or ev.obj
        if o is None or not r.in_range(o) or r.set_deleting or not r.set_alive \
                or _targets(r.op, ev.name, r.set_name):
            continue
        if before.get("status", {}).get("phase") in ("Failed", "Succeeded"):
            continue
        others = [n for n, p in r.pods.items() if n != ev.name
                  and r.in_range(ordinal_of(n, r.set_name) or -1)
                  and (not is_running_ready(p) or deleted_at(p) is not None)]
        if others:
            return (f"update deleted {ev.name} at {ev.where()} while {', '.join(sorted(others))} "
                    "was not yet Running and Ready again")
        if last_deleted is not None and o > last_deleted:
            return (f"update deleted {ev.name} at {ev.where()} after {r.set_name}-{last_deleted}"
                    ": not in order")
        last_deleted = o
    return None


# -- conditions ------------------------------------------------------
def _spec(sc: Scenario) -> dict[str, Any]:
    spec: dict[str, Any] = sc.manifests.statefulset.get("spec") or {}
    return spec


def _with_spec(sc: Scenario, **changes: Any) -> Scenario:
    sts = sc.manifests.statefulset
    sts.setdefault("spec", {}).update(changes)
    return replace(sc, manifests=sc.manifests.with_statefulset(sts))


def _no_ops(*kinds: type[Op]) -> Callable[[Scenario], bool]:
    return lambda sc: not any(isinstance(op, kinds) for op in sc.ops)


def _no_op_kind(*names: str) -> Callable[[Scenario], bool]:
    return lambda sc: not any(op.kind in names for op in sc.ops)


HAS_SERVICE = Condition(
    "a headless Service named by serviceName exists", "ID-8",
    lambda sc: sc.manifests.service is not None
    and (sc.manifests.service.get("metadata") or {}).get("name") == _spec(sc).get("serviceName"),
    lambda sc: replace(sc, manifests=Manifests(sc.manifests.statefulset_json, "",
                                               sc.manifests.storageclass_json)))
ORDERED_READY = Condition(
    "podManagementPolicy OrderedReady", "ORD-1/T-1",
    lambda sc: _spec(sc).get("podManagementPolicy", "OrderedReady") == "OrderedReady",
    lambda sc: _with_spec(sc, podManagementPolicy="Parallel"))
NO_SET_DELETION = Condition(
    "the StatefulSet is not deleted (scale to 0 first)", "ORD-9", _no_ops(DeleteSet),
    lambda sc: replace(sc, ops=(*sc.ops, DeleteSet("Background"), Settle())))
RETAIN_ON_SCALE = Condition(
    "persistentVolumeClaimRetentionPolicy.whenScaled Retain and no retention changes", "STO-7",
    lambda sc: (_spec(sc).get("persistentVolumeClaimRetentionPolicy") or {}).get(
        "whenScaled", "Retain") == "Retain" and _no_op_kind("set_retention")(sc),
    lambda sc: _with_spec(sc, persistentVolumeClaimRetentionPolicy={
        "whenDeleted": "Retain", "whenScaled": "Delete"}))
RETAIN_ON_DELETE = Condition(
    "whenDeleted Retain, or the set is never deleted", "STO-10",
    lambda sc: (_spec(sc).get("persistentVolumeClaimRetentionPolicy") or {}).get(
        "whenDeleted", "Retain") == "Retain" or _no_ops(DeleteSet)(sc),
    lambda sc: replace(_with_spec(sc, persistentVolumeClaimRetentionPolicy={
        "whenDeleted": "Delete", "whenScaled": "Retain"}), ops=(
            *sc.ops, Settle(), DeleteSet("Background"), Settle(), RecreateSet(), Settle())))
NO_PVC_DELETION = Condition(
    "nobody deletes a PVC", "STO-3", _no_ops(DeletePVC),
    lambda sc: replace(sc, ops=(*sc.ops, Settle(), DeletePVC(0), DeletePod(0), Settle())))
NO_FAULTS = Condition("no pod is failed, held NotReady or deleted by hand", "ORD-2",
                      _no_ops(*DISRUPTING_OPS))
ONE_AT_A_TIME = Condition(
    "RollingUpdate with maxUnavailable 1 (the default)", "UPD-5",
    lambda sc: _no_op_kind("set_max_unavailable", "set_update_strategy")(sc)
    and ((_spec(sc).get("updateStrategy") or {}).get("rollingUpdate") or {}).get(
        "maxUnavailable", 1) in (1, "1")
    and (_spec(sc).get("updateStrategy") or {}).get("type", "RollingUpdate") == "RollingUpdate",
    lambda sc: _with_spec(sc, updateStrategy={"type": "RollingUpdate",
                                              "rollingUpdate": {"maxUnavailable": 2}}))

def _with_rollout(sc: Scenario) -> Scenario:
    """Append a template change and a settle, so that every scenario has a rollout."""
    return replace(sc, ops=(*sc.ops, SetTemplate("image", "sts-props/rollout:1"), Settle()))


CLAIMS: tuple[SeedClaim, ...] = (
    SeedClaim(1, "stable network identity",
              "pods are <sts>-0..N-1, keep their names, and have a fixed DNS name",
              check_identity, (HAS_SERVICE,),
              "hostname and subdomain are set at pod creation only (ID-8)."),
    SeedClaim(2, "stable storage",
              "each pod gets its own PVC and mounts the same one again when recreated",
              check_storage, (RETAIN_ON_SCALE, RETAIN_ON_DELETE, NO_PVC_DELETION)),
    SeedClaim(3, "ordered deployment and termination",
              "pods are created 0..N-1, each after the previous is up, and deleted N-1..0",
              check_ordering, (ORDERED_READY, NO_SET_DELETION),
              "scale-down order holds; deleting the StatefulSet itself gives no order (ORD-9)."),
    SeedClaim(4, "ordered rolling update",
              "pods are updated one at a time, the next only after the previous is Running "
              "and Ready", check_rolling_update, (ORDERED_READY, ONE_AT_A_TIME, NO_FAULTS),
              "the order is from the highest ordinal down to 0 (UPD-1), not 0..N-1 as the "
              "tutorial's section 3 says; pods below a partition are not updated (UPD-2).",
              _with_rollout),
)


def _violation(scenario: Scenario, claim: SeedClaim, config: ModelConfig) -> str | None:
    return claim.check(run_model(scenario, config).history)


def evaluate_claim(claim: SeedClaim, examples: int = 100, search: int = 300,
                   base: Manifests | None = None, config: ModelConfig | None = None,
                   seed: int | None = None) -> Verdict:
    """Check ``claim`` on the model under its conditions, and find why each is needed."""

    cfg = config or ModelConfig()
    base = base or Manifests.seed()
    strategy = scenarios(base=base, max_ops=12, max_replicas=4)
    if claim.prepare is not None:
        strategy = strategy.map(claim.prepare)
    verdict = Verdict(claim, "holds")
    found: list[tuple[Scenario, str]] = []
    passing: list[Scenario] = []

    # quiet: no "add @seed(...) to this test" about this inner function when interrupted
    @settings(max_examples=examples, deadline=None, database=None,
              verbosity=Verbosity.quiet, suppress_health_check=list(HealthCheck),
              phases=(Phase.generate, Phase.shrink))
    @given(strategy)
    def under_conditions(sc: Scenario) -> None:
        assume(all(c.met(sc) for c in claim.conditions))
        verdict.examples += 1
        why = _violation(sc, claim, cfg)
        if why is not None:
            found.append((sc, why))
            raise AssertionError(why)
        passing.append(sc)

    runner = under_conditions if seed is None else hypothesis_seed(seed)(under_conditions)
    try:
        runner()
    except AssertionError:
        verdict.status, verdict.counterexample = "does not hold", found[-1]
        return verdict
    verdict.samples = sorted(dict.fromkeys(passing), key=_busy, reverse=True)[:SAMPLES]

    for cond in claim.conditions:
        others = [c for c in claim.conditions if c is not cond]
        broken = strategy.map(cond.breaks) if cond.breaks else strategy

        def fails(sc: Scenario, cond: Condition = cond, others: list[Condition] = others
                  ) -> bool:
            if cond.met(sc) or not all(c.met(sc) for c in others):
                return False
            return _violation(sc, claim, cfg) is not None

        try:
            witness = find(broken, fails, settings=settings(
                max_examples=search, deadline=None, database=None, verbosity=Verbosity.quiet,
                suppress_health_check=list(HealthCheck)), random=_random(seed))
        except NoSuchExample:
            continue
        why = _violation(witness, claim, cfg) or ""
        verdict.needed.append((cond, witness, why))
    if verdict.needed:
        verdict.status = "holds under conditions"
    return verdict


#: how many passing scenarios a verdict keeps (see Verdict.samples)
SAMPLES = 3


def _busy(sc: Scenario) -> tuple[int, int]:
    """Sort key: distinct op kinds, then ops other than settle (the more, the more it shows)."""
    return len({op.kind for op in sc.ops}), sum(1 for op in sc.ops if not isinstance(op, Settle))


def _random(seed: int | None) -> Any:
    import random

    return random.Random(seed) if seed is not None else None


def evaluate_claims(examples: int = 100, search: int = 300, base: Manifests | None = None,
                    config: ModelConfig | None = None, seed: int | None = None
                    ) -> list[Verdict]:
    return [evaluate_claim(c, examples, search, base, config, seed) for c in CLAIMS]


# -- confirmation on a cluster ----------------------------------------------------------------
@dataclass
class Replay:
    """One scenario replayed on the cluster: does the claim break there as on the model?"""

    label: str
    expect_broken: bool
    cluster_why: str | None
    differential: list[str] = field(default_factory=list)
    seconds: float = 0.0
    #: runs of a counterexample until it broke the claim (at most COUNTEREXAMPLE_RUNS)
    runs: int = 1

    @property
    def agrees(self) -> bool:
        return (self.cluster_why is not None) == self.expect_broken

    def render(self) -> str:
        seen = f"breaks it: {self.cluster_why}" if self.cluster_why else "keeps the claim"
        if self.runs > 1:
            seen += (f" (run {self.runs} of {COUNTEREXAMPLE_RUNS})" if self.cluster_why
                     else f" in {self.runs} runs")
        mark = "ok" if self.agrees else "DIFFERS"
        diff = (f"; model vs cluster: {len(self.differential)} difference(s), first: "
                f"{self.differential[0]}") if self.differential else ""
        return f"    [{mark}] {self.label}: on the cluster it {seen} ({self.seconds:.0f}s){diff}"


#: A counterexample found through the model's interleavings may need a race the cluster does
#: not always lose (claim 3 without OrderedReady: a Parallel scale-up from 0 to 2 breaks the
#: order only if pod 1 is created before pod 0 is Ready; on kwok v1.37.2 pod 0 was Ready first
#: in 5 of 7 runs), so it runs up to this many times on the cluster before its verdict DIFFERS.
COUNTEREXAMPLE_RUNS = 8


def confirm_on_cluster(verdicts: Sequence[Verdict], cluster: Any, config: ModelConfig,
                       samples: int, say: Callable[[str], None] = print, jobs: int = 1
                       ) -> dict[int, list[Replay]]:
    """Replay each verdict's counterexamples and ``samples`` passing scenarios on ``cluster``
    (differentially) and check its claim on the cluster's History: a verdict is confirmed
    when every counterexample breaks the claim there too and every sample keeps it.

    Up to ``jobs`` replays run side by side, each in its own namespace (a scenario with a
    fault that disturbs the whole cluster runs alone, :mod:`sts_props.concurrent_runs`); each
    prints its line as it finishes. Returns the replays per claim number, in the order of
    the verdict's witnesses, then its samples.
    """
    claims = {v.claim.number: v.claim for v in verdicts}
    items = [(v.claim.number, label, sc, True) for v in verdicts
             for label, sc, _ in v.witnesses()]
    items += [(v.claim.number, f"sample {i} (met every condition)", sc, False)
              for v in verdicts for i, sc in enumerate(v.samples[:samples], 1)]
    def replay(item: tuple[int, str, Scenario, bool], cancel: threading.Event) -> Replay:
        number, label, scenario, broken = item
        seconds, runs = 0.0, 0
        while True:
            runs += 1
            # every op, whatever the model says: the claim is judged on the cluster's own
            # History
            result = run_differential(cap_min_ready(scenario), cluster, config,
                                      stop_at_divergence=False, cancel=cancel)
            seconds += result.seconds
            why = claims[number].check(result.cluster_history)
            if why is not None or not broken or runs >= COUNTEREXAMPLE_RUNS:
                break
        return Replay(label, broken, why, [v.describe() for v in result.violations],
                      seconds, runs)

    def started(item: tuple[int, str, Scenario, bool]) -> None:
        number, label, scenario, _ = item
        say(f"  claim {number}: replaying {label} ({len(scenario.ops)} ops)")

    def done(item: tuple[int, str, Scenario, bool], result: Replay) -> None:
        say(f"  claim {item[0]}: {result.render().strip()}")

    replays = run_all(items, jobs, alone=lambda item: runs_alone(item[2]), run=replay,
                      done=done, started=started)
    out: dict[int, list[Replay]] = {number: [] for number in claims}
    for item, result in zip(items, replays, strict=True):
        out[item[0]].append(result)
    return out


def write_plans(directory: Path, verdicts: list[Verdict]) -> list[Path]:
    """Write every counterexample of ``verdicts`` as a full, replayable scenario file
    (``claim<N>-<i>.yaml``) into ``directory``; returns the files written.

    The files an earlier run wrote for the same claims go first: left beside the new ones,
    ``claim3-5.yaml`` of a run that found five counterexamples would read as this run's. The
    files of claims not in ``verdicts`` and every other file stay."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for v in verdicts:
        for old in _earlier_plans(directory, v.claim.number):
            # a file, a link (even a dangling one: writing would follow it) or a FIFO (writing
            # would block); a directory is refused before the run (plans_in_the_way)
            if old.is_symlink() or not old.is_dir():
                old.unlink()
        for i, (label, sc, why) in enumerate(v.witnesses(), 1):
            path = directory / f"claim{v.claim.number}-{i}.yaml"
            named = Scenario(sc.manifests, sc.ops, f"claim {v.claim.number}, {label}: {why}")
            path.write_text(named.to_yaml(), encoding="utf-8")
            written.append(path)
    return written


def _earlier_plans(directory: Path, number: int) -> list[Path]:
    """The entries of ``directory`` named as :func:`write_plans` names claim ``number``'s."""
    return [p for p in directory.glob(f"claim{number}-*.yaml")
            if re.fullmatch(rf"claim{number}-\d+\.yaml", p.name)]


def plans_in_the_way(directory: Path, numbers: Sequence[int]) -> list[Path]:
    """Entries :func:`write_plans` would have to replace but cannot: directories named like
    a plan of one of the claims ``numbers`` (``claim1-1.yaml/``). Checked before the run, so
    that a long run does not end in an error when it writes."""
    if not directory.is_dir():
        return []
    return [p for n in numbers for p in _earlier_plans(directory, n)
            if p.is_dir() and not p.is_symlink()]


__all__ = ["CLAIMS", "COUNTEREXAMPLE_RUNS", "Condition", "Replay", "SeedClaim", "Verdict",
           "confirm_on_cluster",
           "evaluate_claim", "evaluate_claims", "plans_in_the_way", "write_plans"]
