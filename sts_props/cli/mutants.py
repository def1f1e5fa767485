"""``sts-props mutants``: mutation testing of the harness against a real cluster (issue 5).

Usage::

    sts-props mutants --backend kwok                          # every mutant of sts_props.mutants
    sts-props mutants --backend kwok --only scale-down-ascending --budget 8
    sts-props mutants --backend kwok --jobs 1                 # one mutant at a time
    sts-props mutants --list                                  # the catalogue, no cluster
    sts-props mutants --controller                            # mutants of the real controller
    sts-props mutants --controller --only scale-down-ascending --examples 30
    sts-props mutants --controller --clusters 2               # two mutants' clusters at once
    sts-props mutants --controller --list                     # their catalogue

With ``--controller`` the *controller* is broken instead of the model: each diff of
``sts_props/data/controller_mutants`` is built into a kube-controller-manager and run on its own
kwok cluster with the main job's scenarios until the first violation, after a control (the
unmodified controller built the same way) that must show none; a catch counts once its
counterexample fails again on the mutant and passes on the control
(:mod:`sts_props.controller_mutants`). Prints the table and the score; exit 0 if the control is
clean and every mutant caught, 1 otherwise.

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

from sts_props import controller_mutants
from sts_props.cli.arguments import add_command, seconds, text, whole
from sts_props.cli.console import say
from sts_props.cli.exit_codes import EXIT_OK, UsageError, verdict
from sts_props.cli.options import (
    add_connection_options,
    add_jobs_option,
    add_manifests_option,
    add_seed_option,
    add_version_option,
    jobs_of,
    model_config,
    real_cluster,
)
from sts_props.manifest_files import load_manifests
from sts_props.model import ModelConfig
from sts_props.mutant_names import MUTANT_NAMES
from sts_props.mutants import MUTANTS, by_name
from sts_props.mutation_runs import MUTANT_EXAMPLES, MUTANT_OP_TIMEOUT, run_mutation_suite

if TYPE_CHECKING:
    from sts_props.cli.options import Subparsers

__all__ = ["add_parser", "render_catalogue", "render_controller_catalogue", "run"]

#: the default op timeout of controller mutant runs
CONTROLLER_OP_TIMEOUT = controller_mutants.DEFAULT_OP_TIMEOUT


def add_parser(sub: Subparsers) -> None:
    """Register ``mutants``."""
    p = add_command(sub, "mutants", "mutation testing: is each broken model variant caught by "
                                    "a differential run against a real cluster?", [
        "sts-props mutants --list",
        "sts-props mutants --backend kwok",
        "sts-props mutants --backend kwok --only scale-down-ascending --budget 8 --seed 3",
        "sts-props mutants --controller --list",
        "sts-props mutants --controller --only scale-down-ascending --examples 30"])
    p.add_argument("--backend", default="kwok", choices=["kwok", "kubeconfig"],
                   help="the cluster: a kwok cluster started for this run, or an existing one "
                        "from a kubeconfig")
    add_connection_options(p)
    add_version_option(p)
    p.add_argument("--only", type=text, action="append", default=[], metavar="NAME",
                   help="run only this mutant (repeatable; default: every mutant; names: "
                        "--list)")
    p.add_argument("--budget", type=whole(0), default=None, metavar="N",
                   help="cluster runs spent on shrinking each counterexample (default 6; 2 with "
                        "--controller)")
    p.add_argument("--examples", type=whole(1), default=None, metavar="N",
                   help=f"scenarios tried per mutant before it counts as survived (default "
                        f"{MUTANT_EXAMPLES}; {controller_mutants.DEFAULT_EXAMPLES}, the main "
                        f"job's, with --controller)")
    p.add_argument("--op-timeout", type=seconds, default=None, metavar="SECONDS",
                   help=f"seconds the cluster may take per op (default {MUTANT_OP_TIMEOUT:.0f}; "
                        f"{CONTROLLER_OP_TIMEOUT:.0f} with --controller)")
    add_seed_option(p)
    p.add_argument("--no-control", action="store_true",
                   help="skip the control run of the unmutated model on each counterexample "
                        "(with --controller: the control run and the replays that confirm a "
                        "catch)")
    p.add_argument("--list", action="store_true", help="print the catalogue and exit")
    p.add_argument("--controller", action="store_true",
                   help="mutants of the real StatefulSet controller (patched builds of "
                        "kube-controller-manager, each on its own kwok cluster) instead of the "
                        "model's")
    add_manifests_option(p, "with --controller: base manifests of the scenarios (default: the "
                            "seed's Redis StatefulSet)")
    add_jobs_option(p, "model mutants side by side (each searches one scenario at a time), "
                       "or with --controller on each mutant's cluster: ")
    p.add_argument("--clusters", type=whole(1), default=None, metavar="N",
                   help="with --controller: run up to N mutants side by side, each on its own "
                        "kwok cluster (default 1: one after the other)")

def run(args: argparse.Namespace) -> int:
    """0 if every mutant is caught, 1 if not."""
    config = model_config(args)
    if args.controller:
        return _run_controller(args, config)
    if args.clusters is not None:
        raise UsageError("--clusters is for --controller (a cluster per mutant); model mutants "
                         "share one cluster: --jobs runs them side by side")
    try:  # a bad name is refused with --list too: every value given is checked
        names = [by_name(n).name for n in args.only] or list(MUTANT_NAMES)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.list:
        print(render_catalogue())
        return EXIT_OK
    with real_cluster(args) as cluster:
        report = run_mutation_suite(
            cluster, names, progress=say, examples=args.examples or MUTANT_EXAMPLES,
            budget=6 if args.budget is None else args.budget,
            op_timeout=args.op_timeout or MUTANT_OP_TIMEOUT, seed=args.seed,
            control=not args.no_control, config=config, jobs=jobs_of(args, args.backend))
    print(report.render(), flush=True)
    return verdict(report.caught == len(report.results))


def _run_controller(args: argparse.Namespace, config: ModelConfig) -> int:
    """``mutants --controller``: 0 if the control is clean and every mutant caught."""
    try:  # a bad name is refused with --list too
        names = [controller_mutants.by_name(n).name for n in args.only]
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.list:
        print(render_controller_catalogue())
        return EXIT_OK
    if args.backend != "kwok":
        raise UsageError("--controller runs on kwok clusters of its own: drop --backend "
                         f"{args.backend}")
    base = load_manifests(args.manifests, config) if args.manifests else None
    report = controller_mutants.run_controller_mutants(
        names, version=config.version,
        examples=args.examples or controller_mutants.DEFAULT_EXAMPLES, seed=args.seed, base=base,
        control=not args.no_control,
        confirm_runs=0 if args.no_control else controller_mutants.DEFAULT_CONFIRM_RUNS,
        shrink_budget=(controller_mutants.DEFAULT_SHRINK_BUDGET if args.budget is None
                       else args.budget),
        op_timeout=args.op_timeout or controller_mutants.DEFAULT_OP_TIMEOUT, progress=say,
        jobs=jobs_of(args, "kwok"), clusters=args.clusters or 1)
    print(report.render(), flush=True)
    caught, total = report.score
    return verdict(report.control_clean is not False and caught == total
                   and not any(r.error for r in report.results))


def render_controller_catalogue() -> str:
    """The controller mutants, one a line (``sts-props mutants --controller --list``).

    >>> render_controller_catalogue().splitlines()[0].split(":")[0]
    '01-ordered-no-ready-wait.diff ordered-no-ready-wait [ORD-1, CHK-3]'
    """
    return "\n".join(
        f"{m.file.name} {m.name} [{', '.join(m.rules)}]: {m.description}"
        + (f" (historical: {m.upstream})" if m.historical else "")
        for m in controller_mutants.catalogue())


def render_catalogue() -> str:
    """The catalogue, one mutant a line (``sts-props mutants --list``)."""
    return "\n".join(f"{m.name} [{', '.join(m.rules)}]: {m.description} (hook: {m.hook})"
                     for m in MUTANTS)
