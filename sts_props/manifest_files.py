"""Manifest files and directories as users name them: read, sorted by kind, and checked.

Every problem with the input is a :class:`~sts_props.scenario.ManifestError` whose message is
one line naming the file (and the document, in a multi-document file), the field path and the
rule: the CLI prints it and exits 2. What is checked, in order:

* reading: each path is a file or a directory of ``*.yaml``/``*.yml``/``*.json`` files;
  unreadable entries, non-regular files, non-UTF-8 text and bad YAML are refused;
* sorting: every document has a ``kind``; kinds sts-props does not use (a ConfigMap, a
  Deployment) are ignored, with one note;
* types: the fields sts-props reads have the types the apiserver decodes
  (:func:`~sts_props.manifest_shapes.type_problems`), ``apiVersion`` is the one sts-props
  speaks (apps/v1 for a StatefulSet);
* rules: the StatefulSet passes defaulting and create validation (VAL-*) for the version, the
  Service and StorageClass the apiserver's checks and what the scenario needs from them
  (headless, selecting the pods), and the model can run the set (at most 1000 replicas).

Null fields are dropped from what is loaded, as the apiserver does (null is absent).

:func:`load_manifests` reads the manifests of *one* scenario (exactly one StatefulSet);
:func:`validate_manifests` checks every StatefulSet of the input separately (``sts-props
validate``).

>>> from pathlib import Path
>>> from sts_props.model import ModelConfig
>>> m = load_manifests([Path("sts_props/data")], ModelConfig.for_version("v1.37.2"))
>>> m.statefulset["metadata"]["name"]
'redis'
>>> report = validate_manifests([Path("sts_props/data")], ModelConfig())
>>> report.ok, [r.line() for r in report.statefulsets]
(True, ['ok: StatefulSet redis is valid for Kubernetes v1.37.2'])
"""

from __future__ import annotations

import re
import stat
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import yaml

from sts_props.manifest_shapes import (
    FieldProblem,
    api_version_problems,
    harness_problems,
    service_problems,
    show_value,
    storageclass_problems,
    type_problems,
    without_nulls,
)
from sts_props.model import ModelConfig
from sts_props.model.validation import default_statefulset, validate_create
from sts_props.scenario import ManifestError, Manifests
from sts_props.user_files import NOT_REGULAR, not_regular

SUFFIXES = (".yaml", ".yml", ".json")
_PLAIN = re.compile(r"[\w.:/-]+(\.\.\.)?", re.ASCII)
#: the kinds a scenario uses; documents of other kinds are ignored (with a note)
KINDS = ("StatefulSet", "Service", "StorageClass")
EXIT_OK, EXIT_BAD_INPUT = 0, 2
#: at most this many problems are spelled out in one message; the rest are counted
SHOWN_PROBLEMS = 3


@dataclass(frozen=True)
class Document:
    """One YAML document of a manifest file (a file may hold several, ``---``-separated)."""

    path: Path
    index: int
    count: int
    body: dict[str, Any]

    @property
    def kind(self) -> str:
        kind = self.body.get("kind")
        return kind if isinstance(kind, str) else ""

    @property
    def name(self) -> str:
        meta = self.body.get("metadata")
        name = meta.get("name") if isinstance(meta, dict) else None
        return name if isinstance(name, str) else ""

    def where(self) -> str:
        """The file, and which document of it if it holds several."""
        return str(self.path) if self.count == 1 else f"{self.path} (document {self.index + 1})"

    def label(self) -> str:
        """``StatefulSet web``, or just the kind when the name is missing. Odd names and kinds
        are quoted (a message stays one line) and a name too long to be valid is shortened."""
        name = _plain(self.name if len(self.name) <= 63 else self.name[:30] + "...")
        kind = _plain(self.kind)
        return f"{kind} {name}" if name else kind


def _plain(text: str) -> str:
    """``text`` as it is if it is a plain word, else quoted with escapes (so one line)."""
    return text if _PLAIN.fullmatch(text) or not text else repr(text)


