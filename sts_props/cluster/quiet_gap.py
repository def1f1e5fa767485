"""Hold the controller's writes while the harness replaces a ControllerRevision.

ReplaceRevision (:meth:`sts_props.cluster.driver.ClusterRun._replace_revision`) is a DELETE and
a POST of one name, a few ms apart: the API has no atomic replace (a revision's ``data`` is
immutable). A sync that reads the controller's revision cache between the two finds no
revision of that name: for the status's currentRevision it takes the update revision as
current, and writes so, for good (``getStatefulSetRevisions``); for the updateRevision it
creates the revision itself. Either is a race of the harness's op, which the model (it
replaces the revision in one step) cannot follow; seen once in CI on kwok v1.37.2
(2026-12-06), as a false divergence.

While the harness replaces the revision, a ValidatingAdmissionPolicy bound to the run's
namespace refuses every write through which such a sync could act on what it saw: pod
creation and deletion, controllerrevisions, statefulsets/status. Deleting a pod that is
already terminating stays allowed (kwok ends a pod's deletion that way, and gives up on a
403), and so does everything else (claims, pod updates, the set itself: nudges). The
harness's own DELETE and POST go as another user (impersonation of
:data:`REVISION_WRITER`), whom the policy lets through. A refused sync fails and is retried
with backoff; when writes are allowed again the set is nudged (:func:`faults.nudge`). The
policy is lifted only once the controller's cache holds the new revision, so no sync sees the
gap at all; what it costs is two policy round trips (enforced, lifted) per ReplaceRevision:
1.2-2.0 s for the op instead of about 0.5 s (kwok v1.37.2, 2026-12-06). Not on a cluster
somebody else runs (``Capabilities.admission_policies`` False, the kubeconfig backend, whose
guard touches nothing outside its namespaces): there the replacement goes unheld.

    with quiet_gap(run):
        send(api_client, "DELETE", path, headers=AS_WRITER)
        send(api_client, "POST", collection, body, headers=AS_WRITER)
        ...  # wait until the watch shows the new revision
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sts_props.cluster.base import CREATED_BY_LABEL, CREATED_BY_VALUE
from sts_props.cluster.faults import await_policy, binding, delete_policy, nudge, refuses

if TYPE_CHECKING:
    from sts_props.cluster.driver import ClusterRun

#: the user the harness's revision writes go as (the policy lets them through)
REVISION_WRITER = "sts-props:revision-writer"
#: headers of a request made as :data:`REVISION_WRITER` (system:masters, as the harness is on
#: the clusters it creates)
AS_WRITER = {"Impersonate-User": REVISION_WRITER, "Impersonate-Group": "system:masters"}
QUIET_MESSAGE = "sts-props: writes are held while the harness replaces a ControllerRevision"
#: the pod a dry-run create of which tells whether the policy is enforced
PROBE_POD = "sts-props-quiet-probe"

#: a pod may still be deleted when it is already terminating: kwok's end of a deletion
_ALLOWED = (f"request.userInfo.username == '{REVISION_WRITER}' || "
            "(request.operation == 'DELETE' && request.resource.resource == 'pods' && "
            "has(oldObject.metadata.deletionTimestamp))")


def policy_name(namespace: str) -> str:
    """The cluster-scoped name of the policy and binding for ``namespace``.

    >>> policy_name("sts-props-1")
    'sts-props-quiet-sts-props-1'
    """
    return f"sts-props-quiet-{namespace}"


def _policy(namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": policy_name(namespace),
                     "labels": {CREATED_BY_LABEL: CREATED_BY_VALUE}},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {"resourceRules": [
                {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "DELETE"],
                 "resources": ["pods"]},
                {"apiGroups": ["apps"], "apiVersions": ["v1"],
                 "operations": ["CREATE", "UPDATE", "DELETE"],
                 "resources": ["controllerrevisions"]},
                {"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["UPDATE"],
                 "resources": ["statefulsets/status"]},
            ]},
            "validations": [{"expression": _ALLOWED, "reason": "Forbidden",
                             "message": QUIET_MESSAGE}],
        },
    }


@contextmanager
def quiet_gap(run: ClusterRun) -> Iterator[None]:
    """Writes held (see the module) for the body; the set nudged after. The policy goes
    whatever the body raises, Ctrl-C included."""
    from kubernetes import client

    adm: Any = client.AdmissionregistrationV1Api(run.api)
    ns = run.namespace

    def held() -> bool:
        return refuses(run, PROBE_POD, QUIET_MESSAGE)

    try:
        adm.create_validating_admission_policy(_policy(ns))
        adm.create_validating_admission_policy_binding(binding(policy_name(ns), ns))
        await_policy(run, held, True, "the policy holding writes during ReplaceRevision")
        yield
    finally:
        delete_policy(run, policy_name(ns))
    await_policy(run, held, False, "the policy holding writes during ReplaceRevision")
    nudge(run)
