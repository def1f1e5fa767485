"""``sts-props replay``: run a plan file again.

Usage::

    sts-props replay artifacts/20260101-120000-ab12/plan.yaml            # on the plan's backend
    sts-props replay plan.yaml --backend model                            # on the model only
    sts-props replay plan.yaml --backend kubeconfig --kubeconfig KUBECONFIG
    sts-props replay plan.yaml --backend kwok --patch my-controller-change.diff

Runs the plan (:mod:`sts_props.replay`), prints the verdict and every violation, writes the
artifacts of a failing run (a new directory under ``--artifacts``) and exits 1 if it fails, 0
if it passes. A bad plan file is one line on stderr and exit code 2; a cluster that cannot be
had, exit code 3.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from sts_props.cli.arguments import add_command, check_output_dir, path
from sts_props.cli.console import say
from sts_props.cli.exit_codes import EXIT_FAILED, EXIT_OK
from sts_props.cli.guard import signal_name
from sts_props.cli.options import (
    add_artifacts_option,
    add_connection_options,
    add_patch_option,
    patched_controller,
)
from sts_props.cluster.backends import GATED_BACKENDS, make_cluster
from sts_props.defaults import BACKENDS
from sts_props.plan import Plan, PlanError
from sts_props.replay import PlanRun, run_plan_on_cluster, run_plan_on_model
from sts_props.report import write_artifacts
from sts_props.scenario import cluster_wait_problem

if TYPE_CHECKING:
    from sts_props.cli.options import Subparsers
    from sts_props.cluster.base import Cluster

__all__ = ["add_parser", "run"]


def add_parser(sub: Subparsers) -> None:
    """Register ``replay``."""
    replay = add_command(sub, "replay", "run a plan file again (e.g. an artifacts/ plan)", [
        "sts-props replay artifacts/20260101-120000-ab12/plan.yaml",
        "sts-props replay plan.yaml --backend model --artifacts /tmp/replays",
        "sts-props replay plan.yaml --backend kubeconfig --kubeconfig kc.yaml"])
    replay.add_argument("plan", type=path, help="a plan.yaml (as written under artifacts/)")
    replay.add_argument("--backend", default=None, choices=list(BACKENDS),
                        help="where to run it (default: the backend recorded in the plan); "
                             "kwok and kubeconfig also run the model and compare")
    add_connection_options(replay)
    add_artifacts_option(replay)
    add_patch_option(replay)


def run(args: argparse.Namespace) -> int:
    """Replay the plan (it carries its own Kubernetes version); 0 passed, 1 failed."""
    plan = Plan.load(args.plan)
    check_output_dir(args.artifacts, "--artifacts")
    backend = args.backend or plan.backend
    too_long = cluster_wait_problem(plan.scenario) if backend != "model" else ""
    if too_long:  # before any cluster starts
        raise PlanError(f"{args.plan}: {too_long}")
    controller = patched_controller(args, backend, plan.k8s_version)
    print(f"sts-props: replaying {args.plan} ({len(plan.ops)} ops, Kubernetes "
          f"{plan.k8s_version}) on {backend}", flush=True)
    try:
        if backend == "model":
            result = run_plan_on_model(plan, progress=say)
        else:
            with _cluster(args, plan, backend, controller) as cluster:
                result = run_plan_on_cluster(plan, cluster)
    except KeyboardInterrupt as stop:
        with contextlib.suppress(KeyboardInterrupt):
            say(f"sts-props: interrupted ({signal_name(stop)}) before the replay finished: "
                "no verdict")
        raise
    return _report(result, dataclasses.replace(plan, backend=backend), args.artifacts)


def _cluster(args: argparse.Namespace, plan: Plan, backend: str,
             controller: Path | None = None) -> Cluster:
    gates = dict(plan.gates)
    if gates and backend not in GATED_BACKENDS:
        print(f"sts-props: note: the plan's feature gates apply to the model only; the "
              f"{backend} cluster runs with its own", flush=True)
        gates = {}
    return make_cluster(backend, plan.k8s_version, progress=say,
                        kubeconfig=args.kubeconfig, context=args.context,
                        allow_existing=args.allow_existing_cluster,
                        controller_manager=controller, feature_gates=gates)


def _report(result: PlanRun, plan: Plan, artifacts: Path) -> int:
    print(result.verdict(), flush=True)
    if result.stopped:
        print(f"  (comparison stopped at a documented livelock: {result.stopped})")
    for line in result.known:
        print(f"  ({line})")
    for v in result.violations:
        print(f"  - {v.describe()}")
    if result.ok:
        return EXIT_OK
    where = write_artifacts(artifacts, plan, result.history, result.violations,
                            result.model_history, result.logs)
    print(f"artifacts: {where} (explanation.md, timeline.svg, plan.yaml, history.jsonl)")
    return EXIT_FAILED
