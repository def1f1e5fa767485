"""The operation language shared by the model, every cluster backend and saved plans.

An :class:`Op` is a small frozen record. It means exactly the same thing to the reference model,
to a cluster executor and in a plan file.

>>> op = Scale(replicas=3)
>>> op_from_dict(op.to_dict()) == op
True
>>> op.describe()
'scale to 3'

Ops that address a pod use its *ordinal* (``DeletePod(ordinal=1)`` means ``<set>-1``), never a
name, so a plan survives a renamed set.

**The op catalogue.** Every subclass of :class:`Op` registers itself in :data:`OP_TYPES` when it
is defined, and carries its *traits* as class attributes (``fault``, ``disruption``, ``edits``,
``starts_rollout``, ``deletes_pod``, ``disturbs``, ``release``, ``mid_operation``, ``shared``,
``breaks_watches``, ``unsupported``, ``colour``; see
:class:`Op`). Every list of kinds the rest of the harness needs is derived from them, never
written by hand:

>>> FAULT_OPS[:3], SPEC_OPS[:2]
(('kill_pod', 'evict_pod', 'flap_readiness'), ('scale', 'set_template'))
>>> kinds_where(lambda cls: cls.deletes_pod)
('delete_pod', 'fail_pod', 'kill_pod', 'evict_pod', 'fail_node')
>>> sorted(faults_performed_by("kwok") - faults_performed_by("k3s"))[:2]
['fail_node', 'flap_readiness']

What else an op needs (a generator recipe, a model handler, a cluster executor) lives next to
the code that uses it and is checked for every class by ``tests/test_op_catalogue.py``;
``docs/adding-an-op.md`` lists the places.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar, Literal

from sts_props.errors import OpFormatError as OpFormatError  # defined once there
from sts_props.snapshot import REVISION_LABEL

TemplateField = Literal["image", "env", "annotation"]
#: Recreate: v1.37's alpha strategy, valid only with the gate StatefulSetRecreateStrategy on
StrategyType = Literal["RollingUpdate", "OnDelete", "Recreate"]
RetentionValue = Literal["Retain", "Delete"]
Propagation = Literal["Background", "Foreground", "Orphan"]
FailPhase = Literal["Failed", "Succeeded"]
RevisionRole = Literal["current", "update"]
#: What a replaced ControllerRevision holds (:class:`ReplaceRevision`).
RevisionContent = Literal["other", "same"]
#: What of the StatefulSet an op edits (:attr:`Op.edits`).
Edits = Literal["spec", "template"]

#: Timeline colours (:attr:`Op.colour`): faults and disruptions, other changes, settles.
FAULT_COLOUR = "#c0392b"
CHANGE_COLOUR = "#2c6fbb"
SETTLE_COLOUR = "#999"

#: Every op class by kind, in the order the classes are defined; filled in by
#: :meth:`Op.__init_subclass__`, so an op class cannot be left out.
OP_TYPES: dict[str, type[Op]] = {}


@dataclass(frozen=True)
class Op:
    """Base class of every operation; ``kind`` is the name used in plan files.

    The class attributes below are the op's traits. Subclasses set them by plain assignment
    (``fault = True``); left alone they keep these defaults (``colour`` is derived).
    """

    kind: ClassVar[str] = ""
    #: An injected infrastructure or API fault of issue 5: generated in every scenario with
    #: ``sts-props check --faults``, in some by a cluster ``check`` with model selection
    #: (``--no-faults``: none), performed only by backends not named in ``unsupported``,
    #: marked ``fault: true`` in a cluster History.
    fault: ClassVar[bool] = False
    #: A pod or claim disruption of the base language (delete a pod, fail it, hold it
    #: NotReady and release it, delete a claim): generated unless disruptions are switched
    #: off (``op_sequences(faults=False)``).
    disruption: ClassVar[bool] = False
    #: What the op edits through the API: ``"spec"`` (an update of the StatefulSet, validated,
    #: applied by :class:`~sts_props.spec_edit.SpecEditor`) or ``"template"`` (a spec edit of
    #: the pod template: a new revision and a rollout, REV-1); None for other ops.
    edits: ClassVar[Edits | None] = None
    #: The op may give the set a new update revision, so a new rollout begins at it (the
    #: checks' rollout windows, CHK-5, CHK-6). Derived: True for template edits; an op that
    #: changes revisions another way (ReplaceRevision, REV-5) sets it.
    starts_rollout: ClassVar[bool] = False
    #: The pod the op targets (for FailNode also its ``colocated`` pods) is deleted by someone
    #: other than the controller's update and scale logic: the user, RP-1 replacing a Failed
    #: pod, a node's eviction.
    deletes_pod: ClassVar[bool] = False
    #: Until the next settle, pods may be unhealthy, missing or terminating because of the
    #: harness, not the controller, so checks that blame the controller for a pod that is
    #: down skip such windows (CHK-5). True for every fault unless it says otherwise.
    disturbs: ClassVar[bool] = False
    #: The kind of the op that ends what this one starts (``hold_not_ready`` ->
    #: ``release_pod``, ``deny_pod_writes`` -> ``allow_pod_writes``).
    release: ClassVar[str | None] = None
    #: The cluster driver does not wait for the previous op to settle before this one, so
    #: that it lands in the middle of that op's reconciliation (component restarts).
    mid_operation: ClassVar[bool] = False
    #: The op disturbs what every namespace of a cluster shares (the controller, the
    #: apiserver, a node, scheduling), not only its own scenario's namespace: with ``--jobs``
    #: above 1 a scenario that has it runs alone (:mod:`sts_props.concurrent_runs`), so that
    #: no other scenario meets a disturbance its model does not know.
    shared: ClassVar[bool] = False
    #: The harness's watches break and are listed again: until the next settle, a cluster
    #: History's order (by resourceVersion, etcd's order across kinds) may put what was
    #: created during the gap after what was created later (a relist records it at its
    #: current resourceVersion).
    breaks_watches: ClassVar[bool] = False
    #: Cluster backends (``sts_props.cluster.backends.CLUSTER_BACKENDS`` names) that cannot
    #: perform this fault, each with the reason; every other backend performs it.
    unsupported: ClassVar[Mapping[str, str]] = MappingProxyType({})
    #: Colour of the op's line in the timeline picture (``sts_props.report.timeline_svg``):
    #: :data:`FAULT_COLOUR` for faults and disruptions, else :data:`CHANGE_COLOUR`, unless
    #: the class sets it.
    colour: ClassVar[str] = CHANGE_COLOUR

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.kind or cls.kind in OP_TYPES:
            raise TypeError(f"op class {cls.__name__} needs a kind of its own, got "
                            f"{cls.kind!r}")
        if "disturbs" not in cls.__dict__ and cls.fault:
            cls.disturbs = True
        if "starts_rollout" not in cls.__dict__:
            cls.starts_rollout = cls.edits == "template"
        if "colour" not in cls.__dict__:
            cls.colour = FAULT_COLOUR if cls.fault or cls.disruption else CHANGE_COLOUR
        OP_TYPES[cls.kind] = cls

    def to_dict(self) -> dict[str, Any]:
        """Plain data for YAML/JSON: ``{"op": kind, **fields}``."""
        data: dict[str, Any] = {"op": self.kind}
        for f in dataclasses.fields(self):
            data[_camel(f.name)] = getattr(self, f.name)
        return data

    def describe(self) -> str:
        """A short human phrase, used in reports and progress output."""
        fields = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self))
        return f"{self.kind}({fields})" if fields else self.kind

    @property
    def target_ordinal(self) -> int | None:
        """The pod ordinal this op addresses, if any."""
        value = getattr(self, "ordinal", None)
        return value if isinstance(value, int) else None


#: Why some backends cannot perform a fault (:attr:`Op.unsupported`).
_NO_EXEC = ("restarting a control-plane process would need an exec into the container, which "
            "this backend does not do")
_UNTRIED_ON_K3S = ("not offered on k3s: never tried there (k3s cannot run on this project's CI "
                   "machine, README 'Container backends')")


@dataclass(frozen=True)
class Create(Op):
    """Apply the scenario's manifests: StorageClass, headless Service, then the StatefulSet."""

    kind: ClassVar[str] = "create"

    def describe(self) -> str:
        return "create the StatefulSet"