@dataclass(frozen=True)
class SortedDocuments:
    """The documents of an input, by kind; ``ignored`` holds the kinds sts-props does not use."""

    statefulsets: tuple[Document, ...]
    services: tuple[Document, ...]
    storageclasses: tuple[Document, ...]
    ignored: tuple[Document, ...]

    def note(self) -> str:
        """One line about the ignored documents ("" if none)."""
        if not self.ignored:
            return ""
        shown = [f"{d.label()} ({d.where()})" for d in self.ignored[:SHOWN_PROBLEMS]]
        more = len(self.ignored) - len(shown)
        what = ", ".join(shown) + (f" and {more} more" if more else "")
        plural = "s" if len(self.ignored) > 1 else ""
        return (f"ignoring {len(self.ignored)} document{plural} of a kind sts-props does not use "
                f"(it uses {', '.join(KINDS)}): {what}")


# -- reading ---------------------------------------------------------------------------------------
def _fail(path: Path, exc: OSError) -> ManifestError:
    return ManifestError(f"{path}: cannot read: {exc.strerror or type(exc).__name__}")


def manifest_files(paths: Sequence[Path]) -> list[Path]:
    """The files ``paths`` name: files as given, directories as their manifest files.

    A directory entry must be a regular file (or a link to one): reading a FIFO would block.
    """
    files: list[Path] = []
    for path in paths:
        try:
            is_dir = path.is_dir()
            exists = is_dir or path.exists()
        except OSError as exc:
            raise _fail(path, exc) from None
        if not exists:
            raise ManifestError(f"{path}: no such file or directory")
        if not is_dir:
            why = not_regular(path)
            if why is not None:
                raise ManifestError(f"{path}: {why}")
            files.append(path)
            continue
        try:
            found = sorted(p for p in path.iterdir() if p.suffix in SUFFIXES)
        except OSError as exc:
            raise _fail(path, exc) from None
        if not found:
            raise ManifestError(f"{path}: no .yaml, .yml or .json files")
        for entry in found:
            try:
                mode = entry.stat().st_mode
            except OSError as exc:
                if entry.is_symlink():
                    raise ManifestError(f"{entry}: a broken symbolic link") from None
                raise _fail(entry, exc) from None
            if stat.S_ISDIR(mode):
                raise ManifestError(f"{entry}: a directory, not a manifest file")
            if not stat.S_ISREG(mode):
                raise ManifestError(f"{entry}: {NOT_REGULAR}")
        files += found
    return files


def read_documents(paths: Sequence[Path]) -> list[Document]:
    """Every YAML document of the files ``paths`` name, in order; each must be a mapping."""
    docs: list[Document] = []
    for path in manifest_files(paths):
        bodies = _parse(path)
        docs += [Document(path, i, len(bodies), body) for i, body in enumerate(bodies)]
    return docs


