"""CHK-3 judged against what the controller could have observed (kubernetes#41889).

A cluster controller's informer cache lags the harness's own watch: when ``web-1`` was deleted
and recreated (the new one not Ready yet) just before ``web-2`` was created, the controller may
still have seen the old, Ready ``web-1``. CHK-3 accepts that within INFORMER_LAG seconds on a
cluster History, and not beyond it, nor on the model (whose cache is always fresh).
"""

from __future__ import annotations

from sts_props.checks import check_chk3
from sts_props.checks._timeline import INFORMER_LAG
from tests.histories import HistoryBuilder


def _recreated_then_next(granularity: float, gap: float) -> list[str]:
    """web-0, web-1 up; web-1 killed and recreated (not Ready); ``gap`` s later web-2 appears."""
    hb = HistoryBuilder("web", policy="OrderedReady", replicas=3, granularity=granularity,
                        step=0.1)
    hb.create_set()
    hb.pod_up(0).pod_up(1)
    hb.pod_deleted(1)
    hb.pod_added(1)  # the new web-1, Pending: the observer sees it
    hb.wait(gap)
    hb.pod_added(2)  # a controller with a lagging cache could still see the old, Ready web-1
    return [v.rule for v in check_chk3(hb.build())]


def test_chk3_accepts_a_lagging_cache_on_a_cluster_within_the_bound() -> None:
    assert _recreated_then_next(1.0, gap=0.5) == []


def test_chk3_flags_it_beyond_the_bound() -> None:
    assert _recreated_then_next(1.0, gap=INFORMER_LAG + 3.0) == ["CHK-3/ORD-1"]


def test_chk3_gives_the_model_no_lag() -> None:
    assert _recreated_then_next(0.0, gap=0.5) == ["CHK-3/ORD-1"]
