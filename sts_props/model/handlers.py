"""How the reference model performs each op: one handler per op class, in :data:`HANDLERS`.

:meth:`ModelRun.apply <sts_props.model.runner.ModelRun.apply>` records the invocation, looks
the op's class up here, records the handler's :class:`~sts_props.outcome.Outcome`, then lets
the system move. A handler changes only what the API would show at once (an object created,
edited, marked for deletion; a fault's state); what the controller and the environment do
about it follows in later steps. This is the model's counterpart of the cluster's executor
table (:data:`sts_props.cluster.faults.EXECUTORS`); ``tests/test_op_catalogue.py`` checks that
every op class has an entry.

>>> from sts_props.model.runner import ModelRun
>>> from sts_props.ops import KillPod
>>> from sts_props.scenario import Manifests
>>> run = ModelRun(Manifests.seed())
>>> HANDLERS[KillPod](run, KillPod(0)).describe()
'rejected 404 NotFound: pod redis-0 not found'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sts_props.model.environment import (
    GC_FINALIZERS,
    allow_pod_writes,
    deny_pod_writes,
    hold_scheduling,
    mark_deleted,
    write_denied,
)
from sts_props.model.validation import (
    default_statefulset,
    drop_disabled_fields,
    validate_create,
    validate_update,
)
from sts_props.model.world import Pod, Revision, StatefulSet, template_key
from sts_props.ops import (
    OP_TYPES,
    AllowPodWrites,
    Create,
    DeletePod,
    DeletePVC,
    DeleteRevision,
    DeleteSet,
    DenyPodWrites,
    EvictPod,
    FailNode,
    FailPod,
    FlapReadiness,
    HoldNotReady,
    HoldScheduling,
    HoldTerminating,
    KillPod,
    MarkPodStale,
    Op,
    RecreateSet,
    RelabelPod,
    ReleasePod,
    ReleaseScheduling,
    ReleaseTerminating,
    ReplaceRevision,
    RestartApiserver,
    RestartController,
    RevisionRole,
    Settle,
    UnlabelPod,
    replaced_template,
)
from sts_props.outcome import Outcome
from sts_props.snapshot import HOLD_KEY, pod_name

if TYPE_CHECKING:
    from sts_props.model.runner import ModelRun

#: ``(run, op) -> outcome``: perform ``op`` on ``run.world``.
Handler = Callable[["ModelRun", Any], Outcome]
#: ``(run, op, pod) -> outcome`` for an op on an existing pod (see :func:`_on_pod`).
PodHandler = Callable[["ModelRun", Any, Pod], Outcome]


# -- the set and its spec ---------------------------------------------------------------------
def _create_set(run: ModelRun, with_service: bool) -> Outcome:
    w = run.world
    if w.sts is not None:
        return Outcome.rejected(409, "AlreadyExists",
                                f'statefulsets.apps "{run.set_name}" already exists')
    manifest = default_statefulset(run.editor.manifest, run.config)
    causes = validate_create(manifest, run.config)
    if causes:
        return Outcome.invalid(causes)
    if with_service:
        w.service = run.manifests.service
    w.add_set(StatefulSet(manifest))
    return Outcome.accepted()


def _create(run: ModelRun, op: Create) -> Outcome:
    """The scenario's manifests: the Service, then the StatefulSet."""
    return _create_set(run, with_service=True)


def _recreate(run: ModelRun, op: RecreateSet) -> Outcome:
    """The StatefulSet again, from the last accepted spec (DEL-2, DEL-3)."""
    return _create_set(run, with_service=False)


def _update_spec(run: ModelRun, op: Op) -> Outcome:
    """Every op that ``edits`` the spec: an update validated like the apiserver's (VAL-*)."""
    w = run.world
    if w.sts is None:
        return Outcome.rejected(404, "NotFound", f"statefulset {run.set_name} not found")
    proposed = run.editor.propose(op)
    new = default_statefulset(proposed, run.config)
    drop_disabled_fields(w.sts.manifest, new, run.config)
    causes = validate_update(w.sts.manifest, new, run.config)
    if causes:
        return Outcome.invalid(causes)
    if new.get("spec") != w.sts.manifest.get("spec"):
        w.sts.generation += 1  # ST-7: any semantic spec change bumps the generation
    w.sts.replace_manifest(new)  # default_statefulset made ``new`` a copy (stored as is)
    run.editor.accept(op, proposed)
    w.touch(w.sts)
    return Outcome.accepted()


