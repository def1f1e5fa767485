"""Targeted scenario strategies, one per mutant of :mod:`sts_props.mutants`.

Each strategy draws small scenarios (the seed's Redis set, 1..5 replicas, a handful of ops)
around the rule its mutant breaks: holds and scale-downs for the condemned-pod rules, a
partition and a template change for the rollout rules, a retention policy, a rollback. Sizes,
ordinals, the pod management policy, optional warm-up ops and an optional probe op (an op on a
pod whose outcome says whether it exists) are drawn at random, and shrink away when not needed.
The strategies only *bias* what is generated: whether a scenario exposes its mutant is decided
by the differential run against the cluster, never by the strategy.

>>> from hypothesis import find
>>> sc = find(targeted_scenarios("scale-down-ascending"), lambda sc: True)
>>> [op.kind for op in sc.ops][:4]
['create', 'settle', 'hold_not_ready', 'hold_not_ready']
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from hypothesis import strategies as st

from sts_props.mutant_names import MutantName
from sts_props.ops import (
    Create,
    DeletePod,
    FailPhase,
    FailPod,
    HoldNotReady,
    Op,
    ReleasePod,
    RetentionValue,
    RevertTemplate,
    Scale,
    SetPartition,
    SetRetention,
    SetTemplate,
    Settle,
    TemplateField,
)
from sts_props.scenario import Manifests, Scenario

Policy = str
_Draw = st.DrawFn


def set_manifests(replicas: int, policy: Policy = "OrderedReady") -> Manifests:
    """The seed's manifests with ``replicas`` and ``podManagementPolicy`` set.

    A Parallel set gets an explicit ``rollingUpdate`` block: without one a rollout can meet the
    documented upstream livelock F-1 (docs/findings.md), which is not what these runs test.

    >>> set_manifests(2, "Parallel").statefulset["spec"]["updateStrategy"]
    {'rollingUpdate': {'partition': 0}, 'type': 'RollingUpdate'}
    """
    seed = Manifests.seed()
    sts = copy.deepcopy(seed.statefulset)
    spec = sts["spec"]
    spec["replicas"] = replicas
    spec["podManagementPolicy"] = policy
    if policy == "Parallel":
        spec["updateStrategy"] = {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}
    return seed.with_statefulset(sts)


@st.composite
def _warm_up(draw: _Draw) -> tuple[Op, ...]:
    """Up to two ops before the targeted part (pod 0 deleted and recreated, an extra settle):
    they leave the set as it was, so they only lengthen the plan; shrinking removes them."""
    return tuple(draw(st.lists(st.sampled_from([DeletePod(0), Settle()]), max_size=2),
                      label="warm-up ops"))


def _start(draw: _Draw, replicas: int, policy: Policy, *ops: Op) -> Scenario:
    warm_up = draw(_warm_up())
    return Scenario(set_manifests(replicas, policy), (Create(), Settle(), *warm_up, *ops))


def _policy(draw: _Draw) -> Policy:
    return draw(st.sampled_from(["OrderedReady", "Parallel"]), label="policy")


def _template_change(draw: _Draw) -> SetTemplate:
    fields: list[TemplateField] = ["env", "annotation"]
    field = draw(st.sampled_from(fields), label="template field")
    return SetTemplate(field, draw(st.sampled_from(["v1", "v2", "v3"]), label="value"))


def _probe(draw: _Draw, ordinal: int) -> tuple[Op, ...]:
    """Optionally an op on pod ``ordinal`` (accepted, or 404 if it does not exist) and a
    settle; shrinking drops it when the disagreement shows without it."""
    kind = draw(st.sampled_from(["none", "delete", "hold", "fail"]), label="probe")
    if kind == "none":
        return ()
    op: Op = {"delete": DeletePod(ordinal), "hold": HoldNotReady(ordinal)}.get(
        kind, FailPod(ordinal, "Failed"))
    return op, Settle()


@st.composite
def _failed_pod(draw: _Draw) -> Scenario:
    """Fail one pod of an OrderedReady set, then scale up: the new top pod exists only if the
    failed one was replaced (RP-1)."""
    r = draw(st.integers(2, 4), label="replicas")
    k = draw(st.integers(0, r - 1), label="failed ordinal")
    phases: list[FailPhase] = ["Failed", "Succeeded"]
    phase = draw(st.sampled_from(phases), label="phase")
    return _start(draw, r, "OrderedReady", FailPod(k, phase), Settle(), Scale(r + 1),
                  Settle(), *_probe(draw, r))


@st.composite
def _held_scale_down(draw: _Draw) -> Scenario:
    """Hold some upper pods NotReady, scale down below them, probe a held pod (ORD-4, CD-2)."""
    r = draw(st.integers(3, 5), label="replicas")
    holds = draw(st.lists(st.integers(1, r - 1), min_size=2, max_size=3, unique=True),
                 label="held ordinals")
    target = draw(st.integers(0, min(holds)), label="scale to")
    probe = draw(st.sampled_from(sorted(holds)), label="probed ordinal")
    release = (ReleasePod(probe), Settle()) if draw(st.booleans(), label="release?") else ()
    return _start(draw, r, "OrderedReady", *(HoldNotReady(h) for h in holds), Settle(),
                  Scale(target), Settle(), *release)


@st.composite
def _partitioned_rollout(draw: _Draw) -> Scenario:
    """Set a partition, change the template, settle (UPD-2, REV-9)."""
    r = draw(st.integers(2, 4), label="replicas")
    partition = draw(st.integers(1, r), label="partition")
    return _start(draw, r, _policy(draw), SetPartition(partition), _template_change(draw),
                  Settle())


@st.composite
def _delete_below_partition(draw: _Draw) -> Scenario:
    """Partition 1, roll out, then delete pod 0: it must come back at the old revision."""
    r = draw(st.integers(2, 4), label="replicas")
    return _start(draw, r, _policy(draw), SetPartition(1), _template_change(draw), Settle(),
                  DeletePod(0), Settle())


@st.composite
def _scale(draw: _Draw) -> Scenario:
    """Create a set and scale it once (STO-6, ID-7: every new pod is checked)."""
    r = draw(st.integers(2, 4), label="replicas")
    return _start(draw, r, _policy(draw), Scale(draw(st.integers(1, 5), label="scale to")),
                  Settle())


def _held_then_grow(policy: Policy) -> Callable[[], st.SearchStrategy[Scenario]]:
    @st.composite
    def strategy(draw: _Draw) -> Scenario:
        """Hold pod k NotReady, then scale up or delete a pod above it, then probe that pod:
        it exists again only if the controller went past the held pod (ORD-1, ORD-6)."""
        r = draw(st.integers(2, 4), label="replicas")
        k = draw(st.integers(0, r - 1), label="held ordinal")
        if k == r - 1 or draw(st.booleans(), label="scale up?"):
            move: Op = Scale(r + 1)
            top = r
        else:
            top = draw(st.integers(k + 1, r - 1), label="deleted ordinal")
            move = DeletePod(top)
        return _start(draw, r, policy, HoldNotReady(k), Settle(), move, Settle(),
                      *_probe(draw, top))

    return strategy


@st.composite
def _retention_policy(draw: _Draw) -> Scenario:
    """Set a retention policy with whenDeleted=Delete, then scale (STO-8, STO-9: every
    in-range claim gets the set's ownerReference)."""
    r = draw(st.integers(1, 4), label="replicas")
    values: list[RetentionValue] = ["Retain", "Delete"]
    scaled = draw(st.sampled_from(values), label="whenScaled")
    return _start(draw, r, _policy(draw), SetRetention("Delete", scaled), Settle(),
                  Scale(draw(st.integers(0, 4), label="scale to")), Settle())


@st.composite
def _rollback(draw: _Draw) -> Scenario:
    """Change the template, then roll back to the original (REV-7 bumps the old revision)."""
    r = draw(st.integers(1, 3), label="replicas")
    return _start(draw, r, _policy(draw), _template_change(draw), Settle(), RevertTemplate(0),
                  Settle())


_STRATEGIES: dict[MutantName, Callable[[], st.SearchStrategy[Scenario]]] = {
    "failed-never-recreated": _failed_pod,
    "scale-down-ascending": _held_scale_down,
    "update-ignores-partition": _partitioned_rollout,
    "terminating-counted-updated": _delete_below_partition,
    "current-promoted-early": _partitioned_rollout,
    "pvc-of-k-for-k-plus-1": _scale,
    "ordered-two-at-once": _held_then_grow("OrderedReady"),
    "parallel-waits-like-ordered": _held_then_grow("Parallel"),
    "deleted-claims-retained": _retention_policy,
    "pod-index-label-missing": _scale,
    "rollback-not-bumped": _rollback,
}


def targeted_scenarios(name: MutantName) -> st.SearchStrategy[Scenario]:
    """Scenarios biased towards the rule mutant ``name`` breaks (see the module docstring)."""
    return _STRATEGIES[name]()
