"""Fuzzing the command line (issue 14, "no traceback on any input").

Hypothesis writes command lines for every subcommand: each flag with a value that is fine or
not (negative, zero, huge, floats, words, empty, unicode; paths that are files, directories,
missing, under a file), in any combination, then runs ``sts_props.cli.main(argv)`` in-process
with stdout and stderr captured and the working directory an empty temporary one. The
property, for every command line:

* the exit code is the documented one (``sts_props.cli.exit_codes``): 2 exactly when some
  value is bad (an oracle here says which, from the flag's documented range), otherwise what
  the command does with good input: 0/1 a verdict, 3 no cluster;
* no traceback, ever; for 2 and 3 exactly one line on stderr;
* nothing appears in the working directory (every output went where the line said).

Nothing here starts a cluster or a long run: the cluster entry points raise
``BackendUnavailable`` (exit code 3, what a backend that cannot run here gives), and the
long-running library calls are replaced by quick stand-ins, except ``check --backend model``
with 1-3 small scenarios and ``replay`` of a small plan on the model, which run for real, and
``validate``. Failing examples are kept in their own database (``.hypothesis/cli-fuzz``).

``STS_PROPS_CLI_FUZZ_EXAMPLES`` sets the number of command lines (default 1000).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import io
import math
import os
import re
import shutil
import string
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase

import sts_props.cli.app as cli_app
import sts_props.cli.check as cli_check
import sts_props.cli.claims as cli_claims
import sts_props.cli.cluster as cli_cluster
import sts_props.cli.doctor as cli_doctor
import sts_props.cli.explore as cli_explore
import sts_props.cli.options as cli_options
import sts_props.cli.replay as cli_replay
from sts_props.claims import CLAIMS, Verdict
from sts_props.cli import main
from sts_props.cli.arguments import gate_setting
from sts_props.cli.options import MAX_REPLICAS_LIMIT
from sts_props.defaults import BACKENDS, STARTED_BACKENDS
from sts_props.errors import BackendUnavailable, BuildError
from sts_props.explore import ModelTier
from sts_props.model import ModelConfig
from sts_props.mutant_names import MUTANT_NAMES
from sts_props.ops import Create, Scale, Settle
from sts_props.plan import Plan
from sts_props.scenario import Manifests, Scenario
from sts_props.suite import SuiteSummary
from sts_props.versions import release_version

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "sts_props" / "data"
DATABASE = REPO / ".hypothesis" / "cli-fuzz"
EXAMPLES = int(os.environ.get("STS_PROPS_CLI_FUZZ_EXAMPLES", "1000"))


# -- the places a command line can name ---------------------------------------------------------
@dataclass(frozen=True)
class Sandbox:
    root: Path

    @property
    def cwd(self) -> Path:  # the working directory of every run: must stay empty
        return self.root / "cwd"

    @property
    def file(self) -> Path:  # a plain file (not a manifest, not a plan, not a directory)
        return self.root / "file.txt"

    @property
    def dir(self) -> Path:  # an empty directory
        return self.root / "dir"

    @property
    def out(self) -> Path:  # a directory outputs may go into
        return self.root / "out"

    @property
    def missing(self) -> Path:
        return self.root / "missing"

    @property
    def plan(self) -> Path:  # a small plan that passes on the model
        return self.root / "plan.yaml"

    @property
    def into(self) -> Path:  # promote's target, emptied before every run
        return self.root / "regressions"


    def reset(self) -> None:
        """Every directory a run may write into, as it was: each run starts alike."""
        for d in (self.dir, self.out, self.into, self.missing):
            shutil.rmtree(d, ignore_errors=True)
        for d in (self.cwd, self.dir, self.out, self.into):
            d.mkdir(exist_ok=True)
        self.file.write_text("not a manifest, not a plan\n")  # --junit may overwrite it


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    box = Sandbox(tmp_path_factory.mktemp("cli-fuzz"))
    box.reset()
    scenario = Scenario(Manifests.seed(), (Create(), Scale(1), Settle()))
    plan = dataclasses.replace(Plan.of(scenario, ModelConfig()), name="fuzz-plan")
    box.plan.write_text(plan.dumps())
    return box


# -- values: each with the oracle's answer, "can this value be used?" --------------------------
Value = tuple[str, bool]  # (text, fine)


@dataclass(frozen=True)
class Spec:
    """The values of one flag: ``good`` only usable ones, ``any`` usable or not (each with the
    oracle's answer, from the flag's documented range)."""

    good: st.SearchStrategy[Value]
    any: st.SearchStrategy[Value]


def spec(good: st.SearchStrategy[str], other: st.SearchStrategy[str],
         fine: Callable[[str], bool]) -> Spec:
    return Spec(good.map(lambda t: (t, True)).filter(lambda v: fine(v[0])),
                st.one_of(good, other).map(lambda t: (t, fine(t))))


_WHOLE = re.compile(r"\s*[+-]?[0-9]+\s*")
JUNK = st.one_of(
    st.sampled_from(["", " ", "-", "+", "1.5", "1e3", "0x10", "1_000", "nan", "inf", "-inf",
                     "\u0663", "\uff15", "ten", "--", "=", "3 4", "\t"]),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
            max_size=12))


def whole(least: int, most: int | None = None, big: int = 10**30) -> Spec:
    """Whole numbers in and around [least, most], floats and junk; fine iff a whole number in
    range."""
    def fine(text: str) -> bool:
        if not _WHOLE.fullmatch(text):
            return False
        value = int(text)
        return value >= least and (most is None or value <= most)

    top = most if most is not None else big
    good = st.one_of(st.integers(least, min(top, least + 5)).map(str),
                     st.integers(least, top).map(str),
                     st.integers(least, top).map(lambda n: f" {n} "))
    bad = st.one_of(st.integers(least - 10**6, least - 1).map(str),
                    st.integers(top + 1, top + 10**40).map(str),
                    st.floats(allow_nan=True, allow_infinity=True).map(repr), JUNK)
    return spec(good, bad, fine)


def seconds() -> Spec:
    def fine(text: str) -> bool:
        try:
            value = float(text)
        except ValueError:
            return False
        return math.isfinite(value) and value > 0

    return spec(st.floats(1e-3, 1e6).map(repr),
                st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr),
                          st.integers(-5, 5).map(str), JUNK), fine)


def durations() -> Spec:
    pattern = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*")

    def fine(text: str) -> bool:
        m = pattern.fullmatch(text)
        return m is not None and float(m.group(1)) > 0

    number_unit = st.tuples(st.integers(0, 10**6), st.sampled_from(["", "s", "m", "h", "d"]))
    return spec(number_unit.map(lambda p: f"{p[0]}{p[1]}"),
                st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), JUNK),
                fine)


def versions() -> Spec:
    def fine(text: str) -> bool:
        try:
            ModelConfig.for_version(release_version(text))
        except ValueError:
            return False
        return True

    return spec(st.sampled_from(["v1.37.2", "v1.36.3", "1.36.3", "v1.35.4", "v1.38.0-beta.0"]),
                JUNK, fine)


def gates() -> Spec:
    """``--gate``: usable values are settings every version takes (the per-version refusals
    have their own tests in test_bad_input.py and test_recreate_model.py)."""
    def fine(text: str) -> bool:
        try:
            name, _ = gate_setting(text)
        except argparse.ArgumentTypeError:
            return False
        return name == "MaxUnavailableStatefulSet"

    return spec(st.sampled_from(["MaxUnavailableStatefulSet=true",
                                 "MaxUnavailableStatefulSet=false"]),
                st.one_of(JUNK, st.sampled_from(["Nope=true", "MaxUnavailableStatefulSet=on"])),
                fine)


def choices(options: list[str]) -> Spec:
    return spec(st.sampled_from(options), JUNK, lambda t: t in options)


def texts() -> Spec:
    return spec(st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True), JUNK,
                lambda t: bool(t.strip()))


def places(box: Sandbox, good: tuple[str, ...], bad: tuple[str, ...],
           junk: bool = False) -> Spec:
    """Paths in the sandbox and the repository's manifests (or ``""``): ``good`` ones the flag
    can use, ``bad`` ones it cannot; ``junk``: also junk text as a path (for inputs only: junk
    names nothing in the empty working directory, and an output would be written there)."""
    where = {
        "file": str(box.file), "dir": str(box.dir), "missing": str(box.missing / "x"),
        "under-file": str(box.file / "x"), "new-in-out": str(box.out / "new-dir"),
        "deep-missing": str(box.missing / "a" / "b"), "empty": "",
        "plan": str(box.plan), "data": str(DATA),
        "manifest": str(DATA / "redis-statefulset-demo.yaml"),
        "into": str(box.into),
    }
    other = st.sampled_from(bad).map(where.__getitem__)
    if junk:  # never absolute, "~" or "." / "..": that would send a run scanning real places
        other = st.one_of(other, JUNK.filter(
            lambda t: t.strip() not in (".", "..") and not t.startswith(("/", "~"))))
    return spec(st.sampled_from(good).map(where.__getitem__), other,
                lambda t: t in {where[k] for k in good})


def output_file(box: Sandbox) -> Spec:
    """--junit: a file whose directory exists (it is not created); an existing file is
    overwritten. Only places in the sandbox: never the repository's files."""
    named = st.text(string.ascii_letters + "-_.", min_size=1, max_size=12).map(
        lambda n: str(box.out / f"{n}.xml"))
    # Not "new-in-out": a file may be written there (its directory exists) or not (an
    # output-directory flag of an earlier example made it a directory), so its verdict
    # would depend on the order of the examples.
    base = places(box, ("file",), ("dir", "missing", "under-file", "deep-missing", "empty",
                                   "into"))
    return Spec(st.one_of(base.good, named.map(lambda t: (t, True))),
                st.one_of(base.any, named.map(lambda t: (t, True))))


