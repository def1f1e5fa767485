"""A Hypothesis state machine that drives the reference model op by op.

Unlike
:func:`~sts_props.strategies.ops.scenarios`, which draws a whole plan up front from a *shadow* of
the set, the machine reads the model's real state before every step, so every op is meaningful:
spec edits only while the set exists, pod ops only on pods that exist, RevertTemplate only to
versions that exist, RecreateSet only when the set is gone. Between ops a
:class:`~sts_props.strategies.chooser.DataChooser`
lets Hypothesis choose how far and in which order the
system moves.

Checked after every step (invariants):

* every op's :class:`~sts_props.outcome.Outcome` is well formed and is the answer the API must
  give (accepted / 404 / 409 / 422 citing a VAL rule), predicted from the state before the op;
* the model never reports an unsettled run (a settle still moving after MAX_SETTLE_STEPS); a
  detected 1.37 delete/recreate livelock (``ModelRun.livelocks``, UPD-10 with UPD-6 a) is a
  finding about upstream, noted but not failed;
* ``run_safety_checks`` (section 10.1) finds nothing in the History so far, and
  ``run_quiescent_checks`` finds nothing at the settled records (when :mod:`sts_props.checks`
  is importable; it is written separately).

Swarm testing may switch the ``settle`` rule off for a whole run, so the machine also settles by
itself every 1-4 ops (a drawn gap, as :func:`~sts_props.strategies.ops.op_sequences` does):
quiescent
states are always reached and checked.

Usage, in a test module (``tests/conftest.py`` has loaded a profile first, which sets the number
of examples and ``stateful_step_count``)::

    from sts_props.strategies.state_machine import StatefulSetMachine

    TestStatefulSetMachine = StatefulSetMachine.TestCase

or directly:

>>> from hypothesis import settings
>>> from hypothesis.stateful import run_state_machine_as_test
>>> run_state_machine_as_test(StatefulSetMachine, settings=settings(
...     max_examples=3, stateful_step_count=5, deadline=None, database=None))

A failure message ends with the replayable plan (``Scenario`` YAML) and the interleavings: feed
them to ``run_model(scenario, chooser=ScriptedChooser(interleavings))``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from sts_props.checks import (
    QuiescentChecker,
    SafetyChecker,
    run_quiescent_checks,
    run_safety_checks,
)
from sts_props.history import History
from sts_props.model.config import ModelConfig
from sts_props.model.runner import ModelRun
from sts_props.ops import (
    OP_TYPES,
    SPEC_OPS,
    Create,
    DeletePod,
    DeletePVC,
    DeleteRevision,
    DeleteSet,
    FailPod,
    HoldNotReady,
    HoldScheduling,
    Op,
    RecreateSet,
    ReleasePod,
    ReleaseScheduling,
    ReplaceRevision,
    RevertTemplate,
    Scale,
    SetHistoryLimit,
    SetMaxUnavailable,
    SetMinReadySeconds,
    SetOrdinalsStart,
    SetPartition,
    SetRetention,
    SetTemplate,
    Settle,
    SetUpdateStrategy,
    op_from_dict,
)
from sts_props.outcome import Outcome
from sts_props.scenario import Manifests, Scenario
from sts_props.snapshot import ordinal_of
from sts_props.strategies.chooser import DataChooser
from sts_props.strategies.manifests import image_values, valid_statefulsets
from sts_props.strategies.ops import (
    HISTORY_LIMITS,
    MACHINE_POD_FAULTS,
    RECIPES,
    TEMPLATE_VALUES,
    max_unavailable_values,
)

__all__ = ["CheckFn", "StatefulSetMachine", "load_checks"]

#: ``(history) -> list of violations``; a violation only needs ``describe()`` or ``str()``.
CheckFn = Callable[[History], Sequence[Any]]

_RULE_ID = re.compile(r"^[A-Z]+-\d+[a-z]?$")
_CAUSE_TYPES = frozenset({
    "FieldValueInvalid", "FieldValueRequired", "FieldValueNotSupported", "FieldValueForbidden",
    "FieldValueDuplicate", "FieldValueTooLong", "FieldValueTypeInvalid",
})
_REASONS = {404: {"NotFound"}, 409: {"AlreadyExists", "Conflict"}, 422: {"Invalid"}}


@functools.lru_cache(maxsize=256)
def _between(low: int, high: int) -> st.SearchStrategy[int]:
    """``st.integers(low, high)``, built once per range (a new strategy costs its label)."""
    return st.integers(low, high)


def _one_of(values: Sequence[Any]) -> st.SearchStrategy[Any]:
    """``st.sampled_from(values)``, built once per distinct choice list."""
    return _sampled(tuple(values))


@functools.lru_cache(maxsize=1024)
def _sampled(values: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    return st.sampled_from(values)


def load_checks() -> tuple[CheckFn, CheckFn]:
    """``(run_safety_checks, run_quiescent_checks)`` from :mod:`sts_props.checks`: what the
    machine's invariants run on the History after every step."""
    return run_safety_checks, run_quiescent_checks


