"""Fault ops on a real cluster (issue 5): what the driver does for each, through the API.

Used by :class:`sts_props.cluster.driver.ClusterRun`; each executor returns the op's
:class:`~sts_props.outcome.Outcome` and the op as performed (``FailNode`` gains the ordinals
found on the failed node, which the model needs). API errors propagate as
``ApiException`` and become the op's outcome in the driver. Every pod write made through
``run.core`` (the node-failure agent's too) is noted in the op's ``writes`` by the driver; an
executor whose API call does not answer with the object notes it itself (``EvictPod``).

======================  ==========================================================================
op                      mechanism
======================  ==========================================================================
KillPod                 DELETE with ``gracePeriodSeconds: 0``
EvictPod                POST ``pods/<name>/eviction`` (policy/v1 Eviction: a graceful delete)
                        with the pod's uid as a precondition (the op's ``writes`` name it)
FlapReadiness           two ``pods/status`` patches: Ready False, then True (new transition time)
HoldTerminating         add the finalizer ``sts-props.io/hold`` (JSON patch)
ReleaseTerminating      remove it
FailNode                ``Cluster.fail_node`` on the pod's node. kwok and kwok-image
                        (:mod:`sts_props.cluster.kwok.nodes`): node annotated (kwok stops
                        playing its kubelet), tainted, unschedulable, Ready=False; its pods
                        marked NotReady and annotated (kwok no longer finishes their
                        deletion), deleted (taint eviction); node deleted; pods force-deleted
                        (pod GC's job, done at once instead of after its 40 s quarantine); a
                        fresh node created; pods a lagging scheduler binds to the dead node
                        later are force-deleted by the run's waits (``collect_strays``)
RestartController       ``Cluster.restart_component("kube-controller-manager")``
RestartApiserver        ``Cluster.restart_component("kube-apiserver")`` inside
                        ``ClusterRun.planned_outage()`` (API calls retried, watches reconnect
                        and relist); on kwok the port is guarded by the create lock and a
                        controller-manager or scheduler that lost its lease is restarted
DenyPodWrites           a ValidatingAdmissionPolicy + binding for this namespace that refuses
                        CREATE/DELETE of ``pods`` and ``pods/eviction`` with the denied names
                        (403 Forbidden); the driver waits until a dry-run create is refused
AllowPodWrites          both deleted; waits until a dry-run create is no longer refused; then
                        the set is nudged (:func:`nudge`) so that the controller syncs now
HoldScheduling          every node cordoned (``spec.unschedulable: true``): the scheduler leaves
                        new pods Pending (PodScheduled=False, Unschedulable); a node FailNode
                        creates meanwhile is created cordoned
ReleaseScheduling       the nodes this run cordoned are uncordoned (also at the end of a run)
======================  ==========================================================================

>>> sorted(EXECUTORS)[:3]
['allow_pod_writes', 'delete_pod', 'deny_pod_writes']
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sts_props.cluster.base import CREATED_BY_LABEL, CREATED_BY_VALUE, ClusterError
from sts_props.ops import (
    DeletePod,
    DenyPodWrites,
    EvictPod,
    FailNode,
    FlapReadiness,
    HoldTerminating,
    KillPod,
    Op,
    ReleaseTerminating,
)
from sts_props.outcome import Outcome
from sts_props.snapshot import HARNESS_PREFIX, HOLD_KEY, parse_pod_name, pod_name

if TYPE_CHECKING:
    from sts_props.cluster.driver import ClusterRun

#: how long an admission policy may take to be enforced (or lifted) by the apiserver
POLICY_DEADLINE = 30.0
DENY_MESSAGE = "sts-props: writes to this pod are denied (fault injection)"
#: the set's annotation :func:`nudge` writes, to have the controller sync at once
NUDGE_KEY = HARNESS_PREFIX + "writes-allowed"
#: seconds between nudges while a wait goes on under refused writes, and of quiet after a
#: claim deletion before one (:func:`nudge`)
NUDGE_EVERY = 2.0

Result = tuple[Outcome, Op]


def now_rfc3339() -> str:
    """The time now as the API writes it in conditions (RFC 3339, UTC, seconds)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _delete_pod(run: ClusterRun, op: Op) -> Result:
    assert isinstance(op, DeletePod)
    run.core.delete_namespaced_pod(pod_name(run.set_name, op.ordinal), run.namespace)
    return Outcome.accepted(), op


