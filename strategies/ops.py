"""Hypothesis strategies for operation sequences and whole Scenarios.

:func:`op_sequences` draws ops one at a time while tracking what the set looks like after each
(replicas, ordinals.start, update strategy, template versions, whether the set exists), so that
the ops stay meaningful: pod ops mostly target ordinals in the current range, RevertTemplate only
names versions that exist, partition/maxUnavailable edits mostly happen under RollingUpdate, and
RecreateSet mostly follows a DeleteSet. A Settle comes every 1-4 ops and always last.

How each op class is drawn is its entry in :data:`RECIPES` (a :class:`Recipe`: the builder, a
fault's weight, whether it may come while pod writes are denied or scheduling is held, how
:func:`with_fault` inserts it); the lists of kinds the generators and suites use
(``INSERTABLE_FAULTS``, ``GUARANTEED_FAULTS``, ...) are derived from those entries.

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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from hypothesis import strategies as st

from sts_props.model.config import ModelConfig
from sts_props.model.validation import default_statefulset, validate_create
from sts_props.ops import (
    FAULT_OPS,
    OP_TYPES,
    SPEC_OPS,
    AllowPodWrites,
    Create,
    DeletePod,
    DeletePVC,
    DeleteRevision,
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
    MarkPodStale,
    Op,
    RecreateSet,
    RelabelPod,
    ReleasePod,
    ReleaseScheduling,
    ReleaseTerminating,
    ReplaceRevision,
    RestartApiserver,
    RestartController,
    RevertTemplate,
    Scale,
    SetHistoryLimit,
    SetMaxUnavailable,
    SetMinReadySeconds,
    SetOrdinalsStart,
    SetPartition,
    SetRetention,
    SetTemplate,
    Settle,
    SetUpdateStrategy,
    TemplateField,
    UnlabelPod,
)
from sts_props.scenario import Manifests, Scenario
from sts_props.spec_edit import SpecEditor
from sts_props.strategies.manifests import image_values, valid_statefulsets

__all__ = [
    "ALL_FAULTS",
    "GUARANTEED_FAULTS",
    "HISTORY_LIMITS",
    "INSERTABLE_FAULTS",
    "NOT_DRAWN",
    "RECIPES",
    "TEMPLATE_VALUES",
    "Recipe",
    "max_unavailable_values",
    "op_sequences",
    "scenarios",
    "with_fault",
]

#: Values of SetTemplate(env/annotation). A small pool on purpose: re-setting the current value
#: is a no-op (no new revision), and setting an older value is a rollback through SetTemplate
#: (REV-7 bumps the old revision); both are worth exercising.
TEMPLATE_VALUES = ("v1", "v2", "v3")
#: revisionHistoryLimit values SetHistoryLimit draws. 0 first (shrinks there): every non-live
#: revision goes at the next sync (REV-11); -1 keeps them all (REV-12); 10 is the default.
HISTORY_LIMITS = (0, 1, 2, -1, 10)

SetState = Literal["present", "deleting", "absent"]

#: Every fault kind of issue 5 (``sts-props check --faults`` on the model generates them all).
ALL_FAULTS: frozenset[str] = frozenset(FAULT_OPS)

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
    #: pods relabelled out of the selector (UnlabelPod) and not back yet
    unlabelled: set[int] = field(default_factory=set)
    denied: set[int] = field(default_factory=set)
    finalized: set[int] = field(default_factory=set)
    #: a HoldScheduling is in force (new pods stay Pending)
    scheduling_held: bool = False
    fault_kinds: frozenset[str] = frozenset()
    #: the alpha gate StatefulSetRecreateStrategy is on: Recreate is a strategy to switch to
    recreate: bool = False

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
            if self.state == "deleting" and not self.denied:
                # A settle waits until the deletion is done (DEL-1). Not while a pod's writes
                # are denied: the GC's DELETE of that pod is refused, and a Foreground
                # deletion waits for it, so the set may still be there.
                self.state = "absent"
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
        if isinstance(op, UnlabelPod | RelabelPod):
            # An orphan outlives its set's deletion (no ownerRef for the garbage collector),
            # so it stays here until relabelled.
            (self.unlabelled.add if isinstance(op, UnlabelPod) else self.unlabelled.discard)(
                op.ordinal)
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
    # SetHistoryLimit: any integer is accepted (a negative one with a warning, REV-12)
    return isinstance(op, SetTemplate | RevertTemplate | SetUpdateStrategy | SetRetention
                      | SetHistoryLimit)


def _creates_ok(manifests: Manifests, recreate: bool = False) -> bool:
    config = ModelConfig(gates=(("StatefulSetRecreateStrategy", recreate),))
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
            "set_min_ready_seconds": 2, "set_history_limit": 2 if shadow.versions > 1 else 1,
            "delete_set": 2, "recreate_set": 1,
        }
        if faults:
            weights |= {"delete_pod": 5, "fail_pod": 3, "hold_not_ready": 3,
                        "release_pod": 4 if shadow.held else 1,
                        "delete_pvc": 2 if shadow.has_claims else 0,
                        "unlabel_pod": 2, "relabel_pod": 4 if shadow.unlabelled else 0,
                        "mark_pod_stale": 2, "delete_revision": 2, "replace_revision": 2}
        weights |= {k: w for k, w in _FAULT_WEIGHTS.items() if k in shadow.fault_kinds}
        if "release_terminating" in shadow.fault_kinds and shadow.finalized:
            weights["release_terminating"] = 5
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
            weights |= {"delete_pod": 2, "delete_pvc": 1 if shadow.has_claims else 0,
                        "relabel_pod": 2 if shadow.unlabelled else 0}
    if shadow.denied:
        # A window opens only while the set is present, but may then span its deletion and
        # re-creation (DeleteSet is drawn in it): the same filter in every state.
        weights = {k: w for k, w in weights.items() if k in _WHILE_DENIED or k == "settle"}
        weights["allow_pod_writes"] = 8
    return [kind for kind, w in weights.items() for _ in range(w)]


# -- the recipes: how each op class is drawn ------------------------------------------------------
@dataclass(frozen=True)
class _Draw:
    """What a recipe's ``build`` draws with: the data, the shadow, the generator's options."""

    draw: st.DrawFn
    shadow: _Shadow
    max_replicas: int
    invalid: bool

    def bad(self, label: str) -> bool:
        """Rarely True when invalid values are wanted: draw one the API rejects."""
        return self.invalid and _rare(self.draw, label)

    def ordinal(self) -> int:
        return _ordinal(self.draw, self.shadow)


@dataclass(frozen=True)
class _Site:
    """Where :func:`with_fault` inserts a fault: right after the scenario's first Settle."""

    ops: list[Op]
    at: int
    #: ops that make a set created with 0 replicas have pods to fault (or nothing)
    prefix: list[Op]
    #: the highest pod's ordinal and the number of pods, once ``prefix`` ran
    top: int
    size: int


