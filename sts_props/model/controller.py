"""One StatefulSet controller sync, rule by rule (EX-4 and section 4 of the spec).

:func:`sync` is pure: it reads the World (the model's informer cache, which here is always
fresh) and returns a :class:`SyncPlan` of API writes, each tagged with the rule that caused it.
:func:`apply_plan` performs the writes. Keeping the two apart lets the runner ask "would a sync
do anything now?" without changing state, and lets a checker ask which rule an action follows.

>>> from sts_props.model.runner import Chooser, ModelRun
>>> from sts_props.scenario import Manifests
>>> from sts_props.ops import Create
>>> class NoReaction(Chooser):           # the next sync is not taken yet
...     def steps_after(self, op):
...         return 0
>>> run = ModelRun(Manifests.seed(), chooser=NoReaction())
>>> _ = run.apply(Create())
>>> plan = sync(run.world, run.config)
>>> [(a.verb, a.name, a.rule) for a in plan.actions if a.verb == "create_pod"]
[('create_pod', 'redis-0', 'RP-2')]
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any

from sts_props.model.config import ModelConfig
from sts_props.model.environment import write_denied
from sts_props.model.retention import desired_refs, has_stale_ref, refs_match
from sts_props.model.validation import label_selector, labels_match, selector_matches
from sts_props.model.world import (
    Claim,
    OwnerRef,
    Pod,
    Revision,
    SetStatus,
    StatefulSet,
    World,
    revision_name,
)
from sts_props.snapshot import (
    INT32_MAX,
    POD_INDEX_LABEL,
    POD_NAME_LABEL,
    REVISION_LABEL,
    parse_pod_name,
)


@dataclass
class Action:
    """One API write of a sync. ``rule`` names the spec rule that makes the controller do it."""

    verb: str
    name: str
    rule: str
    payload: Any = None


@dataclass
class SyncPlan:
    actions: list[Action] = field(default_factory=list)
    error: str = ""
    #: the collisionCount REV-5 raised this sync to (None: unchanged); the status carries it
    collision_count: int | None = None

    @property
    def rules(self) -> set[str]:
        return {a.rule for a in self.actions}

    def add(self, verb: str, name: str, rule: str, payload: Any = None) -> None:
        self.actions.append(Action(verb, name, rule, payload))


# -- predicates (PR-1..PR-6) -------------------------------------------------------------------
def running_ready(pod: Pod | None) -> bool:
    return pod is not None and pod.phase == "Running" and pod.ready


def available(pod: Pod | None, min_ready: int, now: float) -> bool:
    """PR-4; the boundary (< or <=) is unspecified, the model uses <= (ready long enough)."""
    if pod is None or not pod.ready:
        return False
    if min_ready <= 0:
        return True
    return pod.ready_since is not None and pod.ready_since + min_ready <= now


def unavailable(pod: Pod | None, min_ready: int, now: float, config: ModelConfig) -> bool:
    """PR-5 (>= 1.34); before #130909 the test was 'not runningReady, or terminating'."""
    if pod is None:
        return True
    if not config.unavailable_counts_min_ready:
        return not running_ready(pod) or pod.terminating
    return not (running_ready(pod) and available(pod, min_ready, now)) or pod.terminating


def healthy(pod: Pod, min_ready: int, now: float) -> bool:
    """What RP-4..RP-6 require under OrderedReady: not terminating, runningReady, available."""
    return not pod.terminating and running_ready(pod) and available(pod, min_ready, now)


# -- revisions (REV-6..REV-11) ----------------------------------------------------------------
def _listed_revisions(world: World, sts: StatefulSet) -> list[Revision]:
    revs = [r for r in world.revisions.values()
            if any(o.controller and o.uid == sts.uid for o in r.owner_refs)
            or (not any(o.controller for o in r.owner_refs)
                and selector_matches(sts.manifest, r.labels))]
    return sorted(revs, key=lambda r: (r.revision, r.created, r.name))


def _revisions(world: World, sts: StatefulSet, plan: SyncPlan,
               listed: list[Revision] | None = None,
               config: ModelConfig | None = None) -> tuple[Revision, Revision]:
    """REV-5..REV-8: (current, update); records the writes in ``plan``. ``listed``: the
    set's :func:`_listed_revisions`, if the caller has them already.

    Upstream's "equal" (``EqualRevision``) compares the data byte for byte: a revision the
    controller wrote for the same template is equal, one written by someone else
    (:attr:`Revision.reserialized`) is not. With the gate StatefulSetSemanticRevisionComparison
    the newest listed revision is also taken when it holds the same template
    (``setMatchesLatestExistingRevision``)."""
    if listed is None:
        listed = _listed_revisions(world, sts)
    for rev in listed:
        if not any(o.controller for o in rev.owner_refs):
            plan.add("adopt_revision", rev.name, "REV-6")
    key = sts.template_key()
    top = listed[-1].revision if listed else 0  # (listed by revision number first)
    update: Revision
    equal = [r for r in listed if r.key == key and not r.reserialized]
    semantic = config is None or config.gate("StatefulSetSemanticRevisionComparison")
    if equal and listed[-1] is equal[-1]:
        update = listed[-1]
    elif sts.deleted is not None:
        # A set in deletion: upstream may still create or bump a revision here, which the GC
        # collects again; the model leaves that transient out so that the GC's finalisation and
        # the controller cannot chase each other forever (real timing ends that race).
        fallback = listed[-1] if listed else Revision(
            revision_name(sts.name, sts.template), top + 1, sts.template, key, {}, [])
        by_name = {r.name: r for r in listed}
        return by_name.get(sts.status.current_revision, fallback), fallback
    elif equal:
        update = equal[-1]
        plan.add("bump_revision", update.name, "REV-7", top + 1)
    elif listed and semantic and listed[-1].key == key:
        update = listed[-1]  # REV-7's semantic fallback: the newest holds the same template
    else:
        update = _create_revision(world, sts, plan, top + 1)
    current = update
    for r in listed:  # the one named by status.currentRevision, if listed
        if r.name == sts.status.current_revision:
            current = r
    return current, update