def _kill(run: ClusterRun, op: Op) -> Result:
    assert isinstance(op, KillPod)
    run.core.delete_namespaced_pod(pod_name(run.set_name, op.ordinal), run.namespace,
                                   grace_period_seconds=0)
    return Outcome.accepted(), op


def _evict(run: ClusterRun, op: Op) -> Result:
    """POST the eviction, with the uid just read as a precondition: the answer is a Status,
    not the pod, so this is how the op's ``writes`` can name the pod it deleted. A pod replaced
    in between (409, precondition failed) is read and evicted again: the op evicts whatever pod
    holds the name, as without the precondition."""
    from kubernetes.client.exceptions import ApiException

    assert isinstance(op, EvictPod)
    name = pod_name(run.set_name, op.ordinal)
    for attempt in range(5):
        pod = run.core.read_namespaced_pod(name, run.namespace)
        uid = pod.metadata.uid
        try:
            run.core.create_namespaced_pod_eviction(name, run.namespace, {
                "apiVersion": "policy/v1", "kind": "Eviction",
                "metadata": {"name": name, "namespace": run.namespace},
                "deleteOptions": {"preconditions": {"uid": uid}}})
        except ApiException as exc:
            if exc.status == 409 and "precondition" in str(exc.body or "").lower() \
                    and attempt < 4:
                continue
            raise
        if pod.metadata.deletion_timestamp is None:  # else its deletion began before this op
            # no resourceVersion comes back: "since" bounds the deletion's record from below
            run.note_write({"kind": "Pod", "name": name, "uid": uid, "rv": None,
                            "since": int(pod.metadata.resource_version or 0),
                            "verb": "delete"})
        break
    return Outcome.accepted(), op


def set_pod_ready(core: Any, namespace: str, name: str, value: bool) -> None:
    """Patch pod ``name``'s Ready and ContainersReady conditions through ``pods/status`` (also
    used by backends that play the node lifecycle controller, see :meth:`Cluster.fail_node`)."""
    status = "True" if value else "False"
    core.patch_namespaced_pod_status(name, namespace, {"status": {"conditions": [
        {"type": "Ready", "status": status, "lastTransitionTime": now_rfc3339()},
        {"type": "ContainersReady", "status": status, "lastTransitionTime": now_rfc3339()}]}})


def _flap(run: ClusterRun, op: Op) -> Result:
    assert isinstance(op, FlapReadiness)
    name = pod_name(run.set_name, op.ordinal)
    pod = run.core.read_namespaced_pod(name, run.namespace)
    ready = any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])
    if pod.status.phase == "Running" and ready and pod.metadata.deletion_timestamp is None:
        set_pod_ready(run.core, run.namespace, name, False)
        set_pod_ready(run.core, run.namespace, name, True)
    return Outcome.accepted(), op


def _finalizer(run: ClusterRun, op: Op) -> Result:
    from kubernetes.client.exceptions import ApiException

    assert isinstance(op, HoldTerminating | ReleaseTerminating)
    name = pod_name(run.set_name, op.ordinal)
    for attempt in range(10):
        pod = run.core.read_namespaced_pod(name, run.namespace)
        have = list(pod.metadata.finalizers or [])
        want = [f for f in have if f != HOLD_KEY]
        if isinstance(op, HoldTerminating):
            want.append(HOLD_KEY)
        if want == have:
            break
        # A JSON patch guarded by the resourceVersion, so that a concurrent write (kwok, the
        # controller) is not overwritten; when the guard fails, read again and retry.
        try:
            run.core.patch_namespaced_pod(name, run.namespace, [
                {"op": "test", "path": "/metadata/resourceVersion",
                 "value": pod.metadata.resource_version},
                {"op": "add", "path": "/metadata/finalizers", "value": want}])
            break
        except ApiException as exc:
            if exc.status not in (409, 422, 500) or attempt == 9:
                raise
    return Outcome.accepted(), op


