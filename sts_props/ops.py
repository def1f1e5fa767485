"""The operation language shared by the model, every cluster backend and saved plans.

An :class:`Op` is a small frozen record. It means exactly the same thing to the reference model,
to a cluster executor and in a plan file, so adding an operation touches the strategy, the model
and the executors, nothing else.

>>> op = Scale(replicas=3)
>>> op_from_dict(op.to_dict()) == op
True
>>> op.describe()
'scale to 3'

Ops that address a pod use its *ordinal* (``DeletePod(ordinal=1)`` means ``<set>-1``), never a
name, so a plan survives a renamed set.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

TemplateField = Literal["image", "env", "annotation"]
StrategyType = Literal["RollingUpdate", "OnDelete"]
RetentionValue = Literal["Retain", "Delete"]
Propagation = Literal["Background", "Foreground", "Orphan"]
FailPhase = Literal["Failed", "Succeeded"]

#: Ops that change the StatefulSet's spec (and so go through API validation).
SPEC_OPS: tuple[str, ...] = (
    "scale",
    "set_template",
    "revert_template",
    "set_partition",
    "set_max_unavailable",
    "set_update_strategy",
    "set_ordinals_start",
    "set_retention",
    "set_min_ready_seconds",
)


@dataclass(frozen=True)
class Op:
    """Base class of every operation; ``kind`` is the name used in plan files."""

    kind: ClassVar[str] = ""

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

    def describe(self) -> str:
        return f"revert the template to version {self.version}"


@dataclass(frozen=True)
class SetPartition(Op):
    """Set ``updateStrategy.rollingUpdate.partition`` (an offset from ordinals.start, UPD-2)."""

    partition: int
    kind: ClassVar[str] = "set_partition"

    def describe(self) -> str:
        return f"set partition {self.partition}"


@dataclass(frozen=True)
class SetMaxUnavailable(Op):
    """Set ``updateStrategy.rollingUpdate.maxUnavailable`` (an int or a percentage string)."""

    value: int | str
    kind: ClassVar[str] = "set_max_unavailable"

    def describe(self) -> str:
        return f"set maxUnavailable {self.value}"


@dataclass(frozen=True)
class SetUpdateStrategy(Op):
    """Switch ``updateStrategy.type``; switching to OnDelete drops the rollingUpdate block."""

    type: StrategyType
    kind: ClassVar[str] = "set_update_strategy"

    def describe(self) -> str:
        return f"set update strategy {self.type}"


@dataclass(frozen=True)
class SetOrdinalsStart(Op):
    """Set ``spec.ordinals.start`` (ID-2, ORD-8)."""

    start: int
    kind: ClassVar[str] = "set_ordinals_start"

    def describe(self) -> str:
        return f"set ordinals.start {self.start}"


@dataclass(frozen=True)
class SetRetention(Op):
    """Set ``persistentVolumeClaimRetentionPolicy`` (STO-8..STO-16)."""

    when_deleted: RetentionValue
    when_scaled: RetentionValue
    kind: ClassVar[str] = "set_retention"

    def describe(self) -> str:
        return f"set PVC retention whenDeleted={self.when_deleted} whenScaled={self.when_scaled}"


@dataclass(frozen=True)
class SetMinReadySeconds(Op):
    """Set ``spec.minReadySeconds``."""

    seconds: int
    kind: ClassVar[str] = "set_min_ready_seconds"

    def describe(self) -> str:
        return f"set minReadySeconds {self.seconds}"


@dataclass(frozen=True)
class DeletePod(Op):
    """Delete pod ``<set>-<ordinal>`` gracefully, as ``kubectl delete pod`` does."""

    ordinal: int
    kind: ClassVar[str] = "delete_pod"

    def describe(self) -> str:
        return f"delete pod {self.ordinal}"


@dataclass(frozen=True)
class FailPod(Op):
    """Set the phase of pod ``ordinal`` to Failed or Succeeded (RP-1)."""

    ordinal: int
    phase: FailPhase = "Failed"
    kind: ClassVar[str] = "fail_pod"

    def describe(self) -> str:
        return f"make pod {self.ordinal} {self.phase}"


@dataclass(frozen=True)
class HoldNotReady(Op):
    """Make the current pod ``ordinal`` NotReady and keep it so until :class:`ReleasePod`.

    The hold belongs to that pod object: a replacement pod (after deletion) is not held.
    """

    ordinal: int
    kind: ClassVar[str] = "hold_not_ready"

    def describe(self) -> str:
        return f"hold pod {self.ordinal} NotReady"


@dataclass(frozen=True)
class ReleasePod(Op):
    """End a :class:`HoldNotReady`: the pod becomes Ready again."""

    ordinal: int
    kind: ClassVar[str] = "release_pod"

    def describe(self) -> str:
        return f"release pod {self.ordinal}"


@dataclass(frozen=True)
class DeleteSet(Op):
    """Delete the StatefulSet with the given propagation policy (DEL-1, ORD-9)."""

    propagation: Propagation = "Background"
    kind: ClassVar[str] = "delete_set"

    def describe(self) -> str:
        return f"delete the StatefulSet ({self.propagation})"


@dataclass(frozen=True)
class RecreateSet(Op):
    """Create the StatefulSet again from the last accepted spec (DEL-2, DEL-3)."""

    kind: ClassVar[str] = "recreate_set"

    def describe(self) -> str:
        return "re-create the StatefulSet"


@dataclass(frozen=True)
class DeletePVC(Op):
    """Delete the claim of pod ``ordinal`` for the first volumeClaimTemplate (STO-5)."""

    ordinal: int
    kind: ClassVar[str] = "delete_pvc"

    def describe(self) -> str:
        return f"delete the PVC of pod {self.ordinal}"


# -- faults (issue 5): infrastructure and API disruptions -----------------------------------------
@dataclass(frozen=True)
class KillPod(Op):
    """Force-delete pod ``ordinal`` (grace period 0): gone at once, no Terminating phase.

    What ``kubectl delete pod --grace-period=0 --force`` does; the controller sees a DELETE and
    recreates the slot (RP-2) with the same claims (STO-11).
    """

    ordinal: int
    kind: ClassVar[str] = "kill_pod"

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

    def describe(self) -> str:
        return f"flap the readiness of pod {self.ordinal}"


@dataclass(frozen=True)
class HoldTerminating(Op):
    """Put the finalizer ``sts-props.io/hold`` on pod ``ordinal``: once deleted it stays
    Terminating (PR-2) until :class:`ReleaseTerminating`."""

    ordinal: int
    kind: ClassVar[str] = "hold_terminating"

    def describe(self) -> str:
        return f"put a finalizer on pod {self.ordinal}"


@dataclass(frozen=True)
class ReleaseTerminating(Op):
    """Remove the finalizer of :class:`HoldTerminating` from pod ``ordinal``."""

    ordinal: int
    kind: ClassVar[str] = "release_terminating"

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

    def describe(self) -> str:
        return "restart kube-controller-manager"


@dataclass(frozen=True)
class RestartApiserver(Op):
    """Kill kube-apiserver and start it again (watches break and are re-established)."""

    kind: ClassVar[str] = "restart_apiserver"

    def describe(self) -> str:
        return "restart kube-apiserver"


@dataclass(frozen=True)
class DenyPodWrites(Op):
    """From now on the API refuses to create, delete or evict pod ``ordinal`` (HTTP 403), for
    everyone: a ValidatingAdmissionPolicy on the cluster. Lifted by :class:`AllowPodWrites`."""

    ordinal: int
    kind: ClassVar[str] = "deny_pod_writes"

    def describe(self) -> str:
        return f"deny writes to pod {self.ordinal}"


@dataclass(frozen=True)
class AllowPodWrites(Op):
    """Lift every :class:`DenyPodWrites`."""

    kind: ClassVar[str] = "allow_pod_writes"

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

    def describe(self) -> str:
        return "hold scheduling (cordon every node)"


@dataclass(frozen=True)
class ReleaseScheduling(Op):
    """End a :class:`HoldScheduling`: Pending pods are scheduled and start (a no-op if not
    held)."""

    kind: ClassVar[str] = "release_scheduling"

    def describe(self) -> str:
        return "release scheduling (uncordon every node)"


@dataclass(frozen=True)
class Settle(Op):
    """Wait until the system is quiescent (section 10.3); the quiescent state is compared."""

    kind: ClassVar[str] = "settle"

    def describe(self) -> str:
        return "settle"


OP_TYPES: dict[str, type[Op]] = {
    cls.kind: cls
    for cls in (
        Create,
        Scale,
        SetTemplate,
        RevertTemplate,
        SetPartition,
        SetMaxUnavailable,
        SetUpdateStrategy,
        SetOrdinalsStart,
        SetRetention,
        SetMinReadySeconds,
        DeletePod,
        FailPod,
        HoldNotReady,
        ReleasePod,
        DeleteSet,
        RecreateSet,
        DeletePVC,
        Settle,
        *(
            KillPod, EvictPod, FlapReadiness, HoldTerminating, ReleaseTerminating, FailNode,
            RestartController, RestartApiserver, DenyPodWrites, AllowPodWrites,
            HoldScheduling, ReleaseScheduling,
        ),
    )
}

#: The fault ops of issue 5 (``sts-props check --faults``), as plan-file kinds.
FAULT_OPS: tuple[str, ...] = (
    "kill_pod", "evict_pod", "flap_readiness", "hold_terminating", "release_terminating",
    "fail_node", "restart_controller", "restart_apiserver", "deny_pod_writes",
    "allow_pod_writes", "hold_scheduling", "release_scheduling",
)


class OpFormatError(ValueError):
    """A plan entry that is not a known op or has wrong fields; the message is one line that
    names the entry (``ops[3] (scale)`` when the index is known) and the field."""


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
    sts_props.ops.OpFormatError: ops[3] (scale): replicas: must be an integer, got 'zero'
    >>> op_from_dict({"op": "scale"})
    Traceback (most recent call last):
    ...
    sts_props.ops.OpFormatError: op (scale): missing field 'replicas'
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
