"""``sts-props mutants``: mutation testing of the harness against a real cluster (issue 5).

Usage::

    sts-props mutants --backend kwok                          # every mutant of sts_props.mutants
    sts-props mutants --backend kwok --only scale-down-ascending --budget 8
    sts-props mutants --list                                  # the catalogue, no cluster

Each mutant's targeted scenarios run on the mutated model and the cluster until they disagree;
the counterexample is shrunk within ``--budget`` cluster runs and confirmed by a control run of
the unmutated model (:mod:`sts_props.mutation_runs`). Prints, per mutant, caught / survived /
unconfirmed, the time to the first counterexample and the shrunk plan size, then the mutation
score. Exit codes: 0 every mutant caught, 1 one was not, 2 bad input, 3 no cluster.

>>> render_catalogue().splitlines()[0].split(":")[0]
'failed-never-recreated [RP-1]'
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from sts_props.cli.arguments import add_command, seconds, text, whole
from sts_props.cli.console import say
from sts_props.cli.exit_codes import EXIT_OK, UsageError, verdict
from sts_props.cli.options import (
    add_connection_options,
    add_seed_option,
    add_version_option,
    model_config,
    real_cluster,
)
from sts_props.mutants import MUTANT_NAMES, MUTANTS, by_name
from sts_props.mutation_runs import MUTANT_OP_TIMEOUT, run_mutation_suite

if TYPE_CHECKING:
    from sts_props.cli.options import Subparsers

__all__ = ["add_parser", "render_catalogue", "run"]


def add_parser(sub: Subparsers) -> None:
    """Register ``mutants``."""
    p = add_command(sub, "mutants", "mutation testing: is each broken model variant caught by "
                                    "a differential run against a real cluster?", [
        "sts-props mutants --list",
        "sts-props mutants --backend kwok",
        "sts-props mutants --backend kwok --only scale-down-ascending --budget 8 --seed 3"])
    p.add_argument("--backend", default="kwok", choices=["kwok", "kubeconfig"],
                   help="the cluster: a kwok cluster started for this run, or an existing one "
                        "from a kubeconfig")
    add_connection_options(p)
    add_version_option(p)
    p.add_argument("--only", type=text, action="append", default=[], metavar="NAME",
                   help="run only this mutant (repeatable; default: every mutant; names: "
                        "--list)")
    p.add_argument("--budget", type=whole(0), default=6, metavar="N",
                   help="cluster runs spent on shrinking each counterexample")
    p.add_argument("--examples", type=whole(1), default=10, metavar="N",
                   help="scenarios tried per mutant before it counts as survived")
    p.add_argument("--op-timeout", type=seconds, default=MUTANT_OP_TIMEOUT, metavar="SECONDS",
                   help="seconds the cluster may take per op")
    add_seed_option(p)
    p.add_argument("--no-control", action="store_true",
                   help="skip the control run of the unmutated model on each counterexample")
    p.add_argument("--list", action="store_true", help="print the catalogue and exit")


def run(args: argparse.Namespace) -> int:
    """0 if every mutant is caught, 1 if not."""
    config = model_config(args)
    try:  # a bad name is refused with --list too: every value given is checked
        names = [by_name(n).name for n in args.only] or list(MUTANT_NAMES)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.list:
        print(render_catalogue())
        return EXIT_OK
    with real_cluster(args) as cluster:
        report = run_mutation_suite(
            cluster, names, progress=say, examples=args.examples, budget=args.budget,
            op_timeout=args.op_timeout, seed=args.seed, control=not args.no_control,
            config=config)
    print(report.render(), flush=True)
    return verdict(report.caught == len(report.results))


def render_catalogue() -> str:
    """The catalogue, one mutant a line (``sts-props mutants --list``)."""
    return "\n".join(f"{m.name} [{', '.join(m.rules)}]: {m.description} (hook: {m.hook})"
                     for m in MUTANTS)
