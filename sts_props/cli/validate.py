"""``sts-props validate``: are these manifests valid, as the apiserver would judge them?

Usage::

    sts-props validate ../shared/seed/redis-statefulset-demo.yaml
    sts-props validate manifests/ --k8s-version v1.36.3

Exit code 0 with one ``ok:`` line; 2 with one line on stderr naming the file and the rule
(``[VAL-5]``, ...) when a manifest is not valid.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from sts_props.cli.options import add_version_option, model_config
from sts_props.manifest_files import validate_manifests

if TYPE_CHECKING:
    from sts_props.cli.options import Subparsers

__all__ = ["add_parser", "run"]


def add_parser(sub: Subparsers) -> None:
    """Register ``validate``."""
    validate = sub.add_parser("validate", help="validate manifest files like the apiserver would")
    validate.add_argument("paths", type=Path, nargs="+")
    add_version_option(validate)


def run(args: argparse.Namespace) -> int:
    """Validate; a manifest that is not valid raises ManifestError (exit 2)."""
    config = model_config(args)
    return validate_manifests(args.paths, config).emit()  # each StatefulSet on its own
