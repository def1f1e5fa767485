"""The strategies generate what they promise: valid/invalid manifests, meaningful op sequences,
Scenarios that round-trip through YAML, and replayable interleavings.

Example counts come from the profile loaded in conftest.py (STS_PROPS_PROFILE).
"""

from __future__ import annotations

import pytest
from hypothesis import Phase, find, given, note, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase

from sts_props.checks import run_quiescent_checks, run_safety_checks
from sts_props.model.config import ModelConfig
from sts_props.model.runner import ModelRun, run_model
from sts_props.model.validation import default_statefulset, selector_matches, validate_create
from sts_props.ops import AllowPodWrites, Create, RevertTemplate, Settle
from sts_props.scenario import Manifests, Scenario
from sts_props.strategies import (
    DataChooser,
    ScriptedChooser,
    invalid_statefulsets,
    op_sequences,
    scenarios,
    valid_statefulsets,
)
from sts_props.strategies.manifests import INVALID_CASES
from sts_props.strategies.ops import (
    _WHILE_DENIED,
    _WHILE_SCHEDULING_HELD,
    ALL_FAULTS,
    with_fault,
)
from sts_props.strategies.profiles import PROFILES, get_profile, load_profile

#: Behaviour lines with different validation: serviceName checked from 1.33, templates from
#: 1.34, maxUnavailable gate on in 1.35.0-3 and 1.37, off in 1.35.4+/1.36.
CONFIGS = {
    "v1.33.0": ModelConfig.for_version("v1.33.0"),
    "v1.35.2": ModelConfig.for_version("v1.35.2"),
    "v1.36.3": ModelConfig.for_version("v1.36.3"),
    "v1.37.2": ModelConfig.for_version("v1.37.2"),
}
FAULT_KINDS = {"delete_pod", "fail_pod", "hold_not_ready", "release_pod", "delete_pvc"}


# -- valid manifests -------------------------------------------------------------------------------
@pytest.mark.parametrize("version", sorted(CONFIGS))
@given(manifests=valid_statefulsets())
def test_valid_manifests_pass_model_validation(version: str, manifests: Manifests) -> None:
    config = CONFIGS[version]
    causes = validate_create(default_statefulset(manifests.statefulset, config), config)
    assert causes == [], [c.to_dict() for c in causes]


@given(manifests=valid_statefulsets(max_replicas=3))
def test_valid_manifests_keep_service_and_labels_consistent(manifests: Manifests) -> None:
    sts = manifests.statefulset
    spec = sts["spec"]
    assert 0 <= spec.get("replicas", 1) <= 3
    service = manifests.service
    assert service is not None
    assert service["metadata"]["name"] == spec["serviceName"]
    template_labels = spec["template"]["metadata"]["labels"]
    assert selector_matches(sts, template_labels)
    # The Service selects the pods: its selector is a subset of the pod labels.
    assert all(template_labels.get(k) == v for k, v in service["spec"]["selector"].items())
    # Every volumeMount names a claim template (or a declared volume).
    claims = {t["metadata"]["name"] for t in spec.get("volumeClaimTemplates", [])}
    for container in spec["template"]["spec"]["containers"]:
        assert {m["name"] for m in container.get("volumeMounts", [])} <= claims


@given(manifests=valid_statefulsets(), data=st.data())
def test_valid_manifests_are_created_by_the_model(manifests: Manifests,
                                                  data: st.DataObject) -> None:
    run = ModelRun(manifests, chooser=DataChooser(data))
    assert run.apply(Create()).ok
    run.apply(Settle())
    assert not run.unsettled


def test_valid_manifests_from_a_given_base_keep_its_labels() -> None:
    @given(valid_statefulsets(Manifests.seed()))
    def check(m: Manifests) -> None:
        assert m.statefulset["spec"]["selector"] == {"matchLabels": {"app": "redis"}}

    check()


