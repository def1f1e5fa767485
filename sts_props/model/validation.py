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

import re
from typing import Any

from sts_props.manifest_shapes import show_value
from sts_props.model.config import ModelConfig
from sts_props.outcome import Cause

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_PERCENT = re.compile(r"^([0-9]+)%$")

#: VAL-7: the spec fields an update may change, on every version the model covers.
#: revisionHistoryLimit is among them from v1.33.0 on (the v1.33.0, v1.33.7, v1.34.0 and
#: v1.34.4 sources clone it in ValidateStatefulSetUpdate, as 1.36.3 and 1.37.2 do; #130263
#: saw it immutable on v1.31.4).
MUTABLE_SPEC_FIELDS = (
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "revisionHistoryLimit",
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

    The given manifest is left as it was:

    >>> m = {"spec": {"updateStrategy": {"rollingUpdate": {"maxUnavailable": 2}}}}
    >>> d = default_statefulset(m, ModelConfig.for_version("v1.36.3"))  # UPD-11: gate off
    >>> m["spec"]
    {'updateStrategy': {'rollingUpdate': {'maxUnavailable': 2}}}
    >>> d["spec"]["updateStrategy"]
    {'rollingUpdate': {'partition': 0}, 'type': 'RollingUpdate'}
    """
    # Copy-on-write: the dicts this may change (on the paths to the defaulted fields, and the
    # rollingUpdate block drop_disabled_fields edits) are copied; everything else is shared
    # with ``manifest``. Neither is edited in place afterwards (stored manifests are values),
    # so this equals the deep copy it replaces, at a fraction of its cost per spec edit.
    m = dict(manifest)
    spec = _default_own(m, "spec", {})
    _default(spec, "replicas", 1)
    _default(spec, "revisionHistoryLimit", 10)
    _default(spec, "podManagementPolicy", "OrderedReady")
    strategy = _default_own(spec, "updateStrategy", {})
    if not strategy.get("type"):
        # VAL-2: only an *empty* type creates the rollingUpdate block; VAL-3: an explicit
        # RollingUpdate without a block stays without one.
        strategy["type"] = "RollingUpdate"
        _default(strategy, "rollingUpdate", {})
    block = strategy.get("rollingUpdate")
    if isinstance(block, dict):
        block = strategy["rollingUpdate"] = dict(block)
        _default(block, "partition", 0)
        if config.gate("MaxUnavailableStatefulSet"):
            _default(block, "maxUnavailable", 1)
        else:
            # UPD-11: with the gate off the apiserver drops the field (on create; the update
            # case is handled in drop_disabled_fields).
            block.pop("maxUnavailable", None)
    if config.gate("StatefulSetAutoDeletePVC"):
        policy = _default_own(spec, "persistentVolumeClaimRetentionPolicy", {})
        _default(policy, "whenDeleted", "Retain")
        _default(policy, "whenScaled", "Retain")
    pod_spec = _default_own(_default_own(spec, "template", {}), "spec", {})
    _default(pod_spec, "restartPolicy", "Always")  # core SetDefaults_PodSpec
    if spec.get("minReadySeconds", 1) in (0, None):
        # A plain int32 with omitempty: 0 (or null) is stored as absent, so setting it to 0
        # when it was absent changes nothing and must not bump the generation (ST-7).
        del spec["minReadySeconds"]
    return m


def _default_own(mapping: dict[str, Any], key: str, value: dict[str, Any]) -> Any:
    """:func:`_default` for a dict field that is edited next: a present dict is replaced by a
    shallow copy of itself (in ``mapping``, itself a copy), so that the edits leave the
    caller's manifest alone."""
    current = mapping.get(key)
    if isinstance(current, dict):
        current = mapping[key] = dict(current)
        return current
    return _default(mapping, key, value)


def _default(mapping: dict[str, Any], key: str, value: Any) -> Any:
    """Set ``mapping[key]`` to ``value`` if it is absent, null or "" (a nil pointer or an empty
    string field in Go); return the resulting value."""
    current = mapping.get(key)
    if current is None or current == "":
        mapping[key] = value
    return mapping[key]


def validate_create(sts: dict[str, Any], config: ModelConfig) -> list[Cause]:
    """VAL-4..VAL-6 on a defaulted StatefulSet.

    ``sts`` must be well-typed (:func:`~sts_props.manifest_shapes.type_problems` finds
    nothing): a wrong type is a decode error (400) that comes before validation, and these
    checks do not look for it.
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
    causes += _validate_meta(meta)
    causes += _validate_spec(sts.get("spec") or {}, config,
                             allow_recreate=config.gate("StatefulSetRecreateStrategy"))
    return causes


#: apimachinery's TotalAnnotationSizeLimitB: the keys and values of an object's annotations
ANNOTATIONS_LIMIT = 256 * 1024


def _validate_meta(meta: dict[str, Any]) -> list[Cause]:
    """VAL-4: the set's own labels and annotations (``ValidateObjectMeta``, on create and
    update): label keys and values as the template's, annotation keys as label keys, and at
    most 256 KiB of annotations in all.

    >>> [(c.field, c.type) for c in _validate_meta({"labels": {"app": "x" * 64}})]
    [('metadata.labels', 'FieldValueInvalid')]
    >>> [(c.field, c.type) for c in _validate_meta({"annotations": {"a": "x" * 262144}})]
    [('metadata.annotations', 'FieldValueTooLong')]
    """
    causes = _validate_labels(meta.get("labels"), "metadata.labels", "VAL-4")
    annotations = meta.get("annotations") or {}
    for key in annotations:
        if not _key_ok(key):
            causes.append(Cause("metadata.annotations", "FieldValueInvalid",
                                f"invalid annotation key {show_value(key)}", "VAL-4"))
    size = sum(len(str(k).encode()) + len(str(v).encode()) for k, v in annotations.items())
    if size > ANNOTATIONS_LIMIT:
        causes.append(Cause("metadata.annotations", "FieldValueTooLong",
                            f"Too long: must have at most {ANNOTATIONS_LIMIT} bytes", "VAL-4"))
    return causes


def _int_field(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _validate_spec(spec: dict[str, Any], config: ModelConfig, updating: bool = False,
                   allow_recreate: bool = False) -> list[Cause]:
    """VAL-5/VAL-6 on a defaulted spec. ``allow_recreate``: the strategy ``Recreate`` is
    valid (the alpha gate is on, or on update the old object already had it: v1.37.2
    ``statefulSetStrategy.ValidateUpdate``)."""
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
    if stype == "Recreate" and allow_recreate:
        pass
    elif stype not in ("RollingUpdate", "OnDelete"):
        # upstream blames the whole strategy, not its type (seen with dry runs on v1.37.2)
        bad("spec.updateStrategy", "FieldValueInvalid",
            "must be 'RollingUpdate', 'OnDelete', or 'Recreate'" if allow_recreate
            else "must be 'RollingUpdate' or 'OnDelete'")
    if (stype == "OnDelete" or (stype == "Recreate" and allow_recreate)) and block is not None:
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
        digits = m.group(1).lstrip("0") or "0"
        # Go's strconv.Atoi answers the largest int for a number too long for an int (and
        # Python refuses to convert more than 4300 digits): such a percentage is over 100%.
        pct = int(digits) if len(digits) <= 18 else 2**63 - 1
        if pct == 0:
            return [Cause(path, "FieldValueInvalid", "cannot be 0", "VAL-5")]
        if pct > 100:
            return [Cause(path, "FieldValueInvalid", "must not be greater than 100%", "VAL-5")]
        return []
    return [Cause(path, "FieldValueInvalid", "must be an integer or a percentage", "VAL-5")]


def _key_ok(key: Any) -> bool:
    """A label or annotation key's name part (after an optional ``prefix/``): 1-63
    characters of the label-name alphabet."""
    name = str(key).rsplit("/", 1)[-1]
    return bool(name) and len(name) <= 63 and _LABEL_NAME.match(name) is not None


def _validate_labels(labels: Any, path: str, rule: str = "VAL-5") -> list[Cause]:
    out: list[Cause] = []
    for key, value in (labels or {}).items():
        if not _key_ok(key):
            out.append(Cause(path, "FieldValueInvalid", f"invalid label key {show_value(key)}",
                             rule))
        if not isinstance(value, str) or len(value) > 63 or not _LABEL_VALUE.match(value):
            out.append(Cause(path, "FieldValueInvalid",
                             f"invalid label value {show_value(value)}", rule))
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
        if config.validates_template_at_create and not c.get("image"):
            # only "" is Required in a pod template (whitespace is refused for Pods, later)
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
    selector = label_selector(sts)
    return selector is not None and _selector_matches(selector, labels)


def label_selector(sts: dict[str, Any]) -> dict[str, Any] | None:
    """The set's selector, or None if it is absent or empty (then it matches nothing)."""
    selector: dict[str, Any] = (sts.get("spec") or {}).get("selector") or {}
    if not selector.get("matchLabels") and not selector.get("matchExpressions"):
        return None
    return selector


def labels_match(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Does a (non-empty, see :func:`label_selector`) selector match these labels?"""
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
        old_rest = {k: v for k, v in old_spec.items() if k not in MUTABLE_SPEC_FIELDS}
        new_rest = {k: v for k, v in new_spec.items() if k not in MUTABLE_SPEC_FIELDS}
        if old_rest != new_rest:
            names = ", ".join(f"'{name}'" for name in MUTABLE_SPEC_FIELDS[:-1])
            causes.append(Cause(
                "spec", "FieldValueForbidden",
                f"updates to statefulset spec for fields other than {names} and "
                f"'{MUTABLE_SPEC_FIELDS[-1]}' are forbidden", "VAL-7"))
    causes += _validate_meta(new.get("metadata") or {})
    old_type = (old_spec.get("updateStrategy") or {}).get("type")
    causes += _validate_spec(new_spec, config, updating=True, allow_recreate=(
        config.gate("StatefulSetRecreateStrategy") or old_type == "Recreate"))
    return causes