def resolve_fail_node(run: ClusterRun, op: Op) -> Op:
    """``op`` with ``colocated`` filled in from the cluster: the set's other pods on the node
    of pod ``op.ordinal`` now. The driver records this before performing the op, so that the
    History says up front which pods the fault takes down (the checks read the invoke record).
    Unchanged if the pod does not exist or is on no node."""
    from kubernetes.client.exceptions import ApiException

    assert isinstance(op, FailNode)
    try:
        pod = run.core.read_namespaced_pod(pod_name(run.set_name, op.ordinal), run.namespace)
    except ApiException:
        return op
    if not pod.spec.node_name:
        return op
    found = run.core.list_namespaced_pod(
        run.namespace, field_selector=f"spec.nodeName={pod.spec.node_name}").items
    return FailNode(op.ordinal, _others(run, op.ordinal, [p.metadata.name for p in found]))


def _others(run: ClusterRun, ordinal: int, names: list[str]) -> tuple[int, ...]:
    out = []
    for victim in names:
        parsed = parse_pod_name(victim)
        if parsed is not None and parsed[0] == run.set_name and parsed[1] != ordinal:
            out.append(parsed[1])
    return tuple(sorted(out))


def _fail_node(run: ClusterRun, op: Op) -> Result:
    """See the module table; the returned op names the set's other pods found on the node."""
    assert isinstance(op, FailNode)
    name = pod_name(run.set_name, op.ordinal)
    pod = run.core.read_namespaced_pod(name, run.namespace)
    node = pod.spec.node_name
    if not node:
        return Outcome.rejected(409, "Conflict", f"pod {name} is not scheduled to a node"), op
    run.dead_nodes.add(node)
    victims, fresh = run.cluster.fail_node(run.core, node, run.namespace,
                                           cordoned=run.scheduling_held)
    run.cordoned.discard(node)
    if run.scheduling_held:  # the replacement was created cordoned: ReleaseScheduling undoes it
        run.cordoned.add(fresh)
    return Outcome.accepted(), FailNode(op.ordinal, _others(run, op.ordinal, victims))


def _restart(component: str) -> Callable[[ClusterRun, Op], Result]:
    def execute(run: ClusterRun, op: Op) -> Result:
        if component == "kube-apiserver":
            # the recorder's watches and our own API calls must ride out the outage
            with run.planned_outage():
                seconds = run.cluster.restart_component(component)
        else:
            seconds = run.cluster.restart_component(component)
        run.fault_seconds.append((op.kind, seconds))
        return Outcome.accepted(), op

    return execute


# -- write denial by ValidatingAdmissionPolicy -----------------------------------------------------
def _policy_name(run: ClusterRun) -> str:
    return f"sts-props-deny-{run.namespace}"


def _policy(run: ClusterRun) -> dict[str, Any]:
    names = ", ".join(f"'{n}'" for n in sorted(run.denied))
    return {
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": _policy_name(run), "labels": {CREATED_BY_LABEL: CREATED_BY_VALUE}},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {"resourceRules": [{
                "apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "DELETE"],
                "resources": ["pods", "pods/eviction"]}]},
            "validations": [{"expression": f"!(request.name in [{names}])",
                             "reason": "Forbidden", "message": DENY_MESSAGE}],
        },
    }


def _binding(run: ClusterRun) -> dict[str, Any]:
    return binding(_policy_name(run), run.namespace)


def binding(name: str, namespace: str) -> dict[str, Any]:
    """The ValidatingAdmissionPolicyBinding ``name`` of the policy ``name`` to ``namespace``
    only, refusing what the policy does not allow (``Deny``)."""
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": name, "labels": {CREATED_BY_LABEL: CREATED_BY_VALUE}},
        "spec": {"policyName": name, "validationActions": ["Deny"],
                 "matchResources": {"namespaceSelector": {"matchLabels": {
                     "kubernetes.io/metadata.name": namespace}}}},
    }


def refuses(run: ClusterRun, name: str, message: str) -> bool:
    """Does the apiserver refuse a (dry-run) create of pod ``name`` in the run's namespace now,
    with ``message`` (the message of one of the harness's policies)?"""
    from kubernetes.client.exceptions import ApiException

    body = {"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": "x"}]}}
    try:
        run.core.create_namespaced_pod(run.namespace, body, dry_run="All")
    except ApiException as exc:
        return exc.status == 403 and message in str(exc.body or "")
    return False


