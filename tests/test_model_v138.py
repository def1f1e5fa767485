"""The v1.38 behaviour line, read from the v1.38.0-beta.0 source (docs/model-notes.md, "v1.38"):
each rule tested on 1.38 and, as the contrast that makes the test able to fail, on 1.37.

- ID-4b (#141094): only a pod named exactly ``<set>-<ordinal>`` is a member;
- UPD-5b (KEP-961): maxUnavailable counts unavailable pods at or above the partition only, and a
  percentage is of ``replicas - partition``;
- ORD-6b (#141057): a Parallel set deletes its condemned pods before it creates pods in range;
- the Recreate update strategy is beta and on by default.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sts_props.checks import run_quiescent_checks
from sts_props.model import Chooser, ModelConfig, ModelRun
from sts_props.model.controller import sync
from sts_props.model.environment import deny_pod_writes
from sts_props.model.world import OwnerRef, Pod
from sts_props.ops import Create, HoldNotReady, Op, Scale, SetTemplate, Settle
from sts_props.plan import Plan
from sts_props.replay import run_plan_on_model
from tests.model_helpers import pods, run, web

V137 = ModelConfig.for_version("v1.37.2")
V138 = ModelConfig.for_version("v1.38.0-beta.0")


class NoDrain(Chooser):
    """Nothing happens between ops: the next op comes before any reaction."""

    def steps_after(self, op: Op) -> int | None:
        return 0


def _verbs(plan_actions, verb: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [a.name for a in plan_actions if a.verb == verb]


def test_v138_is_covered_and_its_gate_defaults_follow_kube_features() -> None:
    assert (V138.k8s_minor, V138.k8s_patch) == (38, 0)
    assert V138.gate("StatefulSetRecreateStrategy") and not V137.gate("StatefulSetRecreateStrategy")
    assert V138.gate("MaxUnavailableStatefulSet")


# -- ID-4b ----------------------------------------------------------------------------------------
def _pod(name: str, owner: OwnerRef | None = None) -> Pod:
    return Pod(name=name, labels={"app": "web"}, owner_refs=[owner] if owner else [],
               hostname="", subdomain="", volumes={}, template={}, phase="Running",
               ready=True, ready_since=0.0)


def test_id4b_noncanonical_orphan_is_not_adopted_from_138() -> None:
    for config, adopted in ((V137, True), (V138, False)):
        r = run(web(3, policy="Parallel", strategy={"type": "OnDelete"}), Create(), Settle(),
                config=config)
        r.world.add_pod(_pod("web-01"))
        plan = sync(r.world, r.config)
        assert ("web-01" in _verbs(plan.actions, "adopt_pod")) is adopted, config.version
        assert not plan.error


def test_id4b_noncanonical_pod_owned_by_the_set_is_released_from_138() -> None:
    for config, released in ((V137, False), (V138, True)):
        r = run(web(3, policy="Parallel", strategy={"type": "OnDelete"}), Create(), Settle(),
                config=config)
        sts = r.world.sts
        assert sts is not None
        r.world.add_pod(_pod("web-01", OwnerRef("StatefulSet", "web", sts.uid, True)))
        plan = sync(r.world, r.config)
        assert ("web-01" in _verbs(plan.actions, "release_pod")) is released, config.version


def test_id4b_noncanonical_pod_alone_no_longer_holds_slot_1_from_138() -> None:
    # 1.37: web-01 fills slot 1, its identity repair PUTs web-1, which does not exist, and every
    # sync errors (tests/test_model_cluster_facts.py). 1.38 ignores it and creates web-1.
    for config, created in ((V137, False), (V138, True)):
        r = run(web(3, policy="Parallel", strategy={"type": "OnDelete"}), Create(), Settle(),
                config=config)
        r.world.remove(r.world.pods["web-1"])
        r.world.add_pod(_pod("web-01"))
        plan = sync(r.world, r.config)
        assert ("web-1" in _verbs(plan.actions, "create_pod")) is created, config.version
        assert bool(plan.error) is not created, config.version


# -- UPD-5b ---------------------------------------------------------------------------------------
def test_upd5b_percentage_is_of_the_update_range_from_138() -> None:
    # 10 replicas, partition 8, 50%: 1.37 allows 5 (both pods in range go at once), 1.38 1.
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"partition": 8, "maxUnavailable": "50%"}}
    for config, deleted in ((V137, ["web-9", "web-8"]), (V138, ["web-9"])):
        r = run(web(10, strategy=strategy), Create(), Settle(), config=config)
        r.chooser = NoDrain()
        r.apply(SetTemplate("image", "app:2"))
        plan = sync(r.world, r.config)
        assert _verbs(plan.actions, "delete_pod") == deleted, config.version


def test_upd5b_unavailable_pod_below_the_partition_no_longer_blocks_the_rollout_from_138() -> None:
    # Parallel, partition 2, maxUnavailable 1, web-0 held NotReady: 1.37 counts web-0 against
    # the budget and deletes nothing; 1.38 counts only [2, 4) and replaces web-3.
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"partition": 2, "maxUnavailable": 1}}
    for config, deleted in ((V137, []), (V138, ["web-3"])):
        r = run(web(4, policy="Parallel", strategy=strategy), Create(), Settle(), HoldNotReady(0),
                config=config)
        r.chooser = NoDrain()
        r.apply(SetTemplate("image", "app:2"))
        plan = sync(r.world, r.config)
        assert _verbs(plan.actions, "delete_pod") == deleted, config.version


# -- ORD-6b ---------------------------------------------------------------------------------------
def test_ord6b_parallel_refused_condemned_delete_now_comes_before_any_create() -> None:
    # Parallel 4 -> 2 while web-0 is missing and web-3's DELETE is refused: 1.37 creates web-0
    # and then fails on web-3; 1.38 fails on web-3 first and creates nothing in that sync.
    for config, created in ((V137, ["web-0"]), (V138, [])):
        r = run(web(4, policy="Parallel"), Create(), Settle(), config=config)
        r.chooser = NoDrain()
        r.world.remove(r.world.pods["web-0"])
        deny_pod_writes(r.world, "web-3")
        r.apply(Scale(2))
        plan = sync(r.world, r.config)
        assert _verbs(plan.actions, "create_pod") == created, config.version
        assert plan.error == 'pods "web-3" is forbidden', config.version
        # the first batch (web-3, highest first) fails, so web-2's batch never starts
        assert _verbs(plan.actions, "delete_pod") == [], config.version


def test_ord6b_ordered_ready_keeps_creating_before_deleting_on_138() -> None:
    r = run(web(4), Create(), Settle(), config=V138)
    r.chooser = NoDrain()
    r.world.remove(r.world.pods["web-0"])
    r.apply(Scale(2))
    plan = sync(r.world, r.config)
    assert _verbs(plan.actions, "create_pod") == ["web-0"]
    assert _verbs(plan.actions, "delete_pod") == []


def test_v138_scale_down_and_rollout_converge() -> None:
    r = ModelRun(web(5, policy="Parallel"), V138)
    for op in (Create(), Settle(), SetTemplate("image", "app:2"), Scale(2), Settle()):
        r.apply(op)
    assert pods(r) == ["web-0", "web-1"]


# -- the example plans (docs/examples/v138-behaviours), replayed on kwok v1.37.2 and v1.38 -------
EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples" / "v138-behaviours"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.stem)
def test_example_plan_passes_on_the_model_of_its_version(path: Path) -> None:
    plan = Plan.load(path)
    run = run_plan_on_model(plan, ModelConfig.for_plan(plan))
    assert run.ok, run.verdict()


def test_ord6b_quiescent_check_excuses_a_refused_condemned_delete_only_on_138() -> None:
    # Sensitivity of ORD-6b in the quiescent check: the same History judged as a v1.37.2 one
    # has redis-4 and redis-5 missing with nothing (in 1.37) to block their creation.
    plan = Plan.load(EXAMPLES / "ord6b-condemned-first-v138.yaml")
    run = run_plan_on_model(plan, ModelConfig.for_plan(plan))
    assert run_quiescent_checks(run.history) == []
    run.history.header["k8sVersion"] = "v1.37.2"
    flagged = run_quiescent_checks(run.history)
    assert [v.rule for v in flagged] == ["Q/ID-2"], flagged
    assert "redis-4, redis-5" in flagged[0].message
