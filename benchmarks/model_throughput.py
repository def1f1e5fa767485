"""Print the model's throughput in Hypothesis examples per second.

Runs the state machine (up to 20 steps, scale targets up to 10 replicas) for a fixed number of
examples and prints examples/s, steps/s and the mean model steps per example. A script, not a
timed test: figures depend on the machine.

    python benchmarks/model_throughput.py [--examples 300] [--seed 1]
"""

from __future__ import annotations

import argparse
import time

from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from strategies.state_machine import StatefulSetMachine


class BenchMachine(StatefulSetMachine):
    max_replicas = 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=300)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()

    counts = {"examples": 0, "ops": 0}
    original_init = BenchMachine.__init__

    def counting_init(self: BenchMachine) -> None:
        original_init(self)
        counts["examples"] += 1

    BenchMachine.__init__ = counting_init  # type: ignore[method-assign]
    original_teardown = BenchMachine.teardown

    def counting_teardown(self: BenchMachine) -> None:
        counts["ops"] += len(self.ops)
        original_teardown(self)

    BenchMachine.teardown = counting_teardown  # type: ignore[method-assign]

    config = settings(max_examples=args.examples, stateful_step_count=args.steps,
                      deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))
    started = time.perf_counter()
    run_state_machine_as_test(BenchMachine, settings=config)
    elapsed = time.perf_counter() - started
    n = counts["examples"]
    print(f"state machine: up to {args.steps} steps, up to {BenchMachine.max_replicas} replicas")
    print(f"examples: {n}  ops: {counts['ops']}  wall time: {elapsed:.2f}s")
    print(f"throughput: {n / elapsed:.1f} examples/s  ({counts['ops'] / elapsed:.0f} ops/s)")


if __name__ == "__main__":
    main()