def output_dir(box: Sandbox) -> Spec:
    """--database, --artifacts, --plans: a directory, created with its parents if missing."""
    return places(box, ("dir", "missing", "new-in-out", "deep-missing", "into"),
                  ("file", "under-file", "empty"))


def manifests(box: Sandbox) -> Spec:
    return places(box, ("data", "manifest"),
                  ("file", "dir", "missing", "under-file", "empty", "plan"), junk=True)


def plans(box: Sandbox) -> Spec:
    return places(box, ("plan",), ("file", "dir", "missing", "under-file", "empty", "data"),
                  junk=True)


# -- the command lines ---------------------------------------------------------------------------
Flags = dict[str, Spec]


def connection(box: Sandbox) -> Flags:
    # --kubeconfig is read when the cluster is made (a stand-in here): any non-empty path
    return {"--kubeconfig": places(box, ("file", "dir", "missing", "plan", "data", "into",
                                         "under-file"), ("empty",)),
            "--context": texts()}


def promote_names() -> Spec:
    return spec(st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True), JUNK,
                lambda t: re.fullmatch(r"[a-z0-9][a-z0-9-]{0,62}", t) is not None)


def flag_table(box: Sandbox) -> dict[str, Flags]:
    backend_options: Flags = {"--backend": choices(list(BACKENDS)), **connection(box),
                              "--k8s-version": versions(), "--manifests": manifests(box),
                              "--seed": whole(0)}
    return {
        "check": {"--backend": choices(list(BACKENDS)), "--image": texts(), **connection(box),
                  "--examples": whole(1), "--manifests": manifests(box),
                  "--k8s-version": versions(), "--seed": whole(0), "--max-ops": whole(1),
                  "--min-ops": whole(0), "--max-replicas": whole(0, MAX_REPLICAS_LIMIT),
                  "--database": output_dir(box), "--artifacts": output_dir(box),
                  "--junit": output_file(box), "--gate": gates()},
        "claims": {**backend_options, "--examples": whole(1), "--search": whole(1),
                   "--claim": whole(1, len(CLAIMS)), "--samples": whole(0),
                   "--plans": output_dir(box)},
        "explore": {**backend_options, "--budget": durations(), "--model-examples": whole(1),
                    "--subset": whole(1), "--max-ops": whole(1),
                    "--max-replicas": whole(0, MAX_REPLICAS_LIMIT),
                    "--artifacts": output_dir(box), "--gate": gates()},
        "mutants": {"--backend": choices(["kwok", "kubeconfig"]), **connection(box),
                    "--k8s-version": versions(), "--only": choices(list(MUTANT_NAMES)),
                    "--budget": whole(0), "--examples": whole(1), "--op-timeout": seconds(),
                    "--seed": whole(0), "--jobs": whole(1)},
        "replay": {"--backend": choices(list(BACKENDS)), **connection(box),
                   "--artifacts": output_dir(box)},
        # --into: never a directory of the repository (promote would write into it)
        "promote": {"--name": promote_names(), "--tag": texts(),
                    "--into": places(box, ("into",), ("file", "missing", "under-file",
                                                      "empty"))},
        "validate": {"--k8s-version": versions()},
        "seed": {"--backend": choices(list(STARTED_BACKENDS)), "--image": texts(),
                 "--manifests": manifests(box), "--k8s-version": versions()},
        "doctor": {"--backend": choices(list(STARTED_BACKENDS)), "--k8s-version": versions(),
                   "--image": texts()},
        "cluster": {"--k8s-version": versions(), "--name": texts()},
    }


