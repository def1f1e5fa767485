"""The alpha Recreate strategy (v1.37, gate StatefulSetRecreateStrategy) on the model side:
validation, the controller's RCR-1/RCR-2 step and the F-8a deviation it follows, the checks
that know it (each with a History it must flag), the generators and the ``--gate`` flag.
On a cluster: ``test_recreate_strategy_kwok.py``."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, find, settings
from hypothesis.stateful import run_state_machine_as_test

from sts_props.checks import run_history_checks
from sts_props.checks.quiescent import run_quiescent_checks
from sts_props.checks.safety import check_chk4, check_chk7
from sts_props.cli.app import main
from sts_props.corners import corners_of
from sts_props.coverage import Coverage
from sts_props.errors import VersionError
from sts_props.interleaving import Interleaving
from sts_props.model import ModelConfig, ModelRun, run_model
from sts_props.model.validation import default_statefulset, validate_create, validate_update
from sts_props.ops import Create, Scale, SetTemplate, Settle, SetUpdateStrategy
from sts_props.scenario import Scenario
from sts_props.strategies.chooser import ScriptedChooser
from sts_props.strategies.ops import scenarios
from sts_props.strategies.state_machine import StatefulSetMachine
from tests.histories import HistoryBuilder
from tests.model_helpers import pod_events, pods, revisions, run, web

GATE = "StatefulSetRecreateStrategy"
ON = ModelConfig.for_version("v1.37.2", **{GATE: True})
OFF = ModelConfig.for_version("v1.37.2")
RECREATE = {"type": "Recreate"}


# -- validation (VAL-5 with the gate) ------------------------------------------------------------
def _create_causes(strategy: dict[str, Any], config: ModelConfig) -> list[tuple[str, str]]:
    sts = web(strategy=strategy).statefulset
    return [(c.field, c.message) for c in validate_create(default_statefulset(sts, config),
                                                           config)]


def test_the_strategy_is_refused_with_the_gate_off_and_taken_with_it_on() -> None:
    assert _create_causes(RECREATE, OFF) == [
        ("spec.updateStrategy", "must be 'RollingUpdate' or 'OnDelete'")]
    assert _create_causes(RECREATE, ON) == []
    assert _create_causes({"type": "Bogus"}, ON) == [
        ("spec.updateStrategy", "must be 'RollingUpdate', 'OnDelete', or 'Recreate'")]
    assert _create_causes({"type": "Recreate", "rollingUpdate": {"partition": 0}}, ON) == [
        ("spec.updateStrategy.rollingUpdate", "only allowed for updateStrategy 'RollingUpdate'")]


def test_an_update_keeps_recreate_when_the_old_set_had_it_whatever_the_gate() -> None:
    """v1.37.2 ``ValidateUpdate``: Recreate is allowed when the gate is on *or* the old object
    already uses it (a cluster whose gate was turned off keeps its sets editable)."""
    old = default_statefulset(web(strategy=RECREATE).statefulset, ON)
    new = default_statefulset(web(replicas=4, strategy=RECREATE).statefulset, ON)
    assert validate_update(old, new, OFF) == []
    rolling = default_statefulset(web().statefulset, OFF)
    assert [c.message for c in validate_update(rolling, new, OFF)] == [
        "must be 'RollingUpdate' or 'OnDelete'"]
    assert validate_update(rolling, new, ON) == []


def test_the_gate_exists_from_v1_37_only() -> None:
    with pytest.raises(VersionError, match=r"does not exist before v1\.37\.0"):
        ModelConfig.for_version("v1.36.3", **{GATE: True})
    assert not OFF.gate(GATE)


# -- the controller (RCR-1, RCR-2) ---------------------------------------------------------------
def test_rcr1_every_old_pod_goes_at_once_then_the_set_is_created_afresh() -> None:
    """OrderedReady, 3 pods: the template change deletes all three in one sync (no waiting
    for readiness, no order), and new pods come only once every old one is gone, in order."""
    r = ModelRun(web(3, strategy=RECREATE), ON)
    r.apply(Create())
    r.apply(Settle())
    old = set(revisions(r).values())
    r.apply(SetTemplate("image", "app:2"))
    r.apply(Settle())
    assert pods(r) == ["web-0", "web-1", "web-2"] and set(revisions(r).values()).isdisjoint(old)
    events = [(ev.action, ev.name, ev.obj["metadata"].get("deletionTimestamp") is not None)
              for ev in r.history.objects("Pod")]
    first_new = next(i for i, (action, _, _) in enumerate(events)
                     if action == "ADDED" and i > 5)
    terminating = [name for action, name, deleting in events[:first_new] if deleting]
    assert sorted(set(terminating)) == ["web-0", "web-1", "web-2"]
    assert r.rules["RCR-1"] == 3
    assert run_history_checks(r.history) == []


def test_rcr2_a_terminating_old_pod_holds_back_every_creation() -> None:
    """One old pod held by a finalizer: the other two are gone and not re-created."""
    from sts_props.ops import HoldTerminating, ReleaseTerminating

    r = run(web(3, strategy=RECREATE), Create(), Settle(), HoldTerminating(1),
            SetTemplate("image", "app:2"), Settle(), config=ON)
    assert pods(r) == ["web-1"] and r.world.pods["web-1"].terminating
    assert run_history_checks(r.history) == []  # Q/ID-2 excuses the missing pods (RCR-2)
    r.apply(ReleaseTerminating(1))
    r.apply(Settle())
    assert pods(r) == ["web-0", "web-1", "web-2"]


@pytest.mark.parametrize("denied,deleted", [(0, []), (1, ["web-0", "web-2"]),
                                            (2, ["web-0", "web-1"])])
def test_rcr1_a_refused_delete_ends_its_slow_start_batch(denied: int, deleted: list[str]) -> None:
    """Upstream's batches (1, 2, 4, ...) run over every slot: with web-<denied>'s DELETE
    refused, the batches before it and the rest of its own (run side by side) are done, later
    ones are not."""
    from sts_props.ops import DenyPodWrites

    chooser = ScriptedChooser([Interleaving(None, ()), Interleaving(None, ()),
                               Interleaving(1, ())])
    r = ModelRun(web(3, strategy=RECREATE), ON, chooser)
    for op in (Create(), Settle(), DenyPodWrites(denied), SetTemplate("image", "app:2")):
        r.apply(op)
    assert sorted(pod_events(r, "terminating")) == deleted
    # settled with the denial in force, the old pods past the refused batch stay: Q/RCR-1
    # knows the batches (before it did, this situation was a false alarm: kwok v1.38.0-beta.0
    # hunts, seeds 2102 and 2103)
    r.apply(Settle())
    assert run_quiescent_checks(r.history) == []


def _scale_down_meeting_a_recreate(strategy: dict[str, Any]) -> ModelRun:
    """3 -> 1 and a template change with no controller step in between (one sync sees both)."""
    chooser = ScriptedChooser([Interleaving(None, ()), Interleaving(0, ()),
                               Interleaving(None, ())])
    r = ModelRun(web(3, strategy=strategy, retention=("Retain", "Delete")), ON, chooser)
    for op in (Create(), Settle(), Scale(1), SetTemplate("image", "app:2"), Settle()):
        r.apply(op)
    return r


def test_f8a_the_model_keeps_the_claims_of_condemned_pods_recreate_deletes() -> None:
    """docs/findings.md F-8a, as v1.37.2 does it: the condemned pods are Recreate's victims
    before their claims get the pod reference, so whenScaled: Delete keeps them. The control,
    RollingUpdate, deletes them (STO-10)."""
    recreated = _scale_down_meeting_a_recreate(RECREATE)
    assert pods(recreated) == ["web-0"]
    assert sorted(recreated.world.claims) == ["data-web-0", "data-web-1", "data-web-2"]
    assert all(not c.owner_refs for c in recreated.world.claims.values())
    assert run_history_checks(recreated.history) == []
    rolled = _scale_down_meeting_a_recreate({"type": "RollingUpdate"})
    assert sorted(rolled.world.claims) == ["data-web-0"]


# -- the checks that know Recreate, each with a History it must flag -----------------------------
def _recreate_up() -> HistoryBuilder:
    return HistoryBuilder("web", strategy="Recreate", partition=None).create_set() \
        .bring_up().settle()


def test_chk7_takes_recreate_deletions_of_old_pods_and_flags_an_updated_one() -> None:
    hb = _recreate_up()
    hb.set_template("b").sync_status()
    for o in (2, 1, 0):
        hb.pod_deleted(o)
    hb.bring_up().settle()
    assert check_chk7(hb.build()) == []
    hb.pod_deleted(1)  # now at the update revision: no Recreate deletes it
    violations = check_chk7(hb.build())
    assert [v.rule for v in violations] == ["CHK-7/RCR-1"] and "web-1" in violations[0].message


def test_chk4_takes_a_recreate_deletion_of_condemned_old_pods_out_of_order() -> None:
    """Under OrderedReady, condemned pods go highest first, each once the others are healthy
    (ORD-4): a Recreate deletes the old ones at once. The same deletions without a template
    change, a plain scale-down, are flagged."""
    hb = _recreate_up()
    hb.scale(1).set_template("b").sync_status()
    for o in (0, 1, 2):
        hb.pod_deleted(o)
    assert check_chk4(hb.build()) == []
    plain = _recreate_up()
    plain.scale(1).sync_status()
    plain.pod_terminating(1)
    plain.pod_terminating(2)
    assert "CHK-4/ORD-4" in {v.rule for v in check_chk4(plain.build())}


def test_quiescence_under_recreate_flags_an_old_pod_left_running() -> None:
    """Q/RCR-1: at a settled point every pod not at updateRevision is being deleted."""
    hb = _recreate_up()
    hb.set_template("b").sync_status().quiescent()
    rules = {v.rule for v in run_quiescent_checks(hb.build())}
    assert "Q/RCR-1" in rules


@pytest.mark.parametrize("denied,flagged", [(0, ""), (1, "web-0, web-2"), (2, "web-0, web-1")])
def test_quiescence_under_recreate_excuses_only_the_batches_after_a_refused_delete(
        denied: int, flagged: str) -> None:
    """Upstream tries the old pods' DELETEs in slow-start batches ([0], [1, 2], ...): a
    refused one ends the sync after its own batch. An old pod left running in an earlier
    batch, or beside the refused one in the same batch, is still flagged."""
    hb = _recreate_up()
    hb.ok(hb.invoke("deny_pod_writes", ordinal=denied))
    hb.set_template("b").sync_status().quiescent()
    found = [v.message for v in run_quiescent_checks(hb.build()) if v.rule == "Q/RCR-1"]
    if not flagged:
        assert found == []
    else:
        assert len(found) == 1 and f"pod(s) {flagged} are not at updateRevision" in found[0]


# -- generators, coverage and the flag -----------------------------------------------------------
def test_generators_draw_recreate_only_when_asked() -> None:
    def uses_recreate(sc: Scenario) -> bool:
        spec = sc.manifests.statefulset["spec"]
        return (spec.get("updateStrategy") or {}).get("type") == "Recreate" or any(
            isinstance(op, SetUpdateStrategy) and op.type == "Recreate" for op in sc.ops)

    found = find(scenarios(recreate=True), uses_recreate,
                 settings=settings(database=None, max_examples=2000))
    assert uses_recreate(found)
    quiet = settings(database=None, max_examples=300, phases=[Phase.generate],
                     suppress_health_check=list(HealthCheck))
    from hypothesis import given

    @quiet
    @given(scenarios())
    def never(sc: Scenario) -> None:
        assert not uses_recreate(sc)

    never()


class _RecreateMachine(StatefulSetMachine):
    config = ON


def test_the_state_machine_with_the_gate_on_finds_nothing() -> None:
    run_state_machine_as_test(_RecreateMachine, settings=settings(
        max_examples=120, stateful_step_count=15, deadline=None, database=None,
        derandomize=True, phases=[Phase.generate], suppress_health_check=list(HealthCheck)))


def test_recreate_cells_are_shown_but_not_counted_among_the_sixteen() -> None:
    cov = Coverage()
    cov.record(Scenario(web(strategy=RECREATE), (Create(), Settle())))
    cov.record(Scenario(web(), (Create(), Settle())))
    first = cov.render().splitlines()[0]
    assert first.startswith("coverage: 1 of 16 policy x strategy x retention cells ran (and 1 "
                            "of the alpha Recreate strategy); ")
    assert any("Recreate" in line for line in cov.render().splitlines()[1:])


def test_recreate_corners_are_shown_apart_once_recreate_ran() -> None:
    """A Recreate rollout's corner is found in the model's History and shown on a line of
    its own, after the sixteen corners every cluster can reach; without a Recreate cell the
    line is not there."""
    sc = Scenario(web(strategy=RECREATE), (Create(), Settle(), SetTemplate("image", "b"),
                                           Settle()))
    found = corners_of(run_model(sc, ON).history)
    assert found["recreate-rollout-completed"] == 1
    cov = Coverage()
    cov.record(sc)
    cov.record_corners(found)
    assert ("  alpha Recreate corners reached: 1 of 2; recreate-rollout-completed "
            "(scenarios 1, times 1)") in cov.render().splitlines()
    plain = Coverage()
    plain.record(Scenario(web(), (Create(), Settle())))
    plain.record_corners(found)
    assert "alpha Recreate corners" not in plain.render()


def test_check_with_the_gate_runs_recreate_scenarios_on_the_model(
        tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", "--gate", f"{GATE}=true", "--examples", "60", "--seed", "5",
                 "--max-replicas", "4", "--database", str(tmp_path / "db")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "of the alpha Recreate strategy" in out and "RCR-1x" in out


@pytest.mark.parametrize("args,words", [
    (["check", "--gate", "Nope=true"], "unknown feature gate 'Nope'"),
    (["check", "--gate", f"{GATE}=on"], "expected NAME=true or NAME=false"),
    (["check", "--gate", f"{GATE}=true", "--k8s-version", "v1.36.3"],
     "does not exist before v1.37.0"),
])
def test_a_bad_gate_is_one_line(capsys: pytest.CaptureFixture[str], args: list[str],
                                words: str) -> None:
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0] and "Traceback" not in err[0], err


def test_k3s_cannot_take_gates() -> None:
    from sts_props.cluster.backends import BackendUnavailable, make_cluster

    with pytest.raises(BackendUnavailable, match="--gate needs a control plane"):
        make_cluster("k3s", feature_gates={GATE: True})
