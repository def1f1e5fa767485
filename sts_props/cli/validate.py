"""``sts-props validate``: are these manifests valid, as the apiserver would judge them?

Usage::

    sts-props validate ../shared/seed/redis-statefulset-demo.yaml
    sts-props validate manifests/ --k8s-version v1.36.3

Exit code 0 with one ``ok:`` line; 2 with one line on stderr naming the file and the rule
(``[VAL-5]``, ...) when a manifest is not valid.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from sts_props.cli.arguments import add_command, path
from sts_props.cli.options import add_version_option, model_config
from sts_props.manifest_files import validate_manifests

if TYPE_CHECKING:
    from sts_props.cli.options import Subparsers

__all__ = ["add_parser", "run"]


def add_parser(sub: Subparsers) -> None:
    """Register ``validate``."""
    validate = add_command(sub, "validate", "validate manifest files like the apiserver would", [
        "sts-props validate ../shared/seed/redis-statefulset-demo.yaml",
        "sts-props validate manifests/ --k8s-version v1.36.3"])
    validate.add_argument("paths", type=path, nargs="+", metavar="PATH",
                          help="manifest files or directories (a StatefulSet, optionally its "
                               "headless Service and StorageClasses)")
    add_version_option(validate, "Kubernetes version whose validation rules apply")


def run(args: argparse.Namespace) -> int:
    """Validate; a manifest that is not valid raises ManifestError (exit 2)."""
    config = model_config(args)
    return validate_manifests(args.paths, config).emit()  # each StatefulSet on its own