def _create_revision(world: World, sts: StatefulSet, plan: SyncPlan, number: int) -> Revision:
    """REV-5: create the revision of the set's template under the name its collisionCount
    gives; a name taken by a revision with other data (or the same template written by someone
    else) raises the count and tries the next name; one taken by an equal revision is reused.
    A raised count goes into the plan (``plan.collision_count``), which the status writes."""
    key = sts.template_key()
    count = sts.status.collision_count
    name = revision_name(sts.name, sts.template, count)
    while (taken := world.revisions.get(name)) is not None:
        if taken.key == key and not taken.reserialized:
            break
        count += 1
        name = revision_name(sts.name, sts.template, count)
    raised = count != sts.status.collision_count
    if raised:
        plan.collision_count = count
    if taken is not None:
        return taken
    labels = dict((sts.template.get("metadata") or {}).get("labels") or {})
    labels["controller.kubernetes.io/hash"] = name.rsplit("-", 1)[1]
    update = Revision(name, number, copy.deepcopy(sts.template), key, labels,
                      [OwnerRef("StatefulSet", sts.name, sts.uid)])
    plan.add("create_revision", name, "REV-5" if raised else "REV-7", update)
    return update


def _truncate_history(world: World, sts: StatefulSet, pods: list[Pod], current: Revision,
                      update: Revision, plan: SyncPlan,
                      listed: list[Revision] | None = None) -> None:
    """REV-11: keep current, update, every pod's revision, plus revisionHistoryLimit others.
    ``listed``: the set's :func:`_listed_revisions`, if the caller has them already."""
    limit = int(sts.spec.get("revisionHistoryLimit", 10))
    if limit < 0:
        return  # REV-12: a negative limit is treated as unlimited
    if listed is None:
        listed = _listed_revisions(world, sts)
    live = {current.name, update.name} | {p.labels.get(REVISION_LABEL, "") for p in pods}
    history = [r for r in listed if r.name not in live]
    if len(history) <= limit:
        return
    for rev in history[: max(0, len(history) - limit)]:
        plan.add("delete_revision", rev.name, "REV-11")


# -- pods ---------------------------------------------------------------------------------------
def _claim_pods(world: World, sts: StatefulSet, plan: SyncPlan,
                config: ModelConfig) -> list[Pod]:
    """Section 2.6 (ID-16..ID-18): adopt orphans, release mismatches, return claimed pods.

    Membership is ID-4 (the parsed parent is the set's name); from 1.38 also ID-4b (the name is
    exactly ``<set>-<ordinal>``), so ``web-01`` owned by the set is released."""
    claimed: list[Pod] = []
    deleting = sts.deleted is not None
    selector = sts.derived(("selector",), lambda: label_selector(sts.manifest))
    canonical_only = config.membership_needs_canonical_name
    pods = world.pods
    for name in sorted(pods):  # the World keys pods by name: by name, as the lister does
        pod = pods[name]
        parsed = parse_pod_name(name)
        member = parsed is not None and parsed[0] == sts.name and (
            not canonical_only or _canonical(sts, name))
        matches = member and selector is not None and labels_match(selector, pod.labels)
        owner = pod.controller_uid()
        if owner is not None and owner != sts.uid:
            continue  # ID-16
        if owner == sts.uid:
            if matches:
                claimed.append(pod)
            elif not deleting:
                plan.add("release_pod", pod.name, "ID-17")
            continue
        if not deleting and matches and not pod.terminating:
            plan.add("adopt_pod", pod.name, "ID-18")
            claimed.append(pod)
    return claimed


def _placeholder_at_current(sts: StatefulSet, ordinal: int, config: ModelConfig) -> bool:
    """UPD-6: whether the placeholder for ``ordinal`` is built from the current revision."""
    block = sts.rolling_block
    start = sts.start
    if sts.strategy.get("type") == "RollingUpdate" and block is None:
        return ordinal < start + sts.status.current_replicas  # UPD-6 (a)
    if block is not None:
        if config.mutated("update-ignores-partition"):
            return False  # mutation hook (UPD-2): no partition, so no pod stays at current
        return ordinal < start + int(block.get("partition", 0))  # UPD-6 (b)
    return False


def _slot_revisions(sts: StatefulSet, slots: list[Pod | None], current: Revision,
                    update: Revision, config: ModelConfig) -> list[str]:
    """The revision of each slot as the update step sees it (getPodRevision).

    Upstream fills an empty slot with its placeholder *before* the update step and keeps that
    object in ``replicas`` after creating the pod, so a placeholder has the revision UPD-6 gave
    it, is never available (no conditions) and is not terminating. A placeholder built at the
    current revision is therefore an old, unavailable pod to the update step, which deletes it
    by name, i.e. deletes the pod just created in the same sync (UPD-10; seen on v1.37.2 kwok,
    docs/findings.md).
    """
    out = []
    for i, pod in enumerate(slots):
        if pod is not None:
            out.append(pod.labels.get(REVISION_LABEL, ""))
        else:
            at_current = _placeholder_at_current(sts, sts.start + i, config)
            out.append(current.name if at_current else update.name)
    return out


