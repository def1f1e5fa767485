"""One-line titles for the check IDs and rule families a violation cites.

The rule text itself is in ``statefulset-semantics.md``; these titles only let an explanation
say, in a sentence, what kind of promise was broken.

>>> title("CHK-8")
"a pod's claims exist before the pod"
>>> title("UPD-2")
'rolling updates and partitions (UPD-*)'
>>> title("RCR-1").startswith("the alpha Recreate update strategy")
True
>>> rule_ids("CMP/VAL-8/VAL-5")
['CMP', 'VAL-8', 'VAL-5']
"""

from __future__ import annotations

CHECKS = {
    "CHK-1": "each pod is named <set>-<ordinal> and at most one pod exists per ordinal",
    "CHK-2": "the controller creates pods only for ordinals in [start, start+replicas)",
    "CHK-3": "a higher ordinal is created only after every lower one was Running, Ready and "
             "available (OrderedReady)",
    "CHK-4": "scale-down removes the highest ordinal first, one at a time, and only when all "
             "pods are healthy (OrderedReady)",
    "CHK-5": "a rolling update takes down at most one pod at a time, and only when the others "
             "are healthy",
    "CHK-6": "rolling-update deletions go from the highest ordinal down",
    "CHK-7": "pods below the partition are never deleted by the update, and come back at the "
             "current revision",
    "CHK-8": "a pod's claims exist before the pod",
    "CHK-9": "claims of in-range pods never get a pod ownerReference",
    "CHK-10": "each status the controller writes agrees with the pods it could have seen, and "
              "currentRevision moves only on a complete rollout",
    "CHK-11": "availableReplicas counts a pod only after minReadySeconds of readiness, and "
              "catches up soon after",
    "CHK-12": "a rolling update moves on only after the pods it updated have been available "
              "for minReadySeconds",
    "Q": "the quiescent state (section 10.3): what must hold once nothing moves any more",
    "CMP": "the cluster agrees with the reference model at each quiescent point and on each "
           "op's answer",
    "CMP-STRICT": "the cluster's pods equal the model's, phase included, even where a blocked "
                  "state lets the plain comparison pass",
    "L": "liveness (section 10.4): the cluster reaches the model's state within the deadline",
    "EXP": "an expectation written in the plan (what the upstream test asserts)",
    "CRASH": "no control-plane component (apiserver, controller-manager, scheduler) exits by "
             "itself during a scenario",
}

FAMILIES = {
    "ID": "stable identity: names, hostnames, labels (ID-*)",
    "STO": "storage: claims, their names and retention (STO-*)",
    "ORD": "ordering of creation and deletion (ORD-*)",
    "UPD": "rolling updates and partitions (UPD-*)",
    "REV": "revisions: ControllerRevisions, current and update revision (REV-*)",
    "ST": "the StatefulSet's status fields (ST-*)",
    "VAL": "API validation and defaulting (VAL-*)",
    "DEL": "deletion and garbage collection (DEL-*)",
    "RP": "replacing failed pods (RP-*)",
    "PR": "pod readiness and availability (PR-*)",
    "T": "a named freedom of section 10.2 (T-*)",
    "EX": "how the controller runs: its work queue, what queues a sync, one sync's outline "
          "(EX-*)",
    "CD": "deleting condemned pods on scale-down, one at a time or all at once (CD-*)",
    "RCR": "the alpha Recreate update strategy: every old pod goes before any new one "
           "(RCR-*, docs/model-notes.md)",
    "F": "a documented upstream finding (docs/findings.md F-*)",
}

#: sections of statefulset-semantics.md that a rule field may name after a check ID
SECTIONS = {
    "10.1": "section 10.1: the guaranteed orderings",
    "10.3": "section 10.3: the quiescence target",
    "10.4": "section 10.4: liveness",
}


def rule_ids(rule: str) -> list[str]:
    """The IDs of a violation's ``rule`` field (``"CHK-3/ORD-1"`` -> two IDs)."""
    return [part for part in rule.split("/") if part]


def title(rule_id: str) -> str:
    """A short title for a check ID or a rule ID (by its family); '' if unknown."""
    if rule_id in CHECKS:
        return CHECKS[rule_id]
    if rule_id in SECTIONS:
        return SECTIONS[rule_id]
    family = rule_id.split("-", 1)[0]
    return FAMILIES.get(family, "")
