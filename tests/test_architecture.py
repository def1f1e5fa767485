"""The floor plan, checked from the source (issue 11): imports flow one way, no cycles, no
function-local first-party import that only hides a cycle, hypothesis stays out of the engine,
the model does no I/O, generic code names no backend, and CONTRIBUTING.md's map lists every
module in the layer the code puts it in.

Layers, lowest first (a module may import its own layer and the ones below, never above)::

    vocabulary   errors, defaults, versions, ops, scenario, history, snapshot, plan, ...
    engines      model/, checks/, cluster/, report/, doctor, manifest_files, mutants
    runners      differential, suite, explore, claims, replay, strategies/, pytest_plugin, ...
    cli          cli/

The sets below are the lists; a new module goes into one of them (a test fails until it does)
and into the table of CONTRIBUTING.md.

Imports under ``if TYPE_CHECKING:`` are annotations, not dependencies: they may point sideways
inside a layer (a fault executor names the ``ClusterRun`` that calls it), never upwards.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sts_props"

VOCABULARY = {
    "sts_props.errors", "sts_props.defaults", "sts_props.ops", "sts_props.scenario",
    "sts_props.history", "sts_props.snapshot", "sts_props.plan", "sts_props.outcome",
    "sts_props.spec_edit", "sts_props.expect", "sts_props.interleaving", "sts_props.versions",
    "sts_props.mutant_names", "sts_props.manifest_shapes", "sts_props.user_files",
}
ENGINES = ("sts_props.model", "sts_props.checks", "sts_props.cluster", "sts_props.report",
           "sts_props.doctor", "sts_props.manifest_files", "sts_props.mutants")
RUNNERS = {
    "sts_props.differential", "sts_props.suite", "sts_props.selection", "sts_props.corners",
    "sts_props.shrink", "sts_props.concurrent_runs", "sts_props.explore", "sts_props.claims",
    "sts_props.mutation_runs", "sts_props.mutant_scenarios", "sts_props.controller_mutants",
    "sts_props.dryrun", "sts_props.replay", "sts_props.seed_scenario", "sts_props.coverage",
    "sts_props.junit", "sts_props.storage_data", "sts_props.time_share", "sts_props.strategies",
    "sts_props.pytest_plugin",
}
CLI = ("sts_props.cli",)
#: packages that must not depend on Hypothesis (it is a test-generation tool, not a runtime need)
NO_HYPOTHESIS = (*ENGINES, *sorted(VOCABULARY))
#: the backends' own packages; ``cluster/backends.py`` is the one generic module that names them
BACKEND_PACKAGES = ("sts_props.cluster.kwok", "sts_props.cluster.kwok_image",
                    "sts_props.cluster.k3s", "sts_props.cluster.kubeconfig",
                    "sts_props.cluster.docker")
#: what exists for one backend only and so imports it by name: patched controllers run only on
#: kwok (controller mutants, ``--patch``, replaying a plan with a patch); ``sts-props cluster``
#: builds, starts and lists kwok clusters and the kwok-image image
KWOK_ONLY = {"sts_props.cluster.backends", "sts_props.controller_mutants",
             "sts_props.cli.replay", "sts_props.cli.cluster", "sts_props.cli.options"}
#: standard modules that mean I/O, a clock, randomness or threads: none of them in the model
IMPURE = {"time", "os", "io", "pathlib", "subprocess", "socket", "threading", "random",
          "shutil", "tempfile", "urllib", "http", "kubernetes", "yaml", "logging", "signal"}


def _within(module: str, prefixes: tuple[str, ...] | set[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def layer_of(module: str) -> int:
    """0 vocabulary, 1 engines, 2 runners, 3 cli. The root package is a facade that re-exports
    the most used names (``from sts_props import run_model``): a runner."""
    if module in VOCABULARY:
        return 0
    if _within(module, ENGINES):
        return 1
    if _within(module, CLI):
        return 3
    if _within(module, RUNNERS) or module == "sts_props":
        return 2
    raise AssertionError(f"{module} is in no layer: add it to a set in tests/test_architecture.py "
                         "and to the map in CONTRIBUTING.md")


@dataclass(frozen=True)
class Import:
    source: str          # importing module
    target: str          # imported first-party module, or a third-party top-level name
    line: int
    local: bool          # inside a function
    type_only: bool      # under ``if TYPE_CHECKING:``
    comment: str         # the source line and the one above it (for the "deferred" reason)


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    paths = [Path(d) / f for d, _dirs, files in os.walk(PACKAGE, followlinks=True)
             for f in files if f.endswith(".py")]  # followlinks: strategies/ is a symlink
    for path in sorted(paths):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _resolve(name: str) -> str | None:
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports() -> Iterator[Import]:
    for module, path in MODULES.items():
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]

        def visit(node: ast.AST, local: bool, type_only: bool,
                  module: str = module, package: str = package,
                  lines: list[str] = lines) -> Iterator[Import]:
            for child in ast.iter_child_nodes(node):
                in_fn = local or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
                in_tc = type_only or (isinstance(child, ast.If)
                                      and "TYPE_CHECKING" in ast.unparse(child.test))
                names: list[str] = []
                if isinstance(child, ast.Import):
                    names = [a.name for a in child.names]
                elif isinstance(child, ast.ImportFrom):
                    base = child.module or ""
                    if child.level:
                        up = package.split(".")[: len(package.split(".")) - child.level + 1]
                        base = ".".join([*up, base] if base else up)
                    names = [f"{base}.{a.name}" for a in child.names] or [base]
                for name in names:
                    target = _resolve(name) or name.split(".")[0]
                    if target == module:
                        continue
                    lineno = child.lineno
                    context = " ".join(lines[max(0, lineno - 2): lineno])
                    yield Import(module, target, lineno, in_fn, in_tc, context)
                yield from visit(child, in_fn, in_tc)

        yield from visit(ast.parse(text), False, False)


IMPORTS = list(_imports())
FIRST_PARTY = [i for i in IMPORTS if i.target in MODULES]


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            strong(v)
    return found


def test_the_scan_sees_the_package() -> None:
    assert {"sts_props.ops", "sts_props.cli", "sts_props.strategies.ops",
            "sts_props.cluster.kwok.cluster"} <= set(MODULES)
    assert any(i.target == "sts_props.ops" for i in FIRST_PARTY)


def test_no_import_cycle_between_first_party_modules() -> None:
    edges: dict[str, set[str]] = {}
    for imp in FIRST_PARTY:
        if not imp.type_only:
            edges.setdefault(imp.source, set()).add(imp.target)
    assert _cycles(edges) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_function_local_first_party_imports_are_only_deferrals() -> None:
    """A first-party import inside a function is allowed only to defer a slow optional
    dependency, and says so with a ``# deferred: <why>`` comment."""
    hidden = [f"{i.source}:{i.line} imports {i.target}" for i in FIRST_PARTY
              if i.local and not i.type_only and "deferred:" not in i.comment]
    assert hidden == []