def _delete_for_update(world: World, sts: StatefulSet, plan: SyncPlan, target: int,
                       pod: Pod | None, rule: str) -> bool:
    """DeleteStatefulPod for the update step: by name, NotFound counts as success. Returns
    False when the API refused the DELETE (a DenyPodWrites); ``plan.error`` is then set.

    For a placeholder this deletes the pod created from it earlier in the same sync; if none
    was created (e.g. the stale-claim gate skipped it), the delete finds nothing, which the
    controller also counts as a deletion (status.currentReplicas is decremented either way).
    A DELETE reads the object before admission, so a denied name that has no pod is NotFound
    (success), not Forbidden; a placeholder created in this sync was not denied, or its create
    would have ended the sync before the update step.

    A refused DELETE of an existing pod leaves it as it was: every update loop of v1.37.2
    (the legacy tail of ``updateStatefulSet``, and each loop of
    ``updateStatefulSetAfterInvariantEstablished``) does ``if err :=
    ssc.podControl.DeleteStatefulPod(set, pod); err != nil { return &status, err }`` before
    its ``status.CurrentReplicas--``, so the refused pod is not subtracted, pods further down
    the scan are not deleted in this sync, and the status computed so far is still written
    (``performUpdate``, ST-10) before the error requeues the set with backoff (EX-2).
    """
    name = pod.name if pod is not None else f"{sts.name}-{sts.start + target}"
    if pod is not None and write_denied(world, pod.name):
        plan.error = f'pods "{pod.name}" is forbidden'
        return False
    if pod is not None or any(a.verb == "create_pod" and a.name == name for a in plan.actions):
        plan.add("delete_pod", name, rule, "update")
    return True


def _new_pod(sts: StatefulSet, ordinal: int, current: Revision, update: Revision,
             config: ModelConfig) -> Pod:
    """UPD-6 and ID-6..ID-8: the placeholder for an empty slot."""
    rev = current if _placeholder_at_current(sts, ordinal, config) else update
    template = rev.template
    tmeta = template.get("metadata") or {}
    name = f"{sts.name}-{ordinal}"
    labels = dict(tmeta.get("labels") or {})
    labels[POD_NAME_LABEL] = name
    # mutation hook (pod-index-label-missing): the label is left out of new pods
    if config.gate("PodIndexLabel") and not config.mutated("pod-index-label-missing"):
        labels[POD_INDEX_LABEL] = str(ordinal)
    labels[REVISION_LABEL] = rev.name
    volumes = dict(_claim_volumes(sts, name, config))
    return Pod(
        name=name, labels=labels, owner_refs=[OwnerRef("StatefulSet", sts.name, sts.uid)],
        hostname=name, subdomain=str(sts.spec.get("serviceName") or ""), volumes=volumes,
        template=template, annotations=dict(tmeta.get("annotations") or {}),
    )


def _claim_volumes(sts: StatefulSet, pod: str, config: ModelConfig) -> dict[str, str]:
    """STO-6: ``{volume name: claim name}`` injected into pod ``pod`` (not to be changed: the
    answer is kept with the set's spec, which every sync asks again)."""
    mutated = config.mutated("pvc-of-k-for-k-plus-1")
    return sts.derived(("volumes", pod, mutated), lambda: _claim_volumes_of(sts, pod, mutated))


def _claim_volumes_of(sts: StatefulSet, pod: str, mutated: bool) -> dict[str, str]:
    parsed = parse_pod_name(pod)
    if mutated and parsed is not None and parsed[1] > sts.start:
        pod = f"{sts.name}-{parsed[1] - 1}"  # mutation hook: pod k+1 mounts the claim of k
    return {n: f"{n}-{pod}" for n in sts.claim_template_names()}


def _claims_for(sts: StatefulSet, ordinal: int) -> tuple[tuple[str, dict[str, str]], ...]:
    """STO-1/STO-2: (claim name, labels) for each volumeClaimTemplate."""
    return sts.derived(("claims", ordinal), lambda: tuple(
        (f"{name}-{sts.name}-{ordinal}", labels) for name, labels in sts.claim_labels()))


def _canonical(sts: StatefulSet, name: str) -> bool:
    """ID-10's name test: ``<set>-<ordinal>`` exactly (``web-01`` is not, ID-3)."""
    parsed = parse_pod_name(name)
    if parsed is None or parsed[0] != sts.name or parsed[1] < 0:
        return False
    return name == f"{sts.name}-{parsed[1]}"


