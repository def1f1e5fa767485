"""API defaulting and validation of StatefulSets (section 8: VAL-1..VAL-8).

Each :class:`~sts_props.outcome.Cause` carries the field path and cause type the apiserver would
return, and the spec rule that predicts it.

>>> from sts_props.scenario import Manifests
>>> from sts_props.model.config import ModelConfig
>>> sts = Manifests.seed().statefulset
>>> validate_create(default_statefulset(sts, ModelConfig()), ModelConfig())
[]
>>> sts["spec"]["replicas"] = -1
>>> [(c.field, c.rule) for c in validate_create(default_statefulset(sts, ModelConfig()),
...                                             ModelConfig())]
[('spec.replicas', 'VAL-5')]
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass
from typing import Any

from sts_props.model.config import ModelConfig
from sts_props.outcome import Cause

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_PERCENT = re.compile(r"^([0-9]+)%$")

MUTABLE_SPEC_FIELDS = (
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
)


def default_statefulset(manifest: dict[str, Any], config: ModelConfig) -> dict[str, Any]:
    """Apply apps/v1 defaults (VAL-1..VAL-3) to a copy of ``manifest``.

    As in upstream ``SetDefaults_StatefulSet``, an explicit ``null`` (a nil pointer) or, for
    string fields, ``""`` (Go's zero value) is the same as an absent field:

    >>> d = default_statefulset({"spec": {"replicas": None, "podManagementPolicy": ""}},
    ...                         ModelConfig())
    >>> d["spec"]["replicas"], d["spec"]["podManagementPolicy"]
    (1, 'OrderedReady')
    >>> "minReadySeconds" in default_statefulset({"spec": {"minReadySeconds": 0}}, ModelConfig())
    False
    """
    m = copy.deepcopy(manifest)
    spec = _default(m, "spec", {})
    _default(spec, "replicas", 1)
    _default(spec, "revisionHistoryLimit", 10)
    _default(spec, "podManagementPolicy", "OrderedReady")
    strategy = _default(spec, "updateStrategy", {})
    if not strategy.get("type"):
        # VAL-2: only an *empty* type creates the rollingUpdate block; VAL-3: an explicit
        # RollingUpdate without a block stays without one.
        strategy["type"] = "RollingUpdate"
        _default(strategy, "rollingUpdate", {})
    block = strategy.get("rollingUpdate")
    if isinstance(block, dict):
        _default(block, "partition", 0)
        if config.gate("MaxUnavailableStatefulSet"):
            _default(block, "maxUnavailable", 1)
        else:
            # UPD-11: with the gate off the apiserver drops the field (on create; the update
            # case is handled in drop_disabled_fields).
            block.pop("maxUnavailable", None)
    if config.gate("StatefulSetAutoDeletePVC"):
        policy = _default(spec, "persistentVolumeClaimRetentionPolicy", {})
        _default(policy, "whenDeleted", "Retain")
        _default(policy, "whenScaled", "Retain")
    pod_spec = _default(_default(spec, "template", {}), "spec", {})
    _default(pod_spec, "restartPolicy", "Always")  # core SetDefaults_PodSpec
    if spec.get("minReadySeconds", 1) in (0, None):
        # A plain int32 with omitempty: 0 (or null) is stored as absent, so setting it to 0
        # when it was absent changes nothing and must not bump the generation (ST-7).
        del spec["minReadySeconds"]
    return m


def _default(mapping: dict[str, Any], key: str, value: Any) -> Any:
    """Set ``mapping[key]`` to ``value`` if it is absent, null or "" (a nil pointer or an empty
    string field in Go); return the resulting value."""
    current = mapping.get(key)
    if current is None or current == "":
        mapping[key] = value
    return mapping[key]


def validate_create(sts: dict[str, Any], config: ModelConfig) -> list[Cause]:
    """VAL-4..VAL-6 on a defaulted StatefulSet.

    ``sts`` must be well-typed (:func:`type_problems` finds nothing): a wrong type is a decode
    error (400) that comes before validation, and these checks do not look for it.
    """
    causes: list[Cause] = []
    meta = sts.get("metadata") or {}
    name = meta.get("name")
    if not name:
        causes.append(Cause("metadata.name", "FieldValueRequired",
                            "name or generateName is required", "VAL-4"))
    else:
        # VAL-4: a DNS-1123 label. As upstream's IsDNS1123Label, the length and the characters
        # are separate errors, so a long name is blamed on its length.
        if len(str(name)) > 63:
            causes.append(Cause("metadata.name", "FieldValueInvalid",
                                f"must be no more than 63 characters (a DNS-1123 label), "
                                f"got {len(str(name))}", "VAL-4"))
        if not DNS1123_LABEL.match(str(name)):
            causes.append(Cause("metadata.name", "FieldValueInvalid",
                                "a lowercase RFC 1123 label must consist of lower case "
                                "alphanumeric characters or '-', and must start and end with "
                                "an alphanumeric character", "VAL-4"))
    causes += _validate_spec(sts.get("spec") or {}, config)
    return causes


def _int_field(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _validate_spec(spec: dict[str, Any], config: ModelConfig, updating: bool = False
                   ) -> list[Cause]:
    causes: list[Cause] = []

    def bad(path: str, kind: str, msg: str, rule: str = "VAL-5") -> None:
        causes.append(Cause(path, kind, msg, rule))

    def non_negative(path: str, value: Any) -> None:
        # A non-integer cannot reach here from a file or a plan (type_problems refuses it);
        # say what it is anyway rather than blame its sign.
        if not _int_field(value):
            bad(path, "FieldValueInvalid", f"must be an integer, got {show_value(value)}")
        elif value < 0:
            bad(path, "FieldValueInvalid", "must be greater than or equal to 0")

    policy = spec.get("podManagementPolicy")
    if not policy:
        bad("spec.podManagementPolicy", "FieldValueRequired", "Required value")
    elif policy not in ("OrderedReady", "Parallel"):
        bad("spec.podManagementPolicy", "FieldValueInvalid",
            "must be 'OrderedReady' or 'Parallel'")

    strategy = spec.get("updateStrategy") or {}
    stype = strategy.get("type")
    block = strategy.get("rollingUpdate")
    if stype not in ("RollingUpdate", "OnDelete"):
        bad("spec.updateStrategy.type", "FieldValueInvalid",
            "must be 'RollingUpdate' or 'OnDelete'")
    if stype == "OnDelete" and block is not None:
        bad("spec.updateStrategy.rollingUpdate", "FieldValueInvalid",
            "only allowed for updateStrategy 'RollingUpdate'")
    if stype == "RollingUpdate" and isinstance(block, dict):
        non_negative("spec.updateStrategy.rollingUpdate.partition", block.get("partition", 0))
        if "maxUnavailable" in block:
            causes += _validate_max_unavailable(block["maxUnavailable"])

    non_negative("spec.replicas", spec.get("replicas", 1))
    non_negative("spec.minReadySeconds", spec.get("minReadySeconds", 0))
    ordinals = spec.get("ordinals")
    if ordinals is not None:
        non_negative("spec.ordinals.start", ordinals.get("start", 0))

    retention = spec.get("persistentVolumeClaimRetentionPolicy") or {}
    for key in ("whenDeleted", "whenScaled"):
        value = retention.get(key)
        if value is not None and value not in ("Retain", "Delete"):
            bad(f"spec.persistentVolumeClaimRetentionPolicy.{key}", "FieldValueNotSupported",
                'supported values: "Retain", "Delete"')

    service = spec.get("serviceName") or ""
    if service and config.validates_service_name and not updating \
            and not DNS1123_LABEL.match(service):
        bad("spec.serviceName", "FieldValueInvalid", "must be a DNS-1123 label", "VAL-6")

    causes += _validate_selector_and_template(spec, config)
    if config.validates_template_at_create and not updating:
        causes += _validate_claim_templates(spec.get("volumeClaimTemplates") or [])
    return causes


def _validate_max_unavailable(value: Any) -> list[Cause]:
    path = "spec.updateStrategy.rollingUpdate.maxUnavailable"
    if _int_field(value):
        if value == 0:
            return [Cause(path, "FieldValueInvalid", "cannot be 0", "VAL-5")]
        if value < 0:
            return [Cause(path, "FieldValueInvalid", "must be greater than or equal to 0",
                          "VAL-5")]
        return []
    if isinstance(value, str):
        m = _PERCENT.match(value)
        if m is None:
            # The apiserver reports both the format error and "cannot be 0" here.
            return [Cause(path, "FieldValueInvalid", "a valid percent string must be a numeric "
                          "string followed by an ending '%'", "VAL-5"),
                    Cause(path, "FieldValueInvalid", "cannot be 0", "VAL-5")]
        pct = int(m.group(1))
        if pct == 0:
            return [Cause(path, "FieldValueInvalid", "cannot be 0", "VAL-5")]
        if pct > 100:
            return [Cause(path, "FieldValueInvalid", "must not be greater than 100%", "VAL-5")]
        return []
    return [Cause(path, "FieldValueInvalid", "must be an integer or a percentage", "VAL-5")]


def _validate_labels(labels: Any, path: str) -> list[Cause]:
    out: list[Cause] = []
    for key, value in (labels or {}).items():
        name = str(key).rsplit("/", 1)[-1]
        if not name or len(name) > 63 or not _LABEL_NAME.match(name):
            out.append(Cause(path, "FieldValueInvalid", f"invalid label key {key!r}", "VAL-5"))
        if not isinstance(value, str) or len(value) > 63 or not _LABEL_VALUE.match(value):
            out.append(Cause(path, "FieldValueInvalid", f"invalid label value {value!r}", "VAL-5"))
    return out


def _validate_selector_and_template(spec: dict[str, Any], config: ModelConfig) -> list[Cause]:
    causes: list[Cause] = []
    selector = spec.get("selector")
    template = spec.get("template") or {}
    tmeta = template.get("metadata") or {}
    tlabels = tmeta.get("labels") or {}
    if selector is None:
        causes.append(Cause("spec.selector", "FieldValueRequired", "Required value", "VAL-5"))
    else:
        match = selector.get("matchLabels") or {}
        exprs = selector.get("matchExpressions") or []
        if not match and not exprs:
            causes.append(Cause("spec.selector", "FieldValueInvalid",
                                "empty selector is invalid for statefulset", "VAL-5"))
        elif not _selector_matches(selector, tlabels):
            causes.append(Cause("spec.template.metadata.labels", "FieldValueInvalid",
                                "`selector` does not match template `labels`", "VAL-5"))
        causes += _validate_labels(match, "spec.selector.matchLabels")
    causes += _validate_labels(tlabels, "spec.template.metadata.labels")
    pod_spec = template.get("spec") or {}
    restart = pod_spec.get("restartPolicy", "Always")
    if restart != "Always":
        causes.append(Cause("spec.template.spec.restartPolicy", "FieldValueNotSupported",
                            'supported values: "Always"', "VAL-5"))
    if pod_spec.get("activeDeadlineSeconds") is not None:
        causes.append(Cause("spec.template.spec.activeDeadlineSeconds", "FieldValueForbidden",
                            "activeDeadlineSeconds in StatefulSet is not Supported", "VAL-5"))
    containers = pod_spec.get("containers") or []
    if not containers:
        causes.append(Cause("spec.template.spec.containers", "FieldValueRequired",
                            "Required value", "VAL-5"))
    seen: set[str] = set()
    for i, c in enumerate(containers):
        cname = c.get("name") or ""
        path = f"spec.template.spec.containers[{i}]"
        if not cname:
            causes.append(Cause(f"{path}.name", "FieldValueRequired", "Required value", "VAL-5"))
        elif not DNS1123_LABEL.match(cname) or len(cname) > 63:
            causes.append(Cause(f"{path}.name", "FieldValueInvalid", "must be a DNS-1123 label",
                                "VAL-5"))
        elif cname in seen:
            causes.append(Cause(f"{path}.name", "FieldValueDuplicate", "Duplicate value",
                                "VAL-5"))
        seen.add(cname)
        if config.validates_template_at_create and not (c.get("image") or "").strip():
            causes.append(Cause(f"{path}.image", "FieldValueRequired", "Required value",
                                "VAL-6"))
    return causes


def _validate_claim_templates(templates: list[Any]) -> list[Cause]:
    causes: list[Cause] = []
    for i, t in enumerate(templates):
        path = f"spec.volumeClaimTemplates[{i}]"
        tmeta = t.get("metadata") or {}
        if not tmeta.get("name"):
            causes.append(Cause(f"{path}.metadata.name", "FieldValueRequired", "Required value",
                                "VAL-6"))
        tspec = t.get("spec") or {}
        if not tspec.get("accessModes"):
            causes.append(Cause(f"{path}.spec.accessModes", "FieldValueRequired",
                                "at least 1 access mode is required", "VAL-6"))
        storage = ((tspec.get("resources") or {}).get("requests") or {}).get("storage")
        if storage is None:
            causes.append(Cause(f"{path}.spec.resources[storage]", "FieldValueRequired",
                                "Required value", "VAL-6"))
    return causes


def _selector_matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        present = key in labels
        if op == "In" and (not present or labels[key] not in values):
            return False
        if op == "NotIn" and present and labels[key] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def selector_matches(sts: dict[str, Any], labels: dict[str, str]) -> bool:
    """Does the set's selector match these labels? An absent/empty selector matches nothing."""
    selector = (sts.get("spec") or {}).get("selector") or {}
    if not selector.get("matchLabels") and not selector.get("matchExpressions"):
        return False
    return _selector_matches(selector, labels)


def drop_disabled_fields(old: dict[str, Any], new: dict[str, Any], config: ModelConfig) -> None:
    """UPD-11 on update: with the gate off, maxUnavailable is dropped unless the old used it."""
    if config.gate("MaxUnavailableStatefulSet"):
        return
    old_block = ((old.get("spec") or {}).get("updateStrategy") or {}).get("rollingUpdate") or {}
    new_block = ((new.get("spec") or {}).get("updateStrategy") or {}).get("rollingUpdate")
    if isinstance(new_block, dict) and "maxUnavailable" not in old_block:
        new_block.pop("maxUnavailable", None)


IMMUTABLE_SPEC_FIELDS = ("selector", "volumeClaimTemplates", "serviceName", "podManagementPolicy")


def validate_update(old: dict[str, Any], new: dict[str, Any], config: ModelConfig) -> list[Cause]:
    """VAL-7: only the mutable fields may change; the spec is re-validated (VAL-5).

    From 1.37 each changed immutable field gets its own ``field is immutable`` Invalid cause;
    earlier servers answer with one Forbidden cause on ``spec`` that lists the mutable fields.
    serviceName and volumeClaimTemplates are not re-validated on update.
    """
    old_spec, new_spec = old.get("spec") or {}, new.get("spec") or {}
    causes: list[Cause] = []
    if config.k8s_minor >= 37:
        for key in IMMUTABLE_SPEC_FIELDS:
            if old_spec.get(key) != new_spec.get(key):
                causes.append(Cause(f"spec.{key}", "FieldValueInvalid", "field is immutable",
                                    "VAL-7"))
    else:
        mutable = MUTABLE_SPEC_FIELDS + (("revisionHistoryLimit",)
                                         if config.history_limit_mutable else ())
        old_rest = {k: v for k, v in old_spec.items() if k not in mutable}
        new_rest = {k: v for k, v in new_spec.items() if k not in mutable}
        if old_rest != new_rest:
            names = "'replicas', 'ordinals', 'template', 'updateStrategy', " + (
                "'revisionHistoryLimit', " if config.history_limit_mutable else "")
            causes.append(Cause(
                "spec", "FieldValueForbidden",
                f"updates to statefulset spec for fields other than {names}"
                "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
                "VAL-7"))
    causes += _validate_spec(new_spec, config, updating=True)
    return causes


# -- Decoding: the types of the fields (before VAL-*) -------------------------------------------
# The apiserver decodes a manifest into typed Go structs before it validates anything: a list
# where an object belongs, a word where an int32 belongs, or an int32 out of range is a 400
# BadRequest ("cannot unmarshal ..."), never a 422 with causes. sts-props checks the same types
# up front, for every field it reads, so that wrong-typed input is one clear message naming
# the field path instead of an AttributeError deep in the model.
#
# Only fields sts-props or the VAL-* rules read are typed here; other fields (probes, security
# contexts, ...) are passed through unchecked, as the apiserver would check them.

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
#: The most replicas the model runs (a harness limit, not an apiserver rule): creating a pod
#: is one sync under OrderedReady and each sync looks at every pod, so 1000 replicas already
#: take the model about 15 s to create.
MAX_MODEL_REPLICAS = 1000
#: The most values (objects, lists and scalars) a document may hold once YAML aliases are
#: expanded, as JSON (and the apiserver) would see it; a few kilobytes of YAML can alias their
#: way to billions.
MAX_EXPANDED_VALUES = 100_000
#: The apiVersion of each kind sts-props uses.
API_VERSIONS = {"StatefulSet": "apps/v1", "Service": "v1", "StorageClass": "storage.k8s.io/v1"}

_QUANTITY = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|[KMGTPE]i|[numkMGTPE])?$")
_DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


