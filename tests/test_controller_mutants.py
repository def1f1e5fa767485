"""Controller mutants without a Go build or a cluster: the catalogue's diffs apply to the module
source of k8s.io/kubernetes v1.37.2, the patched build's cache key, the apply step (refusal of a
diff that does not apply; the module cache is never written), and the report's arithmetic.

The build and a run on kwok are in tests/test_controller_mutants_kwok.py."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sts_props.cluster.base import BackendUnavailable
from sts_props.cluster.kwok.patched import (
    PatchError,
    apply_diff,
    build_patched,
    diff_targets,
    find_patched_controller,
    patch_dir,
    patch_key,
    prepare_source,
)
from sts_props.controller_mutants import (
    CATALOGUE_DIR,
    ControllerMutantReport,
    ControllerMutantResult,
    by_name,
    catalogue,
    select,
)

VERSION = "v1.37.2"
PKG = "pkg/controller/statefulset/"


def _cached_module() -> Path | None:
    """k8s.io/kubernetes@v1.37.2 in the Go module cache, if it is there (never downloads)."""
    go = shutil.which("go")
    if go is None:
        return None
    modcache = subprocess.run([go, "env", "GOMODCACHE"], capture_output=True, text=True,
                              timeout=60, check=False).stdout.strip()
    module = Path(modcache) / "k8s.io" / f"kubernetes@{VERSION}"
    return module if (module / "go.mod").is_file() else None


MODULE = _cached_module()
needs_module = pytest.mark.skipif(
    MODULE is None or shutil.which("patch") is None,
    reason=f"needs GNU patch and k8s.io/kubernetes@{VERSION} in the Go module cache "
           f"(`sts-props cluster build` puts it there)")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- the catalogue ---------------------------------------------------------------------------
def test_the_catalogue_lists_every_diff_once_with_rules() -> None:
    mutants = catalogue()
    assert len(mutants) >= 15
    assert sorted(m.file.name for m in mutants) == sorted(
        p.name for p in CATALOGUE_DIR.glob("*.diff"))
    assert len({m.name for m in mutants}) == len(mutants)
    for m in mutants:
        assert m.rules and m.description, m.name
        assert m.file.name.endswith(f"-{m.name}.diff"), m.name
        assert bool(m.upstream) == m.historical, m.name


def test_each_diff_changes_only_the_statefulset_controller() -> None:
    for m in catalogue():
        strip, targets = diff_targets(m.diff())
        assert strip == 1, m.name
        assert targets, m.name
        assert all(t.startswith(PKG) and t.endswith(".go") and not t.endswith("_test.go")
                   for t in targets), (m.name, targets)


@needs_module
@pytest.mark.parametrize("name", [m.name for m in catalogue()])
def test_the_diff_applies_cleanly_to_the_module_source(name: str) -> None:
    assert MODULE is not None
    proc = subprocess.run(
        ["patch", "--dry-run", "-p1", "--batch", "--forward", "--fuzz=0", "-d", str(MODULE)],
        input=by_name(name).diff(), capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "offset" not in proc.stdout and "fuzz" not in proc.stdout, proc.stdout


def test_select_keeps_the_order_asked_for_and_refuses_unknown_names() -> None:
    assert [m.name for m in select(["scale-down-ascending", "ordered-no-ready-wait"])] == [
        "scale-down-ascending", "ordered-no-ready-wait"]
    with pytest.raises(ValueError, match="unknown controller mutant 'nope'; known: "):
        select(["nope"])


def test_a_bad_index_is_refused(tmp_path: Path) -> None:
    (tmp_path / "index.toml").write_text('[[mutant]]\nname = "x"\nfile = "x.diff"\n'
                                         'description = "d"\nrules = ["ID-7"]\n')
    with pytest.raises(ValueError, match="no file"):
        catalogue(tmp_path)
    (tmp_path / "x.diff").write_text("")
    assert catalogue(tmp_path)[0].name == "x"
    (tmp_path / "index.toml").write_text('[[mutant]]\nname = "control"\nfile = "x.diff"\n'
                                         'description = "d"\nrules = []\n')
    with pytest.raises(ValueError, match="reserved name 'control'"):
        catalogue(tmp_path)


# -- the cache key ---------------------------------------------------------------------------
def test_the_cache_key_is_the_version_and_the_exact_diff(tmp_path: Path) -> None:
    diff = by_name("scale-down-ascending").diff()
    key = patch_key(VERSION, diff)
    assert len(key) == 16 and int(key, 16) >= 0
    assert key == patch_key("1.37.2", diff)
    assert key != patch_key("v1.36.3", diff)
    assert key != patch_key(VERSION, diff + "\n")
    assert key != patch_key(VERSION, "")  # the control has its own build
    assert patch_dir(VERSION, diff, tmp_path) == tmp_path / "k8s-v1.37.2" / "patched" / key


def test_a_cached_build_counts_only_with_its_stamp(tmp_path: Path) -> None:
    where = patch_dir(VERSION, "", tmp_path)
    where.mkdir(parents=True)
    binary = where / "kube-controller-manager"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    assert find_patched_controller(VERSION, "", tmp_path) is None
    (where / ".kube-controller-manager.stamp").write_text("version=v1.37.2\n")
    assert find_patched_controller(VERSION, "", tmp_path) == binary
    result = build_patched(VERSION, "", progress=lambda _l: None, root=tmp_path)
    assert (result.path, result.cached, result.seconds) == (binary, True, 0.0)


# -- reading a diff --------------------------------------------------------------------------
def test_diff_targets_takes_git_prefixes_or_plain_paths() -> None:
    git = "diff --git a/pkg/a.go b/pkg/a.go\n--- a/pkg/a.go\n+++ b/pkg/a.go\n@@ -1 +1 @@\n-x\n+y\n"
    assert diff_targets(git) == (1, ["pkg/a.go"])
    plain = "--- pkg/a.go\n+++ pkg/a.go\n@@ -1 +1 @@\n-x\n+y\n"
    assert diff_targets(plain) == (0, ["pkg/a.go"])
    assert diff_targets("\n  \n") == (0, [])
    with pytest.raises(PatchError, match="not a unified diff"):
        diff_targets("just some text\n")
    with pytest.raises(PatchError, match="outside the kubernetes repository: /etc/x"):
        diff_targets("--- /etc/x\n+++ /etc/x\n")


# -- the apply step --------------------------------------------------------------------------
def _fake_module(tmp_path: Path) -> Path:
    """A read-only tree like the Go module cache's."""
    module = tmp_path / "mod" / "kubernetes@v1.37.2"
    (module / "pkg").mkdir(parents=True)
    (module / "go.mod").write_text("module k8s.io/kubernetes\n")
    (module / "pkg" / "a.go").write_text("package pkg\n\nconst A = 1\n")
    for path in (module / "go.mod", module / "pkg" / "a.go"):
        path.chmod(0o444)
    for path in (module / "pkg", module):
        path.chmod(0o555)
    return module


