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
from pathlib import Path
from typing import TYPE_CHECKING

from sts_props.cli.console import say
from sts_props.cli.exit_codes import UsageError, verdict
from sts_props.cli.options import (
    VERSION_HELP,
    add_connection_options,
    add_version_option,
    model_config,
    real_cluster,
)
from sts_props.defaults import BACKENDS
from sts_props.junit import write_junit
from sts_props.manifest_files import load_manifests
from sts_props.model import ModelConfig
from sts_props.ops import FAULT_OPS
from sts_props.seed_scenario import run_seed_scenario
from sts_props.suite import SELECTIONS, run_cluster_suite, run_model_suite

if TYPE_CHECKING:
    from sts_props.cli.options import Subparsers

__all__ = ["add_parser", "run"]


def add_parser(sub: Subparsers) -> None:
    """Register ``check``."""
    check = sub.add_parser("check", help="run the property suite on a backend")
    check.add_argument("--backend", default="model", choices=list(BACKENDS),
                       help="where scenarios run: the reference model (default); a local "
                            "upstream control plane with kwok nodes started for this run "
                            "(kwok: local processes; kwok-image: the same in a container via "
                            "testcontainers); k3s in testcontainers; or an existing cluster "
                            "from a kubeconfig (e.g. `cluster up`'s)")
    check.add_argument("--image", default=None,
                       help="with kwok-image or k3s: the container image (default: kwok-image "
                            "builds sts-props/kwok-cluster locally; k3s uses its pinned tag)")
    add_connection_options(check)
    check.add_argument("--examples", type=int, default=200,
                       help="number of generated scenarios (default 200)")
    check.add_argument("--manifests", type=Path, action="append", default=[],
                       help="a manifest file or directory to use as the base scenario "
                            "(repeatable; e.g. ../shared/seed/)")
    add_version_option(check, VERSION_HELP)
    check.add_argument("--seed", type=int, default=None, help="random seed, for a repeat run")
    check.add_argument("--max-ops", type=int, default=None,
                       help="ops per scenario (default 20 on the model, 12 on a cluster)")
    check.add_argument("--min-ops", type=int, default=8,
                       help="least ops per scenario on a cluster (default 8)")
    check.add_argument("--max-replicas", type=int, default=5,
                       help="largest replicas value generated (default 5)")
    check.add_argument("--database", type=Path, default=Path(".hypothesis/sts-props"),
                       help="where failing examples are kept for replay (default "
                            ".hypothesis/sts-props)")
    check.add_argument("--junit", type=Path, default=None, metavar="PATH",
                       help="also write JUnit XML: one testcase per scenario (for CI)")
    check.add_argument("--selection", choices=list(SELECTIONS), default=None,
                       help="on a cluster backend, how the scenarios are chosen: model "
                            "(default) runs a pool of generated scenarios on the model first "
                            "(10-20 s) and runs on the cluster the --examples that add the "
                            "most not-yet-covered cells, op kinds and corners, a failure "
                            "shrunk by a reducer (its plan is in the artifacts); plain lets "
                            "Hypothesis generate them (failures kept under --database). On "
                            "--backend model scenarios are always generated plainly")
    check.add_argument("--faults", action="store_true",
                       help="mix faults into the scenarios: pod kill/eviction, readiness "
                            "flaps, finalizer holds, node failure, controller and apiserver "
                            "restarts, "
                            "denied API writes (a backend skips, and names, those it cannot "
                            "perform); on a cluster at least 2 scenarios each get a restart, "
                            "a node failure and a write denial")


def run(args: argparse.Namespace) -> int:
    """Run the suite; 0 if every scenario passed, 1 if one failed."""
    config = model_config(args)
    if args.examples < 1:
        raise UsageError("--examples must be at least 1")
    if args.backend == "model" and args.selection == "model":
        raise UsageError("--selection model picks cluster scenarios from a model pool; on "
                         "--backend model every scenario runs on the model already")
    base = load_manifests(args.manifests, config) if args.manifests else None
    what = f"on {base.set_name} from {', '.join(map(str, args.manifests))}" if base else ""
    if args.backend == "model":
        print(f"sts-props: {args.examples} scenarios on the model ({config.version}) {what}"
              .rstrip(), flush=True)
        summary = run_model_suite(
            base=base, examples=args.examples, config=config, seed=args.seed,
            progress=say, database_dir=args.database,
            max_ops=args.max_ops or 20, max_replicas=args.max_replicas,
            artifacts_dir=Path("artifacts"), fault_kinds=_fault_kinds(args))
    else:
        with real_cluster(args) as cluster:
            if args.backend == "k3s":  # the pinned image decides the version: model that one
                config = ModelConfig.for_version(cluster.version())
            if base is not None:
                print(run_seed_scenario(cluster, base).render(), flush=True)
            print(f"sts-props: {args.examples} scenarios, model vs {cluster.name} "
                  f"({cluster.version()}) {what}".rstrip(), flush=True)
            summary = run_cluster_suite(
                cluster, base=base, examples=args.examples, config=config, seed=args.seed,
                progress=say, database_dir=args.database,
                min_ops=args.min_ops, max_ops=args.max_ops or 12,
                max_replicas=args.max_replicas, fault_kinds=_fault_kinds(args),
                selection=args.selection or "model")
    print(summary.render(), flush=True)
    if args.junit is not None:
        write_junit(args.junit, summary)
        print(f"junit: {args.junit}", flush=True)
    return verdict(summary.ok)


def _fault_kinds(args: argparse.Namespace) -> frozenset[str]:

    return frozenset(FAULT_OPS) if args.faults else frozenset()
