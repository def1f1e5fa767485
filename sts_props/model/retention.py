"""PVC retention owner references (STO-8, STO-12, STO-13): what a claim's refs should be.

>>> from sts_props.model.world import Claim, OwnerRef
>>> set_ref = OwnerRef("StatefulSet", "web", "sts-1")
>>> c = Claim("data-web-3", {})
>>> [r.kind for r in desired_refs(c, ("Delete", "Delete"), set_ref, "web-3", "pod-9", True)]
['Pod']
>>> desired_refs(c, ("Retain", "Retain"), set_ref, "web-3", "pod-9", True)
[]
"""

from __future__ import annotations

from sts_props.model.world import Claim, OwnerRef


def has_stale_ref(claim: Claim, kind: str, name: str, uid: str) -> bool:
    """A ref to an object of this kind and name but another UID (STO-12/STO-13)."""
    return any(r.kind == kind and r.name == name and r.uid != uid for r in claim.owner_refs)


def desired_refs(
    claim: Claim,
    policy: tuple[str, str],
    set_ref: OwnerRef,
    pod_name: str,
    pod_uid: str,
    condemned: bool,
) -> list[OwnerRef]:
    """The claim's ownerReferences after the controller reconciles them (STO-8 table).

    Refs of other owners are kept. A claim with a stale ref is left untouched, and a claim with
    another controller only loses the set's and the pod's refs (STO-13).
    """
    refs = list(claim.owner_refs)
    if has_stale_ref(claim, "StatefulSet", set_ref.name, set_ref.uid) or has_stale_ref(
        claim, "Pod", pod_name, pod_uid
    ):
        return refs
    ours = [r for r in refs if (r.kind == "StatefulSet" and r.uid == set_ref.uid)
            or (r.kind == "Pod" and r.uid == pod_uid)]
    others = [r for r in refs if r not in ours]
    when_deleted, when_scaled = policy
    if (when_deleted, when_scaled) != ("Retain", "Retain") and any(r.controller for r in others):
        return others
    want: list[OwnerRef] = []
    if when_deleted == "Delete" and not (condemned and when_scaled == "Delete"):
        want.append(OwnerRef("StatefulSet", set_ref.name, set_ref.uid))
    if condemned and when_scaled == "Delete":
        want.append(OwnerRef("Pod", pod_name, pod_uid))
    return others + want


def refs_match(claim: Claim, want: list[OwnerRef]) -> bool:
    key = lambda r: (r.kind, r.name, r.uid, r.controller)  # noqa: E731
    return sorted(map(key, claim.owner_refs)) == sorted(map(key, want))
