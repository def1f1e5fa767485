"""``sts-props check``: the property suite on the model or on a cluster (model vs cluster).

Usage::

    sts-props check --backend model --examples 1000 --manifests ../shared/seed/
    sts-props check --backend kwok --examples 30 --manifests ../shared/seed/ --faults
    sts-props check --backend kubeconfig --kubeconfig /path/to/kubeconfig --junit out.xml

On the model every generated scenario is checked (safety, quiescent state); on a cluster each
runs on the cluster and the model and the two Histories are compared too. With ``--manifests``
on a cluster the seed scenario runs first. On a cluster the scenarios are picked from a pool run
on the model (``--selection model``, :mod:`sts_props.selection`) unless ``--selection plain``
asks for Hypothesis's generation. Exit code 0 if every scenario passed, 1 if one failed (its
counterexample, shrunk, is printed and its plan written under ``artifacts/``; plain generation
also keeps it under ``--database`` for a repeat run).
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path
from typing import TYPE_CHECKING

from sts_props.cli.arguments import add_command, check_output_dir, check_output_file, path, whole
from sts_props.cli.console import print_error, say
from sts_props.cli.exit_codes import UsageError, verdict
from sts_props.cli.guard import signal_name
from sts_props.cli.options import (
    add_artifacts_option,
    add_connection_options,
    add_gate_option,
    add_image_option,
    add_jobs_option,
    add_manifests_option,
    add_max_replicas_option,
    add_patch_option,
    add_seed_option,
    add_version_option,
    jobs_of,
    model_config,
    patched_controller,
    real_cluster,
)
from sts_props.defaults import BACKENDS
from sts_props.junit import write_junit
from sts_props.manifest_files import load_manifests
from sts_props.model import ModelConfig
from sts_props.ops import FAULT_OPS
from sts_props.seed_scenario import run_seed_scenario
from sts_props.selection import MAX_ALONE_PICKS
from sts_props.suite import (
    SELECTIONS,
    SuiteSummary,
    run_cluster_suite,
    run_model_suite,
    start_pool,
)

if TYPE_CHECKING:
    from sts_props.cli.options import Subparsers

__all__ = ["add_parser", "run"]

#: ops per scenario when --max-ops is not given
MODEL_MAX_OPS, CLUSTER_MAX_OPS = 20, 12
#: fewest ops per cluster scenario after the create (``--min-ops``; the model has no floor)
CLUSTER_MIN_OPS = 8


def add_parser(sub: Subparsers) -> None:
    """Register ``check``."""
    check = add_command(sub, "check", "run the property suite on a backend", [
        "sts-props check --backend model --examples 1000 --manifests ../shared/seed/",
        "sts-props check --backend model --examples 300 --seed 7 --junit report.xml",
        "sts-props check --backend kwok --examples 30 --faults",
        "sts-props check --backend kwok --examples 30 --patch my-controller-change.diff",
        "sts-props check --backend kubeconfig --kubeconfig kc.yaml --examples 10"])
    check.add_argument("--backend", default="model", choices=list(BACKENDS),
                       help="where scenarios run: the reference model (default); a local "
                            "upstream control plane with kwok nodes started for this run "
                            "(kwok: local processes; kwok-image: the same in a container via "
                            "testcontainers); k3s in testcontainers; or an existing cluster "
                            "from a kubeconfig (e.g. `cluster up`'s)")
    add_image_option(check, "with kwok-image or k3s: the container image (default: kwok-image "
                            "builds sts-props/kwok-cluster locally; k3s uses its pinned tag)")
    add_connection_options(check)
    check.add_argument("--examples", type=whole(1), default=200, metavar="N",
                       help="number of generated scenarios")
    add_manifests_option(check, "a manifest file or directory to use as the base scenario "
                                "(repeatable; e.g. ../shared/seed/; default: generated "
                                "StatefulSets)")
    add_version_option(check)
    add_gate_option(check)
    add_seed_option(check)
    check.add_argument("--max-ops", type=whole(1), default=None, metavar="N",
                       help=f"most ops per scenario after the create (default "
                            f"{MODEL_MAX_OPS} on the model, {CLUSTER_MAX_OPS} on a cluster)")
    check.add_argument("--min-ops", type=whole(0), default=None, metavar="N",
                       help=f"on a cluster: fewest ops per scenario after the create, at most "
                            f"--max-ops (default {CLUSTER_MIN_OPS})")
    add_max_replicas_option(check)
    check.add_argument("--database", type=path, default=Path(".hypothesis/sts-props"),
                       metavar="DIR",
                       help="where failing examples are kept for a repeat run (created if "
                            "missing)")
    add_artifacts_option(check)
    check.add_argument("--junit", type=path, default=None, metavar="PATH",
                       help="also write JUnit XML: one testcase per scenario (for CI; its "
                            "directory must exist); written for an interrupted run too")
    check.add_argument("--selection", choices=list(SELECTIONS), default=None,
                       help="on a cluster backend, how the scenarios are chosen: model "
                            "(default) runs a pool of generated scenarios on the model first "
                            "(10-20 s) and runs on the cluster the --examples that add the "
                            "most not-yet-covered cells, op kinds and corners, a failure "
                            "shrunk by a reducer (its plan is in the artifacts); plain lets "
                            "Hypothesis generate them (failures kept under --database). On "
                            "--backend model scenarios are always generated plainly")
    faults = check.add_mutually_exclusive_group()
    faults.add_argument("--faults", action="store_true",
                        help="a fault in every scenario: pod kill/eviction, readiness flaps, "
                             "finalizer holds, node failure, controller and apiserver "
                             "restarts, denied API writes (a backend skips, and names, those "
                             "it cannot perform); on a cluster at least 2 scenarios each get a "
                             "controller and an apiserver restart, a node failure, a write "
                             "denial and held scheduling. Without it, on a "
                             "cluster with model selection, faults are op kinds the pick "
                             "covers like any other, in some scenarios; those that disturb "
                             "the whole cluster go together into at most "
                             f"{MAX_ALONE_PICKS} scenario(s), run alone")
    faults.add_argument("--no-faults", action="store_true",
                        help="no fault at all: only spec changes and the pod and claim "
                             "disruptions of the base language")
    add_jobs_option(check, "on a cluster backend with model selection: ")
    add_patch_option(check)


def run(args: argparse.Namespace) -> int:
    """Run the suite; 0 if every scenario passed, 1 if one failed.

    Interrupted (Ctrl-C, SIGTERM), it prints the summary of the scenarios that finished and
    writes ``--junit`` for them before the interrupt goes on to :func:`~sts_props.cli.app.main`.
    """
    config = model_config(args)
    cluster_backend = args.backend != "model"
    if not cluster_backend and args.selection == "model":
        raise UsageError("--selection model picks cluster scenarios from a model pool; on "
                         "--backend model every scenario runs on the model already")
    max_ops = args.max_ops or (CLUSTER_MAX_OPS if cluster_backend else MODEL_MAX_OPS)
    if args.jobs is not None and args.jobs > 1 and (
            not cluster_backend or args.selection == "plain"):
        raise UsageError(f"--jobs {args.jobs} runs cluster scenarios side by side: it needs a "
                         "cluster backend and model selection (Hypothesis generates "
                         "--selection plain scenarios one at a time)")
    jobs = jobs_of(args, args.backend) if args.selection != "plain" else 1
    min_ops = CLUSTER_MIN_OPS if args.min_ops is None else args.min_ops
    if cluster_backend and min_ops > max_ops:
        raise UsageError(f"--min-ops {min_ops} is more than --max-ops {max_ops}: no "
                         "scenario could have that many ops")
    # Every output is checked before the run: a bad path is found now, not after the run.
    if args.junit is not None:
        check_output_file(args.junit, "--junit")
    check_output_dir(args.database, "--database")
    check_output_dir(args.artifacts, "--artifacts")
    patched_controller(args)  # refuse --patch off kwok (and on the model), or build it first
    base = load_manifests(args.manifests, config) if args.manifests else None
    what = f"on {base.set_name} from {', '.join(map(str, args.manifests))}" if base else ""
    summary = SuiteSummary(backend=args.backend)
    try:
        if not cluster_backend:
            print(f"sts-props: {args.examples} scenarios on the model ({config.version}) "
                  f"{what}".rstrip(), flush=True)
            run_model_suite(
                base=base, examples=args.examples, config=config, seed=args.seed,
                progress=say, database_dir=args.database, max_ops=max_ops,
                max_replicas=args.max_replicas, artifacts_dir=args.artifacts,
                fault_kinds=_fault_kinds(args), summary=summary)
        else:
            selection = args.selection or "model"
            some_faults = frozenset() if args.no_faults else frozenset(FAULT_OPS)
            cluster = real_cluster(args)
            # The model pool is built while the cluster starts and the seed scenario runs (it
            # takes 5-20 s of CPU, the start mostly waits); the suite below takes it. Not on
            # k3s, whose version, and so the model, is known only once it runs.
            seed: int | None = args.seed
            stop_pool = None
            if selection == "model":
                if seed is None:
                    seed = random.randrange(2**32)  # drawn here, so that the pool can start now
                if args.backend != "k3s":
                    stop_pool = start_pool(
                        cluster, base=base, config=config, seed=seed, min_ops=min_ops,
                        max_ops=max_ops, max_replicas=args.max_replicas,
                        fault_kinds=_fault_kinds(args), some_faults=some_faults)
            try:
                with cluster:
                    if args.backend == "k3s":  # the pinned image decides the version: model it
                        config = ModelConfig.for_version(cluster.version())
                    if base is not None:
                        print(run_seed_scenario(cluster, base).render(), flush=True)
                    print(f"sts-props: {args.examples} scenarios, model vs {cluster.name} "
                          f"({cluster.version()}) {what}".rstrip(), flush=True)
                    run_cluster_suite(
                        cluster, base=base, examples=args.examples, config=config, seed=seed,
                        progress=say, database_dir=args.database, min_ops=min_ops,
                        max_ops=max_ops, max_replicas=args.max_replicas,
                        artifacts_dir=args.artifacts, fault_kinds=_fault_kinds(args),
                        some_faults=some_faults, selection=selection, summary=summary,
                        jobs=jobs)
            finally:
                if stop_pool is not None:
                    stop_pool.set()
    except KeyboardInterrupt as stop:
        # after the cluster's clean-up (the with block has exited): what finished, then stop
        try:
            say(f"sts-props: interrupted ({signal_name(stop)}): the summary of the "
                f"{summary.scenarios} scenarios that finished")
            _report(args, summary)
        except KeyboardInterrupt:  # a second Ctrl-C: stop now
            pass
        except UsageError as exc:  # the JUnit file could not be written: say so, still stop
            print_error(exc)
        raise
    _report(args, summary)
    return verdict(summary.ok)


def _report(args: argparse.Namespace, summary: SuiteSummary) -> None:
    """The summary, and the JUnit file if asked for."""
    print(summary.render(), flush=True)
    if args.junit is not None:
        try:
            write_junit(args.junit, summary)
        except OSError as exc:  # checked before the run; gone or full since
            raise UsageError(f"--junit {args.junit}: cannot write it: "
                             f"{exc.strerror or exc}") from None
        print(f"junit: {args.junit}", flush=True)


def _fault_kinds(args: argparse.Namespace) -> frozenset[str]:

    return frozenset(FAULT_OPS) if args.faults else frozenset()
