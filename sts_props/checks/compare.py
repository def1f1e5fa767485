"""Model vs cluster: compare quiescent states and op outcomes modulo named nondeterminism.

Two Histories of the same scenario (normally the reference model's and a cluster's) are
compared at corresponding settled ``quiescent`` records, paired by ``afterOp`` (the k-th record
for an op index on one side with the k-th on the other), and on the outcome of every op.

What is masked, and how (section 10.2, T-10; design notes "nondeterminism is named"):

* **revision names** become symbolic revisions ``r1, r2, ...``: a revision's symbol is the
  position at which its template (``templateKey``, compared only within one history) first
  appeared in the StatefulSet's spec. Both sides edit the template in the same order, so equal
  symbols mean equal templates; a rollback (REV-7, UPD-9) gets its old symbol back. Names whose
  template is unknown get ``u1, u2, ...`` in order of appearance;
* **UIDs** are never compared, only the relations they carry within one side: whether a pod or
  claim is the same object as at the previous compared record (``sameUidAsBefore``), and whether
  an ownerReference points at the live object of that kind and name (``stale``);
* **volume order** (STO-6): volumes are compared as a mapping name -> claim;
* **timestamps**, resourceVersions, harness labels/annotations (``sts-props.io/``), and
  EndpointSlice names: endpoints are compared as the set of ``(hostname, ready)``;
* ControllerRevisions and EndpointSlices are compared only when both histories record them;
* **timing**: how far a state is determined depends on what happened since the previous
  compared point. A state blocked short of the section 10.3 target (a held or unready pod under
  OrderedReady, ...) is compared only on what every interleaving agrees on, and details that
  depend on the path taken (revisions below the partition, restarts, intermediate revisions)
  only after a single op from a compared target state (``BASIC`` / ``TARGET`` / ``FULL``, see
  :func:`compare_states`). Claims are compared for in-range ordinals only; a claim both
  sides agreed on while in range and that the model's garbage collector then removed (its
  condemned pod or its deleted set owned it, STO-10) must be gone, or being deleted, on the
  cluster by the next compared point (``CMP/STO-10``).

Op outcomes are compared by :meth:`Outcome.signature` ``[:3]`` (status, code, reason), plus the
set of ``(field, type)`` causes when both are 422; an indeterminate outcome on either side is
not compared.

>>> from sts_props.history import History
>>> a = History.new(backend="model", set_name="web")
>>> b = History.new(backend="kwok", set_name="web", clock_granularity=1.0)
>>> compare_histories(a, b)
[]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sts_props.checks._timeline import Spec, as_dict, as_int, is_held, spec_of, status_of
from sts_props.checks.violation import Violation
from sts_props.history import Event, History, StateWalk
from sts_props.ops import describe_op_record
from sts_props.outcome import Outcome
from sts_props.snapshot import (
    REVISION_LABEL,
    Snapshot,
    claim_name,
    controller_ref,
    is_ready,
    is_running_ready,
    is_terminating,
    labels,
    meta,
    ordinal_of,
    owner_refs,
    phase,
    revision_of,
    uid,
    volumes,
    without_harness_keys,
)


@dataclass(frozen=True)
class Difference:
    """One field on which two quiescent views disagree.

    ``path`` is slash-separated (``pods/web-1/revision``); ``left``/``right`` are the two
    values (``"absent"`` when the object exists on one side only); ``note`` is one sentence
    that names both sides.
    """

    path: str
    left: Any
    right: Any
    note: str


# -- symbolic revisions --------------------------------------------------------------------------
def revision_symbols(history: History) -> dict[str, str]:
    """Map every revision name in ``history`` to a symbolic revision (see module docstring).

    >>> h = History.new(backend="model", set_name="web")
    >>> sts = {"metadata": {"name": "web", "uid": "u", "generation": 1},
    ...        "spec": {"templateKey": "k1"},
    ...        "status": {"observedGeneration": 1, "updateRevision": "web-abc"}}
    >>> _ = h.object("ADDED", "StatefulSet", "web", 1, sts)
    >>> revision_symbols(h)
    {'web-abc': 'r1'}
    """
    set_name = history.set_name
    key_order: list[str] = []
    name_key: dict[str, str] = {}
    names: list[str] = []

    def saw(name: str) -> None:
        if name and name not in names:
            names.append(name)

    for ev in history.objects():
        obj = ev.obj
        if ev.kind == "StatefulSet" and ev.name == set_name and ev.action != "DELETED":
            key = str(spec_of(obj).get("templateKey") or "")
            if key and key not in key_order:
                key_order.append(key)
            status = status_of(obj)
            upd = str(status.get("updateRevision") or "")
            observed = as_int(status.get("observedGeneration"), -1)
            # A status written for the current generation names that generation's template.
            if key and upd and observed == as_int(meta(obj).get("generation"), -2):
                name_key.setdefault(upd, key)
            saw(upd)
            saw(str(status.get("currentRevision") or ""))
        elif ev.kind == "ControllerRevision":
            key = str(obj.get("templateKey") or "")
            if key:
                name_key[ev.name] = key  # the object itself is the best witness
            saw(ev.name)
        elif ev.kind == "Pod":
            saw(revision_of(obj))
    symbols: dict[str, str] = {}
    if key_order:
        position = {k: i + 1 for i, k in enumerate(key_order)}
        unknown = 0
        for name in names:
            key = name_key.get(name, "")
            if key in position:
                symbols[name] = f"r{position[key]}"
            else:
                unknown += 1
                symbols[name] = f"u{unknown}"
        return symbols
    # No templateKey at all: fall back to the order of first appearance as updateRevision.
    order: list[str] = []
    for ev in history.objects("StatefulSet"):
        upd = str(status_of(ev.obj).get("updateRevision") or "")
        if ev.name == set_name and upd and upd not in order:
            order.append(upd)
    unknown = 0
    for name in names:
        if name in order:
            symbols[name] = f"r{order.index(name) + 1}"
        else:
            unknown += 1
            symbols[name] = f"u{unknown}"
    return symbols


# -- views ---------------------------------------------------------------------------------------
#: Comparison levels (see :func:`compare_states`): what is determined at a quiescent point.
BASIC, TARGET, FULL = 0, 1, 2


def quiescent_view(
    history: History,
    at_seq: int,
    previous_seq: int | None = None,
    symbols: dict[str, str] | None = None,
    claim_scope: tuple[int, int] | None = None,
    walk: StateWalk | None = None,
) -> dict[str, Any]:
    """The comparable, nondeterminism-free view of the state right after record ``at_seq``.

    ``previous_seq`` is the record the ``sameUidAsBefore`` relations refer to (the previous
    compared quiescent record of the same history); ``symbols`` defaults to
    :func:`revision_symbols`. Claims are kept only for ordinals in the set's range (whether
    claims of other ordinals were ever created depends on timing); ``claim_scope`` gives the
    range to use when the set does not exist; ``walk`` is the caller's
    :class:`~sts_props.history.StateWalk` of ``history`` when it views many points in order
    (each view then costs its own records, not the History's). ``view["meta"]`` is not
    compared: it holds the range, the update floor and whether a documented blocker may hold
    the state short of the section 10.3 target: a held, unready, Failed or terminating pod, an
    in-range pod name taken by a pod the set does not control (ID-13), a claim being deleted
    (held by PVC protection while in use) or a missing pod's stale claim (STO-3, STO-12), a set
    being deleted, or pods left behind by a deleted set (Orphan propagation: which ones depends
    on timing). A pod missing *without* a blocker is a finding, not a blocker.
    """
    symbols = revision_symbols(history) if symbols is None else symbols
    walk = StateWalk(history) if walk is None else walk
    before = (
        walk.state(previous_seq)
        if previous_seq is not None and previous_seq in walk.position
        else None
    )
    state = walk.state(at_seq)
    set_name = history.set_name
    sts = state.get("StatefulSet", {}).get(set_name)

    def sym(name: str) -> str:
        return symbols.get(name, "u?") if name else ""

    def same_uid(kind: str, name: str, obj: Snapshot) -> bool | None:
        if before is None:
            return None
        old = before.get(kind, {}).get(name)
        return None if old is None else uid(old) == uid(obj)

    def owners(obj: Snapshot) -> list[tuple[str, str, bool, bool, bool]]:
        # blockOwnerDeletion too (issue 12 item 5): a ref without it lets a Foreground delete
        # of the owner finish before the dependant is gone (STO-8, ID-15).
        refs = []
        for r in owner_refs(obj):
            kind, name = str(r.get("kind", "")), str(r.get("name", ""))
            target = state.get(kind, {}).get(name)
            stale = target is None or uid(target) != str(r.get("uid", ""))
            refs.append((kind, name, bool(r.get("controller")),
                         bool(r.get("blockOwnerDeletion")), stale))
        return sorted(refs)

    view: dict[str, Any] = {}
    meta_view: dict[str, Any] = {"blocked": False, "range": claim_scope, "floor": None}
    if sts is None:
        view["set"] = {"exists": False}
    else:
        spec, status = Spec.of(sts), status_of(sts)
        meta_view["range"] = (spec.start, spec.end)
        meta_view["floor"] = spec.update_floor if spec.rolling else None
        meta_view["blocked"] = is_terminating(sts)
        view["set"] = {
            "exists": True,
            "terminating": is_terminating(sts),
            "generation": as_int(meta(sts).get("generation"), 0),
            "spec.replicas": spec.replicas,
            "spec.start": spec.start,
            **{
                f"status.{f}": as_int(status.get(f), 0)
                for f in (
                    "replicas",
                    "readyReplicas",
                    "availableReplicas",
                    "currentReplicas",
                    "updatedReplicas",
                    "observedGeneration",
                    "collisionCount",
                )
            },
            "status.currentRevision": sym(str(status.get("currentRevision") or "")),
            "status.updateRevision": sym(str(status.get("updateRevision") or "")),
        }
    pods: dict[str, Any] = {}
    controlled: set[int] = set()
    for name, pod in state.get("Pod", {}).items():
        ref = controller_ref(pod)
        mine = ref is not None and ref.get("kind") == "StatefulSet" and ref.get("name") == set_name
        o = ordinal_of(name, set_name)
        if not mine and o is None:
            continue
        if sts is not None:
            owned = mine and str(ref.get("uid", "") if ref else "") == uid(sts)
            healthy = is_running_ready(pod) and not is_terminating(pod) and not is_held(pod)
            in_range = o is not None and spec.in_range(o)
            if not healthy or (in_range and not owned):
                meta_view["blocked"] = True  # an unhealthy pod, or a name clash (ID-13)
            if owned and o is not None:
                controlled.add(o)
        pspec = spec_of(pod)
        lab = without_harness_keys(labels(pod))
        lab.pop(REVISION_LABEL, None)
        ann = without_harness_keys(dict(meta(pod).get("annotations") or {}))
        pods[name] = {
            "ordinal": o,
            "revision": sym(revision_of(pod)),
            "phase": phase(pod),
            "ready": is_ready(pod),
            "terminating": is_terminating(pod),
            "hostname": str(pspec.get("hostname") or ""),
            "subdomain": str(pspec.get("subdomain") or ""),
            "labels": dict(sorted(lab.items())),
            "annotations": dict(sorted(ann.items())),
            "volumes": dict(sorted(volumes(pod).items())),
            "owners": owners(pod),
            "sameUidAsBefore": same_uid("Pod", name, pod),
        }
    if sts is not None:
        for o in set(range(spec.start, spec.end)) - controlled:
            for t in spec.templates:  # a claim being deleted or stale blocks (STO-3, STO-12)
                c = state.get("PersistentVolumeClaim", {}).get(claim_name(t, set_name, o))
                if c is not None and (
                    is_terminating(c) or any(r.get("kind") == "Pod" for r in owner_refs(c))
                ):
                    meta_view["blocked"] = True
    elif pods:
        meta_view["blocked"] = True  # pods left behind without a set (Orphan): path-dependent
    view["pods"] = pods
    claim = re.compile(rf".+-{re.escape(set_name)}-([0-9]+)$")
    scope = meta_view["range"]
    pvcs: dict[str, Any] = {}
    # every claim of the set's ordinals, in range or not: uid and whether it is being deleted
    # (compare_histories follows claims that left the range, STO-10)
    meta_view["claims"] = {}
    for name, pvc in state.get("PersistentVolumeClaim", {}).items():
        m = claim.match(name)
        if m is not None:
            meta_view["claims"][name] = (uid(pvc), is_terminating(pvc))
        if m is None or scope is None or not scope[0] <= int(m.group(1)) < scope[1]:
            continue
        if is_terminating(pvc):
            meta_view["blocked"] = True  # held by pvc-protection while in use (STO-3)
        pvcs[name] = {
            "labels": dict(sorted(without_harness_keys(labels(pvc)).items())),
            "phase": phase(pvc),
            "terminating": is_terminating(pvc),
            "owners": owners(pvc),
            "sameUidAsBefore": same_uid("PersistentVolumeClaim", name, pvc),
        }
    view["pvcs"] = pvcs
    recorded = walk.recorded(at_seq)
    if "ControllerRevision" in recorded:
        crs = [
            (as_int(cr.get("revision"), 0), sym(name))
            for name, cr in state.get("ControllerRevision", {}).items()
            if name.startswith(set_name + "-")
            or (controller_ref(cr) or {}).get("name") == set_name
        ]
        view["revisions"] = [s for _, s in sorted(crs)]
    if "EndpointSlice" in recorded:
        service = str(spec_of(sts).get("serviceName") or "") if sts is not None else ""
        endpoints: set[tuple[str, bool]] = set()
        for es in state.get("EndpointSlice", {}).values():
            if service and str(es.get("service") or "") != service:
                continue
            for ep in es.get("endpoints") or []:
                endpoints.add((str(ep.get("hostname") or ""), bool(ep.get("ready"))))
        view["endpoints"] = sorted(endpoints)
    view["meta"] = meta_view
    return view


# -- comparing -----------------------------------------------------------------------------------
#: The level from which each field is compared (fields not listed: TARGET).
_SET_LEVEL = {
    "exists": BASIC,
    "terminating": BASIC,
    "generation": BASIC,
    "spec.replicas": BASIC,
    "spec.start": BASIC,
    "status.currentReplicas": FULL,
    "status.updatedReplicas": FULL,
    "status.currentRevision": FULL,
}
_POD_LEVEL = {
    "ordinal": BASIC,
    "hostname": BASIC,
    "subdomain": BASIC,
    "labels": BASIC,
    "annotations": BASIC,
    "volumes": BASIC,
    "owners": BASIC,
    "sameUidAsBefore": FULL,
}


def compare_states(
    left: dict[str, Any],
    right: dict[str, Any],
    left_name: str = "model",
    right_name: str = "cluster",
    level: int = FULL,
) -> list[Difference]:
    """Differences between two :func:`quiescent_view` results, each explained in one sentence.

    ``level`` says how much of the state is determined, and so compared:

    * ``BASIC`` (either side is blocked short of the 10.3 target, so which pods exist above a
      blocker and their revisions depend on timing): whether the set exists or is being
      deleted, its generation, spec.replicas and spec.start, and the identity of pods present
      on both sides (hostname, subdomain, labels, annotations, volumes, ownerReferences);
    * ``TARGET`` (both at the target, but several ops ran since the previous compared point,
      so intermediate states may have differed): also which pods and in-range claims exist,
      pod phase/ready/terminating, the revision of pods at or above ``start + partition``
      (RollingUpdate), claim phase/ownerReferences, status replicas/ready/available/
      observedGeneration/updateRevision, and endpoints;
    * ``FULL`` (one op since a compared target state, so the path is determined): everything,
      including the revisions of pods below the partition, currentRevision, current/updated
      replicas, the same-uid relations and the ControllerRevision list.

    >>> a = {"set": {"exists": True, "spec.replicas": 3}, "pods": {}, "pvcs": {}}
    >>> b = {"set": {"exists": True, "spec.replicas": 2}, "pods": {}, "pvcs": {}}
    >>> [d.note for d in compare_states(a, b)]
    ['The set spec.replicas is 3 in the model but 2 on the cluster.']
    """
    out: list[Difference] = []
    lmeta = as_dict(left.get("meta"))
    floor = lmeta.get("floor")
    lset, rset = as_dict(left.get("set")), as_dict(right.get("set"))
    if lset.get("exists") != rset.get("exists"):
        out.append(
            Difference(
                "set/exists",
                lset.get("exists"),
                rset.get("exists"),
                f"The StatefulSet {_exists(lset)} {_on(left_name)} but "
                f"{_exists(rset)} {_on(right_name)}.",
            )
        )
    else:
        for key in sorted(set(lset) | set(rset)):
            if level < _SET_LEVEL.get(key, TARGET):
                continue
            lv, rv = lset.get(key, "absent"), rset.get(key, "absent")
            if lv != rv:
                out.append(
                    Difference(
                        f"set/{key}",
                        lv,
                        rv,
                        f"The set {key} is {_show(lv)} {_on(left_name)} but {_show(rv)} "
                        f"{_on(right_name)}.",
                    )
                )
    for group, noun in (("pods", "pod"), ("pvcs", "claim")):
        lg, rg = as_dict(left.get(group)), as_dict(right.get(group))
        for name in sorted(set(lg) | set(rg)):
            if name not in rg or name not in lg:
                if level < TARGET:
                    continue
                here, there = (left_name, right_name) if name in lg else (right_name, left_name)
                out.append(
                    Difference(
                        f"{group}/{name}",
                        "present" if name in lg else "absent",
                        "present" if name in rg else "absent",
                        f"{noun.capitalize()} {name} exists {_on(here)} but not {_on(there)}.",
                    )
                )
                continue
            lo, ro = as_dict(lg[name]), as_dict(rg[name])
            for key in sorted(set(lo) | set(ro)):
                need = _POD_LEVEL.get(key, TARGET) if group == "pods" else (
                    FULL if key == "sameUidAsBefore" else TARGET
                )
                if key == "revision":
                    o = lo.get("ordinal")
                    above = floor is not None and isinstance(o, int) and o >= floor
                    need = TARGET if above else FULL
                if level < need:
                    continue
                lv, rv = lo.get(key, "absent"), ro.get(key, "absent")
                if key == "sameUidAsBefore" and (lv is None or rv is None):
                    continue  # absent at the previous point on one side: no relation to compare
                if lv != rv:
                    out.append(
                        Difference(
                            f"{group}/{name}/{key}",
                            lv,
                            rv,
                            f"{noun.capitalize()} {name} has {_field(key)} {_show(lv)} "
                            f"{_on(left_name)} but {_show(rv)} {_on(right_name)}.",
                        )
                    )
    for key, what, need in (
        ("revisions", "ControllerRevisions (by revision number)", FULL),
        ("endpoints", "endpoints (hostname, ready)", TARGET),
    ):
        if level >= need and key in left and key in right and left[key] != right[key]:
            out.append(
                Difference(
                    key,
                    left[key],
                    right[key],
                    f"The {what} are {_show(left[key])} {_on(left_name)} but "
                    f"{_show(right[key])} {_on(right_name)}.",
                )
            )
    return out


def _lingering_claims(left: dict[str, Any], right: dict[str, Any], settled: dict[str, str],
                      lingering: dict[str, tuple[Event, Event]], mev: Event, cev: Event,
                      cluster_history: History) -> list[Violation]:
    """Claims that left the set's range are not compared (whether a claim of an ordinal that
    was in range only briefly was ever created depends on timing), but one both sides agreed
    on while it was in range is determined: when the model's garbage collector has removed it
    (STO-10: its condemned pod, or its deleted set, owned it) at one compared point, the
    cluster's must be gone, or at least being deleted, by the next one. Two points, not one,
    because the garbage collector acts after the owner is gone and the wait for a state does
    not wait for it. ``settled`` and ``lingering`` carry what this pair leaves for the next
    (updated in place); a claim lingering two points in a row is a violation.
    """
    out: list[Violation] = []
    mclaims, cclaims = left["meta"]["claims"], right["meta"]["claims"]
    for name, (first_m, first_c) in list(lingering.items()):
        del lingering[name]
        here = cclaims.get(name)
        if name in mclaims or here is None or here[1] or here[0] != settled.get(name):
            continue  # re-created on the model, or gone (or going) on the cluster
        out.append(Violation(
            "CMP", "CMP/STO-10",
            f"Claim {name} outlived its owner: the model's garbage collector removed it by "
            f"its quiescent point {first_m.where()}, but the cluster still has it, not being "
            f"deleted, at {first_c.where()} and at {cev.where()} (the next compared point). "
            f"Its ownerReferences on the cluster: "
            f"{_show(_claim_owners(cluster_history, cev, name))}.",
            (mev.seq, cev.seq)))
        settled.pop(name, None)  # reported once
    for name, cluster_uid in settled.items():
        here = cclaims.get(name)
        if (name not in mclaims and name not in left["pvcs"] and name not in right["pvcs"]
                and here is not None and not here[1] and here[0] == cluster_uid):
            lingering[name] = (mev, cev)
    for name, pvc in left["pvcs"].items():
        if right["pvcs"].get(name) == pvc and name in cclaims:
            settled[name] = cclaims[name][0]
    return out


def _claim_owners(history: History, at: Event, name: str) -> list[str]:
    position = {ev.seq: i for i, ev in enumerate(history.events)}
    pvc = history.state_at(position[at.seq]).get("PersistentVolumeClaim", {}).get(name)
    return [f"{r.get('kind')}/{r.get('name')}" for r in owner_refs(pvc)] if pvc else []


def compare_histories(model_history: History, cluster_history: History) -> list[Violation]:
    """Compare a model History with a cluster History of the same scenario.

    Settled quiescent records are paired by ``afterOp`` (the k-th record after an op index on
    one side with the k-th on the other; records present or settled on one side only are not
    compared). Each pair is compared by :func:`compare_states` at the level its states
    determine: ``BASIC`` if either side is blocked short of the 10.3 target, ``FULL`` if at
    most one op ran on each side since the previous compared pair and that pair's states were
    equal in every detail (or since the start), ``TARGET`` otherwise. Differences become
    ``CMP`` violations whose ``events`` are ``(model seq, cluster seq)``.

    Op outcomes are compared for every op index with a final outcome on both sides, except
    indeterminate ones. Validation answers (accepted, 422) are always compared, the causes too
    when both are 422; a NotFound or Conflict answer depends on timing, so it is compared only
    for the first op after a compared pair whose states were equal in every detail.
    """
    out: list[Violation] = []
    msym, csym = revision_symbols(model_history), revision_symbols(cluster_history)
    mq, cq = _settled_by_op(model_history), _settled_by_op(cluster_history)
    mwalk, cwalk = StateWalk(model_history), StateWalk(cluster_history)  # the pairs come in order
    # (model record, cluster record, model view, cluster view, whether the two states were
    # equal in every detail, i.e. the next single op starts from the same state on both sides)
    prev: tuple[Event, Event, dict[str, Any], dict[str, Any], bool] | None = None
    determined: set[int] = set()  # op indices whose starting state is the same on both sides
    settled: dict[str, str] = {}  # claim -> its cluster uid when both sides last agreed on it
    lingering: dict[str, tuple[Event, Event]] = {}  # out of range, collected by the model only
    for key, mev in mq.items():
        cev = cq.get(key)
        if cev is None:
            continue
        scopes = (
            (prev[2]["meta"]["range"], prev[3]["meta"]["range"]) if prev else (None, None)
        )
        left = quiescent_view(
            model_history, mev.seq, prev[0].seq if prev else None, msym, scopes[0], mwalk
        )
        right = quiescent_view(
            cluster_history, cev.seq, prev[1].seq if prev else None, csym, scopes[1], cwalk
        )
        mops = _ops_between(model_history, prev[0].seq if prev else -1, mev.seq)
        cops = _ops_between(cluster_history, prev[1].seq if prev else -1, cev.seq)
        if left["meta"]["blocked"] or right["meta"]["blocked"]:
            level = BASIC
        elif len(mops) <= 1 and len(cops) <= 1 and (prev is None or prev[4]):
            level = FULL
        else:
            level = TARGET
        equal = not compare_states(left, right, level=FULL)
        out += _lingering_claims(left, right, settled, lingering, mev, cev, cluster_history)
        for diff in compare_states(left, right, level=level):
            out.append(
                Violation(
                    "CMP",
                    f"CMP/{rule_for(diff.path)}",
                    f"At the quiescent point after op {key[0]} (model {mev.where()}, cluster "
                    f"{cev.where()}): {diff.note}",
                    (mev.seq, cev.seq),
                )
            )
        if equal:
            after_m = _ops_between(model_history, mev.seq, len(model_history.events) + 1)
            after_c = _ops_between(cluster_history, cev.seq, len(cluster_history.events) + 1)
            if after_m and after_c and after_m[0] == after_c[0]:
                op = as_dict(_invoke(model_history, after_m[0]).data.get("op"))
                ordinal = op.get("ordinal")
                scope = left["meta"]["range"]
                # A claim of an out-of-range ordinal may or may not have been created (timing).
                if op.get("op") != "delete_pvc" or (
                    isinstance(ordinal, int) and scope and scope[0] <= ordinal < scope[1]
                ):
                    determined.add(after_m[0])
        prev = (mev, cev, left, right, equal)
    mo, co = _final_outcomes(model_history), _final_outcomes(cluster_history)
    for index in sorted(set(mo) & set(co)):
        (mev, mout), (cev, cout) = mo[index], co[index]
        if mout.status == "indeterminate" or cout.status == "indeterminate":
            continue
        if {mout.code, cout.code} & _TIMING_CODES and index not in determined:
            continue
        msig, csig = mout.signature(), cout.signature()
        what = _op_text(model_history, index)
        cited = (mev.seq, cev.seq)
        if msig[:3] != csig[:3]:
            out.append(
                Violation(
                    "CMP",
                    "CMP/VAL-8" + (f"/{'/'.join(mout.rules)}" if mout.rules else ""),
                    f"Op {index} ({what}) was {mout.describe()} in the model ({mev.where()}) "
                    f"but {cout.describe()} on the cluster ({cev.where()}).",
                    cited,
                )
            )
        elif msig[1] == 422 and msig[3] != csig[3]:
            out.append(
                Violation(
                    "CMP",
                    "CMP/VAL-8" + (f"/{'/'.join(mout.rules)}" if mout.rules else ""),
                    f"Op {index} ({what}) was rejected 422 on both sides but with causes "
                    f"{_causes(msig[3])} in the model ({mev.where()}) and {_causes(csig[3])} on "
                    f"the cluster ({cev.where()}).",
                    cited,
                )
            )
    return out


#: Answers that depend on what exists at the instant the op lands (VAL-8): NotFound, Conflict.
_TIMING_CODES = frozenset({404, 409})


def _ops_between(history: History, lo: int, hi: int) -> list[int]:
    """Indices of the non-settle ops invoked with ``lo < seq < hi``."""
    return [
        as_int(ev.data.get("index"), -1)
        for ev in history.ops()
        if lo < ev.seq < hi
        and ev.phase == "invoke"
        and as_dict(ev.data.get("op")).get("op") != "settle"
    ]


# -- helpers -------------------------------------------------------------------------------------
def _settled_by_op(history: History) -> dict[tuple[int, int], Event]:
    seen: dict[int, int] = {}
    found: dict[tuple[int, int], Event] = {}
    for ev in history.quiescent_points():
        after = as_int(ev.data.get("afterOp"), -1)
        nth = seen.get(after, 0)
        seen[after] = nth + 1
        if ev.data.get("settled"):
            found[(after, nth)] = ev
    return found


def _final_outcomes(history: History) -> dict[int, tuple[Event, Outcome]]:
    found: dict[int, tuple[Event, Outcome]] = {}
    for ev in history.ops():
        if ev.phase not in ("ok", "fail", "info"):
            continue
        raw = ev.data.get("outcome")
        try:
            if isinstance(raw, dict):
                outcome = Outcome.from_dict(raw)
            elif ev.phase == "ok":
                outcome = Outcome.accepted()
            else:
                continue
        except (KeyError, TypeError, ValueError):
            continue  # an outcome we cannot read is not evidence either way
        found[as_int(ev.data.get("index"), -1)] = (ev, outcome)
    return found


def _invoke(history: History, index: int) -> Event:
    for ev in history.ops():
        if ev.phase == "invoke" and as_int(ev.data.get("index"), -1) == index:
            return ev
    return Event(-1, 0.0, "op", {})


def _op_text(history: History, index: int) -> str:
    return describe_op_record(_invoke(history, index).data.get("op"))


def _causes(causes: frozenset[tuple[str, str]]) -> str:
    return "{" + ", ".join(f"{f} {t}" for f, t in sorted(causes)) + "}"


def _on(side: str) -> str:
    """``in the model`` / ``on the cluster``: how a message names a side."""
    return f"in the {side}" if side == "model" else f"on the {side}"


def _exists(view: dict[str, Any]) -> str:
    return "exists" if view.get("exists") else "does not exist"


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value) if value else "empty"
    if value is None:
        return "unknown"
    return str(value)


_FIELD_TEXT = {
    "revision": "revision",
    "sameUidAsBefore": "same-uid-as-at-the-previous-compared-point",
    "owners": "ownerReferences (kind, name, controller, blockOwnerDeletion, stale)",
}


def _field(key: str) -> str:
    return _FIELD_TEXT.get(key, key)


_RULES: tuple[tuple[str, str], ...] = (
    (r"^set/(exists|terminating)$", "DEL-1"),
    (r"^set/(generation|status\.observedGeneration)$", "ST-7"),
    (r"^set/spec\.", "VAL-7"),
    (r"^set/status\.replicas$", "ST-1"),
    (r"^set/status\.readyReplicas$", "ST-2"),
    (r"^set/status\.availableReplicas$", "ST-3"),
    (r"^set/status\.currentReplicas$", "ST-4"),
    (r"^set/status\.updatedReplicas$", "ST-5"),
    (r"^set/status\..*Revision$", "ST-6"),
    (r"^set/status\.collisionCount$", "REV-5"),
    (r"^pods/[^/]+$", "ID-2"),
    (r"^pods/.+/revision$", "UPD-6"),
    (r"^pods/.+/(labels|annotations)$", "ID-7"),
    (r"^pods/.+/(hostname|subdomain)$", "ID-8"),
    (r"^pods/.+/volumes$", "ID-12"),
    (r"^pods/.+/owners$", "ID-15"),
    (r"^pods/.+/sameUidAsBefore$", "ID-1"),
    (r"^pods/", "PR-3"),
    (r"^pvcs/[^/]+$", "STO-1"),
    (r"^pvcs/.+/owners$", "STO-8"),
    (r"^pvcs/.+/labels$", "STO-2"),
    (r"^pvcs/.+/sameUidAsBefore$", "STO-7"),
    (r"^pvcs/.+/terminating$", "STO-10"),
    (r"^pvcs/", "STO-2"),
    (r"^revisions$", "REV-11"),
    (r"^endpoints$", "ID-8"),
)


def rule_for(path: str) -> str:
    """The rule ID a difference at ``path`` falls under (``pods/web-1/revision`` -> UPD-6).

    >>> rule_for("pods/web-1/revision"), rule_for("set/status.readyReplicas")
    ('UPD-6', 'ST-2')
    """
    for pattern, rule in _RULES:
        if re.search(pattern, path):
            return rule
    return "10.3"
