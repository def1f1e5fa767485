"""How sts-props installs: strategies ship as ``sts_props.strategies`` and nothing named
``strategies`` lands in site-packages, so a user project's own ``strategies.py`` keeps working
next to the plugin (issue 11)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "STS_PROPS_PROFILE")}
    environ.update(env)
    return subprocess.run(args, cwd=cwd, env=environ, capture_output=True, text=True,
                          timeout=300, check=False)


def test_wheel_installs_only_the_sts_props_package(tmp_path: Path) -> None:
    # A copy: setuptools writes build/ and *.egg-info next to the sources it builds.
    source = tmp_path / "src"
    shutil.copytree(REPO, source, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".hypothesis", ".tox", "build", "*.egg-info", "__pycache__", "artifacts"))
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                  "-q", "-w", str(tmp_path), str(source)], cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("sts_props-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/", 1)[0] for name in names}
    assert tops == {"sts_props", next(t for t in tops if t.endswith(".dist-info"))}, tops
    assert "sts_props/strategies/ops.py" in names
    assert "sts_props/cluster/kwok/build_binaries.sh" in names
    assert "sts_props/cluster/kwok/build_progress.sh" in names
    # the patched-controller build and the controller mutant catalogue (sts-props mutants
    # --controller) ship too
    assert "sts_props/cluster/kwok/build_patched.sh" in names
    assert "sts_props/data/controller_mutants/index.toml" in names
    assert "sts_props/data/controller_mutants/05-scale-down-ascending.diff" in names
    # the licence as an SPDX expression (a TOML table is deprecated: setuptools warns on every
    # install and stops building such projects after 2027-02-18)
    metadata = zipfile.ZipFile(wheel).read(
        next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: Apache-2.0" in metadata.splitlines()
    assert "deprecated" not in built.stderr, built.stderr


def test_a_clean_directory_cannot_import_strategies(tmp_path: Path) -> None:
    probe = _run([sys.executable, "-c", "import strategies"], cwd=tmp_path)
    assert probe.returncode != 0
    assert "No module named 'strategies'" in probe.stderr
    ours = _run([sys.executable, "-c", "import sts_props.strategies as s; print(s.scenarios)"],
                cwd=tmp_path)
    assert ours.returncode == 0, ours.stderr


@pytest.fixture
def user_project(tmp_path: Path) -> Path:
    """A project with its own top-level ``strategies.py``, using the plugin and the plan API."""
    (tmp_path / "strategies.py").write_text("USERS_OWN = True\n")
    (tmp_path / "test_user.py").write_text(textwrap.dedent("""
        import strategies
        from hypothesis import given, settings
        from sts_props.model import ModelConfig
        from sts_props.model.runner import run_model
        from sts_props.plan import Plan
        from sts_props.strategies import scenarios

        def test_own_module_is_the_users():
            assert strategies.USERS_OWN

        def test_profile_is_loaded():
            assert settings.default.max_examples == 10  # the "cluster" profile

        @given(scenarios(max_ops=4))
        def test_model_runs(scenario):
            config = ModelConfig.for_version("v1.37.2")
            assert run_model(scenario, config).history is not None
            assert Plan.__name__ == "Plan"
    """))
    return tmp_path


def test_user_project_with_its_own_strategies_module(user_project: Path) -> None:
    result = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                   "--sts-profile=cluster"], cwd=user_project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def test_profile_from_the_environment_in_a_user_project(user_project: Path) -> None:
    result = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                  cwd=user_project, STS_PROPS_PROFILE="cluster")
    assert result.returncode == 0, result.stdout + result.stderr


def test_unknown_profile_is_a_usage_error_not_an_internal_error(user_project: Path) -> None:
    result = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                   "--sts-profile=nope"], cwd=user_project)
    assert result.returncode == pytest.ExitCode.USAGE_ERROR
    assert "INTERNALERROR" not in result.stdout + result.stderr
    assert "unknown Hypothesis profile 'nope'" in result.stderr