#: ``(site) -> (index, ops)``: insert ``ops`` at ``index`` (see :class:`Recipe`).
Insertion = Callable[[_Site], tuple[int, list[Op]]]


@dataclass(frozen=True)
class Recipe:
    """How the generators produce one op class (an entry of :data:`RECIPES`).

    ``build`` draws the op for :func:`op_sequences`; *when* a kind is drawn is :func:`_choices`
    (the weights of the non-fault kinds depend on the shadow's state and are written there),
    plus the fields below.
    """

    build: Callable[[_Draw], Op]
    #: a fault's weight among the ops drawn while the set is present (against ~45 for the
    #: others, so that a fault comes about once in five ops); 0 for a fault drawn only in the
    #: states :func:`_choices` names (the release of a hold, while something is held)
    weight: int = 0
    #: may be drawn while a DenyPodWrites is in force (see :data:`_WHILE_DENIED`)
    while_denied: bool = False
    #: may be drawn while a HoldScheduling is in force (see :data:`_WHILE_SCHEDULING_HELD`)
    while_scheduling_held: bool = False
    #: the state machine's ``pod_fault`` rule applies it to an existing pod: "ok" when it must
    #: then be accepted, "unpredicted" when the answer depends on more than the pod's existence
    machine: Literal["ok", "unpredicted"] | None = None
    #: how :func:`with_fault` inserts it into a scenario (None: it cannot)
    insert: Insertion | None = None
    #: cluster suites make sure that a few scenarios carry it (:data:`GUARANTEED_FAULTS`)
    guaranteed: bool = False


