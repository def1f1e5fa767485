"""What the ``kwok`` backend needs here, as ``sts-props doctor`` checks it: a Go toolchain (to
build the control plane once) and the built binaries. ``kwok-image`` needs the same.

>>> binaries_finding("v1.37.2", can_build=True).name
'control-plane binaries v1.37.2'
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

from sts_props.cluster.base import Finding
from sts_props.cluster.kwok.binaries import find_binaries
from sts_props.cluster.lifecycle import cache_dir
from sts_props.user_files import nearest_existing

MIN_GO = (1, 26)


def kwok_checks(version: str) -> list[Finding]:
    """The Go toolchain, then the binaries of ``version`` (buildable when Go is there)."""
    go = go_toolchain()
    return [go, binaries_finding(version, can_build=go.ok)]


def go_toolchain() -> Finding:
    go = shutil.which("go")
    fix = "install Go >= 1.26 (only needed to build the control plane once)"
    if go is None:
        return Finding("go toolchain", False, "no `go` on PATH", fix)
    try:
        out = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True,
                             timeout=10, check=False).stdout.strip()
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Finding("go toolchain", False, f"`go env` failed: {exc}", fix)
    m = re.match(r"go(\d+)\.(\d+)", out)
    if m is None or (int(m.group(1)), int(m.group(2))) < MIN_GO:
        return Finding("go toolchain", False, f"{out or 'unknown version'} is too old", fix)
    return Finding("go toolchain", True, out)


def unwritable_cache() -> str:
    """Why a build could not write under the cache directory (``$STS_PROPS_CACHE``), or "":
    it is not a directory, or neither it nor the nearest directory that exists above it may
    be written.

    >>> import os
    >>> os.environ["STS_PROPS_CACHE"] = "/proc/version"
    >>> unwritable_cache()
    '$STS_PROPS_CACHE /proc/version is not a directory'
    >>> del os.environ["STS_PROPS_CACHE"]
    """
    root = cache_dir()
    where = "$STS_PROPS_CACHE" if os.environ.get("STS_PROPS_CACHE") else "the cache directory"
    if root.exists() and not root.is_dir():
        return f"{where} {root} is not a directory"
    existing = nearest_existing(root)
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{where} {root} cannot be written ({existing} is not writable)"
    return ""


def binaries_finding(version: str, *, can_build: bool) -> Finding:
    found = find_binaries(version)
    blocked = unwritable_cache() if found is None else ""
    if blocked:
        return Finding(f"control-plane binaries {version}", False,
                       f"not built, and no build could be stored: {blocked}",
                       "set STS_PROPS_CACHE to a directory you can write")
    if found is None and can_build:
        return Finding(f"control-plane binaries {version}", True,
                       "not built yet: the first run builds them (20-30 min once; or now: "
                       f"sts-props cluster build --k8s-version {version})")
    if found is None:
        return Finding(f"control-plane binaries {version}", False, "not built, and no Go",
                       "install Go >= 1.26, then "
                       f"sts-props cluster build --k8s-version {version}")
    return Finding(f"control-plane binaries {version}", True, str(found.bin_dir))
