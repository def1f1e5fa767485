"""Locate or build the binaries of a local kwok control plane.

The kwok backend runs an upstream Kubernetes control plane (kube-apiserver,
kube-controller-manager, kube-scheduler), etcd and the kwok controller as plain
processes started by ``kwokctl --runtime=binary``. No release archive or image
can be fetched on our machines, so every binary is built from Go modules by
``build_binaries.sh`` (next to this module) into a versioned cache directory::

    $STS_PROPS_CACHE/k8s-<version>/bin/      (default ~/.cache/sts-props)
        kube-apiserver kube-controller-manager kube-scheduler kubectl
        etcd kwok kwokctl

A cold build takes tens of minutes on two cores; a warm cache costs nothing.

Example (not run as a doctest: a cold build takes tens of minutes)::

    from sts_props.cluster.kwok.binaries import find_binaries, build_binaries
    bins = find_binaries() or build_binaries(deadline=3600)
    bins.kubectl.name        # 'kubectl'

"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

from sts_props.cluster.lifecycle import cache_dir

# the default version (built when none is given) and BuildError are defined once there
from sts_props.defaults import DEFAULT_VERSION as DEFAULT_K8S_VERSION
from sts_props.errors import BuildError
from sts_props.versions import PRE_RELEASE

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

__all__ = [
    "BINARY_NAMES",
    "DEFAULT_BUILD_DEADLINE",
    "DEFAULT_K8S_VERSION",
    "BinarySet",
    "BuildError",
    "build_binaries",
    "build_script",
    "cache_dir",
    "find_binaries",
    "normalize_version",
]


DEFAULT_BUILD_DEADLINE = 5400.0
"""Overall time limit of :func:`build_binaries` in seconds (CI's budget is 90 minutes)."""

BINARY_NAMES: tuple[str, ...] = (
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubectl",
    "etcd",
    "kwok",
    "kwokctl",
)
"""File names of the binaries that make up a :class:`BinarySet`, in build order."""

_VERSION_RE = re.compile(rf"^v?(1\.\d+\.\d+(?:{PRE_RELEASE})?)$")
_LOG_PREFIX = "[build_binaries]"
_TAIL_LINES = 40


def normalize_version(version: str) -> str:
    """Return ``version`` as ``vMAJOR.MINOR.PATCH``.

    Example:
        >>> normalize_version("1.37.2")
        'v1.37.2'
        >>> normalize_version("v1.36.3")
        'v1.36.3'
        >>> normalize_version("1.38.0-beta.0")   # a pre-release tag
        'v1.38.0-beta.0'

    Raises:
        ValueError: ``version`` is not a full Kubernetes 1.x release (or pre-release) version.

    """
    match = _VERSION_RE.match(version.strip())
    if match is None:
        msg = f"not a Kubernetes release version (want e.g. v1.37.2): {version!r}"
        raise ValueError(msg)
    return "v" + match.group(1)


def build_script() -> Path:
    """Return the path of ``build_binaries.sh``, shipped next to this module.

    Example:
        >>> build_script().name
        'build_binaries.sh'

    """
    return Path(__file__).resolve().with_name("build_binaries.sh")


@dataclass(frozen=True)
class BinarySet:
    """Absolute paths of one version's control-plane binaries.

    Example:
        >>> bins = BinarySet.in_dir("v1.37.2", Path("/cache/k8s-v1.37.2/bin"))
        >>> str(bins.kube_apiserver)
        '/cache/k8s-v1.37.2/bin/kube-apiserver'
        >>> sorted(bins.paths())[:2]
        ['etcd', 'kube-apiserver']

    """

    version: str
    """Kubernetes version, e.g. ``v1.37.2``."""
    bin_dir: Path
    """Directory holding all binaries (put it first on ``PATH`` for kwokctl)."""
    kube_apiserver: Path
    kube_controller_manager: Path
    kube_scheduler: Path
    kubectl: Path
    etcd: Path
    kwok: Path
    kwokctl: Path

    @classmethod
    def in_dir(cls, version: str, bin_dir: Path) -> BinarySet:
        """Return the set of binaries expected in ``bin_dir`` (existing or not)."""
        paths = {name.replace("-", "_"): bin_dir / name for name in BINARY_NAMES}
        return cls(version=version, bin_dir=bin_dir, **paths)

    def paths(self) -> dict[str, Path]:
        """Return ``{binary file name: path}`` for every binary.

        Example:
            >>> BinarySet.in_dir("v1.37.2", Path("/b")).paths()["kwokctl"]
            PosixPath('/b/kwokctl')

        """
        out: dict[str, Path] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name not in ("version", "bin_dir") and isinstance(value, Path):
                out[value.name] = value
        return out

    def missing(self) -> list[str]:
        """Return the names of binaries that are absent, not executable or unstamped.

        A binary counts as present only with its stamp file ``.<name>.stamp``,
        which ``build_binaries.sh`` writes after a successful build.
        """
        return [
            name
            for name, path in self.paths().items()
            if not (
                path.is_file()
                and os.access(path, os.X_OK)
                and (path.parent / f".{name}.stamp").is_file()
            )
        ]

    def path_env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """Return a copy of ``base`` (default ``os.environ``) with ``bin_dir`` first on PATH.

        kwokctl runs ``kubectl`` from ``PATH``, so its environment needs this.

        Example:
            >>> env = BinarySet.in_dir("v1.37.2", Path("/b")).path_env({"PATH": "/usr/bin"})
            >>> env["PATH"]
            '/b:/usr/bin'

        """
        env = dict(os.environ if base is None else base)
        old = env.get("PATH", "")
        env["PATH"] = f"{self.bin_dir}{os.pathsep}{old}" if old else str(self.bin_dir)
        return env


def find_binaries(
    version: str = DEFAULT_K8S_VERSION, *, root: Path | None = None
) -> BinarySet | None:
    """Return the cached binaries of ``version``, or ``None`` if any is missing.

    Args:
        version: Kubernetes version (``v1.37.2`` or ``1.37.2``).
        root: cache root; default :func:`cache_dir`.

    Example:
        >>> bins = find_binaries("v1.37.2")
        >>> bins is None or bins.kubectl.exists()
        True

    """
    version = normalize_version(version)
    bins = BinarySet.in_dir(version, (root or cache_dir()) / f"k8s-{version}" / "bin")
    return None if bins.missing() else bins


def build_binaries(
    version: str = DEFAULT_K8S_VERSION,
    progress: Callable[[str], None] = print,
    *,
    root: Path | None = None,
    deadline: float = DEFAULT_BUILD_DEADLINE,
    verbose: bool = False,
    env: Mapping[str, str] | None = None,
) -> BinarySet:
    """Build whatever is missing of ``version``'s binaries and return them.

    Runs ``build_binaries.sh VERSION ROOT`` (cheap when everything is cached).

    Args:
        version: Kubernetes version (``v1.37.2`` or ``1.37.2``).
        progress: called with each progress line of the script (``[build_binaries] ...``;
            every output line when ``verbose``).
        root: cache root; default :func:`cache_dir`.
        deadline: overall limit in seconds; on expiry the script's process group is
            killed and :class:`BuildError` raised with ``timed_out=True``.
        verbose: pass every output line (``go: downloading ...`` too) to ``progress``.
        env: environment of the script (default ``os.environ``); e.g. ``ETCD_VERSION``,
            ``KWOK_VERSION``, ``BUILD_NICE``.

    Raises:
        BuildError: a step failed, the deadline passed, or a binary is still missing.

    Example (not a doctest: a cold build takes tens of minutes)::

        bins = build_binaries("v1.37.2", progress=lambda line: None)
        bins.missing()           # []

    """
    version = normalize_version(version)
    root = root or cache_dir()
    home = root / f"k8s-{version}"
    log = home / "build.log"
    run = run_build_script(["bash", str(build_script()), version, str(root)],
                           prefix=_LOG_PREFIX, first_step="preflight",
                           what=f"build of {version}", deadline=deadline, progress=progress,
                           verbose=verbose, env=dict(os.environ if env is None else env),
                           log=log)
    returncode = run.returncode
    if returncode != 0:
        msg = f"build_binaries.sh {version} failed with exit status {returncode}"
        raise BuildError(msg, step=run.step, returncode=returncode, output_tail=run.tail,
                         log=str(log))

    bins = BinarySet.in_dir(version, home / "bin")
    if missing := bins.missing():
        msg = f"build_binaries.sh {version} succeeded but left {', '.join(missing)} missing"
        raise BuildError(msg, step="verify", returncode=returncode, output_tail=run.tail)
    return bins


@dataclass(frozen=True)
class ScriptRun:
    """How a build script ended: its exit status, the step that failed (else the last one
    started) and the last lines of its output."""

    returncode: int
    step: str
    tail: list[str]


def run_build_script(cmd: list[str], *, prefix: str, first_step: str, what: str,
                     deadline: float, progress: Callable[[str], None], verbose: bool,
                     env: dict[str, str], log: Path) -> ScriptRun:
    """Run a build script that speaks the ``PREFIX step=NAME start|ok|FAILED`` protocol in its
    own process group, passing its ``prefix`` lines (every line when ``verbose``) to
    ``progress`` and every line to ``log`` (a file, replaced; its directory is made). On
    expiry of ``deadline`` seconds the group is killed and :class:`BuildError` raised
    (``timed_out=True``); a failed exit is for the caller to word."""
    step_start = re.compile(rf"^{re.escape(prefix)} step=(\S+) start")
    step_failed = re.compile(rf"^{re.escape(prefix)} step=(\S+) FAILED")
    tail: deque[str] = deque(maxlen=_TAIL_LINES)
    step, failed_step = first_step, ""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as sink:
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, errors="replace", env=env,
            start_new_session=True,  # own process group: the deadline kills go too
        )
        try:
            for line in _lines_until(proc, time.monotonic() + max(deadline, 1.0)):
                tail.append(line)
                sink.write(line + "\n")
                if match := step_start.match(line):
                    step = match.group(1)
                elif match := step_failed.match(line):
                    failed_step = match.group(1)
                if verbose or line.startswith(prefix):
                    progress(line)
        except TimeoutError:
            _kill_group(proc)
            raise BuildError(f"{what} exceeded its {deadline:.0f}s deadline", step=step,
                             returncode=None, output_tail=list(tail), timed_out=True,
                             log=str(log)) from None
        finally:
            if proc.poll() is None:
                _kill_group(proc)
            if proc.stdout is not None:
                proc.stdout.close()
    return ScriptRun(proc.wait(), failed_step or step, list(tail))


def _lines_until(proc: subprocess.Popen[str], end: float) -> Iterator[str]:
    """Yield ``proc``'s output lines; raise ``TimeoutError`` at monotonic time ``end``."""
    if proc.stdout is None:
        msg = "process was started without stdout=PIPE"
        raise ValueError(msg)
    lines: queue.Queue[str | None] = queue.Queue()
    stream = proc.stdout

    def pump() -> None:
        try:
            for raw in stream:
                lines.put(raw.rstrip("\n"))
        except ValueError:  # stream closed by the consumer after a timeout
            pass
        finally:
            lines.put(None)

    threading.Thread(target=pump, name="build_binaries-output", daemon=True).start()
    while True:
        remaining = end - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        try:
            item = lines.get(timeout=remaining)
        except queue.Empty:
            raise TimeoutError from None
        if item is None:
            return
        yield item


def _kill_group(proc: subprocess.Popen[str], grace: float = 10.0) -> None:
    """Terminate the process group led by ``proc`` (SIGTERM, then SIGKILL after ``grace``)."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, grace)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        return
