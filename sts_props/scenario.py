"""Scenario = manifests + ops: plain, immutable data that round-trips through YAML.

>>> from sts_props.ops import Create, Scale, Settle
>>> sc = Scenario(Manifests.seed(), (Create(), Scale(replicas=2), Settle()))
>>> Scenario.from_yaml(sc.to_yaml()) == sc
True
>>> sc.manifests.set_name
'redis'

Manifests are kept as canonical JSON text inside the frozen record, so a Scenario is hashable
and nobody can mutate a shared dict by accident; the properties hand out fresh copies.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from sts_props.errors import ManifestError as ManifestError  # defined once there
from sts_props.manifest_shapes import (
    api_version_problems,
    harness_problems,
    show_value,
    type_problems,
    without_nulls,
)
from sts_props.ops import Op, OpFormatError, Scale, SetMinReadySeconds, op_from_dict

#: the sections of a ``manifests`` mapping (plans, scenario files) and their kinds
_SECTIONS = {"statefulset": "StatefulSet", "service": "Service", "storageClass": "StorageClass"}


def _canon(obj: dict[str, Any] | None) -> str:
    return "" if obj is None else json.dumps(obj, sort_keys=True, separators=(",", ":"))


def _uncanon(text: str) -> dict[str, Any] | None:
    return None if not text else dict(json.loads(text))


@dataclass(frozen=True)
class Manifests:
    """A StatefulSet plus its headless Service and StorageClass (both optional)."""

    statefulset_json: str
    service_json: str = ""
    storageclass_json: str = ""

    @staticmethod
    def of(
        statefulset: dict[str, Any],
        service: dict[str, Any] | None = None,
        storageclass: dict[str, Any] | None = None,
    ) -> Manifests:
        return Manifests(_canon(statefulset), _canon(service), _canon(storageclass))

    @property
    def statefulset(self) -> dict[str, Any]:
        sts = _uncanon(self.statefulset_json)
        assert sts is not None
        return sts

    @property
    def service(self) -> dict[str, Any] | None:
        return _uncanon(self.service_json)

    @property
    def storageclass(self) -> dict[str, Any] | None:
        return _uncanon(self.storageclass_json)

    @property
    def set_name(self) -> str:
        return str(self.statefulset.get("metadata", {}).get("name", ""))

    def with_statefulset(self, statefulset: dict[str, Any]) -> Manifests:
        return Manifests(_canon(statefulset), self.service_json, self.storageclass_json)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"statefulset": self.statefulset}
        if self.service is not None:
            out["service"] = self.service
        if self.storageclass is not None:
            out["storageClass"] = self.storageclass
        return out

    @staticmethod
    def from_dict(data: Any, path: str = "manifests") -> Manifests:
        """The ``manifests`` section of a plan or scenario file, checked: a mapping with a
        ``statefulset`` and optional ``service`` and ``storageClass``, each well-typed
        (:func:`~sts_props.manifest_shapes.type_problems`), of the right apiVersion and
        kind when they say, and a set the model can run. Null fields are dropped (null is
        absent). The StatefulSet is *not* checked against VAL-*: a plan may create an invalid
        set on purpose.

        >>> Manifests.from_dict({"statefulset": {"spec": [1, 2]}})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        sts_props.errors.ManifestError: manifests.statefulset.spec: must be ..., got a list
        """
        if not isinstance(data, dict):
            raise ManifestError(f"{path}: must be a mapping with a statefulset, got "
                                f"{show_value(data)}")
        unknown = sorted(str(k) for k in data if k not in _SECTIONS)
        if unknown:
            raise ManifestError(f"{path}: unknown key {show_value(unknown[0])} (known: "
                                f"{', '.join(_SECTIONS)})")
        if data.get("statefulset") is None:
            raise ManifestError(f"{path}.statefulset: required (the StatefulSet)")
        docs: list[dict[str, Any] | None] = []
        for key, kind in _SECTIONS.items():
            doc = data.get(key)
            where = f"{path}.{key}"
            if doc is not None:
                problems = type_problems(doc, kind, where)  # paths already start at ``where``
                if not problems:
                    if doc.get("kind") not in (None, kind):
                        raise ManifestError(f"{where}.kind: must be {kind}, got "
                                            f"{show_value(doc.get('kind'))}")
                    rest = api_version_problems(doc, kind, required=False)
                    if kind == "StatefulSet":
                        rest += harness_problems(doc)
                    problems = [dataclasses.replace(p, field=f"{where}.{p.field}")
                                for p in rest]
                if problems:
                    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
                    raise ManifestError(problems[0].describe() + more)
            docs.append(None if doc is None else without_nulls(doc))
        return Manifests.of(docs[0] or {}, docs[1], docs[2])

    @staticmethod
    def seed() -> Manifests:
        """The seed tutorial's Redis StatefulSet, headless Service and StorageClass, as-is."""
        base = resources.files("sts_props") / "data"
        docs = [
            yaml.safe_load((base / name).read_text(encoding="utf-8"))
            for name in (
                "redis-statefulset-demo.yaml",
                "headlessservice-demo.yaml",
                "storageclass-demo.yaml",
            )
        ]
        return Manifests.of(docs[0], docs[1], docs[2])


