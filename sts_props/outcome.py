"""What the API answered to an op: accepted, or rejected with a reason class.

The outcome is part of what the model predicts and what a cluster run is compared on. Only the
*class* of the answer is compared (status, reason, and the set of ``(field, type)`` causes), never
the wording, which changes between Kubernetes versions.

>>> ok = Outcome.accepted()
>>> bad = Outcome.invalid([Cause("spec.replicas", "FieldValueInvalid", "must be >= 0", "VAL-5")])
>>> bad.status, bad.code, bad.reason
('rejected', 422, 'Invalid')
>>> bad.same_class(ok)
False
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["ok", "rejected", "indeterminate"]


@dataclass(frozen=True)
class Cause:
    """One field error of a 422 answer; ``rule`` is the spec rule that predicts it (model side)."""

    field: str
    type: str
    message: str = ""
    rule: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "type": self.type, "message": self.message, "rule": self.rule}


@dataclass(frozen=True)
class Outcome:
    """The answer to one op."""

    status: Status
    code: int | None = None
    reason: str | None = None
    message: str = ""
    causes: tuple[Cause, ...] = field(default=())

    @staticmethod
    def accepted() -> Outcome:
        return Outcome("ok", 200)

    @staticmethod
    def invalid(causes: Iterable[Cause], message: str = "") -> Outcome:
        causes = tuple(causes)
        text = message or "; ".join(f"{c.field}: {c.message}" for c in causes)
        return Outcome("rejected", 422, "Invalid", text, causes)

    @staticmethod
    def rejected(code: int, reason: str, message: str = "") -> Outcome:
        return Outcome("rejected", code, reason, message)

    @staticmethod
    def indeterminate(message: str) -> Outcome:
        return Outcome("indeterminate", None, "Timeout", message)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def rules(self) -> tuple[str, ...]:
        """The spec rules cited by the causes, in order, without repeats."""
        return tuple(dict.fromkeys(c.rule for c in self.causes if c.rule))

    def signature(self) -> tuple[str, int | None, str | None, frozenset[tuple[str, str]]]:
        """What is compared between model and cluster."""
        return (
            self.status,
            self.code,
            self.reason,
            frozenset((c.field, c.type) for c in self.causes),
        )

    def same_class(self, other: Outcome) -> bool:
        """True when both answers agree on status, code and reason (causes not compared)."""
        return self.signature()[:3] == other.signature()[:3]

    def describe(self) -> str:
        if self.ok:
            return "accepted"
        if self.status == "indeterminate":
            return f"indeterminate ({self.message})"
        rules = f" [{', '.join(self.rules)}]" if self.rules else ""
        return f"rejected {self.code} {self.reason}: {self.message}{rules}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "code": self.code,
            "reason": self.reason,
            "message": self.message,
            "causes": [c.to_dict() for c in self.causes],
        }

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Outcome:
        return Outcome(
            status=data["status"],
            code=data.get("code"),
            reason=data.get("reason"),
            message=data.get("message", ""),
            causes=tuple(Cause(**c) for c in data.get("causes", ())),
        )