def _on_ordinal(make: Callable[[int], Op]) -> Callable[[_Draw], Op]:
    """An op on a drawn ordinal (mostly a pod of the current range, see :func:`_ordinal`)."""
    return lambda d: make(d.ordinal())


def _untargeted(make: Callable[[], Op]) -> Callable[[_Draw], Op]:
    """A fault on no pod. Its draw still starts with an ordinal (unused), like every other
    pod op's and fault's, so that a seed keeps drawing the same scenarios."""

    def build(d: _Draw) -> Op:
        d.ordinal()
        return make()

    return build


def _scale(d: _Draw) -> Op:
    if d.bad("negative replicas?"):
        return Scale(-1)
    return Scale(d.draw(st.integers(0, d.max_replicas), label="replicas"))


def _set_template(d: _Draw) -> Op:
    fields: list[TemplateField] = ["env", "annotation"]
    if len(d.shadow.images) > 1:
        fields.append("image")
    which = d.draw(st.sampled_from(fields), label="template field")
    values = d.shadow.images if which == "image" else TEMPLATE_VALUES
    return SetTemplate(which, d.draw(st.sampled_from(values), label="value"))


def _set_partition(d: _Draw) -> Op:
    if d.bad("negative partition?"):
        return SetPartition(-1)
    return SetPartition(d.draw(st.integers(0, d.shadow.replicas + 1), label="partition"))


def _set_max_unavailable(d: _Draw) -> Op:
    if d.bad("invalid maxUnavailable?"):
        rejected: list[int | str] = [0, "0%", "150%"]
        return SetMaxUnavailable(d.draw(st.sampled_from(rejected), label="maxUnavailable"))
    return SetMaxUnavailable(d.draw(max_unavailable_values(), label="maxUnavailable"))


def _set_update_strategy(d: _Draw) -> Op:
    # Mostly a real switch; the same type again is a valid no-op edit.
    current = d.shadow.strategy
    other = "OnDelete" if current == "RollingUpdate" else "RollingUpdate"
    choices = [other, current]
    if d.shadow.recreate:  # the other two types first, Recreate among them
        choices = [t for t in ("RollingUpdate", "OnDelete", "Recreate") if t != current]
        choices.append(current)
    return SetUpdateStrategy(d.draw(st.sampled_from(choices), label="type"))


def _set_ordinals_start(d: _Draw) -> Op:
    if d.bad("negative start?"):
        return SetOrdinalsStart(-1)
    return SetOrdinalsStart(d.draw(st.integers(0, 3), label="start"))


def _set_retention(d: _Draw) -> Op:
    retention = ["Retain", "Delete"]
    return SetRetention(d.draw(st.sampled_from(retention), label="whenDeleted"),
                        d.draw(st.sampled_from(retention), label="whenScaled"))


def _set_min_ready_seconds(d: _Draw) -> Op:
    if d.bad("negative minReadySeconds?"):
        return SetMinReadySeconds(-1)
    return SetMinReadySeconds(d.draw(st.sampled_from([0, 1, 2, 5]), label="seconds"))


def _set_history_limit(d: _Draw) -> Op:
    return SetHistoryLimit(d.draw(st.sampled_from(HISTORY_LIMITS), label="limit"))


def _release_pod(d: _Draw) -> Op:
    held = d.shadow.held
    if held and not _rare(d.draw, "release a pod not held?"):
        return ReleasePod(d.draw(st.sampled_from(sorted(held)), label="held ordinal"))
    return ReleasePod(d.ordinal())


def _relabel_pod(d: _Draw) -> Op:
    unlabelled = d.shadow.unlabelled
    if unlabelled and not _rare(d.draw, "relabel a pod not unlabelled?"):
        return RelabelPod(d.draw(st.sampled_from(sorted(unlabelled)), label="unlabelled ordinal"))
    return RelabelPod(d.ordinal())


def _release_terminating(d: _Draw) -> Op:
    ordinal = d.ordinal()
    finalized = d.shadow.finalized
    return ReleaseTerminating(min(finalized) if finalized else ordinal)


def _insert_on_top(make: Callable[[int], Op]) -> Insertion:
    """The fault on the highest pod, then a settle."""
    return lambda s: (s.at, [*s.prefix, make(s.top), Settle()])


