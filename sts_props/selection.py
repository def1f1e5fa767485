"""Model-tier selection of cluster scenarios: a large pool on the model, the most teaching few
on the cluster (issue 13; the default of ``sts-props check`` on a cluster backend).

A cluster scenario costs seconds, a model run milliseconds. So ``check`` first runs a pool of
generated scenarios (:data:`POOL_EXAMPLES`, 10-20 s) on the model, describes each by the
*features* its model run covered, and then runs on the cluster only the scenarios that add the
most features not yet covered, most diverse first:

* the policy x strategy x retention cell(s) it ran in, its op kinds (in total and per
  policy/strategy), and the kinds the model rejected (``sts_props.coverage.features_of`` plus
  ``rejected <kind>``);
* bucketed figures: revisions, blocked settles, rejected ops, scale depth, faults
  (``sts_props.coverage.metrics_of``);
* situation corners (:mod:`sts_props.corners`): a pod below the partition deleted in a
  rollout, an OnDelete rollout carried to the end, a Succeeded pod, ...

Cells, op kinds and corners come first (:func:`pick`), so that the first picks cover all of
them; each pick's gain is divided by the square root of its expected cluster cost
(:func:`expected_cost`, from the model run), so that of two equally new scenarios the shorter
one runs.

The pool is steered where plain generation rarely goes: half the pool scenarios are moved
into a cell drawn uniformly (:func:`in_cell`; generated manifests keep the base's cell most of
the time, and faults among the op kinds make cell-changing ops rarer), some get a *corner
recipe* inserted after their Create (:func:`with_corner`; Hypothesis draws whether and which),
and with ``--faults`` every pool scenario bears a fault as on the cluster today. Without
``--faults`` the pool may still draw faults (``every_fault=False``): they are op kinds to cover
like any other, and a scenario with a fault that runs alone (:attr:`Candidate.alone`) counts as
``alone_cost`` times its cost, at most ``max_alone`` of them (:func:`pick`).

Everything is drawn by Hypothesis from one seed and picked deterministically, so ``--seed``
repeats the pool and the pick of the same command in the same checkout; :func:`fingerprint`
names a pick so that two runs can be compared. Within one process a pool built from a given
seed is kept and handed out again to a caller with the same arguments (the controller mutant
catalogue asks for the same one for the control and every mutant, and ``check`` builds it
while the cluster starts). Hypothesis also draws, now and then, constants it finds in the
project's own modules that are loaded, so another set of loaded modules, or another version
of the code, draws another pool from the same seed; plain generation has the same property.

>>> from sts_props.model import ModelConfig
>>> pool = build_pool(None, ModelConfig(), examples=12, seed=3)
>>> picked = pick(pool.candidates, 4)
>>> len(picked), [c.scenario for c in picked] == [
...     c.scenario for c in pick(build_pool(None, ModelConfig(), examples=12, seed=3,
...                                         reuse=False).candidates, 4)]
(4, True)
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import math
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from sts_props.concurrent_runs import runs_alone
from sts_props.corners import corners_of
from sts_props.coverage import ALL_CELLS, Cell, features_of, jaccard_distance, metrics_of
from sts_props.model import ModelConfig, run_model
from sts_props.model.runner import ModelResult
from sts_props.ops import (
    SHARED_OPS,
    AllowPodWrites,
    Create,
    DeletePod,
    DenyPodWrites,
    HoldNotReady,
    HoldTerminating,
    Op,
    ReleasePod,
    ReleaseTerminating,
    Scale,
    SetPartition,
    SetTemplate,
    Settle,
    SetUpdateStrategy,
)
from sts_props.scenario import Manifests, Scenario, cap_min_ready
from sts_props.strategies.manifests import valid_statefulsets
from sts_props.strategies.ops import INSERTABLE_FAULTS, op_sequences, with_fault
from sts_props.time_share import TimeUp, run_until_time_up

__all__ = [
    "MAX_ALONE_PICKS",
    "POOL_EXAMPLES",
    "POOL_SECONDS",
    "RECIPES",
    "RECREATE_RECIPES",
    "Candidate",
    "Pool",
    "build_pool",
    "candidate_of",
    "expected_cost",
    "feature_weight",
    "fingerprint",
    "in_cell",
    "pick",
    "pool_scenarios",
    "with_corner",
]

#: Scenarios run on the model for the pool: about 10-20 s on a 2-core machine (~12-18 ms each:
#: generation, the model run, features). A count, not a time, so that a seed repeats the pool.
POOL_EXAMPLES = 800
#: A safety stop for a very slow machine: the pool ends early (and is then no longer
#: repeatable from the seed alone, which the progress output says).
POOL_SECONDS = 120.0

#: Without ``--faults``, at most this many picks carry a fault that runs alone (a restart, a
#: node failure, a scheduling hold); each such pool scenario bears all five kinds, so one pick
#: covers them (all 35 op kinds on the seed with seeds 11-13, 2026-12-06; all 33 of then with
#: seeds 11-15) for some 10-20 s of the cluster to itself.
MAX_ALONE_PICKS = 1
#: Without ``--faults``, one pool scenario in this many may run alone (about 100 of 800);
#: the rest cover cells and corners without such a fault.
ALONE_ONE_IN = 8

#: Corners that plain generation almost never reaches, with a recipe that does (see
#: :func:`with_corner`); the pool inserts one into some scenarios.
RECIPES = ("partition-pod-disrupted", "parallel-rollout-old-notready",
           "deletion-refused-in-rollout", "recreate-rollout-completed",
           "recreate-scale-down-in-rollout")
#: recipes that switch the set to the alpha Recreate strategy: only when its gate is on
RECREATE_RECIPES = ("recreate-rollout-completed", "recreate-scale-down-in-rollout")


# -- what a scenario covers -------------------------------------------------------------------
@dataclass(frozen=True)
class Candidate:
    """One pool scenario: what its model run covered and what it is expected to cost."""

    scenario: Scenario
    features: frozenset[str]
    #: expected seconds on a cluster (:func:`expected_cost`)
    cost: float
    #: corners its model run reached (:mod:`sts_props.corners`)
    corners: frozenset[str] = frozenset()
    #: it has a fault that disturbs the whole cluster, so it runs with nothing beside it
    #: (:func:`sts_props.concurrent_runs.runs_alone`)
    alone: bool = False


def feature_weight(feature: str) -> float:
    """How much a not-yet-covered feature counts in a pick.

    A cell counts twice an op kind: every cell is what a run must cover first. At 4, as op
    kinds, one pick in 20 (seed 13 of seeds 1-20 on the seed manifests, 35 op kinds) left a
    cell out of 30; at 8 none did, and the picks covered as many features (209-223 of
    about 240) at about the same expected cost.

    >>> feature_weight("cell Parallel/OnDelete/Retain/Delete"), feature_weight("op scale")
    (8.0, 4.0)
    >>> feature_weight("corner pod-succeeded"), feature_weight("revisions >= 2")
    (3.0, 1.0)
    """
    if feature.startswith("cell "):
        return 8.0
    if feature.startswith("op ") and " in " not in feature:
        return 4.0
    if feature.startswith("corner "):
        return 3.0
    return 1.0


def expected_cost(result: ModelResult) -> float:
    """Expected cluster seconds of a scenario, from its model run.

    A cluster scenario's time goes into each op's round trip and wait, into pods deleted
    (graceful deletion), and into real waiting that the model only counts on its clock
    (minReadySeconds). The constants are the least-squares fit of 60 scenarios' wall times on
    kwok v1.37.2 (``benchmarks/cluster_figures.py`` prints it; pods created added nothing
    there, so they are left out).
    """
    pods_deleted = sum(ev.action == "DELETED" for ev in result.history.objects("Pod"))
    model_clock = result.history.events[-1].t if result.history.events else 0.0
    return 0.3 + 0.4 * len(result.scenario.ops) + 0.1 * pods_deleted + model_clock


def candidate_of(result: ModelResult) -> Candidate:
    """A pool entry from a model run: features (cells, op kinds, figures, corners), cost."""
    features = set(features_of(result, metrics_of(result)))
    for op, outcome in zip(result.scenario.ops, result.outcomes, strict=False):
        if not outcome.ok:
            features.add(f"rejected {op.kind}")
    corners = frozenset(corners_of(result.history))
    features |= {f"corner {c}" for c in corners}
    return Candidate(result.scenario, frozenset(features), expected_cost(result), corners,
                     runs_alone(result.scenario))


# -- steering: cells and corner recipes -------------------------------------------------------
def in_cell(manifests: Manifests, cell: Cell) -> Manifests:
    """``manifests`` with the set's pod management policy, update strategy and claim
    retention those of ``cell`` (an OnDelete set loses its ``rollingUpdate`` block, VAL-3).

    >>> m = in_cell(Manifests.seed(), ALL_CELLS[-1])
    >>> spec = m.statefulset["spec"]
    >>> spec["podManagementPolicy"], spec["updateStrategy"], spec[
    ...     "persistentVolumeClaimRetentionPolicy"]
    ('Parallel', {'type': 'OnDelete'}, {'whenDeleted': 'Delete', 'whenScaled': 'Delete'})
    """
    sts = copy.deepcopy(manifests.statefulset)
    spec = sts.setdefault("spec", {})
    spec["podManagementPolicy"] = cell.policy
    strategy = {**(spec.get("updateStrategy") or {}), "type": cell.strategy}
    if cell.strategy == "OnDelete":
        strategy.pop("rollingUpdate", None)
    spec["updateStrategy"] = strategy
    spec["persistentVolumeClaimRetentionPolicy"] = {"whenDeleted": cell.when_deleted,
                                                    "whenScaled": cell.when_scaled}
    return manifests.with_statefulset(sts)


def with_corner(scenario: Scenario, corner: str) -> Scenario:
    """``scenario`` with a recipe for ``corner`` (one of :data:`RECIPES`) inserted right after
    its Create, where the set is as its manifests say; unchanged if the recipe does not fit
    (a Parallel recipe on an OrderedReady set).

    * ``partition-pod-disrupted``: partition ``replicas-1``, a template change, then the lowest
      pod (below the partition, not updated: the rollout stays in progress) is deleted;
    * ``parallel-rollout-old-notready`` (Parallel sets): the lowest pod held NotReady, then a
      template change, then the hold released;
    * ``deletion-refused-in-rollout``: a rollout kept in progress (a full partition, or
      OnDelete), then writes to the top pod denied, the top pod deleted (refused: 403), writes
      allowed again;
    * ``recreate-rollout-completed`` (gate StatefulSetRecreateStrategy): the set switched to
      Recreate, then a template change;
    * ``recreate-scale-down-in-rollout`` (the same gate): the set switched to Recreate, the
      top pod held Terminating by a finalizer, a template change (the rollout waits for that
      old pod, RCR-2), a scale-down by one (the held pod is now condemned: docs/findings.md
      F-8a's path), then the hold released.

    A set created with fewer than 2 replicas is scaled to 2 first; an OnDelete set is switched
    to RollingUpdate where the recipe needs a partition.

    >>> sc = Scenario(Manifests.seed(), (Create(), Settle()))
    >>> [op.describe() for op in with_corner(sc, "partition-pod-disrupted").ops][1:6]
    ['set partition 2', "set template annotation to 'corner'", 'settle', 'delete pod 0', 'settle']
    """
    spec = scenario.manifests.statefulset.get("spec") or {}
    replicas = spec.get("replicas")
    replicas = 1 if replicas is None else int(replicas)
    start = int((spec.get("ordinals") or {}).get("start") or 0)
    on_delete = (spec.get("updateStrategy") or {}).get("type") == "OnDelete"
    parallel = spec.get("podManagementPolicy") == "Parallel"
    prefix: list[Op] = []
    if replicas < 2:
        prefix, replicas = [Scale(2), Settle()], 2
    top = start + replicas - 1
    change = SetTemplate("annotation", "corner")
    to_rolling: list[Op] = [SetUpdateStrategy("RollingUpdate")] if on_delete else []
    recreate = (spec.get("updateStrategy") or {}).get("type") == "Recreate"
    to_recreate: list[Op] = [] if recreate else [SetUpdateStrategy("Recreate")]
    recipe: list[Op]
    if corner == "partition-pod-disrupted":
        recipe = [*to_rolling, SetPartition(replicas - 1), change, Settle(), DeletePod(start),
                  Settle()]
    elif corner == "parallel-rollout-old-notready":
        if not parallel:
            return scenario
        recipe = [*to_rolling, HoldNotReady(start), Settle(), change, Settle(),
                  ReleasePod(start), Settle()]
    elif corner == "deletion-refused-in-rollout":
        hold: list[Op] = [] if on_delete else [SetPartition(replicas)]
        recipe = [*hold, change, Settle(), DenyPodWrites(top), DeletePod(top), AllowPodWrites(),
                  Settle()]
    elif corner == "recreate-rollout-completed":
        recipe = [*to_recreate, change, Settle()]
    elif corner == "recreate-scale-down-in-rollout":
        recipe = [*to_recreate, HoldTerminating(top), change, Settle(), Scale(replicas - 1),
                  Settle(), ReleaseTerminating(top), Settle()]
    else:
        raise ValueError(f"with_corner: no recipe for {corner!r}; known: {', '.join(RECIPES)}")
    ops = list(scenario.ops)
    at = 1 if ops and isinstance(ops[0], Create) else 0
    rest = ops[at + 1:] if at < len(ops) and isinstance(ops[at], Settle) else ops[at:]
    return dataclasses.replace(scenario, ops=tuple(ops[:at] + prefix + recipe + rest))


def pool_scenarios(base: Manifests | None, min_ops: int = 8, max_ops: int = 12,
                   max_replicas: int = 5, fault_kinds: frozenset[str] = frozenset(),
                   recipes: Sequence[str] = RECIPES, faults: bool = True,
                   every_fault: bool = True, recreate: bool = False
                   ) -> st.SearchStrategy[Scenario]:
    """The pool's scenarios: what ``check`` generates for a cluster (``min_ops..max_ops`` ops
    after Create, minReadySeconds capped, pod and PVC disruptions unless ``faults`` is false,
    faults of ``fault_kinds`` drawn like other ops and, with ``every_fault``, one inserted
    where none was drawn), sometimes with a corner recipe inserted (:func:`with_corner`);
    ``recreate``: the alpha Recreate strategy is among the strategies drawn."""

    # Every recipe deletes or holds a pod or goes with one that does: none without pod
    # disruptions.
    needs = {"deletion-refused-in-rollout": "deny_pod_writes",
             "recreate-scale-down-in-rollout": "hold_terminating"}
    usable = tuple(r for r in recipes if faults and (r not in needs or needs[r] in fault_kinds)
                   and (recreate or r not in RECREATE_RECIPES))
    insertable = tuple(k for k in INSERTABLE_FAULTS if every_fault and k in fault_kinds)
    return _pool_scenarios(base, min_ops, max_ops, max_replicas, frozenset(fault_kinds),
                           usable, insertable, faults, every_fault, recreate)


@st.composite
def _pool_scenarios(draw: st.DrawFn, base: Manifests | None, min_ops: int, max_ops: int,
                    max_replicas: int, fault_kinds: frozenset[str], recipes: tuple[str, ...],
                    insertable: tuple[str, ...], faults: bool, every_fault: bool,
                    recreate: bool = False) -> Scenario:

    manifests = draw(valid_statefulsets(base, max_replicas=max_replicas, recreate=recreate),
                     label="manifests")
    if draw(st.booleans(), label="move to a drawn cell"):
        manifests = in_cell(manifests, draw(st.sampled_from(ALL_CELLS), label="cell"))
    may_run_alone = every_fault or not draw(st.integers(0, ALONE_ONE_IN - 1),
                                            label="may run alone")
    if not may_run_alone:
        # Only a few picks may run alone (MAX_ALONE_PICKS): the rest of the pool, and the
        # cells and corners it covers, must not depend on a fault that makes a scenario so.
        fault_kinds = fault_kinds - frozenset(SHARED_OPS)
    # min_ops..max_ops drawn directly: the cluster suite's filter on the length would throw
    # away half of the draws, and generation is most of the pool's time.
    ops = draw(op_sequences(manifests, min_ops, max_ops, faults, max_replicas=max_replicas,
                            fault_kinds=fault_kinds, recreate=recreate), label="ops")
    scenario = Scenario(manifests, ops)
    # Some scenarios get a recipe (3 in 7 of the draws when the three plain recipes fit, 5 in
    # 9 with the Recreate gate's two); which one, Hypothesis draws.
    recipe = draw(st.sampled_from((None, None, None, None, *recipes)), label="corner recipe")
    if recipe is not None:
        scenario = with_corner(scenario, recipe)
    if insertable and not any(op.kind in fault_kinds for op in scenario.ops):
        # --faults: as on the cluster, every scenario bears at least one fault
        scenario = with_fault(scenario, draw(st.sampled_from(insertable), label="fault"))
    if not every_fault and may_run_alone:
        # One that runs alone holds the cluster anyway: it bears every such fault, so that
        # a pick or two covers them all.
        for kind in INSERTABLE_FAULTS:
            if kind in SHARED_OPS and kind in fault_kinds and not any(
                    op.kind == kind for op in scenario.ops):
                scenario = with_fault(scenario, kind)
    return cap_min_ready(scenario)


# -- the pool ---------------------------------------------------------------------------------
@dataclass
class Pool:
    """What the model tier ran: the distinct scenarios as candidates, with its figures."""

    seed: int
    examples: int = 0
    seconds: float = 0.0
    stopped_by_time: bool = False
    candidates: list[Candidate] = field(default_factory=list)
    #: built earlier in this process with the same arguments and seed, and taken from there
    #: (``seconds`` is then the time the first build took)
    reused: bool = False

    def features(self) -> frozenset[str]:
        return frozenset().union(*(c.features for c in self.candidates))


#: Pools built with a given seed, by their arguments: the controller mutant catalogue runs the
#: same main job (same seed, same model) for the control and every mutant, and each pool costs
#: 10-20 s of CPU the clusters beside it need. A few are kept; a pool cut short by its time
#: limit is not (it does not follow from its seed).
_BUILT: dict[tuple[object, ...], Pool] = {}
_BUILT_KEEP = 4
#: Held while a kept pool is looked up or built: a caller asking for a pool being built waits
#: for it. Builds of different pools wait too, which costs nothing: a build is pure Python
#: and two of them in threads would only take turns at the GIL.
_BUILD_LOCK = threading.Lock()


def build_pool(base: Manifests | None, config: ModelConfig, *, examples: int = POOL_EXAMPLES,
               seed: int | None = None, min_ops: int = 8, max_ops: int = 12,
               max_replicas: int = 5, fault_kinds: frozenset[str] = frozenset(),
               faults: bool = True, every_fault: bool = True, seconds: float = POOL_SECONDS,
               tick: Callable[[int], None] | None = None, reuse: bool = True,
               cancel: threading.Event | None = None) -> Pool:
    """Run ``examples`` pool scenarios on the model (at most ``seconds``); one ``seed`` gives
    the same pool (without one a seed is drawn and kept in :attr:`Pool.seed`).

    With a ``seed`` (and ``reuse``), a pool built before in this process with the same
    arguments is returned again (marked :attr:`Pool.reused`; its candidate list is a copy); a
    second caller asking for a pool that is being built waits for it instead of building it
    beside it. ``reuse=False`` always builds (and keeps nothing). Once ``cancel`` is set the
    build ends at its next scenario, as if its time were up.
    """
    if seed is None or not reuse:
        seed = random.randrange(2**32) if seed is None else seed
        return _build_pool(base, config, examples, seed, min_ops, max_ops, max_replicas,
                           fault_kinds, faults, every_fault, seconds, tick, cancel)
    key: tuple[object, ...] = (base, config, examples, seed, min_ops, max_ops, max_replicas,
                               fault_kinds, faults, every_fault)
    with _BUILD_LOCK:
        built = _BUILT.get(key)
        if built is not None:
            return dataclasses.replace(built, candidates=list(built.candidates), reused=True)
        pool = _build_pool(base, config, examples, seed, min_ops, max_ops, max_replicas,
                           fault_kinds, faults, every_fault, seconds, tick, cancel)
        if not pool.stopped_by_time:
            _BUILT[key] = dataclasses.replace(pool, candidates=list(pool.candidates))
            while len(_BUILT) > _BUILT_KEEP:
                del _BUILT[next(iter(_BUILT))]
    return pool


def _build_pool(base: Manifests | None, config: ModelConfig, examples: int, seed: int,
                min_ops: int, max_ops: int, max_replicas: int, fault_kinds: frozenset[str],
                faults: bool, every_fault: bool, seconds: float,
                tick: Callable[[int], None] | None, cancel: threading.Event | None) -> Pool:
    pool = Pool(seed=seed)
    started = time.monotonic()
    seen: set[Scenario] = set()

    @settings(max_examples=examples, deadline=None, database=None, print_blob=False,
              suppress_health_check=list(HealthCheck), phases=(Phase.generate,))
    @given(pool_scenarios(base, min_ops, max_ops, max_replicas, fault_kinds, faults=faults,
                          every_fault=every_fault,
                          recreate=config.gate("StatefulSetRecreateStrategy")))
    def prop(scenario: Scenario) -> None:
        if time.monotonic() - started > seconds or (cancel is not None and cancel.is_set()):
            raise TimeUp  # POOL_SECONDS are spent, or the caller cancelled
        pool.examples += 1
        if scenario not in seen:
            seen.add(scenario)
            pool.candidates.append(candidate_of(run_model(scenario, config)))
        if tick is not None:
            tick(pool.examples)

    pool.stopped_by_time = run_until_time_up(hypothesis_seed(pool.seed)(prop))
    pool.seconds = time.monotonic() - started
    return pool


def fingerprint(picked: Sequence[Candidate]) -> str:
    """A short name for a pick: equal picks (same scenarios, same order) have equal names.

    >>> fingerprint([]) == fingerprint([])
    True
    """
    digest = hashlib.sha256()
    for c in picked:
        digest.update(c.scenario.to_yaml().encode())
    return digest.hexdigest()[:10]


# -- the pick ---------------------------------------------------------------------------------
def pick(pool: Sequence[Candidate], limit: int, *, alone_cost: float = 1.0,
         max_alone: int | None = None) -> list[Candidate]:
    """Greedy weighted cover: each pick adds the most not-yet-covered weight of cells, op kinds
    and corners (:func:`feature_weight` above 1) per square root of expected cost, then the
    most other new features per square root of cost; ties go to the candidate farthest
    (Jaccard) from every pick so far, then the cheaper, then the earlier. Once every feature is
    covered, the rest are picked by distance per square root of cost. Deterministic.

    A candidate that runs alone costs ``alone_cost`` times its own cost (with ``--jobs N``
    the cluster is its alone: N), and at most ``max_alone`` of them are picked.

    >>> from sts_props.ops import Create
    >>> sc = Scenario(Manifests.seed(), (Create(),))
    >>> a = Candidate(sc, frozenset({"op scale", "x"}), 4.0)
    >>> b = Candidate(sc, frozenset({"op scale"}), 1.0)
    >>> c = Candidate(sc, frozenset({"corner pod-succeeded"}), 1.0)
    >>> [p is q for p, q in zip(pick([a, b, c], 3), [b, c, a])]
    [True, True, True]
    """
    chosen: list[Candidate] = []
    covered: set[str] = set()
    nearest = [1.0] * len(pool)
    left = set(range(len(pool)))
    lone = 0  # picks that run alone
    if max_alone is not None and max_alone <= 0:
        left = {i for i in left if not pool[i].alone}

    def key(i: int) -> tuple[int, float, float, float, float, int]:
        c = pool[i]
        root = math.sqrt(max(c.cost * (alone_cost if c.alone else 1.0), 0.1))
        heavy = light = 0.0
        for f in c.features - covered:
            weight = feature_weight(f)
            if weight > 1:
                heavy += weight
            else:
                light += weight
        if heavy or light:
            return (1, heavy / root, light / root, nearest[i], -c.cost, -i)
        # Nothing new anywhere: the farthest from the picks so far, per cost.
        return (0, nearest[i] / root, 0.0, nearest[i], -c.cost, -i)

    while left and len(chosen) < limit:
        best = max(left, key=key)
        left.discard(best)
        choice = pool[best]
        chosen.append(choice)
        covered |= choice.features
        lone += choice.alone
        if choice.alone and max_alone is not None and lone >= max_alone:
            left = {i for i in left if not pool[i].alone}
        for i in left:
            nearest[i] = min(nearest[i], jaccard_distance(pool[i].features, choice.features))
    return chosen