HEAD = "--- a/pkg/a.go\n+++ b/pkg/a.go\n@@ -1,3 +1,3 @@\n package pkg\n \n"
GOOD = HEAD + "-const A = 1\n+const A = 2\n"
BAD = HEAD + "-const A = 7\n+const A = 2\n"


@pytest.mark.skipif(shutil.which("patch") is None, reason="needs GNU patch")
def test_the_copy_is_patched_and_the_module_is_not(tmp_path: Path) -> None:
    module = _fake_module(tmp_path)
    original = module / "pkg" / "a.go"
    before = _sha(original)
    dest = tmp_path / "src"
    try:
        prepare_source(module, dest, GOOD)
        assert (dest / "pkg" / "a.go").read_text().endswith("const A = 2\n")
        assert _sha(original) == before and original.stat().st_nlink == 1  # link broken
        assert (module / "go.mod").stat().st_nlink == 2  # untouched files stay linked
        assert os.stat(dest / "go.mod").st_ino == os.stat(module / "go.mod").st_ino  # linked
        assert os.stat(dest / "pkg" / "a.go").st_ino != os.stat(original).st_ino
        assert not list(dest.rglob("*.orig")) and not list(dest.rglob("*.rej"))
    finally:
        for path in (module / "pkg", module):
            path.chmod(0o755)


@pytest.mark.skipif(shutil.which("patch") is None, reason="needs GNU patch")
def test_a_diff_that_does_not_apply_is_refused_in_one_line(tmp_path: Path) -> None:
    module = _fake_module(tmp_path)
    dest = tmp_path / "src"
    try:
        with pytest.raises(PatchError) as err:
            prepare_source(module, dest, BAD)
        message = str(err.value)
        assert "\n" not in message
        assert message.startswith("the diff does not apply to k8s.io/kubernetes@v1.37.2: "
                                  "pkg/a.go: Hunk #1 FAILED"), message
        assert (dest / "pkg" / "a.go").read_text().endswith("const A = 1\n")  # all or nothing
        missing = "--- a/pkg/zz.go\n+++ b/pkg/zz.go\n@@ -1 +1 @@\n-x\n+y\n"
        with pytest.raises(PatchError, match="does not apply"):
            apply_diff(dest, missing)
    finally:
        for path in (module / "pkg", module):
            path.chmod(0o755)


