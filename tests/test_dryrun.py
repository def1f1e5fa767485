"""The model-vs-apiserver comparison of :mod:`sts_props.dryrun`, with hand-made apiserver
answers (no cluster): agree, known difference, mismatch; the model's verdicts; the generator's
share of invalid manifests; and ``validate``'s refusals of option combinations."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from sts_props.cli import main
from sts_props.dryrun import (
    KNOWN_DIFFERENCES,
    Comparison,
    DryRunSummary,
    compare,
    generate_manifests,
    model_create,
    model_update,
    update_cases,
)
from sts_props.model.config import ModelConfig
from sts_props.outcome import Cause, Outcome
from sts_props.scenario import Manifests

CONFIG = ModelConfig.for_version("v1.37.2")


def server(*causes: tuple[str, str], code: int = 422, reason: str = "Invalid") -> Outcome:
    """An apiserver answer as the driver reads it (causes without rules)."""
    return Outcome("rejected", code, reason, "from the server",
                   tuple(Cause(f, t, "server wording") for f, t in causes))


def seed_set() -> dict[str, Any]:
    return copy.deepcopy(Manifests.seed().statefulset)


def test_same_class_agrees_whatever_the_wording() -> None:
    sts = seed_set()
    sts["spec"]["replicas"] = -2
    model = model_create(sts, CONFIG)
    c = compare("create", "redis", model, server(("spec.replicas", "FieldValueInvalid")), sts)
    assert c.verdict == "agree"
    assert compare("create", "redis", model_create(seed_set(), CONFIG), Outcome.accepted(),
                   seed_set()).verdict == "agree"


@pytest.mark.parametrize("answer", [
    Outcome.accepted(),
    server(("spec.replicas", "FieldValueRequired")),          # another cause type
    server(("spec.minReadySeconds", "FieldValueInvalid")),    # another field
    server(("spec.replicas", "FieldValueInvalid"), ("metadata.name", "FieldValueInvalid")),
    server(code=400, reason="BadRequest"),
])
def test_a_different_class_is_a_mismatch_citing_the_rule(answer: Outcome) -> None:
    sts = seed_set()
    sts["spec"]["replicas"] = -1
    c = compare("create", "redis", model_create(sts, CONFIG), answer, sts)
    assert c.verdict == "mismatch"
    assert c.rules == ("VAL-5",)
    assert "MISMATCH" in c.line() and "[VAL-5]" in c.line()


def test_an_accepted_set_the_server_rejects_cites_the_create_rules() -> None:
    c = compare("create", "redis", model_create(seed_set(), CONFIG),
                server(("spec.serviceName", "FieldValueInvalid")), seed_set())
    assert (c.verdict, c.rules) == ("mismatch", ("VAL-4", "VAL-5", "VAL-6"))


def test_an_unsupported_strategy_is_blamed_where_the_apiserver_blames_it() -> None:
    """Measured with dry runs on v1.37.2: the path is spec.updateStrategy (the model said
    spec.updateStrategy.type until the comparison found it)."""
    sts = seed_set()
    sts["spec"]["updateStrategy"] = {"type": "Recreate"}
    model = model_create(sts, CONFIG)
    assert model.signature()[3] == {("spec.updateStrategy", "FieldValueInvalid")}
    same = server(("spec.updateStrategy", "FieldValueInvalid"))
    assert compare("create", "r", model, same, sts).verdict == "agree"
    # a different cause type, or an extra cause: a mismatch
    for answer in (server(("spec.updateStrategy", "FieldValueNotSupported")),
                   server(("spec.updateStrategy", "FieldValueInvalid"),
                          ("spec.replicas", "FieldValueInvalid"))):
        assert compare("create", "r", model, answer, sts).verdict == "mismatch"


def test_nil_selector_extra_cause_is_known() -> None:
    sts = seed_set()
    del sts["spec"]["selector"]
    model = model_create(sts, CONFIG)
    answer = server(("spec.selector", "FieldValueRequired"),
                    ("spec.template.metadata.labels", "FieldValueInvalid"))
    assert compare("create", "r", model, answer, sts).known == \
        "nil selector also blames the template labels"
    # the extra cause without a missing selector is not explained
    other = seed_set()
    other["spec"]["replicas"] = -1
    extra = server(("spec.replicas", "FieldValueInvalid"),
                   ("spec.template.metadata.labels", "FieldValueInvalid"))
    assert compare("create", "r", model_create(other, CONFIG), extra, other).verdict == \
        "mismatch"


def test_a_whitespace_image_is_accepted_like_the_apiserver_does_but_an_empty_one_is_not(
        ) -> None:
    blank = seed_set()
    blank["spec"]["template"]["spec"]["containers"][0]["image"] = "  "
    assert compare("create", "r", model_create(blank, CONFIG), Outcome.accepted(),
                   blank).verdict == "agree"
    empty = seed_set()
    empty["spec"]["template"]["spec"]["containers"][0]["image"] = ""
    assert compare("create", "r", model_create(empty, CONFIG), Outcome.accepted(),
                   empty).verdict == "mismatch"


def test_every_known_difference_has_a_name_and_a_reason() -> None:
    names = [k.name for k in KNOWN_DIFFERENCES]
    assert len(set(names)) == len(names)
    assert all(len(k.reason) > 40 for k in KNOWN_DIFFERENCES)


def test_model_verdicts_wrong_type_and_updates() -> None:
    sts = seed_set()
    sts["spec"]["replicas"] = "three"
    assert model_create(sts, CONFIG).signature()[:3] == ("rejected", 400, "BadRequest")
    by_name = {u.name: model_update(u.old, u.new, CONFIG) for u in update_cases()}
    assert by_name["scale"].ok and by_name["new image"].ok
    assert by_name["serviceName"].signature()[3] == {("spec.serviceName", "FieldValueInvalid")}
    assert by_name["two immutable fields"].rules == ("VAL-7",)
    assert by_name["negative replicas"].rules == ("VAL-5",)
    old_rules = model_update(update_cases()[0].old, {**update_cases()[0].old, "spec": {
        **update_cases()[0].old["spec"], "serviceName": "x"}}, ModelConfig.for_version("v1.35.2"))
    assert old_rules.signature()[3] == {("spec", "FieldValueForbidden")}


def test_generated_manifests_are_at_least_half_invalid() -> None:
    manifests = generate_manifests(40, CONFIG, seed=3)
    assert len(manifests) == 40
    rejected = sum(1 for m in manifests if not model_create(m, CONFIG).ok)
    assert rejected >= 20
    assert rejected < 40  # and the valid ones are valid


def test_summary_counts_and_verdict() -> None:
    bad = seed_set()
    bad["spec"]["replicas"] = -1
    comparisons = (
        compare("create", "a", model_create(seed_set(), CONFIG), Outcome.accepted()),
        compare("create", "b", model_create(bad, CONFIG),
                server(("spec.replicas", "FieldValueInvalid"))),
        Comparison("create", "c", Outcome.accepted(), server(), "mismatch"),
    )
    s = DryRunSummary(comparisons, 1.25, "v1.37.2")
    assert s.counts() == {"total": 3, "creates": 3, "updates": 0, "valid": 2, "invalid": 1,
                          "agree": 2, "known": 0, "mismatches": 1, "seconds": 1.2}
    assert not s.ok
    text = s.render()
    assert "MISMATCH: create c" in text and "agree: create a" not in text
    assert "agree: create a" in s.render(verbose=True)
    assert DryRunSummary(comparisons[:2], 0.1).ok


@pytest.mark.parametrize("argv", [
    ["validate", "--examples", "5"],                        # the model has no apiserver
    ["validate", "--backend", "kwok"],                      # nothing to validate
    ["validate", "sts_props/data", "--backend", "kwok", "--examples", "5"],
    ["validate"],
])
def test_validate_refuses_option_combinations_before_any_cluster(
        argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