class _Pass:
    """The state of one sync's pod pass; methods follow RP-*, CD-* and UPD-* by name."""

    def __init__(self, world: World, sts: StatefulSet, config: ModelConfig, plan: SyncPlan,
                 current: Revision, update: Revision) -> None:
        self.world, self.sts, self.config, self.plan = world, sts, config, plan
        self.current, self.update = current, update
        self.now = world.now
        self.m = sts.min_ready
        self.set_ref = OwnerRef("StatefulSet", sts.name, sts.uid)
        self.created_claims: set[str] = set()
        #: mutation hook (ordered-two-at-once): one unhealthy pod may be stepped over per sync
        self.step_over_one = config.mutated("ordered-two-at-once")
        policy = sts.retention
        if config.mutated("deleted-claims-retained"):
            policy = ("Retain", policy[1])  # mutation hook (STO-8): whenDeleted ignored
        #: the retention policy STO-8/STO-9 apply
        self.policy = policy

    # RP-2 / RP-3 / STO-3 / STO-5
    def ensure_claims(self, ordinal: int, rule: str) -> str:
        for cname, labels in _claims_for(self.sts, ordinal):
            claim = self.world.claims.get(cname)
            if claim is None:
                if cname not in self.created_claims:
                    self.plan.add("create_claim", cname, rule, Claim(cname, labels))
                    self.created_claims.add(cname)
            elif claim.terminating:
                return f"pvc {cname} is being deleted"  # STO-3
        return ""

    def fix_claim_refs(self, pod: Pod, condemned: bool, rule: str) -> None:
        """STO-8/STO-9: update claims (present in the cache) whose refs differ from the table."""
        ordinal = parse_pod_name(pod.name)
        assert ordinal is not None
        policy = self.policy
        claims = self.world.claims
        for cname, _ in _claims_for(self.sts, ordinal[1]):
            claim = claims.get(cname)
            if claim is None or claim.deleted is not None:
                continue
            if not claim.owner_refs and policy == ("Retain", "Retain"):
                continue  # fast path: nothing to add, nothing to remove
            # Every sync asks again for every pod; the answer only depends on these (a claim's
            # refs list is replaced, never edited in place), so a match is remembered.
            asked = (claim.owner_refs, policy, self.sts.name, self.sts.uid, pod.name, pod.uid,
                     condemned)
            known = claim.refs_match_for
            if known is not None and known[0] is asked[0] and known[1:] == asked[1:]:
                continue
            want = desired_refs(claim, policy, self.set_ref, pod.name, pod.uid, condemned)
            if refs_match(claim, want):
                claim.refs_match_for = asked
            else:
                self.plan.add("set_claim_refs", cname, rule, want)

    def stale_claim(self, ordinal: int, pod_name: str) -> bool:
        """STO-12: a claim still owned by an earlier incarnation of this pod."""
        if self.sts.retention[1] == "Retain":
            return False
        for cname, _ in _claims_for(self.sts, ordinal):
            claim = self.world.claims.get(cname)
            if claim is not None and has_stale_ref(claim, "Pod", pod_name, ""):
                return True
        return False

    def identity_ok(self, pod: Pod) -> bool:
        """ID-10 (identityMatches) and ID-12 (storageMatches)."""
        return self.name_ok(pod) and self.storage_ok(pod)

    def name_ok(self, pod: Pod) -> bool:
        """ID-10: canonical name ``<set>-<ordinal>`` and the pod-name label (not pod-index)."""
        if not self.sts.derived(("canonical", pod.name), lambda: _canonical(self.sts, pod.name)):
            return False
        return pod.labels.get(POD_NAME_LABEL) == pod.name

    def storage_ok(self, pod: Pod) -> bool:
        """ID-12: one PVC volume per claim template, pointing at ``<t>-<set>-<ordinal>``."""
        want = _claim_volumes(self.sts, pod.name, self.config)
        # (every wanted volume present with its claim; claim names are never None)
        return want.items() <= pod.volumes.items()

    def repair(self, slot: Pod, ordinal: int) -> str:
        """RP-9 / ID-11 / ID-12: UpdateStatefulPod on a slot pod that fails the checks.

        Returns the sync error, or "". What v1.37.2 did on kwok (docs/unconfirmed-settled.md):

        * Only labels wrong: the pod-name and pod-index labels are rewritten.
        * Storage wrong (an adopted hand-made pod): missing claims are created, then the pod
          update is rejected (``spec: Forbidden: pod updates may not change fields other than
          ...``), so the labels are not repaired either; the error ends the sync, every sync.
        * A non-canonical name such as ``web-01``: the repaired copy is renamed ``web-1`` and
          the PUT goes to ``web-1``. If ``web-1`` exists, the PUT conflicts and the retry works
          on the cached ``web-1``, which is consistent: nothing is written, no error (an event
          "Update Pod web-1 ... successful" is still recorded). If it does not exist, the
          update fails with NotFound and the sync errors.
        """
        canonical = f"{self.sts.name}-{ordinal}"
        if not self.storage_ok(slot):
            err = self.ensure_claims(ordinal, "ID-12")
            if err:
                return err
        if slot.name != canonical:
            if canonical in self.world.pods:
                return ""
            return f'pods "{canonical}" not found'
        if not self.storage_ok(slot):
            return (f'Pod "{slot.name}" is invalid: spec: Forbidden: pod updates may not '
                    "change fields other than `spec.containers[*].image`, ...")
        labels = dict(slot.labels)
        labels[POD_NAME_LABEL] = slot.name
        if self.config.gate("PodIndexLabel"):
            labels[POD_INDEX_LABEL] = str(ordinal)
        self.plan.add("update_pod_identity", slot.name, "ID-11", labels)
        return ""

    def create(self, pod: Pod, ordinal: int, monotonic: bool) -> tuple[bool, str]:
        """RP-2 after the claims: ``CreateStatefulPod`` of v1.37.2 (stateful_pod_control.go).

        The pod is POSTed; an AlreadyExists answer returns at once, any other answer (success
        or error) is followed by ``UpdatePodClaimForRetentionPolicy`` (STO-9 a) before the
        create's error is returned. The apiserver runs validating admission before storage
        (``Store.create``: ``createValidation`` before ``Storage.Create``), so a name that a
        DenyPodWrites refuses answers 403 Forbidden even when a pod of that name exists; the
        claims then still get their retention refs. Either error ends the sync (RP-2, ORD-6).
        """
        refused = write_denied(self.world, pod.name)  # a fault: the CREATE is refused (403)
        if not refused and pod.name in self.world.pods:
            # Names are unique: a pod of that name that this set did not claim (an orphan,
            # ID-13, or one still owned by a deleted set's UID, ID-16, awaiting GC) makes the
            # create fail with AlreadyExists, and the error ends the sync (ID-13, ORD-6).
            return True, f'pods "{pod.name}" already exists'
        if not refused:
            self.plan.add("create_pod", pod.name, "RP-2" if monotonic else "ORD-6", pod)
        # STO-9 (a): best effort; claims created in this sync are not in the cache yet. The
        # refs are those of the placeholder (no pod UID), created or not.
        for cname, _ in _claims_for(self.sts, ordinal):
            claim = self.world.claims.get(cname)
            if claim is not None and not claim.terminating:
                want = desired_refs(claim, self.sts.retention, self.set_ref, pod.name, "",
                                    False)
                if not refs_match(claim, want):
                    self.plan.add("set_claim_refs", cname, "STO-9", want)
        if refused:
            return True, f'pods "{pod.name}" is forbidden'
        return monotonic, ""

    def beyond_int32(self) -> tuple[bool, str]:
        """F-9 (docs/findings.md; kwok v1.34.0, v1.36.3, v1.37.2): an empty slot whose ordinal
        is above 2^31-1 (``ordinals.start + replicas`` may pass it: validation bounds each,
        not the sum). ``newStatefulSetPod`` names the pod ``<set>-<ordinal>``, then
        ``updateIdentity`` reads the ordinal back from that name as a 32-bit number, gets -1
        and renames the pod ``<set>--1`` with pod-index label ``-1``; its claims are those the
        name's last number gives, ordinal 1's. ``CreateStatefulPod`` creates those claims,
        the apiserver refuses the pod (422: the label value), the claims' retention refs are
        set for the placeholder (no UID: a pod ref with an empty UID is refused too), and the
        error ends the sync, every sync."""
        name = f"{self.sts.name}--1"
        if self.stale_claim(1, name):
            return True, ""
        err = self.ensure_claims(1, "F-9")
        if err:
            return True, err
        condemned = not self.sts.start <= 1 < self.sts.start + self.sts.replicas
        for cname, _ in _claims_for(self.sts, 1):
            claim = self.world.claims.get(cname)
            if claim is None or claim.terminating:
                continue  # created in this sync: not in the cache yet
            want = desired_refs(claim, self.policy, self.set_ref, name, "", condemned)
            if refs_match(claim, want):
                continue
            if any(r.kind == "Pod" and not r.uid for r in want):
                return True, (f"could not update claim {cname} for delete policy ownerRefs: "
                              "metadata.ownerReferences.uid: Invalid value: \"\"")
            self.plan.add("set_claim_refs", cname, "F-9", want)
        return True, (f'Pod "{name}" is invalid: metadata.labels: Invalid value: "-1" '
                      "(docs/findings.md F-9)")

    def replica(self, i: int, slot: Pod | None, ordinal: int, monotonic: bool) -> tuple[bool, str]:
        """RP-1..RP-9 for slot ``i``; returns (stop, error)."""
        if slot is not None and slot.phase in ("Failed", "Succeeded"):
            # mutation hook (failed-never-recreated): the failed pod is left in place
            if not slot.terminating and not self.config.mutated("failed-never-recreated"):
                if write_denied(self.world, slot.name):  # a fault: the DELETE is refused
                    return True, f'pods "{slot.name}" is forbidden'
                self.plan.add("delete_pod", slot.name, "RP-1", "failed")
            return True, ""
        if slot is None and ordinal > INT32_MAX:
            return self.beyond_int32()
        if slot is None:
            pod = _new_pod(self.sts, ordinal, self.current, self.update, self.config)
            if self.stale_claim(ordinal, pod.name):
                return True, ""
            err = self.ensure_claims(ordinal, "STO-3")
            if err:
                return True, err
            return self.create(pod, ordinal, monotonic)
        if slot.phase == "Pending":
            err = self.ensure_claims(ordinal, "STO-5")
            if err:
                return True, err
            self.fix_claim_refs(slot, False, "STO-5")
        if (monotonic and self.step_over_one and not slot.terminating
                and not healthy(slot, self.m, self.now)):
            self.step_over_one = False  # mutation hook (ordered-two-at-once): RP-5/RP-6 skipped
        elif monotonic:
            if slot.terminating:
                return True, ""  # RP-4
            if not running_ready(slot):
                return True, ""  # RP-5
            if not available(slot, self.m, self.now):
                return True, ""  # RP-6
        if not self.identity_ok(slot):
            err = self.repair(slot, ordinal)
            if err:
                return True, err
        if slot.phase != "Pending":
            self.fix_claim_refs(slot, False, "STO-9")
        return False, ""


