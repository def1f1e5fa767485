"""The seed tutorial's four claims (CLAIMS.md) as properties, each with its verdict on the model.

Each verdict is earned: the claim is checked on generated scenarios that meet its conditions,
and every condition listed as needed comes with a shrunk counterexample that breaks only it.
"""

from __future__ import annotations

import pytest

from sts_props.claims import CLAIMS, Verdict, evaluate_claim


@pytest.fixture(scope="module")
def verdicts() -> dict[int, Verdict]:
    # The CLI's default search: 150 missed STO-7's counterexample at this seed once
    # unlabel_pod and relabel_pod shared the draws (it found it at seeds 8 and 9).
    return {c.number: evaluate_claim(c, examples=30, search=300, seed=7) for c in CLAIMS}


def _needed(v: Verdict) -> set[str]:
    return {cond.rule for cond, _, _ in v.needed}


def test_claim1_identity_holds_given_a_headless_service(verdicts: dict[int, Verdict]) -> None:
    v = verdicts[1]
    assert v.status == "holds under conditions", v.render()
    assert _needed(v) == {"ID-8"}  # the controller never creates the Service
    assert v.examples >= 30


def test_claim2_storage_holds_only_with_retain_and_no_pvc_deletion(
        verdicts: dict[int, Verdict]) -> None:
    v = verdicts[2]
    assert v.status == "holds under conditions", v.render()
    assert _needed(v) == {"STO-7", "STO-10", "STO-3"}
    for _, scenario, why in v.needed:
        assert "claim" in why and scenario.ops  # a replayable counterexample per condition


def test_claim3_ordering_needs_ordered_ready_and_no_set_deletion(
        verdicts: dict[int, Verdict]) -> None:
    v = verdicts[3]
    assert v.status == "holds under conditions", v.render()
    assert _needed(v) == {"ORD-1/T-1", "ORD-9"}
    set_deletion = next(sc for cond, sc, _ in v.needed if cond.rule == "ORD-9")
    assert any(op.kind == "delete_set" for op in set_deletion.ops)


def test_claim4_rolling_update_one_at_a_time_needs_max_unavailable_1(
        verdicts: dict[int, Verdict]) -> None:
    v = verdicts[4]
    assert v.status == "holds under conditions", v.render()
    assert "UPD-5" in _needed(v)
    assert "highest ordinal down to 0" in v.claim.note  # not 0..N-1 as the tutorial says