@dataclass(frozen=True)
class Scenario:
    """Manifests plus the ops to run on them, in order."""

    manifests: Manifests
    ops: tuple[Op, ...] = field(default=())
    name: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "manifests": self.manifests.to_dict(),
            "ops": [op.to_dict() for op in self.ops],
        }

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    @staticmethod
    def from_dict(data: Any) -> Scenario:
        """A scenario from plain data; every mistake is a one-line :class:`ManifestError`."""
        if not isinstance(data, dict):
            raise ManifestError("scenario: must be a mapping with manifests and ops")
        raw_ops = data.get("ops", [])
        if not isinstance(raw_ops, list):
            raise ManifestError("scenario: ops: must be a list of ops")
        try:
            ops = tuple(op_from_dict(d, i) for i, d in enumerate(raw_ops))
        except OpFormatError as exc:
            raise ManifestError(f"scenario: {exc}") from None
        name = data.get("name")
        return Scenario(Manifests.from_dict(data.get("manifests")), ops,
                        "" if name is None else str(name))

    @staticmethod
    def from_yaml(text: str) -> Scenario:
        try:
            data = yaml.safe_load(text)
        except (yaml.YAMLError, ValueError, RecursionError):
            raise ManifestError("scenario: not valid YAML") from None
        return Scenario.from_dict(data)


#: minReadySeconds is real waiting on a cluster (every ordered creation and every pod of a
#: rollout waits it out): cluster runs cap it at this many seconds, so that a generated
#: scenario costs seconds, not minutes ...
CLUSTER_MAX_MIN_READY = 1
#: ... except a *small* scenario (at most :data:`LONG_MIN_READY_PODS` pods), which keeps up to
#: this many. Below about 2 s the timing checks cannot tell early from on time on a cluster
#: (CHK-11, CHK-12 allow 1 s of clock skew, CHK-3 the 1 s timestamp resolution), so without
#: such scenarios an availability bug stays invisible (the controller mutant
#: min-ready-seconds-ignored, docs/mutation-testing.md). The cost, from the model's clock over
#: 600 pool-like scenarios: about 15% of generated scenarios are small and draw 2 or 5 s; each
#: costs about 22 s instead of 11 s, so a plain run costs about 15% more. Model selection
#: (the default of ``sts-props check``) weighs that cost and picks such scenarios mainly for
#: the corners ``min-ready-long-rollout`` and ``min-ready-long-scale-up``
#: (:mod:`sts_props.corners`): one or two per run.
CLUSTER_LONG_MIN_READY = 5
#: The most pods (replicas in the manifests or any Scale op) a scenario may reach and still keep
#: minReadySeconds up to :data:`CLUSTER_LONG_MIN_READY`: two pods are enough for every timing
#: rule (an ordered creation after an available pod; an update deletion after an updated pod
#: became available).
LONG_MIN_READY_PODS = 2


def scenario_pods(scenario: Scenario) -> int:
    """The most pods a scenario asks for: the manifests' replicas (1 when absent, VAL-1) or a
    Scale op's target, whichever is larger.

    >>> from sts_props.ops import Create, Scale
    >>> scenario_pods(Scenario(Manifests.seed(), (Create(), Scale(5), Scale(1))))
    5
    """
    spec = scenario.manifests.statefulset.get("spec") or {}
    replicas = spec.get("replicas")
    found = replicas if isinstance(replicas, int) and not isinstance(replicas, bool) else 1
    return max([found, *(op.replicas for op in scenario.ops if isinstance(op, Scale))])


