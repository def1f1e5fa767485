"""How ``sts-props`` reads its command line: the parser, the value types, the output paths.

Every flag value is checked before a command does any work, and a value that cannot be used is
one line on stderr and exit code 2 (:mod:`sts_props.cli.exit_codes`), never a traceback and
never a surprise later in the run:

* numbers go through :func:`whole` / :func:`seconds` (``--examples -3``, ``--max-ops 0``,
  ``--op-timeout nan``, ``--examples 1.5``, ``--seed ten`` are refused by argparse, naming the
  flag and the range), versions through :func:`k8s_version`, durations through
  :func:`duration`, paths and names through :func:`path` / :func:`text` (an empty value is
  refused: it would silently mean the current directory or "not given");
* output paths are checked by the command before its run starts: :func:`check_output_file`
  for a file (``--junit``: its directory must exist, it is not created) and
  :func:`check_output_dir` for a directory the command creates if needed (``--artifacts``,
  ``--plans``, ``--database``); both refuse a path under a file and a place that cannot be
  written, so a run's results are never lost at its end.

:class:`Parser` prints a usage error as one line (``sts-props check: error: argument
--max-ops: expected a whole number >= 1, got '0' (see sts-props check --help)``);
:class:`HelpFormatter` shows each flag's default and keeps the examples of an epilog as written.

>>> whole(1)("20"), whole(0, 100)("0")
(20, 0)
>>> whole(1)("0")
Traceback (most recent call last):
...
argparse.ArgumentTypeError: expected a whole number >= 1, got '0'
>>> duration("90s"), duration("10m")
(90.0, 600.0)
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from sts_props import __version__
from sts_props.cli.exit_codes import EXIT_BAD_INPUT, UsageError
from sts_props.explore import budget_seconds
from sts_props.manifest_shapes import show_value
from sts_props.model import ModelConfig
from sts_props.scenario import ManifestError
from sts_props.user_files import nearest_existing
from sts_props.versions import check_gates, release_version

if TYPE_CHECKING:
    from sts_props.cli.options import Subparsers

__all__ = ["HelpFormatter", "Parser", "add_command", "check_output_dir", "check_output_file",
           "duration", "gate_setting", "k8s_version", "package_version", "path", "seconds",
           "text", "whole"]

#: a whole number as typed: ASCII digits only (Python's int() would also take "٣" and "1_0")
_WHOLE = re.compile(r"[+-]?[0-9]+")


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line (exit code 2), like every other
    bad-input error of ``sts-props``; the line points at ``--help`` for the usage."""

    # one signature for typeshed's overloads (the same arguments, the same results)
    def parse_known_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                         namespace: Any = None) -> tuple[Any, list[str]]:
        tokens = list(sys.argv[1:] if args is None else args)
        for token in tokens:
            if token == "--":  # the rest is positional
                break
            # Python 3.11's argparse drops a "--" value (``--k8s-version=--``) and stores an
            # empty list instead of calling the flag's type: refuse it here.
            if token.startswith("-") and token.endswith("=--"):
                self.error(f"argument {token[:-3]}: expected a value, got '--'")
        return super().parse_known_args(tokens, namespace)

    def error(self, message: str) -> NoReturn:
        line = " ".join(message.split())  # argparse's messages may carry line breaks
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {line} (see {self.prog} --help)\n")


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter,
                    argparse.RawDescriptionHelpFormatter):
    """Each flag's help ends with its default, unless the help already names it or there is
    none worth naming (a switch, an unset value whose meaning the help explains); epilogs (the
    examples) keep their line breaks."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        help = action.help or ""
        if ("default" in help.lower() or not action.option_strings
                or action.default in (None, False, [], argparse.SUPPRESS)):
            return help
        return f"{help} (default: %(default)s)"


def add_command(sub: Subparsers, name: str, help: str, examples: Sequence[str],
                description: str | None = None) -> argparse.ArgumentParser:
    """Add subcommand ``name`` with its one-line ``help`` and an epilog of ``examples``."""
    epilog = "examples:\n" + "\n".join(f"  {line}" for line in examples)
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=help, description=description or help[:1].upper() + help[1:] + ".",
        epilog=epilog, formatter_class=HelpFormatter)
    return parser


def package_version() -> str:
    """The installed distribution's version, else the package's own ``__version__``."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("sts-props")
    except PackageNotFoundError:  # run from a source tree that was never installed

        return __version__


# -- value types (argparse calls them with the text; ArgumentTypeError names the flag) --------
def whole(least: int, most: int | None = None) -> Callable[[str], int]:
    """A whole number from ``least`` (to ``most``)."""
    wanted = f">= {least}" if most is None else f"from {least} to {most}"

    def parse(text: str) -> int:
        value: int | None = None
        if _WHOLE.fullmatch(text.strip()):
            try:
                value = int(text)
            except ValueError:  # more digits than Python converts (sys.int_info)
                raise argparse.ArgumentTypeError(f"{text[:20]}...: too large") from None
        if value is None or value < least or (most is not None and value > most):
            raise argparse.ArgumentTypeError(
                f"expected a whole number {wanted}, got {show_value(text)}")
        return value

    parse.__name__ = "whole number"
    return parse


