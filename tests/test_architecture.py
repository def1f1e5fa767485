"""The floor plan, checked from the source (issue 11): imports flow one way, no cycles, no
function-local first-party import that only hides a cycle, hypothesis stays out of the engine.

Layers, lowest first (a module may import its own layer and the ones below, never above)::

    vocabulary   errors, defaults, versions, ops, scenario, history, snapshot, plan, ...
    engines      model/, checks/, cluster/, report/, doctor
    runners      differential, suite, explore, claims, mutants, replay, strategies/, pytest plugin
    cli          cli/

Imports under ``if TYPE_CHECKING:`` are annotations, not dependencies: they may point sideways
inside a layer (a fault executor names the ``ClusterRun`` that calls it), never upwards.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sts_props"

VOCABULARY = {
    "sts_props.errors", "sts_props.defaults", "sts_props.ops", "sts_props.scenario",
    "sts_props.history", "sts_props.snapshot", "sts_props.plan", "sts_props.outcome",
    "sts_props.spec_edit", "sts_props.expect", "sts_props.interleaving", "sts_props.versions",
    "sts_props.mutant_names", "sts_props.manifest_shapes",
}
ENGINES = ("sts_props.model", "sts_props.checks", "sts_props.cluster", "sts_props.report",
           "sts_props.doctor", "sts_props.manifest_files", "sts_props.mutants")
CLI = ("sts_props.cli",)
#: packages that must not depend on Hypothesis (it is a test-generation tool, not a runtime need)
NO_HYPOTHESIS = ("sts_props.model", "sts_props.checks", "sts_props.cluster", "sts_props.history",
                 "sts_props.report", *sorted(VOCABULARY))


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
    return 2


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
