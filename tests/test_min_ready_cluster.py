"""Cluster runs with minReadySeconds up to 5 s: which scenarios keep it (``cap_min_ready``), how
much longer an op may take (``min_ready_allowance``), and the driver's wait for availability.

Model-only: these are the pieces a cluster run uses before and between its ops.
"""

from __future__ import annotations

import pytest

from sts_props.differential import _not_yet_available
from sts_props.history import History
from sts_props.ops import Create, Op, Scale, SetMinReadySeconds, Settle
from sts_props.scenario import (
    CLUSTER_LONG_MIN_READY,
    CLUSTER_MAX_MIN_READY,
    LONG_MIN_READY_PODS,
    Manifests,
    Scenario,
    cap_min_ready,
    min_ready_allowance,
    scenario_min_ready,
)


def _scenario(replicas: int | None, min_ready: int, *ops: Op) -> Scenario:
    sts = Manifests.seed().statefulset
    if replicas is None:
        sts["spec"].pop("replicas", None)
    else:
        sts["spec"]["replicas"] = replicas
    sts["spec"]["minReadySeconds"] = min_ready
    manifests = Manifests.seed().with_statefulset(sts)
    return Scenario(manifests, (Create(), *ops))


@pytest.mark.parametrize(("replicas", "ops", "kept"), [
    (None, (), 5),  # replicas absent: 1 pod (VAL-1)
    (2, (SetMinReadySeconds(5),), 5),
    (1, (Scale(2), Settle()), 5),
    (3, (), 1),
    (1, (Scale(3), Scale(1)), 1),  # the most pods it reaches counts
])
def test_small_scenarios_keep_long_min_ready_seconds(replicas: int | None,
                                                     ops: tuple[Op, ...], kept: int) -> None:
    assert (CLUSTER_MAX_MIN_READY, CLUSTER_LONG_MIN_READY, LONG_MIN_READY_PODS) == (1, 5, 2)
    capped = cap_min_ready(_scenario(replicas, 5, *ops))
    assert scenario_min_ready(capped) == kept
    assert capped.manifests.statefulset["spec"]["minReadySeconds"] == kept


def test_an_explicit_limit_caps_every_scenario_and_negative_values_stay() -> None:
    assert scenario_min_ready(cap_min_ready(_scenario(1, 5), limit=1)) == 1
    negative = cap_min_ready(_scenario(1, 0, SetMinReadySeconds(-1)))
    assert negative.ops[1] == SetMinReadySeconds(-1)
    assert cap_min_ready(_scenario(3, 0)) == _scenario(3, 0)


def test_each_op_may_wait_out_min_ready_seconds_for_every_pod() -> None:
    assert min_ready_allowance(_scenario(2, 5, Scale(2))) == 10.0
    assert min_ready_allowance(_scenario(1, 0, Scale(5), SetMinReadySeconds(5))) == 25.0
    assert min_ready_allowance(_scenario(3, 0)) == 0.0


def test_the_driver_waits_five_seconds_of_availability_by_the_watch_clock() -> None:
    """``_not_yet_available``: a Ready pod seen at t=10 with minReadySeconds 5 is waited for
    until t=15 (the watch's clock, not the truncated lastTransitionTime)."""
    h = History.new("kwok", "web", clock_granularity=1.0)
    h.object("ADDED", "StatefulSet", "web", 1, {"metadata": {"name": "web", "uid": "s"},
                                                "spec": {"minReadySeconds": 5}}, t=1.0)
    pod = {"metadata": {"name": "web-0", "uid": "p", "deletionTimestamp": None},
           "status": {"phase": "Running", "ready": True, "readySince": 9.0}}
    h.object("ADDED", "Pod", "web-0", 2, pod, t=10.0)
    assert "web-0" in " ".join(_not_yet_available(h, 14.9))
    assert _not_yet_available(h, 15.0) == []