@pytest.mark.parametrize("layer,name", [(0, "vocabulary"), (1, "engines"), (2, "runners")])
def test_imports_flow_one_way(layer: int, name: str) -> None:
    upward = [f"{i.source}:{i.line} ({name}) imports {i.target}" for i in FIRST_PARTY
              if layer_of(i.source) == layer and layer_of(i.target) > layer]
    assert upward == []


def test_layering_flags_an_upward_import() -> None:
    assert layer_of("sts_props.ops") < layer_of("sts_props.model.runner") \
        < layer_of("sts_props.suite") < layer_of("sts_props.cli.check")


def test_engine_and_vocabulary_do_not_import_hypothesis() -> None:
    users = [f"{i.source}:{i.line}" for i in IMPORTS
             if i.target == "hypothesis" and _within(i.source, NO_HYPOTHESIS)]
    assert users == []


def test_only_the_cli_imports_the_cli() -> None:
    outside = [f"{i.source}:{i.line}" for i in FIRST_PARTY
               if _within(i.target, CLI) and not _within(i.source, CLI)]
    assert outside == []


def test_every_module_is_in_a_layer() -> None:
    unplaced = []
    for module in MODULES:
        try:
            layer_of(module)
        except AssertionError:
            unplaced.append(module)
    assert unplaced == []


def test_the_model_is_pure() -> None:
    """No I/O, no clock, no randomness in the model: it reads its inputs and the chooser's
    answers only, so a scenario replays to the same History (and a plan's interleavings to the
    same steps)."""
    impure = [f"{i.source}:{i.line} imports {i.target}" for i in IMPORTS
              if _within(i.source, ("sts_props.model",))
              and (i.target.split(".")[0] in IMPURE
                   or (i.target in MODULES and layer_of(i.target) > 0
                       and not _within(i.target, ("sts_props.model",))))]
    assert impure == []


def test_generic_code_names_no_backend() -> None:
    """What differs per backend is a method of Cluster; only ``cluster/backends.py`` and what
    exists for kwok alone (:data:`KWOK_ONLY`) import a backend's package."""
    named = [f"{i.source}:{i.line} imports {i.target}" for i in FIRST_PARTY
             if _within(i.target, BACKEND_PACKAGES) and not i.type_only
             and not _within(i.source, BACKEND_PACKAGES) and i.source not in KWOK_ONLY]
    assert named == []


def _contributing_layers() -> dict[str, set[str]]:
    """The modules each row of CONTRIBUTING.md's map names: ``{"vocabulary": {"errors", ...}}``."""
    text = (PACKAGE.parent / "CONTRIBUTING.md").read_text(encoding="utf-8")
    rows: dict[str, set[str]] = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] in ("vocabulary", "engines", "runners", "cli"):
            rows[cells[0]] = set(re.findall(r"`([a-z_]+)/?`", cells[1]))
    return rows


def test_contributing_map_lists_each_module_in_its_layer() -> None:
    top = {m.split(".")[1] for m in MODULES if m.count(".") >= 1}
    by_layer: dict[str, set[str]] = {"vocabulary": set(), "engines": set(), "runners": set(),
                                     "cli": set()}
    for name in top:
        layer = layer_of(f"sts_props.{name}")
        by_layer[("vocabulary", "engines", "runners", "cli")[layer]].add(name)
    assert _contributing_layers() == by_layer


def test_tests_readme_names_every_test_file() -> None:
    """tests/README.md is the map of the tests: each ``test_*.py`` is in its table."""
    tests = PACKAGE.parent / "tests"
    text = (tests / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`(test_[a-z0-9_]+\.py)`", text))
    assert sorted(p.name for p in tests.glob("test_*.py") if p.name not in named) == []
