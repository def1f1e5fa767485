"""The model's validation against the apiserver's dry run (run with ``pytest --sts-backend=kwok``
or another cluster backend): generated valid and invalid StatefulSets and update cases, no
difference that :data:`~sts_props.dryrun.KNOWN_DIFFERENCES` does not explain."""

from __future__ import annotations

import pytest

from sts_props.cluster.base import CREATED_BY_LABEL, Cluster, typed_apis
from sts_props.dryrun import generate_manifests, run_dry_runs, update_cases
from sts_props.model.config import ModelConfig

pytestmark = pytest.mark.cluster


def test_generated_manifests_and_updates_agree_with_the_apiserver(sts_cluster: Cluster) -> None:
    config = ModelConfig.for_version(sts_cluster.version())
    manifests = generate_manifests(60, config, seed=11)
    updates = update_cases()
    summary = run_dry_runs(sts_cluster, manifests, updates, config)
    assert not summary.mismatches, summary.render()
    counts = summary.counts()
    assert counts["creates"] == 60 and counts["updates"] == len(updates)
    assert counts["invalid"] >= 30 + 1  # half the creates, and some updates
    # The server really judged: it rejected (422, with causes) what the model rejected.
    rejected = [c for c in summary.comparisons if not c.server.ok]
    assert len(rejected) >= 30
    assert all(c.server.code in (400, 422) for c in rejected), summary.render()
    # VAL-7: from 1.37 the immutable field is named; before, one Forbidden cause on spec
    immutable = (("spec.serviceName", "FieldValueInvalid") if config.k8s_minor >= 37
                 else ("spec", "FieldValueForbidden"))
    assert any(c.kind == "update" and c.server.code == 422
               and immutable in c.server.signature()[3] for c in summary.comparisons)


def test_dry_runs_leave_nothing_behind(sts_cluster: Cluster) -> None:
    config = ModelConfig.for_version(sts_cluster.version())
    run_dry_runs(sts_cluster, generate_manifests(4, config, seed=2), update_cases()[:2], config)
    api = sts_cluster.api_client()
    try:
        core, _, _ = typed_apis(api)
        live = [ns.metadata.name for ns in core.list_namespace(
            label_selector=CREATED_BY_LABEL).items
                if ns.metadata.name.startswith("sts-props-dryrun-")
                and ns.status.phase != "Terminating"]
        assert live == []
    finally:
        api.close()