@dataclass(frozen=True)
class Scale(Op):
    """Set ``spec.replicas``."""

    replicas: int
    kind: ClassVar[str] = "scale"
    edits = "spec"

    def describe(self) -> str:
        return f"scale to {self.replicas}"


@dataclass(frozen=True)
class SetTemplate(Op):
    """Change the pod template: the first container's image, an env var, or an annotation.

    ``SetTemplate(field="env", value="b")`` sets ``STS_PROPS_ENV=b`` on the first container;
    ``field="annotation"`` sets the template annotation ``sts-props.io/note``.
    """

    field: TemplateField
    value: str
    kind: ClassVar[str] = "set_template"
    edits = "template"

    def describe(self) -> str:
        return f"set template {self.field} to {self.value!r}"


@dataclass(frozen=True)
class RevertTemplate(Op):
    """Put back the template that was in force after the ``version``-th template change.

    Version 0 is the template the set was created with; each accepted ``SetTemplate`` or
    ``RevertTemplate`` appends one version. This is a rollback (UPD-9, REV-7).
    """

    version: int
    kind: ClassVar[str] = "revert_template"
    edits = "template"

    def describe(self) -> str:
        return f"revert the template to version {self.version}"


@dataclass(frozen=True)
class SetPartition(Op):
    """Set ``updateStrategy.rollingUpdate.partition`` (an offset from ordinals.start, UPD-2)."""

    partition: int
    kind: ClassVar[str] = "set_partition"
    edits = "spec"

    def describe(self) -> str:
        return f"set partition {self.partition}"