SWITCHES = {"check": ["--faults", "--allow-existing-cluster"], "claims": [],
            "explore": [], "mutants": ["--no-control", "--list"], "replay": [],
            "promote": [], "validate": [], "seed": [], "doctor": [], "cluster": []}


def positionals(box: Sandbox) -> dict[str, Spec]:
    return {"replay": plans(box), "promote": plans(box), "validate": manifests(box),
            "cluster": choices(["build", "image", "up", "down", "status"])}


#: output paths: checked by the command (not by argparse), so only the value in use counts
CHECKED_BY_THE_COMMAND = frozenset({"--junit", "--database", "--artifacts", "--plans", "--into"})


@dataclass
class Line:
    """One generated command line and what the oracle knows about it."""

    command: str
    argv: list[str]
    fine: bool  # every value can be used
    values: dict[str, list[str]]  # flag -> the values given (in order)
    switches: set[str]

    def last(self, flag: str, default: str | None = None) -> str | None:
        return self.values[flag][-1] if self.values.get(flag) else default


@st.composite
def command_lines(draw: st.DrawFn, box: Sandbox) -> Line:
    """Half of them meant to be usable (each flag once, a usable value), half anything."""
    table = flag_table(box)
    command = draw(st.sampled_from(sorted(table)), label="command")
    flags = table[command]
    usable_only = draw(st.booleans(), label="usable only")
    chosen = draw(st.lists(st.sampled_from(sorted(flags)), max_size=5, unique=usable_only),
                  label="flags")
    argv: list[str] = []
    values: dict[str, list[str]] = {}
    fine = True
    usable: Counter[str] = Counter()
    last_ok: dict[str, bool] = {}
    for flag in chosen:
        text, ok = draw(flags[flag].good if usable_only else flags[flag].any, label=flag)
        ok &= text != "--"  # argparse cannot take "--" as a value: refused, whatever the flag
        argv.append(f"{flag}={text}")  # "=": a value that starts with "-" stays a value
        values.setdefault(flag, []).append(text)
        usable[flag] += ok
        if flag in CHECKED_BY_THE_COMMAND and text:  # (argparse refuses an empty path)
            last_ok[flag] = ok
        else:
            fine &= ok  # argparse checks every value it is given
    fine &= all(last_ok.values())  # given twice, the last one is the one used (and checked)
    # the manifests given make one scenario: two usable sets of them hold two StatefulSets
    fine &= usable["--manifests"] <= 1
    switches = set(draw(st.lists(st.sampled_from(SWITCHES[command]), max_size=2),
                        label="switches")) if SWITCHES[command] else set()
    argv += sorted(switches)
    rest = positionals(box).get(command)
    if rest is not None:
        many = 2 if command == "validate" else 1
        given_values = draw(st.lists(rest.good if usable_only else rest.any, min_size=1,
                                     max_size=many, unique=True), label="positional")
        fine &= all(ok for _, ok in given_values)
        if command != "validate":  # validate judges each StatefulSet given on its own
            fine &= sum(ok for _, ok in given_values) <= 1
        values["positional"] = [text for text, _ in given_values]
        if command == "cluster":
            argv = [given_values[0][0], *argv]
        else:
            argv += ["--", *(text for text, _ in given_values)]
    if not usable_only and draw(st.integers(0, 9), label="unknown flag") == 0:
        argv.append("--no-such-flag=1")
        fine = False
    return Line(command, [command, *argv], fine, values, switches)


