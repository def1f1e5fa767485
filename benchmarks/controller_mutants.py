"""Run the controller mutant catalogue on kwok and print the score, the median time to the
first violation and one row per mutant (the table of docs/mutation-testing.md).

Each mutant (and the control, the unmodified controller built the same way) is built from the
module source with its diff (cached by the diff's hash), gets a fresh kwok cluster and the main
job's scenarios on the seed manifests (sts_props/data, as `tox -e kwok-k8s1.37` runs them) until
its first violation. A script, not a timed test: the figures depend on the machine.

    python benchmarks/controller_mutants.py                       # the whole catalogue
    python benchmarks/controller_mutants.py --only scale-down-ascending --examples 5
    python benchmarks/controller_mutants.py --json results.json   # also the rows as JSON
    python benchmarks/controller_mutants.py --only none --control-runs 3   # the control alone,
                                                  # three runs of 30 scenarios (seeds 1, 2, 3)

Exit status 1 when the control shows a violation or a mutant could not be run; survivors are
reported, not failed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from sts_props.controller_mutants import (
    DEFAULT_CONFIRM_RUNS,
    DEFAULT_EXAMPLES,
    DEFAULT_OP_TIMEOUT,
    DEFAULT_SHRINK_BUDGET,
    run_controller_mutants,
)
from sts_props.defaults import default_jobs
from sts_props.manifest_files import load_manifests
from sts_props.model import ModelConfig

SEED_MANIFESTS = Path(__file__).resolve().parent.parent / "sts_props" / "data"


def _plain(value: object) -> object:
    return str(value) if isinstance(value, Path) else value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help="run only this mutant (repeatable; default: the catalogue; none: only "
                             "the control, --control-runs times)")
    parser.add_argument("--examples", type=int, default=DEFAULT_EXAMPLES)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--shrink-budget", type=int, default=DEFAULT_SHRINK_BUDGET)
    parser.add_argument("--op-timeout", type=float, default=DEFAULT_OP_TIMEOUT)
    parser.add_argument("--manifests", type=Path, action="append", default=[],
                        help=f"base manifests (default {SEED_MANIFESTS})")
    parser.add_argument("--k8s-version", default="v1.37.2")
    parser.add_argument("--no-control", action="store_true", help="skip the control run")
    parser.add_argument("--confirm-runs", type=int, default=DEFAULT_CONFIRM_RUNS,
                        help="replays of each catch's counterexample on the control (0: none)")
    parser.add_argument("--jobs", type=int, default=default_jobs("kwok"),
                        help="scenarios side by side on each cluster (default: as check's)")
    parser.add_argument("--clusters", type=int, default=1,
                        help="mutants side by side, each on its own kwok cluster (default 1)")
    parser.add_argument("--control-runs", type=int, default=1,
                        help="runs of the control, with seeds --seed, --seed + 1, ...; it is "
                             "clean only if every run is")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    parser.add_argument("--artifacts", type=Path, default=Path("artifacts/controller-mutants"))
    args = parser.parse_args()

    config = ModelConfig.for_version(args.k8s_version)
    base = load_manifests(args.manifests or [SEED_MANIFESTS], config)
    say = lambda line: print(line, flush=True)  # noqa: E731
    control_only = args.only == ["none"]  # --only none: the control runs, no mutant
    report = run_controller_mutants(
        [] if control_only else args.only, version=args.k8s_version, examples=args.examples,
        seed=args.seed, base=base, control=not args.no_control, control_runs=args.control_runs,
        mutants=not control_only, confirm_runs=args.confirm_runs,
        shrink_budget=args.shrink_budget, op_timeout=args.op_timeout,
        artifacts_dir=args.artifacts, progress=say, jobs=args.jobs,
        clusters=args.clusters)
    print()
    print(report.render())
    if args.json is not None:
        rows = [{f.name: _plain(getattr(r, f.name)) for f in dataclasses.fields(r)
                 if f.name != "counterexample"} | {"verdict": r.verdict, "evidence": r.evidence}
                for r in report.results]
        args.json.write_text(json.dumps({"version": report.version, "seconds": report.seconds,
                                         "score": report.score, "rows": rows}, indent=2) + "\n")
        print(f"rows: {args.json}")
    # Survivors are a finding, not a failure; an unclean control or a mutant that could not be
    # run (does not apply or build, no cluster) makes the run itself untrustworthy.
    broken = report.control_clean is False or any(r.error for r in report.results)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
