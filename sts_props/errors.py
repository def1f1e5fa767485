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

import re

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

    The message is one line: what failed, the step, and the cause read from the output where
    it is recognisable (a module the Go module proxy refuses), else the output's last line;
    then where the whole output is, when it was kept.

    Attributes:
        step: the build step that failed or was running when the deadline passed
            (``preflight``, ``kubernetes-gomod``, ``kubernetes``, ``etcd``, ``kwok``;
            ``verify`` when the script succeeded but a binary is missing).
        returncode: exit status of the script (``None`` when it was killed).
        timed_out: the overall deadline passed and the build was killed.
        output_tail: the last lines of the script's combined output.
        log: the file that holds the whole output, if it was kept.

    >>> tail = ["go: downloading k8s.io/api v0.33.7",
    ...         "x.go:26:2: k8s.io/cri-client@v0.33.7: reading https://proxy.example/"
    ...         "k8s.io/cri-client/@v/v0.33.7.zip: 403 Forbidden",
    ...         "[build_binaries] step=kubernetes FAILED rc=1 after 12s"]
    >>> str(BuildError("build failed", step="kubernetes", returncode=1, output_tail=tail)
    ...     ).split(": ", 1)[1]
    'the Go module proxy does not serve k8s.io/cri-client@v0.33.7 (403 Forbidden)'
    """

    def __init__(
        self,
        message: str,
        *,
        step: str,
        returncode: int | None,
        output_tail: list[str],
        timed_out: bool = False,
        log: str | None = None,
    ) -> None:
        """Record the failure details; the message shows ``step``, the cause and ``log``."""
        self.step = step
        self.returncode = returncode
        self.timed_out = timed_out
        self.output_tail = output_tail
        self.log = log
        cause = _failure_cause(output_tail)
        where = f"; the whole output: {log}" if log else ""
        super().__init__(f"{message} (step {step!r}){': ' + cause if cause else ''}{where}")


#: Go's words when the module proxy refuses a module version: ``reading
#: https://HOST/MODULE/@v/VERSION.zip: 403 Forbidden`` (404 and 410 alike).
_PROXY_REFUSAL = re.compile(
    r"reading https?://[^/\s]+/(?P<module>\S+?)/@v/(?P<version>\S+?)\.(?:zip|mod|info): "
    r"(?P<status>4\d\d [A-Za-z ]+)")


def _failure_cause(lines: list[str]) -> str:
    """What a failed build's output says went wrong, in a phrase ('' for no output).

    >>> _failure_cause(["[build_binaries] step=etcd start", "go: no space left on device",
    ...                      "[build_binaries] step=etcd FAILED rc=1 after 3s"])
    'go: no space left on device'
    """
    refused: dict[str, str] = {}
    for line in lines:
        for m in _PROXY_REFUSAL.finditer(line):
            refused.setdefault(f"{m['module']}@{m['version']}", m["status"].strip())
    if refused:
        first, status = next(iter(refused.items()))
        more = f" and {len(refused) - 1} more module(s)" if len(refused) > 1 else ""
        return f"the Go module proxy does not serve {first}{more} ({status})"
    for line in reversed(lines):
        text = line.strip()
        if text and not text.startswith("["):  # the scripts' own progress lines: [name] ...
            return text[:300]
    return ""


class VersionError(ValueError):
    """A Kubernetes version (or feature gate) the model cannot reproduce; bad input."""
