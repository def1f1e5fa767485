"""Print the model's throughput in Hypothesis examples per second.

Runs the state machine (:class:`strategies.state_machine.StatefulSetMachine`: up to 20 steps,
scale targets up to 10 replicas, the safety and quiescent checks after every step) for a fixed
number of examples and prints examples/s, ops/s, and the settings it ran with. A script, not a
timed test: figures depend on the machine (and on what else runs on it: compare CPU time too).

    python benchmarks/model_throughput.py [--examples 300] [--steps 20] [--repeat 3]

Settings: generation only (``phases=[Phase.generate]``: no example database, no shrinking,
which a run without failures never needs), no deadline, health checks suppressed,
derandomized so runs are comparable. ``--repeat`` runs the same benchmark several times and
reports the median.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere

from strategies.state_machine import StatefulSetMachine


class BenchMachine(StatefulSetMachine):
    """The state machine as benchmarked; counts examples and ops as it goes."""

    max_replicas = 10
    examples = 0
    ops_applied = 0

    def __init__(self) -> None:
        super().__init__()
        BenchMachine.examples += 1

    def teardown(self) -> None:
        BenchMachine.ops_applied += len(self.ops)
        super().teardown()


def run_once(config: settings) -> tuple[int, int, float, float]:
    """``(examples, ops, wall seconds, CPU seconds)`` of one benchmark run."""
    BenchMachine.examples = BenchMachine.ops_applied = 0
    wall, cpu = time.perf_counter(), time.process_time()
    run_state_machine_as_test(BenchMachine, settings=config)
    return (BenchMachine.examples, BenchMachine.ops_applied, time.perf_counter() - wall,
            time.process_time() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=300)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    config = settings(max_examples=args.examples, stateful_step_count=args.steps,
                      deadline=None, database=None, derandomize=True,
                      phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    print(f"state machine: {args.steps} steps per example (stateful_step_count), scale targets "
          f"up to {BenchMachine.max_replicas} replicas, safety + quiescent checks after every "
          "step")
    print(f"settings: max_examples={args.examples} phases=[generate] database=None "
          "deadline=None derandomize=True suppress_health_check=all")
    rates = []
    for i in range(args.repeat):
        n, ops, wall, cpu = run_once(config)
        rates.append(n / wall)
        print(f"run {i + 1}: examples: {n}  ops: {ops}  wall time: {wall:.2f}s  "
              f"CPU time: {cpu:.2f}s  throughput: {n / wall:.1f} examples/s "
              f"({ops / wall:.0f} ops/s; {n / cpu:.1f} examples per CPU second)")
    if args.repeat > 1:
        print(f"median throughput: {statistics.median(rates):.1f} examples/s "
              f"over {args.repeat} runs")


if __name__ == "__main__":
    main()