@dataclass(frozen=True)
class FieldProblem:
    """Why one field of an input document cannot be used.

    ``rule`` is the spec rule (``VAL-4``), ``type`` for a field of the wrong type, ``apiserver``
    for an apiserver check the spec has no rule for, or ``harness`` for a requirement of
    sts-props that the apiserver does not make.

    >>> FieldProblem("spec.replicas", "must be an integer, got 'three'", "type").describe()
    "spec.replicas: must be an integer, got 'three'"
    >>> FieldProblem("metadata.name", "must be no more than 63 characters", "VAL-4").describe()
    'metadata.name: must be no more than 63 characters [VAL-4]'
    """

    field: str
    message: str
    rule: str = "type"

    def describe(self) -> str:
        where = f"{self.field}: " if self.field else ""
        if self.rule == "type":
            return f"{where}{self.message}"
        if self.rule == "harness":
            return f"{where}{self.message} (an sts-props requirement; the apiserver accepts it)"
        return f"{where}{self.message} [{self.rule}]"


@dataclass(frozen=True)
class _Obj:
    """A JSON object with these typed fields (others pass unchecked)."""

    fields: dict[str, _Shape]


@dataclass(frozen=True)
class _List:
    item: _Shape


@dataclass(frozen=True)
class _Map:
    """A map with string keys, e.g. labels (map[string]string)."""

    value: _Shape