@dataclass(frozen=True)
class SetMaxUnavailable(Op):
    """Set ``updateStrategy.rollingUpdate.maxUnavailable`` (an int or a percentage string)."""

    value: int | str
    kind: ClassVar[str] = "set_max_unavailable"
    edits = "spec"

    def describe(self) -> str:
        return f"set maxUnavailable {self.value}"


@dataclass(frozen=True)
class SetUpdateStrategy(Op):
    """Switch ``updateStrategy.type``; switching to OnDelete or Recreate drops the
    rollingUpdate block."""

    type: StrategyType
    kind: ClassVar[str] = "set_update_strategy"
    edits = "spec"

    def describe(self) -> str:
        return f"set update strategy {self.type}"


@dataclass(frozen=True)
class SetOrdinalsStart(Op):
    """Set ``spec.ordinals.start`` (ID-2, ORD-8)."""

    start: int
    kind: ClassVar[str] = "set_ordinals_start"
    edits = "spec"

    def describe(self) -> str:
        return f"set ordinals.start {self.start}"


@dataclass(frozen=True)
class SetRetention(Op):
    """Set ``persistentVolumeClaimRetentionPolicy`` (STO-8..STO-16)."""

    when_deleted: RetentionValue
    when_scaled: RetentionValue
    kind: ClassVar[str] = "set_retention"
    edits = "spec"

    def describe(self) -> str:
        return f"set PVC retention whenDeleted={self.when_deleted} whenScaled={self.when_scaled}"


@dataclass(frozen=True)
class SetMinReadySeconds(Op):
    """Set ``spec.minReadySeconds``."""

    seconds: int
    kind: ClassVar[str] = "set_min_ready_seconds"
    edits = "spec"

    def describe(self) -> str:
        return f"set minReadySeconds {self.seconds}"


@dataclass(frozen=True)
class SetHistoryLimit(Op):
    """Set ``spec.revisionHistoryLimit``: how many non-live ControllerRevisions the controller
    keeps (REV-11; a negative value keeps them all, REV-12). Mutable on every version the
    model covers (VAL-7)."""

    limit: int
    kind: ClassVar[str] = "set_history_limit"
    edits = "spec"

    def describe(self) -> str:
        return f"set revisionHistoryLimit {self.limit}"


@dataclass(frozen=True)
class DeletePod(Op):
    """Delete pod ``<set>-<ordinal>`` gracefully, as ``kubectl delete pod`` does."""

    ordinal: int
    kind: ClassVar[str] = "delete_pod"
    disruption = True
    deletes_pod = True
    disturbs = True

    def describe(self) -> str:
        return f"delete pod {self.ordinal}"


@dataclass(frozen=True)
class FailPod(Op):
    """Set the phase of pod ``ordinal`` to Failed or Succeeded (RP-1)."""

    ordinal: int
    phase: FailPhase = "Failed"
    kind: ClassVar[str] = "fail_pod"
    disruption = True
    deletes_pod = True  # RP-1 replaces it
    disturbs = True

    def describe(self) -> str:
        return f"make pod {self.ordinal} {self.phase}"


@dataclass(frozen=True)
class HoldNotReady(Op):
    """Make the current pod ``ordinal`` NotReady and keep it so until :class:`ReleasePod`.

    The hold belongs to that pod object: a replacement pod (after deletion) is not held.
    """

    ordinal: int
    kind: ClassVar[str] = "hold_not_ready"
    disruption = True
    disturbs = True
    release = "release_pod"

    def describe(self) -> str:
        return f"hold pod {self.ordinal} NotReady"


