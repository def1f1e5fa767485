"""Sensitivity of the liveness verdicts (sts_props.checks.liveness): converged, converged to a
documented stuck state, slow, stuck (with and without a documented blocker), livelock."""

from __future__ import annotations

from sts_props.checks.compare import quiescent_view
from sts_props.checks.liveness import check_liveness
from sts_props.history import History
from sts_props.ops import Create, HoldNotReady, Scale, SetTemplate, Settle
from tests.model_helpers import run, web

NO_BLOCK = {"type": "RollingUpdate"}  # F-1 needs RollingUpdate with no rollingUpdate block


def _final_view(history: History) -> dict[str, object]:
    return quiescent_view(history, history.events[-1].seq)


def test_converged_within_the_bound() -> None:
    r = run(web(3, min_ready=5), Create(), Settle())
    verdict = check_liveness(r.history, _final_view(r.history), since=0.0, bound=60.0)
    assert verdict.verdict == "converged" and not verdict.failed
    # each of the 3 pods waits minReadySeconds before the next (ORD-1), the last for status
    assert verdict.seconds is not None and 14.0 <= verdict.seconds <= 16.0


def test_slow_when_the_target_comes_after_the_bound() -> None:
    r = run(web(3, min_ready=5), Create(), Settle())
    verdict = check_liveness(r.history, _final_view(r.history), since=0.0, bound=3.0)
    assert verdict.verdict == "slow" and verdict.failed
    assert "bound 3s" in verdict.describe()


def test_slow_when_still_moving_at_the_end() -> None:
    r = run(web(3, min_ready=5), Create(), Settle())
    target = _final_view(r.history)
    # Cut the History while web-1 is not yet created: objects changed up to the cut.
    cut = next(i for i, ev in enumerate(r.history.events)
               if ev.type == "object" and ev.name == "web-1")
    partial = History(r.history.events[:cut])
    verdict = check_liveness(partial, target, since=0.0, bound=60.0, stall=5.0,
                             until=partial.events[-1].t + 1.0)
    assert verdict.verdict == "slow" and not verdict.blockers


def test_stuck_without_a_documented_blocker_is_a_finding() -> None:
    # The target wants 5 pods; the History stops at 3 and nothing moves for 30 s: no rule
    # explains it.
    short = run(web(3), Create(), Settle())
    target = _final_view(run(web(3), Create(), Settle(), Scale(5), Settle()).history)
    verdict = check_liveness(short.history, target, since=0.0, bound=10.0, stall=5.0,
                             until=short.history.events[-1].t + 30.0)
    assert verdict.verdict == "stuck" and verdict.failed
    assert "no documented blocker" in verdict.describe()
    assert verdict.violation() is not None


def test_stuck_at_a_held_pod_names_ord2_and_is_expected() -> None:
    r = run(web(3), Create(), Settle(), HoldNotReady(1), Scale(5), Settle())
    target = _final_view(r.history)
    assert target["meta"]["blocked"]  # the model predicts the stuck state
    verdict = check_liveness(r.history, target, since=0.0, bound=10.0)
    assert verdict.verdict == "converged" and not verdict.failed
    assert [b.rule for b in verdict.blockers] == ["ORD-2"]
    assert "documented stuck state [ORD-2]" in verdict.describe()
    # A cluster that got stuck short of a target that is itself blocked: expected, not failed.
    stuck = check_liveness(r.history, _final_view(run(
        web(3), Create(), Settle(), HoldNotReady(1), Scale(6), Settle()).history),
        since=0.0, bound=10.0, until=r.history.events[-1].t + 30.0)
    assert stuck.verdict == "stuck" and stuck.expected and not stuck.failed


def test_slots_beyond_int32_are_a_documented_stuck_state_f9() -> None:
    """F-9: the model's target lacks the slots above 2^31-1 (their pods are refused every
    sync), and the liveness verdict names the finding rather than reporting a stall."""
    r = run(web(3, start=2**31 - 2), Create(), Settle())
    target = _final_view(r.history)
    verdict = check_liveness(r.history, target, since=0.0, bound=10.0)
    assert verdict.verdict == "converged" and not verdict.failed
    assert [b.rule for b in verdict.blockers] == ["F-9"]
    assert "documented stuck state [F-9]" in verdict.describe()


