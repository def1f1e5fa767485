"""Hypothesis strategies for operation sequences and whole Scenarios.

:func:`op_sequences` draws ops one at a time while tracking what the set looks like after each
(replicas, ordinals.start, update strategy, template versions, whether the set exists), so that
the ops stay meaningful: pod ops mostly target ordinals in the current range, RevertTemplate only
names versions that exist, partition/maxUnavailable edits mostly happen under RollingUpdate, and
RecreateSet mostly follows a DeleteSet. A Settle comes every 1-4 ops and always last.

>>> from hypothesis import given, settings
>>> from sts_props.ops import Create, Settle
>>> from sts_props.scenario import Manifests
>>> @settings(max_examples=20, database=None)
... @given(op_sequences(Manifests.seed(), max_ops=8))
... def check(ops):
...     assert isinstance(ops[0], Create) and isinstance(ops[-1], Settle)
>>> check()

:func:`scenarios` combines
:func:`~sts_props.strategies.manifests.valid_statefulsets` with op sequences:

>>> from sts_props.model import run_model
>>> @settings(max_examples=5, database=None)
... @given(scenarios(max_ops=6))
... def runs(sc):
...     assert not run_model(sc).unsettled
>>> runs()
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

from hypothesis import strategies as st

from sts_props.model.config import ModelConfig
from sts_props.model.validation import default_statefulset, validate_create
from sts_props.ops import (
    FAULT_OPS,
    SPEC_OPS,
    AllowPodWrites,
    Create,
    DeletePod,
    DeletePVC,
    DeleteSet,
    DenyPodWrites,
    EvictPod,
    FailNode,
    FailPod,
    FlapReadiness,
    HoldNotReady,
    HoldScheduling,
    HoldTerminating,
    KillPod,
    Op,
    RecreateSet,
    ReleasePod,
    ReleaseScheduling,
    ReleaseTerminating,
    RestartApiserver,
    RestartController,
    RevertTemplate,
    Scale,
    SetMaxUnavailable,
    SetMinReadySeconds,
    SetOrdinalsStart,
    SetPartition,
    SetRetention,
    SetTemplate,
    Settle,
    SetUpdateStrategy,
    TemplateField,
)
from sts_props.scenario import Manifests, Scenario
from sts_props.spec_edit import SpecEditor
from sts_props.strategies.manifests import image_values, valid_statefulsets

__all__ = [
    "ALL_FAULTS",
    "TEMPLATE_VALUES",
    "max_unavailable_values",
    "op_sequences",
    "scenarios",
    "with_fault",
]

#: Values of SetTemplate(env/annotation). A small pool on purpose: re-setting the current value
#: is a no-op (no new revision), and setting an older value is a rollback through SetTemplate
#: (REV-7 bumps the old revision); both are worth exercising.
TEMPLATE_VALUES = ("v1", "v2", "v3")

SetState = Literal["present", "deleting", "absent"]

#: Every fault kind of issue 5 (``sts-props check --faults`` on the model generates them all).
ALL_FAULTS: frozenset[str] = frozenset(FAULT_OPS)

#: Weights of the fault kinds while the set is present; against the ~45 of the other ops a
#: fault comes about once in five ops. ``allow_pod_writes``, ``release_terminating`` and
#: ``release_scheduling`` get their weight only while something is denied or held.
_FAULT_WEIGHTS = {
    "kill_pod": 2, "evict_pod": 2, "flap_readiness": 2, "hold_terminating": 2,
    "fail_node": 2, "restart_controller": 2, "restart_apiserver": 1, "deny_pod_writes": 1,
    "hold_scheduling": 1,
}
#: Ops allowed while a DenyPodWrites is in force: the model covers refused creates, RP-1 and
#: condemned deletes and user deletes, but not refused update deletions or GC, so no template,
#: strategy or set-deletion ops (and no node failure, whose pod GC would be refused) meanwhile.
_WHILE_DENIED = ("scale", "delete_pod", "kill_pod", "evict_pod", "fail_pod", "flap_readiness",
                 "restart_controller", "set_retention", "set_min_ready_seconds")
#: Ops drawn while a HoldScheduling is in force: those that make a pod be (re)created Pending
#: (scale, deletes, RP-1, a node failure), touch the claims of Pending pods (delete_pvc: STO-5;
#: set_retention: STO-5 re-applies the retention refs) or end other holds. Not meanwhile:
#: template and strategy edits (a rollout would stop at its first Pending pod, which is
#: UPD-12 territory, not this fault's), set deletion, and new holds or denials; HoldNotReady
#: is left out because on kwok its annotation keeps the pod from ever starting.
_WHILE_SCHEDULING_HELD = ("scale", "delete_pod", "delete_pvc", "kill_pod", "evict_pod",
                          "fail_pod", "flap_readiness", "fail_node", "restart_controller",
                          "set_retention", "release_pod", "release_terminating")


def max_unavailable_values(invalid: bool = False) -> st.SearchStrategy[int | str]:
    """Valid ``maxUnavailable`` values (ints 1..3, percentages); with ``invalid``, also the
    rejected ones of VAL-5 (0, "0%", "150%")."""
    valid = st.one_of(st.integers(1, 3), st.sampled_from(["25%", "50%", "100%"]))
    if not invalid:
        return valid
    return st.one_of(valid, st.sampled_from([0, "0%", "150%"]))


@dataclass
class _Shadow:
    """What the generator knows about the set after the ops drawn so far.

    The template versions are tracked with a real :class:`SpecEditor`, fed only the ops that are
    certainly accepted, so ``RevertTemplate(v)`` always names an existing version: the count only
    grows when the template actually changes (SpecEditor.accept compares templates).
    """

    editor: SpecEditor
    state: SetState
    has_claims: bool
    images: tuple[str, ...]
    held: set[int] = field(default_factory=set)
    denied: set[int] = field(default_factory=set)
    finalized: set[int] = field(default_factory=set)
    #: a HoldScheduling is in force (new pods stay Pending)
    scheduling_held: bool = False
    fault_kinds: frozenset[str] = frozenset()

    @property
    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = self.editor.manifest.get("spec") or {}
        return spec

    @property
    def replicas(self) -> int:
        value = self.spec.get("replicas")
        return 1 if value is None else int(value)

    @property
    def start(self) -> int:
        return int((self.spec.get("ordinals") or {}).get("start") or 0)

    @property
    def strategy(self) -> str:
        return str((self.spec.get("updateStrategy") or {}).get("type") or "RollingUpdate")

    @property
    def versions(self) -> int:
        return len(self.editor.template_versions)

    def record(self, op: Op) -> None:
        """Advance the shadow past ``op`` (only what is certain; see the class docstring)."""
        if isinstance(op, Settle):
            if self.state == "deleting":
                self.state = "absent"  # a settle waits until the deletion is done (DEL-1)
            return
        if isinstance(op, DeleteSet):
            if self.state == "present":
                # Foreground/Orphan keep the set for a while: until the next Settle nobody knows
                # whether a spec op would hit the old set or a 404, so none is drawn meanwhile.
                self.state = "deleting"
            self.held.clear()
            return
        if isinstance(op, RecreateSet):
            if self.state == "absent":
                self.state = "present"
            return
        if isinstance(op, HoldNotReady):
            self.held.add(op.ordinal)
            return
        if isinstance(op, ReleasePod):
            self.held.discard(op.ordinal)
            return
        if isinstance(op, DenyPodWrites):
            self.denied.add(op.ordinal)
            return
        if isinstance(op, AllowPodWrites):
            self.denied.clear()
            return
        if isinstance(op, HoldTerminating):
            self.finalized.add(op.ordinal)
            return
        if isinstance(op, ReleaseTerminating):
            self.finalized.discard(op.ordinal)
            return
        if isinstance(op, HoldScheduling | ReleaseScheduling):
            self.scheduling_held = isinstance(op, HoldScheduling)
            return
        if op.kind not in SPEC_OPS or self.state != "present":
            return
        if _certainly_valid(op, self.strategy):
            self.editor.accept(op, self.editor.propose(op))


def _certainly_valid(op: Op, strategy: str) -> bool:
    """Would the apiserver accept this spec edit of a valid set, whatever the version?"""
    if isinstance(op, Scale):
        return op.replicas >= 0
    if isinstance(op, SetPartition):
        return op.partition >= 0 and strategy == "RollingUpdate"  # VAL-5: no block on OnDelete
    if isinstance(op, SetMaxUnavailable):
        # Invalid values are *dropped* when the gate is off (UPD-11): uncertain either way,
        # but maxUnavailable affects nothing the shadow tracks, so "not accepted" is safe.
        return strategy == "RollingUpdate" and (
            (isinstance(op.value, int) and op.value >= 1)
            or (isinstance(op.value, str) and op.value.endswith("%")
                and 1 <= int(op.value[:-1] or 0) <= 100))
    if isinstance(op, SetOrdinalsStart):
        return op.start >= 0
    if isinstance(op, SetMinReadySeconds):
        return op.seconds >= 0
    return isinstance(op, SetTemplate | RevertTemplate | SetUpdateStrategy | SetRetention)


def _creates_ok(manifests: Manifests) -> bool:
    config = ModelConfig()
    return not validate_create(default_statefulset(manifests.statefulset, config), config)


def _rare(draw: st.DrawFn, label: str) -> bool:
    """True about one time in ten; shrinks to False (the common, meaningful case)."""
    return draw(st.integers(0, 9), label=label) == 9


def _ordinal(draw: st.DrawFn, shadow: _Shadow) -> int:
    """Mostly an ordinal in ``[start, start+replicas)``; sometimes anywhere up to two above the
    range (a condemned pod, or none: the op then answers 404 NotFound)."""
    lo, n = shadow.start, shadow.replicas
    if n > 0 and not _rare(draw, "ordinal outside the range?"):
        return lo + draw(st.integers(0, n - 1), label="slot")
    return draw(st.integers(0, lo + n + 1), label="ordinal")


def _choices(shadow: _Shadow, faults: bool) -> list[str]:
    """Op kinds with integer weights for the shadow's state; the first one is what shrinks."""
    weights: dict[str, int]
    if shadow.state == "present":
        rolling = shadow.strategy == "RollingUpdate"
        weights = {
            "scale": 10, "set_template": 8,
            "revert_template": 4 if shadow.versions > 1 else 0,
            "set_partition": 5 if rolling else 1,
            "set_max_unavailable": 3 if rolling else 1,
            "set_update_strategy": 3, "set_ordinals_start": 3, "set_retention": 3,
            "set_min_ready_seconds": 2, "delete_set": 2, "recreate_set": 1,
        }
        if faults:
            weights |= {"delete_pod": 5, "fail_pod": 3, "hold_not_ready": 3,
                        "release_pod": 4 if shadow.held else 1,
                        "delete_pvc": 2 if shadow.has_claims else 0}
        weights |= {k: w for k, w in _FAULT_WEIGHTS.items() if k in shadow.fault_kinds}
        if "release_terminating" in shadow.fault_kinds and shadow.finalized:
            weights["release_terminating"] = 5
        if shadow.denied:
            weights = {k: w for k, w in weights.items() if k in _WHILE_DENIED}
            weights["allow_pod_writes"] = 8
        if shadow.scheduling_held:
            weights = {k: w for k, w in weights.items() if k in _WHILE_SCHEDULING_HELD}
            if shadow.has_claims and "delete_pvc" in weights:
                weights["delete_pvc"] = 5  # the point of the hold: a Pending pod's claim (STO-5)
            weights["release_scheduling"] = 6
    elif shadow.state == "deleting":
        # Let the deletion finish (the next Settle) before anything depends on it.
        weights = {"settle": 8, "delete_set": 1}
        if faults:
            weights |= {"delete_pod": 2, "fail_pod": 1, "delete_pvc": 1 if shadow.has_claims else 0}
    else:
        weights = {"recreate_set": 10, "scale": 1, "delete_set": 1}
        if faults:
            weights |= {"delete_pod": 2, "delete_pvc": 1 if shadow.has_claims else 0}
    return [kind for kind, w in weights.items() for _ in range(w)]


