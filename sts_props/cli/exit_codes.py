"""Exit codes of ``sts-props``, and which exceptions end a command with which code.

The one definition of the split between *bad input* (2) and *no cluster* (3); a failed run
(1) is a verdict a subcommand returns, not an exception. The table with the meaning of each
code is in :mod:`sts_props.cli`.

>>> from sts_props.errors import BackendUnavailable, KubeconfigError, ManifestError
>>> exit_code_for(ManifestError("sts.yaml: not valid YAML"))
2
>>> exit_code_for(BackendUnavailable("Docker is not running here"))
3
>>> exit_code_for(KubeconfigError("kc.yaml: no such kubeconfig file"))  # the file given: input
2
>>> exit_code_for(RuntimeError("a bug")) is None   # not ours: a traceback, exit 1
True
>>> verdict(True), verdict(False)
(0, 1)
"""

from __future__ import annotations

from sts_props.cluster.lifecycle import Terminated
from sts_props.errors import (
    BuildError,
    ClusterError,
    ExpectationError,
    KubeconfigError,
    ManifestError,
    OpFormatError,
    PatchError,
    PlanError,
)

__all__ = ["BAD_INPUT_ERRORS", "EXIT_BAD_INPUT", "EXIT_FAILED", "EXIT_INTERRUPTED",
           "EXIT_NO_CLUSTER", "EXIT_OK", "EXIT_STDOUT_CLOSED", "EXIT_TERMINATED",
           "NO_CLUSTER_ERRORS", "UsageError", "exit_code_for", "verdict"]

EXIT_OK = 0
#: a property or check failed, the cluster disagreed, a mutant survived, doctor found a problem
EXIT_FAILED = 1
#: a file or option value that cannot be used (one line on stderr)
EXIT_BAD_INPUT = 2
#: the cluster could not be had (or failed under the run): no verdict
EXIT_NO_CLUSTER = 3
#: Ctrl-C (128 + SIGINT, as a shell reports it)
EXIT_INTERRUPTED = 130
#: SIGTERM, delivered as :class:`~sts_props.cluster.lifecycle.Terminated` (128 + SIGTERM)
EXIT_TERMINATED = Terminated.exit_code
#: stdout was closed by its reader (``sts-props check | head -1``): stopped quietly, 128 + SIGPIPE
EXIT_STDOUT_CLOSED = 141


class UsageError(ValueError):
    """A command-line value that cannot be used; the message names the option."""


#: bad input: checked before NO_CLUSTER_ERRORS, since a KubeconfigError is a ClusterError too
BAD_INPUT_ERRORS: tuple[type[Exception], ...] = (
    UsageError, ManifestError, PlanError, OpFormatError, ExpectationError, KubeconfigError,
    PatchError)
#: no cluster: it cannot run here, would not build or start, cannot be reached, was refused
NO_CLUSTER_ERRORS: tuple[type[Exception], ...] = (ClusterError, BuildError)


def exit_code_for(exc: BaseException) -> int | None:
    """The exit code for an exception a command ends with; None: not an expected error."""
    if isinstance(exc, BAD_INPUT_ERRORS):
        return EXIT_BAD_INPUT
    if isinstance(exc, NO_CLUSTER_ERRORS):
        return EXIT_NO_CLUSTER
    return None


def verdict(ok: bool) -> int:
    """EXIT_OK if the run passed, else EXIT_FAILED."""
    return EXIT_OK if ok else EXIT_FAILED
