"""``sts-props doctor``: can each backend run here? Every problem comes with a one-line fix.

Usage::

    sts-props doctor                     # every backend sts-props starts itself
    sts-props doctor --backend kwok-image --backend k3s

Prints one line per check (:mod:`sts_props.doctor` makes them) and a count; exit code 0 if
nothing is wrong, 1 if a check found a problem.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from sts_props.cli.arguments import add_command
from sts_props.cli.exit_codes import verdict
from sts_props.cli.options import add_image_option, add_version_option, model_config
from sts_props.defaults import STARTED_BACKENDS
from sts_props.doctor import diagnose, render

if TYPE_CHECKING:
    from sts_props.cli.options import Subparsers

__all__ = ["add_parser", "run"]


def add_parser(sub: Subparsers) -> None:
    """Register ``doctor``."""
    doctor = add_command(sub, "doctor", "can each backend run here? problems with fixes", [
        "sts-props doctor",
        "sts-props doctor --backend kwok-image --backend k3s"])
    doctor.add_argument("--backend", action="append", default=[],
                        choices=list(STARTED_BACKENDS),
                        help="check only this backend (repeatable; default: all)")
    add_version_option(doctor, "Kubernetes version whose binaries and images are checked")
    add_image_option(doctor, "the image kwok-image or k3s would use (default: theirs)")


def run(args: argparse.Namespace) -> int:
    """Diagnose; 0 if every check passed, 1 if one found a problem."""
    model_config(args)  # a --k8s-version that is not a version is bad input, as everywhere
    backends = args.backend or list(STARTED_BACKENDS)
    findings = diagnose(backends, args.k8s_version, image=args.image)
    print(render(findings))
    failed = [f for f in findings if not f.ok]
    print(f"{len(findings) - len(failed)} ok, {len(failed)} problem(s) "
          f"for {', '.join(backends)}")
    return verdict(not failed)
