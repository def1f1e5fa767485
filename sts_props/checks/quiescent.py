"""Quiescent-state checks (section 10.3): what must hold once nothing moves any more.

:func:`check_quiescent` looks at the live objects right after one ``quiescent`` record
(:meth:`History.state_at`) and asserts the fixpoint of section 10.3, relaxed where a documented
blocker legitimately stops the controller short of it. :func:`run_quiescent_checks` does so at
every record whose ``settled`` is true.

Always asserted (a stuck controller still keeps these):

* **identity** of every pod the set controls: name ``<set>-<o>`` (ID-1); labels
  ``statefulset.kubernetes.io/pod-name`` = name, ``apps.kubernetes.io/pod-index`` = decimal
  ordinal (from v1.28), ``controller-revision-hash`` present (ID-7); ``spec.hostname`` = name
  and ``spec.subdomain`` = serviceName (ID-8); one volume per volumeClaimTemplate ``t`` naming
  claim ``<t>-<set>-<o>``, compared as a set (ID-12, STO-6); each such claim exists (STO-3),
  unless a delete_pvc op targeted that ordinal earlier (STO-5 recreates claims of Pending pods
  only);
* **status** computed from the controlled pods with a parseable ordinal (section 7):
  replicas = pods with a phase (ST-1), readyReplicas = Running+Ready (ST-2), currentReplicas /
  updatedReplicas = non-terminating pods labelled with currentRevision / updateRevision
  (ST-4, ST-5), observedGeneration = generation (ST-7), availableReplicas between the pods
  that are surely available and the Ready ones (ST-3, T-5: the flip may lag up to ~2x
  minReadySeconds + 1s), and REV-9 (promotion) when its condition holds on the status;
* **ControllerRevisions** (when the history records any): updateRevision names one, it has the
  highest revision number (REV-7), and at most revisionHistoryLimit non-live ones remain
  (REV-11);
* **adoption**: no orphan member pod matching the selector is left unadopted (ID-18);
* **GC**: with no live set of that uid, no pod is still controlled by it (DEL-1), unless a
  finalizer holds it or a DenyPodWrites refuses the GC's delete of it.

Asserted only when nothing blocks the controller (no held, unready (a Pending pod while
HoldScheduling cordons every node is one), Failed or terminating in-range pod, no name clash
with a foreign pod (ID-13), no claim being deleted (STO-3) or stale (STO-12)): every in-range
ordinal has a pod and no condemned pod remains (ID-2); under RollingUpdate every pod at or
above ``start + partition`` is at updateRevision (UPD-1).
Relaxations: under OrderedReady the lowest blocked ordinal ``b`` excuses missing ordinals above
``b`` and any remaining condemned pod (ORD-2, ORD-4, UPD-12); an unhealthy condemned pod excuses
remaining condemned pods (ORD-4 deadlock); under Parallel only API-error blockers (name
clash, claim being deleted, a create refused by DenyPodWrites, or its refusal of the RP-1
delete of a failed or succeeded pod) excuse missing or condemned pods (the burst error block,
#141057); any blocker excuses the revision assertion (UPD-1 waits, UPD-10). Claim ownerRefs
follow STO-8 (set ref iff whenDeleted=Delete, no pod ref) for healthy in-range pods the
controller's pass reaches (under Parallel, not the slow-start batches after one with an API
error), unless the claim carries a ref to another object or to an earlier
incarnation (STO-13: such a claim is left untouched).

>>> from sts_props.history import History
>>> h = History.new(backend="model", set_name="web")
>>> _ = h.quiescent(after_op=0, settled=True)
>>> run_quiescent_checks(h)
[]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sts_props.checks._timeline import (
    Spec,
    as_dict,
    as_int,
    is_finished,
    is_held,
    spec_of,
    status_of,
)
from sts_props.checks.violation import Violation
from sts_props.history import Event, History, apply_record, empty_state
from sts_props.snapshot import (
    INT32_MAX,
    POD_INDEX_LABEL,
    POD_NAME_LABEL,
    REVISION_LABEL,
    Snapshot,
    claim_name,
    controller_ref,
    is_running_ready,
    is_terminating,
    labels,
    meta,
    ordinal_of,
    owner_refs,
    phase,
    pod_name,
    ready_since,
    revision_of,
    uid,
    volumes,
)


def run_quiescent_checks(history: History) -> list[Violation]:
    """:func:`check_quiescent` at every ``quiescent`` record with ``settled`` true."""
    return QuiescentChecker(history).violations()


def check_quiescent(history: History, at_seq: int) -> list[Violation]:
    """Check the section 10.3 target right after record ``at_seq`` (see the module docstring).

    ``at_seq`` is normally a settled ``quiescent`` record; any record works (the state after it
    is checked), which tests use.
    """
    position = next((i for i, ev in enumerate(history.events) if ev.seq == at_seq), None)
    if position is None:
        raise ValueError(f"no record #{at_seq} in this history ({len(history.events)} records)")
    walk = _Walk()
    for ev in history.events[: position + 1]:
        walk.feed(ev)
    return _Quiescence(history, history.events[position], walk).run()


class QuiescentChecker:
    """The quiescent-state checks of a History that is still growing.

    ``violations()`` returns what :func:`run_quiescent_checks` returns for the History as it is
    at that moment; each call reads only the records appended since the previous one, because
    a settled point is judged by the records up to it, never by later ones.

    >>> h = History.new(backend="model", set_name="web")
    >>> checker = QuiescentChecker(h)
    >>> _ = h.quiescent(after_op=0, settled=True)
    >>> checker.violations()
    []
    """

    def __init__(self, history: History) -> None:
        self.history = history
        self._walk = _Walk()
        self._seen: list[Event] = []
        self._found: list[Violation] = []

    def violations(self) -> list[Violation]:
        events = self.history.events
        done = len(self._seen)
        if len(events) < done or (done and events[done - 1] is not self._seen[-1]):
            # The History was rewritten, not appended to: start over.
            self._walk, self._seen, self._found = _Walk(), [], []
            done = 0
        for ev in events[done:]:
            self._seen.append(ev)
            self._walk.feed(ev)
            if ev.type == "quiescent" and ev.data.get("settled"):
                self._found.extend(_Quiescence(self.history, ev, self._walk).run())
        return list(self._found)


class _Walk:
    """What the checks need from the records up to a point, kept up to date record by record:
    the live objects, whether ControllerRevisions are recorded at all, and the ordinals a
    delete_pvc op targeted."""

    def __init__(self) -> None:
        self.state = empty_state()
        self.records_crs = False
        self.pvc_faults: set[int] = set()
        #: ordinals whose pod writes an admission policy refuses now (DenyPodWrites, issue 5)
        self.denied: set[int] = set()

    def feed(self, ev: Event) -> None:
        apply_record(self.state, ev)
        if ev.type == "object" and ev.kind == "ControllerRevision":
            self.records_crs = True
        elif ev.type == "op":
            op = as_dict(ev.data.get("op"))
            if op.get("op") == "delete_pvc" and isinstance(op.get("ordinal"), int):
                self.pvc_faults.add(int(op["ordinal"]))
            elif op.get("op") == "deny_pod_writes" and isinstance(op.get("ordinal"), int):
                self.denied.add(int(op["ordinal"]))
            elif op.get("op") == "allow_pod_writes":
                self.denied.clear()


@dataclass
class _Quiescence:
    """The checks at one point, reading (never changing) the walk's state at that point."""

    history: History
    event: Event
    walk: _Walk
    out: list[Violation] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.set_name = self.history.set_name
        self.g = self.history.clock_granularity
        self.state = self.walk.state
        self.sts: Snapshot | None = self.state.get("StatefulSet", {}).get(self.set_name)
        self.pods: dict[str, Snapshot] = self.state.get("Pod", {})
        self.pvcs: dict[str, Snapshot] = self.state.get("PersistentVolumeClaim", {})
        self.crs: dict[str, Snapshot] = self.state.get("ControllerRevision", {})
        self.records_crs = self.walk.records_crs
        self.pvc_faults = self.walk.pvc_faults
        self.minor = _k8s_minor(str(self.history.header.get("k8sVersion", "")))

    # -- reporting --------------------------------------------------------------------------
    def flag(self, rule: str, text: str, *cited: int) -> None:
        where = self.event.where()
        after = self.event.data.get("afterOp")
        at = f"At the quiescent record {where}"
        if after is not None:
            at += f" (after op {after})"
        self.out.append(Violation("Q", f"Q/{rule}", f"{at}, {text}", (self.event.seq, *cited)))

    # -- the checks -------------------------------------------------------------------------
    def run(self) -> list[Violation]:
        if self.sts is None:
            self.check_gc(set_uid=None)
            return self.out
        set_uid = uid(self.sts)
        self.check_gc(set_uid)
        spec = Spec.of(self.sts)
        owned = {
            n: p
            for n, p in self.pods.items()
            if (ref := controller_ref(p)) is not None
            and ref.get("kind") == "StatefulSet"
            and str(ref.get("uid", "")) == set_uid
        }
        for name in sorted(owned):
            self.check_identity(name, owned[name], spec)
        if is_terminating(self.sts):
            return self.out  # ORD-9: being deleted; only identity is meaningful
        self.check_adoption(spec, owned)
        self.check_status(spec, owned)
        self.check_revisions_objects(spec, owned)
        self.check_convergence(spec, owned, set_uid)
        return self.out

    def check_gc(self, set_uid: str | None) -> None:
        for name in sorted(self.pods):
            ref = controller_ref(self.pods[name])
            if not ref or ref.get("kind") != "StatefulSet" or ref.get("name") != self.set_name:
                continue
            if set_uid is not None and str(ref.get("uid", "")) == set_uid:
                continue
            pod = self.pods[name]
            if is_terminating(pod) and meta(pod).get("finalizers"):
                continue  # the GC deleted it; a finalizer holds it (PR-2, HoldTerminating)
            if ordinal_of(name, self.set_name) in self.walk.denied:
                continue  # the GC's DELETE is refused (DenyPodWrites); it retries with backoff
            gone = "no longer exists" if set_uid is None else "was replaced by a new incarnation"
            self.flag(
                "DEL-1",
                f"pod {name} is still controlled by StatefulSet {self.set_name} uid "
                f"{ref.get('uid', '?')}, which {gone}; the garbage collector removes or orphans "
                f"the dependents of a deleted set.",
            )

    def check_identity(self, name: str, pod: Snapshot, spec: Spec) -> None:
        o = ordinal_of(name, self.set_name)
        if o is None or name != pod_name(self.set_name, o):
            expected = (
                f"; ordinal {o} belongs to {pod_name(self.set_name, o)}" if o is not None else ""
            )
            self.flag(
                "ID-1",
                f"pod {name} is controlled by StatefulSet {self.set_name} but is not named "
                f"{self.set_name}-<ordinal>{expected}.",
            )
            return
        lab = labels(pod)
        if lab.get(POD_NAME_LABEL) != name:
            self.flag(
                "ID-7",
                f"pod {name} has label {POD_NAME_LABEL}={lab.get(POD_NAME_LABEL)!r}, expected "
                f"{name!r}.",
            )
        if self.minor >= 28 and lab.get(POD_INDEX_LABEL) != str(o):
            self.flag(
                "ID-7",
                f"pod {name} has label {POD_INDEX_LABEL}={lab.get(POD_INDEX_LABEL)!r}, expected "
                f"the decimal ordinal {str(o)!r}.",
            )
        if not revision_of(pod):
            self.flag("ID-7", f"pod {name} has no {REVISION_LABEL} label.")
        pspec = spec_of(pod)
        hostname, subdomain = str(pspec.get("hostname") or ""), str(pspec.get("subdomain") or "")
        if hostname != name or subdomain != spec.service_name:
            self.flag(
                "ID-8",
                f"pod {name} has hostname {hostname!r} and subdomain {subdomain!r}, expected "
                f"{name!r} and the serviceName {spec.service_name!r}.",
            )
        vols = volumes(pod)
        wrong = {
            t: vols.get(t)
            for t in spec.templates
            if vols.get(t) != claim_name(t, self.set_name, o)
        }
        if wrong:
            shown = ", ".join(
                f"volume {t} -> {got if got else 'missing'} (expected "
                f"{claim_name(t, self.set_name, o)})"
                for t, got in sorted(wrong.items())
            )
            self.flag(
                "ID-12", f"pod {name} (ordinal {o}) mounts the wrong claims: {shown} (STO-1)."
            )
        if o in self.pvc_faults:
            return
        if self.sts is not None and is_terminating(self.sts):
            # The set is being deleted (ORD-9): its claims' owner references (whenDeleted=Delete,
            # STO-8) let the garbage collector delete them while a finalizer still holds a pod,
            # and an unscheduled pod does not protect its claim (STO-5). Not the controller.
            return
        for t in spec.templates:
            claim = claim_name(t, self.set_name, o)
            if claim not in self.pvcs:
                self.flag(
                    "STO-3",
                    f"pod {name} (ordinal {o}) exists but its claim {claim} (template {t}) does "
                    f"not; the controller creates claims before the pod and never deletes "
                    f"those of in-range pods.",
                )

    def check_adoption(self, spec: Spec, owned: dict[str, Snapshot]) -> None:
        selector = dict(spec.match_labels)
        for name in sorted(self.pods):
            pod = self.pods[name]
            if name in owned or controller_ref(pod) is not None or is_terminating(pod):
                continue
            if ordinal_of(name, self.set_name) is None or not selector:
                continue
            lab = labels(pod)
            if all(lab.get(k) == v for k, v in selector.items()):
                self.flag(
                    "ID-18",
                    f"orphan pod {name} matches the selector of StatefulSet {self.set_name} but "
                    f"was not adopted.",
                )

    def check_status(self, spec: Spec, owned: dict[str, Snapshot]) -> None:
        assert self.sts is not None
        status = status_of(self.sts)
        generation = as_int(meta(self.sts).get("generation"), 0)
        observed = as_int(status.get("observedGeneration"), 0)
        if observed != generation:
            self.flag(
                "ST-7",
                f"status.observedGeneration is {observed} but metadata.generation is "
                f"{generation}.",
            )
        counted = {n: p for n, p in owned.items() if ordinal_of(n, self.set_name) is not None}
        ordinals = [ordinal_of(n, self.set_name) for n in counted]
        if len(set(ordinals)) != len(ordinals):
            return  # ID-5: two pods in one slot; which one is counted is nondeterministic
        cur_rev = str(status.get("currentRevision") or "")
        upd_rev = str(status.get("updateRevision") or "")
        created = {n: p for n, p in counted.items() if phase(p)}
        live = {n: p for n, p in created.items() if not is_terminating(p)}
        ready = {n: p for n, p in counted.items() if is_running_ready(p)}
        expected: dict[str, tuple[str, list[str], str]] = {
            "replicas": ("ST-1", sorted(created), "pods with a phase"),
            "readyReplicas": ("ST-2", sorted(ready), "Running+Ready pods"),
            "currentReplicas": (
                "ST-4",
                sorted(n for n, p in live.items() if revision_of(p) == cur_rev),
                f"non-terminating pods at currentRevision {cur_rev or '(empty)'}",
            ),
            "updatedReplicas": (
                "ST-5",
                sorted(n for n, p in live.items() if revision_of(p) == upd_rev),
                f"non-terminating pods at updateRevision {upd_rev or '(empty)'}",
            ),
        }
        for fname, (rule, members, what) in expected.items():
            got = as_int(status.get(fname), 0)
            if got != len(members):
                shown = f" ({', '.join(members)})" if members else ""
                self.flag(
                    rule,
                    f"status.{fname} is {got} but {len(members)} of the set's pods are "
                    f"{what}{shown}.",
                )
        mrs = spec.min_ready_seconds
        now = self.event.t
        upper = sum(
            1
            for p in ready.values()
            if mrs <= 0 or (s := ready_since(p)) is None or s + mrs <= now + self.g
        )
        lower = sum(
            1
            for p in ready.values()
            if mrs <= 0 or ((s := ready_since(p)) is not None and s + 2 * mrs + 1 + self.g <= now)
        )
        available = as_int(status.get("availableReplicas"), 0)
        if not lower <= available <= upper:
            self.flag(
                "ST-3",
                f"status.availableReplicas is {available} but between {lower} and {upper} of the "
                f"set's pods are Running+Ready for minReadySeconds={mrs} at t={now:g}.",
            )
        if spec.rolling:
            reps = spec.replicas
            promote = (
                as_int(status.get("updatedReplicas"), 0) == reps
                and as_int(status.get("readyReplicas"), 0) == reps
                and as_int(status.get("replicas"), 0) == reps
            )
            if promote and cur_rev != upd_rev:
                self.flag(
                    "REV-9",
                    f"status.currentRevision is {cur_rev or 'empty'} but updateRevision is "
                    f"{upd_rev}, although updated, ready and replicas all equal spec.replicas "
                    f"= {reps}, which promotes the update revision.",
                )

    def check_revisions_objects(self, spec: Spec, owned: dict[str, Snapshot]) -> None:
        if not self.records_crs or self.sts is None:
            return
        set_uid = uid(self.sts)
        mine = {
            n: cr
            for n, cr in self.crs.items()
            if (ref := controller_ref(cr)) is not None and str(ref.get("uid", "")) == set_uid
        }
        if not mine and not any(controller_ref(cr) for cr in self.crs.values()):
            mine = {n: cr for n, cr in self.crs.items() if n.startswith(self.set_name + "-")}
        status = status_of(self.sts)
        cur_rev = str(status.get("currentRevision") or "")
        upd_rev = str(status.get("updateRevision") or "")
        if upd_rev and upd_rev not in mine:
            self.flag(
                "ST-6",
                f"status.updateRevision names ControllerRevision {upd_rev}, which does not "
                f"exist (live: {', '.join(sorted(mine)) or 'none'}).",
            )
        elif upd_rev:
            top = as_int(mine[upd_rev].get("revision"), 0)
            newer = sorted(n for n, cr in mine.items() if as_int(cr.get("revision"), 0) > top)
            if newer:
                self.flag(
                    "REV-7",
                    f"update revision {upd_rev} has revision number {top} but "
                    f"{', '.join(newer)} have higher numbers; the update revision is always "
                    f"the newest.",
                )
        live_names = {cur_rev, upd_rev} | {revision_of(p) for p in owned.values()}
        history_kept = sorted(n for n in mine if n not in live_names)
        limit = spec.revision_history_limit
        if limit >= 0 and len(history_kept) > limit:
            self.flag(
                "REV-11",
                f"{len(history_kept)} non-live ControllerRevisions remain "
                f"({', '.join(history_kept)}) but revisionHistoryLimit is {limit}.",
            )

    def check_convergence(self, spec: Spec, owned: dict[str, Snapshot], set_uid: str) -> None:
        by_ordinal: dict[int, tuple[str, Snapshot]] = {}
        for n, p in owned.items():
            o = ordinal_of(n, self.set_name)
            if o is not None and n == pod_name(self.set_name, o):
                by_ordinal[o] = (n, p)
        in_range = list(range(spec.start, spec.end))
        unhealthy = {o for o in in_range if o in by_ordinal and not _healthy(by_ordinal[o][1])}
        clash = {
            o
            for o in in_range
            if (n := pod_name(self.set_name, o)) in self.pods and n not in owned
        }
        claim_terminating: set[int] = set()
        claim_stale: set[int] = set()
        for o in in_range:
            if o in by_ordinal:
                continue
            for t in spec.templates:
                claim = self.pvcs.get(claim_name(t, self.set_name, o))
                if claim is None:
                    continue
                if is_terminating(claim):
                    claim_terminating.add(o)
                if any(
                    r.get("kind") == "Pod" and r.get("name") == pod_name(self.set_name, o)
                    for r in owner_refs(claim)
                ):
                    claim_stale.add(o)
        missing = [o for o in in_range if o not in by_ordinal and o not in clash]
        condemned = sorted(
            (o, n) for o, (n, _) in by_ordinal.items() if not spec.in_range(o)
        )
        condemned_unhealthy = any(not _healthy(by_ordinal[o][1]) for o, _ in condemned)
        # A create or delete refused by an admission policy is an API error (EX-2 backoff).
        denied = {o for o in in_range if o in self.walk.denied and o not in by_ordinal}
        # So is a refused DELETE of a failed or succeeded slot pod (RP-1): in burst mode it
        # fails its slow-start batch, and no later batch runs (section 4, #141057). Seen on
        # kwok v1.37.2: Parallel, pod 0 Succeeded with its writes denied, scale 1 -> 5: no pod
        # created until writes were allowed again, as the model says.
        delete_refused = {
            o for o in in_range
            if o in self.walk.denied and o in by_ordinal
            and is_finished(by_ordinal[o][1]) and not is_terminating(by_ordinal[o][1])
        }
        # F-9 (docs/findings.md, upstream's as of v1.37.2): a slot above 2^31-1 is never
        # filled (its pod is renamed <set>--1, which the apiserver refuses), and the error
        # ends every sync, as a refused create does.
        beyond = {o for o in in_range if o > INT32_MAX}
        blocked_slots = unhealthy | clash | claim_terminating | claim_stale | denied | beyond
        first_bad = min(blocked_slots) if blocked_slots else None
        create_errors = bool(clash or claim_terminating or denied or delete_refused or beyond)
        # ORD-6b: from 1.38 a Parallel set deletes its condemned pods before it creates any
        # (#141057), so a refused DELETE of one ends the sync before the creates too.
        if self.minor >= 38 and any(o in self.walk.denied and not is_terminating(by_ordinal[o][1])
                                    for o, _ in condemned):
            create_errors = True

        # RCR-2: under Recreate, while any pod is not at the update revision (terminating
        # ones included) the sync ends after deleting the old pods: nothing is created, no
        # condemned pod is scaled down and no claim ref is reconciled. A live old pod is the
        # controller's to delete (RCR-1) unless its DELETE is refused.
        recreate_old: list[tuple[int, str, Snapshot]] = []
        if spec.recreate and self.sts is not None:
            upd_rev = str(status_of(self.sts).get("updateRevision") or "")
            recreate_old = sorted((o, n, pod) for o, (n, pod) in by_ordinal.items()
                                  if revision_of(pod) != upd_rev)
            old_live = {o for o, _, pod in recreate_old if not is_terminating(pod)}
            # Upstream tries these DELETEs in slow-start batches over every slot and then the
            # condemned pods, highest first (recreateDeleteAndWait's runForAll); a refused one
            # fails its batch and no later batch runs until the retry. Seen on kwok
            # v1.38.0-beta.0: pod 1 of slots 1-2 refused, pod 2 left old for as long.
            condemned_order = sorted((o for o in by_ordinal if not spec.in_range(o)),
                                     reverse=True)
            order = in_range + condemned_order
            refused_at = next((i for i, o in enumerate(order)
                               if o in old_live and o in self.walk.denied), None)
            tried = set(order if refused_at is None else order[:_batch_end(refused_at)])
            live_old = [n for o, n, _ in recreate_old
                        if o in old_live and o in tried and o not in self.walk.denied]
            if live_old:
                self.flag(
                    "RCR-1",
                    f"pod(s) {', '.join(live_old)} are not at updateRevision {upd_rev} and not "
                    f"being deleted although the strategy is Recreate, which deletes every "
                    f"such pod.",
                )
        if recreate_old:
            flagged_missing = []
            condemned_excused = True
        elif spec.ordered:
            flagged_missing = [
                o
                for o in missing
                if o not in claim_terminating | claim_stale | denied | beyond
                and (first_bad is None or o < first_bad)
            ]
            condemned_excused = first_bad is not None or bool(missing) or condemned_unhealthy
        else:
            flagged_missing = (
                [] if create_errors else [o for o in missing if o not in claim_stale]
            )
            condemned_excused = create_errors
        condemned_excused = condemned_excused or any(o in self.walk.denied for o, _ in condemned)
        # A condemned pod already being deleted but held by a finalizer (PR-2; HoldTerminating):
        # the controller did its part, and under OrderedReady it waits for it (CD-1).
        condemned_excused = condemned_excused or any(
            is_terminating(by_ordinal[o][1]) and by_ordinal[o][1].get("metadata", {}).get(
                "finalizers") for o, _ in condemned)
        if flagged_missing:
            names = ", ".join(pod_name(self.set_name, o) for o in flagged_missing)
            self.flag(
                "ID-2",
                f"in-range pod(s) {names} do not exist (range [{spec.start}, {spec.end}), "
                f"{spec.policy}) and nothing blocks their creation.",
            )
        if condemned and not condemned_excused:
            names = ", ".join(n for _, n in condemned)
            self.flag(
                "ID-2",
                f"condemned pod(s) {names} outside the range [{spec.start}, {spec.end}) still "
                f"exist although every in-range pod is healthy.",
            )
        everything_fine = not (blocked_slots or missing or condemned or self.walk.denied)
        if spec.rolling and everything_fine:
            assert self.sts is not None
            upd_rev = str(status_of(self.sts).get("updateRevision") or "")
            stale = [
                (o, by_ordinal[o][0], revision_of(by_ordinal[o][1]))
                for o in in_range
                if o >= spec.update_floor and revision_of(by_ordinal[o][1]) != upd_rev
            ]
            if stale:
                shown = ", ".join(f"{n} at {r or 'no revision'}" for _, n, r in stale)
                self.flag(
                    "UPD-1",
                    f"pod(s) {shown} are not at updateRevision {upd_rev} although they are at "
                    f"or above start+partition = {spec.update_floor} and nothing blocks the "
                    f"rolling update.",
                )
        # Under Parallel an API error ends the sync after its slow-start batch (#141057): the
        # pods of later batches are not reached, and neither are their claims.
        errors = clash | claim_terminating | denied | delete_refused
        reached = (spec.end if spec.ordered or not errors
                   else spec.start + _batch_end(min(errors) - spec.start))
        if recreate_old:
            reached = spec.start  # RCR-2: the sync ends before the replica pass
        for o in in_range:
            if o not in by_ordinal or o in self.pvc_faults or not _healthy(by_ordinal[o][1]):
                continue
            if spec.ordered and first_bad is not None and o > first_bad:
                continue  # not reached by the OrderedReady pass (ORD-3, STO-9 c)
            if o >= reached:
                continue  # not reached by the burst pass (section 4, #141057)
            if self.minor >= 27:  # StatefulSetAutoDeletePVC on by default from 1.27
                self.check_claim_refs(spec, o, set_uid)

    def check_claim_refs(self, spec: Spec, o: int, set_uid: str) -> None:
        for t in spec.templates:
            name = claim_name(t, self.set_name, o)
            claim = self.pvcs.get(name)
            if claim is None:
                continue
            refs = owner_refs(claim)
            pod = self.pods.get(pod_name(self.set_name, o)) or {}
            if any(
                not (r.get("kind") == "StatefulSet" and str(r.get("uid", "")) == set_uid)
                and not (r.get("kind") == "Pod" and str(r.get("uid", "")) == uid(pod))
                for r in refs
            ):
                continue  # a stale or foreign ref makes the claim untouchable (STO-13)
            set_ref = any(
                r.get("kind") == "StatefulSet" and str(r.get("uid", "")) == set_uid for r in refs
            )
            pod_refs = [str(r.get("name")) for r in refs if r.get("kind") == "Pod"]
            want_set = spec.when_deleted == "Delete"
            if set_ref != want_set or pod_refs:
                has = []
                if set_ref:
                    has.append(f"a ref to StatefulSet {self.set_name}")
                has.extend(f"a ref to Pod {p}" for p in pod_refs)
                self.flag(
                    "STO-8",
                    f"claim {name} of in-range pod {pod_name(self.set_name, o)} has "
                    f"{' and '.join(has) if has else 'no ownerReferences'}, but with "
                    f"whenDeleted={spec.when_deleted} it should have "
                    f"{'a ref to the set' if want_set else 'no ref to the set'} and no pod ref.",
                )


def _batch_end(index: int) -> int:
    """The end (exclusive) of the slow-start batch (1, 2, 4, ... slots) holding slot ``index``.

    >>> [_batch_end(i) for i in range(8)]
    [1, 3, 3, 7, 7, 7, 7, 15]
    """
    start, size = 0, 1
    while start + size <= index:
        start, size = start + size, min(size * 2, 500)
    return start + size


def _healthy(pod: Snapshot) -> bool:
    return (
        not is_terminating(pod)
        and is_running_ready(pod)
        and not is_held(pod)
        and not is_finished(pod)
    )


def _k8s_minor(version: str) -> int:
    """The minor version from a header's k8sVersion; unknown (the model) counts as newest."""
    m = re.match(r"v?1\.(\d+)", version.strip())
    return int(m.group(1)) if m else 10**6
