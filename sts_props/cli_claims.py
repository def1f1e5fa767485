"""``sts-props claims``: the seed tutorial's four claims, each with a verdict and its evidence.

Usage::

    sts-props claims                                  # verdicts on the model
    sts-props claims --backend kwok --k8s-version v1.36.3 --manifests ../shared/seed/
    sts-props claims --backend kubeconfig --kubeconfig /path/to/kubeconfig

On the model each claim gets *holds*, *holds under conditions* (naming each condition and its
rule) or *does not hold* (:mod:`sts_props.claims`), and every verdict comes with the minimal
counterexamples that show it, printed as YAML plans (the ops, plus the StatefulSet spec fields
that differ from the base manifests; ``--plans DIR`` writes the full replayable scenario files).

On a cluster backend each counterexample, and a few scenarios that kept the claim on the model,
are replayed through the differential runner; the claim is then checked on the *cluster's*
History. The verdict is confirmed when every counterexample breaks the claim there too and every
sample keeps it.

Exit codes: 0 every verdict computed (and, on a cluster, confirmed); 1 the cluster disagreed
with the model on a claim; 2 bad input.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sts_props.claims import CLAIMS, SeedClaim, Verdict, evaluate_claim
from sts_props.cli_options import add_connection_options
from sts_props.model import ModelConfig
from sts_props.scenario import ManifestError, Manifests, Scenario


def add_backend_options(parser: argparse.ArgumentParser, default_version: str) -> None:
    """The backend options shared with ``check`` (same names, same meaning)."""
    parser.add_argument("--backend", default="model",
                        choices=["model", "kwok", "kwok-image", "k3s", "kubeconfig"],
                        help="model only (default), or also run on a cluster started for this "
                             "run (kwok, kwok-image, k3s) or an existing one from a kubeconfig")
    add_connection_options(parser)
    parser.add_argument("--k8s-version", default=default_version,
                        help=f"Kubernetes version to model and run (default {default_version})")
    parser.add_argument("--manifests", type=Path, action="append", default=[],
                        help="base manifests (file or directory, repeatable; default: the "
                             "seed's Redis StatefulSet)")
    parser.add_argument("--seed", type=int, default=None, help="random seed, for a repeat run")


def add_claims_parser(sub: Any, default_version: str) -> None:
    """Register ``claims`` on the ``sts-props`` subcommand parser."""
    p = sub.add_parser("claims", help="check the seed's four claims: verdicts and "
                                      "minimal counterexamples (model, optionally a cluster)")
    add_backend_options(p, default_version)
    p.add_argument("--examples", type=int, default=100,
                   help="scenarios per claim under its conditions (default 100)")
    p.add_argument("--search", type=int, default=300,
                   help="search budget per condition for a counterexample (default 300)")
    p.add_argument("--claim", type=int, action="append", choices=[c.number for c in CLAIMS],
                   help="only this claim (repeatable)")
    p.add_argument("--samples", type=int, default=1,
                   help="on a cluster: passing scenarios per claim replayed as well (default 1)")
    p.add_argument("--plans", type=Path, default=None, metavar="DIR",
                   help="write every counterexample as a full plan file into DIR")
    p.set_defaults(run=run_claims)


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
    text = yaml.safe_dump(plan_summary(scenario, base), sort_keys=False, width=96)
    return "\n".join(indent + line for line in text.splitlines())


# -- cluster confirmation --------------------------------------------------------------
@dataclass
class Replay:
    """One scenario replayed on the cluster: does the claim break there as on the model?"""

    label: str
    expect_broken: bool
    cluster_why: str | None
    differential: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def agrees(self) -> bool:
        return (self.cluster_why is not None) == self.expect_broken

    def render(self) -> str:
        seen = f"breaks it: {self.cluster_why}" if self.cluster_why else "keeps the claim"
        mark = "ok" if self.agrees else "DIFFERS"
        diff = (f"; model vs cluster: {len(self.differential)} difference(s), first: "
                f"{self.differential[0]}") if self.differential else ""
        return f"    [{mark}] {self.label}: on the cluster it {seen} ({self.seconds:.0f}s){diff}"


def confirm_on_cluster(verdict: Verdict, cluster: Any, config: ModelConfig, samples: int,
                       say: Any = print) -> list[Replay]:
    """Replay ``verdict``'s counterexamples and ``samples`` passing scenarios on ``cluster``."""
    from sts_props.differential import run_differential
    from sts_props.suite import cap_min_ready

    jobs = [(label, sc, True) for label, sc, _ in verdict.witnesses()]
    jobs += [(f"sample {i} (met every condition)", sc, False)
             for i, sc in enumerate(verdict.samples[:samples], 1)]
    out: list[Replay] = []
    for label, scenario, broken in jobs:
        say(f"  claim {verdict.claim.number}: replaying {label} ({len(scenario.ops)} ops)")
        # every op, whatever the model says: the claim is judged on the cluster's own History
        result = run_differential(cap_min_ready(scenario), cluster, config,
                                  stop_at_divergence=False)
        why = verdict.claim.check(result.cluster_history)
        out.append(Replay(label, broken, why, [v.describe() for v in result.violations],
                          result.seconds))
        say(out[-1].render())
    return out


# -- the command ----------------------------------------------------------------------
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


def _write_plans(directory: Path, verdicts: list[Verdict]) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for v in verdicts:
        for i, (label, sc, why) in enumerate(v.witnesses(), 1):
            path = directory / f"claim{v.claim.number}-{i}.yaml"
            named = Scenario(sc.manifests, sc.ops, f"claim {v.claim.number}, {label}: {why}")
            path.write_text(named.to_yaml(), encoding="utf-8")
            written.append(path)
    return written


def run_claims(args: argparse.Namespace, config: ModelConfig) -> int:
    """The ``claims`` command (see the module docstring)."""
    from sts_props.cli import EXIT_FAILED, EXIT_OK
    from sts_props.manifest_files import load_manifests

    if args.examples < 1 or args.search < 1 or args.samples < 0:
        raise ManifestError("--examples and --search must be at least 1, --samples at least 0")
    base = load_manifests(args.manifests, config) if args.manifests else Manifests.seed()
    chosen: list[SeedClaim] = [c for c in CLAIMS if not args.claim or c.number in args.claim]
    print(f"sts-props: the seed's claims on the model ({config.version}), "
          f"{args.examples} scenarios each, {args.search} per condition", flush=True)
    verdicts = []
    for claim in chosen:
        verdicts.append(evaluate_claim(claim, args.examples, args.search, base, config,
                                       args.seed))
        print(f"  claim {claim.number}: {verdicts[-1].status}", flush=True)

    replays: dict[int, list[Replay]] | None = None
    if args.backend != "model":
        from sts_props.cli import _real_cluster

        replays = {}
        with _real_cluster(args) as cluster:
            print(f"confirming on {cluster.name} ({cluster.version()})", flush=True)
            for v in verdicts:
                replays[v.claim.number] = confirm_on_cluster(v, cluster, config, args.samples)
    print()
    print(render_table(verdicts, replays))
    for v in verdicts:
        print()
        print(render_details(v, base))
        for r in (replays or {}).get(v.claim.number, []):
            print(r.render())
    if args.plans is not None:
        written = _write_plans(args.plans, verdicts)
        print(f"\nplans: {len(written)} files in {args.plans}")
    if replays is not None and not all(r.agrees for rs in replays.values() for r in rs):
        return EXIT_FAILED
    return EXIT_OK


__all__ = ["add_backend_options", "add_claims_parser", "plan_summary", "render_table",
           "run_claims"]
