"""JUnit XML for CI: one ``<testcase>`` per scenario a suite ran.

``sts-props check ... --junit report.xml`` writes it. A passing scenario is an empty testcase;
the minimal counterexample of a failing run is a testcase with a ``<failure>`` whose message is
the first violation and whose text is every violation plus the scenario's YAML plan (replayable:
``Scenario.from_yaml``). CI systems (GitLab, Jenkins, GitHub test reporters) show both. A passing
scenario that met a known upstream deviation (F-11: compared with the model up to it) says so in
its ``<system-out>``.

>>> from sts_props.ops import Create, Settle
>>> from sts_props.scenario import Manifests, Scenario
>>> sc = Scenario(Manifests.seed(), (Create(), Settle()))
>>> xml = junit_xml("model (v1.37.2)", [JUnitCase.passed(1, sc, 0.01)])
>>> '<testsuite name="sts-props model (v1.37.2)" tests="1" failures="0"' in xml
True
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sts_props.checks import Violation
from sts_props.scenario import Scenario

if TYPE_CHECKING:
    from sts_props.suite import SuiteSummary


@dataclass(frozen=True)
class JUnitCase:
    """One scenario as a testcase; ``failure`` is None when it passed."""

    name: str
    seconds: float
    failure: str | None = None
    details: str = ""
    #: the ``<system-out>`` text: the known upstream deviations a passing scenario met
    output: str = ""

    @staticmethod
    def passed(number: int, scenario: Scenario, seconds: float,
               known: Sequence[str] = ()) -> JUnitCase:
        return JUnitCase(_case_name(number, scenario), seconds, output="\n".join(known))

    @staticmethod
    def failed(number: int, scenario: Scenario, violations: Sequence[Violation],
               seconds: float = 0.0) -> JUnitCase:
        text = "\n".join(v.describe() for v in violations)
        first = violations[0].describe() if violations else "failed"
        return JUnitCase(_case_name(number, scenario) + " (minimal counterexample)", seconds,
                         first, f"{text}\n\nplan (YAML, replayable):\n{scenario.to_yaml()}")


def _case_name(number: int, scenario: Scenario) -> str:
    kinds = ", ".join(op.kind for op in scenario.ops[:5])
    more = ", ..." if len(scenario.ops) > 5 else ""
    return f"scenario {number}: {len(scenario.ops)} ops ({kinds}{more})"


def cases_of(summary: SuiteSummary) -> list[JUnitCase]:
    """The testcases of a suite run: every passing scenario, then the counterexample if any."""
    cases = [JUnitCase.passed(i, p.scenario, p.seconds, p.known)
             for i, p in enumerate(summary.passed, 1)]
    if summary.counterexample is not None:
        cases.append(JUnitCase.failed(len(cases) + 1, summary.counterexample,
                                      summary.violations))
    return cases


def junit_xml(suite_name: str, cases: Sequence[JUnitCase]) -> str:
    """The XML document (a single ``<testsuite>``, which every JUnit consumer reads)."""
    failures = sum(1 for c in cases if c.failure is not None)
    root = ET.Element("testsuite", {
        "name": f"sts-props {suite_name}", "tests": str(len(cases)),
        "failures": str(failures), "errors": "0", "skipped": "0",
        "time": f"{sum(c.seconds for c in cases):.3f}"})
    for case in cases:
        el = ET.SubElement(root, "testcase", {
            "classname": "sts-props", "name": case.name, "time": f"{case.seconds:.3f}"})
        if case.failure is not None:
            failure = ET.SubElement(el, "failure", {"message": case.failure,
                                                    "type": "PropertyViolation"})
            failure.text = case.details
        if case.output:
            ET.SubElement(el, "system-out").text = case.output
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def write_junit(path: Path, summary: SuiteSummary) -> None:
    """Write ``summary`` as JUnit XML to ``path`` (parent directories are created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(junit_xml(summary.backend, cases_of(summary)), encoding="utf-8")


__all__ = ["JUnitCase", "cases_of", "junit_xml", "write_junit"]
