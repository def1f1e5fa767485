"""Mutation score on a real cluster (``pytest --sts-backend=kwok``): every mutant of
sts_props.mutants is caught by a differential run, with a shrunk counterexample and a control
run of the unmutated model that agrees with the cluster on it.

Small budgets, and four mutants side by side (a scenario that disturbs the whole cluster runs
alone), keep this within a few minutes on a 2-core machine (``sts-props mutants`` uses larger
budgets); the table is printed for the CI log.
"""

from __future__ import annotations

import pytest

from sts_props.cluster.base import Cluster
from sts_props.mutant_names import MUTANT_NAMES
from sts_props.mutation_runs import run_mutation_suite

pytestmark = pytest.mark.cluster


def test_every_mutant_is_caught_on_the_cluster(sts_cluster: Cluster) -> None:
    report = run_mutation_suite(sts_cluster, MUTANT_NAMES, examples=4, budget=2,
                                op_timeout=10.0, seed=5, progress=lambda _line: None, jobs=4)
    print("\n" + report.render())
    assert len(report.results) == len(MUTANT_NAMES) >= 10
    survivors = [r.render() for r in report.results if not r.caught]
    assert not survivors, "\n".join(survivors)
    for result in report.results:
        assert result.shrunk is not None and result.control_ok is True
        assert result.first_seconds is not None and result.first_seconds <= result.seconds