def _draw_op(draw: st.DrawFn, shadow: _Shadow, kind: str, max_replicas: int,
             invalid: bool) -> Op:
    def bad(label: str) -> bool:
        return invalid and _rare(draw, label)

    if kind == "settle":
        return Settle()
    if kind == "scale":
        return Scale(-1 if bad("negative replicas?") else draw(st.integers(0, max_replicas),
                                                              label="replicas"))
    if kind == "set_template":
        fields: list[TemplateField] = ["env", "annotation"]
        if len(shadow.images) > 1:
            fields.append("image")
        which = draw(st.sampled_from(fields), label="template field")
        values = shadow.images if which == "image" else TEMPLATE_VALUES
        return SetTemplate(which, draw(st.sampled_from(values), label="value"))
    if kind == "revert_template":
        return RevertTemplate(draw(st.integers(0, shadow.versions - 1), label="version"))
    if kind == "set_partition":
        if bad("negative partition?"):
            return SetPartition(-1)
        return SetPartition(draw(st.integers(0, shadow.replicas + 1), label="partition"))
    if kind == "set_max_unavailable":
        if bad("invalid maxUnavailable?"):
            rejected: list[int | str] = [0, "0%", "150%"]
            return SetMaxUnavailable(draw(st.sampled_from(rejected), label="maxUnavailable"))
        return SetMaxUnavailable(draw(max_unavailable_values(), label="maxUnavailable"))
    if kind == "set_update_strategy":
        # Mostly a real switch; the same type again is a valid no-op edit.
        other = "OnDelete" if shadow.strategy == "RollingUpdate" else "RollingUpdate"
        return SetUpdateStrategy(draw(st.sampled_from([other, shadow.strategy]), label="type"))
    if kind == "set_ordinals_start":
        return SetOrdinalsStart(-1 if bad("negative start?") else draw(st.integers(0, 3),
                                                                      label="start"))
    if kind == "set_retention":
        retention = ["Retain", "Delete"]
        return SetRetention(draw(st.sampled_from(retention), label="whenDeleted"),
                            draw(st.sampled_from(retention), label="whenScaled"))
    if kind == "set_min_ready_seconds":
        if bad("negative minReadySeconds?"):
            return SetMinReadySeconds(-1)
        return SetMinReadySeconds(draw(st.sampled_from([0, 1, 2, 5]), label="seconds"))
    if kind == "delete_set":
        return DeleteSet(draw(st.sampled_from(["Background", "Foreground", "Orphan"]),
                              label="propagation"))
    if kind == "recreate_set":
        return RecreateSet()
    if kind == "release_pod" and shadow.held and not _rare(draw, "release a pod not held?"):
        return ReleasePod(draw(st.sampled_from(sorted(shadow.held)), label="held ordinal"))
    ordinal = _ordinal(draw, shadow)
    if kind == "delete_pod":
        return DeletePod(ordinal)
    if kind == "fail_pod":
        return FailPod(ordinal, draw(st.sampled_from(["Failed", "Succeeded"]), label="phase"))
    if kind == "hold_not_ready":
        return HoldNotReady(ordinal)
    if kind == "release_pod":
        return ReleasePod(ordinal)
    if kind == "delete_pvc":
        return DeletePVC(ordinal)
    fault = _fault_op(kind, ordinal, shadow)
    if fault is not None:
        return fault
    raise AssertionError(f"no generator for op kind {kind!r}")  # pragma: no cover


