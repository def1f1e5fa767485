"""Files a user names (manifests, plans, kubeconfigs, diffs): what may be read at all.

A path given on the command line or in ``KUBECONFIG`` may name a FIFO, a socket or a device
(``/dev/zero``, ``/dev/stdin`` of a terminal). Reading one blocks forever or never ends, so
every reader asks :func:`not_regular` first and refuses such a path in one line.

>>> from pathlib import Path
>>> not_regular(Path("/dev/null"))
'not a regular file (a FIFO, socket or device)'
>>> not_regular(Path("/nonexistent")) is None   # the read itself says what is wrong
True
"""

from __future__ import annotations

import stat
from pathlib import Path

__all__ = ["NOT_REGULAR", "not_regular"]

#: the reason :func:`not_regular` gives
NOT_REGULAR = "not a regular file (a FIFO, socket or device)"


def not_regular(path: Path) -> str | None:
    """Why ``path`` must not be read, or None: :data:`NOT_REGULAR` for an existing path
    (links followed) that is neither a regular file nor a directory. A missing path, a
    directory or one that cannot be looked at is left to the reader, whose error names it in
    its own words."""
    try:
        mode = path.stat().st_mode
    except (OSError, ValueError):  # ValueError: a NUL byte in the path
        return None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    return NOT_REGULAR
