"""The control-plane build says what it is doing while Go compiles for minutes (issue 13):
a heartbeat line per interval naming the step, its elapsed time and the package being compiled,
and per-step times at the end. Driven through ``build_progress.sh`` with a stand-in compiler."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import sts_props.cluster.kwok

PROGRESS = Path(sts_props.cluster.kwok.__file__).resolve().parent / "build_progress.sh"


def _run(script: str, tmp_path: Path) -> str:
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "STS_PROPS_BUILD_HEARTBEAT": "1"},
                            cwd=tmp_path, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _prelude() -> str:
    return f"""set -euo pipefail
log() {{ echo "[t] $*"; }}
CURRENT_STEP=none; STEP_START=$(date +%s)
source {PROGRESS}
"""


def test_heartbeat_names_the_step_and_the_package_being_compiled(tmp_path: Path) -> None:
    tool = tmp_path / "pkg" / "tool" / "linux_amd64" / "compile"
    tool.parent.mkdir(parents=True)
    tool.write_text("#!/bin/sh\nsleep 3\n")
    tool.chmod(0o755)
    out = _run(_prelude() + f"""step_start kubernetes "go build"
{tool} -trimpath x -p k8s.io/apiserver/pkg/server -o out.a
step_ok
step_skipped etcd
log "step times: $STEP_TIMES"
""", tmp_path)
    beats = [line for line in out.splitlines() if "step=kubernetes running" in line]
    assert beats, out
    assert any(re.search(r"running \ds: compiling k8s.io/apiserver/pkg/server$", b)
               for b in beats), beats
    assert re.search(r"step times: kubernetes [34]s, etcd cached$", out, re.M), out
    # the heartbeat stopped with the step: nothing after the closing line
    assert out.rstrip().splitlines()[-1].startswith("[t] step times:"), out


def test_heartbeat_stops_when_a_step_fails(tmp_path: Path) -> None:
    # If the background loop outlived the script it would hold stdout open and this run would
    # hit its timeout instead of returning.
    out = _run(_prelude() + """trap 'heartbeat_stop' EXIT
step_start etcd "go build"
sleep 2
(exit 3) || { log "failed"; exit 0; }
""", tmp_path)
    assert "step=etcd running 1s: go is resolving, downloading or caching" in out, out
    assert out.rstrip().endswith("[t] failed"), out


def test_a_failed_build_says_its_cause_in_one_line_and_keeps_the_whole_output(
        tmp_path: Path) -> None:
    """Go's refusals of modules the proxy does not serve become the cause in the message (as
    for v1.33.7 here: 7 staging modules refused with 403); the output goes to a log file."""
    from sts_props.cluster.kwok.binaries import run_build_script
    from sts_props.errors import BuildError

    script = tmp_path / "fake_build.sh"
    script.write_text("""echo "[fake] step=kubernetes start go build"
for m in dynamic-resource-allocation cri-client; do
  url="https://proxy.invalid/k8s.io/$m/@v/v0.33.7.zip"
  echo "x.go:1:2: k8s.io/$m@v0.33.7: reading $url: 403 Forbidden"
  echo "	server response: This module version is not available."
done
echo "[fake] step=kubernetes FAILED rc=1 after 1s"
exit 1
""")
    log = tmp_path / "logs" / "build.log"
    run = run_build_script(["bash", str(script)], prefix="[fake]", first_step="preflight",
                           what="fake build", deadline=30, progress=lambda _l: None,
                           verbose=False, env={"PATH": "/usr/bin:/bin"}, log=log)
    assert (run.returncode, run.step) == (1, "kubernetes")
    error = BuildError("fake build failed", step=run.step, returncode=run.returncode,
                       output_tail=run.tail, log=str(log))
    assert str(error) == (
        "fake build failed (step 'kubernetes'): the Go module proxy does not serve "
        "k8s.io/dynamic-resource-allocation@v0.33.7 and 1 more module(s) (403 Forbidden); "
        f"the whole output: {log}")
    assert log.read_text().count("403 Forbidden") == 2
