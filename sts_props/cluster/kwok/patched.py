"""Build a kube-controller-manager from k8s.io/kubernetes with a user's diff applied.

Controller mutation testing (and anyone changing the StatefulSet controller) needs the real
controller built from patched source, while the other control-plane binaries stay those of the
normal :class:`~sts_props.cluster.kwok.binaries.BinarySet`. :func:`build_patched`
caches one binary per (version, diff)::

    $STS_PROPS_CACHE/k8s-<version>/patched/<key>/      (key: 16 hex digits of a sha256)
        kube-controller-manager   .kube-controller-manager.stamp   patch.diff

How (see ``build_patched.sh`` next to this module):

1. **Apply.** ``<key>/src`` becomes a hard-link copy (``cp -al``) of the module
   ``k8s.io/kubernetes@<version>`` from the Go module cache; its directories are made
   writable, every file the diff touches is replaced by a private copy (so nothing can write
   through a link into the read-only module cache), and GNU ``patch`` applies the diff, first
   with ``--dry-run`` so that a diff that does not apply changes nothing. Paths in the diff are
   relative to the kubernetes repository root, with or without git's ``a/``/``b/`` prefixes.
2. **Build.** A wrapper module (the normal one of ``build_binaries.sh`` plus
   ``replace k8s.io/kubernetes => <key>/src``) builds ``cmd/kube-controller-manager`` with
   ``go build -trimpath`` and the normal version-stamping ldflags. Under ``-trimpath`` the
   replaced module's packages have the same build-cache keys as the module cache's, so only the
   packages the diff changes (and those whose compiled export data changes with them) are
   recompiled: a patched build costs about a link (15-60 s on 2 cores), even the first one.
3. **Stamp** and remove the source copy. An empty diff builds the unmodified controller the
   same way: the *control* of a mutant run.

One build per key at a time (a lock file in ``<key>/``); a waiting build finds the stamp.

>>> key = patch_key("v1.37.2", "")
>>> len(key), key == patch_key("v1.37.2", ""), key == patch_key("v1.36.3", "")
(16, True, False)
>>> diff_targets("--- a/pkg/x.go\\n+++ b/pkg/x.go\\n@@ -1 +1 @@\\n-a\\n+b\\n")
(1, ['pkg/x.go'])
>>> # path = build_patched("v1.37.2", Path("my.diff").read_text()).path
>>> # KwokCluster("v1.37.2", controller_manager=path)
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sts_props.cluster.kwok.binaries import (
    DEFAULT_K8S_VERSION,
    BuildError,
    build_binaries,
    cache_dir,
    find_binaries,
    normalize_version,
    run_build_script,
)
from sts_props.errors import PatchError  # defined once there; re-exported here

__all__ = [
    "CONTROLLER",
    "DEFAULT_PATCH_DEADLINE",
    "PatchError",
    "PatchedController",
    "apply_diff",
    "build_patched",
    "build_patched_script",
    "diff_targets",
    "find_patched_controller",
    "module_dir",
    "patch_dir",
    "patch_key",
    "prepare_source",
]

CONTROLLER = "kube-controller-manager"
#: overall limit of one patched build in seconds (a cold Go build cache would need ~30 min)
DEFAULT_PATCH_DEADLINE = 3600.0
#: bumped when the build recipe changes, so that older cached binaries are not reused
_RECIPE = "sts-props patched kube-controller-manager, recipe 1"
_LOG = "[build_patched]"
_HEADER_RE = re.compile(r"^(---|\+\+\+) (\S+)")

Progress = Callable[[str], None]


@dataclass(frozen=True)
class PatchedController:
    """A cached patched build: the binary, its key and what the build cost."""

    path: Path
    key: str
    #: seconds the build took now; 0.0 when the binary came from the cache
    seconds: float
    cached: bool


def build_patched_script() -> Path:
    """``build_patched.sh``, next to this module.

    >>> build_patched_script().name
    'build_patched.sh'
    """
    return Path(__file__).resolve().with_name("build_patched.sh")


def patch_key(version: str, diff_text: str) -> str:
    """16 hex digits of the sha256 of the build recipe, ``version`` and the diff's exact text.

    >>> patch_key("1.37.2", "x") == patch_key("v1.37.2", "x") != patch_key("v1.37.2", "y")
    True
    """
    digest = hashlib.sha256(
        f"{_RECIPE}\n{normalize_version(version)}\n".encode() + diff_text.encode())
    return digest.hexdigest()[:16]


def patch_dir(version: str, diff_text: str, root: Path | None = None) -> Path:
    """Where the build of ``diff_text`` for ``version`` lives (existing or not)."""
    version = normalize_version(version)
    return (root or cache_dir()) / f"k8s-{version}" / "patched" / patch_key(version, diff_text)


def _stamp(where: Path) -> Path:
    return where / f".{CONTROLLER}.stamp"


def find_patched_controller(version: str, diff_text: str,
                            root: Path | None = None) -> Path | None:
    """The cached binary built from ``diff_text``, or ``None``."""
    where = patch_dir(version, diff_text, root)
    binary = where / CONTROLLER
    if binary.is_file() and os.access(binary, os.X_OK) and _stamp(where).is_file():
        return binary
    return None


def diff_targets(diff_text: str) -> tuple[int, list[str]]:
    """The ``patch -p`` strip level and the repository paths a unified diff touches.

    Level 1 when every old path starts with ``a/`` and every new one with ``b/`` (as ``git
    diff`` writes them), else 0. An empty (or blank) diff touches nothing.

    >>> diff_targets("")
    (0, [])
    >>> diff_targets("--- /dev/null\\n+++ pkg/new.go\\n@@ -0,0 +1 @@\\n+x\\n")
    (0, ['pkg/new.go'])
    >>> diff_targets("--- a/../etc/passwd\\n+++ b/../etc/passwd\\n")
    Traceback (most recent call last):
    ...
    sts_props.errors.PatchError: the diff names a path outside the kubernetes \
