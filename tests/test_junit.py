"""JUnit XML reports (sts_props.junit) and ``sts-props check --junit``."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from sts_props.checks import Violation
from sts_props.cli import main
from sts_props.junit import cases_of, junit_xml, write_junit
from sts_props.ops import Create, Scale, Settle
from sts_props.scenario import Manifests, Scenario
from sts_props.suite import Passed, SuiteSummary


def _scenario(n: int) -> Scenario:
    return Scenario(Manifests.seed(), (Create(), Scale(n), Settle()))


def test_one_testcase_per_passing_scenario_and_one_failure_with_the_plan(
        tmp_path: Path) -> None:
    summary = SuiteSummary("model (v1.37.2)")
    for n in (1, 2, 3):
        summary.add(Passed(_scenario(n), 0.25, accepted=(True, True, True), steps=9))
    summary.counterexample = _scenario(4)
    summary.violations = [Violation("CHK-3", "CHK-3/ORD-1", "redis-2 created before redis-1 "
                                    "was Ready <&>", (7, 9))]
    write_junit(tmp_path / "out" / "junit.xml", summary)
    root = ET.parse(tmp_path / "out" / "junit.xml").getroot()
    assert root.tag == "testsuite"
    assert (root.get("tests"), root.get("failures")) == ("4", "1")
    cases = root.findall("testcase")
    assert [c.find("failure") is None for c in cases] == [True, True, True, False]
    failure = cases[3].find("failure")
    assert failure is not None
    assert failure.get("message") == ("CHK-3/ORD-1: redis-2 created before redis-1 was Ready "
                                      "<&> [#7, #9]")
    plan = (failure.text or "").split("plan (YAML, replayable):\n", 1)[1]
    assert Scenario.from_yaml(plan) == _scenario(4)
    assert float(cases[0].get("time") or 0) == pytest.approx(0.25)


def test_a_known_upstream_deviation_is_in_the_passing_case_s_output() -> None:
    summary = SuiteSummary("kwok (v1.37.2)")
    summary.add(Passed(_scenario(1), 0.25, accepted=(True, True, True), steps=9))
    summary.add(Passed(_scenario(2), 0.25, accepted=(True, True, True), steps=9,
                       known=("... known upstream deviation F-11 (docs/findings.md)",)))
    root = ET.fromstring(junit_xml("x", cases_of(summary)))
    assert root.get("failures") == "0"
    outputs = [case.find("system-out") for case in root.findall("testcase")]
    assert outputs[0] is None
    assert outputs[1] is not None and "F-11" in (outputs[1].text or "")


def test_empty_run_is_a_valid_suite() -> None:
    root = ET.fromstring(junit_xml("x", cases_of(SuiteSummary("x"))))
    assert root.get("tests") == "0" and not root.findall("testcase")


def test_check_junit_writes_a_testcase_per_scenario(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.xml"
    code = main(["check", "--backend", "model", "--examples", "6", "--seed", "2",
                 "--database", str(tmp_path / "db"), "--junit", str(out)])
    assert code == 0
    root = ET.parse(out).getroot()
    assert root.get("tests") == "6" and root.get("failures") == "0"
    assert all(c.get("name", "").startswith("scenario ") for c in root.findall("testcase"))
    assert f"junit: {out}" in capsys.readouterr().out