def compute_status(sts: StatefulSet, pods: list[Pod], current: str, update: str,
                   now: float) -> SetStatus:
    """Section 7 (ST-1..ST-8) over the given pods; pods not yet created do not count."""
    s = SetStatus(observed_generation=sts.generation, current_revision=current,
                  update_revision=update, collision_count=sts.status.collision_count)
    min_ready = sts.min_ready
    replicas = ready = avail = at_current = at_update = 0
    for pod in pods:
        if parse_pod_name(pod.name) is None:
            continue
        replicas += 1
        if pod.phase == "Running" and pod.ready:  # running_ready
            ready += 1
            if available(pod, min_ready, now):
                avail += 1
        if pod.deleted is None:
            rev = pod.labels.get(REVISION_LABEL)
            if rev == current:
                at_current += 1
            if rev == update:
                at_update += 1
    s.replicas, s.ready_replicas, s.available_replicas = replicas, ready, avail
    s.current_replicas, s.updated_replicas = at_current, at_update
    return s


def _promote(sts: StatefulSet, status: SetStatus, config: ModelConfig) -> None:
    """REV-9 / REV-10: promote currentRevision when the rollout is complete (uses Ready)."""
    stype = sts.strategy.get("type")
    if stype == "OnDelete" and not config.on_delete_promotes:
        return
    want = sts.replicas
    updated_enough = status.updated_replicas == want
    if config.mutated("current-promoted-early"):
        # mutation hook: the pods below the partition are left out of the completion test
        block = sts.rolling_block
        updated_enough = status.updated_replicas >= want - int((block or {}).get("partition", 0))
    if (updated_enough and status.ready_replicas == want
            and status.replicas == want):
        status.current_revision = status.update_revision
        status.current_replicas = status.updated_replicas


def _status_rejected(sts: StatefulSet, s: SetStatus) -> str:
    """ST-11: the apiserver's status validation, as its error message ('' if valid)."""
    counts = {"replicas": s.replicas, "readyReplicas": s.ready_replicas,
              "availableReplicas": s.available_replicas, "currentReplicas": s.current_replicas,
              "updatedReplicas": s.updated_replicas}
    causes = [f"status.{k}: Invalid value: {v}: must be greater than or equal to 0"
              for k, v in counts.items() if v < 0]
    causes += [f"status.{k}: Invalid value: {counts[k]}: cannot be greater than status.replicas"
               for k in ("readyReplicas", "availableReplicas", "currentReplicas",
                         "updatedReplicas") if counts[k] > s.replicas]
    if s.available_replicas > s.ready_replicas:
        causes.append(f"status.availableReplicas: Invalid value: {s.available_replicas}: "
                      f"cannot be greater than readyReplicas")
    if not causes:
        return ""
    return f'StatefulSet.apps "{sts.name}" is invalid: ' + ", ".join(causes)