def _insert_mid_operation(make: Callable[[], Op]) -> Insertion:
    """A restart follows the op after the first Settle, so that it lands while that op is
    reconciled; with no op in flight there, a rollout (an annotation change) is started for
    it to interrupt."""

    def insert(s: _Site) -> tuple[int, list[Op]]:
        if s.at < len(s.ops) and not isinstance(s.ops[s.at], Settle):
            return s.at + 1, [make()]
        return s.at, [*s.prefix, SetTemplate("annotation", "restart"), make(), Settle()]

    return insert


def _insert_denial(s: _Site) -> tuple[int, list[Op]]:
    """A short window on the highest pod. For scenarios of odd length: deny, fail the pod (its
    RP-1 delete is refused), allow, settle. For even length, a rollout inside the window:
    deny, change the template (the update step's deletion of the highest pod, the first it
    tries, is refused, so the rollout stays where it is), settle, allow, settle (the rollout
    resumes). Both ways alternate with no randomness here."""
    if len(s.ops) % 2:
        return s.at, [*s.prefix, DenyPodWrites(s.top), FailPod(s.top), AllowPodWrites(),
                      Settle()]
    return s.at, [*s.prefix, DenyPodWrites(s.top), SetTemplate("annotation", "denied"),
                  Settle(), AllowPodWrites(), Settle()]


def _insert_scheduling_hold(s: _Site) -> tuple[int, list[Op]]:
    """"A Pending pod loses its claim" (STO-5): hold scheduling, make the highest pod ``k``
    be re-created Pending (delete it, or, for scenarios of even length, scale up by one so
    that ``k`` is new), delete its claim, settle (the controller re-creates the claim, since
    the pod is Pending), release, settle. Both ways alternate with no randomness here."""
    pending: list[Op]
    if len(s.ops) % 2:
        pending, target = [DeletePod(s.top)], s.top
    else:
        pending, target = [Scale(s.size + 1)], s.top + 1
    return s.at, [*s.prefix, HoldScheduling(), *pending, DeletePVC(target), Settle(),
                  ReleaseScheduling(), Settle()]


