"""How the ``sts-props`` subcommands write: progress lines to stdout, errors to stderr.

>>> say("sts-props: 10 scenarios on the model")
sts-props: 10 scenarios on the model
"""

from __future__ import annotations

import sys

__all__ = ["print_error", "say"]


def say(line: str) -> None:
    """A progress or result line, flushed at once (the output of a long run is read live)."""
    print(line, flush=True)


def print_error(message: object) -> None:
    """The one line on stderr of a command that ends with an error."""
    print(f"sts-props: error: {message}", file=sys.stderr)
