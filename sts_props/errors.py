"""The exceptions a caller of sts-props may catch, each defined here and only here.

This module is vocabulary: it imports nothing from sts-props, so any module (library, CLI,
pytest plugin) can import it without an import cycle. The modules that raise these errors
re-export them under their old names (``sts_props.scenario.ManifestError``,
``sts_props.cluster.base.ClusterError``, ...), so both spellings name the same class.

Two families, and what the ``sts-props`` command makes of them (:mod:`sts_props.cli`):

* *bad input* (a ``ValueError``; exit code 2): :class:`ManifestError`, :class:`PlanError`,
  :class:`OpFormatError`, :class:`ExpectationError`, :class:`PatchError` (a ``--patch`` diff
  that does not apply), and :class:`KubeconfigError` (a kubeconfig file given to the
  ``kubeconfig`` backend that cannot be used);
* *no cluster* (exit code 3): :class:`ClusterError` and its :class:`BackendUnavailable`, and
  :class:`BuildError` (the control plane could not be built).

Usage::

    from sts_props.errors import ClusterError, ManifestError
    from sts_props.manifest_files import load_manifests

    try:
        manifests = load_manifests([Path("sts.yaml")], config)
    except ManifestError as exc:
        print(exc)          # one line naming the file and the rule

>>> issubclass(BackendUnavailable, ClusterError), issubclass(KubeconfigError, ClusterError)
(True, True)
>>> str(PlanError("plan.yaml: missing 'ops'"))
"plan.yaml: missing 'ops'"
"""

from __future__ import annotations

__all__ = [
    "BackendUnavailable",
    "BuildError",
    "ClusterError",
    "ExpectationError",
    "KubeconfigError",
    "ManifestError",
    "OpFormatError",
    "PatchError",
    "PlanError",
    "VersionError",
]


# -- bad input ---------------------------------------------------------------------------------
class ManifestError(ValueError):
    """A manifest file that cannot be used; the message names the file and the reason."""


class PlanError(ValueError):
    """A plan that cannot be used: a plan file with a mistake (the message names the file and
    what is wrong), or an op that cannot be applied to its scenario at all (the spec editor:
    a bug in the plan, not an answer of the system under test)."""


class OpFormatError(ValueError):
    """A plan entry that is not a known op or has wrong fields; the message is one line that
    names the entry (``ops[3] (scale)`` when the index is known) and the field."""


class ExpectationError(ValueError):
    """An ``expect`` entry of a plan that is malformed."""


class PatchError(ValueError):
    """A diff for a patched kube-controller-manager that is not a unified diff of
    k8s.io/kubernetes or does not apply to the version; the message is one line."""


# -- no cluster --------------------------------------------------------------------------------
class ClusterError(RuntimeError):
    """A backend cannot do what was asked; the message says what and how to fix it."""


class BackendUnavailable(ClusterError):
    """The backend cannot run here at all (missing Docker, binaries, ...)."""


class KubeconfigError(ClusterError):
    """A kubeconfig file is missing, unreadable, or lacks the context asked for."""


class BuildError(RuntimeError):
    """``build_binaries.sh`` failed, timed out or left binaries missing.

    Attributes:
        step: the build step that failed or was running when the deadline passed
            (``preflight``, ``kubernetes-gomod``, ``kubernetes``, ``etcd``, ``kwok``;
            ``verify`` when the script succeeded but a binary is missing).
        returncode: exit status of the script (``None`` when it was killed).
        timed_out: the overall deadline passed and the build was killed.
        output_tail: the last lines of the script's combined output.

    """

    def __init__(
        self,
        message: str,
        *,
        step: str,
        returncode: int | None,
        output_tail: list[str],
        timed_out: bool = False,
    ) -> None:
        """Record the failure details; the message shows ``step`` and ``output_tail``."""
        self.step = step
        self.returncode = returncode
        self.timed_out = timed_out
        self.output_tail = output_tail
        tail = "\n".join(f"    {line}" for line in output_tail)
        super().__init__(f"{message} (step {step!r})\n  last output:\n{tail}")


class VersionError(ValueError):
    """A Kubernetes version (or feature gate) the model cannot reproduce; bad input."""