#: The generator recipe of every op class but those in :data:`NOT_DRAWN`
#: (``tests/test_op_catalogue.py`` checks that none is missing).
RECIPES: dict[type[Op], Recipe] = {
    Scale: Recipe(_scale, while_denied=True, while_scheduling_held=True),
    SetTemplate: Recipe(_set_template, while_denied=True),
    RevertTemplate: Recipe(lambda d: RevertTemplate(
        d.draw(st.integers(0, d.shadow.versions - 1), label="version")), while_denied=True),
    SetPartition: Recipe(_set_partition, while_denied=True),
    SetMaxUnavailable: Recipe(_set_max_unavailable, while_denied=True),
    SetUpdateStrategy: Recipe(_set_update_strategy, while_denied=True),
    SetOrdinalsStart: Recipe(_set_ordinals_start, while_denied=True),
    SetRetention: Recipe(_set_retention, while_denied=True, while_scheduling_held=True),
    SetMinReadySeconds: Recipe(_set_min_ready_seconds, while_denied=True),
    SetHistoryLimit: Recipe(_set_history_limit, while_denied=True, while_scheduling_held=True),
    DeletePod: Recipe(_on_ordinal(DeletePod), while_denied=True, while_scheduling_held=True),
    FailPod: Recipe(lambda d: FailPod(d.ordinal(), d.draw(
        st.sampled_from(["Failed", "Succeeded"]), label="phase")),
        while_denied=True, while_scheduling_held=True),
    HoldNotReady: Recipe(_on_ordinal(HoldNotReady)),
    ReleasePod: Recipe(_release_pod, while_scheduling_held=True),
    # a label patch is an UPDATE, which a DenyPodWrites window allows (it denies CREATE and
    # DELETE); the machine's pod_fault rule applies both to any pod
    UnlabelPod: Recipe(_on_ordinal(UnlabelPod), while_denied=True, while_scheduling_held=True,
                       machine="ok"),
    RelabelPod: Recipe(_relabel_pod, while_denied=True, while_scheduling_held=True,
                       machine="ok"),
    # not while scheduling is held: the rollout it starts would stop at a Pending pod (UPD-12
    # territory, as for template edits)
    MarkPodStale: Recipe(_on_ordinal(MarkPodStale), while_denied=True, machine="ok"),
    DeleteSet: Recipe(lambda d: DeleteSet(d.draw(
        st.sampled_from(["Background", "Foreground", "Orphan"]), label="propagation")),
        while_denied=True),
    RecreateSet: Recipe(lambda d: RecreateSet(), while_denied=True),
    DeletePVC: Recipe(_on_ordinal(DeletePVC), while_scheduling_held=True),
    # a ControllerRevision is not a pod: a DenyPodWrites window does not refuse its deletion
    DeleteRevision: Recipe(lambda d: DeleteRevision(d.draw(
        st.sampled_from(["current", "update"]), label="role")), while_denied=True),
    ReplaceRevision: Recipe(lambda d: ReplaceRevision(
        d.draw(st.sampled_from(["current", "update"]), label="role"),
        d.draw(st.sampled_from(["other", "same"]), label="content")), while_denied=True),
    Settle: Recipe(lambda d: Settle()),
    KillPod: Recipe(_on_ordinal(KillPod), weight=2, while_denied=True,
                    while_scheduling_held=True, machine="ok", insert=_insert_on_top(KillPod)),
    EvictPod: Recipe(_on_ordinal(EvictPod), weight=2, while_denied=True,
                     while_scheduling_held=True, machine="ok",
                     insert=_insert_on_top(EvictPod)),
    FlapReadiness: Recipe(_on_ordinal(FlapReadiness), weight=2, while_denied=True,
                          while_scheduling_held=True, machine="ok",
                          insert=_insert_on_top(FlapReadiness)),
    HoldTerminating: Recipe(_on_ordinal(HoldTerminating), weight=2, machine="ok"),
    ReleaseTerminating: Recipe(_release_terminating, while_scheduling_held=True,
                               machine="ok"),
    # fail_node answers 409 for a pod on no node (Pending)
    FailNode: Recipe(_on_ordinal(FailNode), weight=2, while_scheduling_held=True,
                     machine="unpredicted", insert=_insert_on_top(FailNode), guaranteed=True),
    RestartController: Recipe(_untargeted(RestartController), weight=2, while_denied=True,
                              while_scheduling_held=True,
                              insert=_insert_mid_operation(RestartController),
                              guaranteed=True),
    RestartApiserver: Recipe(_untargeted(RestartApiserver), weight=1,
                             insert=_insert_mid_operation(RestartApiserver), guaranteed=True),
    DenyPodWrites: Recipe(_on_ordinal(DenyPodWrites), weight=1, insert=_insert_denial,
                          guaranteed=True),
    AllowPodWrites: Recipe(_untargeted(AllowPodWrites)),
    HoldScheduling: Recipe(_untargeted(HoldScheduling), weight=1,
                           insert=_insert_scheduling_hold, guaranteed=True),
    ReleaseScheduling: Recipe(_untargeted(ReleaseScheduling)),
}
#: Op classes no recipe draws, and why.
NOT_DRAWN: dict[type[Op], str] = {
    Create: "every sequence starts with it (op_sequences); a second Create would only repeat "
            "the 409 that RecreateSet on a live set already exercises",
}


def _kinds(wanted: Callable[[Recipe], object]) -> tuple[str, ...]:
    """Kinds (in catalogue order) whose recipe has ``wanted``."""
    return tuple(kind for kind, cls in OP_TYPES.items()
                 if cls in RECIPES and wanted(RECIPES[cls]))


#: Weights of the fault kinds while the set is present (see Recipe.weight).
_FAULT_WEIGHTS: dict[str, int] = {
    kind: RECIPES[OP_TYPES[kind]].weight for kind in _kinds(lambda r: r.weight)}
