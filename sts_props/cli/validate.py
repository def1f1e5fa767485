"""``sts-props validate``: are these manifests valid, as the apiserver would judge them?

Usage::

    sts-props validate ../shared/seed/redis-statefulset-demo.yaml
    sts-props validate manifests/ --k8s-version v1.36.3
    sts-props validate manifests/ --backend kwok        # also the apiserver's dry run
    sts-props validate --backend kwok --examples 500    # generated, model vs apiserver

On the model (the default): exit code 0 with one ``ok:`` line; 2 with one line on stderr
naming the file and the rule (``[VAL-5]``, ...) when a manifest is not valid.

With a cluster backend each StatefulSet is also sent to the apiserver with server-side dry run
(``dryRun=All``, nothing is stored) and both verdicts are printed (:mod:`sts_props.dryrun`).
``--examples N`` instead generates N StatefulSets (at least half of them invalid) plus a set of
update cases (VAL-7) and prints the comparison summary. Exit 1 when the model and the apiserver
disagree in a way :data:`~sts_props.dryrun.KNOWN_DIFFERENCES` does not explain; otherwise 0
(with files: 2 if they agree a file is not valid); 3 when no cluster could be had.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from sts_props.cli.arguments import add_command, path, whole
from sts_props.cli.console import say
from sts_props.cli.exit_codes import EXIT_FAILED, UsageError
from sts_props.cli.options import (
    add_connection_options,
    add_seed_option,
    add_version_option,
    model_config,
    real_cluster,
)
from sts_props.defaults import BACKENDS
from sts_props.dryrun import generate_manifests, run_dry_runs, update_cases
from sts_props.manifest_files import read_documents, sort_documents, validate_manifests

if TYPE_CHECKING:
    from sts_props.cli.options import Subparsers

__all__ = ["add_parser", "run"]


def add_parser(sub: Subparsers) -> None:
    """Register ``validate``."""
    validate = add_command(sub, "validate", "validate manifest files like the apiserver would", [
        "sts-props validate ../shared/seed/redis-statefulset-demo.yaml",
        "sts-props validate manifests/ --k8s-version v1.36.3",
        "sts-props validate manifests/ --backend kwok",
        "sts-props validate --backend kwok --examples 500"])
    validate.add_argument("paths", type=path, nargs="*", metavar="PATH",
                          help="manifest files or directories (a StatefulSet, optionally its "
                               "headless Service and StorageClasses); required unless "
                               "--examples is given")
    validate.add_argument("--backend", default="model", choices=list(BACKENDS),
                          help="the model only (default), or also the apiserver of a cluster "
                               "(dry run: nothing is stored) started for this run (kwok, "
                               "kwok-image, k3s) or from a kubeconfig")
    add_connection_options(validate)
    validate.add_argument("--examples", type=whole(1), default=None, metavar="N",
                          help="with a cluster backend and no PATH: generate N StatefulSets (at "
                               "least half invalid) plus update cases and compare the model's "
                               "verdicts with the apiserver's (default: not used)")
    add_seed_option(validate)
    validate.add_argument("--verbose", action="store_true",
                          help="with a cluster backend: print every comparison, not only the "
                               "differences")
    add_version_option(validate, "Kubernetes version whose validation rules apply (and that "
                                 "kwok builds)")


def run(args: argparse.Namespace) -> int:
    """Validate; a manifest that is not valid raises ManifestError (exit 2)."""
    config = model_config(args)
    if args.backend == "model":
        if args.examples is not None:
            raise UsageError("--examples compares the model with an apiserver: give a cluster "
                             "--backend (e.g. --backend kwok)")
        if not args.paths:
            raise UsageError("give manifest PATHs to validate")
        return validate_manifests(args.paths, config).emit()  # each StatefulSet on its own
    if args.paths and args.examples is not None:
        raise UsageError("give either manifest PATHs or --examples, not both")
    if not args.paths and args.examples is None:
        raise UsageError("give manifest PATHs, or --examples N to generate them")
    if args.paths:
        report = validate_manifests(args.paths, config)  # reading problems: exit 2 first
        sets = [d.body for d in sort_documents(read_documents(args.paths)).statefulsets]
        code = report.emit()
        with real_cluster(args) as cluster:
            summary = run_dry_runs(cluster, sets, (), config, progress=say)
        print(summary.render(verbose=True), flush=True)
        return EXIT_FAILED if not summary.ok else code
    manifests = generate_manifests(args.examples, config, seed=args.seed)
    with real_cluster(args) as cluster:
        print(f"sts-props: {len(manifests)} generated StatefulSets and {len(update_cases())} "
              f"updates, model vs the apiserver of {cluster.name} ({cluster.version()})",
              flush=True)
        summary = run_dry_runs(cluster, manifests, update_cases(), config, progress=say)
    print(summary.render(verbose=args.verbose), flush=True)
    return EXIT_FAILED if not summary.ok else 0
