"""Options that several ``sts-props`` subcommands share, and what they turn into.

One definition, so ``check``, ``claims``, ``explore``, ``replay`` and ``mutants`` spell and
explain the connection to an existing cluster, the backend and the Kubernetes version the same
way; :func:`model_config` and :func:`real_cluster` turn the parsed options into a model
configuration and a (not yet started) cluster::

    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> add_connection_options(parser)
    >>> args = parser.parse_args(["--kubeconfig", "kc.yaml", "--allow-existing-cluster"])
    >>> (str(args.kubeconfig), args.context, args.allow_existing_cluster)
    ('kc.yaml', None, True)

    >>> parser = argparse.ArgumentParser()
    >>> add_backend_options(parser)
    >>> args = parser.parse_args(["--backend", "kwok"])
    >>> args.backend, args.k8s_version, model_config(args).version
    ('kwok', 'v1.37.2', 'v1.37.2')
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from sts_props.cli.arguments import gate_setting, k8s_version, path, text, whole
from sts_props.cli.console import say
from sts_props.cli.exit_codes import UsageError
from sts_props.cluster.backends import make_cluster
from sts_props.cluster.kwok.patched import build_patched
from sts_props.defaults import (
    BACKENDS,
    CONTAINER_BACKENDS,
    DEFAULT_VERSION,
    MAX_DEFAULT_JOBS,
    default_jobs,
)
from sts_props.errors import PatchError
from sts_props.model import ModelConfig
from sts_props.user_files import not_regular

if TYPE_CHECKING:
    from sts_props.cluster.base import Cluster

    #: what ``ArgumentParser.add_subparsers()`` returns: each subcommand adds its parser to it
    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]

__all__ = ["MAX_REPLICAS_LIMIT", "VERSION_HELP", "add_backend_options",
           "add_connection_options", "add_gate_option", "add_image_option", "add_manifests_option",
           "add_max_replicas_option", "add_patch_option", "add_seed_option",
           "add_version_option", "build_patch", "check_cluster_inputs", "gates", "model_config",
           "patched_controller", "real_cluster", "refuse_ignored_flags", "refuse_model_jobs"]

VERSION_HELP = "Kubernetes version to model and run"

#: the largest ``--max-replicas``: the model simulates every pod, and 100 replicas already
#: cost about a second per generated scenario (5 cost a few ms)
MAX_REPLICAS_LIMIT = 100


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    """``--kubeconfig``, ``--context`` and ``--allow-existing-cluster`` (backend kubeconfig)."""
    parser.add_argument("--kubeconfig", type=path, default=None, metavar="PATH",
                        help="with --backend kubeconfig (default: $KUBECONFIG or ~/.kube/config)")
    parser.add_argument("--context", type=text, default=None,
                        help="with --backend kubeconfig: the context to use (default: the "
                             "kubeconfig's current context)")
    # The guard against clusters sts-props did not create is lifted only on request, and then
    # the run still touches nothing but the namespaces it creates and labels.
    parser.add_argument("--allow-existing-cluster", action="store_true",
                        help="with --backend kubeconfig: run on a cluster sts-props did not "
                             "create, touching only namespaces it creates and labels")


def add_version_option(parser: argparse.ArgumentParser, help: str = VERSION_HELP) -> None:
    """``--k8s-version`` (default :data:`~sts_props.defaults.DEFAULT_VERSION`), checked when
    parsed: a version the model has no configuration for is a usage error."""
    parser.add_argument("--k8s-version", type=k8s_version, default=DEFAULT_VERSION,
                        metavar="VERSION", help=help)


def add_gate_option(parser: argparse.ArgumentParser) -> None:
    """``--gate NAME=true|false`` (repeatable): a feature gate of the model and of the cluster
    sts-props starts (kwok, kwok-image); with ``--backend kubeconfig``, what the existing
    cluster has (the model takes it on trust)."""
    parser.add_argument("--gate", type=gate_setting, action="append", default=[],
                        metavar="NAME=true|false",
                        help="a feature gate for the model and the cluster sts-props starts "
                             "(repeatable), e.g. StatefulSetRecreateStrategy=true for v1.37's "
                             "alpha Recreate strategy (default: the version's defaults)")


def add_image_option(parser: argparse.ArgumentParser, help: str) -> None:
    """``--image`` for the container backends."""
    parser.add_argument("--image", type=text, default=None, help=help)


def add_manifests_option(parser: argparse.ArgumentParser, help: str) -> None:
    """``--manifests PATH`` (repeatable): manifest files or directories."""
    parser.add_argument("--manifests", type=path, action="append", default=[], metavar="PATH",
                        help=help)


def add_seed_option(parser: argparse.ArgumentParser) -> None:
    """``--seed N``: Hypothesis's random seed, for a repeat run."""
    parser.add_argument("--seed", type=whole(0), default=None, metavar="N",
                        help="random seed (a whole number >= 0), for a repeat run (default: a "
                             "new one each run)")


