"""Files a user names (manifests, plans, kubeconfigs, diffs): what may be read at all, and
where a path the environment names (``STS_PROPS_CACHE``, ``KUBECONFIG``) points.

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

import os
import stat
from pathlib import Path

from sts_props.manifest_shapes import show_value

__all__ = ["NOT_REGULAR", "configured_path", "home_expanded", "nearest_existing", "not_regular"]

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


def home_expanded(path: str | Path, what: str, error: type[Exception]) -> Path:
    """``path`` with a leading ``~`` expanded. Without a home directory to expand it in
    (``HOME`` unset and no password entry, or ``~nobody-here/x``), ``error`` names ``what``
    (``$KUBECONFIG``, ``kubeconfig``) in one line, instead of the RuntimeError of
    :meth:`Path.expanduser` that once ended ``doctor`` in a traceback.

    >>> home_expanded("~no-such-user-here/cache", "$STS_PROPS_CACHE", ValueError)
    Traceback (most recent call last):
    ...
    ValueError: $STS_PROPS_CACHE '~no-such-user-here/cache': no home directory to expand ~ in; \
give an absolute path
    >>> home_expanded("/tmp/x", "kubeconfig", ValueError)
    PosixPath('/tmp/x')
    """
    try:
        return Path(path).expanduser()
    except RuntimeError:  # "Could not determine home directory."
        raise error(f"{what} {show_value(str(path))}: no home directory to expand ~ in; give an "
                    "absolute path") from None


def configured_path(variable: str, default: str, error: type[Exception]) -> Path:
    """``$variable`` when set and not empty, else ``~/default``; ``~`` expanded
    (:func:`home_expanded`: ``error`` if it cannot be).

    >>> configured_path("STS_PROPS_PROBE", ".cache/x", ValueError) == Path.home() / ".cache/x"
    True
    """
    configured = os.environ.get(variable, "")
    if configured:
        return home_expanded(configured, f"${variable}", error)
    try:
        return Path.home() / default
    except RuntimeError:  # HOME unset and no password entry (a container's random user id)
        raise error(f"no home directory for ~/{default}: set HOME, or {variable} to an "
                    "absolute path") from None


def nearest_existing(path: Path) -> Path:
    """``path`` if it exists, else its nearest ancestor that does (``/`` at worst): where a
    directory that is not there yet would be created.

    >>> nearest_existing(Path("/tmp/no/such/dir"))
    PosixPath('/tmp')
    """
    while not path.exists() and path != path.parent:
        path = path.parent
    return path
