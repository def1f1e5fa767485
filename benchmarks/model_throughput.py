"""Print the model's throughput in Hypothesis examples per second.

Runs the state machine
(:class:`sts_props.strategies.state_machine.StatefulSetMachine`: up to 20 steps,
scale targets up to 10 replicas, the safety and quiescent checks after every step) for a fixed
number of examples and prints examples/s, ops/s, and the settings it ran with. A script, not a
timed test: figures depend on the machine (and on what else runs on it: compare CPU time too).

    python benchmarks/model_throughput.py [--examples 300] [--steps 20] [--repeat 3] [--floor]
        [--profile]

``--floor`` also runs the *engine floor*: a machine with the same rules, invariants and
Hypothesis draws (the manifests, one argument and one interleaving per op, and the automatic
settle every 1-4 ops with its interleaving and the next gap; about as many ops and choices per
example as the state machine makes) but no model and no checks. Its rate bounds
what any model could reach with Hypothesis's stateful engine on this machine; the model's
examples/s over the floor's is printed as ``ratio to floor: 0.NN (target >= 0.8: ...)``, of wall
time and of CPU time (CPU time is the steadier figure on a shared machine). Rates vary with
the machine's load from one invocation to the next; the ratio printed by one invocation is the
figure to compare. Then the model runs once more without its checks
(:class:`UncheckedMachine`): its ratio is the most that cheaper checks could give. It is
followed by what an example holds (ops, model steps, sync plans,
History records; one more run, untimed) and sts-props' own CPU time per History record against
what a ratio of 0.8 would leave.

``--profile`` runs the benchmark once more under cProfile and says where the time goes: the
model (ops applied and settled), the safety and quiescent checks, creating the set (manifests
drawn and validated), and the rest (Hypothesis's engine and draws).

Settings: generation only (``phases=[Phase.generate]``: no example database, no shrinking,
which a run without failures never needs), no deadline, health checks suppressed,
derandomized so runs are comparable. ``--repeat`` runs the same benchmark (and with
``--floor``, the floor) several times, the two taking turns so that a change in the machine's
load weighs on both, and reports medians.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere

from sts_props.strategies.chooser import interleavings
from sts_props.strategies.manifests import valid_statefulsets
from sts_props.strategies.state_machine import StatefulSetMachine


class BenchMachine(StatefulSetMachine):
    """The state machine as benchmarked; counts examples and ops as it goes."""

    max_replicas = 10
    examples = 0
    ops_applied = 0
    records = 0
    steps = 0

    def __init__(self) -> None:
        super().__init__()
        BenchMachine.examples += 1

    def teardown(self) -> None:
        BenchMachine.ops_applied += len(self.ops)
        if self.run is not None:
            BenchMachine.records += len(self.run.history)
            BenchMachine.steps += self.run.steps
        super().teardown()


class UncheckedMachine(BenchMachine):
    """The benchmarked machine without its safety and quiescent checks: the model alone.

    Overriding the two invariants with plain methods takes them out of Hypothesis's list (it
    collects what carries the invariant marker). The difference to :class:`BenchMachine` is
    what the checks cost; its ratio to the floor bounds what making the checks cheaper could
    reach.
    """

    def safety_checks_pass(self) -> None:
        pass

    def quiescent_checks_pass(self) -> None:
        pass


def _floor_machine(bare: bool = False) -> type[RuleBasedStateMachine]:
    """The engine floor: StatefulSetMachine's rules and invariants with no-op bodies that make
    the draws a real step makes (an argument, an interleaving), and no model or checks.

    ``bare`` keeps only the rules, the invariants and one integer draw per step (no manifests,
    no interleavings): what Hypothesis's stateful engine costs by itself.
    """
    values = st.integers(0, BenchMachine.max_replicas)
    moves: st.SearchStrategy[Any] = (
        st.just(None) if bare else interleavings(BenchMachine.max_steps_between_ops))
    manifests: st.SearchStrategy[Any] = (
        st.just(None) if bare else valid_statefulsets(max_replicas=BenchMachine.max_replicas))

    gaps = st.just(4) if bare else st.integers(1, 4)

    def after_op(self: Any, data: st.DataObject, name: str) -> None:
        # The machine's _apply: the op's interleaving, then the automatic settle every 1-4
        # ops (its own interleaving, and the next gap), as StatefulSetMachine draws them.
        data.draw(moves, label=f"after {name}")
        self.ops += 1
        if name == "settle":
            self.since_settle = 0
            self.gap = data.draw(gaps, label="ops before the next automatic settle")
            return
        self.since_settle += 1
        if self.since_settle >= self.gap:
            after_op(self, data, "settle")

    def make_rule(name: str) -> object:
        def body(self: Any, data: st.DataObject) -> None:
            if name != "settle":
                data.draw(values, label="argument")
            after_op(self, data, name)
        body.__name__ = name
        return rule(data=st.data())(body)

    def create(self: Any, data: st.DataObject) -> None:
        data.draw(manifests, label="manifests")
        self.ops = self.since_settle = 0
        self.gap = data.draw(gaps, label="ops before the next automatic settle")
        after_op(self, data, "create")

    def teardown(self: Any) -> None:
        BenchMachine.examples += 1
        BenchMachine.ops_applied += self.ops

    own = vars(StatefulSetMachine)
    members: dict[str, object] = {
        name: make_rule(name) for name, f in own.items()
        if getattr(f, "hypothesis_stateful_rule", None) is not None}
    members["create"] = initialize(data=st.data())(create)
    members["teardown"] = teardown
    for name, f in own.items():
        if getattr(f, "hypothesis_stateful_invariant", None) is not None:
            members[name] = invariant()(lambda self: None)
    return type("EngineFloorMachine", (RuleBasedStateMachine,), members)


def run_once(config: settings, machine: type[RuleBasedStateMachine] = BenchMachine
             ) -> tuple[int, int, float, float]:
    """``(examples, ops, wall seconds, CPU seconds)`` of one benchmark run."""
    BenchMachine.examples = BenchMachine.ops_applied = BenchMachine.records = 0
    BenchMachine.steps = 0
    wall, cpu = time.perf_counter(), time.process_time()
    run_state_machine_as_test(machine, settings=config)
    return (BenchMachine.examples, BenchMachine.ops_applied, time.perf_counter() - wall,
            time.process_time() - cpu)


def _rate_line(n: int, ops: int, wall: float, cpu: float) -> str:
    return (f"examples: {n}  ops: {ops}  wall time: {wall:.2f}s  CPU time: {cpu:.2f}s  "
            f"throughput: {n / wall:.1f} examples/s ({ops / wall:.0f} ops/s; "
            f"{n / cpu:.1f} examples per CPU second)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=300)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=1,
                        help="run the benchmark (and with --floor, the floor) this many times, "
                             "alternately, and report medians")
    parser.add_argument("--floor", action="store_true",
                        help="also run the engine floor (same draws, no model, no checks) and "
                             "print the model's throughput as a ratio to it")
    parser.add_argument("--profile", action="store_true",
                        help="also profile one run and print where its time goes")
    args = parser.parse_args()

    config = settings(max_examples=args.examples, stateful_step_count=args.steps,
                      deadline=None, database=None, derandomize=True,
                      phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    print(f"state machine: {args.steps} steps per example (stateful_step_count), scale targets "
          f"up to {BenchMachine.max_replicas} replicas, safety + quiescent checks after every "
          "step")
    print(f"settings: max_examples={args.examples} phases=[generate] database=None "
          "deadline=None derandomize=True suppress_health_check=all")
    rates, cpu_rates, floor_rates, floor_cpu_rates = [], [], [], []
    floor = _floor_machine() if args.floor else None
    for i in range(args.repeat):
        # Model and floor take turns, so that a change in the machine's load between runs
        # (a shared machine) weighs on both alike.
        n, ops, wall, cpu = run_once(config)
        rates.append(n / wall)
        cpu_rates.append(n / cpu)
        print(f"run {i + 1}: {_rate_line(n, ops, wall, cpu)}")
        if floor is not None:
            n, ops, wall, cpu = run_once(config, floor)
            floor_rates.append(n / wall)
            floor_cpu_rates.append(n / cpu)
            print(f"engine floor run {i + 1} (same rules, invariants and draws; no model, no "
                  f"checks): {_rate_line(n, ops, wall, cpu)}")
    if args.repeat > 1:
        print(f"median throughput: {statistics.median(rates):.1f} examples/s "
              f"({statistics.median(cpu_rates):.1f} per CPU second) over {args.repeat} runs")
    if floor is not None:
        n, ops, wall, cpu = run_once(config, _floor_machine(bare=True))
        print(f"engine floor (same rules and invariants, one integer draw per step): "
              f"{_rate_line(n, ops, wall, cpu)}")
        ratio = statistics.median(rates) / statistics.median(floor_rates)
        cpu_ratio = statistics.median(cpu_rates) / statistics.median(floor_cpu_rates)
        print(f"model examples/s: {statistics.median(rates):.1f}; engine floor examples/s: "
              f"{statistics.median(floor_rates):.1f}")
        verdict = "met" if ratio >= 0.8 else "not met"
        print(f"ratio to floor: {ratio:.2f} (target >= 0.8: {verdict}); of CPU time: "
              f"{cpu_ratio:.2f}")
        n, ops, wall, cpu = run_once(config, UncheckedMachine)
        print(f"model without its checks (safety and quiescent invariants off): "
              f"{_rate_line(n, ops, wall, cpu)}; ratio to floor: "
              f"{(n / wall) / statistics.median(floor_rates):.2f} (what faster checks could "
              "reach at most)")
        print(per_record(config, statistics.median(cpu_rates),
                         statistics.median(floor_cpu_rates)))
    if args.profile:
        print(profile(config))


def per_record(config: settings, rate: float, floor_rate: float) -> str:
    """What one example holds (one more run, untimed, counting the sync plans) and what
    sts-props' own work costs per History record: the CPU time per example above the
    floor's, over the records of an example. For 0.8, that cost must fit in a quarter of the
    floor's time per example."""
    import sts_props.model.runner as runner

    plans = [0, 0]  # planned, empty
    planned = vars(runner)["sync"]

    def counting(world: Any, cfg: Any) -> Any:
        plan = planned(world, cfg)
        plans[0] += 1
        plans[1] += not plan.actions
        return plan

    namespace = vars(runner)  # the module's globals: ModelRun looks sync up there at each call
    namespace["sync"] = counting
    try:
        n, ops, _, _ = run_once(config)
    finally:
        namespace["sync"] = planned
    records, steps = BenchMachine.records / n, BenchMachine.steps / n
    own = (1 / rate - 1 / floor_rate) * 1e6 / records
    budget = (1 / (0.8 * floor_rate) - 1 / floor_rate) * 1e6 / records
    return (f"per example: {ops / n:.0f} ops, {steps:.0f} model steps ({plans[0] / n:.0f} sync "
            f"plans, {100 * plans[1] / max(plans[0], 1):.0f}% of them empty), {records:.0f} "
            f"History records; sts-props' own CPU time per record: {own:.0f} us (0.8 leaves "
            f"{budget:.0f} us)")


#: What ``--profile`` attributes time to: (name, functions whose cumulative time counts).
#: The parts are disjoint: checks and creation run outside ModelRun.apply.
PARTS = (
    ("model: ops applied and settled (ModelRun.apply)", ("runner.py", "apply")),
    ("safety checks after every step", ("safety.py", "violations")),
    ("quiescent checks after every step", ("quiescent.py", "violations")),
)


def profile(config: settings) -> str:
    """One run under cProfile; the share of each part of :data:`PARTS` and of the rest."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    run_once(config)
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = max(sum(tt for _, _, tt, _, _ in stats.values()), 1e-9)
    lines = [f"profile (cProfile, {total:.1f}s with its overhead):"]
    counted = 0.0
    for name, (filename, function) in PARTS:
        seconds = sum(ct for (file, _, func), (_, _, _, ct, _) in stats.items()
                      if file.endswith(filename) and func == function)
        counted += seconds
        lines.append(f"  {name}: {seconds:.1f}s ({100 * seconds / total:.0f}%)")
    lines.append(f"  the rest (Hypothesis's engine and draws, creating the set, the machine): "
                 f"{total - counted:.1f}s ({100 * (total - counted) / total:.0f}%)")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