@dataclass(frozen=True)
class ReleasePod(Op):
    """End a :class:`HoldNotReady`: the pod becomes Ready again."""

    ordinal: int
    kind: ClassVar[str] = "release_pod"
    disruption = True

    def describe(self) -> str:
        return f"release pod {self.ordinal}"


#: The value :class:`UnlabelPod` gives each selector label (another one if the selector
#: itself asks for this value).
OUT_OF_SET = "out-of-set"


@dataclass(frozen=True)
class UnlabelPod(Op):
    """Relabel pod ``ordinal`` out of the set's selector, as one takes a pod out of service:
    each ``matchLabels`` key of the selector gets the value ``out-of-set``.

    The controller releases the pod (removes its ownerRef, ID-17); the orphan keeps its name,
    so the controller cannot create its ordinal (AlreadyExists, ID-13) and, under
    OrderedReady, no higher one, until :class:`RelabelPod` puts it back (adopted again,
    ID-18) or it is deleted. A selector with only ``matchExpressions`` still matches the
    pod: the op changes nothing then.

    >>> UnlabelPod(1).labels({"app": "web"}), UnlabelPod(1).describe()
    ({'app': 'out-of-set'}, 'relabel pod 1 out of the selector')
    """

    ordinal: int
    kind: ClassVar[str] = "unlabel_pod"
    disruption = True
    disturbs = True
    release = "relabel_pod"

    def labels(self, match_labels: Mapping[str, str]) -> dict[str, str]:
        """The labels to write, given the selector's ``matchLabels``."""
        return {k: OUT_OF_SET if v != OUT_OF_SET else OUT_OF_SET + "-2"
                for k, v in match_labels.items()}

    def describe(self) -> str:
        return f"relabel pod {self.ordinal} out of the selector"


@dataclass(frozen=True)
class RelabelPod(Op):
    """End an :class:`UnlabelPod`: pod ``ordinal`` gets the selector's ``matchLabels`` values
    back (the controller adopts it again, ID-18; a no-op for a pod that still matches).

    >>> RelabelPod(1).labels({"app": "web"}), RelabelPod(1).describe()
    ({'app': 'web'}, 'relabel pod 1 back into the selector')
    """

    ordinal: int
    kind: ClassVar[str] = "relabel_pod"
    disruption = True

    def labels(self, match_labels: Mapping[str, str]) -> dict[str, str]:
        """The labels to write, given the selector's ``matchLabels``."""
        return dict(match_labels)

    def describe(self) -> str:
        return f"relabel pod {self.ordinal} back into the selector"


#: The revision label value :class:`MarkPodStale` writes: the name of no ControllerRevision.
STALE_REVISION = "stale"


@dataclass(frozen=True)
class MarkPodStale(Op):
    """Overwrite pod ``ordinal``'s ``controller-revision-hash`` label with ``stale``, a value
    that names no revision (ID-14).

    The controller reads a pod's revision from that label only: the pod then counts as
    neither current nor updated (ST-4, ST-5), and a RollingUpdate replaces it like any pod not
    yet updated when it is at or above the partition (the update step's order and pace, UPD-1,
    UPD-4); OnDelete and a partition above it leave it so.

    >>> MarkPodStale(2).describe()
    "mark pod 2's revision label stale"
    """

    ordinal: int
    kind: ClassVar[str] = "mark_pod_stale"
    disruption = True

    def labels(self, match_labels: Mapping[str, str]) -> dict[str, str]:
        """The labels to write (the selector's ``matchLabels`` do not matter here)."""
        return {REVISION_LABEL: STALE_REVISION}

    def describe(self) -> str:
        return f"mark pod {self.ordinal}'s revision label stale"


@dataclass(frozen=True)
class DeleteSet(Op):
    """Delete the StatefulSet with the given propagation policy (DEL-1, ORD-9)."""

    propagation: Propagation = "Background"
    kind: ClassVar[str] = "delete_set"
    disturbs = True
    colour = FAULT_COLOUR  # it takes every pod of the set down

    def describe(self) -> str:
        return f"delete the StatefulSet ({self.propagation})"


@dataclass(frozen=True)
class RecreateSet(Op):
    """Create the StatefulSet again from the last accepted spec (DEL-2, DEL-3)."""

    kind: ClassVar[str] = "recreate_set"
    disturbs = True  # it adopts what the old set left, in whatever state

    def describe(self) -> str:
        return "re-create the StatefulSet"


@dataclass(frozen=True)
class DeletePVC(Op):
    """Delete the claim of pod ``ordinal`` for the first volumeClaimTemplate (STO-5)."""

    ordinal: int
    kind: ClassVar[str] = "delete_pvc"
    disruption = True
    disturbs = True

    def describe(self) -> str:
        return f"delete the PVC of pod {self.ordinal}"


