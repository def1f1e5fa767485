"""``sts-props seed``: the seed tutorial's scenario end to end on a real cluster.

Usage::

    sts-props seed                                   # on a kwok cluster started for the run
    sts-props seed --backend k3s --manifests ../shared/seed/

Creates the StatefulSet, scales, updates and deletes it as the tutorial does, and prints each
step with what the cluster did. Exit code 0 if every step behaved as the tutorial says, 1 if not.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from sts_props.cli.arguments import add_command
from sts_props.cli.exit_codes import verdict
from sts_props.cli.options import (
    add_image_option,
    add_manifests_option,
    add_version_option,
    model_config,
    real_cluster,
)
from sts_props.defaults import STARTED_BACKENDS
from sts_props.manifest_files import load_manifests
from sts_props.scenario import Manifests
from sts_props.seed_scenario import run_seed_scenario

if TYPE_CHECKING:
    from sts_props.cli.options import Subparsers

__all__ = ["add_parser", "run"]


def add_parser(sub: Subparsers) -> None:
    """Register ``seed``."""
    seed = add_command(sub, "seed", "run the seed scenario end to end on a real cluster", [
        "sts-props seed",
        "sts-props seed --backend k3s --manifests ../shared/seed/"])
    seed.add_argument("--backend", default="kwok", choices=list(STARTED_BACKENDS),
                      help="the cluster started for this run")
    add_image_option(seed, "with kwok-image or k3s: the container image (default: kwok-image "
                           "builds sts-props/kwok-cluster locally; k3s uses its pinned tag)")
    add_manifests_option(seed, "the tutorial's manifest files or directory (repeatable; "
                               "default: the seed's Redis StatefulSet as shipped)")
    add_version_option(seed)


def run(args: argparse.Namespace) -> int:
    """Run the seed scenario; 0 if it went as the tutorial says, 1 if not."""
    config = model_config(args)
    base = load_manifests(args.manifests, config) if args.manifests else Manifests.seed()
    with real_cluster(args) as cluster:
        report = run_seed_scenario(cluster, base)
    print(report.render(), flush=True)
    return verdict(report.ok)
