"""Which Kubernetes behaviour the model reproduces: minor/patch version and feature gates.

>>> cfg = ModelConfig()               # the newest behaviour line (v1.37)
>>> cfg.k8s_minor, cfg.gate("MaxUnavailableStatefulSet")
(37, True)
>>> ModelConfig.for_version("v1.36.3").gate("MaxUnavailableStatefulSet")   # section 11
False
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sts_props.errors import PlanError
from sts_props.errors import VersionError as VersionError  # defined once there
from sts_props.mutant_names import MUTANT_NAMES, MutantName
from sts_props.versions import check_gate_settings, parse_version, pre_release_tag

if TYPE_CHECKING:
    from sts_props.plan import Plan


def default_gates(minor: int, patch: int) -> dict[str, bool]:
    """Gate defaults of section 11 for a given version."""
    if minor == 35 and patch <= 3:
        max_unavailable = True  # 1.35.0-1.35.3: beta on (UPD-10)
    elif minor in (35, 36):
        max_unavailable = False  # switched off again in 1.35.4 and 1.36 (#137904, #137926)
    else:
        max_unavailable = minor >= 37  # on again in 1.37 (#139466)
    return {
        "MaxUnavailableStatefulSet": max_unavailable,
        "PodIndexLabel": minor >= 28,
        "StatefulSetAutoDeletePVC": minor >= 27,
        "StatefulSetSemanticRevisionComparison": minor >= 35 or (minor == 34 and patch >= 2),
        # KEP-3541: alpha, off in 1.37; beta, on from 1.38 (kube_features.go, v1.38.0-beta.0)
        "StatefulSetRecreateStrategy": minor >= 38,
    }


@dataclass(frozen=True)
class ModelConfig:
    """Version and gates; ``gates`` overrides the version's defaults."""

    k8s_minor: int = 37
    k8s_patch: int = 2
    gates: tuple[tuple[str, bool], ...] = field(default=())
    #: mutation testing only (sts_props.mutants): the one rule the model deliberately breaks;
    #: None, the default, is the real model and leaves every hook inert
    mutant: MutantName | None = None
    #: the tag of a pre-release (``beta.0`` of v1.38.0-beta.0): said in :attr:`version`, no
    #: behaviour of its own (the model follows the release line)
    pre_release: str = ""

    @staticmethod
    def for_version(version: str, **overrides: bool) -> ModelConfig:
        """Parse ``v1.36.3`` (or ``1.36``) into a config.

        A version outside :data:`MIN_MINOR`..:data:`MAX_MINOR` or an unknown gate name is a
        :class:`VersionError`:

        >>> ModelConfig.for_version("v1.20")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        sts_props.errors.VersionError: Kubernetes v1.20 is outside ... (v1.33 to v1.38)
        """
        minor, patch = parse_version(version)
        check_gate_settings(overrides.items(), version)
        return ModelConfig(minor, patch, tuple(sorted(overrides.items())),
                           pre_release=pre_release_tag(version))

    @staticmethod
    def for_plan(plan: Plan) -> ModelConfig:
        """The configuration a plan records: its version, gate overrides and mutant.

        >>> from sts_props.plan import Plan
        >>> from sts_props.scenario import Manifests, Scenario
        >>> ModelConfig.for_plan(Plan(Scenario(Manifests.seed(), ()), k8s_version="v1.36.3"))
        ModelConfig(k8s_minor=36, k8s_patch=3, gates=(), mutant=None, pre_release='')
        """
        config = ModelConfig.for_version(plan.k8s_version, **dict(plan.gates))
        if plan.mutant is None:
            return config
        if plan.mutant not in MUTANT_NAMES:  # Plan.load refuses it; a Plan built in code may not
            raise PlanError(f"unknown mutant {plan.mutant!r}; known: {', '.join(MUTANT_NAMES)}")
        return dataclasses.replace(config, mutant=plan.mutant)

    def mutated(self, name: MutantName) -> bool:
        """Whether mutant ``name`` is in force (the test every mutation hook makes)."""
        return self.mutant == name

    def gate(self, name: str) -> bool:
        return self._gate_values[name]

    @functools.cached_property
    def _gate_values(self) -> dict[str, bool]:
        """The version's defaults with the overrides applied, worked out once per config (the
        controller asks on every sync). cached_property writes the instance's ``__dict__``
        directly, so it works on a frozen dataclass and leaves equality and hashing alone."""
        return dict(default_gates(self.k8s_minor, self.k8s_patch), **dict(self.gates))

    @property
    def version(self) -> str:
        """``v1.37.2``, or with its pre-release tag: ``v1.38.0-beta.0``.

        >>> ModelConfig.for_version("1.38.0-beta.0").version
        'v1.38.0-beta.0'
        """
        tag = f"-{self.pre_release}" if self.pre_release else ""
        return f"v1.{self.k8s_minor}.{self.k8s_patch}{tag}"

    # Version-dependent behaviours, named after the rules they come from.
    @property
    def on_delete_promotes(self) -> bool:
        """REV-10: OnDelete promotes currentRevision from 1.37 (#136833)."""
        return self.k8s_minor >= 37

    @property
    def condemned_first_in_burst(self) -> bool:
        """ORD-6b: from 1.38 a Parallel set deletes its condemned pods (and fixes their claims)
        before it creates or repairs the pods in range (#141057, #140858)."""
        return self.k8s_minor >= 38

    @property
    def max_unavailable_in_update_range(self) -> bool:
        """UPD-5b: from 1.38 maxUnavailable counts only unavailable pods at or above the
        partition, and a percentage is of ``replicas - partition`` (KEP-961; v1.38.0-beta.0
        ``updateStatefulSetAfterInvariantEstablished``)."""
        return self.k8s_minor >= 38

    @property
    def membership_needs_canonical_name(self) -> bool:
        """ID-4b: from 1.38 only a pod named exactly ``<set>-<ordinal>`` is a member; ``web-01``
        is not, so it is released or left alone instead of taking slot 1 (#141094)."""
        return self.k8s_minor >= 38

    @property
    def unavailable_counts_min_ready(self) -> bool:
        """PR-5: minReadySeconds counts in the unhealthy test since 1.34 (#130909)."""
        return self.k8s_minor >= 34

    @property
    def validates_template_at_create(self) -> bool:
        """VAL-6: full pod template and volumeClaimTemplates validated since 1.34."""
        return self.k8s_minor >= 34

    @property
    def validates_service_name(self) -> bool:
        """VAL-6: serviceName must be a DNS-1123 label since 1.33 (#130233)."""
        return self.k8s_minor >= 33