@needs_module
def test_build_patched_refuses_a_diff_that_does_not_apply_before_building(
        tmp_path: Path) -> None:
    # An empty cache root: had it got past the apply step it would start building everything.
    diff = by_name("scale-down-ascending").diff().replace("descendingOrdinal", "noSuchOrdinal")
    with pytest.raises(PatchError, match=r"does not apply to k8s.io/kubernetes@v1.37.2: "
                                         r"pkg/controller/statefulset/stateful_set_control.go"):
        build_patched(VERSION, diff, progress=lambda _l: None, root=tmp_path)
    assert not list(tmp_path.rglob("kube-controller-manager"))
    assert not (patch_dir(VERSION, diff, tmp_path) / "src").exists()


@needs_module
def test_patching_a_copy_of_the_real_module_leaves_the_module_cache_alone(
        tmp_path: Path) -> None:
    assert MODULE is not None
    target = MODULE / PKG / "stateful_set_control.go"
    before = _sha(target)
    dest = tmp_path / "src"
    prepare_source(MODULE, dest, by_name("scale-down-ascending").diff())
    try:
        assert "sort.Sort(ascendingOrdinal(condemned))" in (dest / PKG /
                                                            "stateful_set_control.go").read_text()
        assert _sha(target) == before
        assert "sort.Sort(descendingOrdinal(condemned))" in target.read_text()
    finally:
        for dirpath, _d, _f in os.walk(dest):
            os.chmod(dirpath, 0o755)


# -- wiring and reports ----------------------------------------------------------------------
def test_a_patched_controller_is_only_for_the_kwok_backend(tmp_path: Path) -> None:
    from sts_props.cluster.backends import make_cluster

    with pytest.raises(BackendUnavailable, match="only on --backend kwok, not 'k3s'"):
        make_cluster("k3s", controller_manager=tmp_path / "kcm")
    cluster = make_cluster("kwok", controller_manager=tmp_path / "kcm")
    assert getattr(cluster, "controller_manager", None) == tmp_path / "kcm"


def test_the_report_scores_mutants_and_flags_an_unclean_control() -> None:
    results = [
        ControllerMutantResult("control", caught=True, rule="ST-7", message="stale"),
        ControllerMutantResult("a", ("ID-7",), caught=True, first_violation_seconds=10.0,
                               rule="CMP/ID-7", shrunk_ops=3),
        ControllerMutantResult("b", ("ORD-4",), caught=True, first_violation_seconds=30.0),
        ControllerMutantResult("c", ("ST-2",)),
        ControllerMutantResult("d", ("ST-2",), error="build: does not compile"),
    ]
    report = ControllerMutantReport(results, 100.0, VERSION)
    assert report.score == (2, 3)
    assert report.median_first_violation == 20.0
    assert report.control_clean is False
    text = report.render()
    assert "controller mutation score: 2/3 (67%), median time to first violation 20.0 s" in text
    assert "CONTROL NOT CLEAN" in text
    assert "| a | ID-7 | caught | 10.0 s | CMP/ID-7 | 3 |" in text
    assert "| c | ST-2 | survived | - |" in text
    assert "d: not run: build: does not compile" in text


def test_the_control_is_clean_only_if_every_run_is() -> None:
    def controls(*caught: bool) -> list[ControllerMutantResult]:
        return [ControllerMutantResult("control", seed=seed, caught=c, rule="ST-7" if c else "")
                for seed, c in enumerate(caught, 1)]

    clean = ControllerMutantReport(controls(False, False, False), 10.0, VERSION)
    assert clean.control_clean is True
    assert "no violations in 3 runs" in clean.render()
    assert "| control (seed 2) | - | clean |" in clean.render()
    dirty = ControllerMutantReport(controls(False, False, True), 10.0, VERSION)
    assert dirty.control_clean is False
    assert dirty.control is dirty.results[2]  # the run that shows the violation is named
    assert "CONTROL NOT CLEAN: the unmodified controller shows ST-7" in dirty.render()
    broken = controls(False, False)
    broken[1].error = "cluster: no apiserver"
    assert ControllerMutantReport(broken).control_clean is None


