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
>>> Plan.loads("ops: []")  # doctest: +ELLIPSIS
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
from typing import Any, Protocol

import yaml

# BACKENDS (where a plan can run) and PlanError are re-exported: plan.BACKENDS, plan.PlanError
from sts_props.defaults import BACKENDS as BACKENDS
from sts_props.defaults import DEFAULT_VERSION as DEFAULT_VERSION
from sts_props.errors import PlanError as PlanError
from sts_props.expect import Expectation, ExpectationError
from sts_props.interleaving import MAX_SETTLE_STEPS, Interleaving
from sts_props.manifest_shapes import (
    MAX_MODEL_REPLICAS,
    as_text,
    lone_surrogate,
    show_value,
)
from sts_props.mutant_names import MUTANT_NAMES
from sts_props.ops import Op, OpFormatError, RevertTemplate, Scale, SetTemplate, op_from_dict
from sts_props.scenario import ManifestError, Manifests, Scenario
from sts_props.user_files import not_regular
from sts_props.versions import GATES, check_gate_settings, parse_version

#: the ``stsPropsPlan`` value written into every plan; bumped on an incompatible change
PLAN_FORMAT = 1

_KEYS = ("stsPropsPlan", "name", "upstream", "description", "backend", "k8sVersion", "gates",
         "mutant", "seed", "manifests", "ops", "interleavings", "expect", "origin")

__all__ = ["BACKENDS", "DEFAULT_VERSION", "PLAN_FORMAT", "Plan", "PlanError", "RunConfig"]



