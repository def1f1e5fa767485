"""The mutant catalogue: deliberately broken variants of the reference model (issue 5).

Each :class:`Mutant` names one rule of ``statefulset-semantics.md`` that the model breaks when
``ModelConfig(mutant=name)`` is set. The controller consults ``config.mutated(name)`` at a few
clearly marked hook points (search for "mutation hook" in ``sts_props/model/``); with
``mutant=None`` (the default) every hook is a plain ``False`` test and the model is unchanged.

A mutant is *caught* when a differential run of the mutated model against a real cluster
disagrees (``sts-props mutants --backend kwok``, :mod:`sts_props.mutation_runs`); the mutation
score is caught / total. Nothing here tells a run that it is a mutant: detection comes from
comparing the mutated model's History with the cluster's.

>>> from sts_props.model import ModelConfig
>>> cfg = ModelConfig(mutant="scale-down-ascending")
>>> cfg.mutated("scale-down-ascending"), ModelConfig().mutated("scale-down-ascending")
(True, False)
>>> by_name("update-ignores-partition").rules
('UPD-2',)
>>> len(MUTANTS) >= 10
True

The names themselves are vocabulary (:mod:`sts_props.mutant_names`): the model's hooks and a
plan's ``mutant:`` field use them without importing this catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass

from sts_props.mutant_names import MUTANT_NAMES, MutantName


@dataclass(frozen=True)
class Mutant:
    """One broken rule: ``name`` (``ModelConfig.mutant``), a one-line ``description``, the
    spec ``rules`` it breaks and ``hook``, where in the model the break is made."""

    name: MutantName
    description: str
    rules: tuple[str, ...]
    hook: str


MUTANTS: tuple[Mutant, ...] = (
    Mutant("failed-never-recreated",
           "a Failed or Succeeded pod is left in place instead of being deleted and recreated",
           ("RP-1",), "controller._Pass.replica (RP-1 branch)"),
    Mutant("scale-down-ascending",
           "condemned pods are deleted lowest ordinal first instead of highest first",
           ("ORD-4", "CD-2"), "controller._pod_pass (step 6, condemned deletion order)"),
    Mutant("update-ignores-partition",
           "the rolling update also replaces pods below start + partition",
           ("UPD-2",), "controller._placeholder_at_current (UPD-6 b) and the update floor of "
           "_update_legacy / _update_max_unavailable"),
    Mutant("terminating-counted-updated",
           "status.updatedReplicas counts terminating pods, so currentRevision can be promoted "
           "while an old pod is being deleted",
           ("ST-5", "REV-9"), "controller._pod_pass (final_status)"),
    Mutant("current-promoted-early",
           "currentRevision is promoted once the pods from the partition up are updated",
           ("REV-9",), "controller._promote"),
    Mutant("pvc-of-k-for-k-plus-1",
           "pod k+1 mounts the claim of ordinal k (its own claim is created but unused)",
           ("STO-1", "STO-6", "ID-12"), "controller._claim_volumes"),
    Mutant("ordered-two-at-once",
           "OrderedReady steps over one not-yet-Ready pod per sync, so two pods are in flight",
           ("ORD-1", "RP-5"), "controller._Pass.replica (monotonic checks)"),
    Mutant("parallel-waits-like-ordered",
           "a Parallel set is reconciled one pod at a time, like OrderedReady",
           ("ORD-6",), "controller._pod_pass (monotonic)"),
    Mutant("deleted-claims-retained",
           "whenDeleted=Delete is ignored: claims never get the set's ownerReference",
           ("STO-8", "STO-9"), "controller._Pass.fix_claim_refs"),
    Mutant("pod-index-label-missing",
           "new pods lack the apps.kubernetes.io/pod-index label",
           ("ID-7",), "controller._new_pod"),
    Mutant("rollback-not-bumped",
           "a rollback reuses the old ControllerRevision without raising its revision number",
           ("REV-7",), "controller.sync (the plan of _revisions)"),
)



def by_name(name: str) -> Mutant:
    """The catalogue entry called ``name``; a ValueError lists the known names."""
    for m in MUTANTS:
        if m.name == name:
            return m
    raise ValueError(f"unknown mutant {name!r}; known: {', '.join(MUTANT_NAMES)}")
