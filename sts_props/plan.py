"""Plan: a replayable run, as a YAML file (``plan.yaml``; the files of ``tests/regressions/``).

A plan is a :class:`~sts_props.scenario.Scenario` (manifests + ops) plus everything needed to run
it again the same way: the backend it ran on, the Kubernetes version and feature gates the model
used, the Hypothesis seed, the model's interleaving decisions (when a generated run found it),
optional expectations (:mod:`sts_props.expect`) and, for regression plans, the upstream e2e test
it generalises (``upstream``, the ``It(...)`` text).

>>> from sts_props.ops import Create, Scale, Settle
>>> from sts_props.scenario import Manifests, Scenario
>>> plan = Plan(Scenario(Manifests.seed(), (Create(), Scale(1), Settle())), name="demo")
>>> Plan.loads(plan.dumps()) == plan
True
>>> Plan.loads("ops: []")
Traceback (most recent call last):
...
sts_props.errors.PlanError: plan: missing 'manifests' (a plan needs manifests.statefulset and ops)

Usage::

    plan = Plan.load(Path("artifacts/20260101-120000-x/plan.yaml"))   # PlanError if bad
    plan.dump(Path("tests/regressions/my-case.yaml"))
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# BACKENDS (where a plan can run) and PlanError are re-exported: plan.BACKENDS, plan.PlanError
from sts_props.defaults import BACKENDS as BACKENDS
from sts_props.defaults import DEFAULT_VERSION as DEFAULT_VERSION
from sts_props.errors import PlanError as PlanError
from sts_props.expect import Expectation, ExpectationError
from sts_props.model import ModelConfig
from sts_props.model.config import GATES
from sts_props.ops import Op, OpFormatError, op_from_dict
from sts_props.scenario import Manifests, Scenario
from sts_props.strategies.chooser import Interleaving

#: the ``stsPropsPlan`` value written into every plan; bumped on an incompatible change
PLAN_FORMAT = 1

_KEYS = ("stsPropsPlan", "name", "upstream", "description", "backend", "k8sVersion", "gates",
         "mutant", "seed", "manifests", "ops", "interleavings", "expect", "origin")


@dataclass(frozen=True)
class Plan:
    """A scenario and how to run it again.

    ``gates`` overrides the version's feature-gate defaults (model and kwok alike); ``mutant``
    names the deliberately broken model rule a mutation run used (:mod:`sts_props.mutants`),
    so that its counterexample replays against the same wrong model;
    ``interleavings`` replays the model's scheduling decisions (one per op; empty = drain after
    every op, the behaviour a cluster run is compared with); ``origin`` is free metadata
    (where the plan came from, when it was promoted), kept as strings.
    """

    scenario: Scenario
    name: str = ""
    upstream: str = ""
    description: str = ""
    backend: str = "model"
    k8s_version: str = DEFAULT_VERSION
    gates: tuple[tuple[str, bool], ...] = ()
    mutant: str | None = None
    seed: int | None = None
    interleavings: tuple[Interleaving, ...] = ()
    expect: tuple[Expectation, ...] = ()
    origin: tuple[tuple[str, str], ...] = field(default=())

    def __post_init__(self) -> None:
        # One name: the plan's wins, else the scenario's (so that a round trip is exact).
        if self.name and self.scenario.name != self.name:
            object.__setattr__(self, "scenario", dataclasses.replace(self.scenario,
                                                                     name=self.name))
        elif not self.name and self.scenario.name:
            object.__setattr__(self, "name", self.scenario.name)

    # -- derived -------------------------------------------------------------------------------
    @property
    def ops(self) -> tuple[Op, ...]:
        return self.scenario.ops

    @property
    def manifests(self) -> Manifests:
        return self.scenario.manifests

    def model_config(self) -> ModelConfig:
        """The model's version and gates for this plan."""
        config = ModelConfig.for_version(self.k8s_version, **dict(self.gates))
        if self.mutant is None:
            return config
        from sts_props.mutants import by_name

        return dataclasses.replace(config, mutant=by_name(self.mutant).name)

    def with_origin(self, **items: str) -> Plan:
        """A copy with ``origin`` entries added or replaced."""
        merged = dict(self.origin)
        merged.update(items)
        return dataclasses.replace(self, origin=tuple(merged.items()))

    @staticmethod
    def of(scenario: Scenario, config: ModelConfig, backend: str = "model",
           seed: int | None = None, interleavings: tuple[Interleaving, ...] = ()) -> Plan:
        """A plan for ``scenario`` run with ``config`` (version and gate overrides kept)."""
        return Plan(scenario, backend=backend, k8s_version=config.version, gates=config.gates,
                    mutant=config.mutant, seed=seed, interleavings=interleavings)

    # -- YAML ----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"stsPropsPlan": PLAN_FORMAT, "name": self.name}
        if self.upstream:
            out["upstream"] = self.upstream
        if self.description:
            out["description"] = self.description
        out.update(backend=self.backend, k8sVersion=self.k8s_version,
                   gates=dict(self.gates))
        if self.mutant is not None:
            out["mutant"] = self.mutant
        out["seed"] = self.seed
        out["manifests"] = self.manifests.to_dict()
        out["ops"] = [op.to_dict() for op in self.ops]
        if self.interleavings:
            out["interleavings"] = [
                {"steps": i.steps, "picks": list(i.picks)} for i in self.interleavings]
        if self.expect:
            out["expect"] = [e.to_dict() for e in self.expect]
        if self.origin:
            out["origin"] = dict(self.origin)
        return out

    def dumps(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, width=100)

    def dump(self, path: Path) -> None:
        path.write_text(self.dumps(), encoding="utf-8")

    @staticmethod
    def loads(text: str, source: str = "plan") -> Plan:
        """Parse plan YAML; every mistake is a :class:`PlanError` naming ``source``."""
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark is not None else ""
            raise PlanError(f"{source}: not valid YAML{where}") from None
        if not isinstance(data, dict):
            raise PlanError(f"{source}: a plan is a mapping, got {type(data).__name__}")
        return _from_dict(data, source)

    @staticmethod
    def load(path: Path) -> Plan:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise PlanError(f"{path}: no such file") from None
        except IsADirectoryError:
            raise PlanError(f"{path}: is a directory, not a plan file") from None
        except OSError as exc:
            raise PlanError(f"{path}: cannot read: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise PlanError(f"{path}: not UTF-8 text") from None
        return Plan.loads(text, str(path))


def _from_dict(data: dict[str, Any], source: str) -> Plan:
    unknown = sorted(set(map(str, data)) - set(_KEYS))
    if unknown:
        raise PlanError(f"{source}: unknown key {unknown[0]!r} (known: {', '.join(_KEYS)})")
    fmt = data.get("stsPropsPlan", PLAN_FORMAT)
    if fmt != PLAN_FORMAT:
        raise PlanError(f"{source}: plan format {fmt!r} is not supported (this sts-props "
                        f"reads format {PLAN_FORMAT})")
    manifests = data.get("manifests")
    if manifests is None:
        raise PlanError(f"{source}: missing 'manifests' (a plan needs manifests.statefulset "
                        "and ops)")
    if not isinstance(manifests, dict) or not isinstance(manifests.get("statefulset"), dict):
        raise PlanError(f"{source}: manifests.statefulset must be a mapping (the StatefulSet)")
    raw_ops = data.get("ops")
    if not isinstance(raw_ops, list):
        raise PlanError(f"{source}: 'ops' must be a list of ops, e.g. [{{op: create}}]")
    try:
        ops = tuple(op_from_dict(d) for d in raw_ops)
    except OpFormatError as exc:
        raise PlanError(f"{source}: {exc}") from None
    backend = str(data.get("backend") or "model")
    if backend not in BACKENDS:
        raise PlanError(f"{source}: backend {backend!r} is not one of {', '.join(BACKENDS)}")
    version = str(data.get("k8sVersion") or DEFAULT_VERSION)
    gates = _gates(data.get("gates"), source)
    try:
        ModelConfig.for_version(version, **dict(gates))
    except ValueError as exc:
        raise PlanError(f"{source}: {exc}") from None
    mutant = data.get("mutant")
    if mutant is not None:
        from sts_props.mutants import by_name

        try:
            by_name(str(mutant))
        except ValueError as exc:
            raise PlanError(f"{source}: {exc}") from None
    seed = data.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise PlanError(f"{source}: seed must be an integer or null, got {seed!r}")
    try:
        expect = tuple(Expectation.from_dict(e, len(ops)) for e in data.get("expect") or ())
    except ExpectationError as exc:
        raise PlanError(f"{source}: {exc}") from None
    origin = data.get("origin") or {}
    if not isinstance(origin, dict):
        raise PlanError(f"{source}: origin must be a mapping of strings")
    name = str(data.get("name") or "")
    scenario = Scenario(Manifests.from_dict(manifests), ops, name)
    return Plan(scenario, name=name, upstream=str(data.get("upstream") or ""),
                description=str(data.get("description") or ""), backend=backend,
                k8s_version=version, gates=gates,
                mutant=None if mutant is None else str(mutant), seed=seed,
                interleavings=_interleavings(data.get("interleavings"), source),
                expect=expect, origin=tuple((str(k), str(v)) for k, v in origin.items()))


def _gates(raw: Any, source: str) -> tuple[tuple[str, bool], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise PlanError(f"{source}: gates must be a mapping like {{{GATES[0]}: true}}")
    for name, value in raw.items():
        if not isinstance(value, bool):
            raise PlanError(f"{source}: gate {name!r} must be true or false, got {value!r}")
    return tuple(sorted((str(k), bool(v)) for k, v in raw.items()))


def _interleavings(raw: Any, source: str) -> tuple[Interleaving, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise PlanError(f"{source}: interleavings must be a list of {{steps, picks}}")
    out = []
    for item in raw:
        steps = item.get("steps") if isinstance(item, dict) else "?"
        picks = item.get("picks", []) if isinstance(item, dict) else None
        if (steps is not None and (not isinstance(steps, int) or steps < 0)) or not (
                isinstance(picks, list) and all(isinstance(p, int) for p in picks)):
            raise PlanError(f"{source}: interleaving {item!r} must be {{steps: null or a "
                            "count, picks: [integers]}")
        out.append(Interleaving(steps, tuple(picks)))
    return tuple(out)
