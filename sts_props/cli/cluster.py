"""``sts-props cluster``: kwok clusters that outlive a run, and the binaries and image they need.

Usage::

    sts-props cluster build --k8s-version v1.37.2   # the control-plane binaries (once, from source)
    sts-props cluster build --patch FILE.diff       # also a kube-controller-manager built from
                                                    # that diff of k8s.io/kubernetes (its path)
    sts-props cluster image                         # also the local kwok-image container image
    sts-props cluster up                            # a kwok cluster that stays up; prints its
                                                    # kubeconfig for --backend kubeconfig
    sts-props cluster up --patch FILE.diff          # the same, with the patched controller
    sts-props cluster status                        # binaries built? which clusters are up?
    sts-props cluster down [--name NAME]            # stop them (or one)

Exit codes: 0 done; 1 ``status`` found no binaries; 2 ``down --name`` names no cluster, or a
``--patch`` that does not apply; 3 a build or start that failed.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from sts_props.cli.arguments import add_command, text
from sts_props.cli.console import print_error, say
from sts_props.cli.exit_codes import EXIT_BAD_INPUT, EXIT_OK, UsageError, verdict
from sts_props.cli.options import add_patch_option, add_version_option, build_patch, model_config
from sts_props.cluster import registry
from sts_props.cluster.kwok import KwokCluster
from sts_props.cluster.kwok.binaries import build_binaries, find_binaries
from sts_props.cluster.kwok_image.cluster import prepare_image

if TYPE_CHECKING:
    from sts_props.cli.options import Subparsers

__all__ = ["add_parser", "run"]


def add_parser(sub: Subparsers) -> None:
    """Register ``cluster``."""
    cluster = add_command(
        sub, "cluster", "kwok clusters: build the binaries, start one that stays up, stop, list", [
            "sts-props cluster build --k8s-version v1.37.2",
            "sts-props cluster build --patch my-controller-change.diff",
            "sts-props cluster up",
            "sts-props cluster status",
            "sts-props cluster down --name sts-props-59b3cc"])
    cluster.add_argument("action", choices=["build", "image", "up", "down", "status"],
                         help="build: the binaries; image: also the local kwok-image container "
                              "image (needs Docker); up/down/status: kwok clusters that stay up")
    add_version_option(cluster, "Kubernetes version to build, start or look for")
    cluster.add_argument("--name", type=text, default=None,
                         help="with down: only this cluster (default: every one that is up)")
    add_patch_option(cluster, "with build: also build, with up: run")


def run(args: argparse.Namespace) -> int:
    """Do ``args.action`` (see the module docstring)."""
    model_config(args)  # a --k8s-version that is not a version is bad input, as everywhere
    if args.patch is not None and args.action not in ("build", "up"):
        raise UsageError(f"--patch goes with build or up, not {args.action}")
    if args.action == "build":
        # The patched build first: a diff that does not apply is refused before any build.
        patched = build_patch(args.patch, args.k8s_version) if args.patch else None
        bins = build_binaries(args.k8s_version, progress=say)
        print(f"binaries for {args.k8s_version}: {bins.bin_dir}")
        if patched is not None:
            print(f"patched kube-controller-manager for {args.k8s_version} ({args.patch}): "
                  f"{patched}")
        return EXIT_OK
    if args.action == "image":
        tag = prepare_image(args.k8s_version, progress=say)
        print(f"kwok-image for {args.k8s_version}: {tag}")
        return EXIT_OK
    if args.action == "up":
        controller = build_patch(args.patch, args.k8s_version) if args.patch else None
        return _up(args.k8s_version, controller)
    kwoks = [e for e in registry.entries() if e.backend == "kwok"]
    if args.action == "down":
        chosen = [e for e in kwoks if args.name in (None, e.name)]
        if args.name and not chosen:
            print_error(f"no registered kwok cluster named {args.name}")
            return EXIT_BAD_INPUT
        for entry in chosen:
            KwokCluster.adopt(entry).stop()
            print(f"cluster {entry.name}: stopped")
        if not chosen:
            print("no kwok clusters are up")
        return EXIT_OK
    found = find_binaries(args.k8s_version)
    print(f"binaries for {args.k8s_version}: "
          + (str(found.bin_dir) if found else "not built (run: sts-props cluster build)"))
    for entry in kwoks:
        print(f"cluster {entry.name}: {entry.server} (kubeconfig {entry.kubeconfig})")
    if not kwoks:
        print("no kwok clusters are up")
    return verdict(found is not None)


def _up(version: str, controller: Path | None = None) -> int:
    cluster = KwokCluster(version, progress=lambda line: say(f"kwok: {line}"),
                          controller_manager=controller)
    cluster.start()
    cluster.detach()
    print(f"cluster {cluster.cluster_name} is up ({cluster.version()})\n"
          f"  kubeconfig: {cluster.kubeconfig()}\n"
          f"  use it:     sts-props check --backend kubeconfig --kubeconfig "
          f"{cluster.kubeconfig()}\n"
          f"  stop it:    sts-props cluster down --name {cluster.cluster_name}")
    return EXIT_OK