def _status_differs(old: SetStatus, new: SetStatus) -> bool:
    """ST-10: which differences make the controller write status."""
    return (old.replicas != new.replicas or old.ready_replicas != new.ready_replicas
            or old.current_replicas != new.current_replicas
            or old.updated_replicas != new.updated_replicas
            or old.available_replicas != new.available_replicas
            or old.current_revision != new.current_revision
            or old.update_revision != new.update_revision
            or new.observed_generation > old.observed_generation)


def sync(world: World, config: ModelConfig) -> SyncPlan:
    """Plan one sync of the set in ``world`` (EX-4); empty if there is no set."""
    plan = SyncPlan()
    sts = world.sts
    if sts is None:
        return plan
    # The revisions the set lists: read once, as a sync plans on one unchanging World.
    listed = _listed_revisions(world, sts)
    if sts.deleted is not None and any(
        not any(o.controller for o in r.owner_refs) for r in listed
    ):
        # adoptOrphanRevisions refuses to adopt for a set in deletion and fails the sync.
        plan.error = "can't adopt ControllerRevisions: the set is being deleted"
        return plan
    current, update = _revisions(world, sts, plan, listed, config)
    if config.mutated("rollback-not-bumped"):  # mutation hook: REV-7's bump is dropped
        plan.actions = [a for a in plan.actions if a.verb != "bump_revision"]
    pods = _claim_pods(world, sts, plan, config)
    if sts.deleted is None:
        status = _pod_pass(world, sts, config, plan, pods, current, update)
    else:  # step 1: a set in deletion only gets its status written (ORD-9)
        status = compute_status(sts, pods, current.name, update.name, world.now)
    if plan.collision_count is not None:
        status.collision_count = plan.collision_count
    _promote(sts, status, config)
    if _status_differs(sts.status, status):
        rejected = _status_rejected(sts, status)
        if rejected:
            # ST-11: the apiserver refuses the PUT (422) and the cached status stays; the sync
            # returns the error. UPD-1/UPD-5 decrement currentReplicas for each update deletion,
            # so it goes below 0 when no pod is at currentRevision (a second template change
            # before the first rollout ended).
            plan.error = plan.error or rejected
        else:
            plan.add("write_status", sts.name, "ST-10", status)
    _truncate_history(world, sts, pods, current, update, plan, listed)
    return plan


def _slots(sts: StatefulSet, pods: list[Pod]) -> tuple[list[Pod | None], list[Pod]]:
    """ID-5: in-range pods fill slots, valid out-of-range ones are condemned (descending)."""
    start, n = sts.start, sts.replicas
    slots: list[Pod | None] = [None] * n
    condemned: list[Pod] = []
    for pod in pods:
        parsed = parse_pod_name(pod.name)
        if parsed is None or parsed[1] < 0:
            continue
        o = parsed[1]
        if start <= o < start + n:
            slots[o - start] = pod
        else:
            condemned.append(pod)
    condemned.sort(key=lambda p: -(parse_pod_name(p.name) or ("", 0))[1])
    return slots, condemned


def _delete_condemned_burst(world: World, plan: SyncPlan, order: list[Pod]) -> str:
    """Step 6 in burst mode (ORD-6): delete every condemned pod not yet terminating; returns
    the sync's error ("" if none).

    Upstream runs ``processCondemned`` through ``runForAll`` -> ``slowStartBatch(1, ...)``, as
    the replica pass: batches of 1, 2, 4, ... whose pods are all tried; a refused DELETE
    (DenyPodWrites) fails its batch, and no later batch starts. The status is still written
    (v1.37.2 ``updateStatefulSet``: ``return &status, err`` after ``updateStatus``).
    """
    i, batch = 0, 1
    while i < len(order):
        refused = ""
        for pod in order[i:i + batch]:
            if pod.terminating:
                continue  # CD-1
            if write_denied(world, pod.name):
                refused = refused or f'pods "{pod.name}" is forbidden'
                continue
            plan.add("delete_pod", pod.name, "ORD-6", "condemned")
        if refused:
            return refused
        i += batch
        batch = min(batch * 2, 500)
    return ""


def _recreate_old_pods(world: World, plan: SyncPlan, slots: list[Pod | None],
                       condemned: list[Pod], update: Revision) -> tuple[bool, str]:
    """RCR-1 / RCR-2, v1.37's alpha Recreate strategy (``recreateDeleteAndWait``, gate
    StatefulSetRecreateStrategy): delete every pod not at the update revision, in-range and
    condemned alike, in slow-start batches (``runForAll`` in burst mode, whatever the pod
    management policy); ``(waiting, error)``: waiting while any such pod exists, terminating
    ones included. The sync then ends, so nothing is created and no condemned claim gets its
    pod reference (STO-9 d) until the old pods are gone.

    Known upstream deviation, followed here (docs/findings.md F-8a): a condemned pod deleted
    by this step never gets its claims' pod reference, so with ``whenScaled: Delete`` its
    claims are kept; the intended behaviour (STO-10) deletes them.
    """
    # Upstream's batches run over every slot (empty ones too) and then the condemned pods, so
    # which deletions a refused one leaves undone depends on the whole list.
    everyone: list[Pod | None] = [*slots, *condemned]
    if not any(pod is not None and pod.labels.get(REVISION_LABEL) != update.name
               for pod in everyone):
        return False, ""
    i, batch = 0, 1
    while i < len(everyone):
        refused = ""
        for pod in everyone[i:i + batch]:
            if pod is None or pod.labels.get(REVISION_LABEL) == update.name or pod.terminating:
                continue
            if write_denied(world, pod.name):
                refused = refused or f'pods "{pod.name}" is forbidden'
                continue
            plan.add("delete_pod", pod.name, "RCR-1", "recreate")
        if refused:
            return True, refused
        i += batch
        batch = min(batch * 2, 500)
    return True, ""


