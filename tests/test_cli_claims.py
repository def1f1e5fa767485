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


@pytest.mark.parametrize("jobs", [1, 3])
def test_cluster_confirmation_replays_counterexamples_and_samples(
        monkeypatch: pytest.MonkeyPatch, jobs: int) -> None:
    """With the model standing in for the cluster, every replay must agree with the verdict;
    side by side (``--jobs``) the replays come back per claim in the verdict's order, however
    they finish."""
    import threading
    import time
    from types import SimpleNamespace

    from sts_props import claims
    from sts_props.claims import confirm_on_cluster, evaluate_claim
    from sts_props.model import ModelConfig

    replayed: list[Scenario] = []
    in_flight: list[int] = [0, 0]  # now, most
    lock = threading.Lock()

    def model_as_cluster(scenario: Scenario, cluster: object, config: ModelConfig,
                         stop_at_divergence: bool = True,
                         cancel: threading.Event | None = None) -> SimpleNamespace:
        # a claim is judged on the cluster's whole History: every op runs
        assert stop_at_divergence is False and cancel is not None
        with lock:
            in_flight[0] += 1
            in_flight[1] = max(in_flight)
            replayed.append(scenario)
            n = len(replayed)
        # the first ones stay long enough for the others to start; later ones finish first
        time.sleep(0.3 if n <= 3 else 0.05 * (n % 3))
        history = run_model(scenario, config).history
        with lock:
            in_flight[0] -= 1
        return SimpleNamespace(cluster_history=history, violations=[], seconds=0.0)

    monkeypatch.setattr(claims, "run_differential", model_as_cluster)
    verdicts = [evaluate_claim(CLAIMS[n], examples=10, search=80, seed=7) for n in (2, 0)]
    lines: list[str] = []
    replays = confirm_on_cluster(verdicts, object(), ModelConfig(), samples=1,
                                 say=lines.append, jobs=jobs)
    assert list(replays) == [3, 1]
    for verdict in verdicts:
        assert verdict.samples  # scenarios that kept the claim, kept for the cluster
        got = replays[verdict.claim.number]
        witnesses = verdict.witnesses()
        assert [r.label for r in got] == [w[0] for w in witnesses] + [
            "sample 1 (met every condition)"]
        assert all(r.agrees for r in got)
        assert [r.expect_broken for r in got] == [True] * len(witnesses) + [False]
    assert len(replayed) == sum(len(r) for r in replays.values())
    assert in_flight[1] == min(jobs, len(replayed))  # side by side only when asked
    assert sum(line.startswith("  claim 3: [ok]") for line in lines) == len(replays[3])


def test_jobs_on_the_model_backend_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """``claims --jobs`` replays on a cluster side by side: on the model it is a usage error
    (one line) before any claim is evaluated."""
    assert main(["claims", "--jobs", "2", "--examples", "1"]) == 2
    captured = capsys.readouterr()
    assert "--jobs 2" in captured.err and len(captured.err.strip().splitlines()) == 1
    assert "claim 1" not in captured.out


def test_a_counterexample_runs_again_until_it_breaks_the_claim_on_the_cluster(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A counterexample whose break needs a race the cluster does not always lose runs up to
    COUNTEREXAMPLE_RUNS times: it agrees once it breaks the claim, DIFFERS if it never does;
    a sample (expected to keep the claim) runs once."""
    from collections import Counter
    from types import SimpleNamespace

    from sts_props import claims
    from sts_props.claims import COUNTEREXAMPLE_RUNS, confirm_on_cluster, evaluate_claim
    from sts_props.model import ModelConfig

    verdict = evaluate_claim(CLAIMS[2], examples=10, search=80, seed=7)
    kept = run_model(verdict.samples[0]).history  # a cluster History that keeps the claim
    runs: Counter[int] = Counter()

    def cluster(breaks_on: int) -> object:
        def run(scenario: Scenario, cluster: object, config: ModelConfig,
                stop_at_divergence: bool = True, cancel: object = None) -> SimpleNamespace:
            # the race is lost on run ``breaks_on`` of each scenario, not before
            runs[id(scenario)] += 1
            broke = runs[id(scenario)] == breaks_on
            history = run_model(scenario, config).history if broke else kept
            return SimpleNamespace(cluster_history=history, violations=[], seconds=1.0)
        return run

    monkeypatch.setattr(claims, "cap_min_ready", lambda sc: sc)
    monkeypatch.setattr(claims, "run_differential", cluster(breaks_on=3))
    got = confirm_on_cluster([verdict], object(), ModelConfig(), samples=1, say=lambda _: None)
    witnesses = got[3][:-1]
    assert witnesses and all(r.agrees and r.runs == 3 for r in witnesses)
    assert f"(run 3 of {COUNTEREXAMPLE_RUNS})" in witnesses[0].render()
    assert witnesses[0].seconds == 3.0
    assert got[3][-1].runs == 1 and got[3][-1].agrees  # the sample: once
    runs.clear()
    monkeypatch.setattr(claims, "run_differential", cluster(breaks_on=0))  # never
    got = confirm_on_cluster([verdict], object(), ModelConfig(), samples=0, say=lambda _: None)
    assert all(not r.agrees and r.runs == COUNTEREXAMPLE_RUNS for r in got[3])
    assert f"keeps the claim in {COUNTEREXAMPLE_RUNS} runs" in got[3][0].render()


def test_plans_of_an_earlier_run_of_the_same_claim_are_replaced(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A stale ``claim3-5.yaml`` beside this run's two files once read as one of them; the
    files of other claims and other files stay."""
    for name in ("claim3-5.yaml", "claim1-1.yaml", "notes.yaml"):
        (tmp_path / name).write_text("stale: true\n", encoding="utf-8")
    assert main(["claims", "--claim", "3", "--examples", "10", "--search", "80", "--seed", "7",
                 "--plans", str(tmp_path)]) == 0
    capsys.readouterr()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "claim1-1.yaml", "claim3-1.yaml", "claim3-2.yaml", "notes.yaml"]