@dataclass(frozen=True)
class DeleteRevision(Op):
    """Delete the ControllerRevision that the set's ``status.currentRevision`` (``role``
    "current") or ``status.updateRevision`` ("update") names, as a user pruning history might.

    The controller keeps no event handler on its revision informer, so the deletion queues no
    sync; at the set's next sync a missing current revision makes currentRevision :=
    updateRevision (REV-8: pods still labelled with the old one then count as neither current
    nor updated, and a pod below the partition deleted later comes back at the update
    revision), and a missing update revision is created again under the same name with the
    next number (REV-4, REV-7). 404 when the set or that revision does not exist.

    >>> DeleteRevision("current").describe()
    'delete the current ControllerRevision'
    """

    role: RevisionRole = "current"
    kind: ClassVar[str] = "delete_revision"
    disruption = True

    def describe(self) -> str:
        return f"delete the {self.role} ControllerRevision"


#: The pod-template annotation that tells a ReplaceRevision("other") revision's template from
#: the set's. Outside the harness prefix on purpose: pods built from that revision carry it,
#: and the comparison sees it.
REPLACED_ANNOTATION = "replaced.sts-props.io/revision"


def replaced_template(template: dict[str, Any]) -> dict[str, Any]:
    """``template`` (a pod template, or a revision's ``$patch: replace`` copy of one) with
    :data:`REPLACED_ANNOTATION` added: the other data of :class:`ReplaceRevision` ("other").

    >>> replaced_template({"metadata": {"labels": {"app": "web"}}})["metadata"]
    {'labels': {'app': 'web'}, 'annotations': {'replaced.sts-props.io/revision': 'other'}}
    """
    meta = dict(template.get("metadata") or {})
    meta["annotations"] = {**(meta.get("annotations") or {}), REPLACED_ANNOTATION: "other"}
    return {**template, "metadata": meta}


@dataclass(frozen=True)
class ReplaceRevision(Op):
    """Replace the ControllerRevision that the set's ``status.currentRevision`` (``role``
    "current") or ``status.updateRevision`` ("update") names by one the harness writes: the
    same name, labels and ``revision`` number, no owner, and as data

    * ("other") the template with one more annotation (:func:`replaced_template`): what a
      hash collision looks like to the controller, a name its template maps to held by other
      data. At its next sync the set adopts the revision (REV-6). If it was the update
      revision, none equals the template any more and the name the controller computes is
      taken by other data: collisionCount goes up by one and the revision is created under
      the next name (REV-5), so every pod is at an old revision and is rolled. A current
      revision stays current, and pods built from it (below the partition) carry the
      annotation (UPD-6).
    * ("same") the same template as an older client-go writes it (its metadata with
      ``creationTimestamp: null``, which newer ones leave out, or the other way round): equal
      in meaning, not byte for byte. With StatefulSetSemanticRevisionComparison
      (from 1.34.2 and 1.35) the newest revision counts as equal when it holds the set's
      template; without it, or for an older revision (a rollback), it is a collision as above
      (REV-5, REV-7).

    The controller keeps no event handler on its revision informer, so neither the deletion
    nor the creation queues a sync (as for DeleteRevision). 404 when the set or that revision
    does not exist.

    >>> ReplaceRevision("update", "other").describe()
    'replace the update ControllerRevision by one with other data'
    """

    role: RevisionRole = "update"
    content: RevisionContent = "other"
    kind: ClassVar[str] = "replace_revision"
    disruption = True
    starts_rollout = True

    def describe(self) -> str:
        data = "other data" if self.content == "other" else "the same template, other bytes"
        return f"replace the {self.role} ControllerRevision by one with {data}"


@dataclass(frozen=True)
class Settle(Op):
    """Wait until the system is quiescent (section 10.3); the quiescent state is compared."""

    kind: ClassVar[str] = "settle"
    colour = SETTLE_COLOUR

    def describe(self) -> str:
        return "settle"


# -- faults (issue 5): infrastructure and API disruptions -----------------------------------------
@dataclass(frozen=True)
class KillPod(Op):
    """Force-delete pod ``ordinal`` (grace period 0): gone at once, no Terminating phase.

    What ``kubectl delete pod --grace-period=0 --force`` does; the controller sees a DELETE and
    recreates the slot (RP-2) with the same claims (STO-11).
    """

    ordinal: int
    kind: ClassVar[str] = "kill_pod"
    fault = True
    deletes_pod = True

    def describe(self) -> str:
        return f"kill pod {self.ordinal} (grace 0)"


