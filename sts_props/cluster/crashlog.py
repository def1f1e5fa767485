"""What a control-plane component's log says about why it exited (issue 12, rule ``CRASH``).

A Go component that dies of a panic writes ``panic: ...`` then ``goroutine N [running]:`` and its
stack; klog's ``Fatal`` writes an ``F1204 12:34:56.789012 ...]`` line (then every goroutine's
stack); the Go runtime writes ``fatal error: ...``; a leader-elected component that cannot renew
its Lease logs ``leaderelection lost`` and exits. A SIGKILL leaves nothing: the log just stops.

:func:`read_excerpt` finds the first such line in the part of the log the dead process wrote and
returns it with the lines that follow (the stack's first frames), or, when there is none, the
log's last lines.

>>> text = "I1204 10:00:00.1 1 a.go:1] started\\npanic: boom\\n\\ngoroutine 7 [running]:\\nmain.f()"
>>> classify(text.splitlines())
('panic', ('panic: boom', 'goroutine 7 [running]:', 'main.f()'))
>>> classify(["I1204 10:00:00.1 1 a.go:1] started", "I1204 10:00:01.1 1 a.go:2] syncing"])
('', ('I1204 10:00:00.1 1 a.go:1] started', 'I1204 10:00:01.1 1 a.go:2] syncing'))
>>> classify(['E1204 10:00:00.1 1 leaderelection.go:1] "leaderelection lost"'])[0]
'leader-election-lost'
>>> exit_text(-9), exit_text(2), exit_text(None)
('killed by signal 9 (SIGKILL)', 'exit status 2', 'exit status unknown')
"""

from __future__ import annotations

import re
import signal
from pathlib import Path

from sts_props.cluster.base import FATAL, LEADER_LOST, PANIC

#: how much of a log's end is read (a goroutine dump after a panic can be long; the panic line
#: comes before it, so the whole dump of a busy process may not fit: then its last lines do)
TAIL_BYTES = 1 << 20
#: lines kept from the first panic or fatal line on
EXCERPT_LINES = 8
#: lines kept from the end of a log that names no cause
LAST_LINES = 4
#: longest line kept (klog lines carry whole objects at times)
LINE_CHARS = 300

_PANIC = re.compile(r"^panic: ")
_FATAL = re.compile(r"^(F\d{4} \d\d:\d\d:\d\d|fatal error: )")
_GOROUTINE = re.compile(r"^goroutine \d+ \[")
_LEADER = re.compile(r"leader ?election lost", re.IGNORECASE)


def classify(lines: list[str]) -> tuple[str, tuple[str, ...]]:
    """``(cause, excerpt)`` for a dead process's log lines (see the module docstring)."""
    kept = [ln.rstrip()[:LINE_CHARS] for ln in lines if ln.strip()]
    for cause, pattern in ((PANIC, _PANIC), (FATAL, _FATAL)):
        for i, line in enumerate(kept):
            if pattern.search(line):
                return cause, tuple(kept[i:i + EXCERPT_LINES])
    for i, line in enumerate(kept):
        if _GOROUTINE.search(line):  # a stack dump with no panic line before it in the tail
            return PANIC, tuple(kept[max(0, i - 2):i + EXCERPT_LINES])
    tail = tuple(kept[-LAST_LINES:])
    if any(_LEADER.search(line) for line in tail):
        return LEADER_LOST, tail
    return "", tail


def read_excerpt(log: Path, start: int = 0) -> tuple[str, tuple[str, ...]]:
    """:func:`classify` on what ``log`` holds from byte ``start`` on (a restarted component
    appends to the same log: ``start`` is where its current process began writing)."""
    try:
        size = log.stat().st_size
        with log.open("rb") as f:
            begin = max(start, size - TAIL_BYTES)
            f.seek(begin)
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return "", ()
    lines = text.splitlines()
    if begin > start and lines:
        lines = lines[1:]  # the first line read is cut
    return classify(lines)


def exit_text(returncode: int | None) -> str:
    """An exit status as a person reads it (``None``: not known)."""
    if returncode is None:
        return "exit status unknown"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = "?"
        return f"killed by signal {-returncode} ({name})"
    return f"exit status {returncode}"