def add_max_replicas_option(parser: argparse.ArgumentParser) -> None:
    """``--max-replicas`` (0 .. :data:`MAX_REPLICAS_LIMIT`)."""
    parser.add_argument("--max-replicas", type=whole(0, MAX_REPLICAS_LIMIT), default=5,
                        metavar="N",
                        help=f"largest replicas value generated (0-{MAX_REPLICAS_LIMIT}: the "
                             "model simulates every pod)")


def add_backend_options(parser: argparse.ArgumentParser) -> None:
    """The backend options of ``claims`` and ``explore``: ``--backend`` (the model, or also a
    cluster), the connection options, ``--k8s-version``, ``--manifests`` and ``--seed``."""
    parser.add_argument("--backend", default="model", choices=list(BACKENDS),
                        help="model only (default), or also run on a cluster started for this "
                             "run (kwok, kwok-image, k3s) or an existing one from a kubeconfig")
    add_connection_options(parser)
    add_version_option(parser)
    add_manifests_option(parser, "base manifests (file or directory, repeatable; default: the "
                                 "seed's Redis StatefulSet)")
    add_seed_option(parser)


def add_artifacts_option(parser: argparse.ArgumentParser, when: str = "") -> None:
    """``--artifacts DIR``: where a failing run's files go (``when``: e.g. "on a cluster: ")."""
    parser.add_argument("--artifacts", type=path, default=Path("artifacts"), metavar="DIR",
                        help=f"{when}where a failing run's files go, in a new directory "
                             "(created if missing)")


def add_patch_option(parser: argparse.ArgumentParser,
                     when: str = "with --backend kwok: run") -> None:
    """``--patch FILE.diff``: run a kube-controller-manager built from that diff (kwok only).
    ``when`` starts the help: when the command uses the diff, and what it does with it."""
    parser.add_argument("--patch", type=path, default=None, metavar="FILE.diff",
                        help=f"{when} a kube-controller-manager built from "
                             "k8s.io/kubernetes with this unified diff applied (paths from the "
                             "repository root, a/ b/ prefixes as git writes them; built once, "
                             "cached by the diff's hash)")


def add_jobs_option(parser: argparse.ArgumentParser, what: str) -> None:
    """``--jobs N``: cluster scenarios side by side (:mod:`sts_props.concurrent_runs`)."""
    parser.add_argument("--jobs", type=whole(1), default=None, metavar="N",
                        help=f"{what}run up to N scenarios side by side on the cluster, each in "
                             "its own namespace (one with a fault that disturbs the whole "
                             "cluster runs alone); default: three per core, at most "
                             f"{MAX_DEFAULT_JOBS}, on a cluster sts-props starts, 1 on an "
                             "existing one; 1 runs them one at a time")


def refuse_model_jobs(args: argparse.Namespace, what: str) -> None:
    """``--jobs`` above 1 with ``--backend model`` is bad input, not silence: the model runs
    one scenario at a time; ``what`` says what the flag does on a cluster."""
    if args.jobs is not None and args.jobs > 1 and args.backend == "model":
        raise UsageError(f"--jobs {args.jobs} {what}: it needs a cluster backend")


def jobs_of(args: argparse.Namespace, backend: str) -> int:
    """``--jobs`` as given, else the default for ``backend`` (:func:`default_jobs`)."""
    given: int | None = args.jobs
    return given if given is not None else default_jobs(backend)


def build_patch(patch: Path, version: str) -> Path:
    """Build (or find cached) the controller of the diff file ``patch``; its path.

    A file that cannot be read, or a diff that does not apply, is bad input (one line).
    """
    why = not_regular(patch)
    if why is not None:
        raise UsageError(f"--patch {patch}: {why}")
    try:
        diff_text = patch.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--patch {patch}: cannot read it: {exc}") from None
    try:
        return build_patched(version, diff_text, progress=say).path
    except PatchError as exc:
        raise PatchError(f"--patch {patch}: {exc}") from None


