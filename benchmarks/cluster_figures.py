"""Print the kwok backend's figures: cold start, scenarios per minute, harness overhead.

* cold start: ``KwokCluster.start()`` with cached binaries, to a Ready node (target <= 15 s);
* scenarios per minute: generated scenarios of 8 ops with <= 5 replicas, run differentially
  (target >= 10);
* overhead: each scenario's wall time over the span between its first and last cluster event
  (target <= 1.3x).

A script, not a timed test: the figures depend on the machine.

    python benchmarks/cluster_figures.py [--scenarios 10] [--starts 3] [--seed 1]
"""

from __future__ import annotations

import argparse
import statistics
import time

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed

from sts_props.cluster.kwok import KwokCluster
from sts_props.differential import run_differential
from sts_props.scenario import Manifests, Scenario
from sts_props.strategies import scenarios
from sts_props.suite import cap_min_ready


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=10)
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    starts = []
    for _ in range(args.starts):
        cluster = KwokCluster()
        begun = time.perf_counter()
        with cluster:
            starts.append(time.perf_counter() - begun)
    print(f"cold start (cached binaries), {len(starts)} runs: "
          f"median {statistics.median(starts):.1f}s, max {max(starts):.1f}s")

    walls: list[float] = []
    ratios: list[float] = []
    strategy = scenarios(base=Manifests.seed(), max_ops=8, max_replicas=5).filter(
        lambda sc: len(sc.ops) == 9).map(cap_min_ready)  # Create + 8 ops, as the suite runs

    with KwokCluster() as cluster:

        @settings(max_examples=args.scenarios, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck), phases=(Phase.generate,))
        @given(strategy)
        def one(sc: Scenario) -> None:
            result = run_differential(sc, cluster)
            walls.append(result.seconds)
            if result.event_span > 0:
                ratios.append(result.seconds / result.event_span)
            verdict = "ok" if result.ok else f"{len(result.violations)} violation(s)"
            print(f"  scenario {len(walls)}: {result.seconds:.1f}s wall, "
                  f"{result.event_span:.1f}s of cluster events, {verdict}", flush=True)

        hypothesis_seed(args.seed)(one)()
    total = sum(walls)
    print(f"scenarios: {len(walls)} in {total:.0f}s -> {60 * len(walls) / total:.1f} per minute")
    print(f"overhead (wall / event span): median {statistics.median(ratios):.2f}x, "
          f"max {max(ratios):.2f}x")


if __name__ == "__main__":
    main()
