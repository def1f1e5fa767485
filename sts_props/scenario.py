"""Scenario = manifests + ops: plain, immutable data that round-trips through YAML.

>>> from sts_props.ops import Create, Scale, Settle
>>> sc = Scenario(Manifests.seed(), (Create(), Scale(replicas=2), Settle()))
>>> Scenario.from_yaml(sc.to_yaml()) == sc
True
>>> sc.manifests.set_name
'redis'

Manifests are kept as canonical JSON text inside the frozen record, so a Scenario is hashable
and nobody can mutate a shared dict by accident; the properties hand out fresh copies.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from sts_props.errors import ManifestError as ManifestError  # defined once there
from sts_props.ops import Op, OpFormatError, op_from_dict


def _canon(obj: dict[str, Any] | None) -> str:
    return "" if obj is None else json.dumps(obj, sort_keys=True, separators=(",", ":"))


def _uncanon(text: str) -> dict[str, Any] | None:
    return None if not text else dict(json.loads(text))


@dataclass(frozen=True)
class Manifests:
    """A StatefulSet plus its headless Service and StorageClass (both optional)."""

    statefulset_json: str
    service_json: str = ""
    storageclass_json: str = ""

    @staticmethod
    def of(
        statefulset: dict[str, Any],
        service: dict[str, Any] | None = None,
        storageclass: dict[str, Any] | None = None,
    ) -> Manifests:
        return Manifests(_canon(statefulset), _canon(service), _canon(storageclass))

    @property
    def statefulset(self) -> dict[str, Any]:
        sts = _uncanon(self.statefulset_json)
        assert sts is not None
        return sts

    @property
    def service(self) -> dict[str, Any] | None:
        return _uncanon(self.service_json)

    @property
    def storageclass(self) -> dict[str, Any] | None:
        return _uncanon(self.storageclass_json)

    @property
    def set_name(self) -> str:
        return str(self.statefulset.get("metadata", {}).get("name", ""))

    def with_statefulset(self, statefulset: dict[str, Any]) -> Manifests:
        return Manifests(_canon(statefulset), self.service_json, self.storageclass_json)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"statefulset": self.statefulset}
        if self.service is not None:
            out["service"] = self.service
        if self.storageclass is not None:
            out["storageClass"] = self.storageclass
        return out

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Manifests:
        return Manifests.of(data["statefulset"], data.get("service"), data.get("storageClass"))

    @staticmethod
    def seed() -> Manifests:
        """The seed tutorial's Redis StatefulSet, headless Service and StorageClass, as-is."""
        base = resources.files("sts_props") / "data"
        docs = [
            yaml.safe_load((base / name).read_text(encoding="utf-8"))
            for name in (
                "redis-statefulset-demo.yaml",
                "headlessservice-demo.yaml",
                "storageclass-demo.yaml",
            )
        ]
        return Manifests.of(docs[0], docs[1], docs[2])

    @staticmethod
    def load_dir(directory: Path) -> Manifests:
        """Read every ``*.yaml``/``*.yml``/``*.json`` file of a directory (the seed layout)."""
        if not directory.is_dir():
            raise ManifestError(f"{directory}: not a directory")
        files = sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml", ".json"))
        if not files:
            raise ManifestError(f"{directory}: no .yaml, .yml or .json files")
        return Manifests.load_files(files)

    @staticmethod
    def load_files(files: Iterable[Path]) -> Manifests:
        """Sort documents by kind; exactly one StatefulSet must be among them."""
        found: dict[str, tuple[Path, dict[str, Any]]] = {}
        for path in files:
            for doc in _read_documents(path):
                kind = doc.get("kind")
                if kind not in ("StatefulSet", "Service", "StorageClass"):
                    raise ManifestError(
                        f"{path}: kind {kind!r} is not used by sts-props "
                        "(expected StatefulSet, Service or StorageClass)"
                    )
                if kind in found:
                    raise ManifestError(
                        f"{path}: a second {kind} (the first is in {found[kind][0]}); "
                        "a scenario has one of each"
                    )
                found[kind] = (path, doc)
        if "StatefulSet" not in found:
            names = ", ".join(str(p) for p in files)
            raise ManifestError(f"{names}: no StatefulSet among the manifests")
        return Manifests.of(
            found["StatefulSet"][1],
            found.get("Service", (None, None))[1],
            found.get("StorageClass", (None, None))[1],
        )


def _read_documents(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ManifestError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ManifestError(f"{path}: not UTF-8 text") from None
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ManifestError(f"{path}: not valid YAML{where}") from None
    for doc in docs:
        if not isinstance(doc, dict):
            raise ManifestError(f"{path}: a document is a {type(doc).__name__}, not a mapping")
    return docs


@dataclass(frozen=True)
class Scenario:
    """Manifests plus the ops to run on them, in order."""

    manifests: Manifests
    ops: tuple[Op, ...] = field(default=())
    name: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "manifests": self.manifests.to_dict(),
            "ops": [op.to_dict() for op in self.ops],
        }

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Scenario:
        try:
            ops = tuple(op_from_dict(d) for d in data.get("ops", ()))
        except OpFormatError as exc:
            raise ManifestError(f"plan: {exc}") from None
        return Scenario(Manifests.from_dict(data["manifests"]), ops, str(data.get("name", "")))

    @staticmethod
    def from_yaml(text: str) -> Scenario:
        return Scenario.from_dict(yaml.safe_load(text))
