"""What the ``kwok`` backend needs here, as ``sts-props doctor`` checks it: a Go toolchain (to
build the control plane once) and the built binaries. ``kwok-image`` needs the same.

>>> binaries_finding("v1.37.2", can_build=True).name
'control-plane binaries v1.37.2'
"""

from __future__ import annotations

import re
import shutil
import subprocess

from sts_props.cluster.base import Finding
from sts_props.cluster.kwok.binaries import find_binaries

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


def binaries_finding(version: str, *, can_build: bool) -> Finding:
    found = find_binaries(version)
    if found is None and can_build:
        return Finding(f"control-plane binaries {version}", True,
                       "not built yet: the first run builds them (20-30 min once; or now: "
                       f"sts-props cluster build --k8s-version {version})")
    if found is None:
        return Finding(f"control-plane binaries {version}", False, "not built, and no Go",
                       "install Go >= 1.26, then "
                       f"sts-props cluster build --k8s-version {version}")
    return Finding(f"control-plane binaries {version}", True, str(found.bin_dir))