def _parse(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise _fail(path, exc) from None
    except UnicodeDecodeError:
        raise ManifestError(f"{path}: not UTF-8 text") from None
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ManifestError(f"{path}: not valid YAML{where}") from None
    except (ValueError, RecursionError) as exc:
        # PyYAML's own limits: an integer of more than 4300 digits, nesting too deep
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ManifestError(f"{path}: not usable YAML: {reason}") from None
    for i, doc in enumerate(docs):
        if not isinstance(doc, dict):
            which = f" (document {i + 1})" if len(docs) > 1 else ""
            raise ManifestError(f"{path}{which}: a manifest is a mapping, got "
                                f"{show_value(doc)}")
    return docs


def sort_documents(docs: Sequence[Document]) -> SortedDocuments:
    """Sort by kind; a document without a (string) kind is not a manifest."""
    by_kind: dict[str, list[Document]] = {kind: [] for kind in KINDS}
    ignored: list[Document] = []
    for doc in docs:
        kind = doc.body.get("kind")
        if kind is None or kind == "":
            raise ManifestError(f"{doc.where()}: kind: required (every manifest names its "
                                "apiVersion and kind)")
        if not isinstance(kind, str):
            raise ManifestError(f"{doc.where()}: kind: must be a string, got "
                                f"{show_value(kind)}")
        by_kind.get(kind, ignored).append(doc)
    return SortedDocuments(tuple(by_kind["StatefulSet"]), tuple(by_kind["Service"]),
                           tuple(by_kind["StorageClass"]), tuple(ignored))


# -- checking --------------------------------------------------------------------------------------
def document_problems(doc: Document, config: ModelConfig,
                      statefulset: dict[str, Any] | None = None) -> list[FieldProblem]:
    """Why ``doc`` (a StatefulSet, Service or StorageClass) cannot be used; [] if it can.

    ``statefulset`` is the set a Service serves (its selector must select the set's pods).
    Types come first: the rules assume well-typed fields.
    """
    kind = doc.kind
    problems = api_version_problems(doc.body, kind, required=True)
    problems += type_problems(doc.body, kind)
    if problems:
        return problems
    body = without_nulls(doc.body)  # null is absent, as the apiserver reads it
    if kind == "StatefulSet":
        causes = validate_create(default_statefulset(body, config), config)
        return ([FieldProblem(c.field, c.message, c.rule) for c in causes]
                + harness_problems(body))
    if kind == "Service":
        return service_problems(body, statefulset)
    return storageclass_problems(body)


def describe_problems(doc: Document, problems: Sequence[FieldProblem]) -> str:
    """One line: the document, then its first problems (the rest counted).

    >>> doc = Document(Path("sts.yaml"), 0, 1, {"kind": "StatefulSet",
    ...                                          "metadata": {"name": "web"}})
    >>> describe_problems(doc, [FieldProblem("spec.replicas", "must be an integer, got 'x'")])
    "sts.yaml: invalid StatefulSet web: spec.replicas: must be an integer, got 'x'"
    """
    shown = "; ".join(p.describe() for p in problems[:SHOWN_PROBLEMS])
    more = len(problems) - SHOWN_PROBLEMS
    what = "cannot use" if all(p.rule == "harness" for p in problems) else "invalid"
    return (f"{doc.where()}: {what} {doc.label()}: {shown}"
            + (f" (and {more} more)" if more > 0 else ""))


def _governed(service: Document, sets: Sequence[Document]) -> Document | None:
    """The set a Service serves: the one naming it as serviceName, else the only set."""
    for s in sets:
        spec = s.body.get("spec")
        if isinstance(spec, dict) and spec.get("serviceName") == service.name and service.name:
            return s
    return sets[0] if len(sets) == 1 else None


def _body_if_typed(doc: Document | None) -> dict[str, Any] | None:
    """A set's body if it is well-typed (only then may a Service's check read it)."""
    if doc is None or type_problems(doc.body, "StatefulSet"):
        return None
    return doc.body


def _require_a_set(found: SortedDocuments, paths: Sequence[Path]) -> None:
    if found.statefulsets:
        return
    names = ", ".join(str(p) for p in paths)
    others = [d.label() for d in (*found.services, *found.storageclasses, *found.ignored)]
    only = f" (found only {', '.join(others[:SHOWN_PROBLEMS])}" + (
        f" and {len(others) - SHOWN_PROBLEMS} more)" if len(others) > SHOWN_PROBLEMS else ")")
    raise ManifestError(f"{names}: no StatefulSet among the manifests" + (only if others else ""))


def _note_to_stderr(note: str) -> None:
    print(f"sts-props: note: {note}", file=sys.stderr)


# -- one scenario ----------------------------------------------------------------------------------
def load_manifests(paths: Sequence[Path], config: ModelConfig,
                   notes: Callable[[str], None] | None = None) -> Manifests:
    """Load the manifests of one scenario from files or directories, checked (see above).

    Exactly one StatefulSet, at most one Service and one StorageClass. Documents of other
    kinds are ignored and ``notes`` is told so once (default: one line on stderr). Raises
    :class:`ManifestError` with a one-line message naming the file, the field and the rule.
    """
    found = sort_documents(read_documents(paths))
    _require_a_set(found, paths)
    if found.ignored:
        (notes or _note_to_stderr)(found.note())
    if len(found.statefulsets) > 1:
        sets = ", ".join(f"{_plain(d.name) or '(unnamed)'} in {d.where()}"
                         for d in found.statefulsets)
        raise ManifestError(f"{len(found.statefulsets)} StatefulSets ({sets}); a scenario runs "
                            "exactly one: name its file (`sts-props validate` checks each)")
    for kind, docs in (("Service", found.services), ("StorageClass", found.storageclasses)):
        if len(docs) > 1:
            raise ManifestError(f"{docs[1].where()}: a second {kind} (the first is in "
                                f"{docs[0].where()}); a scenario has one of each")
    sts = found.statefulsets[0]
    for doc in (sts, *found.services, *found.storageclasses):
        problems = document_problems(doc, config, sts.body)
        if problems:
            raise ManifestError(describe_problems(doc, problems))
    service = without_nulls(found.services[0].body) if found.services else None
    storageclass = without_nulls(found.storageclasses[0].body) if found.storageclasses else None
    return Manifests.of(without_nulls(sts.body), service, storageclass)


# -- every StatefulSet of an input (sts-props validate) --------------------------------------------
@dataclass(frozen=True)
class DocumentResult:
    """What checking one document found."""

    document: Document
    problems: tuple[FieldProblem, ...]
    version: str

    @property
    def ok(self) -> bool:
        return not self.problems

    def line(self, with_file: bool = False) -> str:
        """``ok: StatefulSet web is valid ...`` or the one-line error."""
        if self.problems:
            return describe_problems(self.document, self.problems)
        where = f" ({self.document.where()})" if with_file else ""
        return f"ok: {self.document.label()} is valid for Kubernetes {self.version}{where}"


@dataclass(frozen=True)
class ValidationReport:
    """Every StatefulSet, Service and StorageClass of an input, each checked on its own."""

    results: tuple[DocumentResult, ...]
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def statefulsets(self) -> tuple[DocumentResult, ...]:
        return tuple(r for r in self.results if r.document.kind == "StatefulSet")

    def emit(self, out: TextIO | None = None, err: TextIO | None = None) -> int:
        """Print a line per StatefulSet (stdout if valid, stderr if not), one per invalid
        Service or StorageClass and the notes (stderr); return the exit code (0, or 2)."""
        out, err = out or sys.stdout, err or sys.stderr
        for note in self.notes:
            print(f"sts-props: note: {note}", file=err)
        several = len(self.statefulsets) > 1
        for result in self.results:
            if not result.ok:
                print(f"sts-props: error: {result.line()}", file=err)
            elif result.document.kind == "StatefulSet":
                print(result.line(with_file=several), file=out)
        return EXIT_OK if self.ok else EXIT_BAD_INPUT


def validate_manifests(paths: Sequence[Path], config: ModelConfig) -> ValidationReport:
    """Check every document of the input separately: each StatefulSet (types, VAL-*, what the
    model can run), and each Service (against the set it serves) and StorageClass.

    Reading problems (a missing or unreadable file, bad YAML, a document without a kind, no
    StatefulSet at all) still raise :class:`ManifestError`.
    """
    found = sort_documents(read_documents(paths))
    _require_a_set(found, paths)
    results = [DocumentResult(d, tuple(document_problems(d, config)), config.version)
               for d in found.statefulsets]
    for svc in found.services:
        served = _body_if_typed(_governed(svc, found.statefulsets))
        results.append(DocumentResult(svc, tuple(document_problems(svc, config, served)),
                                      config.version))
    results += [DocumentResult(d, tuple(document_problems(d, config)), config.version)
                for d in found.storageclasses]
    notes = (found.note(),) if found.ignored else ()
    return ValidationReport(tuple(results), notes)
