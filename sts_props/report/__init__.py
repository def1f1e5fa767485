"""Counterexamples people can act on: the files written for a failing run.

* :mod:`.artifacts`: one directory per failing run: ``plan.yaml``, ``history.jsonl`` (and
  ``model-history.jsonl`` for a differential run), ``explanation.md``, ``timeline.svg``.
* :mod:`.explain`: each violation in sentences (what happened, which rule, which records).
* :mod:`.timeline_svg`: one lane per ordinal (phase, readiness, revision over the History),
  ops and faults as vertical lines, the violations' records highlighted.
* :mod:`.lanes`: the per-ordinal segments the picture is drawn from.
* :mod:`.rules`: one-line titles of the checks and rule families, for the explanation.

Usage::

    from sts_props.report import write_artifacts
    where = write_artifacts(Path("artifacts"), plan, history, violations)
"""

from sts_props.report.artifacts import write_artifacts
from sts_props.report.explain import explain
from sts_props.report.timeline_svg import timeline_svg

__all__ = ["explain", "timeline_svg", "write_artifacts"]