def scenario_min_ready(scenario: Scenario) -> int:
    """The largest minReadySeconds of the manifests and of every SetMinReadySeconds op."""
    spec = scenario.manifests.statefulset.get("spec") or {}
    value = spec.get("minReadySeconds")
    found = value if isinstance(value, int) and not isinstance(value, bool) else 0
    return max([found, *(op.seconds for op in scenario.ops
                         if isinstance(op, SetMinReadySeconds))])


def min_ready_allowance(scenario: Scenario) -> float:
    """Seconds an op of ``scenario`` may need on top of the usual deadline to wait out
    minReadySeconds: every pod it reaches, one after the other (an ordered creation or a
    rollout), for the largest minReadySeconds it sets. 25 s for 5 s and 5 pods.

    >>> from sts_props.ops import Create, SetMinReadySeconds
    >>> min_ready_allowance(Scenario(Manifests.seed(), (Create(), SetMinReadySeconds(5))))
    15.0
    """
    return float(max(scenario_min_ready(scenario), 0) * scenario_pods(scenario))


#: The most waiting for minReadySeconds that one op of a cluster run may need
#: (:func:`min_ready_allowance`): a scenario that needs more is refused before it starts
#: (:func:`cluster_wait_problem`), where it once hung, the model's clock jumping 68 years
#: ahead in an instant and the cluster given as long to follow.
MAX_CLUSTER_MIN_READY_WAIT = 900.0


def cluster_wait_problem(scenario: Scenario) -> str:
    """Why ``scenario`` cannot run on a cluster in bounded time, or "": its minReadySeconds
    over its pods would need more than :data:`MAX_CLUSTER_MIN_READY_WAIT` seconds of real
    waiting in one op. The model takes any value (its clock jumps).

    >>> from sts_props.ops import Create, SetMinReadySeconds
    >>> cluster_wait_problem(Scenario(Manifests.seed(), (Create(), SetMinReadySeconds(5))))
    ''
    >>> cluster_wait_problem(Scenario(Manifests.seed(), (Create(), SetMinReadySeconds(600))))[:63]
    'minReadySeconds 600 over 3 pods could need 1800 s of waiting in'
    """
    need = min_ready_allowance(scenario)
    if need <= MAX_CLUSTER_MIN_READY_WAIT:
        return ""
    return (f"minReadySeconds {scenario_min_ready(scenario)} over {scenario_pods(scenario)} pods "
            f"could need {need:.0f} s of waiting in one op; a cluster run waits at most "
            f"{MAX_CLUSTER_MIN_READY_WAIT:.0f} s (the model takes any value)")


def cap_min_ready(scenario: Scenario, limit: int | None = None) -> Scenario:
    """The scenario with minReadySeconds (manifest and SetMinReadySeconds ops) capped for a
    cluster run: at :data:`CLUSTER_LONG_MIN_READY` when the scenario reaches at most
    :data:`LONG_MIN_READY_PODS` pods, else at :data:`CLUSTER_MAX_MIN_READY`; an explicit
    ``limit`` caps every scenario at it. Negative values (validation cases) are kept.

    >>> from sts_props.ops import Create, SetMinReadySeconds
    >>> sc = Scenario(Manifests.seed(), (Create(), SetMinReadySeconds(5)))  # 3 replicas
    >>> cap_min_ready(sc).ops[1], cap_min_ready(sc, limit=2).ops[1]
    (SetMinReadySeconds(seconds=1), SetMinReadySeconds(seconds=2))
    >>> sts = sc.manifests.statefulset
    >>> sts["spec"]["replicas"] = 2
    >>> small = dataclasses.replace(sc, manifests=sc.manifests.with_statefulset(sts))
    >>> cap_min_ready(small).ops[1]
    SetMinReadySeconds(seconds=5)
    """
    if limit is None:
        small = scenario_pods(scenario) <= LONG_MIN_READY_PODS
        limit = CLUSTER_LONG_MIN_READY if small else CLUSTER_MAX_MIN_READY
    sts = scenario.manifests.statefulset
    spec = sts.get("spec") or {}
    value = spec.get("minReadySeconds")
    if isinstance(value, int) and value > limit:
        spec["minReadySeconds"] = limit
    ops = tuple(SetMinReadySeconds(limit) if isinstance(op, SetMinReadySeconds)
                and op.seconds > limit else op for op in scenario.ops)
    return dataclasses.replace(scenario, manifests=scenario.manifests.with_statefulset(sts),
                               ops=ops)
