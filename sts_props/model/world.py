"""The model's object store: pods, claims, revisions and the set, with a History of every change.

The World plays the apiserver for the model: it hands out UIDs and resourceVersions, and every
change to an object is recorded as a History ``object`` event carrying a normalised snapshot
(:mod:`sts_props.snapshot`). Time is a plain value (``World.now``), advanced by the runner.

>>> w = World(set_name="web")
>>> claim = w.add_claim(Claim(name="data-web-0", labels={"app": "web"}))
>>> [(e.action, e.kind, e.name) for e in w.history.objects()]
[('ADDED', 'PersistentVolumeClaim', 'data-web-0')]
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sts_props.history import History

T = TypeVar("T")


@dataclass
class OwnerRef:
    kind: str
    name: str
    uid: str
    controller: bool = True
    block: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "uid": self.uid,
                "controller": self.controller, "blockOwnerDeletion": self.block}


@dataclass
class Pod:
    name: str
    labels: dict[str, str]
    owner_refs: list[OwnerRef]
    hostname: str
    subdomain: str
    volumes: dict[str, str]
    template: dict[str, Any]
    uid: str = ""
    annotations: dict[str, str] = field(default_factory=dict)
    created: float = 0.0
    deleted: float | None = None
    finalizers: list[str] = field(default_factory=list)
    phase: str = "Pending"
    ready: bool = False
    ready_since: float | None = None
    held: bool = False
    #: its node failed (FailNode) while a finalizer held it: the node object is gone
    node_lost: bool = False
    #: the snapshot's spec section and what it was made from (see _spec_section)
    _spec_for: tuple[Any, ...] | None = field(default=None, init=False, repr=False,
                                              compare=False)

    @property
    def terminating(self) -> bool:
        return self.deleted is not None

    def controller_uid(self) -> str | None:
        for r in self.owner_refs:
            if r.controller:
                return r.uid
        return None

    def snapshot(self) -> dict[str, Any]:
        return {
            "metadata": {
                "name": self.name, "uid": self.uid, "labels": dict(self.labels),
                "annotations": dict(self.annotations),
                "ownerReferences": [r.to_dict() for r in self.owner_refs],
                "finalizers": list(self.finalizers), "creationTimestamp": self.created,
                "deletionTimestamp": self.deleted,
            },
            "spec": self._spec_section(),
            "status": {"phase": self.phase, "ready": self.ready, "readySince": self.ready_since},
        }

    def _spec_section(self) -> dict[str, Any]:
        """The snapshot's ``spec``: the same dict for every snapshot while what it shows stays
        (the model sets a pod's hostname, volumes and template once; neither dict is edited
        in place), as History records are read, never changed."""
        made = (self.hostname, self.subdomain, self.volumes, self.template)
        cached = self._spec_for
        if cached is not None and cached[2] is made[2] and cached[3] is made[3] \
                and cached[:2] == made[:2]:
            section: dict[str, Any] = cached[4]
            return section
        containers = (self.template.get("spec") or {}).get("containers") or [{}]
        section = {
            "hostname": self.hostname, "subdomain": self.subdomain,
            "volumes": [{"name": k, "claimName": v} for k, v in sorted(self.volumes.items())],
            "image": containers[0].get("image", ""),
            "env": {e.get("name"): e.get("value") for e in containers[0].get("env") or []},
        }
        self._spec_for = (*made, section)
        return section


@dataclass
class Claim:
    name: str
    labels: dict[str, str]
    uid: str = ""
    #: replaced by a new list when the refs change, never edited in place (the controller
    #: remembers which list it found in order, see ``refs_match_for``)
    owner_refs: list[OwnerRef] = field(default_factory=list)
    created: float = 0.0
    deleted: float | None = None
    phase: str = "Pending"
    volume_name: str = ""
    #: the controller's last "these refs are what STO-8 wants" finding: the refs list it
    #: looked at, then what else it asked (policy, set, pod, condemned); model-internal
    refs_match_for: tuple[Any, ...] | None = field(
        default=None, init=False, repr=False, compare=False)

    @property
    def terminating(self) -> bool:
        return self.deleted is not None

    def snapshot(self) -> dict[str, Any]:
        return {
            "metadata": {
                "name": self.name, "uid": self.uid, "labels": dict(self.labels),
                "ownerReferences": [r.to_dict() for r in self.owner_refs],
                "creationTimestamp": self.created, "deletionTimestamp": self.deleted,
            },
            "spec": {"volumeName": self.volume_name},
            "status": {"phase": self.phase},
        }


@dataclass
class Revision:
    name: str
    revision: int
    template: dict[str, Any]
    key: str
    labels: dict[str, str]
    owner_refs: list[OwnerRef]
    uid: str = ""
    created: float = 0.0
    #: written by someone other than the controller (ReplaceRevision): even for the
    #: controller's own template its data is not byte-equal to what the controller writes
    reserialized: bool = False

    def snapshot(self) -> dict[str, Any]:
        return {
            "metadata": {
                "name": self.name, "uid": self.uid, "labels": dict(self.labels),
                "ownerReferences": [r.to_dict() for r in self.owner_refs],
                "creationTimestamp": self.created,
            },
            "revision": self.revision,
            "templateKey": self.key,
        }


@dataclass
class SetStatus:
    observed_generation: int = 0
    replicas: int = 0
    ready_replicas: int = 0
    current_replicas: int = 0
    updated_replicas: int = 0
    available_replicas: int = 0
    current_revision: str = ""
    update_revision: str = ""
    collision_count: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "observedGeneration": self.observed_generation, "replicas": self.replicas,
            "readyReplicas": self.ready_replicas, "currentReplicas": self.current_replicas,
            "updatedReplicas": self.updated_replicas,
            "availableReplicas": self.available_replicas,
            "currentRevision": self.current_revision, "updateRevision": self.update_revision,
            "collisionCount": self.collision_count,
        }


@dataclass
class StatefulSet:
    """The stored set: ``manifest`` is the defaulted object as the apiserver keeps it."""

    manifest: dict[str, Any]
    uid: str = ""
    generation: int = 1
    created: float = 0.0
    deleted: float | None = None
    finalizers: list[str] = field(default_factory=list)
    status: SetStatus = field(default_factory=SetStatus)
    _key: str = ""

    _claims: tuple[tuple[str, dict[str, str]], ...] = ()

    def __post_init__(self) -> None:
        self.replace_manifest(self.manifest)

    def replace_manifest(self, manifest: dict[str, Any]) -> None:
        """Store an updated object (the only way the model changes a set's spec).

        The fields the controller reads on every sync are parsed here, once per spec change,
        rather than on every read: a stored manifest is never edited in place.
        """
        previous: dict[str, Any] | None = getattr(self, "_spec", None)  # None: being created
        self.manifest = manifest
        spec: dict[str, Any] = manifest["spec"]
        self._spec = spec
        self._name = str(manifest["metadata"]["name"])
        # Most edits leave the template as it was: comparing costs less than hashing it again.
        if previous is None or previous.get("template") != spec["template"]:
            self._key = template_key(spec["template"])
        strategy: dict[str, Any] = spec.get("updateStrategy") or {}
        self._strategy = strategy
        block = strategy.get("rollingUpdate")
        self._rolling_block: dict[str, Any] | None = block if isinstance(block, dict) else None
        self._replicas = int(spec.get("replicas", 1))
        self._start = int((spec.get("ordinals") or {}).get("start", 0))
        self._min_ready = int(spec.get("minReadySeconds") or 0)
        policy = spec.get("persistentVolumeClaimRetentionPolicy") or {}
        self._retention = (policy.get("whenDeleted", "Retain"), policy.get("whenScaled", "Retain"))
        self._claim_templates: tuple[dict[str, Any], ...] = tuple(
            spec.get("volumeClaimTemplates") or [])
        # STO-2: claim labels are the template's overlaid by the selector's matchLabels.
        match = dict(((spec.get("selector") or {}).get("matchLabels")) or {})
        claims = []
        for t in self._claim_templates:
            tmeta = t.get("metadata") or {}
            claims.append((str(tmeta.get("name")), {**(tmeta.get("labels") or {}), **match}))
        self._claims = tuple(claims)
        self._derived: dict[tuple[Any, ...], Any] = {}
        # What every snapshot of this spec shows of it (see snapshot()): built once here.
        snap_spec = {k: v for k, v in spec.items() if k != "template"}
        snap_spec["volumeClaimTemplates"] = [
            (t.get("metadata") or {}).get("name", "") for t in self._claim_templates]
        snap_spec["templateKey"] = self._key
        self._snap_spec = snap_spec
        meta = manifest.get("metadata") or {}
        self._snap_labels: dict[str, Any] = dict(meta.get("labels") or {})
        self._snap_annotations: dict[str, Any] = dict(meta.get("annotations") or {})

    def derived(self, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        """``compute()``, kept until the spec changes: for values that depend only on the
        stored manifest (and ``key``), which the controller asks for on every sync."""
        try:
            value: T = self._derived[key]
        except KeyError:
            value = self._derived[key] = compute()
        return value

    def claim_labels(self) -> tuple[tuple[str, dict[str, str]], ...]:
        """``(template name, claim labels)`` per volumeClaimTemplate (STO-1, STO-2)."""
        return self._claims

    def claim_template_names(self) -> list[str]:
        return [name for name, _ in self._claims]

    def template_key(self) -> str:
        """The key of the live template (REV-1), computed when the manifest is stored."""
        return self._key

    @property
    def name(self) -> str:
        return self._name

    @property
    def spec(self) -> dict[str, Any]:
        return self._spec

    @property
    def replicas(self) -> int:
        return self._replicas

    @property
    def start(self) -> int:
        return self._start

    @property
    def monotonic(self) -> bool:
        return self._spec.get("podManagementPolicy") == "OrderedReady"

    @property
    def min_ready(self) -> int:
        return self._min_ready

    @property
    def strategy(self) -> dict[str, Any]:
        return self._strategy

    @property
    def rolling_block(self) -> dict[str, Any] | None:
        return self._rolling_block

    @property
    def retention(self) -> tuple[str, str]:
        return self._retention

    @property
    def claim_templates(self) -> list[dict[str, Any]]:
        return list(self._claim_templates)

    @property
    def template(self) -> dict[str, Any]:
        value: dict[str, Any] = self._spec["template"]
        return value

    def snapshot(self) -> dict[str, Any]:
        """The set's record: its spec without the template (plus the claim template names and
        the template's key), its metadata and its status.

        The spec, labels and annotations parts are shared by every snapshot of one stored
        manifest (a manifest is never edited in place), as the nested spec values always
        were: History records are read, never changed.
        """
        return {
            "metadata": {
                "name": self.name, "uid": self.uid, "generation": self.generation,
                "labels": self._snap_labels,
                "annotations": self._snap_annotations,
                "creationTimestamp": self.created, "deletionTimestamp": self.deleted,
                "finalizers": list(self.finalizers),
            },
            "spec": self._snap_spec,
            "status": self.status.to_dict(),
        }


def template_key(template: dict[str, Any]) -> str:
    """Equal keys iff equal templates (REV-1: a revision's identity is its template)."""
    text = json.dumps(template, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def revision_name(set_name: str, template: dict[str, Any], collisions: int = 0) -> str:
    """``<set>-<hash>`` in the upstream alphabet; the hash itself is the model's own (REV-3).
    Like upstream's, it depends on the template and on ``collisions`` (the set's
    collisionCount, REV-5), which gives another name for the same template.

    >>> revision_name("web", {}) != revision_name("web", {}, 1)
    True
    """
    key = template_key(template)
    if collisions:
        key = hashlib.sha256(f"{key}/{collisions}".encode()).hexdigest()
    number = int(key[:8], 16)
    suffix = "".join(_SAFE_ALPHABET[int(d)] for d in str(number))
    return f"{set_name[:223]}-{suffix}"


class World:
    """All objects of one scenario's namespace, plus the History of their changes."""

    def __init__(self, set_name: str, history: History | None = None) -> None:
        self.set_name = set_name
        self.now = 0.0
        self.sts: StatefulSet | None = None
        self.service: dict[str, Any] | None = None
        self.pods: dict[str, Pod] = {}
        self.claims: dict[str, Claim] = {}
        self.revisions: dict[str, Revision] = {}
        self.endpoints: tuple[tuple[str, bool], ...] = ()
        self.history = history if history is not None else History.new("model", set_name)
        self._rv = 0
        self._uids = 0
        self._last: dict[tuple[str, str], dict[str, Any]] = {}
        #: Pod records so far: the EndpointSlice depends on nothing else (see refresh_endpoints)
        self._pod_records = 0
        self._endpoints_for: tuple[int, dict[str, Any]] | None = None

    # -- identity -----------------------------------------------------------------------------
    def new_uid(self, prefix: str) -> str:
        self._uids += 1
        return f"{prefix}-uid-{self._uids}"

    def _record(self, action: str, kind: str, name: str, snap: dict[str, Any]) -> None:
        key = (kind, name)
        last = self._last.get(key)
        if last is not None and _share_equal_parts(snap, last) and action == "MODIFIED":
            return  # nothing changed: no record
        self._rv += 1
        if kind == "Pod":
            self._pod_records += 1
        if action == "DELETED":
            self._last.pop(key, None)
        else:
            self._last[key] = snap
        self.history.object(action, kind, name, self._rv, snap, t=self.now)

    # -- typed add / touch / remove -------------------------------------------------------------
    def add_pod(self, pod: Pod) -> Pod:
        pod.uid, pod.created = self.new_uid("pod"), self.now
        self.pods[pod.name] = pod
        self._record("ADDED", "Pod", pod.name, pod.snapshot())
        return pod

    def add_claim(self, claim: Claim) -> Claim:
        claim.uid, claim.created = self.new_uid("pvc"), self.now
        self.claims[claim.name] = claim
        self._record("ADDED", "PersistentVolumeClaim", claim.name, claim.snapshot())
        return claim

    def add_revision(self, rev: Revision) -> Revision:
        rev.uid, rev.created = self.new_uid("cr"), self.now
        self.revisions[rev.name] = rev
        self._record("ADDED", "ControllerRevision", rev.name, rev.snapshot())
        return rev

    def add_set(self, sts: StatefulSet) -> StatefulSet:
        sts.uid, sts.created = self.new_uid("sts"), self.now
        self.sts = sts
        self._record("ADDED", "StatefulSet", sts.name, sts.snapshot())
        return sts

    def touch(self, obj: Pod | Claim | Revision | StatefulSet) -> None:
        """Record a MODIFIED event if the object's snapshot changed."""
        kind = _KINDS[type(obj)]
        self._record("MODIFIED", kind, obj.name, obj.snapshot())

    def remove(self, obj: Pod | Claim | Revision | StatefulSet) -> None:
        kind = _KINDS[type(obj)]
        if isinstance(obj, Pod):
            self.pods.pop(obj.name, None)
        elif isinstance(obj, Claim):
            self.claims.pop(obj.name, None)
        elif isinstance(obj, Revision):
            self.revisions.pop(obj.name, None)
        else:
            self.sts = None
        self._record("DELETED", kind, obj.name, obj.snapshot())

    def exists_uid(self, uid: str) -> bool:
        if self.sts is not None and self.sts.uid == uid:
            return True
        objs: list[Pod | Claim | Revision] = [
            *self.pods.values(), *self.claims.values(), *self.revisions.values()]
        return any(o.uid == uid for o in objs)

    # -- the headless Service's EndpointSlice, derived ---------------------------------------------
    def refresh_endpoints(self) -> None:
        """Mirror the EndpointSlice controller: pods selected by the Service that are Running.

        The runner calls this after every step. What it reads of a pod (name, hostname,
        labels, phase, readiness, deletion) is all in the pod's snapshot, so with no Pod
        record since the last call (and the same Service) the slice cannot have changed.
        """
        service = self.service
        if service is None:
            return
        done = self._endpoints_for
        if done is not None and done[0] == self._pod_records and done[1] is service:
            return
        self._refresh_endpoints(service)
        self._endpoints_for = (self._pod_records, service)

    def _refresh_endpoints(self, service: dict[str, Any]) -> None:
        selector = (service.get("spec") or {}).get("selector") or {}
        svc_name = str((service.get("metadata") or {}).get("name", ""))
        eps = tuple(sorted(
            (p.hostname or p.name, p.ready and not p.terminating)
            for p in self.pods.values()
            if selector and all(p.labels.get(k) == v for k, v in selector.items())
            and p.phase == "Running"
        ))
        if eps == self.endpoints and ("EndpointSlice", svc_name) in self._last:
            return
        self.endpoints = eps
        action = "MODIFIED" if ("EndpointSlice", svc_name) in self._last else "ADDED"
        snap = {
            "metadata": {"name": svc_name, "labels": {"kubernetes.io/service-name": svc_name}},
            "service": svc_name,
            "endpoints": [{"hostname": h, "podName": h, "ready": r} for h, r in eps],
        }
        self._record(action, "EndpointSlice", svc_name, snap)


_MISSING = object()


def _share_equal_parts(new: dict[str, Any], old: dict[str, Any], depth: int = 2) -> bool:
    """``new == old``, and on the way let ``new`` (an object's next snapshot) hold ``old``'s
    (its last one's) sections and fields where they are equal, instead of equal copies.

    History records are read, never changed, so the sharing is invisible to their readers
    (equal values, same JSON); it keeps the objects a run holds on to for its whole length
    fewer, and with them the work of Python's garbage collector, which walks them again and
    again (most records change one field: a phase, a status, a deletionTimestamp).

    >>> old = {"metadata": {"labels": {"a": "1"}, "finalizers": []}, "status": {"x": 1}}
    >>> new = {"metadata": {"labels": {"a": "1"}, "finalizers": ["f"]}, "status": {"x": 1}}
    >>> _share_equal_parts(new, old)
    False
    >>> new["status"] is old["status"], new["metadata"]["labels"] is old["metadata"]["labels"]
    (True, True)
    >>> new["metadata"]["finalizers"]
    ['f']
    >>> _share_equal_parts({"status": {"x": 1}}, {"status": {"x": 1}})
    True
    """
    equal = len(new) == len(old)
    for k, v in new.items():
        o = old.get(k, _MISSING)
        if o is v:
            continue
        if o is _MISSING:
            equal = False
        elif o == v:
            if type(v) is type(o) and (type(v) is dict or type(v) is list):
                new[k] = o  # (replacing a key's value while iterating is allowed)
        else:
            equal = False
            if depth > 1 and isinstance(v, dict) and isinstance(o, dict):
                _share_equal_parts(v, o, depth - 1)
    return equal


_KINDS: dict[type, str] = {
    Pod: "Pod", Claim: "PersistentVolumeClaim", Revision: "ControllerRevision",
    StatefulSet: "StatefulSet",
}
