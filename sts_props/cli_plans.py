"""``sts-props replay`` and ``sts-props promote``: working with plan files.

Examples::

    sts-props replay artifacts/20260101-120000-ab12/plan.yaml            # on the plan's backend
    sts-props replay plan.yaml --backend model                            # on the model only
    sts-props replay plan.yaml --backend kubeconfig --kubeconfig KUBECONFIG
    sts-props promote plan.yaml --name parallel-rollout-livelock \\
        --tag "should perform rolling updates and roll backs of template modifications"

``replay`` runs the plan, prints the verdict and every violation, writes the artifacts of a
failing run (a new directory under ``--artifacts``) and exits 1 if it fails, 0 if it passes.
``promote`` copies a plan into ``tests/regressions/<name>.yaml`` (the regression suite,
``tests/test_regressions.py``) with its name, upstream tag and where it came from; it never
overwrites a file. A bad plan file is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
import time
from pathlib import Path
from typing import Any

from sts_props.cli_options import add_connection_options
from sts_props.cluster.base import Cluster, ClusterError
from sts_props.plan import BACKENDS, Plan, PlanError, check_promotable
from sts_props.replay import PlanRun, run_plan_on_cluster, run_plan_on_model

PLAN_COMMANDS = ("replay", "promote")
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
REGRESSIONS_DIR = Path("tests/regressions")
_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


def add_plan_parsers(sub: Any) -> None:
    """Register ``replay`` and ``promote`` on the ``sts-props`` sub-command parser."""
    replay = sub.add_parser("replay", help="run a plan file again (e.g. an artifacts/ plan)")
    replay.add_argument("plan", type=Path, help="a plan.yaml")
    replay.add_argument("--backend", default=None, choices=list(BACKENDS),
                        help="where to run it (default: the backend recorded in the plan); "
                             "kwok and kubeconfig also run the model and compare")
    add_connection_options(replay)
    replay.add_argument("--artifacts", type=Path, default=Path("artifacts"),
                        help="where a failing run's files go (default artifacts/)")

    promote = sub.add_parser("promote", help="copy a plan into the regression suite")
    promote.add_argument("plan", type=Path, help="a plan.yaml")
    promote.add_argument("--name", default=None,
                         help="file and plan name: lowercase letters, digits and dashes "
                              "(default: the plan's name)")
    promote.add_argument("--tag", default=None, metavar="UPSTREAM_TEST",
                         help="the upstream e2e test it generalises (its It(...) text)")
    promote.add_argument("--into", type=Path, default=REGRESSIONS_DIR,
                         help=f"the regression directory (default {REGRESSIONS_DIR})")


def run_plan_command(args: argparse.Namespace) -> int:
    """Run ``replay`` or ``promote``; errors are one line on stderr (exit 2)."""
    try:
        if args.command == "replay":
            return _replay(args)
        return _promote(args)
    except (PlanError, ClusterError) as exc:
        print(f"sts-props: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("sts-props: interrupted", file=sys.stderr)
        return 130


def _replay(args: argparse.Namespace) -> int:
    plan = Plan.load(args.plan)
    backend = args.backend or plan.backend
    print(f"sts-props: replaying {args.plan} ({len(plan.ops)} ops, Kubernetes "
          f"{plan.k8s_version}) on {backend}", flush=True)
    if backend == "model":
        run = run_plan_on_model(plan)
    else:
        with _cluster(args, plan, backend) as cluster:
            run = run_plan_on_cluster(plan, cluster)
    return _report(run, dataclasses.replace(plan, backend=backend), args.artifacts)


def _cluster(args: argparse.Namespace, plan: Plan, backend: str) -> Cluster:
    if backend == "kwok":
        from sts_props.cluster.kwok import KwokCluster

        # the one backend that can start its control plane with the plan's gates
        return KwokCluster(plan.k8s_version, feature_gates=dict(plan.gates),
                           progress=lambda line: print(f"kwok: {line}", flush=True))
    from sts_props.cluster.backends import make_cluster

    if plan.gates:
        print(f"sts-props: note: the plan's feature gates apply to the model only; the "
              f"{backend} cluster runs with its own", flush=True)
    return make_cluster(backend, plan.k8s_version,
                        progress=lambda line: print(line, flush=True),
                        kubeconfig=args.kubeconfig, context=args.context,
                        allow_existing=args.allow_existing_cluster)


def _report(run: PlanRun, plan: Plan, artifacts: Path) -> int:
    print(run.verdict(), flush=True)
    if run.stopped:
        print(f"  (comparison stopped at a documented livelock: {run.stopped})")
    for v in run.violations:
        print(f"  - {v.describe()}")
    if run.ok:
        return EXIT_OK
    from sts_props.report import write_artifacts

    where = write_artifacts(artifacts, plan, run.history, run.violations, run.model_history)
    print(f"artifacts: {where} (explanation.md, timeline.svg, plan.yaml, history.jsonl)")
    return EXIT_FAILED


def _promote(args: argparse.Namespace) -> int:
    plan = Plan.load(args.plan)
    check_promotable(plan, str(args.plan))
    name = args.name or plan.name
    if not name:
        raise PlanError(f"{args.plan}: the plan has no name; give one with --name")
    if not _NAME.fullmatch(name):
        raise PlanError(f"--name {name!r}: use lowercase letters, digits and dashes "
                        "(at most 63), e.g. parallel-rollout-livelock")
    if not args.into.is_dir():
        raise PlanError(f"{args.into}: not a directory (run from the repository root, or "
                        "give --into)")
    target = args.into / f"{name}.yaml"
    if target.exists():
        raise PlanError(f"{target}: already exists; promote refuses to overwrite a "
                        "regression plan (choose another --name)")
    promoted = dataclasses.replace(plan, name=name, upstream=args.tag or plan.upstream)
    promoted = promoted.with_origin(
        promotedFrom=str(args.plan), promotedAt=time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                              time.gmtime()),
        foundOn=f"{plan.backend} ({plan.k8s_version})")
    # exclusive creation: two promotions racing for one name cannot overwrite each other
    with target.open("x", encoding="utf-8") as out:
        out.write(promoted.dumps())
    print(f"promoted {args.plan} to {target}"
          + (f" (upstream: {promoted.upstream})" if promoted.upstream else ""))
    print(f"  run it: python -m pytest tests/test_regressions.py -k {name}")
    return EXIT_OK
