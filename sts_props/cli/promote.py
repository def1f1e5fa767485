"""``sts-props promote``: copy a plan into the regression suite.

Usage::

    sts-props promote plan.yaml --name parallel-rollout-livelock \\
        --tag "should perform rolling updates and roll backs of template modifications"

Copies the plan into ``tests/regressions/<name>.yaml`` (the regression suite,
``tests/test_regressions.py``) with its name, upstream tag and where it came from; it never
overwrites a file. A bad plan file, name or target is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

from sts_props.cli.arguments import add_command, check_output_dir, path, text
from sts_props.cli.exit_codes import EXIT_OK
from sts_props.errors import PlanError
from sts_props.plan import Plan
from sts_props.replay import check_promotable

if TYPE_CHECKING:
    from sts_props.cli.options import Subparsers

__all__ = ["REGRESSIONS_DIR", "add_parser", "run"]

REGRESSIONS_DIR = Path("tests/regressions")
_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


def add_parser(sub: Subparsers) -> None:
    """Register ``promote``."""
    promote = add_command(sub, "promote", "copy a plan into the regression suite", [
        "sts-props promote artifacts/20260101-120000-ab12/plan.yaml --name parallel-rollout",
        "sts-props promote plan.yaml --name livelock --tag \"should perform rolling updates\""])
    promote.add_argument("plan", type=path, help="a plan.yaml")
    promote.add_argument("--name", type=_plan_name, default=None,
                         help="file and plan name: lowercase letters, digits and dashes "
                              "(default: the plan's name)")
    promote.add_argument("--tag", type=text, default=None, metavar="UPSTREAM_TEST",
                         help="the upstream e2e test it generalises (its It(...) text; "
                              "default: the plan's own, if any)")
    promote.add_argument("--into", type=path, default=REGRESSIONS_DIR, metavar="DIR",
                         help="the regression directory (it must exist)")


def _plan_name(value: str) -> str:
    """``--name``: checked when parsed, like every flag value (each time it is given)."""
    if not _NAME.fullmatch(value):
        raise argparse.ArgumentTypeError(
            f"{value!r}: use lowercase letters, digits and dashes (at most 63), e.g. "
            "parallel-rollout-livelock")
    return value


def _path_text(source: Path) -> str:
    """``source`` as text a plan can hold: a byte of the name that is not UTF-8 is written as
    ``\\xff``. Left a lone surrogate (how Python keeps such a byte), the promoted plan could
    not be loaded again.

    >>> _path_text(Path("/tmp/p\\udcff.yaml"))
    '/tmp/p\\\\xff.yaml'
    """
    return os.fsencode(source).decode("utf-8", "backslashreplace")


def run(args: argparse.Namespace) -> int:
    """Promote the plan; every refusal is a PlanError (exit 2)."""
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
    check_output_dir(args.into, "--into")  # writable: checked before anything is written
    target = args.into / f"{name}.yaml"
    taken = PlanError(f"{target}: already exists; promote refuses to overwrite a "
                      "regression plan (choose another --name)")
    if target.exists() or target.is_symlink():  # a dangling link exists too: open("x") fails
        raise taken
    promoted = dataclasses.replace(plan, name=name, upstream=args.tag or plan.upstream)
    promoted = promoted.with_origin(
        promotedFrom=_path_text(args.plan), promotedAt=time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                              time.gmtime()),
        foundOn=f"{plan.backend} ({plan.k8s_version})")
    # exclusive creation: two promotions racing for one name cannot overwrite each other
    try:
        with target.open("x", encoding="utf-8") as out:
            out.write(promoted.dumps())
    except FileExistsError:
        raise taken from None
    print(f"promoted {args.plan} to {target}"
          + (f" (upstream: {promoted.upstream})" if promoted.upstream else ""))
    print(f"  run it: python -m pytest tests/test_regressions.py -k {name}")
    return EXIT_OK
