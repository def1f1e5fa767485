"""The part of a control-plane component's log that a failing scenario needs.

A failing cluster run's artifacts carry the kube-controller-manager log lines written while the
scenario ran (``kube-controller-manager.log`` beside ``plan.yaml``): with the StatefulSet
controller's own file logged at ``-v=4`` (kwok's default ``--vmodule=stateful_set_control=4``),
each sync says which revisions it took as current and update and which status it wrote, and a
restart's startup lines show which process wrote what. Without them a timing-dependent failure
seen once cannot be told apart from a harness race.

klog lines start with a header ``I1205 10:19:58.123456  4242 file.go:123] message`` (severity,
month and day, local time); lines without one continue the line before (a multi-line
message, a goroutine dump). :func:`window` keeps the lines written between ``since`` and
``until`` (epoch seconds, with a second's slack on both sides) that concern ``namespace``:
lines that name it, and lines that name no harness namespace at all (startup, leader
election, informer sync). Scenarios side by side on one cluster write into the same log; their
lines name their own namespaces and are left out.

>>> import time
>>> t0 = time.mktime((2026, 12, 5, 10, 0, 0, 0, 0, -1))
>>> lines = [
...     'I1205 09:59:50.000000 1 a.go:1] before the run',
...     'I1205 10:00:01.500000 1 a.go:2] "Started controller" controller="statefulset"',
...     'I1205 10:00:02.000000 1 b.go:3] "Updated status" statefulSet="sts-props-0000aaaa/web"',
...     'I1205 10:00:02.100000 1 b.go:3] "Updated status" statefulSet="sts-props-0000bbbb/web"',
...     '  a continuation of the line above',
...     'I1205 10:00:03.000000 1 b.go:9] "Revisions" statefulSet="sts-props-0000aaaa/web"',
...     'I1205 10:02:00.000000 1 a.go:1] after the run']
>>> for line in window(lines, t0, t0 + 60, "sts-props-0000aaaa"):
...     print(line[:40])
I1205 10:00:01.500000 1 a.go:2] "Started
I1205 10:00:02.000000 1 b.go:3] "Updated
I1205 10:00:03.000000 1 b.go:9] "Revisio
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path

#: seconds of slack before ``since`` and after ``until`` (the harness's clock reads and the
#: component's log writes are not ordered by anything)
SLACK = 1.0
#: at most this much of the log's end is read (a fault run's log grows to a few MiB)
TAIL_BYTES = 8 << 20
#: at most this many lines are kept; a longer excerpt keeps its last lines
MAX_LINES = 20000
#: a namespace the harness creates (:class:`~sts_props.cluster.driver.ClusterRun` names them
#: ``sts-props-`` and 8 hex digits; a kwok cluster's own name has 6, and is no namespace)
_HARNESS_NAMESPACE = re.compile(r"sts-props-[0-9a-f]{8}(?![0-9a-f])")

_HEADER = re.compile(r"^[IWEF](\d\d)(\d\d) (\d\d):(\d\d):(\d\d)(\.\d+)? ")


def klog_time(line: str, year: int) -> float | None:
    """The epoch seconds of a klog line's header (local time, as klog writes it), or None for
    a line without one.

    >>> klog_time("I1205 10:00:00.250000 1 a.go:1] x", 2026) == time.mktime(
    ...     (2026, 12, 5, 10, 0, 0, 0, 0, -1)) + 0.25
    True
    >>> klog_time("goroutine 7 [running]:", 2026) is None
    True
    """
    m = _HEADER.match(line)
    if m is None:
        return None
    month, day, hour, minute, second = (int(g) for g in m.groups()[:5])
    fraction = float(m.group(6) or 0.0)
    return time.mktime((year, month, day, hour, minute, second, 0, 0, -1)) + fraction


def window(lines: Iterable[str], since: float, until: float, namespace: str) -> list[str]:
    """The lines between ``since`` and ``until`` that concern ``namespace`` (module docstring)."""
    year = time.localtime(since).tm_year
    kept: list[str] = []
    keep = False
    for line in lines:
        at = klog_time(line, year)
        if at is not None:
            keep = (since - SLACK <= at <= until + SLACK
                    and (namespace in line or not _HARNESS_NAMESPACE.search(line)))
        if keep:
            kept.append(line.rstrip("\n"))
    return kept[-MAX_LINES:]


def excerpt(data: bytes, since: float, until: float, namespace: str) -> str:
    """:func:`window` of a log's bytes (their last :data:`TAIL_BYTES`), as text; empty when
    nothing in it concerns the run."""
    text = data[-TAIL_BYTES:].decode("utf-8", errors="replace")
    return "".join(line + "\n" for line in window(text.splitlines(), since, until, namespace))


def read_tail(log: Path) -> bytes | None:
    """The last :data:`TAIL_BYTES` of the file ``log``; None when it cannot be read."""
    try:
        with log.open("rb") as f:
            size = f.seek(0, 2)
            f.seek(max(0, size - TAIL_BYTES))
            return f.read()
    except OSError:
        return None


def excerpts(components: Iterable[str], read: Callable[[str], bytes | None], since: float,
             until: float, namespace: str) -> dict[str, str]:
    """:func:`excerpt` of each component's log, as ``read(component)`` gives it (None: not
    readable); components with nothing to keep are left out.

    >>> excerpts(["a", "b"], lambda c: None if c == "b" else b"", 0.0, 1.0, "x")
    {}
    """
    out: dict[str, str] = {}
    for component in components:
        data = read(component)
        text = excerpt(data, since, until, namespace) if data is not None else ""
        if text:
            out[component] = text
    return out