def await_policy(run: ClusterRun, refused_now: Callable[[], bool], refused: bool,
                 what: str) -> None:
    """Wait until ``refused_now()`` is ``refused``: the apiserver's policy informer has the
    policy (or its deletion); :class:`ClusterError` after :data:`POLICY_DEADLINE` seconds."""
    deadline = time.monotonic() + POLICY_DEADLINE
    while refused_now() != refused:
        run.check_cancelled()  # scenarios side by side: an interrupt does not wait 30 s here
        if time.monotonic() > deadline:
            state = "enforced" if refused else "lifted"
            raise ClusterError(f"{what} was not {state} within {POLICY_DEADLINE:.0f}s")
        time.sleep(0.1)  # the apiserver's policy informer has nothing we can watch for


def _await_policy(run: ClusterRun, name: str, refused: bool) -> None:
    await_policy(run, lambda: refuses(run, name, DENY_MESSAGE), refused,
                 f"the deny policy for {name}")


def _deny(run: ClusterRun, op: Op) -> Result:
    from kubernetes import client

    assert isinstance(op, DenyPodWrites)
    name = pod_name(run.set_name, op.ordinal)
    run.denied.add(name)
    # held as Any: the harness passes plain dicts (see sts_props.cluster.base.typed_apis)
    adm: Any = client.AdmissionregistrationV1Api(run.api)
    if len(run.denied) == 1:
        adm.create_validating_admission_policy(_policy(run))
        adm.create_validating_admission_policy_binding(_binding(run))
    else:
        live = adm.read_validating_admission_policy(_policy_name(run))
        body = _policy(run)
        body["metadata"]["resourceVersion"] = live.metadata.resource_version
        adm.replace_validating_admission_policy(_policy_name(run), body)
    _await_policy(run, name, True)
    return Outcome.accepted(), op


def _allow(run: ClusterRun, op: Op) -> Result:
    if run.denied:
        probe = sorted(run.denied)[0]
        remove_policy(run)
        _await_policy(run, probe, False)
        nudge(run)
    return Outcome.accepted(), op


def nudge(run: ClusterRun) -> None:
    """Annotate the set (``sts-props.io/writes-allowed``, a harness key that no comparison
    sees): an update event, which the controller's handler queues at once, whatever backoff
    its failed syncs built up.

    While a write it needs is refused every sync of the set fails, and each failure doubles
    the delay of the next retry (client-go's workqueue: 5 ms doubling to 1000 s; semantics
    section 3). Its own status writes and the pods' events sync it again, and fail again, so
    a few seconds of refusals can put the next retry minutes away: on kwok v1.37.2 a 6 s
    window was followed by 80 s without a sync once writes were allowed, and availability
    after minReadySeconds (a timed requeue, which a failed sync replaces by its backoff) was
    written 40 s late inside a window. The driver nudges the set when writes are allowed
    again and, while they are refused, every :data:`NUDGE_EVERY` seconds of a wait: what the
    controller does at a sync is under test, not when its backoff lets it sync.

    The driver also nudges once when a wait has seen nothing for NUDGE_EVERY seconds after a
    claim was deleted: a claim deletion queues no sync (EX-2), so a pod skipped for a stale
    claim (STO-12) would wait for an unrelated event (T-9,
    ``ClusterRun._after_a_claim_deletion``), and likewise after an orphan pod was deleted,
    which queues no sync either (``ClusterRun._after_a_silent_deletion``, F-6), and after a
    ControllerRevision was deleted (DeleteRevision): the controller has no handler on its
    revision informer."""
    from kubernetes.client.exceptions import ApiException

    try:
        run.apps.patch_namespaced_stateful_set(run.set_name, run.namespace, {"metadata": {
            "annotations": {NUDGE_KEY: str(time.time())}}})
    except ApiException as exc:
        if exc.status != 404:  # the set is gone: nothing to sync
            raise


def remove_policy(run: ClusterRun) -> None:
    """Delete this run's deny policy and binding, if any (also at the end of a run)."""
    if not run.denied:
        return
    run.denied.clear()
    delete_policy(run, _policy_name(run))


