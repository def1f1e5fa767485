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
from collections.abc import Iterable
from dataclasses import dataclass

from sts_props.model.world import Claim, Pod, Revision, World

#: The garbage collector's finalizer for each deletion policy that keeps the set for a while
#: (metav1.FinalizerOrphanDependents, metav1.FinalizerDeleteDependents); Background has none.
GC_FINALIZERS = {"Orphan": "orphan", "Foreground": "foregroundDeletion"}


@dataclass(frozen=True)
class EnvAction:
    """One step of the environment; ``rule`` is the spec rule it plays out."""

    verb: str
    name: str
    rule: str


def _claims_in_use(world: World) -> set[str]:
    """PVC protection: a claim is held while a *scheduled* pod that mounts it exists.

    Upstream ``pvc_protection_controller.podUsesPVC`` only counts pods with ``spec.nodeName``
    set: "kubelet sees pods after they have been scheduled and it won't allow starting a pod
    referencing a PVC with a non-nil deletionTimestamp". In the model a pod is scheduled when it
    leaves Pending (``start_pod``), so a Pending pod never holds its claim, and a finished pod
    (Failed/Succeeded, still scheduled) does until the pod object is gone.
    """
    return {c for p in world.pods.values() if p.phase != "Pending" for c in p.volumes.values()}


def _pod_can_start(world: World, pod: Pod) -> bool:
    """The scheduler needs every claim to exist, be bound and not be in deletion."""
    for cname in pod.volumes.values():
        claim = world.claims.get(cname)
        if claim is None or claim.terminating or claim.phase != "Bound":
            return False
    return True


def _live_uids(world: World) -> set[str]:
    """The uids of every object in the World (an owner reference to any other is dangling)."""
    live = {o.uid for o in world.pods.values()}
    live.update(o.uid for o in world.claims.values())
    live.update(o.uid for o in world.revisions.values())
    if world.sts is not None:
        live.add(world.sts.uid)
    return live


def env_actions(world: World) -> list[EnvAction]:
    """What the environment can do now, in a stable order.

    Claims by name, then pods by name, then the garbage collector's work on the pods, claims
    and revisions (in the World's order), then the set's finalisation. The runner asks this
    before every step, so the scans below are written to be cheap (one pass per kind, the
    claims in use and the live uids worked out once) but decide exactly as the rules say.
    """
    out: list[EnvAction] = []
    pods, claims, revisions = world.pods, world.claims, world.revisions
    # The World keys each object by its name, so sorting the keys sorts the objects by name.
    in_use: set[str] | None = None
    for name in sorted(claims):
        claim = claims[name]
        if claim.deleted is None:
            if claim.phase == "Pending":
                out.append(EnvAction("bind_claim", name, "STO-3"))
            continue
        if in_use is None:
            in_use = _claims_in_use(world)
        if name not in in_use:
            out.append(EnvAction("remove_claim", name, "STO-10"))
    held = scheduling_held(world)
    for name in sorted(pods):
        pod = pods[name]
        if pod.deleted is None:
            if pod.phase == "Pending" and not held and _pod_can_start(world, pod):
                out.append(EnvAction("start_pod", name, "PR-3"))
        elif not pod.finalizers:
            out.append(EnvAction("remove_pod", name, "PR-2"))
    sts = world.sts
    # The set's deletion in progress: its dependents are orphaned or collected (DEL-1), and
    # once none refers to it any more, it goes.
    deleting = sts is not None and sts.deleted is not None
    finalizers = sts.finalizers if sts is not None else []
    live_set = sts.uid if sts is not None else None  # most refs name the set: tested first
    set_uid = sts.uid if sts is not None else ""
    live: set[str] | None = None  # the uids of every object, worked out when first needed
    owning = False
    groups: tuple[tuple[str, bool, Iterable[Pod | Claim | Revision]], ...] = (
        ("pod", True, pods.values()), ("claim", True, claims.values()),
        # Revisions are never marked for deletion: the GC removes them at once.
        ("revision", False, revisions.values()))
    for kind, can_terminate, objs in groups:
        for obj in objs:
            refs = obj.owner_refs
            if not refs:
                continue
            terminating = can_terminate and getattr(obj, "deleted", None) is not None
            # The garbage collector's DELETE of a pod goes through admission like anyone's:
            # while a DenyPodWrites covers the pod it is refused and the GC retries it with
            # backoff (its attemptToDelete queue), so the pod stays, and a Foreground deletion
            # of the set waits for it. Orphaning is a PATCH, which the policy does not refuse.
            refused = kind == "pod" and write_denied(world, obj.name)
            if not terminating:
                for r in refs:
                    if r.uid == live_set:
                        break
                    if live is None:
                        live = _live_uids(world)
                    if r.uid in live:
                        break
                else:  # every owner is gone
                    if not refused:
                        out.append(EnvAction(f"gc_{kind}", obj.name, "DEL-1"))
                    continue
            if not deleting:
                continue
            for r in refs:
                if r.uid == set_uid:
                    owning = True
                    if GC_FINALIZERS["Orphan"] in finalizers:
                        out.append(EnvAction(f"orphan_{kind}", obj.name, "DEL-1"))
                    elif (GC_FINALIZERS["Foreground"] in finalizers and not terminating
                          and not refused):
                        out.append(EnvAction(f"gc_{kind}", obj.name, "DEL-1"))
                    break
    # (An object collected above refers to no live uid, so not to the set: it never owns.)
    if sts is not None and deleting and not owning:
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
        mark_deleted(world, world.pods[name])
    elif verb == "gc_claim":
        mark_deleted(world, world.claims[name])
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