def _fault_op(kind: str, ordinal: int, shadow: _Shadow) -> Op | None:
    """The issue-5 fault op of ``kind`` on ``ordinal`` (None if ``kind`` is not a fault)."""
    simple: dict[str, type[KillPod | EvictPod | FlapReadiness | HoldTerminating | FailNode
                        | DenyPodWrites]] = {
        "kill_pod": KillPod, "evict_pod": EvictPod, "flap_readiness": FlapReadiness,
        "hold_terminating": HoldTerminating, "fail_node": FailNode,
        "deny_pod_writes": DenyPodWrites,
    }
    if kind in simple:
        return simple[kind](ordinal)
    if kind == "release_terminating":
        return ReleaseTerminating(min(shadow.finalized) if shadow.finalized else ordinal)
    if kind == "restart_controller":
        return RestartController()
    if kind == "restart_apiserver":
        return RestartApiserver()
    if kind == "allow_pod_writes":
        return AllowPodWrites()
    if kind == "hold_scheduling":
        return HoldScheduling()
    if kind == "release_scheduling":
        return ReleaseScheduling()
    return None


#: One-op faults on a pod that ``with_fault`` can insert (plus the recipes in its body).
POD_FAULT_RECIPES: dict[str, type[KillPod] | type[EvictPod] | type[FlapReadiness]] = {
    "kill_pod": KillPod, "evict_pod": EvictPod, "flap_readiness": FlapReadiness}
