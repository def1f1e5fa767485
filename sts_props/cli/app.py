"""The ``sts-props`` parser, dispatch to the subcommand modules, and errors to exit codes.

Each subcommand is a module with the same two functions (:class:`Command`): ``add_parser(sub)``
registers its parser, ``run(args)`` does the work and returns the exit code. :func:`main` maps
the exceptions a command may end with to exit codes (:mod:`sts_props.cli.exit_codes`): one line
on stderr, never a traceback, for bad input (2) and for a cluster that could not be had (3).

>>> args = build_parser().parse_args(["validate", "sts_props/data"])
>>> args.command, [str(p) for p in args.paths], args.k8s_version
('validate', ['sts_props/data'], 'v1.37.2')
>>> list(COMMANDS)[:4]
['check', 'claims', 'explore', 'mutants']
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from sts_props.cli import (
    check,
    claims,
    cluster,
    doctor,
    explore,
    mutants,
    promote,
    replay,
    seed,
    validate,
)
from sts_props.cli.console import print_error
from sts_props.cli.exit_codes import EXIT_INTERRUPTED, EXIT_TERMINATED, exit_code_for
from sts_props.cluster.lifecycle import Terminated

if TYPE_CHECKING:
    from sts_props.cli.options import Subparsers

__all__ = ["COMMANDS", "Command", "build_parser", "main"]


class Command(Protocol):
    """What every subcommand module provides."""

    def add_parser(self, sub: Subparsers) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


#: subcommand name -> module, in the order ``sts-props --help`` lists them
COMMANDS: dict[str, Command] = {
    "check": check,
    "claims": claims,
    "explore": explore,
    "mutants": mutants,
    "replay": replay,
    "promote": promote,
    "validate": validate,
    "seed": seed,
    "doctor": doctor,
    "cluster": cluster,
}


def build_parser() -> argparse.ArgumentParser:
    """The ``sts-props`` parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="sts-props",
        description="Property-based conformance harness for Kubernetes StatefulSet semantics.")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS.values():
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: ``sys.argv[1:]``), run the subcommand, return the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command].run(args)
    except KeyboardInterrupt as exc:
        if isinstance(exc, Terminated):
            print("sts-props: terminated (SIGTERM); cleaned up", file=sys.stderr)
            return EXIT_TERMINATED
        print("sts-props: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        code = exit_code_for(exc)
        if code is None:
            raise  # not an error sts-props expects: a bug, with its traceback
        print_error(exc)
        return code
