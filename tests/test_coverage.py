"""Coverage summary (sts_props.coverage) and its place in the suite summary."""

from __future__ import annotations

import pytest

from sts_props import coverage as coverage_module
from sts_props import ops as ops_module
from sts_props.coverage import ALL_CELLS, Cell, Coverage, cells_of, fault_kinds, initial_cell
from sts_props.ops import (
    OP_TYPES,
    Create,
    DeletePod,
    Scale,
    SetRetention,
    Settle,
    SetUpdateStrategy,
)
from sts_props.scenario import Manifests, Scenario
from sts_props.suite import run_model_suite


def _parallel_on_delete() -> Manifests:
    sts = Manifests.seed().statefulset
    sts["spec"]["podManagementPolicy"] = "Parallel"
    sts["spec"]["updateStrategy"] = {"type": "OnDelete"}
    return Manifests.seed().with_statefulset(sts)


def test_initial_cell_applies_api_defaults() -> None:
    assert initial_cell(Manifests.seed().statefulset) == Cell(
        "OrderedReady", "RollingUpdate", "Retain", "Retain")
    assert initial_cell(_parallel_on_delete().statefulset) == Cell(
        "Parallel", "OnDelete", "Retain", "Retain")
    assert len(ALL_CELLS) == 16 and len(set(ALL_CELLS)) == 16


def test_accepted_strategy_and_retention_changes_move_later_ops_to_another_cell() -> None:
    sc = Scenario(Manifests.seed(), (Create(), SetUpdateStrategy("OnDelete"), Scale(2),
                                     SetRetention("Delete", "Delete"), Settle()))
    cells = [cell for cell, _ in cells_of(sc)]
    assert cells[1].strategy == "RollingUpdate"  # the op itself runs in the old cell
    assert cells[2] == Cell("OrderedReady", "OnDelete", "Retain", "Retain")
    assert cells[4] == Cell("OrderedReady", "OnDelete", "Delete", "Delete")
    # rejected edits change nothing
    rejected = [cell for cell, _ in cells_of(sc, [True, False, True, False, True])]
    assert set(rejected) == {initial_cell(sc.manifests.statefulset)}


def test_record_counts_scenarios_once_per_cell_and_ops_per_cell() -> None:
    cov = Coverage()
    sc = Scenario(Manifests.seed(), (Create(), Scale(3), SetUpdateStrategy("OnDelete"),
                                     DeletePod(1), Settle()))
    cov.record(sc)
    cov.record(Scenario(_parallel_on_delete(), (Create(), Settle())))
    assert cov.scenarios == 2
    default = Cell("OrderedReady", "RollingUpdate", "Retain", "Retain")
    on_delete = Cell("OrderedReady", "OnDelete", "Retain", "Retain")
    assert cov.cells[default].scenarios == 1
    assert dict(cov.cells[default].ops) == {"create": 1, "scale": 1, "set_update_strategy": 1}
    assert dict(cov.cells[on_delete].ops) == {"delete_pod": 1, "settle": 1}
    assert cov.cells[on_delete].faults == 1
    assert len(cov.uncovered_cells()) == 13
    assert "scale" in cov.missing_ops(on_delete) and "settle" not in cov.missing_ops(on_delete)


def test_render_names_cells_not_covered_and_ops_never_run() -> None:
    cov = Coverage()
    cov.record(Scenario(Manifests.seed(), (Create(), DeletePod(0), Settle())))
    text = cov.render()
    assert text.startswith("coverage: 1 of 16 policy x strategy x retention cells ran; "
                           f"3 of {len(OP_TYPES)} op kinds")
    row = next(line for line in text.splitlines() if line.strip().startswith("OrderedReady"))
    assert row.split()[3:6] == ["1", "3", "1"]  # scenarios, ops, faults
    assert "Parallel/OnDelete/Delete-Delete" in text.split("not covered:")[1]
    never = text.split("ops never run:")[1].split("\n")[0]
    assert "fail_pod (fault)" in never and "scale," in never and "delete_pod" not in never


def test_fault_hook_reads_marks_from_the_ops_module(monkeypatch: pytest.MonkeyPatch) -> None:
    assert fault_kinds() >= {"delete_pod", "fail_pod", "hold_not_ready", "delete_pvc"}
    monkeypatch.setattr(ops_module, "FAULT_OPS", (ops_module.Scale, "settle"), raising=False)
    kinds = coverage_module.fault_kinds()
    assert {"scale", "settle", "delete_pod"} <= kinds and "create" not in kinds


def test_model_suite_summary_ends_with_the_coverage_table() -> None:
    summary = run_model_suite(examples=40, seed=5, progress=lambda _: None)
    assert summary.ok
    assert summary.coverage.scenarios == summary.scenarios == len(summary.passed)
    ops_counted = sum(sum(s.ops.values()) for s in summary.coverage.cells.values())
    assert ops_counted == summary.ops
    text = summary.render()
    assert "coverage: " in text and "policy x strategy x retention" in text
    assert text.index("violations:") < text.index("coverage:")
