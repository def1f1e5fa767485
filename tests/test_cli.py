"""The command line: bad input gives one line naming the file and the rule, exit code 2; a
cluster that cannot be had, one line and exit code 3."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sts_props.ops import Create, RevertTemplate
from sts_props.plan import Plan
from sts_props.scenario import Manifests, Scenario


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sts_props.cli", *args], capture_output=True,
                          text=True, timeout=120, check=False)


def _one_line_error(proc: subprocess.CompletedProcess[str], code: int = 2) -> str:
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_not_yaml_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("kind: StatefulSet\nspec: [unclosed\n")
    line = _one_line_error(_cli("validate", str(bad)))
    assert str(bad) in line and "not valid YAML" in line


def test_not_a_statefulset_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "deploy.yaml"
    bad.write_text(yaml.safe_dump({"apiVersion": "apps/v1", "kind": "Deployment"}))
    line = _one_line_error(_cli("check", "--manifests", str(bad), "--examples", "1"))
    assert str(bad) in line and "Deployment" in line


@pytest.mark.parametrize(("edit", "rule"), [
    (lambda s: s["spec"].__setitem__("replicas", -1), "VAL-5"),
    (lambda s: s["metadata"].__setitem__("name", "Redis.Cache"), "VAL-4"),
    (lambda s: s["spec"].__setitem__("serviceName", "Not_A_Label"), "VAL-6"),
])
def test_invalid_statefulset_names_file_and_rule(tmp_path: Path, edit: object, rule: str) -> None:
    sts = Manifests.seed().statefulset
    edit(sts)  # type: ignore[operator]
    path = tmp_path / "sts.yaml"
    path.write_text(yaml.safe_dump(sts))
    line = _one_line_error(_cli("validate", str(path)))
    assert str(path) in line and f"[{rule}]" in line


def test_missing_path_and_bad_version(tmp_path: Path) -> None:
    assert "no such file" in _one_line_error(_cli("validate", str(tmp_path / "nope.yaml")))
    assert "not a Kubernetes version" in _one_line_error(
        _cli("validate", "--k8s-version", "banana", str(tmp_path)))


def test_valid_seed_is_accepted() -> None:
    seed = Path(__file__).resolve().parents[1] / "sts_props" / "data"
    proc = _cli("validate", str(seed))
    assert proc.returncode == 0 and "redis is valid" in proc.stdout


def test_kubeconfig_backend_refuses_an_unknown_cluster(tmp_path: Path) -> None:
    """A kubeconfig pointing at a cluster sts-props did not create (here: nothing listens) is
    refused with one line, never a traceback, and exit code 3 (no cluster), not 2."""
    cfg = tmp_path / "kubeconfig"
    cfg.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
        "users": [{"name": "u", "user": {"token": "x"}}]}))
    line = _one_line_error(_cli("check", "--backend", "kubeconfig", "--kubeconfig", str(cfg),
                                "--examples", "1"), code=3)
    assert "127.0.0.1:1" in line


def test_a_missing_kubeconfig_is_bad_input(tmp_path: Path) -> None:
    """The file given is the problem (exit 2), not the cluster behind it (that would be 3)."""
    line = _one_line_error(_cli("check", "--backend", "kubeconfig", "--kubeconfig",
                                str(tmp_path / "nope"), "--examples", "1"))
    assert str(tmp_path / "nope") in line and "no such kubeconfig file" in line


def _first_party_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
             for alias in node.names]
    names += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    return [n for n in names if n == "sts_props" or n.startswith("sts_props.")]


def test_the_library_never_imports_the_cli() -> None:
    package = Path(__file__).resolve().parents[1] / "sts_props"
    offenders = {str(path.relative_to(package)): imports
                 for path in package.rglob("*.py") if "cli" not in path.relative_to(package).parts
                 for imports in [[n for n in _first_party_imports(path)
                                  if n == "sts_props.cli" or n.startswith("sts_props.cli.")]]
                 if imports}
    assert offenders == {}


def test_vocabulary_modules_import_nothing_first_party() -> None:
    package = Path(__file__).resolve().parents[1] / "sts_props"
    for name in ("errors.py", "defaults.py"):
        assert _first_party_imports(package / name) == [], name


def test_a_plan_op_that_cannot_be_applied_is_bad_input(tmp_path: Path) -> None:
    """The spec editor's PlanError is the plan files' PlanError: one line, exit code 2."""
    path = tmp_path / "plan.yaml"
    path.write_text(Plan(Scenario(Manifests.seed(), (Create(), RevertTemplate(5)))).dumps())
    line = _one_line_error(_cli("replay", str(path), "--backend", "model",
                                "--artifacts", str(tmp_path / "artifacts")))
    # refused when the plan loads (ops[1] names the op), before the spec editor meets it
    assert "ops[1] (revert_template): version" in line and "got 5" in line