def _describe(violations: Sequence[Any]) -> str:
    return "\n".join(
        "  - " + (v.describe() if hasattr(v, "describe") else str(v)) for v in violations)


class StatefulSetMachine(RuleBasedStateMachine):
    """Rule-based exploration of the model; see the module docstring.

    Class attributes configure it; subclass to change them (the rules read them at run time)::

        class Big(StatefulSetMachine):
            max_replicas = 10
            config = ModelConfig.for_version("v1.36.3")
    """

    #: Scale targets are drawn in ``0..max_replicas``.
    max_replicas: ClassVar[int] = 5
    #: Steps the system may take after an op when the chooser does not drain.
    max_steps_between_ops: ClassVar[int] = 8
    #: The Kubernetes behaviour the model reproduces.
    config: ClassVar[ModelConfig] = ModelConfig()
    #: Base manifests (None: the seed Redis set or the generic web set, drawn).
    base: ClassVar[Manifests | None] = None

    def __init__(self) -> None:
        super().__init__()
        self.run: ModelRun | None = None
        self.data: st.DataObject | None = None
        self.chooser: DataChooser | None = None
        self.manifests: Manifests | None = None
        self.ops: list[Op] = []
        self.checks = load_checks()
        self._ordinals_at = -1
        self._ordinals: dict[bool | None, list[int]] = {}
        self._claims_at: tuple[int, list[int]] = (-1, [])
        self._safety: SafetyChecker | None = None
        self._quiescent: QuiescentChecker | None = None
        self._since_settle = 0
        self._gap = 1
        #: a HoldScheduling is in force (new pods stay Pending until ReleaseScheduling)
        self.scheduling_held = False

    # -- helpers ------------------------------------------------------------------------------
    @property
    def model(self) -> ModelRun:
        assert self.run is not None, "initialize() has not run"
        return self.run

    def _draw(self, strategy: st.SearchStrategy[Any], label: str) -> Any:
        assert self.data is not None
        return self.data.draw(strategy, label=label)

    def plan(self) -> Scenario:
        """The ops applied so far, as a replayable Scenario."""
        assert self.manifests is not None
        return Scenario(self.manifests, tuple(self.ops), name="state machine")

    def _replay_text(self) -> str:
        log = self.chooser.log if self.chooser is not None else []
        return (f"\n--- replay: run_model(Scenario.from_yaml(PLAN), "
                f"chooser=ScriptedChooser(INTERLEAVINGS)) ---\nPLAN:\n{self.plan().to_yaml()}"
                f"INTERLEAVINGS: {log!r}")

    def _fail(self, message: str) -> None:
        raise AssertionError(message + self._replay_text())

    def _set_present(self) -> bool:
        return self.run is not None and self.run.world.sts is not None

    def _set_live(self) -> bool:
        """The set exists and is not being deleted (Foreground/Orphan keep it for a while)."""
        return self._set_present() and self.model.world.sts.deleted is None  # type: ignore[union-attr]

    def _pod_ordinals(self, held: bool | None = None) -> list[int]:
        if self.run is None:
            return []
        # Preconditions ask this many times per step; pods only change with a History record.
        length = len(self.run.history.events)
        if length != self._ordinals_at:
            self._ordinals_at, self._ordinals = length, {}
        if held not in self._ordinals:
            self._ordinals[held] = self._list_pod_ordinals(held)
        return self._ordinals[held]

    def _list_pod_ordinals(self, held: bool | None) -> list[int]:
        assert self.run is not None
        out = []
        for name, pod in self.run.world.pods.items():
            ordinal = ordinal_of(name, self.run.set_name)
            if ordinal is not None and (held is None or pod.held == held):
                out.append(ordinal)
        return sorted(out)

    def _claim_ordinals(self) -> list[int]:
        """Ordinals whose claim of the first volumeClaimTemplate exists (DeletePVC targets)."""
        if self.run is None:
            return []
        # Asked by a precondition before every step; claims (and the spec) only change with a
        # History record, so the answer is kept until the History grows.
        length = len(self.run.history.events)
        if self._claims_at[0] != length:
            self._claims_at = (length, self._list_claim_ordinals())
        return self._claims_at[1]

    def _list_claim_ordinals(self) -> list[int]:
        assert self.run is not None
        templates = (self.run.editor.manifest.get("spec") or {}).get("volumeClaimTemplates")
        if not templates:
            return []
        prefix = f"{(templates[0].get('metadata') or {}).get('name')}-{self.run.set_name}-"
        return sorted(int(name[len(prefix):]) for name in self.run.world.claims
                      if name.startswith(prefix) and name[len(prefix):].isdigit())

    def _strategy_type(self) -> str:
        spec = self.model.editor.manifest.get("spec") or {}
        return str((spec.get("updateStrategy") or {}).get("type") or "RollingUpdate")

    # -- applying ops -----------------------------------------------------------------------------
    def _expected(self, op: Op) -> tuple[str, int] | None:
        """The answer the API must give, from the state before the op; None if not predicted."""
        w = self.model.world
        if isinstance(op, Create):
            return ("ok", 200)  # valid_statefulsets only makes valid manifests
        if isinstance(op, RecreateSet):
            return ("rejected", 409) if w.sts is not None else ("ok", 200)
        if isinstance(op, DeleteSet):
            return ("ok", 200) if w.sts is not None else ("rejected", 404)
        if isinstance(op, DeletePod | FailPod | HoldNotReady | ReleasePod):
            name = f"{self.model.set_name}-{op.ordinal}"
            return ("ok", 200) if name in w.pods else ("rejected", 404)
        if isinstance(op, DeletePVC):
            return ("ok", 200) if op.ordinal in self._claim_ordinals() else ("rejected", 404)
        if op.kind in SPEC_OPS:
            return None if w.sts is not None else ("rejected", 404)
        return None

    def _check_outcome(self, op: Op, outcome: Outcome, expected: tuple[str, int] | None) -> None:
        problems = []
        if not isinstance(outcome, Outcome):
            self._fail(f"{op.describe()}: the model answered {outcome!r}, not an Outcome")
        if outcome.status not in ("ok", "rejected"):
            problems.append(f"status {outcome.status!r} (the model is never indeterminate)")
        if outcome.ok and (outcome.code != 200 or outcome.causes):
            problems.append(f"accepted with code {outcome.code} and causes {outcome.causes}")
        if outcome.status == "rejected":
            if outcome.reason not in _REASONS.get(outcome.code or 0, set()):
                problems.append(f"code {outcome.code} with reason {outcome.reason!r}")
            if outcome.code == 422 and not outcome.causes:
                problems.append("422 without causes")
            for cause in outcome.causes:
                if not cause.field or cause.type not in _CAUSE_TYPES \
                        or not _RULE_ID.match(cause.rule):
                    problems.append(f"malformed cause {cause}")
        if Outcome.from_dict(outcome.to_dict()) != outcome:
            problems.append("does not round-trip through to_dict/from_dict")
        if expected is not None and (outcome.status, outcome.code) != expected:
            problems.append(f"expected {expected[0]} {expected[1]}, got {outcome.describe()}")
        if problems:
            self._fail(f"op {len(self.ops) - 1} ({op.describe()}): bad outcome: "
                       + "; ".join(problems))

    def _apply(self, op: Op, expect: tuple[str, int] | None = None) -> Outcome:
        expected = expect or self._expected(op)
        self.ops.append(op)
        outcome = self.model.apply(op)
        note(f"op {len(self.ops) - 1}: {op.describe()} -> {outcome.describe()}")
        self._check_outcome(op, outcome, expected)
        if isinstance(op, Settle):
            self._since_settle = 0
            self._gap = self._draw(_between(1, 4), "ops before the next automatic settle")
        else:
            self._since_settle += 1
            if self._since_settle >= self._gap:
                self._apply(Settle())
        return outcome

    # -- rules ----------------------------------------------------------------------------------
    @initialize(data=st.data())
    def create(self, data: st.DataObject) -> None:
        """Draw the manifests and the chooser, then Create (must be accepted)."""
        self.data = data
        self.manifests = data.draw(
            valid_statefulsets(self.base, max_replicas=self.max_replicas,
                               recreate=self.config.gate("StatefulSetRecreateStrategy")),
            label="manifests")
        self.chooser = DataChooser(data, max_steps_between_ops=self.max_steps_between_ops)
        self.run = ModelRun(self.manifests, self.config, self.chooser)
        self._safety = SafetyChecker(self.run.history)
        self._quiescent = QuiescentChecker(self.run.history)
        self._gap = self._draw(_between(1, 4), "ops before the next automatic settle")
        self._apply(Create())

    @precondition(lambda self: self._set_present())
    @rule()
    def scale(self) -> None:
        self._apply(Scale(self._draw(_between(0, self.max_replicas), "replicas")))

    @precondition(lambda self: self._set_present())
    @rule(field=st.sampled_from(["env", "annotation", "image"]))
    def set_template(self, field: str) -> None:
        images = image_values(self.model.manifests)
        if field == "image" and len(images) > 1:
            value = self._draw(_one_of(images), "image")
        else:
            field = "annotation" if field == "image" else field
            value = self._draw(_one_of(TEMPLATE_VALUES), f"{field} value")
        self._apply(SetTemplate(field, value))  # type: ignore[arg-type]

    @precondition(lambda self: self._set_present()
                  and len(self.model.editor.template_versions) > 1)
    @rule()
    def revert_template(self) -> None:
        versions = len(self.model.editor.template_versions)
        self._apply(RevertTemplate(self._draw(_between(0, versions - 1), "version")))

    @precondition(lambda self: self._set_present() and self._strategy_type() == "RollingUpdate")
    @rule()
    def set_partition(self) -> None:
        replicas = self.model.world.sts.replicas  # type: ignore[union-attr]
        self._apply(SetPartition(self._draw(_between(0, replicas + 1), "partition")))

    @precondition(lambda self: self._set_present() and self._strategy_type() == "RollingUpdate")
    @rule(value=max_unavailable_values())
    def set_max_unavailable(self, value: int | str) -> None:
        self._apply(SetMaxUnavailable(value))

    @precondition(lambda self: self._set_present())
    @rule(strategy_type=st.sampled_from(["RollingUpdate", "OnDelete"]))
    def set_update_strategy(self, strategy_type: str) -> None:
        # With the alpha gate on, an OnDelete draw may become Recreate (no extra draw with the
        # gate off, so the machine's examples stay what they were)
        if (strategy_type == "OnDelete" and self.config.gate("StatefulSetRecreateStrategy")
                and self._draw(st.booleans(), "Recreate instead of OnDelete")):
            strategy_type = "Recreate"
        self._apply(SetUpdateStrategy(strategy_type))  # type: ignore[arg-type]

    @precondition(lambda self: self._set_present())
    @rule(start=st.integers(0, 3))
    def set_ordinals_start(self, start: int) -> None:
        self._apply(SetOrdinalsStart(start))

    @precondition(lambda self: self._set_present())
    @rule(when_deleted=st.sampled_from(["Retain", "Delete"]),
          when_scaled=st.sampled_from(["Retain", "Delete"]))
    def set_retention(self, when_deleted: str, when_scaled: str) -> None:
        self._apply(SetRetention(when_deleted, when_scaled))  # type: ignore[arg-type]

    @precondition(lambda self: self._set_present())
    @rule(seconds=st.sampled_from([0, 1, 2, 5]))
    def set_min_ready_seconds(self, seconds: int) -> None:
        self._apply(SetMinReadySeconds(seconds))

    @precondition(lambda self: self._set_present())
    @rule(limit=st.sampled_from(HISTORY_LIMITS))
    def set_history_limit(self, limit: int) -> None:
        self._apply(SetHistoryLimit(limit))

    @precondition(lambda self: self._set_present())
    @rule(which=st.sampled_from(["replicas", "partition", "maxUnavailable", "minReadySeconds",
                                 "ordinals.start"]))
    def rejected_edit(self, which: str) -> None:
        """An out-of-range edit: the API must answer 422 citing VAL-5 and change nothing."""
        if which == "maxUnavailable" and (not self.config.gate("MaxUnavailableStatefulSet")
                                          or self._strategy_type() != "RollingUpdate"):
            which = "replicas"  # UPD-11: dropped, not rejected, with the gate off
        if which == "partition" and self._strategy_type() != "RollingUpdate":
            which = "replicas"
        op: Op = {
            "replicas": Scale(-1),
            "partition": SetPartition(-1),
            "maxUnavailable": SetMaxUnavailable(0),
            "minReadySeconds": SetMinReadySeconds(-1),
            "ordinals.start": SetOrdinalsStart(-1),
        }[which]
        before = self.model.world.sts.manifest if self.model.world.sts else None
        outcome = self._apply(op, expect=("rejected", 422))
        if "VAL-5" not in outcome.rules:
            self._fail(f"{op.describe()} was rejected without citing VAL-5: "
                       f"{outcome.describe()}")
        after = self.model.world.sts.manifest if self.model.world.sts else None
        if before is not None and after is not None and before.get("spec") != after.get("spec"):
            self._fail(f"{op.describe()} was rejected but changed the stored spec")

    @precondition(lambda self: bool(self._pod_ordinals()))
    @rule()
    def delete_pod(self) -> None:
        self._apply(DeletePod(self._draw(_one_of(self._pod_ordinals()), "pod")))

    @precondition(lambda self: bool(self._pod_ordinals()))
    @rule(phase=st.sampled_from(["Failed", "Succeeded"]))
    def fail_pod(self, phase: str) -> None:
        ordinal = self._draw(_one_of(self._pod_ordinals()), "pod")
        self._apply(FailPod(ordinal, phase))  # type: ignore[arg-type]

    @precondition(lambda self: bool(self._pod_ordinals(held=False)))
    @rule()
    def hold_not_ready(self) -> None:
        self._apply(HoldNotReady(self._draw(_one_of(self._pod_ordinals(held=False)),
                                            "pod")))

    @precondition(lambda self: bool(self._pod_ordinals(held=True)))
    @rule()
    def release_pod(self) -> None:
        self._apply(ReleasePod(self._draw(_one_of(self._pod_ordinals(held=True)),
                                          "held pod")))

    @precondition(lambda self: bool(self._claim_ordinals()))
    @rule()
    def delete_pvc(self) -> None:
        self._apply(DeletePVC(self._draw(_one_of(self._claim_ordinals()), "claim of pod")))

    # -- faults (issue 5). Write denials are left to op_sequences, whose shadow keeps template
    # and set-deletion ops out of a denial window.
    @precondition(lambda self: bool(self._pod_ordinals()))
    @rule(kind=st.sampled_from(MACHINE_POD_FAULTS))
    def pod_fault(self, kind: str) -> None:
        """A fault on an existing pod; which kinds, and whether the answer is predicted
        (FailNode answers 409 for a pod on no node), is their recipe's ``machine``."""
        ordinal = self._draw(_one_of(self._pod_ordinals()), "pod")
        predicted = RECIPES[OP_TYPES[kind]].machine == "ok"
        self._apply(op_from_dict({"op": kind, "ordinal": ordinal}),
                    ("ok", 200) if predicted else None)

    @precondition(lambda self: self._set_live() and not self.scheduling_held)
    @rule()
    def hold_scheduling(self) -> None:
        """New pods stay Pending (STO-5: a Pending pod's deleted claim is recreated)."""
        self.scheduling_held = True
        self._apply(HoldScheduling(), ("ok", 200))

    @precondition(lambda self: self.scheduling_held)
    @rule()
    def release_scheduling(self) -> None:
        self.scheduling_held = False
        self._apply(ReleaseScheduling(), ("ok", 200))

    @precondition(lambda self: self.run is not None)
    @rule()
    def restart_controller(self) -> None:
        self._apply(op_from_dict({"op": "restart_controller"}), ("ok", 200))

    @precondition(lambda self: self._set_live())
    @rule(propagation=st.sampled_from(["Background", "Foreground", "Orphan"]))
    def delete_set(self, propagation: str) -> None:
        self._apply(DeleteSet(propagation))  # type: ignore[arg-type]

    @precondition(lambda self: self._set_live())
    @rule(role=st.sampled_from(["current", "update"]))
    def delete_revision(self, role: str) -> None:
        """A user deletes the revision the status names (REV-8, REV-7)."""
        self._apply(DeleteRevision(role))  # type: ignore[arg-type]

    @precondition(lambda self: self._set_live())
    @rule(role=st.sampled_from(["current", "update"]), content=st.sampled_from(["other", "same"]))
    def replace_revision(self, role: str, content: str) -> None:
        """The revision the status names is written again with other data, or with the same
        template in other bytes (REV-5, REV-6, REV-7)."""
        self._apply(ReplaceRevision(role, content))  # type: ignore[arg-type]

    @precondition(lambda self: self.run is not None and not self._set_present())
    @rule()
    def recreate_set(self) -> None:
        self._apply(RecreateSet())

    @rule()
    def settle(self) -> None:
        self._apply(Settle())

    # -- invariants -----------------------------------------------------------------------------
    @invariant()
    def never_unsettled(self) -> None:
        if self.run is None:
            return
        if self.run.unsettled:
            self._fail("the model did not settle: " + "; ".join(self.run.unsettled))
        livelocks = getattr(self.run, "livelocks", [])
        if livelocks:
            note(f"livelock (a finding about upstream, not a failure): {livelocks[-1]}")

    @invariant()
    def one_outcome_per_op(self) -> None:
        if self.run is not None and len(self.run.outcomes) != len(self.ops):
            self._fail(f"{len(self.ops)} ops applied but {len(self.run.outcomes)} outcomes")

    @invariant()
    def safety_checks_pass(self) -> None:
        """Section 10.1 checks hold on every prefix of the History (they are S checks).

        The checker judges only the records added since the previous step; its verdicts equal
        ``run_safety_checks`` on the whole History so far (tests/test_incremental_checks.py).
        """
        if self._safety is None:
            return
        violations = self._safety.violations()
        if violations:
            self._fail(f"safety violations after op {len(self.ops) - 1}:\n"
                       + _describe(violations))

    @invariant()
    def quiescent_checks_pass(self) -> None:
        """Section 10.3 holds at every settled record (each judged once, when it appears)."""
        if self._quiescent is None:
            return
        violations = self._quiescent.violations()
        if violations:
            self._fail(f"quiescent-state violations after op {len(self.ops) - 1}:\n"
                       + _describe(violations))
