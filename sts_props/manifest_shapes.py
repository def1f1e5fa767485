"""The shape of the manifests sts-props reads: field types, apiVersions, Service and
StorageClass fields the scenarios rely on, and what a YAML document may hold as JSON.

Vocabulary, not behaviour: :mod:`sts_props.scenario` refuses a wrong-typed document with the
field path before anything reads it, and the model's validation (VAL-*,
:mod:`sts_props.model.validation`) runs only on well-typed documents.

>>> [p.describe() for p in type_problems({"spec": {"replicas": "three"}}, "StatefulSet")]
["spec.replicas: must be an integer, got 'three'"]
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

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


def as_text(value: Any) -> str | None:
    """An optional free-text field of a user's file (a plan's name, an expectation's note):
    ``""`` when absent, the text when it is one (a number YAML read from it is taken as
    written), None when it is a list, a mapping or a boolean: the caller refuses it.

    >>> as_text(None), as_text("why"), as_text(1.5), as_text(["a"]), as_text(True)
    ('', 'why', '1.5', None, None)
    """
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return str(value)


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


#: a UTF-16 surrogate: never in UTF-8 text, but YAML's ``"\\ud800"`` escape makes one, and no
#: file (artifacts, a promoted plan) can hold it as UTF-8
_SURROGATE = re.compile("[\ud800-\udfff]")


def lone_surrogate(document: Any, path: str = "") -> FieldProblem | None:
    """The first string (value or key) of ``document`` that holds a lone surrogate, which no
    UTF-8 file can hold, as a problem at its path; None if there is none. A loop (documents
    may nest deeply), each container entered once (aliases share them).

    >>> lone_surrogate({"metadata": {"name": "a\\ud800"}}).describe()
    "metadata.name: 'a\\\\ud800' is not valid Unicode (a lone surrogate, from a \\\\u escape)"
    >>> lone_surrogate({"a": ["b"]}) is None
    True
    """
    seen: set[int] = set()
    stack: list[tuple[str, Any]] = [(path, document)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return FieldProblem(where, f"{show_value(value)} is not valid Unicode (a lone "
                                           "surrogate, from a \\u escape)")
        elif isinstance(value, dict | list) and id(value) not in seen:
            seen.add(id(value))
            if isinstance(value, list):
                stack.extend((f"{where}[{i}]", v) for i, v in reversed(list(enumerate(value))))
                continue
            for key, item in reversed(list(value.items())):
                stack.append((_join(where, str(key)), item))
                if isinstance(key, str):
                    stack.append((where, key))
    return None


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
    surrogate = lone_surrogate(document, path)
    if surrogate is not None:
        out.append(surrogate)
    total = size.get(id(document), 1)
    if total > MAX_EXPANDED_VALUES:
        out.append(FieldProblem(path, f"too large: {total} values once its YAML aliases are "
                                      f"expanded (at most {MAX_EXPANDED_VALUES})"))
    return out


def type_problems(document: Any, kind: str, path: str = "") -> list[FieldProblem]:
    """Fields of a ``kind`` document (StatefulSet, Service, StorageClass) that have the wrong
    type, the way the apiserver's decoder refuses them (400 BadRequest), plus
    :func:`json_problems`. Run this before
    :func:`~sts_props.model.validation.default_statefulset` and the VAL-* checks,
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
