"""``sts-props claims``: the seed tutorial's four claims, each with a verdict and its evidence.

Usage::

    sts-props claims                                  # verdicts on the model
    sts-props claims --backend kwok --k8s-version v1.36.3 --manifests ../shared/seed/
    sts-props claims --backend kubeconfig --kubeconfig /path/to/kubeconfig
    sts-props claims --backend kwok --jobs 1          # one replay at a time (default: 3 a core)

On the model each claim gets *holds*, *holds under conditions* (naming each condition and its
rule) or *does not hold* (:mod:`sts_props.claims`), and every verdict comes with the minimal
counterexamples that show it, printed as YAML plans (the ops, plus the StatefulSet spec fields
that differ from the base manifests; ``--plans DIR`` writes the full replayable scenario files).

On a cluster backend each counterexample, and a few scenarios that kept the claim on the model,
are replayed through the differential runner; the claim is then checked on the *cluster's*
History (:func:`sts_props.claims.confirm_on_cluster`), up to ``--jobs`` replays side by side.
The verdict is confirmed when every counterexample breaks the claim there too and every
sample keeps it.

Exit codes: 0 every verdict computed (and, on a cluster, confirmed); 1 the cluster disagreed
with the model on a claim; 2 bad input; 3 no cluster.

This module is the presentation: the verdict table, each verdict's details, the plan summaries.
"""

from __future__ import annotations

import argparse
import contextlib
from typing import TYPE_CHECKING, Any

import yaml

from sts_props.claims import (
    CLAIMS,
    Replay,
    SeedClaim,
    Verdict,
    confirm_on_cluster,
    evaluate_claim,
    plans_in_the_way,
    write_plans,
)
from sts_props.cli.arguments import add_command, check_output_dir, path, whole
from sts_props.cli.exit_codes import EXIT_FAILED, EXIT_OK, UsageError
from sts_props.cli.guard import signal_name
from sts_props.cli.options import (
    add_backend_options,
    add_jobs_option,
    check_cluster_inputs,
    jobs_of,
    model_config,
    real_cluster,
    refuse_model_jobs,
)
from sts_props.manifest_files import load_manifests
from sts_props.scenario import Manifests, Scenario

if TYPE_CHECKING:
    from sts_props.cli.options import Subparsers

__all__ = ["add_parser", "plan_summary", "plan_yaml", "render_details", "render_table", "run"]


def add_parser(sub: Subparsers) -> None:
    """Register ``claims``."""
    p = add_command(sub, "claims", "check the seed's four claims: verdicts and minimal "
                                   "counterexamples (model, optionally a cluster)", [
        "sts-props claims",
        "sts-props claims --claim 3 --examples 50 --seed 7 --plans plans/",
        "sts-props claims --backend kwok --manifests ../shared/seed/"])
    add_backend_options(p)
    p.add_argument("--examples", type=whole(1), default=100, metavar="N",
                   help="scenarios per claim under its conditions")
    p.add_argument("--search", type=whole(1), default=300, metavar="N",
                   help="search budget per condition for a counterexample")
    p.add_argument("--claim", type=whole(1, len(CLAIMS)), action="append", metavar="N",
                   help=f"only claim N, 1-{len(CLAIMS)} (repeatable; default: all of them)")
    p.add_argument("--samples", type=whole(0), default=None, metavar="N",
                   help="on a cluster: passing scenarios per claim replayed as well "
                        "(default 1)")
    add_jobs_option(p, "on a cluster backend, confirming the verdicts: ")
    p.add_argument("--plans", type=path, default=None, metavar="DIR",
                   help="write every counterexample as a full plan file into DIR (created if "
                        "missing; an earlier run's claim<N>-<i>.yaml of the same claims are "
                        "replaced)")


def run(args: argparse.Namespace) -> int:
    """The ``claims`` command (see the module docstring).

    Interrupted (Ctrl-C, SIGTERM), it prints the verdict table of the claims that finished
    before the interrupt goes on to :func:`~sts_props.cli.app.main`.
    """
    config = model_config(args)
    refuse_model_jobs(args, "replays the verdicts' scenarios side by side on a cluster")
    chosen: list[SeedClaim] = [c for c in CLAIMS if not args.claim or c.number in args.claim]
    if args.plans is not None:
        check_output_dir(args.plans, "--plans")
        blocked = plans_in_the_way(args.plans, [c.number for c in chosen])
        if blocked:
            raise UsageError(f"--plans {args.plans}: {blocked[0].name} is a directory; the "
                             "run writes its plans under such names (remove it, or choose "
                             "another --plans)")
    base = load_manifests(args.manifests, config) if args.manifests else Manifests.seed()
    check_cluster_inputs(args)
    print(f"sts-props: the seed's claims on the model ({config.version}), "
          f"{args.examples} scenarios each, {args.search} per condition", flush=True)
    verdicts: list[Verdict] = []
    replays: dict[int, list[Replay]] | None = None
    try:
        for claim in chosen:
            verdicts.append(evaluate_claim(claim, args.examples, args.search, base, config,
                                           args.seed))
            print(f"  claim {claim.number}: {verdicts[-1].status}", flush=True)
        if args.backend != "model":
            with real_cluster(args) as cluster:
                print(f"confirming on {cluster.name} ({cluster.version()})", flush=True)
                replays = confirm_on_cluster(verdicts, cluster, config,
                                             1 if args.samples is None else args.samples,
                                             jobs=jobs_of(args, args.backend))
    except KeyboardInterrupt as stop:
        with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C: stop now
            print(f"sts-props: interrupted ({signal_name(stop)}): the verdicts of the "
                  f"{len(verdicts)} of {len(chosen)} claims that finished on the model",
                  flush=True)
            if verdicts:
                print(render_table(verdicts, None), flush=True)
        raise
    print()
    print(render_table(verdicts, replays))
    for v in verdicts:
        print()
        print(render_details(v, base))
        for r in (replays or {}).get(v.claim.number, []):
            print(r.render())
    if args.plans is not None:
        written = write_plans(args.plans, verdicts)
        print(f"\nplans: {len(written)} files in {args.plans}")
    if replays is not None and not all(r.agrees for rs in replays.values() for r in rs):
        return EXIT_FAILED
    return EXIT_OK


