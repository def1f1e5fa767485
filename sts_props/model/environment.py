"""Everything around the controller: scheduler+kubelet, volume provisioner, garbage collector.

:func:`env_actions` lists what the environment *could* do next; the runner (or a Hypothesis
chooser) decides which happens first. That choice is the nondeterminism a real cluster has, made
explicit. :func:`apply_env` performs one.

>>> from sts_props.model.world import World, Claim
>>> w = World("web")
>>> _ = w.add_claim(Claim("data-web-0", {}))
>>> [(a.verb, a.name) for a in env_actions(w)]
[('bind_claim', 'data-web-0')]
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

from sts_props.model.world import Claim, Pod, Revision, World
from sts_props.ops import (
    AllowPodWrites,
    DeletePod,
    DenyPodWrites,
    EvictPod,
    FailNode,
    FlapReadiness,
    HoldScheduling,
    HoldTerminating,
    KillPod,
    Op,
    ReleaseScheduling,
    ReleaseTerminating,
    RestartApiserver,
    RestartController,
)
from sts_props.outcome import Outcome

HOLD_ANNOTATION = "sts-props.io/hold"
#: The finalizer of :class:`~sts_props.ops.HoldTerminating` (the cluster driver uses it too).
HOLD_FINALIZER = "sts-props.io/hold"


@dataclass(frozen=True)
class EnvAction:
    """One step of the environment; ``rule`` is the spec rule it plays out."""

    verb: str
    name: str
    rule: str


def _owners_gone(live: set[str], obj: Pod | Claim | Revision) -> bool:
    return bool(obj.owner_refs) and not any(r.uid in live for r in obj.owner_refs)


def _claim_in_use(world: World, claim: Claim) -> bool:
    """PVC protection: a claim is held while a *scheduled* pod that mounts it exists.

    Upstream ``pvc_protection_controller.podUsesPVC`` only counts pods with ``spec.nodeName``
    set: "kubelet sees pods after they have been scheduled and it won't allow starting a pod
    referencing a PVC with a non-nil deletionTimestamp". In the model a pod is scheduled when it
    leaves Pending (``start_pod``), so a Pending pod never holds its claim, and a finished pod
    (Failed/Succeeded, still scheduled) does until the pod object is gone.
    """
    return any(claim.name in p.volumes.values() and p.phase != "Pending"
               for p in world.pods.values())


def _pod_can_start(world: World, pod: Pod) -> bool:
    """The scheduler needs every claim to exist, be bound and not be in deletion."""
    for cname in pod.volumes.values():
        claim = world.claims.get(cname)
        if claim is None or claim.terminating or claim.phase != "Bound":
            return False
    return True


def env_actions(world: World) -> list[EnvAction]:
    """What the environment can do now, in a stable order."""
    out: list[EnvAction] = []
    for claim in sorted(world.claims.values(), key=lambda c: c.name):
        if claim.phase == "Pending" and not claim.terminating:
            out.append(EnvAction("bind_claim", claim.name, "STO-3"))
        if claim.terminating and not _claim_in_use(world, claim):
            out.append(EnvAction("remove_claim", claim.name, "STO-10"))
    for pod in sorted(world.pods.values(), key=lambda p: p.name):
        if pod.phase == "Pending" and not pod.terminating and _pod_can_start(world, pod) \
                and not scheduling_held(world):
            out.append(EnvAction("start_pod", pod.name, "PR-3"))
        if pod.terminating and not pod.finalizers:
            out.append(EnvAction("remove_pod", pod.name, "PR-2"))
    sts = world.sts
    dependents: list[Pod | Claim | Revision] = [
        *world.pods.values(), *world.claims.values(), *world.revisions.values()]
    live = {o.uid for o in dependents}
    if sts is not None:
        live.add(sts.uid)
    for obj in dependents:
        kind = type(obj).__name__.lower()
        terminating = getattr(obj, "terminating", False)
        if not terminating and _owners_gone(live, obj):
            out.append(EnvAction(f"gc_{kind}", obj.name, "DEL-1"))
        elif sts is not None and sts.deleted is not None \
                and any(r.uid == sts.uid for r in obj.owner_refs):
            if "orphan" in sts.finalizers:
                out.append(EnvAction(f"orphan_{kind}", obj.name, "DEL-1"))
            elif "foregroundDeletion" in sts.finalizers and not terminating:
                out.append(EnvAction(f"gc_{kind}", obj.name, "DEL-1"))
    if sts is not None and sts.deleted is not None and not any(
        any(r.uid == sts.uid for r in o.owner_refs) for o in dependents
    ):
        out.append(EnvAction("finalize_set", sts.name, "DEL-1"))
    return out


def apply_env(world: World, action: EnvAction) -> None:
    """Carry out one environment action."""
    verb, name = action.verb, action.name
    if verb == "bind_claim":
        claim = world.claims[name]
        claim.phase, claim.volume_name = "Bound", f"pv-{claim.uid}"
        world.touch(claim)
    elif verb == "remove_claim":
        world.remove(world.claims[name])
    elif verb == "start_pod":
        pod = world.pods[name]
        pod.phase = "Running"
        if not pod.held:
            pod.ready, pod.ready_since = True, world.now
        world.touch(pod)
    elif verb == "remove_pod":
        world.remove(world.pods[name])
    elif verb == "gc_pod":
        _delete(world, world.pods[name])
    elif verb == "gc_claim":
        _delete(world, world.claims[name])
    elif verb == "gc_revision":
        world.remove(world.revisions[name])
    elif verb.startswith("orphan_"):
        sts = world.sts
        assert sts is not None
        obj = _lookup(world, verb.split("_", 1)[1], name)
        obj.owner_refs = [r for r in obj.owner_refs if r.uid != sts.uid]
        world.touch(obj)
    elif verb == "finalize_set":
        assert world.sts is not None
        world.remove(world.sts)
    else:  # pragma: no cover - a programming error
        raise AssertionError(f"unknown environment action {verb}")


def _lookup(world: World, kind: str, name: str) -> Pod | Claim | Revision:
    if kind == "pod":
        return world.pods[name]
    if kind == "claim":
        return world.claims[name]
    return world.revisions[name]


def _delete(world: World, obj: Pod | Claim) -> None:
    if obj.deleted is None:
        obj.deleted = world.now
        world.touch(obj)


def next_timer(world: World) -> float | None:
    """The next instant at which a Ready pod becomes available (minReadySeconds, PR-4)."""
    sts = world.sts
    if sts is None or sts.min_ready <= 0:
        return None
    due = [p.ready_since + sts.min_ready for p in world.pods.values()
           if p.ready and p.ready_since is not None and p.ready_since + sts.min_ready > world.now]
    return min(due) if due else None


# -- faults (issue 5) ---------------------------------------------------------------------------
#: Pod names the API refuses to create, delete or evict (DenyPodWrites), per World. Kept here,
#: not on the World, because only faults need it; a weak map dies with its World.
_DENIED: weakref.WeakKeyDictionary[World, set[str]] = weakref.WeakKeyDictionary()


def write_denied(world: World, pod: str) -> bool:
    """Whether an admission policy refuses writes (create, delete, evict) of pod ``pod``.

    The controller's sync consults this: a refused create or delete is an API error, which
    ends the sync with an error (section 4 step 4, RP-1, RP-2, CD-*; retried with backoff,
    EX-2).

    >>> w = World("web")
    >>> _ = apply_fault(w, DenyPodWrites(1), "web")
    >>> write_denied(w, "web-1"), write_denied(w, "web-0")
    (True, False)
    """
    return pod in _DENIED.get(world, ())


#: Worlds in which no pod is scheduled (HoldScheduling): Pending pods stay Pending.
_SCHEDULING_HELD: weakref.WeakSet[World] = weakref.WeakSet()


def scheduling_held(world: World) -> bool:
    """Whether a :class:`~sts_props.ops.HoldScheduling` is in force: the environment then
    starts no Pending pod (every node is cordoned). Nothing else changes: running pods keep
    running, and the controller's sync still sees its Pending pods (RP-3, STO-5; under
    OrderedReady it stops at the first one, RP-5). With nothing enabled a settle ends there,
    a quiescent state short of the 10.3 target until :class:`~sts_props.ops.ReleaseScheduling`.

    >>> w = World("web")
    >>> _ = apply_fault(w, HoldScheduling(), "web")
    >>> scheduling_held(w)
    True
    >>> _ = apply_fault(w, ReleaseScheduling(), "web")
    >>> scheduling_held(w)
    False
    """
    return world in _SCHEDULING_HELD


def _forbidden(name: str) -> Outcome:
    return Outcome.rejected(403, "Forbidden", f'pods "{name}" is forbidden: '
                            "ValidatingAdmissionPolicy denied request (sts-props deny)")


def apply_fault(world: World, op: Op, set_name: str) -> Outcome | None:
    """Perform a fault op (or a user delete refused by a DenyPodWrites) on the model.

    Returns the op's outcome, or None when ``op`` is not one this function handles (the
    runner then performs it). Every fault changes only what the API would show; what the
    controller does about it follows in later syncs.

    >>> w = World("web")
    >>> apply_fault(w, KillPod(0), "web").describe()
    'rejected 404 NotFound: pod web-0 not found'
    """
    if isinstance(op, RestartController | RestartApiserver):
        # EX-1/EX-3: the controller's only state is in the API (no expectations); a restart
        # drops its queue, backoff and caches, and the next sync rebuilds them. The model's
        # sync is a pure function of the World, so nothing changes here.
        return Outcome.accepted()
    if isinstance(op, DenyPodWrites):
        _DENIED.setdefault(world, set()).add(f"{set_name}-{op.ordinal}")
        return Outcome.accepted()
    if isinstance(op, AllowPodWrites):
        _DENIED.pop(world, None)
        return Outcome.accepted()
    if isinstance(op, HoldScheduling):
        _SCHEDULING_HELD.add(world)  # only start_pod is affected (env_actions)
        return Outcome.accepted()
    if isinstance(op, ReleaseScheduling):
        _SCHEDULING_HELD.discard(world)
        return Outcome.accepted()
    pod_ops = DeletePod | KillPod | EvictPod | FlapReadiness | HoldTerminating \
        | ReleaseTerminating | FailNode
    if not isinstance(op, pod_ops):
        return None
    name = f"{set_name}-{op.ordinal}"
    pod = world.pods.get(name)
    if isinstance(op, DeletePod) and pod is None:
        return None  # the runner's 404
    if pod is None:
        return Outcome.rejected(404, "NotFound", f"pod {name} not found")
    # A DELETE reads the object before admission: NotFound comes first, then the policy.
    if isinstance(op, DeletePod | KillPod | EvictPod) and write_denied(world, name):
        return _forbidden(name)
    if isinstance(op, DeletePod):
        return None  # not denied: the runner's own delete
    if isinstance(op, KillPod):
        _force_delete(world, pod)
    elif isinstance(op, EvictPod):
        _delete(world, pod)  # a graceful delete with the pod's grace period
    elif isinstance(op, FlapReadiness):
        if pod.phase == "Running" and pod.ready and not pod.terminating:
            pod.ready, pod.ready_since = False, None
            world.touch(pod)
            pod.ready, pod.ready_since = True, world.now  # PR-4: the availability clock restarts
            world.touch(pod)
    elif isinstance(op, HoldTerminating):
        if HOLD_FINALIZER not in pod.finalizers:
            pod.finalizers.append(HOLD_FINALIZER)
            world.touch(pod)
    elif isinstance(op, ReleaseTerminating):
        if HOLD_FINALIZER in pod.finalizers:
            pod.finalizers.remove(HOLD_FINALIZER)
            world.touch(pod)  # a terminating pod is then removed by remove_pod (PR-2)
    else:
        return _fail_node(world, op, set_name)
    return Outcome.accepted()


def _force_delete(world: World, pod: Pod) -> None:
    """Grace period 0: the object goes at once, unless a finalizer holds it (PR-2)."""
    if pod.finalizers:
        _delete(world, pod)
    else:
        world.remove(pod)


def _fail_node(world: World, op: FailNode, set_name: str) -> Outcome:
    """The node of pod ``op.ordinal`` (and of ``op.colocated``) fails and is replaced.

    A Pending pod in the model is not scheduled (its claims are not bound), so it is on no
    node: 409. Each scheduled pod on the node is marked NotReady (node lifecycle controller),
    evicted (a graceful delete that no kubelet completes), then force-deleted by pod GC once
    the node object is deleted; a finalizer still holds it (PR-2). Pods of other ordinals
    (and Pending ones) are not on the node and are untouched.
    """
    name = f"{set_name}-{op.ordinal}"
    first = world.pods[name]
    if first.phase == "Pending":
        return Outcome.rejected(409, "Conflict", f"pod {name} is not scheduled to a node")
    for ordinal in (op.ordinal, *sorted(set(op.colocated) - {op.ordinal})):
        pod = world.pods.get(f"{set_name}-{ordinal}")
        if pod is None or pod.phase == "Pending":
            continue
        if pod.ready:
            pod.ready, pod.ready_since = False, None
            world.touch(pod)
        _delete(world, pod)
        if not pod.finalizers:
            world.remove(pod)
    return Outcome.accepted()
