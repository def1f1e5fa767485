"""The control-plane log lines a failing run's artifacts keep (sts_props.cluster.log_window)."""

from __future__ import annotations

import time
from pathlib import Path

from sts_props.checks import Violation
from sts_props.cluster.log_window import MAX_LINES, excerpt, read_tail, window
from sts_props.model import run_model
from sts_props.ops import Create, Settle
from sts_props.plan import Plan
from sts_props.report.artifacts import write_artifacts
from sts_props.scenario import Manifests, Scenario

T0 = time.mktime((2026, 12, 5, 10, 0, 0, 0, 0, -1))
OURS, THEIRS = "sts-props-0123abcd", "sts-props-4567ef01"


def _at(seconds: float, text: str) -> str:
    stamp = time.strftime("%m%d %H:%M:%S", time.localtime(T0 + seconds))
    return f"I{stamp}.000000 4242 stateful_set_control.go:149] {text}"


def test_a_kept_line_keeps_its_continuations_and_a_dropped_one_drops_them() -> None:
    lines = [_at(1, f'"Updated status" statefulSet="{OURS}/web"'), "\tcontinued, ours",
             _at(2, f'"Updated status" statefulSet="{THEIRS}/web"'), "\tcontinued, theirs",
             _at(3, "panic: boom"), "goroutine 1 [running]:"]
    assert window(lines, T0, T0 + 10, OURS) == [
        lines[0], "\tcontinued, ours", lines[4], "goroutine 1 [running]:"]


def test_lines_outside_the_run_are_left_out_with_a_second_of_slack() -> None:
    lines = [_at(-5, "long before"), _at(-0.5, "just before"), _at(5, "during"),
             _at(10.5, "just after"), _at(20, "long after")]
    kept = [line.split("] ")[1] for line in window(lines, T0, T0 + 10, OURS)]
    assert kept == ["just before", "during", "just after"]


def test_the_kwok_cluster_name_is_not_taken_for_another_namespace() -> None:
    # kwok clusters are named sts-props- and 6 hex digits; harness namespaces have 8
    line = _at(1, 'kubeconfig="/root/.kwok/clusters/sts-props-abc123/kubeconfig.yaml"')
    assert window([line], T0, T0 + 10, OURS) == [line]


def test_a_long_excerpt_keeps_its_last_lines(tmp_path: Path) -> None:
    log = tmp_path / "kube-controller-manager.log"
    log.write_text("".join(_at(1, f"line {i}") + "\n" for i in range(MAX_LINES + 5)))
    data = read_tail(log)
    assert data is not None
    text = excerpt(data, T0, T0 + 10, OURS)
    assert text.count("\n") == MAX_LINES
    assert text.startswith(_at(1, "line 5") + "\n")
    assert read_tail(tmp_path / "missing.log") is None


def test_artifacts_carry_the_log_excerpts(tmp_path: Path) -> None:
    plan = Plan(Scenario(Manifests.seed(), (Create(), Settle())), name="logs")
    history = run_model(plan.scenario).history
    where = write_artifacts(tmp_path, plan, history, [Violation("Q", "Q/ST-1", "x")],
                            logs={"kube-controller-manager": "I1205 one line\n"})
    assert (where / "kube-controller-manager.log").read_text() == "I1205 one line\n"
    assert "- `kube-controller-manager.log`: what kube-controller-manager logged" in (
        where / "explanation.md").read_text()