# -- plans ------------------------------------------------------------------------------
def plan_summary(scenario: Scenario, base: Manifests) -> dict[str, Any]:
    """The parts of ``scenario`` a reader needs: spec fields changed from ``base``, and ops.

    >>> from sts_props.ops import Create, Scale
    >>> sc = Scenario(Manifests.seed(), (Create(), Scale(0)))
    >>> plan_summary(sc, Manifests.seed())
    {'ops': [{'op': 'create'}, {'op': 'scale', 'replicas': 0}]}
    """
    out: dict[str, Any] = {}
    spec = scenario.manifests.statefulset.get("spec") or {}
    base_spec = base.statefulset.get("spec") or {}
    changed = {k: v for k, v in spec.items() if base_spec.get(k) != v and k != "template"
               and k != "volumeClaimTemplates"}
    removed = sorted(k for k in base_spec if k not in spec)
    if changed:
        out["spec (changed from the base)"] = changed
    if removed:
        out["spec fields unset (API defaults apply)"] = removed
    if spec.get("volumeClaimTemplates") != base_spec.get("volumeClaimTemplates"):
        out["volumeClaimTemplates"] = [(t.get("metadata") or {}).get("name")
                                       for t in spec.get("volumeClaimTemplates") or []]
    if scenario.manifests.service_json != base.service_json:
        out["service"] = "none" if scenario.manifests.service is None else "changed"
    out["ops"] = [op.to_dict() for op in scenario.ops]
    return out


def plan_yaml(scenario: Scenario, base: Manifests, indent: str = "      ") -> str:
    """:func:`plan_summary` as indented YAML, as the details print it."""
    text = yaml.safe_dump(plan_summary(scenario, base), sort_keys=False, width=96)
    return "\n".join(indent + line for line in text.splitlines())


# -- the report ------------------------------------------------------------------------
def render_table(verdicts: list[Verdict], cluster: dict[int, list[Replay]] | None) -> str:
    """The verdict table: one row per claim, the conditions it needs, the cluster's answer."""
    head = f"{'claim':<40} {'verdict':<24} {'needs':<26}"
    head += " cluster" if cluster is not None else ""
    lines = [head, "-" * len(head)]
    for v in verdicts:
        needs = ", ".join(c.rule for c, _, _ in v.needed) or "-"
        row = f"{v.claim.number}. {v.claim.title:<37} {v.status:<24} {needs:<26}"
        if cluster is not None:
            replays = cluster.get(v.claim.number, [])
            agree = sum(r.agrees for r in replays)
            row += (f" confirmed ({agree}/{len(replays)})" if agree == len(replays)
                    else f" DIFFERS ({len(replays) - agree}/{len(replays)})")
        lines.append(row)
    return "\n".join(lines)


def render_details(v: Verdict, base: Manifests) -> str:
    """One verdict: its statement, each needed condition with its minimal counterexample."""
    lines = [f"Claim {v.claim.number} ({v.claim.title}): {v.status}, "
             f"{v.examples} scenarios met every condition",
             f"  statement: {v.claim.statement}"]
    if v.counterexample is not None:
        lines.append(f"  does not hold: {v.counterexample[1]}")
        lines.append("    minimal counterexample:")
        lines.append(plan_yaml(v.counterexample[0], base))
    for cond, sc, why in v.needed:
        lines.append(f"  holds only if {cond.name} [{cond.rule}]")
        lines.append(f"    without it: {why}")
        lines.append("    minimal counterexample:")
        lines.append(plan_yaml(sc, base))
    if not v.needed and v.counterexample is None:
        lines.append("  holds: breaking any one of its conditions gave no counterexample"
                     + (f" ({', '.join(c.rule for c in v.claim.conditions)})"
                        if v.claim.conditions else ""))
    if v.claim.note:
        lines.append(f"  note: {v.claim.note}")
    return "\n".join(lines)