def _pod_pass(world: World, sts: StatefulSet, config: ModelConfig, plan: SyncPlan,
              pods: list[Pod], current: Revision, update: Revision) -> SetStatus:
    """Steps 2..8 of section 4; returns the status to write (step 9)."""
    # mutation hook (parallel-waits-like-ordered): Parallel sets take the monotonic path
    monotonic = sts.monotonic or config.mutated("parallel-waits-like-ordered")
    slots, condemned = _slots(sts, pods)
    p = _Pass(world, sts, config, plan, current, update)
    m, now = sts.min_ready, world.now

    def final_status(update_deletions: int = 0) -> SetStatus:
        live = [pod for pod in slots if pod is not None] + condemned
        s = compute_status(sts, live, current.name, update.name, now)
        s.current_replicas -= update_deletions
        if config.mutated("terminating-counted-updated"):  # mutation hook (ST-5)
            s.updated_replicas += sum(1 for pod in live if pod.terminating)
        return s

    # Step 3: the first unavailable pod, used by CD-2/CD-3.
    # The first unavailable slot (None if that slot is empty), else the lowest condemned pod.
    first_unhealthy: Pod | None = None
    for slot in slots:
        if unavailable(slot, m, now, config):
            first_unhealthy = slot
            break
    else:
        for pod in reversed(condemned):  # lowest ordinal first
            if unavailable(pod, m, now, config):
                first_unhealthy = pod
                break

    # Step 3b (RCR-1, RCR-2): the alpha Recreate strategy clears out the old revision first.
    if sts.strategy.get("type") == "Recreate":
        waiting, error = _recreate_old_pods(world, plan, slots, condemned, update)
        plan.error = plan.error or error
        if waiting or error:
            return final_status()

    # Steps 5 and 6 first for a Parallel set from 1.38 (ORD-6b, #141057): a refused deletion
    # ends the sync before any pod in range is created.
    condemned_first = not monotonic and config.condemned_first_in_burst
    # mutation hook (scale-down-ascending): the deletion pass runs lowest ordinal first
    order = condemned[::-1] if config.mutated("scale-down-ascending") else condemned
    if condemned_first:
        for pod in condemned:
            p.fix_claim_refs(pod, True, "STO-9")
        plan.error = _delete_condemned_burst(world, plan, order)
        if plan.error:
            return final_status()

    # Step 4: per-replica pass; burst mode runs slow-start batches of 1, 2, 4, ...
    start = sts.start
    if monotonic:
        for i, slot in enumerate(slots):
            stop, err = p.replica(i, slot, start + i, True)
            if err:
                plan.error = err
                return final_status()
            if stop:
                return final_status()
    else:
        i, batch = 0, 1
        while i < len(slots):
            errors = []
            for j in range(i, min(i + batch, len(slots))):
                _, err = p.replica(j, slots[j], start + j, False)
                if err:
                    errors.append(err)
            if errors:
                plan.error = errors[0]  # #141057: a failing batch ends the sync
                return final_status()
            i += batch
            batch = min(batch * 2, 500)

    if not condemned_first:  # steps 5 and 6 in their place before 1.38 (and always when ordered)
        # Step 5: condemned claim pass (STO-9 d).
        for pod in condemned:
            p.fix_claim_refs(pod, True, "STO-9")

        # Step 6: condemned deletion pass, descending (``order``).
        if monotonic:
            for pod in order:
                if pod.terminating:
                    return final_status()  # CD-1
                if pod is not first_unhealthy and (
                    not running_ready(pod) or not available(pod, m, now)
                ):
                    return final_status()  # CD-2 / CD-3
                if write_denied(world, pod.name):  # a fault: the DELETE is refused, the sync errors
                    plan.error = f'pods "{pod.name}" is forbidden'
                    return final_status()
                plan.add("delete_pod", pod.name, "ORD-4", "condemned")
                return final_status()
        else:
            plan.error = _delete_condemned_burst(world, plan, order)
            if plan.error:
                return final_status()

    # Step 8: the update step.
    if sts.strategy.get("type") != "RollingUpdate":
        return final_status()
    if config.gate("MaxUnavailableStatefulSet"):
        return final_status(
            _update_max_unavailable(world, sts, config, plan, slots, current, update, now))
    return final_status(_update_legacy(world, sts, config, plan, slots, current, update, now))


def _update_legacy(world: World, sts: StatefulSet, config: ModelConfig, plan: SyncPlan,
                   slots: list[Pod | None], current: Revision, update: Revision,
                   now: float) -> int:
    """UPD-1: at most one deletion per sync, scanning from the top down to the partition.

    Placeholders take part with their UPD-6 revision (see :func:`_slot_revisions`). A refused
    deletion (DenyPodWrites) deletes nothing and is not subtracted (the tail of v1.37.2
    ``updateStatefulSet``); every retry meets the same pod first, so while the refusal lasts
    no pod below it is updated either.
    """
    block = sts.rolling_block
    update_min = int(block.get("partition", 0)) if block is not None else 0
    if config.mutated("update-ignores-partition"):  # mutation hook (UPD-2): no floor
        update_min = 0
    revs = _slot_revisions(sts, slots, current, update, config)
    for target in range(len(slots) - 1, update_min - 1, -1):
        pod = slots[target]
        if revs[target] != update.name and not (pod is not None and pod.terminating):
            if not _delete_for_update(world, sts, plan, target, pod, "UPD-1"):
                return 0  # refused: not subtracted from currentReplicas, the sync errors
            return 1
        if unavailable(pod, sts.min_ready, now, config):
            return 0
    return 0