#: Ops drawn while a DenyPodWrites is in force. The model knows what every refused pod write
#: leaves behind (sts_props.model.controller, docs/model-notes.md "Refused pod writes"): the
#: controller's creates, its RP-1, scale-down and update deletions, the garbage collector's
#: deletions and users' deletes. So rollouts (template, strategy, partition, maxUnavailable
#: edits), scale and ordinals changes and set deletion and re-creation may all land inside a
#: window. Not meanwhile: a node failure (pod GC's force-delete would be refused, which kwok's
#: node agent does not retry), DeletePVC, an apiserver restart, new holds and new denials.
_WHILE_DENIED: tuple[str, ...] = _kinds(lambda r: r.while_denied)
#: Ops drawn while a HoldScheduling is in force: those that make a pod be (re)created Pending
#: (scale, deletes, RP-1, a node failure), touch the claims of Pending pods (delete_pvc: STO-5;
#: set_retention: STO-5 re-applies the retention refs) or end other holds. Not meanwhile:
#: template and strategy edits (a rollout would stop at its first Pending pod, which is
#: UPD-12 territory, not this fault's), set deletion, and new holds or denials; HoldNotReady
#: is left out because on kwok its annotation keeps the pod from ever starting.
_WHILE_SCHEDULING_HELD: tuple[str, ...] = _kinds(lambda r: r.while_scheduling_held)
#: Every kind ``with_fault`` knows.
INSERTABLE_FAULTS: tuple[str, ...] = _kinds(lambda r: r.insert is not None)
#: Fault kinds ``--faults`` guarantees in a few cluster scenarios each
#: (``sts_props.suite.GUARANTEED_FAULT_SCENARIOS``).
GUARANTEED_FAULTS: tuple[str, ...] = _kinds(lambda r: r.guaranteed)
#: Kinds the state machine's ``pod_fault`` rule applies to an existing pod (Recipe.machine).
MACHINE_POD_FAULTS: tuple[str, ...] = _kinds(lambda r: r.machine is not None)


def _draw_op(draw: st.DrawFn, shadow: _Shadow, kind: str, max_replicas: int,
             invalid: bool) -> Op:
    recipe = RECIPES.get(OP_TYPES[kind])
    if recipe is None:  # pragma: no cover - _choices only names kinds with a recipe
        raise AssertionError(f"no generator for op kind {kind!r}")
    return recipe.build(_Draw(draw, shadow, max_replicas, invalid))


def with_fault(scenario: Scenario, kind: str) -> Scenario:
    """``scenario`` with one fault of ``kind`` inserted right after its first Settle, so that
    a suite can guarantee that some scenarios exercise it (``sts-props check --faults``).

    How is the kind's ``Recipe.insert`` (:data:`INSERTABLE_FAULTS` have one):
    ``restart_controller`` and ``restart_apiserver`` follow the op after that Settle (the
    restart then lands while that op is reconciled); ``kill_pod``, ``evict_pod``,
    ``flap_readiness`` and ``fail_node`` hit the highest pod; ``deny_pod_writes`` opens a
    short window on the highest pod: deny, fail the pod (its RP-1 delete is refused), allow,
    settle, or, for scenarios of even length, deny, change the template (the update deletion
    of that pod is refused), settle, allow, settle; ``hold_scheduling`` is "a Pending pod
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
    >>> [op.kind for op in with_fault(sc, "deny_pod_writes").ops][2:7]
    ['deny_pod_writes', 'set_template', 'settle', 'allow_pod_writes', 'settle']
    >>> odd = Scenario(Manifests.seed(), (Create(), Settle(), Scale(1), Scale(2), Settle()))
    >>> [op.describe() for op in with_fault(odd, "deny_pod_writes").ops][2:6]
    ['deny writes to pod 2', 'make pod 2 Failed', 'allow pod writes again', 'settle']
    >>> [op.describe() for op in with_fault(sc, "kill_pod").ops][2:4]
    ['kill pod 2 (grace 0)', 'settle']
    >>> [op.kind for op in with_fault(sc, "hold_scheduling").ops][2:8]
    ['hold_scheduling', 'scale', 'delete_pvc', 'settle', 'release_scheduling', 'settle']
    """
    ops = list(scenario.ops)
    cls = OP_TYPES.get(kind)
    recipe = RECIPES.get(cls) if cls is not None else None
    if recipe is None or recipe.insert is None:
        raise ValueError(f"with_fault: no recipe for {kind!r}")
    at = _insertion_point(ops, recipe)
    spec = scenario.manifests.statefulset.get("spec") or {}
    replicas = spec.get("replicas")
    replicas = 1 if replicas is None else int(replicas)
    start = int((spec.get("ordinals") or {}).get("start") or 0)
    # A set created with 0 replicas has no pod to fault: scale it up first.
    prefix: list[Op] = [] if replicas > 0 else [Scale(2), Settle()]
    size = replicas if replicas > 0 else 2
    at, inserted = recipe.insert(_Site(ops, at, prefix, start + size - 1, size))
    return dataclasses.replace(scenario, ops=tuple(ops[:at] + inserted + ops[at:]))


