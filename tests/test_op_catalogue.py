"""The op catalogue: every op class (``sts_props.ops.OP_TYPES``) has what the harness needs.

Walks every subclass of :class:`~sts_props.ops.Op` and proves, per class: consistent traits; a
generator recipe (``sts_props.strategies.ops.RECIPES``) that builds it and is drawn in some
state, or a stated absence (``NOT_DRAWN``); a model handler that performs it; a cluster
executor, and for a fault on every backend either the capability or a stated reason; a
timeline colour; a coverage entry. A new op class without one of these fails here by name
(see docs/adding-an-op.md).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import find, settings
from hypothesis import strategies as st

from sts_props.cluster.backends import CLUSTER_BACKENDS, make_cluster
from sts_props.cluster.driver import DRIVER_OPS
from sts_props.cluster.faults import EXECUTORS, RESOLVERS
from sts_props.coverage import Coverage, fault_kinds
from sts_props.model.handlers import HANDLERS
from sts_props.model.runner import ModelRun, run_model
from sts_props.ops import (
    CHANGE_COLOUR,
    FAULT_COLOUR,
    FAULT_OPS,
    OP_TYPES,
    SETTLE_COLOUR,
    Create,
    Op,
    Settle,
    faults_performed_by,
    op_from_dict,
)
from sts_props.outcome import Outcome
from sts_props.report.timeline_svg import timeline_svg
from sts_props.scenario import Manifests, Scenario
from sts_props.spec_edit import SpecEditor
from sts_props.strategies.manifests import image_values
from sts_props.strategies.ops import (
    ALL_FAULTS,
    INSERTABLE_FAULTS,
    NOT_DRAWN,
    RECIPES,
    _choices,
    _Draw,
    _Shadow,
    with_fault,
)

CLASSES = list(OP_TYPES.values())
KINDS = [cls.kind for cls in CLASSES]
FAULTS = [cls for cls in CLASSES if cls.fault]


def _subclasses(cls: type[Op]) -> set[type[Op]]:
    out: set[type[Op]] = set()
    for sub in cls.__subclasses__():
        out |= {sub, *_subclasses(sub)}
    return out


def _minimal(strategy: st.SearchStrategy[Any], label: str | None = None) -> Any:
    """The simplest value of ``strategy``: a deterministic stand-in for a Hypothesis draw."""
    return find(strategy, lambda _: True, settings=settings(database=None, max_examples=10))


def _shadow(*ops: Op) -> _Shadow:
    """A generator shadow of the seed set (with claims) after ``ops``."""
    manifests = Manifests.seed()
    shadow = _Shadow(SpecEditor(manifests.statefulset), "present", True,
                     image_values(manifests), fault_kinds=ALL_FAULTS)
    for op in ops:
        shadow.record(op)
    return shadow


def example(cls: type[Op]) -> Op:
    """An op of class ``cls``: the simplest its recipe builds (on pod 0 of the seed set), or
    the class with its defaults when no recipe draws it."""
    if cls in RECIPES:
        return RECIPES[cls].build(_Draw(_minimal, _shadow(), 5, True))
    return cls()


def test_every_op_class_is_in_the_catalogue_under_its_kind() -> None:
    assert _subclasses(Op) == set(CLASSES)
    assert all(OP_TYPES[kind].kind == kind for kind in OP_TYPES)


@pytest.mark.parametrize("cls", CLASSES, ids=KINDS)
def test_traits_are_consistent(cls: type[Op]) -> None:
    assert not (cls.fault and cls.disruption), "a fault or a disruption, not both"
    assert cls.edits in (None, "spec", "template")
    if cls.edits is not None:
        assert not (cls.fault or cls.disruption or cls.deletes_pod), "a spec edit disrupts nothing"
    if cls.release is not None:
        released = OP_TYPES.get(cls.release)
        assert released is not None, f"release names no op kind: {cls.release!r}"
        assert (released.fault, released.disruption) == (cls.fault, cls.disruption)
    if cls.mid_operation:
        assert cls.fault
        assert cls.shared, "a component restart disturbs every namespace: it runs alone"
    if cls.shared:
        assert cls.fault, "only a fault reaches beyond its scenario's namespace"
    if cls.release is not None:
        assert OP_TYPES[cls.release].shared == cls.shared, "a hold and its release run alike"
    if not cls.fault:
        assert not cls.unsupported, "every backend performs every op that is not a fault"
    for backend, reason in cls.unsupported.items():
        assert backend in CLUSTER_BACKENDS, f"unknown backend {backend!r}"
        assert reason.strip(), f"{backend}: an absence needs its reason"


@pytest.mark.parametrize("cls", CLASSES, ids=KINDS)
def test_has_a_generator_recipe_or_a_stated_absence(cls: type[Op]) -> None:
    assert (cls in RECIPES) != (cls in NOT_DRAWN), \
        "each op class needs a recipe in RECIPES, or a reason in NOT_DRAWN (not both)"
    if cls in NOT_DRAWN:
        assert NOT_DRAWN[cls].strip()
        return
    op = example(cls)
    assert type(op) is cls
    assert op_from_dict(op.to_dict()) == op


def test_every_recipe_is_drawn_in_some_state() -> None:
    """Each kind with a recipe gets a weight in some shadow state (``_choices``), so
    ``op_sequences`` really draws it; with disruptions off and no fault kinds, none of
    those is drawn."""
    from sts_props.ops import (
        DeleteSet,
        DenyPodWrites,
        HoldNotReady,
        HoldScheduling,
        HoldTerminating,
        SetTemplate,
        UnlabelPod,
    )

    states = [_shadow(), _shadow(SetTemplate("env", "v2")), _shadow(HoldNotReady(0)),
              _shadow(HoldTerminating(0)), _shadow(DenyPodWrites(0)), _shadow(HoldScheduling()),
              _shadow(DeleteSet("Foreground")), _shadow(DeleteSet("Foreground"), Settle()),
              _shadow(UnlabelPod(0))]
    drawn = {kind for shadow in states for kind in _choices(shadow, faults=True)}
    assert drawn == {cls.kind for cls in RECIPES}
    # the states reachable without disruptions and faults
    calm = [_shadow(), _shadow(SetTemplate("env", "v2")), _shadow(DeleteSet("Foreground")),
            _shadow(DeleteSet("Foreground"), Settle())]
    quiet = set()
    for shadow in calm:
        shadow.fault_kinds = frozenset()
        quiet |= set(_choices(shadow, faults=False))
    assert not {k for k in quiet if OP_TYPES[k].fault or OP_TYPES[k].disruption}


@pytest.mark.parametrize("kind", INSERTABLE_FAULTS)
def test_with_fault_inserts_a_fault_the_model_runs(kind: str) -> None:
    scenario = with_fault(Scenario(Manifests.seed(), (Create(), Settle(), Settle())), kind)
    assert kind in [op.kind for op in scenario.ops]
    result = run_model(scenario)
    assert not result.unsettled


@pytest.mark.parametrize("cls", CLASSES, ids=KINDS)
def test_has_a_model_handler(cls: type[Op]) -> None:
    assert cls in HANDLERS, "add the op's handler to sts_props.model.handlers.HANDLERS"
    run = ModelRun(Manifests.seed())
    run.apply(Create())
    run.apply(Settle())
    op = example(cls)
    outcome = run.apply(op)
    assert isinstance(outcome, Outcome)
    last = list(run.history.ops())[-1]
    assert last.data["op"]["op"] == cls.kind and last.phase in ("ok", "fail")
    assert not run.unsettled


@pytest.mark.parametrize("cls", CLASSES, ids=KINDS)
def test_has_a_cluster_executor(cls: type[Op]) -> None:
    in_faults, in_driver = cls.kind in EXECUTORS, cls in DRIVER_OPS
    assert in_faults != in_driver, \
        "one executor: sts_props.cluster.faults.EXECUTORS or sts_props.cluster.driver.DRIVER_OPS"
    if cls.fault:
        # the capability check of ClusterRun._perform is on the EXECUTORS path
        assert in_faults, "a fault's executor belongs in sts_props.cluster.faults.EXECUTORS"
    if cls.kind in RESOLVERS:
        assert cls.fault and in_faults


def test_every_executor_and_resolver_is_of_a_known_kind() -> None:
    assert set(EXECUTORS) <= set(OP_TYPES)
    assert set(RESOLVERS) <= set(EXECUTORS)


@pytest.mark.parametrize("backend", CLUSTER_BACKENDS)
def test_each_backend_performs_each_fault_or_says_why_not(backend: str) -> None:
    caps = make_cluster(backend).capabilities
    if caps.faults_withheld:
        assert caps.faults == frozenset(), "a backend that withholds faults performs none"
        return
    assert caps.faults == faults_performed_by(backend)
    for cls in FAULTS:
        assert cls.kind in caps.faults or cls.unsupported.get(backend, "").strip(), cls.kind


@pytest.mark.parametrize("cls", CLASSES, ids=KINDS)
def test_has_a_timeline_colour(cls: type[Op]) -> None:
    assert re.fullmatch(r"#[0-9a-f]{3}([0-9a-f]{3})?", cls.colour)
    if cls.fault or cls.disruption:
        assert cls.colour == FAULT_COLOUR
    if cls is Settle:
        assert cls.colour == SETTLE_COLOUR


def test_the_timeline_draws_every_fault_kind_in_the_fault_colour() -> None:
    faults = [example(cls) for cls in FAULTS]
    history = run_model(Scenario(Manifests.seed(), (Create(), Settle(), *faults, Settle()))
                        ).history
    svg = timeline_svg(history, [])
    drawn = {kind: colour for kind, colour in re.findall(
        r'<g class="op" data-index="\d+" data-kind="([a-z_]+)"><line [^>]*stroke="([^"]+)"',
        svg)}
    assert set(FAULT_OPS) <= set(drawn)
    assert {kind: drawn[kind] for kind in FAULT_OPS} == dict.fromkeys(FAULT_OPS, FAULT_COLOUR)
    assert (drawn["create"], drawn["settle"]) == (CHANGE_COLOUR, SETTLE_COLOUR)


@pytest.mark.parametrize("cls", CLASSES, ids=KINDS)
def test_has_a_coverage_entry(cls: type[Op]) -> None:
    cov = Coverage()
    cov.record(Scenario(Manifests.seed(), (example(cls),)))
    assert cov.op_totals()[cls.kind] == 1
    never = Coverage().render().split("ops never run:")[1].splitlines()[0]
    assert re.search(rf"\b{cls.kind}\b", never), "every kind is listed while it never ran"
    if cls.fault:
        assert cls.kind in fault_kinds() and f"{cls.kind} (fault)" in never
