"""How the ``sts-props`` subcommands write: progress lines to stdout, errors to stderr.

>>> say("sts-props: 10 scenarios on the model")
sts-props: 10 scenarios on the model
>>> print(one_line("bad" + chr(10) + "name.yaml: no such file"))  # a name with a line break
bad\\nname.yaml: no such file
"""

from __future__ import annotations

import re
import sys

__all__ = ["one_line", "print_error", "say"]

#: every character str.splitlines() breaks a line at
_LINE_BREAKS = re.compile("[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def say(line: str) -> None:
    """A progress or result line, flushed at once (the output of a long run is read live)."""
    print(line, flush=True)


def one_line(text: str) -> str:
    """``text`` with its line breaks escaped (``\\n``): an error stays one line even when a
    value it quotes (a path, a name) holds one."""
    return _LINE_BREAKS.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def print_error(message: object) -> None:
    """The one line on stderr of a command that ends with an error."""
    print(f"sts-props: error: {one_line(str(message))}", file=sys.stderr)
