"""``sts-props explore``: the two-tier search (:mod:`sts_props.explore`) from the command line.

Usage::

    sts-props explore --budget 10m --backend kwok --manifests ../shared/seed/
    sts-props explore --budget 2m --model-examples 3000 --backend model    # tier one only

Thousands of scenarios on the model, steered toward interesting states, then the most diverse
of them replayed differentially on the cluster while the budget lasts. Prints what each tier
did and the coverage; exit code 0 if no replayed scenario failed, 1 if one did (its artifacts
are written under ``artifacts/``), 2 bad input, 3 no cluster.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sts_props.cli.arguments import add_command, check_output_dir, duration, whole
from sts_props.cli.exit_codes import verdict
from sts_props.cli.guard import signal_name
from sts_props.cli.options import (
    add_artifacts_option,
    add_backend_options,
    add_gate_option,
    add_jobs_option,
    add_max_replicas_option,
    add_patch_option,
    check_cluster_inputs,
    jobs_of,
    model_config,
    patched_controller,
    real_cluster,
    refuse_model_jobs,
)
from sts_props.coverage import Coverage
from sts_props.explore import (
    MODEL_SHARE,
    ClusterTier,
    Found,
    ModelTier,
    ProgressBar,
    clock,
    explore_model,
    pick_diverse,
    replay_on_cluster,
)
from sts_props.manifest_files import load_manifests

if TYPE_CHECKING:
    from sts_props.cli.options import Subparsers

__all__ = ["add_parser", "render_summary", "run"]


def add_parser(sub: Subparsers) -> None:
    """Register ``explore``."""
    p = add_command(sub, "explore", "two-tier search: thousands of scenarios on the model "
                                    "toward interesting states, a diverse subset on a cluster", [
        "sts-props explore --budget 2m --model-examples 3000 --backend model",
        "sts-props explore --budget 10m --backend kwok --manifests ../shared/seed/"])
    add_backend_options(p)
    add_gate_option(p)
    p.add_argument("--budget", type=duration, default="10m", metavar="DURATION",
                   help="wall-time budget for the whole run, e.g. 10m, 90s, 1h")
    p.add_argument("--model-examples", type=whole(1), default=3000, metavar="N",
                   help="scenarios tried on the model")
    p.add_argument("--subset", type=whole(1), default=60, metavar="N",
                   help="largest diverse subset kept for the cluster")
    p.add_argument("--max-ops", type=whole(1), default=12, metavar="N",
                   help="most ops per scenario after the create")
    add_max_replicas_option(p)
    add_artifacts_option(p, "on a cluster: ")
    add_jobs_option(p, "in the cluster tier: ")
    add_patch_option(p)


def run(args: argparse.Namespace) -> int:
    """The ``explore`` command (see the module docstring).

    Interrupted (Ctrl-C, SIGTERM), it prints what each tier did up to then before the
    interrupt goes on to :func:`~sts_props.cli.app.main`.
    """
    config = model_config(args)
    budget: float = args.budget
    check_output_dir(args.artifacts, "--artifacts")  # on the model too: a bad value is bad
    refuse_model_jobs(args, "runs the cluster tier's scenarios side by side")
    patched_controller(args)  # refuse --patch off kwok, or build it, before the model tier
    base = load_manifests(args.manifests, config) if args.manifests else None
    check_cluster_inputs(args)
    started = time.monotonic()
    share = budget if args.backend == "model" else budget * MODEL_SHARE
    bar = ProgressBar(sys.stdout)  # the guarded stdout, read when called (sts_props.cli.guard)
    print(f"sts-props explore: up to {args.model_examples} scenarios on the model "
          f"({config.version}) in at most {clock(share)}", flush=True)
    every = max(1, args.model_examples // 10)

    def tick(n: int) -> None:
        if n % every == 0 or bar.tty:
            bar.update(n, args.model_examples, time.monotonic() - started, share, "model")

    model = ModelTier()
    subset: list[Found] = []
    cluster_tier: ClusterTier | None = None
    try:
        explore_model(base, args.model_examples, config, share, args.seed, args.max_ops,
                      args.max_replicas, tick, tier=model)
        bar.close()
        subset = pick_diverse(model.found, args.subset)
        if args.backend != "model":
            with real_cluster(args) as cluster:
                left = budget - (time.monotonic() - started)
                print(f"cluster tier: {len(subset)} scenarios, most diverse first, on "
                      f"{cluster.name} ({cluster.version()}), {clock(left)} left", flush=True)
                cluster_tier = ClusterTier()
                replay_on_cluster(subset, cluster, config, left, bar, args.artifacts,
                                  tier=cluster_tier, jobs=jobs_of(args, args.backend))
    except KeyboardInterrupt as stop:
        with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C: stop now
            bar.close()
            print(f"sts-props: interrupted ({signal_name(stop)}): what ran until then",
                  flush=True)
            print(render_summary(model, subset, cluster_tier), flush=True)
        raise
    print(render_summary(model, subset, cluster_tier), flush=True)
    print(f"wall time: {time.monotonic() - started:.0f}s (budget {budget:.0f}s)", flush=True)
    return verdict(cluster_tier is None or not cluster_tier.failures)


def render_summary(model: ModelTier, subset: Sequence[Found], cluster: ClusterTier | None
                   ) -> str:
    """What each tier did: scenarios, features covered, the cluster's failures, coverage."""
    lines = [f"model tier: {model.examples} scenarios in {model.seconds:.1f}s"
             + (" (stopped by its time share)" if model.stopped_by_time else "")
             + f", {len(model.found)} distinct",
             "  highest seen: " + ", ".join(f"{k} {v:g}" for k, v in model.best.items())]
    features = set().union(*(f.features for f in model.found)) if model.found else set()
    picked = set().union(*(f.features for f in subset)) if subset else set()
    lines.append(f"diverse subset: {len(subset)} scenarios covering {len(picked)} of "
                 f"{len(features)} features seen on the model"
                 + (f" (the first {_cover_point(subset)} already cover them)"
                    if subset and picked == features else ""))
    if cluster is None:
        sub_cov = Coverage()
        for f in subset:
            sub_cov.record(f.scenario)
        lines.append(sub_cov.render())
        return "\n".join(lines)
    lines.append(f"cluster tier: {cluster.ran} of {len(subset)} scenarios in "
                 f"{cluster.seconds:.0f}s (its share of the budget: {cluster.budget:.0f}s): "
                 f"{cluster.ok} ok, "
                 f"{len(cluster.failures)} failed"
                 + (f", {cluster.livelocks} reached livelock F-1" if cluster.livelocks else "")
                 + (f", {cluster.known} met a known upstream deviation (compared up to it)"
                    if cluster.known else "")
                 + (f", {cluster.cut_off} cut off by the budget" if cluster.cut_off else "")
                 + (f", {cluster.skipped} not started (budget)" if cluster.skipped else ""))
    for sc, why, where in cluster.failures:
        lines.append(f"  - {len(sc.ops)} ops: {why}\n    artifacts: {where}")
    if cluster.ran:
        lines.append(cluster.coverage.render())
    return "\n".join(lines)


def _cover_point(subset: Sequence[Found]) -> int:
    """How many of the first picks it takes to cover every feature of ``subset``."""
    everything = set().union(*(f.features for f in subset))
    covered: set[str] = set()
    for i, f in enumerate(subset, 1):
        covered |= f.features
        if covered == everything:
            return i
    return len(subset)