def _delete_set(run: ModelRun, op: DeleteSet) -> Outcome:
    w = run.world
    if w.sts is None:
        return Outcome.rejected(404, "NotFound", f"statefulset {run.set_name} not found")
    run.rules["DEL-1"] += 1
    # Every DELETE replaces the garbage collector's finalizers with the policy's (Background:
    # none) and the set goes once none is left (deletionFinalizersForGarbageCollection in the
    # generic registry store). So a second DELETE of a set being deleted is not a no-op: a
    # Background one after a Foreground delete held up by a pod removes the set at once (seen
    # on kwok v1.37.2, a CI fault run), and the same policy again changes nothing.
    sts = w.sts
    policy = GC_FINALIZERS.get(op.propagation)
    wanted = [f for f in sts.finalizers if f not in GC_FINALIZERS.values()]
    wanted += [policy] if policy else []
    if sts.deleted is not None and set(wanted) == set(sts.finalizers):
        return Outcome.accepted()
    if not wanted:
        w.remove(sts)
        return Outcome.accepted()
    sts.finalizers = wanted
    if sts.deleted is None:
        sts.deleted = w.now
        # The apiserver bumps metadata.generation when it first sets deletionTimestamp on an
        # object that stays (markAsDeleting in the generic registry store); seen on kwok
        # v1.37.2: 2 -> 3 on a Foreground delete held up by a pod's finalizer.
        sts.generation += 1
    w.touch(sts)
    return Outcome.accepted()


def _delete_pvc(run: ModelRun, op: DeletePVC) -> Outcome:
    w = run.world
    templates = (run.editor.manifest.get("spec") or {}).get("volumeClaimTemplates") or []
    first = (templates[0].get("metadata") or {}).get("name") if templates else None
    cname = f"{first}-{run.set_name}-{op.ordinal}"
    claim = w.claims.get(cname) if first else None
    if claim is None:
        return Outcome.rejected(404, "NotFound", f"persistentvolumeclaim {cname} not found")
    if claim.deleted is None:
        claim.deleted = w.now
        w.touch(claim)
    return Outcome.accepted()


def _named_revision(run: ModelRun, role: RevisionRole) -> Revision | Outcome:
    """The revision the set's status names for ``role``, or the 404 that answers for it."""
    w = run.world
    if w.sts is None:
        return Outcome.rejected(404, "NotFound", f"statefulset {run.set_name} not found")
    status = w.sts.status
    name = status.current_revision if role == "current" else status.update_revision
    rev = w.revisions.get(name)
    if rev is None:
        return Outcome.rejected(
            404, "NotFound", f"controllerrevision {name or '(none named)'} not found")
    return rev


def _delete_revision(run: ModelRun, op: DeleteRevision) -> Outcome:
    """The revision the set's status names goes; nothing else changes until the set's next
    sync (REV-8, REV-7), which the model runs as it runs every sync. On a cluster the deletion
    queues no sync of its own (no handler on the revision informer); the driver has the set
    sync once its watch has shown the deletion (ClusterRun._delete_revision)."""
    rev = _named_revision(run, op.role)
    if isinstance(rev, Outcome):
        return rev
    run.rules["REV-8" if op.role == "current" else "REV-7"] += 1
    run.world.remove(rev)
    return Outcome.accepted()


def _replace_revision(run: ModelRun, op: ReplaceRevision) -> Outcome:
    """The revision the set's status names is deleted and written again by the harness under
    the same name, labels and number, with no owner: with the template plus an annotation
    ("other"), or with the same template in other bytes ("same"). The set's next
    sync adopts it (REV-6) and meets it in REV-7 and REV-5 (see :class:`ReplaceRevision`)."""
    rev = _named_revision(run, op.role)
    if isinstance(rev, Outcome):
        return rev
    # No rule is counted here: REV-5 counts when a sync meets the taken name (its create).
    w = run.world
    w.remove(rev)
    same = op.content == "same"
    template = rev.template if same else replaced_template(rev.template)
    w.add_revision(Revision(rev.name, rev.revision, template,
                            rev.key if same else template_key(template), dict(rev.labels), [],
                            reserialized=True))
    return Outcome.accepted()


