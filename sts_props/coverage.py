"""Which configurations and ops a run exercised, and which it never reached.

A *cell* is podManagementPolicy x updateStrategy.type x persistentVolumeClaimRetentionPolicy
(whenDeleted, whenScaled): 2 x 2 x 2 x 2 = 16 cells. Every op of a scenario is counted in the
cell in force when it ran, so ``set_update_strategy`` and ``set_retention`` move the rest of the
scenario to another cell (only when accepted, if the op outcomes are known).

>>> from sts_props.ops import Create, Scale, Settle
>>> from sts_props.scenario import Manifests, Scenario
>>> cov = Coverage()
>>> cov.record(Scenario(Manifests.seed(), (Create(), Scale(3), Settle())))
>>> cov.scenarios, len(cov.cells), len(cov.uncovered_cells())
(1, 1, 15)
>>> print(cov.render().splitlines()[0])  # doctest: +ELLIPSIS
coverage: 1 of 16 policy x strategy x retention cells ran; 3 of ... op kinds
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import product
from typing import Any, NamedTuple

from sts_props import ops as ops_module
from sts_props.checks import quiescent_view, revision_symbols
from sts_props.corners import CORNERS, RECREATE_CORNERS
from sts_props.history import StateWalk
from sts_props.model.runner import ModelResult
from sts_props.ops import OP_TYPES, Op, Scale, SetRetention, SetUpdateStrategy
from sts_props.scenario import Scenario

POLICIES = ("OrderedReady", "Parallel")
STRATEGIES = ("RollingUpdate", "OnDelete")
RETENTIONS = ("Retain", "Delete")


def fault_kinds() -> frozenset[str]:
    """Op kinds counted in the ``faults`` column and marked ``(fault)`` in the summary.

    From the op catalogue: every fault (:attr:`~sts_props.ops.Op.fault`), and every pod or
    PVC disruption of the base language that disturbs pods (``disruption`` and ``disturbs``:
    DeletePod, FailPod, HoldNotReady, DeletePVC, UnlabelPod; not ReleasePod or RelabelPod,
    which only heal). The
    module-level ``FAULT_OPS`` of :mod:`sts_props.ops` (classes or kind names) is read at
    call time too, so that a kind listed there counts as well.

    >>> {"delete_pod", "delete_pvc"} <= fault_kinds()
    True
    >>> "kill_pod" in fault_kinds(), "release_pod" in fault_kinds()
    (True, False)
    """
    marked = {kind for kind, cls in OP_TYPES.items()
              if cls.fault or (cls.disruption and cls.disturbs)}
    for entry in getattr(ops_module, "FAULT_OPS", ()):
        marked.add(entry if isinstance(entry, str) else str(getattr(entry, "kind", "")))
    marked.discard("")
    return frozenset(marked)


class Cell(NamedTuple):
    """One policy x strategy x retention combination."""

    policy: str
    strategy: str
    when_deleted: str
    when_scaled: str

    def label(self) -> str:
        return (f"{self.policy:<12} {self.strategy:<13} "
                f"{self.when_deleted + '/' + self.when_scaled:<14}")


ALL_CELLS: tuple[Cell, ...] = tuple(Cell(*c) for c in product(
    POLICIES, STRATEGIES, RETENTIONS, RETENTIONS))


def initial_cell(statefulset: dict[str, Any]) -> Cell:
    """The cell of a manifest, with the API defaults (OrderedReady, RollingUpdate, Retain)."""
    spec = statefulset.get("spec") or {}
    retention = spec.get("persistentVolumeClaimRetentionPolicy") or {}
    return Cell(
        str(spec.get("podManagementPolicy") or "OrderedReady"),
        str((spec.get("updateStrategy") or {}).get("type") or "RollingUpdate"),
        str(retention.get("whenDeleted") or "Retain"),
        str(retention.get("whenScaled") or "Retain"))


def cells_of(scenario: Scenario, accepted: Sequence[bool] | None = None
             ) -> list[tuple[Cell, Op]]:
    """Each op of ``scenario`` with the cell in force when it ran.

    ``accepted[i]`` says whether op i was accepted; without it every op is taken as accepted.
    """
    cell = initial_cell(scenario.manifests.statefulset)
    out: list[tuple[Cell, Op]] = []
    for i, op in enumerate(scenario.ops):
        out.append((cell, op))
        ok = accepted[i] if accepted is not None and i < len(accepted) else True
        if ok and isinstance(op, SetUpdateStrategy):
            cell = cell._replace(strategy=op.type)
        elif ok and isinstance(op, SetRetention):
            cell = cell._replace(when_deleted=op.when_deleted, when_scaled=op.when_scaled)
    return out


@dataclass
class CellStats:
    scenarios: int = 0
    ops: Counter[str] = field(default_factory=Counter)

    @property
    def faults(self) -> int:
        kinds = fault_kinds()
        return sum(n for k, n in self.ops.items() if k in kinds)


@dataclass
class Coverage:
    """Counts per cell and op kind; :meth:`render` is the summary printed after every run.

    ``kinds`` is the denominator of "op kinds": the kinds the run could generate (default:
    every kind of the op language), ``kinds_note`` says which were left out and why. Corners
    (:mod:`sts_props.corners`) are counted by :meth:`record_corners`; once any run recorded
    them, :meth:`render` adds the corners table.

    >>> from collections import Counter
    >>> from sts_props.ops import Create, Settle
    >>> from sts_props.scenario import Manifests
    >>> cov = Coverage(kinds=("create", "settle"), kinds_note="two kinds only")
    >>> cov.record(Scenario(Manifests.seed(), (Create(), Settle())))
    >>> cov.record_corners(Counter({"pod-succeeded": 2}))
    >>> lines = cov.render().splitlines()
    >>> for i in (0, 4, 5):
    ...     print(" ".join(lines[i].split()))
    coverage: 1 of 16 policy x strategy x retention cells ran; 2 of 2 op kinds (two kinds only)
    corners reached: 1 of 16 (scenarios, times):
    pod-succeeded 1 2 a pod reached phase Succeeded (RP-1)
    """

    scenarios: int = 0
    cells: dict[Cell, CellStats] = field(default_factory=dict)
    #: the op kinds the run could generate (None: every kind of the op language)
    kinds: tuple[str, ...] | None = None
    #: why ``kinds`` leaves some out, printed with the denominator
    kinds_note: str = ""
    #: corner -> times reached, and scenarios that reached it (``record_corners``)
    corners: Counter[str] = field(default_factory=Counter)
    corner_scenarios: Counter[str] = field(default_factory=Counter)
    corners_recorded: bool = False

    def record_corners(self, found: Counter[str]) -> None:
        """Count the corners one scenario reached (:func:`sts_props.corners.corners_of`)."""
        self.corners_recorded = True
        self.corners.update(found)
        self.corner_scenarios.update(k for k, n in found.items() if n)

    def record(self, scenario: Scenario, accepted: Sequence[bool] | None = None) -> None:
        """Count one scenario that ran (``accepted``: per-op outcome, if known)."""
        self.scenarios += 1
        seen: set[Cell] = set()
        for cell, op in cells_of(scenario, accepted):
            stats = self.cells.setdefault(cell, CellStats())
            if cell not in seen:
                stats.scenarios += 1
                seen.add(cell)
            stats.ops[op.kind] += 1

    def merge(self, other: Coverage) -> None:
        self.scenarios += other.scenarios
        self.corners.update(other.corners)
        self.corner_scenarios.update(other.corner_scenarios)
        self.corners_recorded |= other.corners_recorded
        for cell, stats in other.cells.items():
            mine = self.cells.setdefault(cell, CellStats())
            mine.scenarios += stats.scenarios
            mine.ops.update(stats.ops)

    def op_totals(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for stats in self.cells.values():
            total.update(stats.ops)
        return total

    def uncovered_cells(self) -> list[Cell]:
        return [c for c in ALL_CELLS if c not in self.cells]

    def missing_ops(self, cell: Cell, kinds: Iterable[str] | None = None) -> list[str]:
        """Op kinds (default: every kind the op language has) that never ran in ``cell``."""
        stats = self.cells.get(cell)
        ran = stats.ops if stats else Counter()
        return [k for k in (kinds or OP_TYPES) if not ran[k]]

    def render(self) -> str:
        """A compact table: one line per cell that ran, then what never ran, then corners."""
        totals = self.op_totals()
        faults = fault_kinds()
        kinds = tuple(OP_TYPES) if self.kinds is None else self.kinds
        ran = sum(1 for k in kinds if totals[k])
        # Cells of the alpha Recreate strategy (gate StatefulSetRecreateStrategy) are shown
        # but not counted: the 16 are what every cluster can run.
        extra = sorted((c for c in self.cells if c not in ALL_CELLS), key=lambda c: c.label())
        lines = [f"coverage: {len(self.cells) - len(extra)} of {len(ALL_CELLS)} policy x "
                 f"strategy x retention cells ran"
                 + (f" (and {len(extra)} of the alpha Recreate strategy)" if extra else "")
                 + f"; {ran} of {len(kinds)} op kinds"
                 + (f" ({self.kinds_note})" if self.kinds_note else "")]
        if self.cells:
            lines.append(f"  {'policy':<12} {'strategy':<13} {'deleted/scaled':<14} "
                         f"{'scen':>5} {'ops':>6} {'faults':>6}  ops never run here")
        # Ops that never ran anywhere are listed once below, not repeated in every row.
        for cell in (*ALL_CELLS, *extra):
            stats = self.cells.get(cell)
            if stats is None:
                continue
            missing = [k for k in self.missing_ops(cell) if totals[k]]
            lines.append(f"  {cell.label()} {stats.scenarios:>5} {sum(stats.ops.values()):>6} "
                         f"{stats.faults:>6}  {', '.join(missing) or '-'}")
        never = [k for k in kinds if not totals[k]]
        uncovered = self.uncovered_cells()
        if never:
            lines.append("  ops never run: " + ", ".join(
                k + (" (fault)" if k in faults else "") for k in never))
        if uncovered:
            lines.append("  not covered: " + "; ".join(
                f"{c.policy}/{c.strategy}/{c.when_deleted}-{c.when_scaled}" for c in uncovered))
        if self.corners_recorded:
            lines.extend(self._render_corners())
        return "\n".join(lines)

    def _render_corners(self) -> list[str]:
        reached = [c for c in CORNERS if self.corners[c]]
        lines = [f"  corners reached: {len(reached)} of {len(CORNERS)} (scenarios, times):"]
        width = max(len(c) for c in CORNERS)
        lines += [f"    {c:<{width}} {self.corner_scenarios[c]:>4} {self.corners[c]:>5}  "
                  f"{CORNERS[c]}" for c in reached]
        missing = [c for c in CORNERS if not self.corners[c]]
        if missing:
            lines.append("    never reached: " + ", ".join(missing))
        if any(c not in ALL_CELLS for c in self.cells):  # the gate was on: Recreate ran
            gated = [c for c in RECREATE_CORNERS if self.corners[c]]
            lines.append(f"  alpha Recreate corners reached: {len(gated)} of "
                         f"{len(RECREATE_CORNERS)}"
                         + "".join(f"; {c} (scenarios {self.corner_scenarios[c]}, "
                                   f"times {self.corners[c]})" for c in gated))
        return lines


__all__ = ["ALL_CELLS", "Cell", "Coverage", "cells_of", "fault_kinds", "initial_cell"]


def metrics_of(result: ModelResult) -> dict[str, float]:
    """The figures :func:`hypothesis.target` pushes up, read from a model run."""

    history = result.history
    revisions = {ev.name for ev in history.objects()
                 if ev.kind == "ControllerRevision" and ev.action == "ADDED"}
    blocked = 0
    walk = StateWalk(history)  # one pass over the History for all its quiescent points
    symbols = revision_symbols(history)
    for ev in history.quiescent_points():
        meta = quiescent_view(history, ev.seq, symbols=symbols, walk=walk).get("meta") or {}
        blocked += bool(isinstance(meta, dict) and meta.get("blocked"))
    depth, replicas = 0, int((result.scenario.manifests.statefulset.get("spec") or {})
                             .get("replicas", 1))
    for op, outcome in zip(result.scenario.ops, result.outcomes, strict=False):
        if isinstance(op, Scale) and outcome.ok:
            depth, replicas = depth + abs(op.replicas - replicas), op.replicas
    faults = fault_kinds()
    return {
        "revisions": float(len(revisions)),
        "blocked settles": float(blocked),
        "rejected ops": float(sum(1 for o in result.outcomes if not o.ok)),
        "scale depth": float(depth),
        "faults": float(sum(1 for op in result.scenario.ops if op.kind in faults)),
        "model steps": float(result.steps),
    }


def features_of(result: ModelResult, metrics: dict[str, float]) -> frozenset[str]:
    """What a scenario covers: cells, op kinds per cell, and bucketed metrics."""
    accepted = [o.ok for o in result.outcomes]
    out = set()
    for cell, op in cells_of(result.scenario, accepted):
        out.add("cell " + "/".join(cell))
        out.add(f"op {op.kind} in {cell.policy}/{cell.strategy}")
        out.add(f"op {op.kind}")
    for name, value in metrics.items():
        if name != "model steps" and value > 0:
            # buckets 1, 2-3, 4-7, ...: a scenario with more of it is a new feature
            out.add(f"{name} >= {2 ** int(math.log2(value))}")
    if result.livelocks:
        out.add("livelock F-1")
    return frozenset(out)


def jaccard_distance(a: frozenset[str], b: frozenset[str]) -> float:
    """1 - |a & b| / |a | b| (0.0 for two empty sets): how unlike two feature sets are.

    >>> jaccard_distance(frozenset({"x", "y"}), frozenset({"y", "z"}))
    0.6666666666666667
    """
    union = len(a | b)
    return 1 - len(a & b) / union if union else 0.0