#: Every kind ``with_fault`` knows.
INSERTABLE_FAULTS = ("restart_controller", "restart_apiserver", "fail_node", "deny_pod_writes",
                     "hold_scheduling", *POD_FAULT_RECIPES)


def with_fault(scenario: Scenario, kind: str) -> Scenario:
    """``scenario`` with one fault of ``kind`` inserted right after its first Settle, so that
    a suite can guarantee that some scenarios exercise it (``sts-props check --faults``).

    ``restart_controller`` and ``restart_apiserver`` follow the op after that Settle (the
    restart then lands while that op is reconciled); ``fail_node`` fails the node of the
    highest pod; ``deny_pod_writes`` opens a short window on the highest pod: deny, fail the
    pod (its RP-1 delete is refused), allow, settle; ``hold_scheduling`` is "a Pending pod
    loses its claim" (STO-5): hold scheduling, make the highest pod ``k`` be re-created
    Pending (delete it, or, for scenarios of even length, scale up by one so that ``k`` is
    new), delete its claim, settle (the controller re-creates the claim, since the pod is
    Pending), release, settle.

    >>> from sts_props.ops import Create, Scale, Settle
    >>> sc = Scenario(Manifests.seed(), (Create(), Settle(), Scale(1), Settle()))
    >>> [op.kind for op in with_fault(sc, "restart_controller").ops]
    ['create', 'settle', 'scale', 'restart_controller', 'settle']
    >>> [op.kind for op in with_fault(sc, "restart_apiserver").ops]
    ['create', 'settle', 'scale', 'restart_apiserver', 'settle']
    >>> [op.describe() for op in with_fault(sc, "deny_pod_writes").ops][2:6]
    ['deny writes to pod 2', 'make pod 2 Failed', 'allow pod writes again', 'settle']
    >>> [op.describe() for op in with_fault(sc, "kill_pod").ops][2:4]
    ['kill pod 2 (grace 0)', 'settle']
    >>> [op.kind for op in with_fault(sc, "hold_scheduling").ops][2:8]
    ['hold_scheduling', 'scale', 'delete_pvc', 'settle', 'release_scheduling', 'settle']
    """
    ops = list(scenario.ops)
    at = next((i + 1 for i, op in enumerate(ops) if isinstance(op, Settle)), len(ops))
    spec = scenario.manifests.statefulset.get("spec") or {}
    replicas = spec.get("replicas")
    replicas = 1 if replicas is None else int(replicas)
    start = int((spec.get("ordinals") or {}).get("start") or 0)
    # A set created with 0 replicas has no pod to fault: scale it up first.
    prefix: list[Op] = [] if replicas > 0 else [Scale(2), Settle()]
    top = start + (replicas if replicas > 0 else 2) - 1
    inserted: list[Op]
    if kind in ("restart_controller", "restart_apiserver"):
        restart: Op = RestartController() if kind == "restart_controller" else RestartApiserver()
        if at < len(ops) and not isinstance(ops[at], Settle):
            at += 1  # the restart follows this op, which is still being reconciled
            inserted = [restart]
        else:  # no op in flight there: start a rollout (an annotation change) to interrupt
            inserted = [*prefix, SetTemplate("annotation", "restart"), restart, Settle()]
    elif kind == "fail_node":
        inserted = [*prefix, FailNode(top), Settle()]
    elif kind == "deny_pod_writes":
        inserted = [*prefix, DenyPodWrites(top), FailPod(top), AllowPodWrites(), Settle()]
    elif kind == "hold_scheduling":
        # Both ways a slot pod gets created while nothing is scheduled; alternate (with no
        # randomness here) so that both are exercised.
        size = replicas if replicas > 0 else 2
        if len(ops) % 2:
            pending: list[Op] = [DeletePod(top)]
            target = top
        else:
            pending, target = [Scale(size + 1)], top + 1
        inserted = [*prefix, HoldScheduling(), *pending, DeletePVC(target), Settle(),
                    ReleaseScheduling(), Settle()]
    elif kind in POD_FAULT_RECIPES:
        inserted = [*prefix, POD_FAULT_RECIPES[kind](top), Settle()]
    else:
        raise ValueError(f"with_fault: no recipe for {kind!r}")
    return dataclasses.replace(scenario, ops=tuple(ops[:at] + inserted + ops[at:]))


