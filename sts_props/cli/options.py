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

from sts_props.cli.console import say
from sts_props.cli.exit_codes import UsageError
from sts_props.cluster.backends import make_cluster
from sts_props.cluster.kwok.patched import build_patched_controller
from sts_props.defaults import BACKENDS, DEFAULT_VERSION
from sts_props.errors import PatchError
from sts_props.model import ModelConfig

if TYPE_CHECKING:
    from sts_props.cluster.base import Cluster

    #: what ``ArgumentParser.add_subparsers()`` returns: each subcommand adds its parser to it
    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]

__all__ = ["VERSION_HELP", "add_backend_options", "add_connection_options", "add_patch_option",
           "add_version_option", "build_patch", "model_config", "patched_controller",
           "real_cluster"]

VERSION_HELP = f"Kubernetes version to model and run (default {DEFAULT_VERSION})"


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    """``--kubeconfig``, ``--context`` and ``--allow-existing-cluster`` (backend kubeconfig)."""
    parser.add_argument("--kubeconfig", type=Path, default=None,
                        help="with --backend kubeconfig (default: $KUBECONFIG or ~/.kube/config)")
    parser.add_argument("--context", default=None, help="with --backend kubeconfig")
    # The guard against clusters sts-props did not create is lifted only on request, and then
    # the run still touches nothing but the namespaces it creates and labels.
    parser.add_argument("--allow-existing-cluster", action="store_true",
                        help="with --backend kubeconfig: run on a cluster sts-props did not "
                             "create, touching only namespaces it creates and labels")


def add_version_option(parser: argparse.ArgumentParser, help: str | None = None) -> None:
    """``--k8s-version`` (default :data:`~sts_props.defaults.DEFAULT_VERSION`)."""
    parser.add_argument("--k8s-version", default=DEFAULT_VERSION, help=help)


def add_backend_options(parser: argparse.ArgumentParser) -> None:
    """The backend options of ``claims`` and ``explore``: ``--backend`` (the model, or also a
    cluster), the connection options, ``--k8s-version``, ``--manifests`` and ``--seed``."""
    parser.add_argument("--backend", default="model", choices=list(BACKENDS),
                        help="model only (default), or also run on a cluster started for this "
                             "run (kwok, kwok-image, k3s) or an existing one from a kubeconfig")
    add_connection_options(parser)
    add_version_option(parser, VERSION_HELP)
    parser.add_argument("--manifests", type=Path, action="append", default=[],
                        help="base manifests (file or directory, repeatable; default: the "
                             "seed's Redis StatefulSet)")
    parser.add_argument("--seed", type=int, default=None, help="random seed, for a repeat run")


def add_patch_option(parser: argparse.ArgumentParser) -> None:
    """``--patch FILE.diff``: run a kube-controller-manager built from that diff (kwok only)."""
    parser.add_argument("--patch", type=Path, default=None, metavar="FILE.diff",
                        help="with --backend kwok: run a kube-controller-manager built from "
                             "k8s.io/kubernetes with this unified diff applied (paths from the "
                             "repository root, a/ b/ prefixes as git writes them; built once, "
                             "cached by the diff's hash)")


def build_patch(path: Path, version: str) -> Path:
    """Build (or find cached) the controller of the diff file ``path``; its path.

    A file that cannot be read, or a diff that does not apply, is bad input (one line).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--patch {path}: cannot read it: {exc}") from None
    try:
        return build_patched_controller(version, text, progress=say)
    except PatchError as exc:
        raise PatchError(f"--patch {path}: {exc}") from None


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


def model_config(args: argparse.Namespace) -> ModelConfig:
    """The model configuration for ``--k8s-version``; a version that is not one is bad input."""
    try:
        return ModelConfig.for_version(args.k8s_version)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def real_cluster(args: argparse.Namespace) -> Cluster:
    """The (not yet started) cluster of ``--backend``, with whichever of ``--k8s-version``,
    ``--image``, ``--patch`` and the connection options the subcommand has."""
    return make_cluster(args.backend, args.k8s_version, progress=say,
                        kubeconfig=getattr(args, "kubeconfig", None),
                        context=getattr(args, "context", None),
                        allow_existing=getattr(args, "allow_existing_cluster", False),
                        image=getattr(args, "image", None),
                        controller_manager=patched_controller(args))