#: scalar shapes: "string", "int32", "int64", "bool", "int-or-string", "quantity", "any"
_Shape = _Obj | _List | _Map | str

_STRINGS = _List("string")
_STRING_MAP = _Map("string")
_OBJECT_META = _Obj({
    "name": "string", "generateName": "string", "namespace": "string", "uid": "string",
    "resourceVersion": "string", "generation": "int64", "labels": _STRING_MAP,
    "annotations": _STRING_MAP, "finalizers": _STRINGS,
    "ownerReferences": _List(_Obj({"apiVersion": "string", "kind": "string", "name": "string",
                                   "uid": "string", "controller": "bool",
                                   "blockOwnerDeletion": "bool"})),
})
_LABEL_SELECTOR = _Obj({
    "matchLabels": _STRING_MAP,
    "matchExpressions": _List(_Obj({"key": "string", "operator": "string",
                                    "values": _STRINGS})),
})
_RESOURCES = _Obj({"requests": _Map("quantity"), "limits": _Map("quantity")})
_CONTAINER = _Obj({
    "name": "string", "image": "string", "imagePullPolicy": "string", "command": _STRINGS,
    "args": _STRINGS, "workingDir": "string",
    "env": _List(_Obj({"name": "string", "value": "string"})),
    "ports": _List(_Obj({"name": "string", "containerPort": "int32", "hostPort": "int32",
                         "protocol": "string", "hostIP": "string"})),
    "volumeMounts": _List(_Obj({"name": "string", "mountPath": "string", "subPath": "string",
                                "readOnly": "bool"})),
    "resources": _RESOURCES,
})
_POD_SPEC = _Obj({
    "containers": _List(_CONTAINER), "initContainers": _List(_CONTAINER),
    "restartPolicy": "string", "activeDeadlineSeconds": "int64",
    "terminationGracePeriodSeconds": "int64", "serviceAccountName": "string",
    "hostname": "string", "subdomain": "string", "nodeSelector": _STRING_MAP,
    "volumes": _List(_Obj({"name": "string"})),
})
_CLAIM_TEMPLATE = _Obj({
    "apiVersion": "string", "kind": "string", "metadata": _OBJECT_META,
    "spec": _Obj({"accessModes": _STRINGS, "resources": _RESOURCES,
                  "storageClassName": "string", "volumeMode": "string",
                  "volumeName": "string", "selector": _LABEL_SELECTOR}),
})
_STATEFULSET = _Obj({
    "apiVersion": "string", "kind": "string", "metadata": _OBJECT_META,
    "spec": _Obj({
        "replicas": "int32",
        "selector": _LABEL_SELECTOR,
        "template": _Obj({"metadata": _OBJECT_META, "spec": _POD_SPEC}),
        "volumeClaimTemplates": _List(_CLAIM_TEMPLATE),
        "serviceName": "string",
        "podManagementPolicy": "string",
        "updateStrategy": _Obj({
            "type": "string",
            "rollingUpdate": _Obj({"partition": "int32", "maxUnavailable": "int-or-string"}),
        }),
        "revisionHistoryLimit": "int32",
        "minReadySeconds": "int32",
        "persistentVolumeClaimRetentionPolicy": _Obj({"whenDeleted": "string",
                                                      "whenScaled": "string"}),
        "ordinals": _Obj({"start": "int32"}),
    }),
})
_SERVICE = _Obj({
    "apiVersion": "string", "kind": "string", "metadata": _OBJECT_META,
    "spec": _Obj({
        "type": "string", "clusterIP": "string", "clusterIPs": _STRINGS,
        "selector": _STRING_MAP, "publishNotReadyAddresses": "bool",
        "sessionAffinity": "string",
        "ports": _List(_Obj({"name": "string", "port": "int32", "targetPort": "int-or-string",
                             "protocol": "string", "nodePort": "int32",
                             "appProtocol": "string"})),
    }),
})
_STORAGECLASS = _Obj({
    "apiVersion": "string", "kind": "string", "metadata": _OBJECT_META,
    "provisioner": "string", "parameters": _STRING_MAP, "reclaimPolicy": "string",
    "volumeBindingMode": "string", "allowVolumeExpansion": "bool", "mountOptions": _STRINGS,
})
_SHAPES = {"StatefulSet": _STATEFULSET, "Service": _SERVICE, "StorageClass": _STORAGECLASS}


