"""How a spec-changing op turns the last accepted manifest into the next one.

Written once and used by the model and by every cluster executor, so "set partition 2" edits
exactly the same fields everywhere. The editor works on the *user's* manifest (what was last
accepted), not on the server's defaulted copy, as ``kubectl apply`` of an edited file would.

>>> from sts_props.scenario import Manifests
>>> from sts_props.ops import SetPartition, SetTemplate, RevertTemplate
>>> ed = SpecEditor(Manifests.seed().statefulset)
>>> new = ed.propose(SetPartition(partition=2))
>>> new["spec"]["updateStrategy"]
{'rollingUpdate': {'partition': 2}}
>>> ed.accept(SetPartition(partition=2), new)
>>> ed.accept(SetTemplate("image", "redis:7"), ed.propose(SetTemplate("image", "redis:7")))
>>> ed.propose(RevertTemplate(0))["spec"]["template"]["spec"]["containers"][0]["image"]
'redis:6.2'
"""

from __future__ import annotations

import copy
from typing import Any

from sts_props.errors import PlanError
from sts_props.ops import (
    Op,
    RevertTemplate,
    Scale,
    SetHistoryLimit,
    SetMaxUnavailable,
    SetMinReadySeconds,
    SetOrdinalsStart,
    SetPartition,
    SetRetention,
    SetTemplate,
    SetUpdateStrategy,
)

ENV_NAME = "STS_PROPS_ENV"
NOTE_ANNOTATION = "sts-props.io/note"


class SpecEditor:
    """Holds the last accepted StatefulSet manifest and the versions of its template."""

    def __init__(self, statefulset: dict[str, Any]) -> None:
        self.manifest: dict[str, Any] = _copy(statefulset)
        # Shared with the manifest, as every later version is (manifests are values).
        self.template_versions: list[dict[str, Any]] = [
            self.manifest.get("spec", {}).get("template", {})
        ]

    def propose(self, op: Op) -> dict[str, Any]:
        """Return the manifest this op would submit; the editor is unchanged.

        Manifests are values: the proposal copies only the dicts on the path it edits and
        shares everything else with the accepted manifest, so a caller that wants to change a
        proposal (say, add a resourceVersion) copies it first, as the cluster driver does.
        """
        m = dict(self.manifest)
        spec = _own(m, "spec")
        if isinstance(op, Scale):
            spec["replicas"] = op.replicas
        elif isinstance(op, SetTemplate):
            _edit_template(_own(spec, "template"), op)
        elif isinstance(op, RevertTemplate):
            if not 0 <= op.version < len(self.template_versions):
                raise PlanError(
                    f"revert_template version {op.version}: only versions 0.."
                    f"{len(self.template_versions) - 1} exist at this point"
                )
            spec["template"] = self.template_versions[op.version]
        elif isinstance(op, SetPartition):
            _own(_own(spec, "updateStrategy"), "rollingUpdate")["partition"] = op.partition
        elif isinstance(op, SetMaxUnavailable):
            _own(_own(spec, "updateStrategy"), "rollingUpdate")["maxUnavailable"] = op.value
        elif isinstance(op, SetUpdateStrategy):
            strategy = _own(spec, "updateStrategy")
            strategy["type"] = op.type
            if op.type in ("OnDelete", "Recreate"):
                # A rollingUpdate block is invalid with OnDelete and Recreate (VAL-5); a user
                # switching strategy removes it, as `kubectl edit` users must.
                strategy.pop("rollingUpdate", None)
        elif isinstance(op, SetOrdinalsStart):
            spec["ordinals"] = {"start": op.start}
        elif isinstance(op, SetRetention):
            spec["persistentVolumeClaimRetentionPolicy"] = {
                "whenDeleted": op.when_deleted,
                "whenScaled": op.when_scaled,
            }
        elif isinstance(op, SetMinReadySeconds):
            spec["minReadySeconds"] = op.seconds
        elif isinstance(op, SetHistoryLimit):
            spec["revisionHistoryLimit"] = op.limit
        else:
            raise PlanError(f"{op.kind} does not edit the StatefulSet spec")
        return m

    def accept(self, op: Op, manifest: dict[str, Any]) -> None:
        """Record that the server accepted ``manifest`` (the result of ``propose(op)``, kept as
        it is: proposals are never changed once made)."""
        old_template = self.manifest.get("spec", {}).get("template", {})
        self.manifest = manifest
        if isinstance(op, SetTemplate | RevertTemplate):
            new_template = manifest.get("spec", {}).get("template", {})
            if new_template != old_template:
                self.template_versions.append(new_template)


def _copy(value: Any) -> Any:
    """A deep copy of JSON-like data: dicts and lists are copied, str/int/float/bool/None
    kept; anything else goes to ``copy.deepcopy``. About three times faster than
    ``copy.deepcopy`` on a manifest (the model makes one editor per scenario).

    >>> m = {"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}
    >>> c = _copy(m)
    >>> c == m, c["spec"]["template"]["spec"]["containers"][0] is m["spec"]["template"][
    ...     "spec"]["containers"][0]
    (True, False)
    """
    kind = type(value)
    if kind is dict:
        return {k: _copy(v) for k, v in value.items()}
    if kind is list:
        return [_copy(v) for v in value]
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    return copy.deepcopy(value)


def _own(parent: dict[str, Any], key: str) -> dict[str, Any]:
    """``parent[key]`` replaced by a shallow copy (a new dict if absent) that may be edited."""
    child = dict(parent.get(key) or {})
    parent[key] = child
    return child


def _edit_template(template: dict[str, Any], op: SetTemplate) -> None:
    """Edit ``template`` (owned by the proposal), copying the nested parts it changes."""
    if op.field == "annotation":
        _own(_own(template, "metadata"), "annotations")[NOTE_ANNOTATION] = op.value
        return
    pod_spec = _own(template, "spec")
    containers = list(pod_spec.get("containers") or [])
    pod_spec["containers"] = containers
    if not containers:
        raise PlanError("the pod template has no containers to edit")
    first = containers[0] = dict(containers[0])
    if op.field == "image":
        first["image"] = op.value
        return
    env = [e for e in first.get("env", []) if e.get("name") != ENV_NAME]
    env.append({"name": ENV_NAME, "value": op.value})
    first["env"] = env
