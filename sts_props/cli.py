"""The ``sts-props`` command.

Examples::

    sts-props check --backend model --examples 1000 --manifests ../shared/seed/
    sts-props check --backend kwok --examples 30 --manifests ../shared/seed/
    sts-props seed --backend kwok          # the seed tutorial end to end on a real cluster
    sts-props cluster build --k8s-version v1.37.2
    sts-props validate ../shared/seed/redis-statefulset-demo.yaml

Exit codes: 0 all good, 1 a property failed (the counterexample is printed), 2 bad input (one
line on stderr naming the file and the rule; never a traceback).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sts_props.cli_options import add_connection_options
from sts_props.cluster.base import Cluster, ClusterError
from sts_props.manifest_files import load_manifests, validate_manifests
from sts_props.model import ModelConfig
from sts_props.scenario import ManifestError, Manifests
from sts_props.seed_scenario import SeedReport, run_seed_scenario

if TYPE_CHECKING:
    from sts_props.cluster.kwok import KwokCluster

DEFAULT_VERSION = "v1.37.2"

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sts-props",
        description="Property-based conformance harness for Kubernetes StatefulSet semantics.")
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser("check", help="run the property suite on a backend")
    check.add_argument("--backend", default="model",
                       choices=["model", "kwok", "kwok-image", "k3s", "kubeconfig"],
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
    check.add_argument("--k8s-version", default=DEFAULT_VERSION,
                       help=f"Kubernetes version to model and run (default {DEFAULT_VERSION})")
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
    check.add_argument("--faults", action="store_true",
                       help="mix faults into the scenarios: pod kill/eviction, readiness "
                            "flaps, finalizer holds, node failure, controller and apiserver "
                            "restarts, "
                            "denied API writes (a backend skips, and names, those it cannot "
                            "perform); on a cluster at least 2 scenarios each get a restart, "
                            "a node failure and a write denial")

    from sts_props.cli_claims import add_claims_parser
    from sts_props.explore import add_explore_parser

    add_claims_parser(sub, DEFAULT_VERSION)
    add_explore_parser(sub, DEFAULT_VERSION)

    from sts_props.cli_mutants import add_mutants_parser

    add_mutants_parser(sub, DEFAULT_VERSION)

    from sts_props.cli_plans import add_plan_parsers

    add_plan_parsers(sub)  # replay, promote

    validate = sub.add_parser("validate", help="validate manifest files like the apiserver would")
    validate.add_argument("paths", type=Path, nargs="+")
    validate.add_argument("--k8s-version", default=DEFAULT_VERSION)

    seed = sub.add_parser("seed", help="run the seed scenario end to end on a real cluster")
    seed.add_argument("--backend", default="kwok", choices=["kwok", "kwok-image", "k3s"])
    seed.add_argument("--image", default=None, help="with kwok-image or k3s")

    doctor = sub.add_parser("doctor", help="can each backend run here? problems with fixes")
    doctor.add_argument("--backend", action="append", default=[],
                        choices=["kwok", "kwok-image", "k3s"],
                        help="check only this backend (repeatable; default: all)")
    doctor.add_argument("--k8s-version", default=DEFAULT_VERSION)
    doctor.add_argument("--image", default=None, help="the image kwok-image or k3s would use")
    seed.add_argument("--manifests", type=Path, action="append", default=[])
    seed.add_argument("--k8s-version", default=DEFAULT_VERSION)

    cluster = sub.add_parser(
        "cluster", help="kwok clusters: build the binaries, start one that stays up, stop, list")
    cluster.add_argument("action", choices=["build", "image", "up", "down", "status"],
                         help="build: the binaries; image: also the local kwok-image container "
                              "image (needs Docker); up/down/status: kwok clusters that stay up")
    cluster.add_argument("--k8s-version", default=DEFAULT_VERSION)
    cluster.add_argument("--name", default=None, help="with down: only this cluster")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command in ("replay", "promote"):  # the plan file carries its own version
        from sts_props.cli_plans import run_plan_command

        return run_plan_command(args)
    try:
        config = ModelConfig.for_version(args.k8s_version)
    except ValueError as exc:
        print(f"sts-props: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        if args.command == "validate":
            return validate_manifests(args.paths, config).emit()  # each StatefulSet alone
        if args.command == "check":
            return _check(args, config)
        if args.command == "seed":
            return _seed(args, config)
        if args.command == "cluster":
            return _cluster(args)
        if args.command == "doctor":
            return _doctor(args)
        if args.command in ("claims", "explore", "mutants"):
            return int(args.run(args, config))
    except ManifestError as exc:
        print(f"sts-props: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ClusterError as exc:
        print(f"sts-props: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt as exc:
        from sts_props.cluster.lifecycle import Terminated

        if isinstance(exc, Terminated):
            print("sts-props: terminated (SIGTERM); cleaned up", file=sys.stderr)
            return Terminated.exit_code
        print("sts-props: interrupted", file=sys.stderr)
        return 130
    return EXIT_BAD_INPUT  # pragma: no cover - argparse enforces the commands


def _check(args: argparse.Namespace, config: ModelConfig) -> int:
    from sts_props.suite import run_cluster_suite, run_model_suite

    if args.examples < 1:
        raise ManifestError("--examples must be at least 1")
    base = load_manifests(args.manifests, config) if args.manifests else None
    what = f"on {base.set_name} from {', '.join(map(str, args.manifests))}" if base else ""
    if args.backend == "model":
        print(f"sts-props: {args.examples} scenarios on the model ({config.version}) {what}"
              .rstrip(), flush=True)
        summary = run_model_suite(
            base=base, examples=args.examples, config=config, seed=args.seed,
            progress=lambda line: print(line, flush=True), database_dir=args.database,
            max_ops=args.max_ops or 20, max_replicas=args.max_replicas,
            artifacts_dir=Path("artifacts"), fault_kinds=_fault_kinds(args))
    else:
        with _real_cluster(args) as cluster:
            if args.backend == "k3s":  # the pinned image decides the version: model that one
                config = ModelConfig.for_version(cluster.version())
            if base is not None:
                _print_seed(run_seed_scenario(cluster, base))
            print(f"sts-props: {args.examples} scenarios, model vs {cluster.name} "
                  f"({cluster.version()}) {what}".rstrip(), flush=True)
            summary = run_cluster_suite(
                cluster, base=base, examples=args.examples, config=config, seed=args.seed,
                progress=lambda line: print(line, flush=True), database_dir=args.database,
                min_ops=args.min_ops, max_ops=args.max_ops or 12,
                max_replicas=args.max_replicas, fault_kinds=_fault_kinds(args))
    print(summary.render(), flush=True)
    if args.junit is not None:
        from sts_props.junit import write_junit

        write_junit(args.junit, summary)
        print(f"junit: {args.junit}", flush=True)
    return EXIT_OK if summary.ok else EXIT_FAILED


def _fault_kinds(args: argparse.Namespace) -> frozenset[str]:
    from sts_props.ops import FAULT_OPS

    return frozenset(FAULT_OPS) if args.faults else frozenset()


def _real_cluster(args: argparse.Namespace) -> Cluster:
    from sts_props.cluster.backends import make_cluster

    return make_cluster(args.backend, args.k8s_version,
                        progress=lambda line: print(line, flush=True),
                        kubeconfig=getattr(args, "kubeconfig", None),
                        context=getattr(args, "context", None),
                        allow_existing=getattr(args, "allow_existing_cluster", False),
                        image=getattr(args, "image", None))


def _kwok(version: str) -> KwokCluster:
    from sts_props.cluster.kwok import KwokCluster

    return KwokCluster(version, progress=lambda line: print(f"kwok: {line}", flush=True))


def _seed(args: argparse.Namespace, config: ModelConfig) -> int:
    base = load_manifests(args.manifests, config) if args.manifests else Manifests.seed()
    with _real_cluster(args) as cluster:
        report = run_seed_scenario(cluster, base)
    _print_seed(report)
    return EXIT_OK if report.ok else EXIT_FAILED


def _doctor(args: argparse.Namespace) -> int:
    from sts_props.doctor import BACKENDS, diagnose, render

    backends = args.backend or list(BACKENDS)
    findings = diagnose(backends, args.k8s_version, k3s_image=args.image,
                        kwok_image=args.image)
    print(render(findings))
    failed = [f for f in findings if not f.ok]
    print(f"{len(findings) - len(failed)} ok, {len(failed)} problem(s) "
          f"for {', '.join(backends)}")
    return EXIT_OK if not failed else EXIT_FAILED


def _print_seed(report: SeedReport) -> None:
    print(report.render(), flush=True)


def _cluster(args: argparse.Namespace) -> int:
    from sts_props.cluster import registry
    from sts_props.cluster.binaries import build_binaries, find_binaries
    from sts_props.cluster.kwok import KwokCluster

    if args.action == "build":
        bins = build_binaries(args.k8s_version, progress=lambda line: print(line, flush=True))
        print(f"binaries for {args.k8s_version}: {bins.bin_dir}")
        return EXIT_OK
    if args.action == "image":
        from sts_props.cluster.kwok_image import prepare_image

        tag = prepare_image(args.k8s_version, progress=lambda line: print(line, flush=True))
        print(f"kwok-image for {args.k8s_version}: {tag}")
        return EXIT_OK
    if args.action == "up":
        cluster = _kwok(args.k8s_version)
        cluster.start()
        cluster.detach()
        print(f"cluster {cluster.cluster_name} is up ({cluster.version()})\n"
              f"  kubeconfig: {cluster.kubeconfig()}\n"
              f"  use it:     sts-props check --backend kubeconfig --kubeconfig "
              f"{cluster.kubeconfig()}\n"
              f"  stop it:    sts-props cluster down --name {cluster.cluster_name}")
        return EXIT_OK
    kwoks = [e for e in registry.entries() if e.backend == "kwok"]
    if args.action == "down":
        chosen = [e for e in kwoks if args.name in (None, e.name)]
        if args.name and not chosen:
            print(f"sts-props: error: no registered kwok cluster named {args.name}",
                  file=sys.stderr)
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
    return EXIT_OK if found else EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