def op_sequences(
    manifests: Manifests,
    min_ops: int = 1,
    max_ops: int = 20,
    faults: bool = True,
    *,
    max_replicas: int = 5,
    invalid: bool = True,
    fault_kinds: frozenset[str] = frozenset(),
) -> st.SearchStrategy[tuple[Op, ...]]:
    """Op sequences for ``manifests``: ``Create()``, then ``min_ops..max_ops`` ops (Settles
    included), then a final ``Settle()`` unless the last op already is one.

    ``faults=False`` leaves out pod and PVC disruptions (DeletePod, FailPod, HoldNotReady,
    ReleasePod, DeletePVC); ``fault_kinds`` adds the issue-5 faults of those kinds (see
    :data:`ALL_FAULTS`; a backend passes what it can perform); ``invalid=False`` leaves out
    the rare out-of-range values that the API rejects (negative replicas, maxUnavailable 0,
    ...), which otherwise test the 422 path.

    >>> from hypothesis import find
    >>> from sts_props.scenario import Manifests
    >>> find(op_sequences(Manifests.seed()), lambda ops: True)   # the minimal sequence
    (Create(), Settle())
    """
    if min_ops < 0 or max_ops < min_ops:
        raise ValueError(f"need 0 <= min_ops <= max_ops, got min_ops={min_ops}, "
                         f"max_ops={max_ops}")
    return _op_sequences(manifests, min_ops, max_ops, faults, max_replicas, invalid,
                         frozenset(fault_kinds))