# -- what a good command line ends with ------------------------------------------------------------
def expected(line: Line) -> set[int]:
    """The exit codes a command line whose every value is fine may end with."""
    backend = line.last("--backend")
    if line.command in ("check", "claims", "explore", "mutants", "replay", "seed"):
        chosen = backend or {"mutants": "kwok", "seed": "kwok"}.get(line.command, "model")
        if line.command == "replay" and backend is None:
            chosen = "kubeconfig"  # the plan's backend decides: nothing is refused up front
        kubeconfig_flags = ("--kubeconfig" in line.values or "--context" in line.values
                            or "--allow-existing-cluster" in line.switches)
        if (kubeconfig_flags and chosen != "kubeconfig") or (
                "--image" in line.values and chosen not in ("kwok-image", "k3s")):
            return {2}  # a flag the backend would ignore (refuse_ignored_flags)
        if chosen == "model" and ("--min-ops" in line.values or "--samples" in line.values):
            return {2}  # cluster-only flags on the model (refuse_ignored_flags)
    if line.command == "check":
        if backend not in (None, "model"):
            max_ops = int(line.last("--max-ops") or 12)
            return {2} if int(line.last("--min-ops") or 8) > max_ops else {3}
        return {0, 1}  # a verdict (1 only if the model broke a promise: then it says so)
    if line.command in ("claims", "explore"):
        return {0} if backend in (None, "model") else {3}
    if line.command == "mutants":
        return {0} if "--list" in line.switches else {3}
    if line.command == "replay":
        return {0} if backend in (None, "model") else {3}
    if line.command == "promote":  # the default --into, tests/regressions, is not in cwd
        return {0} if line.values.get("--into") else {2}
    if line.command == "validate":
        return {0}
    if line.command == "seed":
        return {3}
    if line.command == "doctor":
        backends = set(line.values.get("--backend", []))
        if "--image" in line.values and backends and not backends & {"kwok-image", "k3s"}:
            return {2}  # no backend named runs an image (refuse_ignored_flags)
        return {0}
    action = line.values["positional"][0]
    if action in ("build", "image", "up"):
        return {3}
    if action == "down":
        return {2} if line.values.get("--name") else {0}
    return {1}  # status: no binaries (stand-in)


