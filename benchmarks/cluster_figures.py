"""Print the kwok backend's figures: cold start, scenarios per minute, overhead, coverage per
cluster-minute for plain and model-selected scenarios, CPU.

* cold start: ``KwokCluster.start()`` with cached binaries, to a Ready node (target <= 15 s);
* for each selection (``--selection plain``: Hypothesis generates the scenarios;
  ``--selection model``: the most teaching of a model pool, :mod:`sts_props.selection`), the
  suite's own scenarios (8-12 ops, <= 5 replicas, on the seed's manifests) run differentially,
  as ``sts-props check --backend kwok`` runs them:

  - scenarios per minute (target >= 10), of the cluster time and of the whole wall time
    (the model pool included);
  - overhead: each scenario's wall time over the span between its first and last cluster
    event (target <= 1.3x), per scenario and in total;
  - cells (of 16) and op kinds (of the kinds the run can generate) covered, and covered per
    cluster-minute; corners reached;
  - CPU: this process and its reaped children (``resource.getrusage``), and the kwok
    cluster's processes (etcd, apiserver, controller-manager, scheduler, kwok; from
    ``/proc/<pid>/stat``), as CPU seconds per wall second;

* the selection's cost model (:func:`sts_props.selection.expected_cost`) against the measured
  wall time of every scenario run: correlation, and the least-squares fit of wall time on the
  model-run terms it uses (to re-tune its constants).

A script, not a timed test: the figures depend on the machine and on what else runs on it.

* scenarios side by side (``--jobs N``, default as ``sts-props check`` picks it): the same
  model-selected scenarios (same seed, so the same pick) N at a time on the same cluster, next
  to the one-at-a-time "model" arm: scenarios per minute of wall time, their ratio, violations;
  with ``--faults`` one more N-jobs arm with a fault in every scenario (those that disturb the
  whole cluster run alone). Model-selected arms are the main job's: without ``--faults`` the
  pool draws faults in some scenarios, as ``sts-props check`` does;

    python benchmarks/cluster_figures.py [--scenarios 30] [--starts 3] [--seed 1]
        [--selection plain model] [--jobs N] [--faults] [--repeat R]

``--repeat R`` runs the N-jobs arm R times (seeds seed, seed+1, ...): the false-alarm count
across many scenarios.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere

from sts_props.cluster.kwok import KwokCluster
from sts_props.defaults import default_jobs
from sts_props.differential import DifferentialResult
from sts_props.model import ModelConfig
from sts_props.ops import FAULT_OPS
from sts_props.scenario import Manifests
from sts_props.suite import SuiteSummary, run_cluster_suite

#: The one-at-a-time arms, by ``--selection`` value; ``--jobs`` adds model-selected arms that
#: run N scenarios at a time.
ARMS = ("plain", "model")


@dataclass
class Arm:
    """What one arm (a selection, a number of jobs, faults or not) did on the cluster."""

    selection: str
    summary: SuiteSummary
    wall: float
    results: list[DifferentialResult] = field(default_factory=list)
    cpu_self: float = 0.0
    cpu_cluster: float = 0.0
    jobs: int = 1
    faults: bool = False
    seed: int = 0

    @property
    def name(self) -> str:
        return (f"--selection {self.selection} --jobs {self.jobs}"
                + (" --faults" if self.faults else "") + f" --seed {self.seed}")

    @property
    def per_minute(self) -> float:
        return 60 * len(self.results) / self.wall if self.wall else 0.0


def cluster_cpu_seconds(cluster: KwokCluster) -> float:
    """CPU seconds (user + system) used so far by the cluster's processes, from /proc; 0 for
    a process that is gone or unreadable."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid_file in (cluster.cluster_dir / "pids").glob("*.pid"):
        try:
            pid = int(pid_file.read_text().strip())
            stat = Path(f"/proc/{pid}/stat").read_text()
        except (OSError, ValueError):
            continue
        # the fields after the command name (which may contain spaces) start at field 3
        fields = stat.rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def own_cpu_seconds() -> float:
    """CPU seconds of this process and its reaped children."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def run_arm(cluster: KwokCluster, selection: str, scenarios: int, seed: int, jobs: int = 1,
            faults: bool = False) -> Arm:
    results: list[DifferentialResult] = []
    cpu0, kwok0, began = own_cpu_seconds(), cluster_cpu_seconds(cluster), time.monotonic()
    summary = run_cluster_suite(
        cluster, base=Manifests.seed(), examples=scenarios, config=ModelConfig(), seed=seed,
        progress=lambda line: print(line, flush=True), selection=selection,
        on_result=results.append, jobs=jobs,
        # as `check` on a cluster: faults in some model-selected scenarios (one that disturbs
        # the whole cluster runs alone), in every one with --faults
        fault_kinds=frozenset(FAULT_OPS) if faults else frozenset(),
        some_faults=frozenset(FAULT_OPS))
    wall = time.monotonic() - began
    return Arm(selection, summary, wall, results, own_cpu_seconds() - cpu0,
               cluster_cpu_seconds(cluster) - kwok0, jobs, faults, seed)


def report(arm: Arm) -> list[str]:
    s, results = arm.summary, arm.results
    cluster_time = sum(r.seconds for r in results)
    spans = [r.event_span for r in results]
    ratios = [r.seconds / r.event_span for r in results if r.event_span > 0]
    cov = s.coverage
    kinds = cov.kinds or ()
    totals = cov.op_totals()
    kinds_ran = sum(1 for k in kinds if totals[k])
    minutes = cluster_time / 60 if cluster_time else float("nan")
    lines = [f"== {arm.name}: {s.scenarios} scenarios, {len(s.violations)} violation(s)"]
    if s.selection:
        lines.append(f"  {s.selection}")
    if results:
        lines += [
            f"  scenarios per minute: {arm.per_minute:.1f} of wall time ({arm.wall:.0f}s, "
            f"the model pool included); the scenarios' own wall times add up to "
            f"{cluster_time:.0f}s" + (f" ({arm.jobs} at a time)" if arm.jobs > 1 else ""),
            f"  per scenario: wall {statistics.median([r.seconds for r in results]):.1f}s "
            f"median, event span {statistics.median(spans):.1f}s median; overhead (wall / "
            f"span) median {statistics.median(ratios):.2f}x, max {max(ratios):.2f}x, total "
            f"{cluster_time / max(sum(spans), 1e-9):.2f}x",
        ]
    lines += [
        f"  cells: {len(cov.cells)}/16, {len(cov.cells) / minutes:.2f} per cluster-minute; "
        f"op kinds: {kinds_ran}/{len(kinds)}, {kinds_ran / minutes:.2f} per cluster-minute",
        f"  corners reached: {sum(1 for n in cov.corners.values() if n)}",
        f"  CPU: harness {arm.cpu_self:.0f}s ({arm.cpu_self / arm.wall:.2f} per wall second), "
        + (f"kwok cluster processes {arm.cpu_cluster:.0f}s "
           f"({arm.cpu_cluster / arm.wall:.2f} per wall second)" if arm.cpu_cluster >= 0 else
           "kwok cluster processes not measured (a fault restarted them: their counters "
           "started again)"),
    ]
    return lines


def cost_terms(result: DifferentialResult) -> list[float]:
    """The model-run terms of :func:`~sts_props.selection.expected_cost`: 1, ops, pods added,
    pods deleted, model clock at the end."""
    history = result.model_history
    added = sum(ev.action == "ADDED" for ev in history.objects("Pod"))
    deleted = sum(ev.action == "DELETED" for ev in history.objects("Pod"))
    clock = history.events[-1].t if history.events else 0.0
    return [1.0, float(len(result.scenario.ops)), float(added), float(deleted), clock]


def least_squares(rows: list[list[float]], ys: list[float]) -> list[float]:
    """Solve the normal equations (small, dense; Gaussian elimination with pivoting)."""
    n = len(rows[0])
    a = [[sum(r[i] * r[j] for r in rows) for j in range(n)]
         + [sum(r[i] * y for r, y in zip(rows, ys, strict=True))] for i in range(n)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda k: abs(a[k][col]))
        a[col], a[pivot] = a[pivot], a[col]
        if abs(a[col][col]) < 1e-12:
            continue
        for k in range(n):
            if k != col:
                f = a[k][col] / a[col][col]
                a[k] = [x - f * y for x, y in zip(a[k], a[col], strict=True)]
    return [a[i][n] / a[i][i] if abs(a[i][i]) > 1e-12 else 0.0 for i in range(n)]


def cost_report(arms: list[Arm]) -> list[str]:
    from sts_props.model import run_model
    from sts_props.selection import expected_cost

    results = [r for arm in arms for r in arm.results]
    if len(results) < 6:
        return []
    walls = [r.seconds for r in results]
    expected = [expected_cost(run_model(r.scenario)) for r in results]
    coef = least_squares([cost_terms(r) for r in results], walls)
    return [f"cost model over {len(results)} scenarios: expected/actual median "
            f"{statistics.median(e / w for e, w in zip(expected, walls, strict=True)):.2f}, "
            f"correlation {statistics.correlation(expected, walls):.2f}",
            "  least-squares wall ~ " + " + ".join(
                f"{c:.2f}*{t}" for c, t in zip(coef, ("1", "ops", "pods added", "pods deleted",
                                                     "model clock"), strict=True))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=30)
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--selection", nargs="*", choices=ARMS, default=list(ARMS),
                        help="which one-at-a-time arms to measure (default: both; none: only "
                             "the side-by-side arms)")
    parser.add_argument("--jobs", type=int, default=default_jobs("kwok"),
                        help="scenarios at a time in the side-by-side arm (default: what "
                             "`sts-props check --backend kwok` picks here; 1: no such arm)")
    parser.add_argument("--faults", action="store_true",
                        help="one more side-by-side arm with --faults")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run the side-by-side arm this many times (seeds seed, seed+1...)")
    args = parser.parse_args()

    starts = []
    for _ in range(args.starts):
        cluster = KwokCluster()
        begun = time.perf_counter()
        with cluster:
            starts.append(time.perf_counter() - begun)
    if starts:
        print(f"cold start (cached binaries), {len(starts)} runs: "
              f"median {statistics.median(starts):.1f}s, max {max(starts):.1f}s")

    arms: list[Arm] = []
    with KwokCluster() as cluster:  # one cluster for every arm: the same warm control plane
        for selection in args.selection:
            arms.append(run_arm(cluster, selection, args.scenarios, args.seed))
        if args.jobs > 1:
            for r in range(args.repeat):
                arms.append(run_arm(cluster, "model", args.scenarios, args.seed + r,
                                    args.jobs))
            if args.faults:
                arms.append(run_arm(cluster, "model", args.scenarios, args.seed, args.jobs,
                                    faults=True))
    for arm in arms:
        print("\n".join(report(arm)), flush=True)
    print("\n".join(side_by_side(arms)), flush=True)
    print("\n".join(cost_report([a for a in arms if a.jobs == 1])), flush=True)


def side_by_side(arms: list[Arm]) -> list[str]:
    """Scenarios per minute of the N-jobs arms against the one-at-a-time model arm, and the
    violations across all of them."""
    single = next((a for a in arms if a.selection == "model" and a.jobs == 1), None)
    multi = [a for a in arms if a.jobs > 1]
    if not multi:
        return []
    lines = ["== side by side"]
    if single is not None:
        lines.append(f"  --jobs 1: {single.per_minute:.1f} scenarios per minute")
    for arm in multi:
        ratio = f", {arm.per_minute / single.per_minute:.1f}x" if single and \
            single.per_minute else ""
        lines.append(f"  {arm.name}: {arm.per_minute:.1f} scenarios per minute{ratio}, "
                     f"{len(arm.summary.violations)} violation(s)")
    total = sum(a.summary.scenarios for a in multi)
    bad = sum(len(a.summary.violations) > 0 for a in multi)
    lines.append(f"  across the side-by-side arms: {total} scenarios passed, {bad} arm(s) "
                 "stopped by a violation")
    return lines


if __name__ == "__main__":
    main()