def test_stuck_rollout_at_a_never_ready_new_pod_names_upd12() -> None:
    # The new revision's pod never becomes Ready (held), OrderedReady stops the rollout there.
    r = run(web(3), Create(), Settle(), SetTemplate("image", "app:bad"))
    r.apply(HoldNotReady(2))
    r.apply(Settle())
    verdict = check_liveness(r.history, _final_view(r.history), since=0.0, bound=10.0)
    rules = {b.rule for b in verdict.blockers}
    assert verdict.verdict == "converged" and rules <= {"UPD-12", "ORD-2"} and rules


def test_livelock_f1_is_recognised_and_expected() -> None:
    r = run(web(5, policy="Parallel", strategy=NO_BLOCK, min_ready=1), Create(), Settle(),
            HoldNotReady(1), SetTemplate("image", "app:2"))
    assert r.livelocks
    target = _final_view(run(web(5, policy="Parallel", min_ready=1), Create(), Settle(),
                             SetTemplate("image", "app:2"), Settle()).history)
    verdict = check_liveness(r.history, target, since=0.0, bound=10.0)
    assert verdict.verdict == "livelock" and not verdict.failed
    assert "web-1" in verdict.describe()


def test_a_blocker_the_model_did_not_predict_is_a_finding_citing_the_missing_transition() -> None:
    """Issue 12 item 7: the cluster stopped at a held pod (ORD-2 would explain it), but the
    model's state after the same ops is not blocked (its pod was never held): the model
    expected the controller to go on, so the verdict is a finding, and it cites the rules of
    the transitions that never came (pods the model has, ID-2), not L/10.4."""
    cluster = run(web(3), Create(), Settle(), HoldNotReady(1), Scale(5), Settle())
    target = _final_view(run(web(3), Create(), Settle(), Scale(5), Settle()).history)
    assert not target["meta"]["blocked"]
    verdict = check_liveness(cluster.history, target, since=0.0, bound=10.0,
                             until=cluster.history.events[-1].t + 30.0)
    assert verdict.verdict == "stuck" and verdict.failed and not verdict.expected
    assert [b.rule for b in verdict.blockers] == ["ORD-2"]
    # pod-level rules first (web-1 Ready in the model, PR-3; web-3 and web-4 missing, ID-2),
    # the status fields that count them (ST-*) last
    assert verdict.missing[:3] == ("PR-3", "ID-2", "ID-2")
    assert verdict.missing[-1].startswith("ST-")
    text = verdict.describe()
    assert text.startswith("stuck [PR-3, ID-2, ") and "(a finding)" in text
    assert "which the model did not predict" in text
    violation = verdict.violation()
    assert violation is not None and violation.rule == "L/PR-3"


def test_recovery_is_timed_from_the_end_of_a_long_fault_op() -> None:
    """An apiserver restart can take a minute before it returns (its watches, F-10); the
    recovery bound starts when it returned, as the wait after it did, not at its invocation."""
    from sts_props.differential import _recovery

    r = run(web(3, min_ready=5), Create(), Settle())  # converges about 15 s after t=0
    target = _final_view(r.history)
    header, rest = r.history.events[0], [ev for ev in r.history.events[1:] if ev.type != "op"]

    def with_op(done_at: float | None) -> History:
        h = History([header])
        h.op("invoke", 0, {"op": "restart_apiserver"}, t=0.0)
        if done_at is not None:
            h.op("ok", 0, {"op": "restart_apiserver"}, t=done_at)
        for ev in rest:
            h.append(ev.type, ev.t, **ev.data)
        return h

    assert _recovery(with_op(None), 0, target, bound=10.0).verdict == "slow"
    assert _recovery(with_op(8.0), 0, target, bound=10.0).verdict == "converged"