def show_value(value: Any) -> str:
    """A value as a message shows it: scalars as themselves (shortened), containers by type.

    Always one line: ``repr`` escapes newlines.

    >>> show_value("zero"), show_value([1]), show_value(None), show_value(True)
    ("'zero'", 'a list', 'null', 'true')
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, int) and abs(value) > 10**30:
        return f"a {value.bit_length()}-bit integer"
    if isinstance(value, str | int | float):
        text = repr(value)
        return text if len(text) <= 40 else text[:37] + "..."
    return f"a {type(value).__name__}"


def _expected(shape: _Shape) -> str:
    if isinstance(shape, _Obj | _Map):
        return "an object (a mapping)"
    if isinstance(shape, _List):
        return "a list"
    return {"string": "a string", "int32": "an integer", "int64": "an integer",
            "bool": "true or false", "int-or-string": "an integer or a string",
            "quantity": "a quantity (e.g. 1Gi)"}.get(shape, "a value")


def _scalar_problem(value: Any, shape: str) -> str | None:
    """What is wrong with a scalar ``value`` for ``shape`` (None: nothing)."""
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if shape == "string":
        ok = isinstance(value, str)
    elif shape in ("int32", "int64"):
        if is_int:
            low, high = INT32 if shape == "int32" else INT64
            if not low <= value <= high:
                return (f"must be a {shape[3:]}-bit integer ({low}..{high}), got "
                        f"{show_value(value)}")
            return None
        ok = False
    elif shape == "bool":
        ok = isinstance(value, bool)
    elif shape == "int-or-string":
        if is_int:
            return _scalar_problem(value, "int32")
        ok = isinstance(value, str)
    elif shape == "quantity":
        if isinstance(value, str):
            if _QUANTITY.match(value.strip()) is None:
                return f"must be a quantity like 1Gi or 500m, got {show_value(value)}"
            return None
        ok = (is_int or isinstance(value, float)) and math.isfinite(value)
    else:
        return None
    return None if ok else f"must be {_expected(shape)}, got {show_value(value)}"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _check_shape(value: Any, shape: _Shape, path: str, out: list[FieldProblem]) -> None:
    # null is an absent field (a nil pointer, or Go's zero value): allowed for every field.
    # Items of lists and values of maps may not be null: the model would trip over them.
    if value is None:
        return
    if isinstance(shape, str):
        problem = _scalar_problem(value, shape)
        if problem:
            out.append(FieldProblem(path, problem))
        return
    if isinstance(shape, _List):
        if not isinstance(value, list):
            out.append(FieldProblem(path, f"must be a list, got {show_value(value)}"))
            return
        for i, item in enumerate(value):
            if item is None:
                out.append(FieldProblem(f"{path}[{i}]", f"must be {_expected(shape.item)}, "
                                                        "got null"))
            else:
                _check_shape(item, shape.item, f"{path}[{i}]", out)
        return
    if not isinstance(value, dict):
        out.append(FieldProblem(path, f"must be an object (a mapping), got {show_value(value)}"))
        return
    if isinstance(shape, _Map):
        for key, item in value.items():
            where = f"{path}[{key}]"
            if item is None:
                out.append(FieldProblem(where, f"must be {_expected(shape.value)}, got null"))
            else:
                _check_shape(item, shape.value, where, out)
        return
    for key, sub in shape.fields.items():
        if key in value:
            _check_shape(value[key], sub, _join(path, key), out)


@dataclass(frozen=True)
class _BadKey:
    """A mapping key that is not a string, queued to be reported in document order."""

    key: Any


def json_problems(document: Any, path: str = "") -> list[FieldProblem]:
    """Values YAML can hold but a Kubernetes object (JSON) cannot: non-string keys, dates,
    binary, numbers beyond 64 bits, NaN, an alias that contains itself, and a document that
    YAML aliases blow up beyond :data:`MAX_EXPANDED_VALUES` values (the "billion laughs").
    Checked over the whole document, known fields or not.

    >>> import datetime
    >>> for p in json_problems({"metadata": {"labels": {1: "a"}}, "x": datetime.date(2020, 1, 1)}):
    ...     print(p.describe())
    metadata.labels: key 1 is not a string (quote it)
    x: a date is not a JSON value (quote it)
    """
    out: list[FieldProblem] = []
    # A loop, not recursion: documents may nest deeply. Depth first, in document order; a
    # container is entered once (an alias shares it) and its expanded size noted on leaving.
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[str, Any, bool]] = [(path, document, False)]
    while stack:
        where, value, leaving = stack.pop()
        if leaving:
            on_path.discard(id(value))
            items = value.values() if isinstance(value, dict) else value
            size[id(value)] = 1 + sum(size.get(id(item), 1) for item in items)
        elif isinstance(value, dict | list):
            if id(value) in on_path:
                out.append(FieldProblem(where, "a YAML alias that contains itself (JSON has "
                                               "no recursive values)"))
                continue
            if id(value) in size:
                continue  # the same object again, through an alias: checked already
            on_path.add(id(value))
            stack.append((where, value, True))
            if isinstance(value, list):
                children = [(f"{where}[{i}]", item) for i, item in enumerate(value)]
            else:
                children = [(_join(where, key), item) if isinstance(key, str)
                            else (where, _BadKey(key)) for key, item in value.items()]
            stack.extend((w, v, False) for w, v in reversed(children))
        elif isinstance(value, _BadKey):
            out.append(FieldProblem(where, f"key {show_value(value.key)} is not a string "
                                           "(quote it)"))
        elif isinstance(value, bool) or value is None or isinstance(value, str):
            continue
        elif isinstance(value, int):
            if not INT64[0] <= value <= INT64[1]:
                out.append(FieldProblem(where, f"{show_value(value)} does not fit in 64 bits"))
        elif isinstance(value, float):
            if not math.isfinite(value):
                out.append(FieldProblem(where, f"{show_value(value)} is not a JSON number"))
        else:
            name = {"date": "a date", "datetime": "a date", "bytes": "binary data"}.get(
                type(value).__name__, f"a {type(value).__name__}")
            out.append(FieldProblem(where, f"{name} is not a JSON value (quote it)"))
    total = size.get(id(document), 1)
    if total > MAX_EXPANDED_VALUES:
        out.append(FieldProblem(path, f"too large: {total} values once its YAML aliases are "
                                      f"expanded (at most {MAX_EXPANDED_VALUES})"))
    return out


def type_problems(document: Any, kind: str, path: str = "") -> list[FieldProblem]:
    """Fields of a ``kind`` document (StatefulSet, Service, StorageClass) that have the wrong
    type, the way the apiserver's decoder refuses them (400 BadRequest), plus
    :func:`json_problems`. Run this before :func:`default_statefulset` and the VAL-* checks,
    which assume well-typed input.

    >>> [p.describe() for p in type_problems({"spec": {"selector": {"matchLabels": ["app"]}}},
    ...                                      "StatefulSet")]
    ['spec.selector.matchLabels: must be an object (a mapping), got a list']
    >>> [p.describe() for p in type_problems({"spec": {"replicas": "three"}}, "StatefulSet")]
    ["spec.replicas: must be an integer, got 'three'"]
    """
    if not isinstance(document, dict):
        return [FieldProblem(path, f"must be an object (a mapping), got {show_value(document)}")]
    out = json_problems(document, path)
    if not out:  # the JSON problems first: the typed walk below assumes string keys
        _check_shape(document, _SHAPES[kind], path, out)
    return out


def without_nulls(document: Any) -> Any:
    """A copy of a (well-typed) document without its null fields, as the apiserver stores it:
    a null field is an absent one (a nil pointer, or a zero value that is omitted). The model
    reads absent fields with defaults and must not meet a null where it expects an object.

    >>> without_nulls({"metadata": None, "spec": {"replicas": None, "ports": [{"name": None}]}})
    {'spec': {'ports': [{}]}}
    """
    if isinstance(document, dict):
        return {k: without_nulls(v) for k, v in document.items() if v is not None}
    if isinstance(document, list):
        return [without_nulls(v) for v in document]
    return document


def api_version_problems(document: dict[str, Any], kind: str, required: bool
                         ) -> list[FieldProblem]:
    """``apiVersion`` must be the one version sts-props speaks for ``kind`` (apps/v1 for a
    StatefulSet: apps/v1beta1 and apps/v1beta2 were removed in v1.16). ``required``: a
    manifest file must name it; a plan's copy may leave it out.

    >>> for p in api_version_problems({"apiVersion": "apps/v1beta1"}, "StatefulSet", True):
    ...     print(p.describe())  # doctest: +ELLIPSIS
    apiVersion: 'apps/v1beta1' is not supported for StatefulSet; sts-props reads apps/v1 (...)
    """
    want = API_VERSIONS[kind]
    have = document.get("apiVersion")
    if have is None:
        return [FieldProblem("apiVersion", f"required ({want})")] if required else []
    if have != want:
        removed = " (apps/v1beta1 and apps/v1beta2 were removed in v1.16)" \
            if kind == "StatefulSet" else ""
        return [FieldProblem("apiVersion", f"{show_value(have)} is not supported for {kind}; "
                                           f"sts-props reads {want}{removed}")]
    return []


def service_problems(service: dict[str, Any], statefulset: dict[str, Any] | None
                     ) -> list[FieldProblem]:
    """A well-typed Service that the scenario can use as the set's governing Service.

    The apiserver's own Service checks (name, ports) come first; then what sts-props relies
    on, which the apiserver does not require: a headless Service (``clusterIP: None``, for the
    per-pod DNS names of ID-8) whose selector is non-empty and selects the set's pods (the
    model derives the Service's endpoints from it).

    >>> svc = {"metadata": {"name": "web"}, "spec": {"clusterIP": "10.0.0.1",
    ...                                                "selector": {"app": "web"}}}
    >>> [p.field for p in service_problems(svc, None)]
    ['spec.clusterIP']
    """
    out: list[FieldProblem] = []
    meta = service.get("metadata") or {}
    name = meta.get("name")
    if not name:
        out.append(FieldProblem("metadata.name", "required", "apiserver"))
    elif len(name) > 63 or not _DNS1035_LABEL.match(name):
        out.append(FieldProblem("metadata.name", "a Service name must be a DNS-1035 label "
                                "(at most 63 characters: lowercase letters, digits and '-', "
                                "starting with a letter)", "apiserver"))
    spec = service.get("spec") or {}
    ports = spec.get("ports") or []
    names: set[str] = set()
    for i, port in enumerate(ports):
        where = f"spec.ports[{i}]"
        number = port.get("port")
        if number is None:
            out.append(FieldProblem(f"{where}.port", "required", "apiserver"))
        elif not 1 <= number <= 65535:
            out.append(FieldProblem(f"{where}.port", "must be between 1 and 65535, inclusive",
                                    "apiserver"))
        pname = port.get("name") or ""
        if not pname and len(ports) > 1:
            out.append(FieldProblem(f"{where}.name", "required when a Service has more than "
                                    "one port", "apiserver"))
        elif pname in names:
            out.append(FieldProblem(f"{where}.name", f"duplicate port name {pname!r}",
                                    "apiserver"))
        names.add(pname)
        protocol = port.get("protocol")
        if protocol is not None and protocol not in ("TCP", "UDP", "SCTP"):
            out.append(FieldProblem(f"{where}.protocol", 'supported values: "TCP", "UDP", '
                                    '"SCTP"', "apiserver"))
    if spec.get("type") not in (None, "", "ClusterIP"):
        out.append(FieldProblem("spec.type", "must be ClusterIP (or absent) for the headless "
                                "Service of a StatefulSet", "harness"))
    if spec.get("clusterIP") != "None":
        out.append(FieldProblem("spec.clusterIP", "must be None: the StatefulSet's governing "
                                "Service is headless (per-pod DNS names, ID-8)", "harness"))
    selector = spec.get("selector") or {}
    if not selector:
        out.append(FieldProblem("spec.selector", "required: the Service must select the "
                                "StatefulSet's pods", "harness"))
    elif statefulset is not None:
        template = ((statefulset.get("spec") or {}).get("template") or {})
        labels = (template.get("metadata") or {}).get("labels") or {}
        missing = sorted(k for k, v in selector.items() if labels.get(k) != v)
        if missing:
            out.append(FieldProblem("spec.selector", f"does not select the StatefulSet's pods "
                                    f"(template labels lack {', '.join(map(repr, missing))})",
                                    "harness"))
    return out


def storageclass_problems(storageclass: dict[str, Any]) -> list[FieldProblem]:
    """The apiserver's checks of the StorageClass fields a scenario keeps (name, provisioner,
    reclaimPolicy, volumeBindingMode).

    >>> [p.describe() for p in storageclass_problems({"metadata": {"name": "fast"}})]
    ['provisioner: required [apiserver]']
    """
    out: list[FieldProblem] = []
    name = (storageclass.get("metadata") or {}).get("name")
    if not name:
        out.append(FieldProblem("metadata.name", "required", "apiserver"))
    elif len(name) > 253 or not _DNS1123_SUBDOMAIN.match(name):
        out.append(FieldProblem("metadata.name", "must be a DNS-1123 subdomain (at most 253 "
                                "characters: lowercase letters, digits, '-' and '.')",
                                "apiserver"))
    if not storageclass.get("provisioner"):
        out.append(FieldProblem("provisioner", "required", "apiserver"))
    policy = storageclass.get("reclaimPolicy")
    if policy is not None and policy not in ("Delete", "Retain"):
        out.append(FieldProblem("reclaimPolicy", 'supported values: "Delete", "Retain"',
                                "apiserver"))
    mode = storageclass.get("volumeBindingMode")
    if mode is not None and mode not in ("Immediate", "WaitForFirstConsumer"):
        out.append(FieldProblem("volumeBindingMode", 'supported values: "Immediate", '
                                '"WaitForFirstConsumer"', "apiserver"))
    return out


def harness_problems(statefulset: dict[str, Any]) -> list[FieldProblem]:
    """What the model cannot run although the apiserver accepts it: more than
    :data:`MAX_MODEL_REPLICAS` replicas.

    >>> [p.describe() for p in harness_problems({"spec": {"replicas": 5000}})][0][:44]
    'spec.replicas: 5000 is more than the model r'
    """
    replicas = (statefulset.get("spec") or {}).get("replicas")
    if isinstance(replicas, int) and replicas > MAX_MODEL_REPLICAS:
        return [FieldProblem("spec.replicas", f"{replicas} is more than the model runs (at "
                             f"most {MAX_MODEL_REPLICAS})", "harness")]
    return []