def test_a_catch_the_control_replay_refutes_does_not_count() -> None:
    flaky = ControllerMutantResult("a", ("ID-7",), caught=True, first_violation_seconds=9.0,
                                   rule="CHK-7/UPD-8", confirmed=False,
                                   control_violation="CHK-7/UPD-8: pod deleted")
    real = ControllerMutantResult("b", ("ST-7",), caught=True, first_violation_seconds=30.0,
                                  confirmed=True)
    report = ControllerMutantReport([ControllerMutantResult("control"), flaky, real])
    assert (flaky.verdict, real.verdict) == ("unconfirmed", "caught")
    assert report.score == (1, 2) and report.median_first_violation == 30.0
    assert ("a: CHK-7/UPD-8 NOT CONFIRMED: the unmodified controller fails the counterexample "
            "too (CHK-7/UPD-8: pod deleted)") in report.render()
    timing = ControllerMutantResult("c", ("ST-2",), caught=True, reproduced=False,
                                    rule="CHK-7/UPD-8")
    report = ControllerMutantReport([real, timing])
    assert timing.verdict == "unconfirmed" and report.score == (1, 2)
    assert ("c: CHK-7/UPD-8 NOT CONFIRMED: the counterexample passed every time it was run "
            "again on the mutant") in report.render()


# -- the command line ------------------------------------------------------------------------
def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sts_props.cli", *args], capture_output=True,
                          text=True, timeout=120, check=False)


def _one_line_error(proc: subprocess.CompletedProcess[str], code: int = 2) -> str:
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


@needs_module
def test_cluster_build_refuses_a_patch_that_does_not_apply(tmp_path: Path) -> None:
    bad = tmp_path / "stale.diff"
    bad.write_text(by_name("scale-down-ascending").diff().replace("descendingOrdinal(condemned)",
                                                                  "someOtherOrdinal(condemned)"))
    env = {**os.environ, "STS_PROPS_CACHE": str(tmp_path / "cache")}  # nothing built there
    proc = subprocess.run([sys.executable, "-m", "sts_props.cli", "cluster", "build", "--patch",
                           str(bad)], capture_output=True, text=True, timeout=120, check=False,
                          env=env)
    line = _one_line_error(proc)
    assert line.startswith(f"sts-props: error: --patch {bad}: the diff does not apply to "
                           "k8s.io/kubernetes@v1.37.2: pkg/controller/statefulset/"
                           "stateful_set_control.go: Hunk #1 FAILED"), line
    assert not list((tmp_path / "cache").rglob("kube-*"))


def test_patch_is_refused_off_kwok_and_when_unreadable(tmp_path: Path) -> None:
    diff = tmp_path / "x.diff"
    diff.write_text(GOOD)
    line = _one_line_error(_cli("check", "--backend", "model", "--patch", str(diff)))
    assert "--patch needs --backend kwok: the model backend's kube-controller-manager" in line
    line = _one_line_error(_cli("replay", "tests/regressions/basic-identity.yaml", "--backend",
                                "k3s", "--patch", str(diff)))
    assert "--patch needs --backend kwok: the k3s backend's" in line
    line = _one_line_error(_cli("check", "--backend", "kwok", "--patch",
                                str(tmp_path / "missing.diff")))
    assert f"--patch {tmp_path / 'missing.diff'}: cannot read it" in line
    line = _one_line_error(_cli("cluster", "status", "--patch", str(diff)))
    assert "--patch goes with build or up, not status" in line


def test_mutants_controller_lists_the_catalogue_and_refuses_bad_options() -> None:
    proc = _cli("mutants", "--controller", "--list")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == len(catalogue())
    assert lines[20].startswith("21-parallel-broken-pod-blocks-update.diff "
                                "parallel-broken-pod-blocks-update [UPD-10, ORD-7]: ")
    assert "historical: kubernetes/kubernetes#137409" in lines[20]
    line = _one_line_error(_cli("mutants", "--controller", "--only", "nope"))
    assert "unknown controller mutant 'nope'" in line
    line = _one_line_error(_cli("mutants", "--controller", "--backend", "kubeconfig"))
    assert "--controller runs on kwok clusters of its own" in line
    line = _one_line_error(_cli("mutants", "--clusters", "2", "--list"))  # model mutants
    assert "--clusters is for --controller" in line
    line = _one_line_error(_cli("mutants", "--controller", "--clusters", "0"))
    assert "--clusters: expected a whole number >= 1" in line
