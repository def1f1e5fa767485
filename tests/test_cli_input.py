"""The command line as a process (issue 14): a closed stdout, Ctrl-C and SIGTERM in the middle
of a run, ``--help`` and ``--version``, and the pytest plugin's options.

Each run here is a real ``python -m sts_props.cli`` (or ``python -m pytest``) process on the
model; nothing starts a cluster. The values of single flags are fuzzed in-process by
``tests/test_cli_fuzz.py``.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from sts_props.cli import main
from sts_props.cli.app import COMMANDS, build_parser
from sts_props.cli.arguments import HelpFormatter, package_version
from sts_props.cli.guard import StdoutClosed, guarded
from sts_props.cluster.lifecycle import Terminated, raise_terminated

REPO = Path(__file__).resolve().parent.parent


def _env(**extra: str) -> dict[str, str]:
    """This checkout first on the path (the plugin and the CLI under test), no profile."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "STS_PROPS_PROFILE")}
    env.update(PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1", **extra)
    return env


def _cli(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "sts_props.cli", *args], cwd=cwd,
                            env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


# -- a closed stdout ----------------------------------------------------------------------------
def test_a_closed_stdout_ends_the_run_quietly(tmp_path: Path) -> None:
    """``sts-props check | head -1``: the reader leaves after the first line; the next write
    ends the run with 141 (128 + SIGPIPE) and nothing on stderr (it used to be a
    BrokenPipeError traceback)."""
    proc = _cli(["check", "--examples", "5", "--seed", "1", "--database", str(tmp_path / "db")],
                tmp_path)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # what `head -1` does after its line
    err = proc.stderr.read()
    proc.wait(timeout=120)
    assert first.startswith("sts-props: 5 scenarios on the model"), first
    assert proc.returncode == 141, err
    assert err == ""


def test_a_closed_stdout_in_a_shell_pipeline(tmp_path: Path) -> None:
    script = (f"{sys.executable} -m sts_props.cli claims --examples 3 --search 3 --seed 1 "
              "| head -1; echo \"exit=${PIPESTATUS[0]}\"")
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=_env(), text=True,
                          capture_output=True, timeout=300, check=False)
    assert done.stdout.splitlines()[0].startswith("sts-props: the seed's claims"), done.stdout
    assert done.stdout.splitlines()[-1] == "exit=141", done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr


# -- interrupts -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("signum", "code", "notice"), [
    (signal.SIGINT, 130, "sts-props: interrupted (SIGINT); cleaned up"),
    (signal.SIGTERM, 143, "sts-props: terminated (SIGTERM); cleaned up"),
], ids=["sigint", "sigterm"])
def test_an_interrupted_check_reports_what_finished(tmp_path: Path, signum: int, code: int,
                                                    notice: str) -> None:
    """Ctrl-C or SIGTERM during a long model run (once scenarios have finished, some 6 s
    after the start): exit 130 / 143 within seconds, a one-line
    notice on stderr, the summary of the scenarios that finished on stdout, the JUnit file of
    those scenarios, and none of Hypothesis's "add @seed(...)" advice."""
    junit = tmp_path / "report.xml"
    proc = _cli(["check", "--examples", "100000", "--database", str(tmp_path / "db"),
                 "--junit", str(junit)], tmp_path)
    assert proc.stdout is not None
    header = proc.stdout.readline()  # the run has started
    progress = proc.stdout.readline()  # scenarios have finished (a line every 5 s)
    assert progress.startswith("  ... "), header + progress
    time.sleep(1)
    proc.send_signal(signum)
    sent = time.monotonic()
    out, err = proc.communicate(timeout=120)
    text = header + progress + out + err
    assert time.monotonic() - sent < 30, "the run did not stop at the signal"
    assert proc.returncode == code, text
    assert err.strip().splitlines() == [notice], err
    name = "SIGINT" if signum == signal.SIGINT else "SIGTERM"
    finished = re.search(rf"sts-props: interrupted \({name}\): the summary of the (\d+) "
                         "scenarios that finished", out)
    assert finished is not None and int(finished.group(1)) > 0, out
    assert re.search(rf"^scenarios: {finished.group(1)}  ops: ", out, re.M), out
    cases = ET.parse(junit).getroot().findall("testcase")
    assert len(cases) == int(finished.group(1)) > 0
    assert "@seed" not in text and "Traceback" not in text and "Exception ignored" not in text


