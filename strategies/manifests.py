"""Hypothesis strategies for StatefulSet manifests: valid ones, and invalid ones with the answer.

Valid manifests start from a base (the seed Redis set, or a small generic ``web`` set) and vary
every field whose semantics the reference model implements. Each one is accepted by the model's
defaulting and create validation (VAL-1..VAL-6), and keeps the headless Service consistent:
Service name == ``spec.serviceName`` and the Service selector matches the pod labels.

>>> from hypothesis import given, settings
>>> from sts_props.model.config import ModelConfig
>>> from sts_props.model.validation import default_statefulset, validate_create
>>> @settings(max_examples=20, database=None)
... @given(valid_statefulsets(max_replicas=3))
... def check(m):
...     cfg = ModelConfig()
...     assert validate_create(default_statefulset(m.statefulset, cfg), cfg) == []
>>> check()

Invalid manifests come with the rule and the field path the model (and the apiserver) must cite:

>>> @settings(max_examples=20, database=None)
... @given(invalid_statefulsets())
... def check_invalid(case):
...     m, rule, path = case
...     cfg = ModelConfig()
...     causes = validate_create(default_statefulset(m.statefulset, cfg), cfg)
...     assert any(c.rule == rule and c.field == path for c in causes)
>>> check_invalid()
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import strategies as st

from sts_props.model.config import ModelConfig
from sts_props.scenario import Manifests

__all__ = [
    "IMAGE_TAGS",
    "INVALID_CASES",
    "image_values",
    "invalid_statefulsets",
    "set_names",
    "valid_statefulsets",
    "web_manifests",
]

#: Known-good tags per image repository. Template changes of the ``image`` field only pick from
#: these, so that on a cluster with real containers (k3s) every generated template can become
#: Ready: the model assumes healthy templates, and a broken image would be a different scenario
#: (UPD-12), not a generated accident.
IMAGE_TAGS: dict[str, tuple[str, ...]] = {
    "redis": ("6.2", "7.0", "7.2"),
    "busybox": ("1.36", "1.36.1", "1.37"),
}

RETENTION_VALUES = ("Retain", "Delete")


@functools.cache
def _seed() -> Manifests:
    # Manifests.seed() parses three YAML files (~40 ms with the pure-Python loader): once is
    # enough, a Manifests is immutable.
    return Manifests.seed()


@functools.cache
def web_manifests() -> Manifests:
    """A small generic set: ``app=web`` labels, a busybox container, one claim template ``data``.

    >>> m = web_manifests()
    >>> m.set_name, m.service["spec"]["selector"]
    ('web', {'app': 'web'})
    """
    labels = {"app": "web"}
    statefulset: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "web", "labels": dict(labels)},
        "spec": {
            "selector": {"matchLabels": dict(labels)},
            "serviceName": "web",
            "replicas": 2,
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {
                    "containers": [{
                        "name": "web",
                        "image": "busybox:1.36",
                        "command": ["sh", "-c", "sleep 3600"],
                        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                    }],
                },
            },
            "volumeClaimTemplates": [_claim_template("data", None)],
        },
    }
    service: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "labels": dict(labels)},
        "spec": {
            "clusterIP": "None",
            "ports": [{"port": 80, "name": "web"}],
            "selector": dict(labels),
        },
    }
    return Manifests.of(statefulset, service)


def _claim_template(name: str, storage_class: str | None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "1Gi"}},
    }
    if storage_class:
        spec["storageClassName"] = storage_class
    return {"metadata": {"name": name}, "spec": spec}


def set_names() -> st.SearchStrategy[str]:
    """Short DNS-1123 labels (VAL-4), well below the ~52 characters where pods break.

    Names may end in ``-<digits>`` (e.g. ``db-1``): ID-3 parses the *last* ``-digits`` of a pod
    name, so ``db-1-0`` still belongs to ``db-1``; that is worth exercising.
    """
    return st.from_regex(r"\A[a-z][a-z0-9]{0,5}(-[a-z0-9]{1,3})?\Z", fullmatch=True)


def image_values(manifests: Manifests) -> tuple[str, ...]:
    """The images a template change may set for this set (same repository, known tags).

    >>> image_values(Manifests.seed())
    ('redis:6.2', 'redis:7.0', 'redis:7.2')
    """
    containers = (((manifests.statefulset.get("spec") or {}).get("template") or {})
                  .get("spec") or {}).get("containers") or []
    if not containers:
        return ()
    image = str(containers[0].get("image") or "")
    repo = image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image
    tags = IMAGE_TAGS.get(repo.rsplit("/", 1)[-1])
    if not tags:
        return (image,) if image else ()
    return tuple(f"{repo}:{tag}" for tag in tags)


def _percent() -> st.SearchStrategy[str]:
    return st.integers(1, 100).map(lambda n: f"{n}%")


def _max_unavailable() -> st.SearchStrategy[int | str | None]:
    return st.one_of(st.none(), st.integers(1, 3), _percent())


def _rolling_block(draw: st.DrawFn, replicas: int) -> dict[str, Any]:
    block: dict[str, Any] = {}
    partition = draw(st.one_of(st.none(), st.integers(0, replicas + 1)), label="partition")
    if partition is not None:
        block["partition"] = partition
    max_unavailable = draw(_max_unavailable(), label="maxUnavailable")
    if max_unavailable is not None:
        block["maxUnavailable"] = max_unavailable
    return block


#: the updateStrategy shapes drawn; Recreate only where the alpha gate is on (``recreate``)
_STRATEGY_KINDS = ("absent", "RollingUpdate", "RollingUpdate+block", "block-only", "OnDelete")


def _update_strategy(draw: st.DrawFn, replicas: int, recreate: bool = False
                     ) -> dict[str, Any] | None:
    kinds = [*_STRATEGY_KINDS, "Recreate"] if recreate else list(_STRATEGY_KINDS)
    kind = draw(st.sampled_from(kinds), label="updateStrategy")
    if kind == "absent":
        return None
    if kind == "Recreate":
        return {"type": "Recreate"}
    if kind == "RollingUpdate":
        # VAL-3: an explicit type without a block gets no partition/maxUnavailable defaults.
        return {"type": "RollingUpdate"}
    if kind == "OnDelete":
        return {"type": "OnDelete"}
    block = _rolling_block(draw, replicas)
    if kind == "block-only":
        # An empty type is defaulted to RollingUpdate and the block kept (VAL-2).
        return {"rollingUpdate": block}
    return {"type": "RollingUpdate", "rollingUpdate": block}


def _retention(draw: st.DrawFn) -> dict[str, Any] | None:
    kind = draw(st.sampled_from(["absent", "both", "both", "partial"]), label="retention")
    if kind == "absent":
        return None
    if kind == "both":
        return {
            "whenDeleted": draw(st.sampled_from(RETENTION_VALUES), label="whenDeleted"),
            "whenScaled": draw(st.sampled_from(RETENTION_VALUES), label="whenScaled"),
        }
    # A policy with one field missing (or explicitly empty) defaults that field to Retain
    # (STO-15; upstream defaults.go tests len(...) == 0, so "" is the same as absent).
    key = draw(st.sampled_from(["whenDeleted", "whenScaled"]), label="retention field")
    value = draw(st.sampled_from([*RETENTION_VALUES, ""]), label=key)
    return {key: value}


@st.composite
def valid_statefulsets(
    draw: st.DrawFn, base: Manifests | None = None, *, max_replicas: int = 5,
    recreate: bool = False,
) -> Manifests:
    """Valid StatefulSet manifests (plus Service/StorageClass) derived from ``base``.

    Without ``base``, the base is drawn: the seed Redis set (shrinks to it) or
    :func:`web_manifests`.
    Varied: name, replicas ``0..max_replicas``, podManagementPolicy, updateStrategy (absent;
    RollingUpdate without a block (VAL-3); with a block of partition ``0..replicas+1`` and
    maxUnavailable absent/int/percent; a block without type; OnDelete; with ``recreate``,
    for a cluster with the alpha gate StatefulSetRecreateStrategy on, Recreate), ``ordinals.start``
    ``0..3``, the PVC retention policy, minReadySeconds, revisionHistoryLimit and ``0..2``
    volumeClaimTemplates. Every draw shrinks towards the base's own value.

    >>> from hypothesis import find
    >>> find(valid_statefulsets(), lambda m: True).set_name   # the minimal example: the seed
    'redis'
    """
    if base is None:
        base = draw(st.sampled_from([_seed(), web_manifests()]), label="base")
    sts = copy.deepcopy(base.statefulset)
    service = copy.deepcopy(base.service) if base.service is not None else None
    meta = sts.setdefault("metadata", {})
    spec = sts.setdefault("spec", {})
    template = spec.setdefault("template", {})
    pod_spec = template.setdefault("spec", {})

    name = draw(st.one_of(st.just(base.set_name), set_names()), label="name")
    meta["name"] = name

    # The governing Service keeps its name equal to serviceName; both may follow the set's name.
    service_name = draw(st.sampled_from([spec.get("serviceName") or name, name]),
                        label="serviceName")
    spec["serviceName"] = service_name
    if service is not None:
        service.setdefault("metadata", {})["name"] = service_name
        # The Service selects exactly the pods the set selects (its matchLabels).
        selector = dict((spec.get("selector") or {}).get("matchLabels") or {})
        if selector:
            service.setdefault("spec", {})["selector"] = selector

    replicas = draw(st.one_of(st.none(), st.integers(0, max_replicas)), label="replicas")
    if replicas is None:
        spec.pop("replicas", None)  # VAL-1: defaults to 1
        replicas = 1
    else:
        spec["replicas"] = replicas

    # "" is the same as absent: upstream defaults.go tests len(policy) == 0 (VAL-1).
    # Parallel twice: absent and "" both mean OrderedReady, and Hypothesis favours the first
    # (simplest) choice, so without the repeat Parallel runs only in ~1 of 5 examples.
    policy = draw(st.sampled_from([None, "Parallel", "OrderedReady", "Parallel", ""]),
                  label="podManagementPolicy")
    _set_or_pop(spec, "podManagementPolicy", policy)

    _set_or_pop(spec, "updateStrategy", _update_strategy(draw, replicas, recreate))

    start = draw(st.one_of(st.none(), st.integers(0, 3)), label="ordinals.start")
    _set_or_pop(spec, "ordinals", None if start is None else {"start": start})

    _set_or_pop(spec, "persistentVolumeClaimRetentionPolicy", _retention(draw))

    # Mostly 0/absent: minReadySeconds > 0 slows every rollout down (PR-4), keep it a spice.
    min_ready = draw(st.sampled_from([None, 0, 0, 1, 2, 5]), label="minReadySeconds")
    _set_or_pop(spec, "minReadySeconds", min_ready)

    history_limit = draw(st.one_of(st.none(), st.integers(0, 3)), label="revisionHistoryLimit")
    _set_or_pop(spec, "revisionHistoryLimit", history_limit)

    claims = list(spec.get("volumeClaimTemplates") or [])
    # The base's own count first, so the draw shrinks towards the base.
    counts = [len(claims)] + [n for n in (0, 1, 2) if n != len(claims)]
    count = draw(st.sampled_from(counts), label="volumeClaimTemplates")
    _set_claim_templates(spec, pod_spec, claims, count)

    restart = draw(st.sampled_from([None, "Always", ""]), label="restartPolicy")
    _set_or_pop(pod_spec, "restartPolicy", restart)

    # A template label outside the selector is valid (the selector must match a subset) and
    # exercises selector matching in adoption (ID-18) and in the Service.
    if draw(st.booleans(), label="extra template label"):
        template.setdefault("metadata", {}).setdefault("labels", {})["tier"] = "backend"

    return Manifests.of(sts, service, base.storageclass)


def _set_or_pop(mapping: dict[str, Any], key: str, value: Any) -> None:
    if value is None:
        mapping.pop(key, None)
    else:
        mapping[key] = value


def _set_claim_templates(spec: dict[str, Any], pod_spec: dict[str, Any],
                         claims: list[dict[str, Any]], count: int) -> None:
    storage_class = None
    if claims:
        storage_class = (claims[0].get("spec") or {}).get("storageClassName")
    while len(claims) < count:
        used = {(c.get("metadata") or {}).get("name") for c in claims}
        claims.append(_claim_template(next(n for n in ("data", "logs", "extra") if n not in used),
                                      storage_class))
    claims = claims[:count]
    if claims:
        spec["volumeClaimTemplates"] = claims
    else:
        spec.pop("volumeClaimTemplates", None)
    # A volumeMount must name a volume of the pod (validated at create since 1.34, VAL-6); drop
    # mounts of claim templates that were removed.
    kept = {(c.get("metadata") or {}).get("name") for c in claims}
    declared = {v.get("name") for v in pod_spec.get("volumes") or []}
    for container in pod_spec.get("containers") or []:
        mounts = [m for m in container.get("volumeMounts") or []
                  if m.get("name") in kept or m.get("name") in declared]
        if mounts:
            container["volumeMounts"] = mounts
        else:
            container.pop("volumeMounts", None)


# -- invalid manifests -----------------------------------------------------------------------------
#: A mutation breaks one thing in a valid StatefulSet dict and returns (rule, field path).
Mutation = Callable[[st.DrawFn, dict[str, Any]], tuple[str, str]]


def _negative_replicas(draw: st.DrawFn, sts: dict[str, Any]) -> tuple[str, str]:
    sts["spec"]["replicas"] = draw(st.integers(-5, -1), label="replicas")
    return "VAL-5", "spec.replicas"


def _bad_pod_management(draw: st.DrawFn, sts: dict[str, Any]) -> tuple[str, str]:
    sts["spec"]["podManagementPolicy"] = draw(
        st.sampled_from(["Sequential", "ordered", "parallel", "OrderedReady "]), label="policy")
    return "VAL-5", "spec.podManagementPolicy"


def _bad_strategy_type(draw: st.DrawFn, sts: dict[str, Any]) -> tuple[str, str]:
    # "Recreate" is a 1.37 alpha (KEP-3541, gate off by default): still not a supported type.
    sts["spec"]["updateStrategy"] = {
        "type": draw(st.sampled_from(["Recreate", "Rolling", "ondelete"]), label="type")}
    return "VAL-5", "spec.updateStrategy"


def _block_with_on_delete(draw: st.DrawFn, sts: dict[str, Any]) -> tuple[str, str]:
    block = {"partition": draw(st.integers(0, 3), label="partition")}
    sts["spec"]["updateStrategy"] = {"type": "OnDelete", "rollingUpdate": block}
    return "VAL-5", "spec.updateStrategy.rollingUpdate"


def _negative_partition(draw: st.DrawFn, sts: dict[str, Any]) -> tuple[str, str]:
    strategy: dict[str, Any] = {"rollingUpdate": {"partition": draw(st.integers(-3, -1))}}
    if draw(st.booleans(), label="explicit type"):
        strategy["type"] = "RollingUpdate"
    sts["spec"]["updateStrategy"] = strategy
    return "VAL-5", "spec.updateStrategy.rollingUpdate.partition"


def _bad_max_unavailable(draw: st.DrawFn, sts: dict[str, Any]) -> tuple[str, str]:
    value = draw(st.sampled_from([0, "0%", "150%", "101%", "abc", -1]), label="maxUnavailable")
    sts["spec"]["updateStrategy"] = {"type": "RollingUpdate",
                                     "rollingUpdate": {"maxUnavailable": value}}
    return "VAL-5", "spec.updateStrategy.rollingUpdate.maxUnavailable"


def _bad_retention(draw: st.DrawFn, sts: dict[str, Any]) -> tuple[str, str]:
    key = draw(st.sampled_from(["whenDeleted", "whenScaled"]), label="field")
    other = "whenScaled" if key == "whenDeleted" else "whenDeleted"
    sts["spec"]["persistentVolumeClaimRetentionPolicy"] = {
        key: draw(st.sampled_from(["Keep", "delete", "Orphan"]), label=key), other: "Retain"}
    return "VAL-5", f"spec.persistentVolumeClaimRetentionPolicy.{key}"


def _negative_min_ready(draw: st.DrawFn, sts: dict[str, Any]) -> tuple[str, str]:
    sts["spec"]["minReadySeconds"] = draw(st.integers(-10, -1), label="minReadySeconds")
    return "VAL-5", "spec.minReadySeconds"


def _negative_start(draw: st.DrawFn, sts: dict[str, Any]) -> tuple[str, str]:
    sts["spec"]["ordinals"] = {"start": draw(st.integers(-3, -1), label="start")}
    return "VAL-5", "spec.ordinals.start"


def _missing_selector(draw: st.DrawFn, sts: dict[str, Any]) -> tuple[str, str]:
    sts["spec"].pop("selector", None)
    return "VAL-5", "spec.selector"


def _empty_selector(draw: st.DrawFn, sts: dict[str, Any]) -> tuple[str, str]:
    sts["spec"]["selector"] = draw(st.sampled_from([{}, {"matchLabels": {}}]), label="selector")
    return "VAL-5", "spec.selector"


def _selector_mismatch(draw: st.DrawFn, sts: dict[str, Any]) -> tuple[str, str]:
    labels = dict(sts["spec"]["template"].get("metadata", {}).get("labels") or {})
    key = next(iter(labels), "app")
    if draw(st.booleans(), label="change a value (else add a key)"):
        match = {**labels, key: labels.get(key, "x") + "-other"}
    else:
        match = {**labels, "role": "not-in-template"}
    sts["spec"]["selector"] = {"matchLabels": match}
    return "VAL-5", "spec.template.metadata.labels"


def _restart_policy(draw: st.DrawFn, sts: dict[str, Any]) -> tuple[str, str]:
    sts["spec"]["template"]["spec"]["restartPolicy"] = draw(
        st.sampled_from(["Never", "OnFailure"]), label="restartPolicy")
    return "VAL-5", "spec.template.spec.restartPolicy"


def _active_deadline(draw: st.DrawFn, sts: dict[str, Any]) -> tuple[str, str]:
    sts["spec"]["template"]["spec"]["activeDeadlineSeconds"] = draw(st.integers(1, 600))
    return "VAL-5", "spec.template.spec.activeDeadlineSeconds"


def _bad_set_name(draw: st.DrawFn, sts: dict[str, Any]) -> tuple[str, str]:
    kind = draw(st.sampled_from(["uppercase", "too long", "dots", "underscore", "dash edge"]),
                label="bad name")
    name = sts["metadata"]["name"]
    bad = {
        "uppercase": name[:1].upper() + name[1:],
        "too long": (name + "-" + "x" * 63)[:64],
        "dots": f"{name}.v1",  # rejected since v1.27 (#114172), VAL-4
        "underscore": f"{name}_1",
        "dash edge": f"{name}-",
    }[kind]
    sts["metadata"]["name"] = bad
    return "VAL-4", "metadata.name"


def _bad_service_name(draw: st.DrawFn, sts: dict[str, Any]) -> tuple[str, str]:
    sts["spec"]["serviceName"] = draw(
        st.sampled_from(["Redis", "svc.local", "svc_1", "-svc"]), label="serviceName")
    return "VAL-6", "spec.serviceName"


def _empty_image(draw: st.DrawFn, sts: dict[str, Any]) -> tuple[str, str]:
    sts["spec"]["template"]["spec"]["containers"][0]["image"] = draw(
        st.just(""), label="image")
    return "VAL-6", "spec.template.spec.containers[0].image"


def _claim_without_access_modes(draw: st.DrawFn, sts: dict[str, Any]) -> tuple[str, str]:
    claims = sts["spec"].setdefault("volumeClaimTemplates", [])
    if not claims:
        claims.append(_claim_template("data", None))
    index = draw(st.integers(0, len(claims) - 1), label="claim template")
    claims[index]["spec"].pop("accessModes", None)
    return "VAL-6", f"spec.volumeClaimTemplates[{index}].spec.accessModes"


def _bad_set_label(draw: st.DrawFn, sts: dict[str, Any]) -> tuple[str, str]:
    labels = sts["metadata"].setdefault("labels", {})
    if draw(st.booleans(), label="a bad value (else a bad key)"):
        labels["tier"] = draw(st.sampled_from(["x" * 64, "-edge", "a b"]), label="value")
    else:
        labels[draw(st.sampled_from(["bad key", "-x", "x" * 64]), label="key")] = "v"
    return "VAL-4", "metadata.labels"


def _annotations_too_large(draw: st.DrawFn, sts: dict[str, Any]) -> tuple[str, str]:
    size = draw(st.sampled_from([256 * 1024, 300 * 1024]), label="annotation bytes")
    sts["metadata"].setdefault("annotations", {})["note"] = "x" * size
    return "VAL-4", "metadata.annotations"


#: Every invalid case: its name, the mutation, and whether it applies under a config (some rules
#: only exist from a version on, or depend on a gate).
INVALID_CASES: dict[str, tuple[Mutation, Callable[[ModelConfig], bool]]] = {
    "negative replicas": (_negative_replicas, lambda c: True),
    "bad podManagementPolicy": (_bad_pod_management, lambda c: True),
    "bad updateStrategy type": (_bad_strategy_type, lambda c: True),
    "rollingUpdate with OnDelete": (_block_with_on_delete, lambda c: True),
    "negative partition": (_negative_partition, lambda c: True),
    # UPD-11: with the gate off the apiserver drops maxUnavailable instead of validating it.
    "bad maxUnavailable": (_bad_max_unavailable,
                           lambda c: c.gate("MaxUnavailableStatefulSet")),
    # With the gate off the policy is dropped (StatefulSetAutoDeletePVC, GA from 1.32).
    "bad retention": (_bad_retention, lambda c: c.gate("StatefulSetAutoDeletePVC")),
    "negative minReadySeconds": (_negative_min_ready, lambda c: True),
    "negative ordinals.start": (_negative_start, lambda c: True),
    "missing selector": (_missing_selector, lambda c: True),
    "empty selector": (_empty_selector, lambda c: True),
    "selector does not match labels": (_selector_mismatch, lambda c: True),
    "restartPolicy not Always": (_restart_policy, lambda c: True),
    "activeDeadlineSeconds set": (_active_deadline, lambda c: True),
    "bad set name": (_bad_set_name, lambda c: True),
    "bad set label": (_bad_set_label, lambda c: True),
    "annotations too large": (_annotations_too_large, lambda c: True),
    "bad serviceName": (_bad_service_name, lambda c: c.validates_service_name),
    "empty image": (_empty_image, lambda c: c.validates_template_at_create),
    "claim template without accessModes": (_claim_without_access_modes,
                                           lambda c: c.validates_template_at_create),
}


def invalid_statefulsets(
    config: ModelConfig | None = None, base: Manifests | None = None,
    cases: Sequence[str] | None = None,
) -> st.SearchStrategy[tuple[Manifests, str, str]]:
    """``(manifests, expected_rule, expected_field)``: a valid manifest with exactly one defect.

    Only defects that the given Kubernetes version rejects are drawn (default: the model's
    default config); e.g. a bad ``maxUnavailable`` is *dropped*, not rejected, while the
    MaxUnavailableStatefulSet gate is off (UPD-11), and an empty image passes before 1.34 (VAL-6).
    ``cases`` restricts the defects to some names of :data:`INVALID_CASES`.

    >>> from hypothesis import find
    >>> m, rule, path = find(invalid_statefulsets(), lambda case: case[2] == "spec.replicas")
    >>> rule, m.statefulset["spec"]["replicas"]
    ('VAL-5', -1)
    >>> invalid_statefulsets(ModelConfig.for_version("v1.33.0"), cases=["empty image"])
    Traceback (most recent call last):
    ...
    ValueError: none of the cases ['empty image'] is rejected by Kubernetes v1.33.0
    """
    config = config or ModelConfig()
    unknown = set(cases or ()) - set(INVALID_CASES)
    if unknown:
        raise ValueError(f"unknown invalid cases {sorted(unknown)}; known: {list(INVALID_CASES)}")
    names = [name for name, (_, applies) in INVALID_CASES.items()
             if applies(config) and (cases is None or name in cases)]
    if not names:
        raise ValueError(f"none of the cases {list(cases or ())} is rejected by Kubernetes "
                         f"{config.version}")
    return _invalid_statefulsets(base, tuple(names))


@st.composite
def _invalid_statefulsets(draw: st.DrawFn, base: Manifests | None,
                          names: tuple[str, ...]) -> tuple[Manifests, str, str]:
    valid = draw(valid_statefulsets(base), label="valid starting point")
    case = draw(st.sampled_from(names), label="defect")
    mutate, _ = INVALID_CASES[case]
    sts = copy.deepcopy(valid.statefulset)
    sts["spec"]["template"].setdefault("spec", {}).setdefault("containers", [{}])
    rule, path = mutate(draw, sts)
    return valid.with_statefulset(sts), rule, path
