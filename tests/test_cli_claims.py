"""``sts-props claims`` on the model: the verdict table, plans, and bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sts_props.claims import CLAIMS, Replay, Verdict
from sts_props.cli import main
from sts_props.cli.claims import plan_summary, render_table
from sts_props.model import run_model
from sts_props.ops import Create, Scale, Settle
from sts_props.scenario import Manifests, Scenario


def test_claims_command_prints_verdict_table_and_replayable_plans(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["claims", "--claim", "3", "--examples", "10", "--search", "80", "--seed", "7",
                 "--plans", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    row = next(line for line in out.splitlines() if line.startswith("3. ordered deployment"))
    assert "holds under conditions" in row and "ORD-1/T-1" in row and "ORD-9" in row
    assert "1. stable network identity" not in out  # only the claim asked for
    # every printed counterexample is YAML with the ops
    blocks = out.split("minimal counterexample:\n")[1:]
    assert len(blocks) == 2
    for block in blocks:
        text = "\n".join(line for line in block.splitlines() if line.startswith("      "))
        assert yaml.safe_load(text)["ops"][0] == {"op": "create"}
    # the plan files are whole scenarios that still break the claim on the model
    files = sorted(tmp_path.glob("claim3-*.yaml"))
    assert len(files) == 2
    for path in files:
        sc = Scenario.from_yaml(path.read_text(encoding="utf-8"))
        assert CLAIMS[2].check(run_model(sc).history) is not None


def test_plan_summary_shows_only_what_differs_from_the_base() -> None:
    sts = Manifests.seed().statefulset
    sts["spec"]["podManagementPolicy"] = "Parallel"
    sc = Scenario(Manifests.seed().with_statefulset(sts), (Create(), Scale(2), Settle()))
    summary = plan_summary(sc, Manifests.seed())
    assert summary["spec (changed from the base)"] == {"podManagementPolicy": "Parallel"}
    assert summary["ops"][1] == {"op": "scale", "replicas": 2}
    assert "service" not in summary


def test_table_reports_cluster_disagreement() -> None:
    v = Verdict(CLAIMS[0], "holds under conditions", 5)
    replays = {1: [Replay("counterexample", True, "no DNS"), Replay("sample 1", False, "x")]}
    table = render_table([v], replays)
    assert "DIFFERS (1/2)" in table
    assert "confirmed (1/1)" in render_table([v], {1: replays[1][:1]})


def test_bad_input_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["claims", "--examples", "0"]) == 2
    assert "--examples" in capsys.readouterr().err
    assert main(["claims", "--k8s-version", "banana"]) == 2


def test_cluster_confirmation_replays_counterexamples_and_samples(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """With the model standing in for the cluster, every replay must agree with the verdict."""
    from types import SimpleNamespace

    from sts_props import claims
    from sts_props.claims import confirm_on_cluster, evaluate_claim
    from sts_props.model import ModelConfig

    replayed: list[Scenario] = []

    def model_as_cluster(scenario: Scenario, cluster: object, config: ModelConfig,
                         stop_at_divergence: bool = True) -> SimpleNamespace:
        # a claim is judged on the cluster's whole History: every op runs
        assert stop_at_divergence is False
        replayed.append(scenario)
        history = run_model(scenario, config).history
        return SimpleNamespace(cluster_history=history, violations=[], seconds=0.0)

    monkeypatch.setattr(claims, "run_differential", model_as_cluster)
    verdict = evaluate_claim(CLAIMS[2], examples=10, search=80, seed=7)
    assert verdict.samples  # scenarios that kept the claim, kept for the cluster
    replays = confirm_on_cluster(verdict, object(), ModelConfig(), samples=1,
                                 say=lambda _: None)
    assert len(replays) == len(verdict.needed) + 1 == len(replayed)
    assert all(r.agrees for r in replays)
    assert [r.expect_broken for r in replays] == [True] * len(verdict.needed) + [False]