@dataclass(frozen=True)
class EvictPod(Op):
    """Evict pod ``ordinal`` through the ``pods/eviction`` subresource (a graceful delete).

    API-initiated eviction (``kubectl drain``) deletes the pod with its grace period; a
    kubelet's node-pressure eviction is :class:`FailPod` (phase Failed, reason Evicted, RP-1).
    """

    ordinal: int
    kind: ClassVar[str] = "evict_pod"
    fault = True
    deletes_pod = True

    def describe(self) -> str:
        return f"evict pod {self.ordinal}"


@dataclass(frozen=True)
class FlapReadiness(Op):
    """Pod ``ordinal`` goes Ready -> NotReady -> Ready quickly (a readiness probe blip).

    Ready again restarts the pod's availability clock (PR-4: lastTransitionTime moves), so
    with minReadySeconds > 0 it is unavailable for that long afterwards.
    """

    ordinal: int
    kind: ClassVar[str] = "flap_readiness"
    fault = True
    unsupported = {"k3s": "a real kubelet owns pod status: a Ready condition patched through "
                          "the API does not stay"}

    def describe(self) -> str:
        return f"flap the readiness of pod {self.ordinal}"


@dataclass(frozen=True)
class HoldTerminating(Op):
    """Put the finalizer ``sts-props.io/hold`` on pod ``ordinal``: once deleted it stays
    Terminating (PR-2) until :class:`ReleaseTerminating`."""

    ordinal: int
    kind: ClassVar[str] = "hold_terminating"
    fault = True
    release = "release_terminating"

    def describe(self) -> str:
        return f"put a finalizer on pod {self.ordinal}"


@dataclass(frozen=True)
class ReleaseTerminating(Op):
    """Remove the finalizer of :class:`HoldTerminating` from pod ``ordinal``."""

    ordinal: int
    kind: ClassVar[str] = "release_terminating"
    fault = True

    def describe(self) -> str:
        return f"remove the finalizer of pod {self.ordinal}"


@dataclass(frozen=True)
class FailNode(Op):
    """The node running pod ``ordinal`` fails and is replaced.

    In order: the node goes NotReady and is tainted; its pods are marked NotReady (node
    lifecycle controller) and evicted; with no kubelet they stay Terminating until the node is
    deleted and pod GC force-deletes them; a fresh node joins. ``colocated`` lists the other
    ordinals of this set on that node: a cluster fills it in when it performs the op (the
    scheduler decides placement); on the model it is part of the plan.
    """

    ordinal: int
    colocated: tuple[int, ...] = ()
    kind: ClassVar[str] = "fail_node"
    fault = True
    deletes_pod = True
    shared = True
    unsupported = {"k3s": "its one node runs everything: no node to fail and replace"}

    def describe(self) -> str:
        also = f" (with pods {', '.join(map(str, self.colocated))})" if self.colocated else ""
        return f"fail the node of pod {self.ordinal}{also}"

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["colocated"] = list(self.colocated)
        return data


@dataclass(frozen=True)
class RestartController(Op):
    """Kill kube-controller-manager (SIGKILL) and start it again from the stored state.

    The StatefulSet controller keeps no expectations (EX-3): a restart loses only its work
    queue, backoff and informer caches, which it rebuilds from the API (EX-1). The cluster
    driver does not wait for the previous op to settle first, so the kill lands mid-operation.
    """

    kind: ClassVar[str] = "restart_controller"
    fault = True
    mid_operation = True
    shared = True
    unsupported = {"kwok-image": _NO_EXEC, "k3s": _NO_EXEC}

    def describe(self) -> str:
        return "restart kube-controller-manager"


@dataclass(frozen=True)
class RestartApiserver(Op):
    """Kill kube-apiserver and start it again (watches break and are re-established)."""

    kind: ClassVar[str] = "restart_apiserver"
    fault = True
    mid_operation = True
    shared = True
    breaks_watches = True
    unsupported = {"kwok-image": _NO_EXEC, "k3s": _NO_EXEC}

    def describe(self) -> str:
        return "restart kube-apiserver"


@dataclass(frozen=True)
class DenyPodWrites(Op):
    """From now on the API refuses to create, delete or evict pod ``ordinal`` (HTTP 403), for
    everyone: a ValidatingAdmissionPolicy on the cluster. Lifted by :class:`AllowPodWrites`."""

    ordinal: int
    kind: ClassVar[str] = "deny_pod_writes"
    fault = True
    release = "allow_pod_writes"

    def describe(self) -> str:
        return f"deny writes to pod {self.ordinal}"