def delete_policy(run: ClusterRun, name: str) -> None:
    """Delete the ValidatingAdmissionPolicy ``name`` and its binding of the same name; one
    already gone is no error."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    adm: Any = client.AdmissionregistrationV1Api(run.api)
    for delete in (adm.delete_validating_admission_policy_binding,
                   adm.delete_validating_admission_policy):
        try:
            delete(name)
        except ApiException as exc:
            if exc.status != 404:
                raise


def release_finalizers(run: ClusterRun) -> None:
    """Remove the HoldTerminating finalizer from every pod of the run's namespace (at the end
    of a run: a pod held by it would keep the namespace from ever being deleted)."""
    from kubernetes.client.exceptions import ApiException

    for pod in run.core.list_namespaced_pod(run.namespace).items:
        have = list(pod.metadata.finalizers or [])
        if HOLD_KEY in have:
            try:
                run.core.patch_namespaced_pod(pod.metadata.name, run.namespace, [
                    {"op": "add", "path": "/metadata/finalizers",
                     "value": [f for f in have if f != HOLD_KEY]}])
            except ApiException as exc:
                if exc.status != 404:
                    raise


# -- scheduling hold (cordon) ---------------------------------------------------------------------
def _hold_scheduling(run: ClusterRun, op: Op) -> Result:
    """Cordon every node that is not cordoned yet (and remember which, to undo only those).

    Cordoning, not a scheduler restart or a taint: ``spec.unschedulable`` is what ``kubectl
    cordon`` sets, the scheduler's NodeUnschedulable plugin filters such nodes out, and
    running pods are untouched (no NoExecute effect). The scheduler sees the change through
    its informer; the driver's quiet period after the op (QUIET_SECONDS) covers that lag
    before the next op creates a pod.
    """
    run.scheduling_held = True
    for node in run.core.list_node().items:
        if not node.spec.unschedulable:
            run.core.patch_node(node.metadata.name, {"spec": {"unschedulable": True}})
            run.cordoned.add(node.metadata.name)
    return Outcome.accepted(), op


def _release_scheduling(run: ClusterRun, op: Op) -> Result:
    release_scheduling(run)
    return Outcome.accepted(), op


def release_scheduling(run: ClusterRun) -> None:
    """Uncordon the nodes this run cordoned (a no-op if none); also called at the end of a
    run, so that a run that fails while holding leaves no cordoned cluster behind."""
    from kubernetes.client.exceptions import ApiException

    run.scheduling_held = False
    for name in sorted(run.cordoned):
        try:
            run.core.patch_node(name, {"spec": {"unschedulable": False}})
        except ApiException as exc:
            if exc.status != 404:  # deleted meanwhile (a FailNode): nothing to undo
                raise
    run.cordoned.clear()


#: The cluster's executor of every fault kind, and of DeletePod (the driver performs the other
#: ops itself: ``sts_props.cluster.driver.DRIVER_OPS``).
EXECUTORS: dict[str, Callable[[ClusterRun, Op], Result]] = {
    "delete_pod": _delete_pod,
    "kill_pod": _kill,
    "evict_pod": _evict,
    "flap_readiness": _flap,
    "hold_terminating": _finalizer,
    "release_terminating": _finalizer,
    "fail_node": _fail_node,
    "restart_controller": _restart("kube-controller-manager"),
    "restart_apiserver": _restart("kube-apiserver"),
    "deny_pod_writes": _deny,
    "allow_pod_writes": _allow,
    "hold_scheduling": _hold_scheduling,
    "release_scheduling": _release_scheduling,
}
#: Ops part of which only the cluster can fill in, by kind: the driver records the op as
#: resolved (before performing it), and a differential run performs it on the cluster first
#: and gives the model the op as performed.
RESOLVERS: dict[str, Callable[[ClusterRun, Op], Op]] = {
    "fail_node": resolve_fail_node,
}
#: What a run undoes at its end (``ClusterRun.__exit__``), in order, whatever its faults left
#: behind; each is a no-op when there is nothing to undo.
CLEANUPS: tuple[Callable[[ClusterRun], None], ...] = (
    remove_policy,  # the deny policy is cluster-scoped
    release_scheduling,  # nodes are cluster-wide: the next run must find them schedulable
    release_finalizers,  # or the namespace could never finish deleting
)