# -- invalid manifests -----------------------------------------------------------------------------
@pytest.mark.parametrize("version", sorted(CONFIGS))
@given(data=st.data())
def test_invalid_manifests_are_rejected_citing_the_rule(version: str,
                                                        data: st.DataObject) -> None:
    config = CONFIGS[version]
    manifests, rule, field = data.draw(invalid_statefulsets(config), label="case")
    causes = validate_create(default_statefulset(manifests.statefulset, config), config)
    cited = [(c.rule, c.field) for c in causes]
    assert (rule, field) in cited, cited
    # The defect is the only one: every cause points at the broken field.
    assert {c.field for c in causes} == {field}, cited
    outcome = ModelRun(manifests, config).apply(Create())
    assert (outcome.status, outcome.code, outcome.reason) == ("rejected", 422, "Invalid")
    assert rule in outcome.rules


@pytest.mark.parametrize("case", sorted(INVALID_CASES))
def test_every_invalid_case_is_rejected(case: str) -> None:
    config = ModelConfig()

    # One narrow case each: a tenth of the profile's examples is plenty (all cases together
    # also run in test_invalid_manifests_are_rejected_citing_the_rule).
    @settings(max_examples=max(10, settings.default.max_examples // 10))
    @given(invalid_statefulsets(config, cases=[case]))
    def check(triple: tuple[Manifests, str, str]) -> None:
        manifests, rule, field = triple
        causes = validate_create(default_statefulset(manifests.statefulset, config), config)
        assert (rule, field) in [(c.rule, c.field) for c in causes]

    check()


def test_invalid_cases_follow_the_version() -> None:
    # Before 1.34 an empty image is accepted (VAL-6): the case must not be drawn then.
    with pytest.raises(ValueError, match="none of the cases"):
        invalid_statefulsets(CONFIGS["v1.33.0"], cases=["empty image"])
    with pytest.raises(ValueError, match="unknown invalid cases"):
        invalid_statefulsets(cases=["no such case"])


# -- op sequences and scenarios --------------------------------------------------------------------
@given(data=st.data())
def test_op_sequences_start_with_create_and_end_with_settle(data: st.DataObject) -> None:
    manifests = data.draw(valid_statefulsets(), label="manifests")
    ops = data.draw(op_sequences(manifests, min_ops=2, max_ops=12), label="ops")
    assert isinstance(ops[0], Create)
    assert isinstance(ops[-1], Settle)
    assert 2 + 1 <= len(ops) <= 12 + 2
    assert not any(isinstance(op, Create) for op in ops[1:])
    # A Settle at least every 4 ops (Create counts as one).
    gap = 0
    for op in ops:
        gap = 0 if isinstance(op, Settle) else gap + 1
        assert gap <= 4, [o.kind for o in ops]


@given(data=st.data())
def test_op_sequences_without_faults_have_none(data: st.DataObject) -> None:
    manifests = data.draw(valid_statefulsets(), label="manifests")
    ops = data.draw(op_sequences(manifests, faults=False), label="ops")
    assert not {op.kind for op in ops} & FAULT_KINDS


@given(sc=scenarios(max_ops=20), data=st.data())
def test_generated_ops_are_meaningful_on_the_model(sc: Scenario, data: st.DataObject) -> None:
    """Create is accepted and RevertTemplate names existing versions (else SpecEditor raises
    PlanError), whatever the interleaving."""
    note(sc.to_yaml())
    result = run_model(sc, chooser=DataChooser(data))
    assert result.outcomes[0].ok
    for op, outcome in zip(sc.ops, result.outcomes, strict=True):
        if isinstance(op, RevertTemplate) and outcome.code != 404:
            assert outcome.ok, (op, outcome.describe())


@given(sc=scenarios())
def test_scenarios_round_trip_through_yaml(sc: Scenario) -> None:
    assert Scenario.from_yaml(sc.to_yaml()) == sc


def test_op_sequences_reject_bad_bounds() -> None:
    with pytest.raises(ValueError, match="min_ops"):
        op_sequences(Manifests.seed(), min_ops=5, max_ops=2)
    with pytest.raises(ValueError, match="max_ops"):
        scenarios(max_ops=0)


@given(sc=scenarios(max_ops=20, fault_kinds=ALL_FAULTS))
def test_fault_scenarios_hold_scheduling_meaningfully_and_end_released(sc: Scenario) -> None:
    """While a HoldScheduling is in force only ops that matter to Pending pods are drawn, and
    every scenario ends released (so its last settle can reach the 10.3 target)."""
    held = False
    for op in sc.ops:
        if held:
            assert op.kind in (*_WHILE_SCHEDULING_HELD, "settle", "release_scheduling"), \
                [o.kind for o in sc.ops]
        if op.kind in ("hold_scheduling", "release_scheduling"):
            held = op.kind == "hold_scheduling"
    assert not held and isinstance(sc.ops[-1], Settle)


@given(sc=scenarios(max_ops=20, fault_kinds=ALL_FAULTS))
def test_fault_scenarios_keep_denial_windows_to_modelled_ops_and_end_allowed(
        sc: Scenario) -> None:
    """While pod writes are denied only ops whose refusals the model knows are drawn (rollouts,
    scale and set deletion included: issue 12 item 6), and every window is closed."""
    denied = False
    for op in sc.ops:
        if denied:
            assert op.kind in (*_WHILE_DENIED, "settle", "allow_pod_writes"), \
                [o.kind for o in sc.ops]
        if op.kind in ("deny_pod_writes", "allow_pod_writes"):
            denied = op.kind == "deny_pod_writes"
    assert not denied and isinstance(sc.ops[-1], Settle)


def test_while_denied_draws_rollouts_scale_changes_and_set_deletion() -> None:
    assert {"set_template", "revert_template", "set_update_strategy", "set_partition",
            "set_max_unavailable", "scale", "set_ordinals_start", "delete_pod", "delete_set",
            "recreate_set"} <= set(_WHILE_DENIED)
    assert not {"fail_node", "delete_pvc", "deny_pod_writes"} & set(_WHILE_DENIED)


@pytest.mark.parametrize("kind", ["set_template", "delete_set"])
def test_fault_scenarios_put_rollouts_and_set_deletion_inside_denial_windows(kind: str) -> None:
    def inside(sc: Scenario) -> bool:
        denied = False
        for op in sc.ops:
            if denied and op.kind == kind:
                return True
            if op.kind in ("deny_pod_writes", "allow_pod_writes"):
                denied = op.kind == "deny_pod_writes"
        return False

    sc = find(scenarios(max_ops=12, fault_kinds=ALL_FAULTS), inside,
              settings=settings(database=None, max_examples=5000, phases=[Phase.generate],
                                derandomize=True))  # random draws missed it now and then
    result = run_model(sc)
    assert not result.unsettled
    assert run_safety_checks(result.history) == run_quiescent_checks(result.history) == []


def test_a_window_spanning_a_set_deletion_keeps_the_set_deleting_until_allowed() -> None:
    from sts_props.ops import DeleteSet, DenyPodWrites
    from sts_props.spec_edit import SpecEditor
    from sts_props.strategies.ops import _Shadow

    shadow = _Shadow(SpecEditor(Manifests.seed().statefulset), "present", True, ("redis:6.2",))
    for op in (DenyPodWrites(1), DeleteSet("Foreground"), Settle()):
        shadow.record(op)
    assert shadow.state == "deleting"  # a Foreground delete may wait for the denied pod
    shadow.record(AllowPodWrites())
    shadow.record(Settle())
    assert shadow.state == "absent"


def test_with_fault_deny_recipe_alternates_a_refused_rp1_and_a_refused_rollout() -> None:
    odd = with_fault(Scenario(Manifests.seed(), (Create(), Settle(), Settle())), "deny_pod_writes")
    even = with_fault(Scenario(Manifests.seed(), (Create(), Settle())), "deny_pod_writes")
    assert [op.kind for op in odd.ops][2:5] == ["deny_pod_writes", "fail_pod", "allow_pod_writes"]
    assert [op.kind for op in even.ops][2:6] == ["deny_pod_writes", "set_template", "settle",
                                                 "allow_pod_writes"]
    result = run_model(even)
    window = [ev for ev in result.history.quiescent_points() if ev.data.get("afterOp") == 4]
    pods = result.history.state_at(window[-1].seq)["Pod"]
    sts = result.history.state_at(window[-1].seq)["StatefulSet"]["redis"]
    # the update deletion of redis-2 (the first the update step tries) is refused: no pod moved
    assert {n: p["metadata"]["labels"]["controller-revision-hash"] for n, p in pods.items()} \
        == dict.fromkeys(["redis-0", "redis-1", "redis-2"], sts["status"]["currentRevision"])
    assert sts["status"]["updateRevision"] != sts["status"]["currentRevision"]
    assert run_safety_checks(result.history) == run_quiescent_checks(result.history) == []


def test_fault_scenarios_include_a_pending_pods_claim_deletion() -> None:
    def pvc_while_held(sc: Scenario) -> bool:
        kinds = [op.kind for op in sc.ops]
        if "hold_scheduling" not in kinds:
            return False
        start = kinds.index("hold_scheduling")
        return "delete_pvc" in kinds[start:kinds.index("release_scheduling", start)]

    # No shrinking: any such scenario will do, and shrinking one takes ~20 s.
    sc = find(scenarios(max_ops=12, fault_kinds=ALL_FAULTS), pvc_while_held,
              settings=settings(database=None, max_examples=2000, phases=[Phase.generate],
                                derandomize=True))  # the same draws every run: never flaky
    assert {"hold_scheduling", "delete_pvc", "release_scheduling"} <= {op.kind for op in sc.ops}


@pytest.mark.parametrize("ops", [(Create(), Settle()), (Create(), Settle(), Settle())],
                         ids=["scale-up", "delete-pod"])
def test_with_fault_hold_scheduling_recipe_recreates_the_pending_pods_claim_sto5(
        ops: tuple[Create | Settle, ...]) -> None:
    sc = with_fault(Scenario(Manifests.seed(), ops), "hold_scheduling")
    kinds = [op.kind for op in sc.ops]
    release = kinds.index("release_scheduling")
    assert kinds[2] == "hold_scheduling" and "delete_pvc" in kinds[3:release]
    assert kinds[release + 1] == "settle"
    result = run_model(sc)
    assert all(o.ok for o in result.outcomes) and not result.unsettled
    assert result.rules["STO-5"] >= 1
    assert run_safety_checks(result.history) == run_quiescent_checks(result.history) == []


# -- choosers --------------------------------------------------------------------------------------
@given(sc=scenarios(max_ops=10), data=st.data())
def test_interleavings_replay_exactly(sc: Scenario, data: st.DataObject) -> None:
    chooser = DataChooser(data)
    first = run_model(sc, chooser=chooser)
    again = run_model(sc, chooser=ScriptedChooser(chooser.log))
    assert again.history.to_jsonl() == first.history.to_jsonl()
    assert [o.to_dict() for o in again.outcomes] == [o.to_dict() for o in first.outcomes]


# -- profiles --------------------------------------------------------------------------------------
def test_profiles_keep_the_database_on_disk_where_it_matters() -> None:
    assert set(PROFILES) == {"model", "model-ci", "cluster"}
    for name in ("model-ci", "cluster"):
        assert isinstance(get_profile(name).database, DirectoryBasedExampleDatabase)
    assert get_profile("model").stateful_step_count == 20
    assert get_profile("cluster").deadline is None
    with pytest.raises(ValueError, match="unknown Hypothesis profile"):
        load_profile("fast")


def test_with_fault_keeps_a_fault_out_of_an_open_denial_window() -> None:
    """Seen in CI: a node failure inserted after the first Settle landed inside a
    deny_pod_writes window the scenario had drawn; the cluster's node-failure agent was refused
    (403) where the model accepted it (CMP/VAL-8). It now goes after the window closes."""
    from sts_props.ops import DenyPodWrites, FailNode, FailPod
    from sts_props.scenario import Manifests, Scenario

    sc = Scenario(Manifests.seed(), (Create(), DenyPodWrites(2), Settle(), FailPod(2),
                                     AllowPodWrites(), Settle()))
    ops = with_fault(sc, "fail_node").ops
    where = next(i for i, op in enumerate(ops) if isinstance(op, FailNode))
    assert where > next(i for i, op in enumerate(ops) if isinstance(op, AllowPodWrites))
    # still open at the end: the window is closed first
    open_sc = Scenario(Manifests.seed(), (Create(), DenyPodWrites(2), Settle()))
    kinds = [op.kind for op in with_fault(open_sc, "fail_node").ops]
    assert kinds.index("allow_pod_writes") < kinds.index("fail_node")