@dataclass(frozen=True)
class AllowPodWrites(Op):
    """Lift every :class:`DenyPodWrites`."""

    kind: ClassVar[str] = "allow_pod_writes"
    fault = True

    def describe(self) -> str:
        return "allow pod writes again"


@dataclass(frozen=True)
class HoldScheduling(Op):
    """From now on no new pod is scheduled: pods created meanwhile stay Pending, unscheduled,
    until :class:`ReleaseScheduling`. Pods already running are untouched.

    On a cluster every node is cordoned (``spec.unschedulable: true``); a node that joins
    meanwhile (:class:`FailNode` replaces one) joins cordoned. A Pending pod is on no node, so
    it does not hold its claims (PVC protection) and the controller re-creates a deleted one
    (STO-5). Under OrderedReady the controller stops at the first Pending pod (ORD-2).

    The recipe that deletes the claim of a Pending pod (``sts_props.strategies.ops.with_fault``):

    >>> for op in (HoldScheduling(), DeletePod(1), DeletePVC(1), ReleaseScheduling()):
    ...     print(op.describe())
    hold scheduling (cordon every node)
    delete pod 1
    delete the PVC of pod 1
    release scheduling (uncordon every node)
    """

    kind: ClassVar[str] = "hold_scheduling"
    fault = True
    release = "release_scheduling"
    shared = True
    unsupported = {"k3s": _UNTRIED_ON_K3S}

    def describe(self) -> str:
        return "hold scheduling (cordon every node)"


@dataclass(frozen=True)
class ReleaseScheduling(Op):
    """End a :class:`HoldScheduling`: Pending pods are scheduled and start (a no-op if not
    held)."""

    kind: ClassVar[str] = "release_scheduling"
    fault = True
    shared = True
    unsupported = {"k3s": _UNTRIED_ON_K3S}

    def describe(self) -> str:
        return "release scheduling (uncordon every node)"


def kinds_where(trait: Callable[[type[Op]], bool]) -> tuple[str, ...]:
    """The kinds whose class has ``trait``, in catalogue order.

    >>> kinds_where(lambda cls: cls.release is not None)
    ('hold_not_ready', 'unlabel_pod', 'hold_terminating', 'deny_pod_writes', 'hold_scheduling')
    """
    return tuple(kind for kind, cls in OP_TYPES.items() if trait(cls))


#: Ops that change the StatefulSet's spec (and so go through API validation).
SPEC_OPS: tuple[str, ...] = kinds_where(lambda cls: cls.edits is not None)
#: Ops that may start a new rollout (:attr:`Op.starts_rollout`): template edits (REV-1) and
#: ReplaceRevision (REV-5).
ROLLOUT_OPS: tuple[str, ...] = kinds_where(lambda cls: cls.starts_rollout)
#: The fault ops of issue 5 (``sts-props check --faults``), as plan-file kinds.
FAULT_OPS: tuple[str, ...] = kinds_where(lambda cls: cls.fault)
#: Ops that disturb what every namespace shares (:attr:`Op.shared`): a scenario with one runs
#: alone when scenarios run side by side.
SHARED_OPS: tuple[str, ...] = kinds_where(lambda cls: cls.shared)


def faults_performed_by(backend: str) -> frozenset[str]:
    """The fault kinds a cluster backend performs: all but those whose class names the backend
    in :attr:`Op.unsupported` (``Capabilities.faults`` of each backend).

    >>> sorted(set(FAULT_OPS) - faults_performed_by("kwok-image"))
    ['restart_apiserver', 'restart_controller']
    """
    return frozenset(kind for kind in FAULT_OPS if backend not in OP_TYPES[kind].unsupported)


#: the bounds of an int32, the type of every integer op field in the API (replicas,
#: partition, ordinals, seconds)
_INT32 = (-(2**31), 2**31 - 1)


