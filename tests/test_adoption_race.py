"""F-11, a known upstream deviation: an adopted revision missing from the same sync's list.

``tests/data/kwok-f11-adoption-race.jsonl`` is a real cluster History (kwok v1.37.2, CI's
``test_scenarios_side_by_side_agree_with_their_models``, three scenarios side by side, seed 5)
and ``model-f11-adoption-race.jsonl`` the model's History of the same plan: after
``replace_revision`` current/other the set adopted the replacement (#155) and, 4 ms later in
the same sync, wrote ``currentRevision`` = its update revision with 1 of 5 pods updated (#156).
CMP flagged the quiescent point after it (ST-4, ST-6), failing CI. The run now names the race
and compares the two Histories up to it; the sensitivity tests keep every neighbouring shape a
violation.
"""

from __future__ import annotations

import copy
from pathlib import Path

from sts_props.checks import Violation, compare_histories
from sts_props.checks.adoption_race import WINDOW, adoption_races
from sts_props.differential import known_deviations
from sts_props.history import Event, History

DATA = Path(__file__).parent / "data"
CLUSTER = DATA / "kwok-f11-adoption-race.jsonl"
MODEL = DATA / "model-f11-adoption-race.jsonl"


def _edited(history: History, edit: dict[int, dict[str, object] | None]) -> History:
    """``history`` with record ``seq`` replaced by ``edit[seq]``'s data (None: dropped); seq
    numbers are kept, so cited records stay comparable."""
    events: list[Event] = []
    for ev in history.events:
        if ev.seq in edit:
            data = edit[ev.seq]
            if data is None:
                continue
            ev = Event(ev.seq, ev.t, ev.type, data)
        events.append(ev)
    return History(events)


def test_the_recorded_race_is_named_and_the_comparison_stops_there() -> None:
    cluster, model = History.load(CLUSTER), History.load(MODEL)
    violations = compare_histories(model, cluster)
    assert sorted(v.rule for v in violations) == ["CMP/ST-4", "CMP/ST-6"]
    races = adoption_races(cluster)
    assert [(r.adopted.seq, r.moved.seq, r.updated, r.replicas) for r in races] == [
        (155, 156, 1, 5)]
    assert races[0].describe().endswith("known upstream deviation F-11 (docs/findings.md)")
    waits = [(12, "something"), (11, "earlier")]
    unreached = [Violation("L", "L/10.4", f"the cluster did not reach the model's state: {why}")
                 for _, why in waits]
    kept, known = known_deviations(violations + unreached, waits, cluster)
    # the CMP at the quiescent point after the race and op 12's wait go; op 11's wait stays
    assert [v.message for v in kept] == [
        "the cluster did not reach the model's state: earlier"]
    assert known == [races[0].describe() + "; compared with the model up to it"]


def test_a_move_without_an_adoption_before_it_is_not_excused() -> None:
    """Sensitivity: the same status write with the adoption record gone (the revision stayed
    an orphan) is not F-11's shape, and the CMP violations stay."""
    cluster = _edited(History.load(CLUSTER), {155: None})
    assert adoption_races(cluster) == []
    violations = compare_histories(History.load(MODEL), cluster)
    assert sorted(v.rule for v in violations) == ["CMP/ST-4", "CMP/ST-6"]
    assert known_deviations(violations, [], cluster) == (violations, [])


def test_a_move_at_the_end_of_the_rollout_is_not_excused() -> None:
    """Sensitivity: with every replica updated the move is REV-8's completion, not the race."""
    cluster = History.load(CLUSTER)
    moved = copy.deepcopy(cluster.events[156].data)
    moved["obj"]["status"]["updatedReplicas"] = moved["obj"]["status"]["replicas"]
    assert adoption_races(_edited(cluster, {156: moved})) == []


def test_a_move_long_after_the_adoption_is_not_excused() -> None:
    """Sensitivity: a sync's adoption and status write are milliseconds apart; a move
    :data:`WINDOW` seconds or more after the adoption is another sync's doing."""
    cluster = History.load(CLUSTER)
    late = cluster.events[156]
    moved = Event(late.seq, cluster.events[155].t + WINDOW + 0.5, late.type, late.data)
    events = [moved if ev.seq == late.seq else ev for ev in cluster.events]
    assert adoption_races(History(events)) == []


def test_a_move_after_the_revision_was_deleted_is_not_excused() -> None:
    """Sensitivity: a current revision that is gone makes the update revision current
    (REV-8): no race. The deletion is put between the adoption and the status write."""
    cluster = History.load(CLUSTER)
    adopted = cluster.events[155]
    gone = {**copy.deepcopy(adopted.data), "action": "DELETED"}
    events: list[Event] = []
    for ev in cluster.events:
        events.append(ev)
        if ev.seq == adopted.seq:
            events.append(Event(ev.seq, ev.t, "object", gone))
    assert adoption_races(History(events)) == []


def test_the_summary_counts_scenarios_that_met_a_known_deviation() -> None:
    """The scenario passes (compared up to the race) and the summary says so, by finding."""
    from sts_props.ops import Create, Settle
    from sts_props.scenario import Manifests, Scenario
    from sts_props.suite import Passed, SuiteSummary

    race = adoption_races(History.load(CLUSTER))[0].describe()
    summary = SuiteSummary("kwok (v1.37.2)")
    for known in ((race,), (), (race, race)):
        summary.add(Passed(Scenario(Manifests.seed(), (Create(), Settle())), 0.1,
                           accepted=(True, True), steps=12, known=known))
    assert summary.known == {"F-11": 2}
    assert ("known upstream deviations met (docs/findings.md): F-11 in 2 scenario(s)"
            in summary.render().splitlines())
    assert "known upstream" not in SuiteSummary("kwok").render()


def test_explore_s_cluster_tier_counts_a_scenario_that_met_a_known_deviation(
        tmp_path: Path) -> None:
    from sts_props.differential import DifferentialResult
    from sts_props.explore import ClusterTier, Found, _count
    from sts_props.ops import Create, Settle
    from sts_props.scenario import Manifests, Scenario

    cluster, model = History.load(CLUSTER), History.load(MODEL)
    scenario = Scenario(Manifests.seed(), (Create(), Settle()))
    found = Found(scenario, {}, frozenset())
    tier = ClusterTier()
    for known in ([], [adoption_races(cluster)[0].describe()]):
        result = DifferentialResult(scenario, model, cluster, known=known)
        assert _count(tier, 0, found, result, tmp_path).endswith("ok in 0s")
    assert (tier.ran, tier.ok, tier.known) == (2, 2, 1)