repository: ../etc/passwd

    Raises:
        PatchError: the text has content but no ``---``/``+++`` file headers, or a path is
            absolute or leaves the repository.

    """
    old: list[str] = []
    new: list[str] = []
    for line in diff_text.splitlines():
        match = _HEADER_RE.match(line)
        if match is None:
            continue
        (old if match.group(1) == "---" else new).append(match.group(2))
    if not old and not new:
        if diff_text.strip():
            raise PatchError("not a unified diff: no '--- a/PATH' / '+++ b/PATH' file headers")
        return 0, []
    real_old = [p for p in old if p != "/dev/null"]
    real_new = [p for p in new if p != "/dev/null"]
    strip = int(all(p.startswith("a/") for p in real_old)
                and all(p.startswith("b/") for p in real_new))
    targets: list[str] = []
    for raw in real_old + real_new:
        path = raw[2:] if strip else raw
        parts = PurePosixPath(path).parts
        if not parts or PurePosixPath(path).is_absolute() or ".." in parts:
            raise PatchError(f"the diff names a path outside the kubernetes repository: {path}")
        if path not in targets:
            targets.append(path)
    return strip, targets


def module_dir(version: str) -> Path:
    """The read-only source of ``k8s.io/kubernetes@<version>`` in the Go module cache.

    Raises:
        BuildError: no Go toolchain, or the module is neither cached nor downloadable.

    """
    version = normalize_version(version)
    go = shutil.which("go")
    if go is None:
        raise BuildError("no Go toolchain on PATH", step="apply", returncode=None,
                         output_tail=[])
    env = {**os.environ, "GOFLAGS": ""}
    modcache = subprocess.run([go, "env", "GOMODCACHE"], capture_output=True, text=True,
                              env=env, timeout=60, check=False).stdout.strip()
    candidate = Path(modcache) / "k8s.io" / f"kubernetes@{version}"
    if (candidate / "go.mod").is_file():
        return candidate
    # Not cached yet: `go mod download` (outside any module) fetches it and names its directory.
    proc = subprocess.run([go, "mod", "download", "-json", f"k8s.io/kubernetes@{version}"],
                          capture_output=True, text=True, env=env, timeout=1800,
                          cwd=str(cache_dir()) if cache_dir().is_dir() else None, check=False)
    match = re.search(r'"Dir":\s*"([^"]+)"', proc.stdout)
    if proc.returncode != 0 or match is None:
        tail = (proc.stdout + proc.stderr).splitlines()[-10:]
        raise BuildError(f"k8s.io/kubernetes@{version} is not in the Go module cache and "
                         "could not be downloaded", step="apply",
                         returncode=proc.returncode, output_tail=tail)
    return Path(match.group(1))


def prepare_source(module: Path, dest: Path, diff_text: str) -> None:
    """Make ``dest`` a writable hard-link copy of ``module`` and apply ``diff_text`` to it.

    ``module`` itself is never written: directories of the copy are new (``cp -al`` links
    only files; a plain copy when ``dest`` is on another filesystem), and each file the diff
    touches is replaced by a private copy before GNU ``patch`` runs (which, besides, writes a
    new file and renames it over the old one).

    Raises:
        PatchError: the diff does not apply (``dest`` is left as the unpatched copy).

    """
    if dest.exists():
        _rmtree(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    linked = subprocess.run(["cp", "-al", str(module), str(dest)], capture_output=True,
                            timeout=600, check=False)
    if linked.returncode != 0:  # e.g. another filesystem: hard links impossible, copy instead
        _rmtree(dest)
        subprocess.run(["cp", "-a", str(module), str(dest)], check=True, capture_output=True,
                       timeout=1800)
    for dirpath, _dirnames, _files in os.walk(dest):
        os.chmod(dirpath, 0o755)
    apply_diff(dest, diff_text, f"k8s.io/{module.name}")


def apply_diff(source: Path, diff_text: str, what: str = "k8s.io/kubernetes") -> list[str]:
    """Apply ``diff_text`` to the tree ``source`` (a copy made by :func:`prepare_source`);
    returns the paths it touched.

    All or nothing: ``patch --dry-run`` first, no fuzz (context must match exactly; moved
    lines are fine), no backup or reject files.

    Raises:
        PatchError: one line naming the first file and hunk that did not apply.

    """
    strip, targets = diff_targets(diff_text)
    if not targets:
        return []
    if shutil.which("patch") is None:
        raise PatchError("GNU patch is not installed (apt-get install patch)")
    for rel in targets:
        path = source / rel
        if path.is_file() and not path.is_symlink():
            _private_copy(path)
    base = ["patch", f"-p{strip}", "--batch", "--forward", "--fuzz=0", "--no-backup-if-mismatch",
            "--reject-file=-", "-d", str(source)]
    dry = subprocess.run([*base, "--dry-run"], input=diff_text, capture_output=True, text=True,
                         timeout=300, check=False)
    if dry.returncode != 0:
        raise PatchError(_why_not(dry.stdout + dry.stderr, what))
    real = subprocess.run(base, input=diff_text, capture_output=True, text=True, timeout=300,
                          check=False)
    if real.returncode != 0:
        raise PatchError(_why_not(real.stdout + real.stderr, what))
    return targets


_COMPLAINTS = ("FAILED", "can't find file", "No file to patch", "Reversed", "malformed",
               "garbage", "unexpected end", "doesn't contain")


def _why_not(output: str, what: str = "k8s.io/kubernetes") -> str:
    """One line from patch's output: the file being patched and its first complaint.

    >>> _why_not("checking file pkg/a.go\\nHunk #2 FAILED at 40.\\n1 out of 2 hunks FAILED\\n")
    'the diff does not apply to k8s.io/kubernetes: pkg/a.go: Hunk #2 FAILED at 40.'
    """
    current = ""
    for line in output.splitlines():
        text = line.strip()
        if text.startswith(("patching file ", "checking file ")):
            current = text.split(" file ", 1)[1]
        elif any(word in text for word in _COMPLAINTS):
            where = f"{current}: " if current else ""
            return f"the diff does not apply to {what}: {where}{text}"
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    return f"the diff does not apply to {what}: " + (
        lines[-1] if lines else "patch failed")


def _private_copy(path: Path) -> None:
    """Replace ``path`` (maybe a hard link into the module cache) by a private writable copy."""
    tmp = path.with_name(f".{path.name}.sts-props-tmp")
    shutil.copyfile(path, tmp)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def _rmtree(path: Path) -> None:
    """Remove a source copy (its read-only directories made writable first)."""
    for dirpath, _dirnames, _files in os.walk(path):
        with contextlib.suppress(OSError):
            os.chmod(dirpath, 0o755)
    shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def _locked(where: Path, progress: Progress) -> Iterator[None]:
    where.mkdir(parents=True, exist_ok=True)
    with (where / ".lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            progress(f"{_LOG} waiting for another build in {where}")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_patched(
    version: str = DEFAULT_K8S_VERSION,
    diff_text: str = "",
    progress: Progress = print,
    *,
    root: Path | None = None,
    deadline: float = DEFAULT_PATCH_DEADLINE,
    verbose: bool = False,
) -> PatchedController:
    """Build (or find cached) a kube-controller-manager from ``diff_text`` applied to
    k8s.io/kubernetes ``version``: its path, whether the cache answered, and how long the build
    took. See the module docstring.

    ``progress`` gets ``[build_patched] ...`` lines (with the Go output when ``verbose``).
    The diff is applied first (a diff that does not apply costs no build); then the normal
    binaries of ``version`` are built if missing (their wrapper module is reused).

    Raises:
        PatchError: the diff is not a unified diff or does not apply.
        BuildError: the Go build failed (e.g. the patched source does not compile) or the
            deadline passed.

    """
    version = normalize_version(version)
    root = root or cache_dir()
    key = patch_key(version, diff_text)
    diff_targets(diff_text)  # refuse a malformed diff before anything is built
    where = patch_dir(version, diff_text, root)
    found = find_patched_controller(version, diff_text, root)
    if found is not None:
        return PatchedController(found, key, 0.0, True)
    started = time.monotonic()
    with _locked(where, progress):
        found = find_patched_controller(version, diff_text, root)
        if found is not None:  # built by the process we waited for
            return PatchedController(found, key, 0.0, True)
        source = where / "src"
        progress(f"{_LOG} step=apply start patch {key} onto k8s.io/kubernetes@{version}")
        (where / "patch.diff").write_text(diff_text, encoding="utf-8")
        try:
            prepare_source(module_dir(version), source, diff_text)
        except PatchError:
            _rmtree(source)
            raise
        progress(f"{_LOG} step=apply ok {time.monotonic() - started:.0f}s")
        # After the apply step, so that a diff that does not apply costs no build at all.
        if find_binaries(version, root=root) is None:
            progress(f"{_LOG} the normal binaries of {version} are missing: building them first")
            build_binaries(version, progress=progress, root=root)
        remaining = deadline - (time.monotonic() - started)
        _run_script(version, root, where, bool(diff_text.strip()), progress, remaining, verbose)
        binary = where / CONTROLLER
        if not (binary.is_file() and os.access(binary, os.X_OK)):
            raise BuildError(f"build_patched.sh succeeded but left no {binary}", step="verify",
                             returncode=0, output_tail=[])
        seconds = time.monotonic() - started
        _stamp(where).write_text(
            f"name={CONTROLLER}\nversion={version}\nkey={key}\n"
            f"diff_sha256={hashlib.sha256(diff_text.encode()).hexdigest()}\n"
            f"built={time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\n"
            f"seconds={seconds:.1f}\n", encoding="utf-8")
        _rmtree(source)
        _rmtree(where / "build")
        return PatchedController(binary, key, seconds, False)


def _run_script(version: str, root: Path, where: Path, patched: bool, progress: Progress,
                deadline: float, verbose: bool) -> None:
    env = dict(os.environ)
    env["STS_PROPS_TREE_STATE"] = "dirty" if patched else "clean"
    log = where / "build.log"
    run = run_build_script(["bash", str(build_patched_script()), version, str(root), str(where)],
                           prefix=_LOG, first_step="patched-gomod",
                           what=f"patched build of {version}", deadline=deadline,
                           progress=progress, verbose=verbose, env=env, log=log)
    if run.returncode != 0:
        raise BuildError(f"build_patched.sh {version} failed with exit status {run.returncode}",
                         step=run.step, returncode=run.returncode, output_tail=run.tail,
                         log=str(log))