def mark_deleted(world: World, obj: Pod | Claim) -> None:
    """Start the deletion of ``obj`` (its deletionTimestamp), unless it already started."""
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


# -- fault state (issue 5) -----------------------------------------------------------------------
# The ops themselves are performed by sts_props.model.handlers; what they leave behind that the
# environment and the controller consult later is kept here.

#: Pod names the API refuses to create, delete or evict (DenyPodWrites), per World. Kept here,
#: not on the World, because only faults need it; a weak map dies with its World.
_DENIED: weakref.WeakKeyDictionary[World, set[str]] = weakref.WeakKeyDictionary()


def deny_pod_writes(world: World, pod: str) -> None:
    """From now on an admission policy refuses writes of pod ``pod`` (DenyPodWrites)."""
    _DENIED.setdefault(world, set()).add(pod)


def allow_pod_writes(world: World) -> None:
    """Lift every denial (AllowPodWrites)."""
    _DENIED.pop(world, None)


def write_denied(world: World, pod: str) -> bool:
    """Whether an admission policy refuses writes (create, delete, evict) of pod ``pod``.

    The controller's sync consults this: a refused create or delete is an API error, which
    ends the sync with an error (section 4 step 4, RP-1, RP-2, CD-*; retried with backoff,
    EX-2).

    >>> w = World("web")
    >>> deny_pod_writes(w, "web-1")
    >>> write_denied(w, "web-1"), write_denied(w, "web-0")
    (True, False)
    """
    return pod in _DENIED.get(world, ())


#: Worlds in which no pod is scheduled (HoldScheduling): Pending pods stay Pending.
_SCHEDULING_HELD: weakref.WeakSet[World] = weakref.WeakSet()


def hold_scheduling(world: World, held: bool) -> None:
    """Hold (HoldScheduling) or release (ReleaseScheduling) the scheduling of new pods."""
    if held:
        _SCHEDULING_HELD.add(world)
    else:
        _SCHEDULING_HELD.discard(world)


def scheduling_held(world: World) -> bool:
    """Whether a :class:`~sts_props.ops.HoldScheduling` is in force: the environment then
    starts no Pending pod (every node is cordoned). Nothing else changes: running pods keep
    running, and the controller's sync still sees its Pending pods (RP-3, STO-5; under
    OrderedReady it stops at the first one, RP-5). With nothing enabled a settle ends there,
    a quiescent state short of the 10.3 target until :class:`~sts_props.ops.ReleaseScheduling`.

    >>> w = World("web")
    >>> hold_scheduling(w, True)
    >>> scheduling_held(w)
    True
    >>> hold_scheduling(w, False)
    >>> scheduling_held(w)
    False
    """
    return world in _SCHEDULING_HELD