@st.composite
def _op_sequences(draw: st.DrawFn, manifests: Manifests, min_ops: int, max_ops: int,
                  faults: bool, max_replicas: int, invalid: bool,
                  fault_kinds: frozenset[str]) -> tuple[Op, ...]:
    statefulset = copy.deepcopy(manifests.statefulset)
    spec = statefulset.get("spec") or {}
    shadow = _Shadow(
        editor=SpecEditor(statefulset),
        state="present" if _creates_ok(manifests) else "absent",
        has_claims=bool(spec.get("volumeClaimTemplates")),
        images=image_values(manifests),
        fault_kinds=fault_kinds,
    )
    ops: list[Op] = [Create()]
    count = draw(st.integers(min_ops, max_ops), label="number of ops")
    gap = draw(st.integers(1, 4), label="ops before the next settle")
    since_settle = 1  # Create counts: "Create, Settle" is the canonical start
    while len(ops) - 1 < count:
        if since_settle >= gap:
            op: Op = Settle()
        else:
            kind = draw(st.sampled_from(_choices(shadow, faults)), label="op")
            op = _draw_op(draw, shadow, kind, max_replicas, invalid)
        ops.append(op)
        shadow.record(op)
        if isinstance(op, Settle):
            since_settle = 0
            gap = draw(st.integers(1, 4), label="ops before the next settle")
        else:
            since_settle += 1
    # Faults stop before the end, so that the last settle judges liveness (10.4).
    if shadow.denied:
        ops.append(AllowPodWrites())
    ops.extend(ReleaseTerminating(o) for o in sorted(shadow.finalized))
    if shadow.scheduling_held:
        ops.append(ReleaseScheduling())
    if not isinstance(ops[-1], Settle):
        ops.append(Settle())
    return tuple(ops)


def scenarios(
    base: Manifests | None = None,
    max_ops: int = 20,
    max_replicas: int = 5,
    *,
    faults: bool = True,
    invalid: bool = True,
    fault_kinds: frozenset[str] = frozenset(),
) -> st.SearchStrategy[Scenario]:
    """Whole Scenarios: valid manifests (from ``base``, see ``valid_statefulsets``) plus ops
    (``op_sequences`` with ``1..max_ops`` ops after Create).

    >>> from hypothesis import find
    >>> sc = find(scenarios(), lambda sc: any(op.kind == "scale" for op in sc.ops))
    >>> sc.manifests.set_name, [op.kind for op in sc.ops]
    ('redis', ['create', 'scale', 'settle'])
    """
    if max_ops < 1 or max_replicas < 0:
        raise ValueError(f"need max_ops >= 1 and max_replicas >= 0, got max_ops={max_ops}, "
                         f"max_replicas={max_replicas}")
    return _scenarios(base, max_ops, max_replicas, faults, invalid, frozenset(fault_kinds))


@st.composite
def _scenarios(draw: st.DrawFn, base: Manifests | None, max_ops: int, max_replicas: int,
               faults: bool, invalid: bool, fault_kinds: frozenset[str]) -> Scenario:
    manifests = draw(valid_statefulsets(base, max_replicas=max_replicas), label="manifests")
    ops = draw(op_sequences(manifests, 1, max_ops, faults, max_replicas=max_replicas,
                            invalid=invalid, fault_kinds=fault_kinds), label="ops")
    return Scenario(manifests, ops)