class RunConfig(Protocol):
    """What a plan records of the model configuration a run used (a
    :class:`sts_props.model.ModelConfig`; :meth:`ModelConfig.for_plan` turns it back)."""

    @property
    def version(self) -> str: ...
    @property
    def gates(self) -> tuple[tuple[str, bool], ...]: ...
    @property
    def mutant(self) -> str | None: ...


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

    def with_origin(self, **items: str) -> Plan:
        """A copy with ``origin`` entries added or replaced."""
        merged = dict(self.origin)
        merged.update(items)
        return dataclasses.replace(self, origin=tuple(merged.items()))

    @staticmethod
    def of(scenario: Scenario, config: RunConfig, backend: str = "model",
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
        except (ValueError, RecursionError) as exc:
            # PyYAML's own limits: an integer of more than 4300 digits, nesting too deep
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise PlanError(f"{source}: not usable YAML: {reason}") from None
        if not isinstance(data, dict):
            raise PlanError(f"{source}: a plan is a mapping, got {type(data).__name__}")
        surrogate = lone_surrogate(data)
        if surrogate is not None:  # it would end the run's report, or promote, when written
            raise PlanError(f"{source}: {surrogate.describe()}")
        return _from_dict(data, source)

    @staticmethod
    def load(path: Path) -> Plan:
        why = not_regular(path)
        if why is not None:
            raise PlanError(f"{path}: {why}")
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
    unknown = sorted(str(k) for k in data if k not in _KEYS)
    if unknown:
        raise PlanError(f"{source}: unknown key {show_value(unknown[0])} (known: "
                        f"{', '.join(_KEYS)})")
    fmt = data.get("stsPropsPlan", PLAN_FORMAT)
    if fmt != PLAN_FORMAT or isinstance(fmt, bool):
        raise PlanError(f"{source}: plan format {show_value(fmt)} is not supported (this "
                        f"sts-props reads format {PLAN_FORMAT})")
    name, upstream, description = (_text(data, key, source)
                                   for key in ("name", "upstream", "description"))
    for key, text in (("name", name), ("upstream", upstream)):
        if any(not ch.isprintable() for ch in text):
            # both are shown inside one-line reports (replay's verdict, JUnit test names)
            raise PlanError(f"{source}: {key}: must be one line of printable text, got "
                            f"{show_value(text)}")
    manifests = data.get("manifests")
    if manifests is None:
        raise PlanError(f"{source}: missing 'manifests' (a plan needs manifests.statefulset "
                        "and ops)")
    if not isinstance(manifests, dict) or not isinstance(manifests.get("statefulset"), dict):
        raise PlanError(f"{source}: manifests.statefulset must be a mapping (the StatefulSet)")
    try:
        checked = Manifests.from_dict(manifests)
    except ManifestError as exc:
        raise PlanError(f"{source}: {exc}") from None
    ops = _ops(data.get("ops"), source)
    backend = data.get("backend") or "model"
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise PlanError(f"{source}: backend {show_value(backend)} is not one of "
                        f"{', '.join(BACKENDS)}")
    version = data.get("k8sVersion") or DEFAULT_VERSION
    if not isinstance(version, str):
        # YAML reads an unquoted 1.30 as the number 1.3: refuse it rather than guess
        raise PlanError(f"{source}: k8sVersion: not a Kubernetes version: {show_value(version)} "
                        "(write it as a string, e.g. v1.37.2)")
    gates = _gates(data.get("gates"), source)
    try:
        parse_version(version)
        check_gate_settings(gates, version)
    except ValueError as exc:
        raise PlanError(f"{source}: {exc}") from None
    mutant = data.get("mutant")
    if mutant is not None:
        if not isinstance(mutant, str):
            raise PlanError(f"{source}: mutant: must be a mutant's name, got "
                            f"{show_value(mutant)}")
        if mutant not in MUTANT_NAMES:
            raise PlanError(f"{source}: unknown mutant {show_value(mutant)}; known: "
                            f"{', '.join(MUTANT_NAMES)}")
    seed = data.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise PlanError(f"{source}: seed must be an integer or null, got {show_value(seed)}")
    raw_expect = data.get("expect") or []
    if not isinstance(raw_expect, list):
        raise PlanError(f"{source}: expect: must be a list of expectations, got "
                        f"{show_value(raw_expect)}")
    expect = []
    for i, entry in enumerate(raw_expect):
        try:
            expect.append(Expectation.from_dict(entry, len(ops)))
        except ExpectationError as exc:
            raise PlanError(f"{source}: expect[{i}]: {exc}") from None
    origin = data.get("origin") or {}
    if not isinstance(origin, dict):
        raise PlanError(f"{source}: origin must be a mapping of strings")
    for key, value in origin.items():
        if isinstance(value, dict | list) or value is None:
            raise PlanError(f"{source}: origin.{key}: must be a string, got "
                            f"{show_value(value)}")
    scenario = Scenario(checked, ops, name)
    return Plan(scenario, name=name, upstream=upstream, description=description,
                backend=backend, k8s_version=version, gates=gates,
                mutant=None if mutant is None else str(mutant), seed=seed,
                interleavings=_interleavings(data.get("interleavings"), source),
                expect=tuple(expect), origin=tuple((str(k), str(v)) for k, v in origin.items()))


def _text(data: dict[str, Any], key: str, source: str) -> str:
    """An optional free-text field (name, upstream, description): a string or absent."""
    text = as_text(data.get(key))
    if text is None:
        raise PlanError(f"{source}: {key}: must be a string, got {show_value(data.get(key))}")
    return text


def _ops(raw: Any, source: str) -> tuple[Op, ...]:
    """The ``ops`` list: each entry typed (:func:`~sts_props.ops.op_from_dict`), scale ops
    within what the model runs, and revert_template naming a version that can exist."""
    if not isinstance(raw, list):
        raise PlanError(f"{source}: 'ops' must be a list of ops, e.g. [{{op: create}}]")
    ops: list[Op] = []
    template_changes = 0  # versions a revert_template may name: 0..template_changes
    for i, entry in enumerate(raw):
        try:
            op = op_from_dict(entry, i)
        except OpFormatError as exc:
            raise PlanError(f"{source}: {exc}") from None
        if isinstance(op, Scale) and op.replicas > MAX_MODEL_REPLICAS:
            raise PlanError(f"{source}: ops[{i}] (scale): replicas: {op.replicas} is more than "
                            f"the model runs (at most {MAX_MODEL_REPLICAS}; an sts-props limit)")
        if isinstance(op, RevertTemplate) and not 0 <= op.version <= template_changes:
            raise PlanError(f"{source}: ops[{i}] (revert_template): version: must be 0.."
                            f"{template_changes} (0 is the created template, each earlier "
                            f"set_template or revert_template adds one), got {op.version}")
        if isinstance(op, SetTemplate | RevertTemplate):
            template_changes += 1
        ops.append(op)
    return tuple(ops)


def _gates(raw: Any, source: str) -> tuple[tuple[str, bool], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise PlanError(f"{source}: gates must be a mapping like {{{GATES[0]}: true}}")
    for name, value in raw.items():
        if not isinstance(value, bool):
            raise PlanError(f"{source}: gate {show_value(str(name))} must be true or false, got "
                            f"{show_value(value)}")
    return tuple(sorted((str(k), bool(v)) for k, v in raw.items()))


def _interleavings(raw: Any, source: str) -> tuple[Interleaving, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise PlanError(f"{source}: interleavings must be a list of {{steps, picks}}")
    out = []
    for i, item in enumerate(raw):
        where = f"{source}: interleavings[{i}]"
        if not isinstance(item, dict):
            raise PlanError(f"{where}: must be a mapping {{steps: null or a count, picks: "
                            f"[integers]}}, got {show_value(item)}")
        extra = sorted(str(k) for k in item if k not in ("steps", "picks"))
        if extra:
            raise PlanError(f"{where}: unknown key {show_value(extra[0])} (known: steps, picks)")
        steps, picks = item.get("steps"), item.get("picks") or []
        if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int)
                                  or not 0 <= steps <= MAX_SETTLE_STEPS):
            raise PlanError(f"{where}.steps: must be null (drain) or a count 0.."
                            f"{MAX_SETTLE_STEPS}, got {show_value(steps)}")
        if not isinstance(picks, list):
            raise PlanError(f"{where}.picks: must be a list of integers, got "
                            f"{show_value(picks)}")
        for j, pick in enumerate(picks):
            if isinstance(pick, bool) or not isinstance(pick, int) or not 0 <= pick < 2**31:
                raise PlanError(f"{where}.picks[{j}]: must be an integer 0..{2**31 - 1}, "
                                f"got {show_value(pick)}")
        out.append(Interleaving(steps, tuple(picks)))
    return tuple(out)
