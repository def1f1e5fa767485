"""What a command run needs from the process: signals as exceptions, and a closed stdout.

:func:`guarded` wraps one ``sts-props`` command (:func:`sts_props.cli.app.main` enters it):

* **SIGINT** (Ctrl-C) raises :class:`KeyboardInterrupt` and **SIGTERM** raises
  :class:`~sts_props.cluster.lifecycle.Terminated` (a KeyboardInterrupt too), so ``with`` blocks
  stop what a backend started, Hypothesis stops at once (it re-raises a KeyboardInterrupt
  instead of shrinking it as a failure) and the command can report what finished before
  exiting 130 or 143. A signal whose handler is not the default one (``nohup`` ignores SIGINT,
  a caller installed its own) is left alone.
* An interrupt that Python had to **swallow**, because it arrived while a garbage-collector
  callback or a ``__del__`` ran (Hypothesis registers a gc callback that runs thousands of
  times a second in a model run, and Python only prints "Exception ignored in ..." for an
  exception raised there), is **delivered again** a moment later instead of being lost.
* A **closed stdout** (``sts-props check | head -1``): the first write that fails points stdout
  at ``/dev/null`` (so nothing more fails, not even the final flush at exit) and raises
  :class:`StdoutClosed`, a KeyboardInterrupt as well: the run stops at once, cleans up like
  Ctrl-C, and :func:`~sts_props.cli.app.main` exits quietly with 141 (128 + SIGPIPE, what a shell
  reports for a producer cut off by its reader).

>>> with guarded():
...     print("inside")   # sys.stdout is the guarded stream here
inside
>>> isinstance(StdoutClosed(), KeyboardInterrupt)
True
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any, TextIO

from sts_props.cluster.lifecycle import Terminated, raise_terminated

__all__ = ["StdoutClosed", "guarded", "signal_name"]


class StdoutClosed(KeyboardInterrupt):
    """The reader of stdout went away (EPIPE): stop the run as an interrupt would."""


def signal_name(exc: KeyboardInterrupt) -> str:
    """``SIGTERM`` for :class:`Terminated`, else ``SIGINT``.

    >>> signal_name(Terminated()), signal_name(KeyboardInterrupt())
    ('SIGTERM', 'SIGINT')
    """
    return "SIGTERM" if isinstance(exc, Terminated) else "SIGINT"


class _GuardedStdout:
    """``sys.stdout`` during a command: a write or flush that meets a closed pipe points the
    file descriptor at /dev/null and raises :class:`StdoutClosed`; text the stream cannot
    encode (a file name with undecodable bytes, as Python passes them in ``sys.argv``) is
    written with backslash escapes instead of failing."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.closed_by_reader = False

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except UnicodeEncodeError:
            encoding = getattr(self._stream, "encoding", None) or "utf-8"
            return self._stream.write(
                text.encode(encoding, "backslashreplace").decode(encoding, "replace"))
        except BrokenPipeError:
            self._reader_gone()
            raise StdoutClosed from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._reader_gone()
            raise StdoutClosed from None

    def _reader_gone(self) -> None:
        self.closed_by_reader = True
        with contextlib.suppress(OSError, ValueError, AttributeError):
            fd = self._stream.fileno()
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, fd)
            os.close(devnull)

    def __getattr__(self, name: str) -> Any:  # isatty, fileno, encoding, buffer, ...
        return getattr(self._stream, name)


class _Redelivery:
    """Sends a signal to this process again, from a thread of its own (started beforehand:
    starting a thread waits for it, and a signal handled during that wait, inside the hook
    that asked for the redelivery, would be swallowed again). The handler then runs in the
    main thread at its next bytecode, normally once it is out of the callback that swallowed
    the first one; if not, the same happens again."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[int | None] = queue.SimpleQueue()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="sts-props-redeliver",
                                        daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while (signum := self._queue.get()) is not None:
            time.sleep(0.001)  # let the main thread leave the callback first
            if not self._closed:  # not after the command: the handlers are gone then
                os.kill(os.getpid(), signum)

    def send(self, signum: int) -> None:
        self._queue.put(signum)  # SimpleQueue.put never blocks: safe in a hook

    def close(self) -> None:
        self._closed = True
        self._queue.put(None)


@contextlib.contextmanager
def guarded() -> Iterator[None]:
    """Signals as exceptions, swallowed interrupts delivered again, a guarded stdout: for the
    duration of the ``with`` block; everything is put back afterwards."""
    previous_stdout = sys.stdout
    previous_hook = sys.unraisablehook
    handled: set[int] = set()  # the signals that raise here: they can be delivered again
    restore_sigterm = False
    if threading.current_thread() is threading.main_thread():
        # Only Python's own defaults count: SIG_IGN (nohup) and a caller's handler stay.
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            handled.add(signal.SIGINT)  # it raises KeyboardInterrupt already
        sigterm = signal.getsignal(signal.SIGTERM)
        if sigterm is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, raise_terminated)
            restore_sigterm = True
        if sigterm is signal.SIG_DFL or sigterm is raise_terminated:
            # Ours already when a backend started in this process (exit_on_sigterm): it
            # raises Terminated too, so a swallowed one can be delivered again all the same.
            handled.add(signal.SIGTERM)

    redeliver = _Redelivery() if handled else None

    def deliver_again(unraisable: Any) -> None:
        kind = unraisable.exc_type
        if isinstance(kind, type) and issubclass(kind, KeyboardInterrupt) \
                and not issubclass(kind, StdoutClosed):
            signum = signal.SIGTERM if issubclass(kind, Terminated) else signal.SIGINT
            if redeliver is not None and signum in handled:
                redeliver.send(signum)
                return
        previous_hook(unraisable)

    if previous_stdout is not None:
        sys.stdout = _GuardedStdout(previous_stdout)
    sys.unraisablehook = deliver_again
    try:
        yield
    finally:
        sys.unraisablehook = previous_hook
        if redeliver is not None:
            redeliver.close()
        if restore_sigterm and signal.getsignal(signal.SIGTERM) is raise_terminated:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
        sys.stdout = previous_stdout