# -- stand-ins for everything that would start a cluster or run long -----------------------------
def _no_cluster(*args: Any, **kwargs: Any) -> Any:
    raise BackendUnavailable("fuzz: no cluster here")


def _no_build(*args: Any, **kwargs: Any) -> Any:
    raise BuildError("fuzz: no build here", step="preflight", returncode=1, output_tail=[])


def stand_ins(mp: pytest.MonkeyPatch, counts: Counter[str]) -> None:
    # one parser for every run (argparse keeps no state between parses; building one costs
    # 20-30 ms, most of a run that fails validation)
    mp.setattr(cli_app, "build_parser", functools.cache(cli_app.build_parser))
    mp.setattr(cli_options, "make_cluster", _no_cluster)
    mp.setattr(cli_replay, "make_cluster", _no_cluster)
    mp.setattr(cli_cluster, "KwokCluster", _no_cluster)
    mp.setattr(cli_cluster, "build_binaries", _no_build)
    mp.setattr(cli_cluster, "prepare_image", _no_build)
    mp.setattr(cli_cluster, "find_binaries", lambda version: None)
    mp.setattr(cli_cluster.registry, "entries", lambda: [])
    mp.setattr(cli_doctor, "diagnose", lambda backends, version, image=None: [])

    real_suite = cli_check.run_model_suite

    def model_suite(**kwargs: Any) -> SuiteSummary:
        # for real when small (1-3 scenarios of the default size), else an empty passing run
        if kwargs["examples"] <= 3 and kwargs["max_ops"] <= 20 and kwargs["max_replicas"] <= 5:
            counts["real model suite runs"] += 1
            return real_suite(**kwargs)
        summary: SuiteSummary = kwargs["summary"]
        summary.backend = "model (stand-in)"
        return summary

    mp.setattr(cli_check, "run_model_suite", model_suite)
    mp.setattr(cli_claims, "evaluate_claim", lambda claim, *a, **k: Verdict(claim, "holds"))

    def explore_model(*args: Any, tier: ModelTier | None = None, **kwargs: Any) -> ModelTier:
        return tier if tier is not None else ModelTier()

    mp.setattr(cli_explore, "explore_model", explore_model)


