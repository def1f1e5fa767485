"""Manifest files and directories as users name them, loaded and validated (VAL-*).

>>> from pathlib import Path
>>> from sts_props.model import ModelConfig
>>> m = load_manifests([Path("sts_props/data")], ModelConfig.for_version("v1.37.2"))
>>> m.statefulset["metadata"]["name"]
'redis'
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import yaml

from sts_props.model import ModelConfig
from sts_props.model.validation import default_statefulset, validate_create
from sts_props.scenario import ManifestError, Manifests


def load_manifests(paths: Sequence[Path], config: ModelConfig) -> Manifests:
    """Load manifests from files or directories and validate the StatefulSet (VAL-*).

    Raises :class:`ManifestError` with a one-line message naming the file and the rule.
    """
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml", ".json"))
            if not found:
                raise ManifestError(f"{path}: no .yaml, .yml or .json files")
            files += found
        elif path.exists():
            files.append(path)
        else:
            raise ManifestError(f"{path}: no such file or directory")
    manifests = Manifests.load_files(files)
    causes = validate_create(default_statefulset(manifests.statefulset, config), config)
    if causes:
        source = _file_of_statefulset(files)
        first = causes[0]
        more = f" (and {len(causes) - 1} more)" if len(causes) > 1 else ""
        raise ManifestError(f"{source}: invalid StatefulSet: {first.field}: {first.message} "
                            f"[{first.rule}]{more}")
    return manifests


def _file_of_statefulset(files: Sequence[Path]) -> Path:
    for path in files:
        try:
            docs = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        except (OSError, yaml.YAMLError, UnicodeDecodeError):
            continue
        if any(isinstance(d, dict) and d.get("kind") == "StatefulSet" for d in docs):
            return path
    return files[0]
