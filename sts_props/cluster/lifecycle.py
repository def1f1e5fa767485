"""Process-level clean-up shared by the backends that start things which outlive a crash, and
the per-user directory where what outlives a process is kept (built binaries, the registry of
started clusters, locks).

>>> exit_on_sigterm()   # idempotent; a no-op outside the main thread
>>> pid_alive(os.getpid()), pid_alive(0)
(True, False)
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from pathlib import Path

from sts_props.errors import BackendUnavailable
from sts_props.user_files import configured_path


class Terminated(KeyboardInterrupt):
    """SIGTERM, delivered like Ctrl-C.

    A KeyboardInterrupt, not a SystemExit: Hypothesis re-raises KeyboardInterrupt at once,
    while it treats any other BaseException from a test as a failure to shrink and replay.
    """

    exit_code = 128 + signal.SIGTERM


def exit_on_sigterm() -> None:
    """Deliver SIGTERM (``timeout``, CI cancellation) as :class:`Terminated` so that ``with``
    blocks and atexit handlers run and what a backend started (processes that are not our
    children, containers) is stopped. Leaves a handler someone else installed alone."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, raise_terminated)


def raise_terminated(signum: int, frame: object) -> None:
    """The SIGTERM handler of :func:`exit_on_sigterm` (and of a guarded CLI command)."""
    raise Terminated(f"signal {signum}")


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not count: it answers ``kill 0`` but is gone)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError, IndexError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    return True


def cache_dir() -> Path:
    """Return the root of sts-props's per-user cache (binaries, cluster records, locks).

    ``$STS_PROPS_CACHE`` when set and non-empty, else ``~/.cache/sts-props``.
    The directory is not created.

    Example:
        >>> os.environ["STS_PROPS_CACHE"] = "/tmp/sts-cache"
        >>> str(cache_dir())
        '/tmp/sts-cache'
        >>> del os.environ["STS_PROPS_CACHE"]

    """
    return configured_path("STS_PROPS_CACHE", ".cache/sts-props", BackendUnavailable)
