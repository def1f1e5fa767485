"""Expectations a plan states about the state after one of its ops: the records.

The safety and quiescent checks say what must hold after *any* scenario; an expectation says
what a particular upstream test asserts after a particular op: which pods and claims exist,
which pods run the update revision, whether the rollout finished, how many ControllerRevisions
there are, whether the op was accepted. :mod:`sts_props.checks.expectations` checks them
against a History.

>>> Expectation.from_dict({"afterOp": 3, "pods": ["redis-0"]}, 4).pods
('redis-0',)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sts_props.errors import ExpectationError as ExpectationError  # defined once there
from sts_props.manifest_shapes import as_text, show_value

_FIELDS = {"afterOp": "after_op", "outcome": "outcome", "pods": "pods", "ready": "ready",
           "claims": "claims", "updated": "updated", "rolledOut": "rolled_out",
           "revisions": "revisions", "rule": "rule", "note": "note"}


@dataclass(frozen=True)
class Expectation:
    """What must hold after op ``after_op`` (0-based); unset fields are not checked.

    * ``outcome``: ``accepted`` or ``rejected``;
    * ``pods`` / ``claims``: the names of the live (not terminating) pods / PVCs, as a set;
    * ``ready``: the live pods that are Running and Ready;
    * ``updated``: the live pods whose revision label is the set's ``status.updateRevision``;
    * ``rolled_out``: currentRevision == updateRevision and every live pod is at it (or not);
    * ``revisions``: the number of ControllerRevisions of the set;
    * ``rule``: the rule ID the expectation stands for (cited in the violation);
    * ``note``: a sentence for people.
    """

    after_op: int
    outcome: str | None = None
    pods: tuple[str, ...] | None = None
    ready: tuple[str, ...] | None = None
    claims: tuple[str, ...] | None = None
    updated: tuple[str, ...] | None = None
    rolled_out: bool | None = None
    revisions: int | None = None
    rule: str = ""
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, attr in _FIELDS.items():
            value = getattr(self, attr)
            if value is None or value == "":
                continue
            out[key] = list(value) if isinstance(value, tuple) else value
        return out

    @staticmethod
    def from_dict(data: Any, n_ops: int) -> Expectation:
        """Parse one ``expect`` entry of a plan with ``n_ops`` ops."""
        if not isinstance(data, dict):
            raise ExpectationError(f"an expectation must be a mapping, got {show_value(data)}")
        unknown = sorted(set(map(str, data)) - set(_FIELDS))
        if unknown:
            raise ExpectationError(f"expectation has no field {show_value(unknown[0])} "
                                   f"(fields: {', '.join(_FIELDS)})")
        after = data.get("afterOp")
        if isinstance(after, bool) or not isinstance(after, int) or not 0 <= after < n_ops:
            raise ExpectationError(f"expectation afterOp must be an op index 0..{n_ops - 1}, "
                                   f"got {show_value(after)}")
        kw: dict[str, Any] = {}
        for key in ("pods", "ready", "claims", "updated"):
            if key in data:
                value = data[key]
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise ExpectationError(f"expectation {key} must be a list of names")
                kw[_FIELDS[key]] = tuple(sorted(value))
        if "outcome" in data and data["outcome"] not in ("accepted", "rejected"):
            raise ExpectationError("expectation outcome must be accepted or rejected, got "
                                   f"{show_value(data['outcome'])}")
        if "rolledOut" in data and not isinstance(data["rolledOut"], bool):
            raise ExpectationError("expectation rolledOut must be true or false")
        revisions = data.get("revisions")
        if revisions is not None and (isinstance(revisions, bool)
                                      or not isinstance(revisions, int)):
            raise ExpectationError("expectation revisions must be an integer")
        return Expectation(after, data.get("outcome"), rolled_out=data.get("rolledOut"),
                           revisions=revisions, rule=_text(data, "rule"),
                           note=_text(data, "note"), **kw)


def _text(data: dict[str, Any], key: str) -> str:
    """``rule`` or ``note``: text or absent; a list or mapping is refused, not turned into its
    repr."""
    text = as_text(data.get(key))
    if text is None:
        raise ExpectationError(f"expectation {key} must be a string, got "
                               f"{show_value(data.get(key))}")
    return text