def _settle(run: ModelRun, op: Settle) -> Outcome:
    """Run until quiescent; the runner records the quiescent point (``run.last_settle``)."""
    run.last_settle = run.settle()
    return Outcome.accepted()


# -- pods -------------------------------------------------------------------------------------
def _on_pod(handler: PodHandler, *, deletes: bool = False) -> Handler:
    """The handler of an op on pod ``op.ordinal``: 404 NotFound when there is no such pod;
    with ``deletes``, then 403 Forbidden while a DenyPodWrites covers it (a DELETE reads the
    object before admission: NotFound comes first, then the policy)."""

    def handle(run: ModelRun, op: Op) -> Outcome:
        assert op.target_ordinal is not None, f"{op.kind} addresses no pod"
        name = pod_name(run.set_name, op.target_ordinal)
        pod = run.world.pods.get(name)
        if pod is None:
            return Outcome.rejected(404, "NotFound", f"pod {name} not found")
        if deletes and write_denied(run.world, name):
            return Outcome.rejected(403, "Forbidden", f'pods "{name}" is forbidden: '
                                    "ValidatingAdmissionPolicy denied request (sts-props deny)")
        return handler(run, op, pod)

    return handle


def _delete_pod(run: ModelRun, op: DeletePod, pod: Pod) -> Outcome:
    if pod.deleted is None:
        pod.deleted = run.world.now
    run.world.touch(pod)
    return Outcome.accepted()


def _fail_pod(run: ModelRun, op: FailPod, pod: Pod) -> Outcome:
    pod.phase, pod.ready, pod.ready_since = op.phase, False, None
    run.world.touch(pod)
    return Outcome.accepted()


def _hold_not_ready(run: ModelRun, op: HoldNotReady, pod: Pod) -> Outcome:
    pod.held, pod.ready, pod.ready_since = True, False, None
    pod.annotations[HOLD_KEY] = "true"
    run.world.touch(pod)
    return Outcome.accepted()


def _release_pod(run: ModelRun, op: ReleasePod, pod: Pod) -> Outcome:
    if pod.held:
        pod.held = False
        pod.annotations.pop(HOLD_KEY, None)
        if pod.phase == "Running":
            pod.ready, pod.ready_since = True, run.world.now
    run.world.touch(pod)
    return Outcome.accepted()


def _relabel(run: ModelRun, op: UnlabelPod | RelabelPod | MarkPodStale, pod: Pod) -> Outcome:
    """A label patch (``op.labels``); what the controller makes of it (release, ID-17;
    adoption, ID-18; a replacement, ID-14) comes in its next sync."""
    selector = (run.editor.manifest.get("spec") or {}).get("selector") or {}
    pod.labels.update(op.labels(selector.get("matchLabels") or {}))
    run.world.touch(pod)  # recorded only if the labels changed, as the apiserver does
    return Outcome.accepted()


# -- faults (issue 5) -------------------------------------------------------------------------
def _kill(run: ModelRun, op: KillPod, pod: Pod) -> Outcome:
    """Grace period 0: the object goes at once, unless a finalizer holds it (PR-2)."""
    if pod.finalizers:
        mark_deleted(run.world, pod)
    else:
        run.world.remove(pod)
    return Outcome.accepted()


def _evict(run: ModelRun, op: EvictPod, pod: Pod) -> Outcome:
    mark_deleted(run.world, pod)  # a graceful delete with the pod's grace period
    return Outcome.accepted()


def _flap(run: ModelRun, op: FlapReadiness, pod: Pod) -> Outcome:
    w = run.world
    if pod.phase == "Running" and pod.ready and not pod.terminating:
        pod.ready, pod.ready_since = False, None
        w.touch(pod)
        pod.ready, pod.ready_since = True, w.now  # PR-4: the availability clock restarts
        w.touch(pod)
    return Outcome.accepted()


def _hold_terminating(run: ModelRun, op: HoldTerminating, pod: Pod) -> Outcome:
    if HOLD_KEY not in pod.finalizers:
        pod.finalizers.append(HOLD_KEY)
        run.world.touch(pod)
    return Outcome.accepted()