@contextlib.contextmanager
def working_directory(path: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def run_line(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def fuzz(box: Sandbox, check: Callable[[Line], None], examples: int) -> None:
    @settings(max_examples=examples, deadline=None,
              database=DirectoryBasedExampleDatabase(str(DATABASE)),
              suppress_health_check=[HealthCheck.nested_given, HealthCheck.too_slow,
                                     HealthCheck.data_too_large])
    @given(command_lines(box))
    def prop(line: Line) -> None:
        check(line)

    prop()


def test_every_command_line_ends_with_its_documented_exit_code(sandbox: Sandbox) -> None:
    counts: Counter[str] = Counter()

    def check(line: Line) -> None:
        sandbox.reset()
        code, out, err = run_line(line.argv)
        counts["lines"] += 1
        counts[f"exit {code}"] += 1
        counts[line.command] += 1
        where = f"argv={line.argv!r}\nexit {code}\nstdout:\n{out[-2000:]}\nstderr:\n{err}"
        assert "Traceback" not in out + err, where
        assert code in (0, 1, 2, 3), where
        if not line.fine:
            assert code == 2, where
        else:
            assert code in expected(line), where
        if code in (2, 3):
            lines = err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("sts-props"), where
        left = sorted(str(p.relative_to(sandbox.cwd)) for p in sandbox.cwd.rglob("*"))
        assert left == [], f"{where}\nwritten into the working directory: {left}"

    started = time.monotonic()
    with pytest.MonkeyPatch.context() as mp, working_directory(sandbox.cwd):
        stand_ins(mp, counts)
        fuzz(sandbox, check, EXAMPLES)
    seconds_taken = time.monotonic() - started
    print(f"\ncli fuzz: {counts['lines']} command lines in {seconds_taken:.1f}s: "
          + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if k != "lines"))
    assert counts["lines"] >= min(EXAMPLES, 1000)


# -- the probes of issue 14, each a named regression test -----------------------------------------
def _refused(argv: list[str], *words: str) -> str:
    """Run ``argv``; it must end with exit code 2, one line on stderr naming ``words``, before
    any work (nothing on stdout)."""
    code, out, err = run_line(argv)
    assert code == 2, (code, out, err)
    assert "Traceback" not in out + err
    (line,) = err.strip().splitlines()
    assert all(word in line for word in words), line
    assert out == "", out
    return line


def test_a_negative_max_ops_is_refused_before_the_run() -> None:
    line = _refused(["check", "--max-ops", "-3"], "--max-ops", "'-3'", ">= 1")
    assert line.startswith("sts-props check: error: argument --max-ops")


def test_a_negative_max_replicas_is_refused_before_the_run() -> None:
    _refused(["check", "--max-replicas", "-1"], "--max-replicas", "from 0 to 100")
    _refused(["explore", "--max-replicas", "101"], "--max-replicas", "from 0 to 100")


def test_zero_max_ops_is_refused_not_read_as_the_default() -> None:
    # It used to mean 20: a scenario needs at least one op after the create.
    _refused(["check", "--max-ops", "0"], "--max-ops", "'0'")
    _refused(["explore", "--max-ops", "0"], "--max-ops")


@pytest.mark.parametrize("argv", [
    ["check", "--examples", "1.5"], ["check", "--examples", "0"], ["check", "--seed", "ten"],
    ["check", "--seed", "-1"], ["check", "--min-ops", "-1"], ["claims", "--search", "0"],
    ["claims", "--samples", "-1"], ["claims", "--claim", "5"], ["explore", "--subset", "0"],
    ["explore", "--model-examples", "x"], ["mutants", "--budget", "-1"],
    ["mutants", "--op-timeout", "nan"], ["mutants", "--op-timeout", "0"],
    ["explore", "--budget", "soon"], ["check", "--examples", "\u0663"],
    ["check", "--k8s-version", "garbage"], ["validate", ""], ["cluster", "down", "--name", ""],
    ["check", "--image", ""], ["check", "--k8s-version=--"], ["check", "--examples=--"],
], ids=lambda argv: " ".join(argv))
def test_a_bad_flag_value_is_one_line_and_exit_code_2(argv: list[str]) -> None:
    _refused(argv, "error:")


def test_junit_under_a_file_is_refused_before_the_run(tmp_path: Path) -> None:
    # It used to fail with FileExistsError after the whole run, losing the results.
    (tmp_path / "report.xml").write_text("")
    _refused(["check", "--examples", "1", "--database", str(tmp_path / "db"),
              "--junit", str(tmp_path / "report.xml" / "sub.xml")],
             "--junit", "report.xml is a file, not a directory")


def test_junit_in_a_missing_directory_is_refused_and_nothing_is_created(tmp_path: Path) -> None:
    # It used to create the directories silently.
    target = tmp_path / "nonexistent" / "dir" / "r.xml"
    _refused(["check", "--examples", "1", "--database", str(tmp_path / "db"),
              "--junit", str(target)], "--junit", "does not exist")
    assert not (tmp_path / "nonexistent").exists()


def test_an_unwritable_output_is_refused_before_the_run(tmp_path: Path) -> None:
    # /proc takes no new files, even from root
    _refused(["check", "--junit", "/proc/r.xml"], "--junit", "cannot write")
    _refused(["check", "--database", "/proc/sts-props-db"], "--database", "cannot write in")
    (tmp_path / "f").write_text("")
    plan = tmp_path / "plan.yaml"
    plan.write_text(Plan.of(Scenario(Manifests.seed(), (Create(),)), ModelConfig()).dumps())
    _refused(["replay", str(plan), "--artifacts", str(tmp_path / "f" / "a")], "--artifacts",
             "is a file, not a directory")
    _refused(["claims", "--plans", str(tmp_path / "f")], "--plans", "is a file")


def test_min_ops_above_max_ops_on_a_cluster_is_refused_before_the_cluster_starts(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def no_cluster(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a cluster was made for a command line that cannot run")

    monkeypatch.setattr(cli_options, "make_cluster", no_cluster)
    _refused(["check", "--backend", "kwok", "--min-ops", "13"], "--min-ops 13", "--max-ops 12")


def test_an_empty_cluster_name_does_not_mean_every_cluster(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # `cluster down --name ""` read "" as "no name given": it would have stopped every cluster
    monkeypatch.setattr(cli_cluster.registry, "entries", lambda: pytest.fail("read registry"))
    _refused(["cluster", "down", "--name", ""], "--name")


def test_an_error_that_quotes_a_line_break_stays_one_line(tmp_path: Path) -> None:
    line = _refused(["validate", str(tmp_path / "a\nb.yaml")], "a\\nb.yaml")
    assert "\n" not in line


def test_check_with_a_few_scenarios_writes_only_where_it_is_told(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    code, out, err = run_line(["check", "--examples", "2", "--seed", "1",
                               "--database", str(tmp_path / "db"),
                               "--artifacts", str(tmp_path / "artifacts"),
                               "--junit", str(tmp_path / "r.xml")])
    assert code == 0, out + err
    assert (tmp_path / "r.xml").read_text().count("<testcase") == 2
    assert list(work.iterdir()) == []