def seconds(text: str) -> float:
    """A positive, finite number of seconds (``2``, ``0.5``).

    >>> seconds("inf")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected a positive number of seconds, got 'inf'
    """
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(
            f"expected a positive number of seconds, got {show_value(text)}")
    return value


def duration(text: str) -> float:
    """A wall-time budget: ``10m``, ``90s``, ``1.5h`` or plain seconds; returns seconds."""

    try:
        return budget_seconds(text)
    except ManifestError:
        raise argparse.ArgumentTypeError(
            f"expected a positive duration like 10m, 90s or 1h, got {show_value(text)}") from None


def k8s_version(text: str) -> str:
    """A Kubernetes release the model has a configuration for, as ``v1.37.2``."""

    try:
        version = release_version(text)
        ModelConfig.for_version(version)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return version


def gate_setting(text: str) -> tuple[str, bool]:
    """``NAME=true`` or ``NAME=false``: a feature gate the model knows, and its value.

    >>> gate_setting("StatefulSetRecreateStrategy=true")
    ('StatefulSetRecreateStrategy', True)
    """
    name, sep, value = text.partition("=")
    if not sep or value.lower() not in ("true", "false"):
        raise argparse.ArgumentTypeError(
            f"expected NAME=true or NAME=false, got {text[:60]!r}")
    try:
        check_gates([name])
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return name, value.lower() == "true"


def path(text: str) -> Path:
    """A path; an empty one is refused (``Path("")`` would be the current directory)."""
    if not text:
        raise argparse.ArgumentTypeError("expected a path, got an empty value")
    return Path(text)


def text(value: str) -> str:
    """A name or other text that must not be empty (empty would read as "not given")."""
    if not value.strip():
        raise argparse.ArgumentTypeError(f"expected a value, got {value!r}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        # bytes that are not UTF-8 arrive as lone surrogates (surrogateescape), which no UTF-8
        # file holds: promote --tag once wrote a regression plan that nothing could load
        raise argparse.ArgumentTypeError(f"{show_value(value)}: not UTF-8 text") from None
    return value


# -- output paths (checked by a command before its run starts) ---------------------------------
def _where(flag: str, target: Path) -> str:
    return f"{flag} {target}"


def _existing_ancestor(target: Path, flag: str) -> Path:
    """The nearest ancestor of ``target`` that exists; it must be a directory."""
    ancestor = nearest_existing(target.parent)
    if not ancestor.is_dir():
        raise UsageError(f"{_where(flag, target)}: {ancestor} is a file, not a directory")
    return ancestor


def _probe_dir(directory: Path, flag: str, target: Path) -> None:
    """Can files be created in ``directory``? (A file with no name, gone when closed.)"""
    import tempfile

    try:
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as exc:
        raise UsageError(f"{_where(flag, target)}: cannot write in {directory}: "
                         f"{exc.strerror or exc}") from None


def check_output_file(target: Path, flag: str) -> None:
    """``target`` can be written as a file: it is not a directory or a FIFO (a device such as
    ``/dev/null`` is fine), its directory exists (it is not created for it), and a file can be
    created or opened there. Raises UsageError.

    The check opens an existing file for appending (its content stays) or creates the file
    and removes it again.
    """
    try:
        if target.name in ("", ".", ".."):
            raise UsageError(f"{_where(flag, target)}: not a file name")
        if target.is_dir():
            raise UsageError(f"{_where(flag, target)}: is a directory; give a file name")
        if target.is_fifo():
            # opening a FIFO to write waits for a reader: the check (and the report at the end
            # of the run) once hung there
            raise UsageError(f"{_where(flag, target)}: is a FIFO; give a file name")
        parent = target.parent
        if not parent.exists():
            _existing_ancestor(target, flag)  # a file on the way is named as such
            raise UsageError(f"{_where(flag, target)}: the directory {parent} does not exist "
                             "(create it first)")
        if not parent.is_dir():
            raise UsageError(f"{_where(flag, target)}: {parent} is a file, not a directory")
        if target.exists():
            with target.open("ab"):
                pass
        else:
            with target.open("xb"):
                pass
            target.unlink()
    except OSError as exc:
        raise UsageError(f"{_where(flag, target)}: cannot write it: "
                         f"{exc.strerror or exc}") from None


def check_output_dir(target: Path, flag: str) -> None:
    """``target`` is a directory, or can be created as one (the command creates it and any
    missing parents when it first writes there): nothing on the way is a file, and files can
    be created in the nearest directory that exists. Raises UsageError."""
    try:
        if target.exists():
            if not target.is_dir():
                raise UsageError(f"{_where(flag, target)}: is a file, not a directory")
            _probe_dir(target, flag, target)
            return
        _probe_dir(_existing_ancestor(target, flag), flag, target)
    except OSError as exc:
        raise UsageError(f"{_where(flag, target)}: cannot use it: "
                         f"{exc.strerror or exc}") from None