def resolve_max_unavailable(value: Any, replicas: int) -> int:
    """UPD-5: an int, or a percentage of ``replicas`` (spec.replicas; from 1.38 the update
    range, UPD-5b) rounded down; at least 1."""
    if isinstance(value, str) and value.endswith("%"):
        n = math.floor(int(value[:-1]) * replicas / 100)
    else:
        n = int(value)
    return max(1, n)


def _update_max_unavailable(world: World, sts: StatefulSet, config: ModelConfig,
                            plan: SyncPlan, slots: list[Pod | None], current: Revision,
                            update: Revision, now: float) -> int:
    """UPD-5 / UPD-10: the maxUnavailable path; returns the number of update deletions.

    U counts every unavailable slot (below the partition and placeholders included; from 1.38
    only those at or above the partition, and a percentage is of ``replicas - partition``:
    UPD-5b). From 1.37
    (#137666) Parallel sets first replace *every* old pod that is not available (no budget),
    then spend ``maxU - U`` on available old pods; before, an old broken pod could block.

    Placeholders are old when UPD-6 built them at the current revision, and phase 1 then
    deletes the pod created from them in this same sync. With ``type: RollingUpdate`` and no
    rollingUpdate block this is a delete/recreate livelock for a missing or unavailable pod
    below ``start + status.currentReplicas`` (seen on v1.37.2: docs/findings.md).

    A refused deletion (DenyPodWrites) returns at once with the deletions made so far, as each
    loop of ``updateStatefulSetAfterInvariantEstablished`` does (``return &status, err``): the
    rest of the scan, and phase 2 after a refusal in phase 1, wait for the retry.
    """
    block = sts.rolling_block
    update_min = int(block.get("partition", 0)) if block is not None else 0
    if config.mutated("update-ignores-partition"):  # mutation hook (UPD-2): no floor
        update_min = 0
    in_range = config.max_unavailable_in_update_range  # UPD-5b, 1.38
    max_u = resolve_max_unavailable((block or {}).get("maxUnavailable", 1),
                                    max(0, sts.replicas - update_min) if in_range
                                    else sts.replicas)
    m = sts.min_ready
    revs = _slot_revisions(sts, slots, current, update, config)
    old = [rev != update.name for rev in revs]
    terminating = [pod is not None and pod.terminating for pod in slots]
    unavail = [unavailable(pod, m, now, config) for pod in slots]
    # From 1.38 only the update range [partition, replicas) spends the budget (UPD-5b).
    counted = [u and (not in_range or i >= update_min) for i, u in enumerate(unavail)]
    count_u = sum(counted)
    two_phase = config.k8s_minor >= 37 and not sts.monotonic
    needing_update = sum(
        1 for c, o, t in zip(counted, old, terminating, strict=True)
        if two_phase and c and o and not t
    )
    if count_u >= max_u and needing_update == 0:
        return 0
    deleted = 0
    if two_phase:
        for target in range(len(slots) - 1, update_min - 1, -1):
            pod = slots[target]
            if old[target] and not available(pod, m, now) and not terminating[target]:
                if not _delete_for_update(world, sts, plan, target, pod, "UPD-10"):
                    return deleted  # refused: phase 2 does not run, the sync errors
                deleted += 1
        budget = max_u - count_u
        for target in range(len(slots) - 1, update_min - 1, -1):
            if budget <= 0:
                break
            pod = slots[target]
            if old[target] and not unavail[target]:
                if not _delete_for_update(world, sts, plan, target, pod, "UPD-5"):
                    return deleted
                deleted += 1
                budget -= 1
        return deleted
    for target in range(len(slots) - 1, update_min - 1, -1):
        if deleted >= max_u - count_u:
            break
        pod = slots[target]
        if old[target] and not terminating[target]:
            if not _delete_for_update(world, sts, plan, target, pod, "UPD-5"):
                return deleted
            deleted += 1
    return deleted


# -- applying a plan ------------------------------------------------------------------------------
def apply_plan(world: World, plan: SyncPlan) -> None:
    """Perform the writes of ``plan`` in order (the apiserver side of a sync)."""
    sts = world.sts
    assert sts is not None
    for a in plan.actions:
        if a.verb == "adopt_pod":
            pod = world.pods[a.name]
            pod.owner_refs.append(OwnerRef("StatefulSet", sts.name, sts.uid))
            world.touch(pod)
        elif a.verb == "release_pod":
            pod = world.pods[a.name]
            pod.owner_refs = [r for r in pod.owner_refs if r.uid != sts.uid]
            world.touch(pod)
        elif a.verb == "adopt_revision":
            rev = world.revisions[a.name]
            rev.owner_refs.append(OwnerRef("StatefulSet", sts.name, sts.uid))
            world.touch(rev)
        elif a.verb == "create_revision":
            world.add_revision(a.payload)
        elif a.verb == "bump_revision":
            rev = world.revisions[a.name]
            rev.revision = int(a.payload)
            world.touch(rev)
        elif a.verb == "delete_revision":
            if a.name in world.revisions:
                world.remove(world.revisions[a.name])
        elif a.verb == "create_claim":
            world.add_claim(a.payload)
        elif a.verb == "set_claim_refs":
            claim = world.claims[a.name]
            claim.owner_refs = list(a.payload)
            world.touch(claim)
        elif a.verb == "create_pod":
            world.add_pod(a.payload)
        elif a.verb == "delete_pod":
            pod = world.pods[a.name]
            if pod.deleted is None:
                pod.deleted = world.now
                pod.ready = pod.ready  # readiness ends when the kubelet stops it
                world.touch(pod)
        elif a.verb == "update_pod_identity":
            pod = world.pods[a.name]
            pod.labels = dict(a.payload)
            world.touch(pod)
        elif a.verb == "write_status":
            sts.status = a.payload
            world.touch(sts)
        else:  # pragma: no cover - a programming error, not an input
            raise AssertionError(f"unknown action {a.verb}")
