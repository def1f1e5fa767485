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
import contextlib
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
from sts_props.cli.arguments import HelpFormatter, Parser, package_version
from sts_props.cli.console import print_error
from sts_props.cli.exit_codes import (
    EXIT_BAD_INPUT,
    EXIT_INTERRUPTED,
    EXIT_STDOUT_CLOSED,
    EXIT_TERMINATED,
    exit_code_for,
)
from sts_props.cli.guard import StdoutClosed, guarded
from sts_props.cli.options import refuse_ignored_flags
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
    # typed as the base class: the subcommand modules add plain ArgumentParsers (of this class,
    # which add_subparsers passes on)
    parser: argparse.ArgumentParser = Parser(
        prog="sts-props",
        description="Property-based conformance harness for Kubernetes StatefulSet semantics.",
        epilog=EPILOG, formatter_class=HelpFormatter)
    parser.add_argument("--version", action="version",
                        version=f"%(prog)s {package_version()}",
                        help="print the version of sts-props and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS.values():
        command.add_parser(sub)
    return parser


#: the top-level help's epilog: examples, and what the exit codes mean
EPILOG = """examples:
  sts-props check --backend model --examples 1000 --manifests ../shared/seed/
  sts-props check --backend kwok --examples 30
  sts-props validate ../shared/seed/redis-statefulset-demo.yaml
  sts-props check --help              # every flag of one command, with its default

exit codes:
  0  all good                 1  the run failed (a property, a claim on a cluster, ...)
  2  bad input (one line)     3  no cluster (it cannot run here, start, or be reached)
  130 interrupted (Ctrl-C)    143 terminated (SIGTERM)   141 stdout closed (| head)"""


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: ``sys.argv[1:]``), run the subcommand, return the exit code.

    Never a traceback for anything but a bug: a usage error or bad input is one line on stderr
    and 2, a cluster that cannot be had one line and 3; an interrupt (Ctrl-C, SIGTERM) ends
    the run after its clean-up with a one-line notice and 130 or 143 (a command reports what
    finished first); a closed stdout ends it quietly with 141 (:mod:`sts_props.cli.guard`).
    ``--help`` and ``--version`` return 0.
    """
    with guarded():
        try:
            try:
                args = build_parser().parse_args(argv)
            except SystemExit as exc:  # --help, --version, or a usage error (one line)
                return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
            refuse_ignored_flags(args)
            return COMMANDS[args.command].run(args)
        except StdoutClosed:
            return EXIT_STDOUT_CLOSED
        except KeyboardInterrupt as exc:
            if isinstance(exc, Terminated):
                print_error_quietly("terminated (SIGTERM); cleaned up")
                return EXIT_TERMINATED
            print_error_quietly("interrupted (SIGINT); cleaned up")
            return EXIT_INTERRUPTED
        except BrokenPipeError:  # written around the guarded stdout: the same as StdoutClosed
            return EXIT_STDOUT_CLOSED
        except Exception as exc:
            code = exit_code_for(exc)
            if code is None:
                raise  # not an error sts-props expects: a bug, with its traceback
            print_error(exc)
            return code


def print_error_quietly(message: str) -> None:
    """The one-line notice of an interrupted run (a notice, not an error: no "error:")."""
    with contextlib.suppress(OSError, ValueError):
        print(f"sts-props: {message}", file=sys.stderr, flush=True)