def _insertion_point(ops: list[Op], recipe: Recipe) -> int:
    """Right after the first Settle at which no window the inserted fault must stay out of is
    open (pod writes denied, scheduling held: :attr:`Recipe.while_denied`,
    :attr:`Recipe.while_scheduling_held`); if every Settle is inside one, the end of the
    scenario, after the ops that close the windows still open there.

    >>> ops = [Create(), DenyPodWrites(1), Settle(), AllowPodWrites(), Settle()]
    >>> _insertion_point(ops, RECIPES[FailNode])
    5
    """
    def blocked(denied: bool, held: bool) -> bool:
        return (denied and not recipe.while_denied) or (held and not recipe.while_scheduling_held)

    denied = held = False
    for i, op in enumerate(ops):
        denied = (denied or isinstance(op, DenyPodWrites)) and not isinstance(op, AllowPodWrites)
        held = (held or isinstance(op, HoldScheduling)) and not isinstance(op, ReleaseScheduling)
        if isinstance(op, Settle) and not blocked(denied, held):
            return i + 1
    if denied and not recipe.while_denied:
        ops.append(AllowPodWrites())
    if held and not recipe.while_scheduling_held:
        ops.append(ReleaseScheduling())
    return len(ops)


def op_sequences(
    manifests: Manifests,
    min_ops: int = 1,
    max_ops: int = 20,
    faults: bool = True,
    *,
    max_replicas: int = 5,
    invalid: bool = True,
    fault_kinds: frozenset[str] = frozenset(),
    recreate: bool = False,
) -> st.SearchStrategy[tuple[Op, ...]]:
    """Op sequences for ``manifests``: ``Create()``, then ``min_ops..max_ops`` ops (Settles
    included), then a final ``Settle()`` unless the last op already is one.

    ``faults=False`` leaves out pod and PVC disruptions (DeletePod, FailPod, HoldNotReady,
    ReleasePod, DeletePVC); ``fault_kinds`` adds the issue-5 faults of those kinds (see
    :data:`ALL_FAULTS`; a backend passes what it can perform); ``invalid=False`` leaves out
    the rare out-of-range values that the API rejects (negative replicas, maxUnavailable 0,
    ...), which otherwise test the 422 path; ``recreate`` (a cluster with the alpha gate
    StatefulSetRecreateStrategy on) adds switches to the Recreate strategy.

    >>> from hypothesis import find
    >>> from sts_props.scenario import Manifests
    >>> find(op_sequences(Manifests.seed()), lambda ops: True)   # the minimal sequence
    (Create(), Settle())
    """
    if min_ops < 0 or max_ops < min_ops:
        raise ValueError(f"need 0 <= min_ops <= max_ops, got min_ops={min_ops}, "
                         f"max_ops={max_ops}")
    return _op_sequences(manifests, min_ops, max_ops, faults, max_replicas, invalid,
                         frozenset(fault_kinds), recreate)


@st.composite
def _op_sequences(draw: st.DrawFn, manifests: Manifests, min_ops: int, max_ops: int,
                  faults: bool, max_replicas: int, invalid: bool,
                  fault_kinds: frozenset[str], recreate: bool = False) -> tuple[Op, ...]:
    statefulset = copy.deepcopy(manifests.statefulset)
    spec = statefulset.get("spec") or {}
    shadow = _Shadow(
        editor=SpecEditor(statefulset),
        state="present" if _creates_ok(manifests, recreate) else "absent",
        has_claims=bool(spec.get("volumeClaimTemplates")),
        images=image_values(manifests),
        fault_kinds=fault_kinds,
        recreate=recreate,
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
    recreate: bool = False,
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
    return _scenarios(base, max_ops, max_replicas, faults, invalid, frozenset(fault_kinds),
                      recreate)


@st.composite
def _scenarios(draw: st.DrawFn, base: Manifests | None, max_ops: int, max_replicas: int,
               faults: bool, invalid: bool, fault_kinds: frozenset[str],
               recreate: bool = False) -> Scenario:
    manifests = draw(valid_statefulsets(base, max_replicas=max_replicas, recreate=recreate),
                     label="manifests")
    ops = draw(op_sequences(manifests, 1, max_ops, faults, max_replicas=max_replicas,
                            invalid=invalid, fault_kinds=fault_kinds, recreate=recreate),
               label="ops")
    return Scenario(manifests, ops)