def patched_controller(args: argparse.Namespace, backend: str | None = None,
                       version: str | None = None) -> Path | None:
    """The controller built from ``--patch`` (``None`` without it) for ``backend`` and
    ``version`` (default: ``--backend``, ``--k8s-version``); only kwok can run one."""
    patch = getattr(args, "patch", None)
    if patch is None:
        return None
    backend = backend or args.backend
    if backend != "kwok":
        raise UsageError(f"--patch needs --backend kwok: the {backend} backend's "
                         "kube-controller-manager cannot be replaced")
    return build_patch(patch, version or args.k8s_version)


def refuse_ignored_flags(args: argparse.Namespace) -> None:
    """A flag the chosen backend would ignore is bad input, not silence: ``--kubeconfig``,
    ``--context`` and ``--allow-existing-cluster`` belong to ``--backend kubeconfig``,
    ``--image`` to kwok-image and k3s, ``--min-ops`` (check) and ``--samples`` (claims) to a
    cluster backend. ``doctor`` names a list of backends (empty: all of
    them): ``--image`` needs one that runs an image. ``replay`` without ``--backend`` runs the
    plan's backend, which is not known here: it is left alone.

    >>> parser = argparse.ArgumentParser()
    >>> add_connection_options(parser)
    >>> _ = parser.add_argument("--backend", default="model")
    >>> refuse_ignored_flags(parser.parse_args(["--kubeconfig", "kc.yaml"]))
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sts_props.cli.exit_codes.UsageError: --kubeconfig is for --backend kubeconfig; --backend ...
    """
    backend = getattr(args, "backend", None)
    if isinstance(backend, list):
        if (getattr(args, "image", None) is not None and backend
                and not set(backend) & set(CONTAINER_BACKENDS)):
            raise UsageError(f"--image is for --backend kwok-image or k3s; --backend "
                             f"{', '.join(backend)} would ignore it")
        return
    if not isinstance(backend, str):
        return
    if backend != "kubeconfig":
        for flag, given in (("--kubeconfig", getattr(args, "kubeconfig", None) is not None),
                            ("--context", getattr(args, "context", None) is not None),
                            ("--allow-existing-cluster",
                             bool(getattr(args, "allow_existing_cluster", False)))):
            if given:
                raise UsageError(f"{flag} is for --backend kubeconfig; --backend {backend} "
                                 "would ignore it")
    if getattr(args, "image", None) is not None and backend not in CONTAINER_BACKENDS:
        raise UsageError(f"--image is for --backend kwok-image or k3s; --backend {backend} "
                         "would ignore it")
    if backend == "model":
        for flag, dest in (("--min-ops", "min_ops"), ("--samples", "samples")):
            if getattr(args, dest, None) is not None:
                raise UsageError(f"{flag} is for a cluster backend; --backend model would "
                                 "ignore it")


def model_config(args: argparse.Namespace) -> ModelConfig:
    """The model configuration for ``--k8s-version`` and ``--gate``; a version that is not
    one, or a gate that version does not have, is bad input."""
    try:
        return ModelConfig.for_version(args.k8s_version, **gates(args))
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def gates(args: argparse.Namespace) -> dict[str, bool]:
    """The ``--gate`` settings (the last of each name wins), if the subcommand has the option."""
    return dict(getattr(args, "gate", None) or [])


def check_cluster_inputs(args: argparse.Namespace) -> None:
    """On a cluster ``--backend``, what the cluster is given (a kubeconfig file and context)
    is checked now, without starting or reaching it: ``explore`` and ``claims`` run their
    model tier, minutes, before the cluster starts, and once found a missing kubeconfig only
    after it."""
    if args.backend != "model":
        real_cluster(args).check_inputs()


def real_cluster(args: argparse.Namespace) -> Cluster:
    """The (not yet started) cluster of ``--backend``, with whichever of ``--k8s-version``,
    ``--image``, ``--patch`` and the connection options the subcommand has."""
    return make_cluster(args.backend, args.k8s_version, progress=say,
                        kubeconfig=getattr(args, "kubeconfig", None),
                        context=getattr(args, "context", None),
                        allow_existing=getattr(args, "allow_existing_cluster", False),
                        image=getattr(args, "image", None),
                        controller_manager=patched_controller(args),
                        feature_gates=gates(args))