def _release_terminating(run: ModelRun, op: ReleaseTerminating, pod: Pod) -> Outcome:
    if HOLD_KEY in pod.finalizers:
        pod.finalizers.remove(HOLD_KEY)
        run.world.touch(pod)  # a terminating pod is then removed by remove_pod (PR-2)
    return Outcome.accepted()


def _fail_node(run: ModelRun, op: FailNode, first: Pod) -> Outcome:
    """The node of pod ``op.ordinal`` (and of ``op.colocated``) fails and is replaced.

    A Pending pod in the model is not scheduled (its claims are not bound), so it is on no
    node: 409. Each scheduled pod on the node is marked NotReady (node lifecycle controller),
    evicted (a graceful delete that no kubelet completes), then force-deleted by pod GC once
    the node object is deleted; a finalizer still holds it (PR-2). Pods of other ordinals
    (and Pending ones) are not on the node and are untouched.

    A pod such a finalizer holds is still bound to the deleted node, so failing "its node"
    again finds no node: 404, as on the cluster (seen in CI on kwok v1.37.2, 2026-12-06:
    hold_terminating, fail_node, fail_node of one pod).
    """
    w = run.world
    if first.phase == "Pending":
        return Outcome.rejected(409, "Conflict", f"pod {first.name} is not scheduled to a node")
    if first.node_lost:
        return Outcome.rejected(404, "NotFound",
                                f"the node of pod {first.name} failed before and is gone")
    for ordinal in (op.ordinal, *sorted(set(op.colocated) - {op.ordinal})):
        pod = w.pods.get(pod_name(run.set_name, ordinal))
        if pod is None or pod.phase == "Pending":
            continue
        if pod.ready:
            pod.ready, pod.ready_since = False, None
            w.touch(pod)
        mark_deleted(w, pod)
        if pod.finalizers:
            pod.node_lost = True
        else:
            w.remove(pod)
    return Outcome.accepted()


def _restart(run: ModelRun, op: RestartController | RestartApiserver) -> Outcome:
    """EX-1/EX-3: the controller's only state is in the API (no expectations); a restart
    drops its queue, backoff and caches, and the next sync rebuilds them. The model's sync is
    a pure function of the World, so nothing changes here."""
    return Outcome.accepted()


def _deny(run: ModelRun, op: DenyPodWrites) -> Outcome:
    deny_pod_writes(run.world, pod_name(run.set_name, op.ordinal))
    return Outcome.accepted()


def _allow(run: ModelRun, op: AllowPodWrites) -> Outcome:
    allow_pod_writes(run.world)
    return Outcome.accepted()


def _hold_scheduling(run: ModelRun, op: HoldScheduling) -> Outcome:
    hold_scheduling(run.world, True)  # only start_pod is affected (env_actions)
    return Outcome.accepted()


def _release_scheduling(run: ModelRun, op: ReleaseScheduling) -> Outcome:
    hold_scheduling(run.world, False)
    return Outcome.accepted()


#: The model's handler of every op class.
HANDLERS: dict[type[Op], Handler] = {
    Create: _create,
    RecreateSet: _recreate,
    **{cls: _update_spec for cls in OP_TYPES.values() if cls.edits is not None},
    DeleteSet: _delete_set,
    DeletePVC: _delete_pvc,
    DeleteRevision: _delete_revision,
    ReplaceRevision: _replace_revision,
    Settle: _settle,
    DeletePod: _on_pod(_delete_pod, deletes=True),
    FailPod: _on_pod(_fail_pod),
    HoldNotReady: _on_pod(_hold_not_ready),
    ReleasePod: _on_pod(_release_pod),
    UnlabelPod: _on_pod(_relabel),
    RelabelPod: _on_pod(_relabel),
    MarkPodStale: _on_pod(_relabel),
    KillPod: _on_pod(_kill, deletes=True),
    EvictPod: _on_pod(_evict, deletes=True),
    FlapReadiness: _on_pod(_flap),
    HoldTerminating: _on_pod(_hold_terminating),
    ReleaseTerminating: _on_pod(_release_terminating),
    FailNode: _on_pod(_fail_node),
    RestartController: _restart,
    RestartApiserver: _restart,
    DenyPodWrites: _deny,
    AllowPodWrites: _allow,
    HoldScheduling: _hold_scheduling,
    ReleaseScheduling: _release_scheduling,
}

__all__ = ["HANDLERS", "Handler"]
