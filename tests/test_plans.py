"""Plan files (round trip, bad files), failure artifacts, and ``sts-props replay`` / ``promote``.

The failure tests use a deliberately wrong expectation (or a deliberately wrong rule patched
into the checks): the run must fail, leave all artifacts, and ``sts-props replay`` on the
written plan must fail the same way.
"""

from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from sts_props.checks import Violation, compare_histories
from sts_props.cli import main
from sts_props.cluster.base import Cluster
from sts_props.differential import DifferentialResult
from sts_props.expect import Expectation
from sts_props.history import History
from sts_props.model import ModelConfig, run_model
from sts_props.ops import (
    Create,
    HoldNotReady,
    Scale,
    SetMaxUnavailable,
    SetTemplate,
    Settle,
)
from sts_props.plan import Plan, PlanError
from sts_props.replay import run_plan_on_cluster
from sts_props.report import write_artifacts
from sts_props.scenario import Manifests, Scenario
from sts_props.snapshot import ordinal_of
from sts_props.strategies.chooser import Interleaving
from sts_props.suite import run_model_suite, save_failure

REGRESSIONS = Path(__file__).parent / "regressions"
SVG = "{http://www.w3.org/2000/svg}"
ARTIFACTS = {"plan.yaml", "history.jsonl", "explanation.md", "timeline.svg"}


def _plan(**kw: object) -> Plan:
    ops = (Create(), Settle(), Scale(2), Settle())
    return Plan(Scenario(Manifests.seed(), ops), name="two-pods", **kw)  # type: ignore[arg-type]


# -- round trip -----------------------------------------------------------------------------
def test_a_plan_with_every_field_round_trips(tmp_path: Path) -> None:
    plan = _plan(upstream="some upstream It(...) text", description="why",
                 backend="kwok", k8s_version="v1.36.3",
                 gates=(("MaxUnavailableStatefulSet", True),), mutant="scale-down-ascending",
                 seed=42,
                 interleavings=(Interleaving(None), Interleaving(2, (1, 0))),
                 expect=(Expectation(3, pods=("redis-0", "redis-1"), rule="ORD-1", note="n"),),
                 origin=(("foundOn", "kwok"),))
    plan.dump(tmp_path / "p.yaml")
    again = Plan.load(tmp_path / "p.yaml")
    assert again == plan
    assert ModelConfig.for_plan(again) == dataclasses.replace(ModelConfig.for_version(
        "v1.36.3", MaxUnavailableStatefulSet=True), mutant="scale-down-ascending")


@pytest.mark.parametrize("path", sorted(REGRESSIONS.glob("*.yaml")), ids=lambda p: p.stem)
def test_regression_files_round_trip(path: Path) -> None:
    plan = Plan.load(path)
    assert Plan.loads(plan.dumps()) == plan


BAD = [
    ("manifests: [unclosed", "not valid YAML at line 1"),
    ("- a list", "a plan is a mapping, got list"),
    ("ops: []", "missing 'manifests'"),
    ("manifests: {statefulset: 3}\nops: []", "manifests.statefulset must be a mapping"),
    ("manifests: {statefulset: {}}\nops: {op: create}", "'ops' must be a list"),
    ("manifests: {statefulset: {}}\nops: [{op: explode}]", "unknown op 'explode'"),
    ("manifests: {statefulset: {}}\nops: [{op: scale, count: 2}]", "has no field 'count'"),
    ("manifests: {statefulset: {}}\nops: []\ncolour: red", "unknown key 'colour'"),
    ("manifests: {statefulset: {}}\nops: []\nbackend: minikube", "backend 'minikube' is not"),
    ("manifests: {statefulset: {}}\nops: []\nk8sVersion: 2.0", "not a Kubernetes version"),
    ("manifests: {statefulset: {}}\nops: []\ngates: {NoSuchGate: true}",
     "unknown feature gate 'NoSuchGate'"),
    ("manifests: {statefulset: {}}\nops: []\ngates: {PodIndexLabel: 'yes'}",
     "must be true or false"),
    ("manifests: {statefulset: {}}\nops: []\nseed: x", "seed must be an integer"),
    ("manifests: {statefulset: {}}\nops: [{op: create}]\nexpect: [{afterOp: 1}]",
     "afterOp must be an op index 0..0"),
    ("manifests: {statefulset: {}}\nops: [{op: create}]\nexpect: [{afterOp: 0, pod: [a]}]",
     "expectation has no field 'pod'"),
    ("manifests: {statefulset: {}}\nops: [{op: create}]\nexpect: [{afterOp: 0, "
     + "k" * 500 + ": 1}]", "expectation has no field '" + "k" * 36 + "... (fields"),
    ("manifests: {statefulset: {}}\nops: []\ninterleavings: [{steps: -1}]",
     "interleaving"),
    ("manifests: {statefulset: {}}\nops: []\nmutant: nonsense", "unknown mutant 'nonsense'"),
    ("stsPropsPlan: 2\nmanifests: {statefulset: {}}\nops: []", "plan format 2 is not supported"),
]