def test_an_interrupted_claims_run_reports_the_verdicts_so_far(tmp_path: Path) -> None:
    proc = _cli(["claims", "--examples", "100000"], tmp_path)
    assert proc.stdout is not None
    proc.stdout.readline()
    time.sleep(2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, out + err
    assert "claims that finished on the model" in out
    assert "@seed" not in out + err and "Traceback" not in out + err


def test_an_interrupt_python_swallowed_is_delivered_again() -> None:
    """A KeyboardInterrupt raised where Python can only print "Exception ignored" (a gc
    callback, ``__del__``; Hypothesis's gc callback runs all the time) is not lost: the signal
    comes again a moment later, outside."""
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler

    class Swallowed:
        def __del__(self) -> None:
            raise KeyboardInterrupt

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt), guarded():
        Swallowed()  # dropped at once: __del__ raises, Python reports it and goes on
        while time.monotonic() - started < 10:
            time.sleep(0.01)
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("before", ["default", "backend"])
def test_sigterm_swallowed_is_delivered_again_as_terminated(before: str) -> None:
    """Whether SIGTERM still has Python's default or a backend started in this process has
    installed its handler already (``exit_on_sigterm``; in a pytest worker an earlier test may
    have), a swallowed Terminated comes again; what was there before is put back."""
    class Swallowed:
        def __del__(self) -> None:
            raise Terminated("signal 15")

    handler = signal.SIG_DFL if before == "default" else raise_terminated
    previous = signal.signal(signal.SIGTERM, handler)
    try:
        started = time.monotonic()
        with pytest.raises(Terminated), guarded():
            Swallowed()
            while time.monotonic() - started < 10:
                time.sleep(0.01)
        assert time.monotonic() - started < 5
        assert signal.getsignal(signal.SIGTERM) is handler  # put back
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_the_guarded_stdout() -> None:
    class Closed(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    class Latin1(io.StringIO):
        encoding = "latin-1"

        def write(self, text: str) -> int:
            text.encode(self.encoding)  # raises as a real stream would
            return super().write(text)

    before = sys.stdout
    sys.stdout = Closed()
    try:
        with pytest.raises(StdoutClosed), guarded():
            print("the reader is gone")
    finally:
        sys.stdout = before
    sys.stdout = latin = Latin1()
    try:
        with guarded():
            print("r\u00e9sum\u00e9 \u2603")  # a name the terminal cannot encode
    finally:
        sys.stdout = before
    assert latin.getvalue() == "r\u00e9sum\u00e9 \\u2603\n"


# -- help and version -----------------------------------------------------------------------------
def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def test_every_flag_has_help_and_every_command_examples() -> None:
    commands = _subparsers()
    assert sorted(commands) == sorted(COMMANDS)
    for name, parser in commands.items():
        text = parser.format_help()
        assert "examples:\n  sts-props " + name in text, name
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            where = f"{name} {action.option_strings or action.dest}"
            assert action.help, f"{where}: no help"
            # every value goes through a checking type (sts_props.cli.arguments), never a bare
            # int, float or Path that takes -3 or "" without a word
            assert action.type not in (int, float, Path), f"{where}: unchecked type"
            if action.option_strings and action.default not in (None, False, [],
                                                                argparse.SUPPRESS):
                # the help as printed names the default (the formatter adds it, or the help
                # explains it in words)
                shown = HelpFormatter(name)._get_help_string(action) or ""
                assert "default" in shown, f"{where}: default {action.default!r} not shown"


def test_help_shows_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--examples N          number of generated scenarios (default: 200)" in out
    assert "(default: .hypothesis/sts-props)" in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"sts-props {package_version()}"
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", package_version())


def test_a_usage_error_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main(["check", "--no-such-flag"]) == 2
    assert main(["nope"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3 and all(" error: " in line for line in lines), lines


# -- the pytest plugin's options ------------------------------------------------------------------
@pytest.fixture
def pytest_project(tmp_path: Path) -> Path:
    (tmp_path / "test_trivial.py").write_text(
        "def test_model(model_config):\n    assert model_config.version\n")
    return tmp_path


@pytest.mark.parametrize(("args", "env", "names"), [
    (["--sts-backend=nope"], {}, "--sts-backend"),
    (["--k8s-version=garbage"], {}, "--k8s-version"),
    (["--sts-profile=nope"], {}, "--sts-profile"),
    ([], {"STS_PROPS_PROFILE": "nope"}, "STS_PROPS_PROFILE"),
    (["--sts-jobs=0"], {}, "--sts-jobs"),
    (["--sts-jobs=many"], {}, "--sts-jobs"),
], ids=["backend", "version", "profile", "profile-env", "jobs-0", "jobs-word"])
def test_a_bad_plugin_option_is_a_usage_error(pytest_project: Path, args: list[str],
                                              env: dict[str, str], names: str) -> None:
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           *args], cwd=pytest_project, env=_env(**env), text=True,
                          capture_output=True, timeout=300, check=False)
    text = done.stdout + done.stderr
    assert done.returncode == 4, text  # pytest's exit code for a usage error
    assert "INTERNALERROR" not in text and "Traceback" not in text, text
    assert names in done.stderr, text


def test_a_bad_profile_is_a_usage_error_in_this_repository_too() -> None:
    """tests/conftest.py loads the profile itself (the default "model" included): an unknown
    STS_PROPS_PROFILE stops the run with one line there too, not a conftest traceback."""
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/test_rule_titles.py"], cwd=REPO,
                          env=_env(STS_PROPS_PROFILE="nope"), text=True, capture_output=True,
                          timeout=300, check=False)
    text = done.stdout + done.stderr
    assert done.returncode == 4, text
    assert "Traceback" not in text and "STS_PROPS_PROFILE" in done.stderr, text


def test_good_plugin_options_run_the_tests(pytest_project: Path) -> None:
    (pytest_project / "test_jobs.py").write_text(
        "def test_jobs(sts_jobs):\n    assert sts_jobs == 3\n")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "--k8s-version=v1.36.3", "--sts-profile=model", "--sts-jobs=3"],
                          cwd=pytest_project, env=_env(), text=True, capture_output=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