def op_from_dict(data: Any, index: int | None = None) -> Op:
    """Parse ``{"op": "scale", "replicas": 3}`` back into ``Scale(replicas=3)``.

    Every field is checked against its annotation (an int is not a bool, a ``Literal`` takes
    only its values, a tuple comes as a list); ``index`` names the entry in messages:

    >>> op_from_dict({"op": "scale", "replicas": "zero"}, 3)
    Traceback (most recent call last):
    ...
    sts_props.errors.OpFormatError: ops[3] (scale): replicas: must be an integer, got 'zero'
    >>> op_from_dict({"op": "scale"})
    Traceback (most recent call last):
    ...
    sts_props.errors.OpFormatError: op (scale): missing field 'replicas'
    """
    where = "op" if index is None else f"ops[{index}]"
    if not isinstance(data, dict) or "op" not in data:
        got = _show(data) if not isinstance(data, dict) else "a mapping without one"
        raise OpFormatError(f"{where}: an op must be a mapping with an 'op' key, e.g. "
                            f"{{op: scale, replicas: 2}}; got {got}")
    kind = data["op"]
    cls = OP_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        known = ", ".join(sorted(OP_TYPES))
        raise OpFormatError(f"{where}: unknown op {_show(kind)}; known ops: {known}")
    where = f"{where} ({kind})"
    fields = {_camel(f.name): f for f in dataclasses.fields(cls)}
    for key in data:
        if key != "op" and key not in fields:
            raise OpFormatError(f"{where}: op {kind!r} has no field {_show(key)} (fields: "
                                f"{', '.join(fields) or 'none'})")
    hints = _field_types(cls)
    kwargs: dict[str, Any] = {}
    for key, f in fields.items():
        if key not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise OpFormatError(f"{where}: missing field {key!r}")
            continue
        kwargs[f.name] = _typed(data[key], hints[f.name], f"{where}: {key}")
    return cls(**kwargs)


def describe_op_record(data: Any) -> str:
    """How reports name the op of a History's op record: its :meth:`Op.describe`, or, for a
    record this version cannot parse (a History from another version, a hand edit), its kind.

    >>> describe_op_record({"op": "scale", "replicas": 5})
    'scale to 5'
    >>> describe_op_record({"op": "teleport", "to": "mars"})
    'teleport'
    """
    try:
        return op_from_dict(data).describe()
    except OpFormatError:
        return str(data.get("op", "?")) if isinstance(data, dict) else "?"


def _field_types(cls: type[Op]) -> dict[str, Any]:
    """The resolved annotations of an op class (this module uses postponed annotations)."""
    import typing

    cached = _HINTS.get(cls)
    if cached is None:
        cached = _HINTS[cls] = typing.get_type_hints(cls)
    return cached


_HINTS: dict[type[Op], dict[str, Any]] = {}


def _typed(value: Any, hint: Any, where: str) -> Any:
    """``value`` checked against ``hint`` (and a list turned into a tuple); OpFormatError if
    it does not fit."""
    import types
    import typing

    origin = typing.get_origin(hint)
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            if not _INT32[0] <= value <= _INT32[1]:
                raise OpFormatError(f"{where}: must be a 32-bit integer ({_INT32[0]}.."
                                    f"{_INT32[1]}), got {_show(value)}")
            return value
        raise OpFormatError(f"{where}: must be an integer, got {_show(value)}")
    if hint in (str, bool, float):
        ok = isinstance(value, hint) and not (hint is float and isinstance(value, bool))
        if ok:
            return value
        name = {str: "a string", bool: "true or false", float: "a number"}[hint]
        raise OpFormatError(f"{where}: must be {name}, got {_show(value)}")
    if origin is Literal:
        choices = typing.get_args(hint)
        if isinstance(value, str) and value in choices:
            return value
        raise OpFormatError(f"{where}: must be one of {', '.join(map(str, choices))}, got "
                            f"{_show(value)}")
    if origin in (types.UnionType, typing.Union):
        members = typing.get_args(hint)
        if value is None and type(None) in members:
            return None
        if isinstance(value, int) and not isinstance(value, bool) and int in members:
            return _typed(value, int, where)  # an integer: only its range can be wrong
        for member in members:
            try:
                return _typed(value, member, where)
            except OpFormatError:
                continue
        names = " or ".join(_NAMES.get(m, str(m)) for m in members)
        raise OpFormatError(f"{where}: must be {names}, got {_show(value)}")
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise OpFormatError(f"{where}: must be a list, got {_show(value)}")
        (item, *_) = typing.get_args(hint)
        return tuple(_typed(v, item, f"{where}[{i}]") for i, v in enumerate(value))
    return value  # an annotation this parser does not know: taken as it is


_NAMES: dict[Any, str] = {int: "an integer", str: "a string", bool: "true or false",
                          float: "a number", type(None): "null"}


def _show(value: Any) -> str:
    """A value in a one-line message: scalars as themselves (shortened), containers by type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, int) and abs(value) > 10**30:
        return f"a {value.bit_length()}-bit integer"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