@pytest.mark.parametrize(("text", "message"), BAD, ids=[m for _, m in BAD])
def test_a_bad_plan_file_is_one_clear_error(text: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PlanError) as info:
        Plan.load(path)
    assert str(info.value).startswith(f"{path}: ")
    assert message in str(info.value)


@pytest.mark.parametrize("command", ["replay", "promote"])
def test_cli_bad_plan_exits_2_with_one_line(command: str, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("ops: [", encoding="utf-8")
    for path in (bad, tmp_path / "missing.yaml", tmp_path):
        assert main([command, str(path)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith(f"sts-props: error: {path}: ")
        assert "Traceback" not in err


# -- a deliberately wrong expectation --------------------------------------------------------
def _wrong_plan(tmp_path: Path) -> Path:
    """Two pods after scale 2, but the plan insists on one: a wrong expected outcome."""
    plan = _plan(expect=(Expectation(3, pods=("redis-0",), rule="ORD-1",
                                     note="deliberately wrong"),))
    path = tmp_path / "wrong.yaml"
    plan.dump(path)
    return path


def _only_dir(root: Path) -> Path:
    dirs = [p for p in root.iterdir() if p.is_dir()]
    assert len(dirs) == 1, dirs
    return dirs[0]


def test_wrong_expectation_leaves_all_artifacts_and_replays(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = tmp_path / "first"
    assert main(["replay", str(_wrong_plan(tmp_path)), "--artifacts", str(first)]) == 1
    out = capsys.readouterr().out
    assert "FAILED with 1 violation(s)" in out and "EXP/ORD-1" in out
    where = _only_dir(first)
    assert {p.name for p in where.iterdir()} >= ARTIFACTS

    history = History.load(where / "history.jsonl")
    point = next(ev for ev in history.quiescent_points() if ev.data["afterOp"] == 3)
    explanation = (where / "explanation.md").read_text(encoding="utf-8")
    assert "## 1. EXP/ORD-1" in explanation
    assert "expected live pods redis-0 after op 3, found redis-0, redis-1" in explanation
    assert f"{point.where()}: quiescent point after op 3" in explanation
    assert 'settled, during op' not in explanation  # a quiescent record names its op itself
    assert "sts-props replay plan.yaml" in explanation

    svg = ET.parse(where / "timeline.svg").getroot()
    lanes = svg.findall(f".//{SVG}g[@class='lane']")
    assert sorted(int(g.get("data-ordinal", "-1")) for g in lanes) == [0, 1, 2]
    marks = svg.findall(f".//{SVG}g[@class='violation']")
    assert [(m.get("data-seq"), m.get("data-label")) for m in marks] == [
        (str(point.seq), "V1 EXP")]
    ops = svg.findall(f".//{SVG}g[@class='op']")
    assert [o.get("data-kind") for o in ops] == ["create", "settle", "scale", "settle"]

    # the written plan reproduces the failure
    second = tmp_path / "second"
    assert main(["replay", str(where / "plan.yaml"), "--artifacts", str(second)]) == 1
    assert "EXP/ORD-1" in capsys.readouterr().out
    assert (_only_dir(second) / "violations.txt").read_text() == (
        where / "violations.txt").read_text()


def test_a_right_expectation_replays_clean(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    plan = _plan(expect=(Expectation(3, pods=("redis-0", "redis-1")),))
    plan.dump(tmp_path / "right.yaml")
    assert main(["replay", str(tmp_path / "right.yaml"), "--artifacts",
                 str(tmp_path / "a")]) == 0
    assert ": ok in" in capsys.readouterr().out
    assert not (tmp_path / "a").exists()  # nothing written for a passing run


# -- a model with a deliberately wrong rule (a mutant) ------------------------------------------
def test_a_mutant_model_fails_a_regression_plan_and_the_plan_replays_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The ordered-scaling regression plan against a model that scales down lowest first."""
    plan = dataclasses.replace(
        Plan.load(REGRESSIONS / "ordered-scaling-halts-on-unhealthy-pod.yaml"),
        mutant="scale-down-ascending")
    plan.dump(tmp_path / "mutant.yaml")
    assert main(["replay", str(tmp_path / "mutant.yaml"), "--artifacts",
                 str(tmp_path / "a")]) == 1
    assert "CHK-4/ORD-4" in capsys.readouterr().out
    where = _only_dir(tmp_path / "a")
    assert Plan.load(where / "plan.yaml").mutant == "scale-down-ascending"
    explanation = (where / "explanation.md").read_text(encoding="utf-8")
    assert "## 1. CHK-4/ORD-4" in explanation and "mutant `scale-down-ascending`" in explanation
    assert main(["replay", str(where / "plan.yaml"), "--artifacts", str(tmp_path / "b")]) == 1
    assert (_only_dir(tmp_path / "b") / "violations.txt").read_text() == (
        where / "violations.txt").read_text()


# -- a deliberately wrong rule, in a generated model run ------------------------------------
def _at_most_two_pods(history: History) -> list[Violation]:
    """A wrong rule: "a set never has a third pod" (it may have up to five here)."""
    for ev in history.objects("Pod"):
        ordinal = ordinal_of(ev.name, history.set_name)
        if ev.action == "ADDED" and ordinal is not None and ordinal >= 2:
            return [Violation("WRONG", "WRONG/ORD-1", f"Pod {ev.name} exists at {ev.where()}.",
                              (ev.seq,))]
    return []


def test_model_suite_failure_writes_artifacts_that_replay_exactly(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import sts_props.replay
    import sts_props.suite

    for module in (sts_props.suite, sts_props.replay):
        monkeypatch.setattr(module, "run_history_checks", _at_most_two_pods)
    summary = run_model_suite(examples=30, seed=3, progress=lambda _l: None,
                              artifacts_dir=tmp_path / "found")
    assert summary.violations and summary.violations[0].check == "WRONG"
    assert summary.artifacts is not None and summary.artifacts.parent == tmp_path / "found"
    assert {p.name for p in summary.artifacts.iterdir()} >= ARTIFACTS
    plan = Plan.load(summary.artifacts / "plan.yaml")
    assert plan.backend == "model" and plan.seed == 3 and plan.interleavings
    assert plan.scenario == dataclasses.replace(summary.counterexample, name="")  # type: ignore[arg-type]

    # replay takes the same interleaving: the same History, the same violation
    assert main(["replay", str(summary.artifacts / "plan.yaml"),
                 "--artifacts", str(tmp_path / "again")]) == 1
    assert "WRONG/ORD-1" in capsys.readouterr().out
    again = _only_dir(tmp_path / "again")
    assert (again / "history.jsonl").read_text() == (
        summary.artifacts / "history.jsonl").read_text()
    # and the failure is the wrong rule's, not the model's
    monkeypatch.undo()
    assert main(["replay", str(summary.artifacts / "plan.yaml"),
                 "--artifacts", str(tmp_path / "third")]) == 0


# -- a differential failure (model vs a model with a wrong rule standing in for a cluster) ---
def test_differential_failure_writes_both_histories_and_pictures(tmp_path: Path) -> None:
    """The "cluster" is the model with a wrong rule: the MaxUnavailableStatefulSet gate off on
    1.37, so it drops maxUnavailable and its generation falls behind the model's (ST-7)."""
    ops = (Create(), Settle(), SetMaxUnavailable(3), HoldNotReady(0),
           SetTemplate("image", "redis:7"), Settle())
    scenario = Scenario(Manifests.seed(), ops, name="max-unavailable")
    model = run_model(scenario, ModelConfig.for_version("v1.37.2")).history
    other = run_model(scenario, ModelConfig.for_version(
        "v1.37.2", MaxUnavailableStatefulSet=False)).history
    violations = compare_histories(model, other)
    assert violations and all(v.check == "CMP" for v in violations)
    result = DifferentialResult(scenario, model, other, violations)
    where = save_failure(tmp_path, result, ModelConfig.for_version("v1.37.2"), seed=7)
    names = {p.name for p in where.iterdir()}
    assert ARTIFACTS | {"model-history.jsonl", "model-timeline.svg"} <= names
    plan = Plan.load(where / "plan.yaml")
    assert (plan.k8s_version, plan.seed, plan.ops) == ("v1.37.2", 7, ops)
    explanation = (where / "explanation.md").read_text(encoding="utf-8")
    first = violations[0]
    assert f"- model history #{first.events[0]} " in explanation
    assert f"- cluster history #{first.events[1]} " in explanation
    # each picture marks its own side's record of a CMP violation
    for svg_name, seq in (("timeline.svg", first.events[1]),
                          ("model-timeline.svg", first.events[0])):
        root = ET.parse(where / svg_name).getroot()
        seqs = {m.get("data-seq") for m in root.findall(f".//{SVG}g[@class='violation']")}
        assert str(seq) in seqs


@pytest.mark.cluster
def test_a_wrong_expectation_on_the_cluster_leaves_both_sides_and_replays(
        sts_cluster: Cluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = dataclasses.replace(Plan.load(_wrong_plan(tmp_path)), backend=sts_cluster.name)
    run = run_plan_on_cluster(plan, sts_cluster)
    assert [v.rule for v in run.violations] == ["EXP/ORD-1"]  # the cluster agrees with the model
    assert run.model_history is not None
    where = write_artifacts(tmp_path / "a", plan, run.history, run.violations,
                            run.model_history)
    assert {p.name for p in where.iterdir()} >= ARTIFACTS | {"model-history.jsonl",
                                                              "model-timeline.svg"}
    assert History.load(where / "history.jsonl").header["backend"] == sts_cluster.name
    explanation = (where / "explanation.md").read_text(encoding="utf-8")
    assert f"Run on **{sts_cluster.name}**" in explanation
    assert f"(on {sts_cluster.name}, as the plan records; `--backend model`" in explanation
    # the model alone reproduces it from the written plan
    assert main(["replay", str(where / "plan.yaml"), "--backend", "model",
                 "--artifacts", str(tmp_path / "b")]) == 1
    assert "EXP/ORD-1" in capsys.readouterr().out


# -- promote -----------------------------------------------------------------------------------
def test_promote_copies_with_metadata_and_refuses_to_overwrite(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "plan.yaml"
    _plan().dump(source)
    into = tmp_path / "regressions"
    into.mkdir()
    args = ["promote", str(source), "--name", "two-pods-scale", "--tag", "some It text",
            "--into", str(into)]
    assert main(args) == 0
    promoted = Plan.load(into / "two-pods-scale.yaml")
    assert (promoted.name, promoted.upstream) == ("two-pods-scale", "some It text")
    origin = dict(promoted.origin)
    assert origin["promotedFrom"] == str(source) and origin["foundOn"] == "model (v1.37.2)"
    assert promoted.scenario.ops == _plan().ops
    before = (into / "two-pods-scale.yaml").read_text()
    capsys.readouterr()
    assert main(args) == 2
    assert "already exists" in capsys.readouterr().err
    assert (into / "two-pods-scale.yaml").read_text() == before
    assert main(["promote", str(source), "--name", "Bad Name", "--into", str(into)]) == 2
    assert "lowercase letters" in capsys.readouterr().err


def test_history_jsonl_of_artifacts_is_the_common_format(tmp_path: Path) -> None:
    assert main(["replay", str(_wrong_plan(tmp_path)), "--artifacts", str(tmp_path / "a")]) == 1
    lines = (_only_dir(tmp_path / "a") / "history.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["type"] == "header"
