"""Issue 14, item 1: no input makes the library or the CLI fail other than as documented.

Valid inputs (the seed, generated manifests, generated plans) are mutated at every path (wrong
types, null, missing and extra fields, huge numbers, odd strings), written to files and read
back. Property: the library accepts the input or raises one of the documented input errors
(:class:`~sts_props.scenario.ManifestError`, :class:`~sts_props.plan.PlanError`) with a
single-line message that names the file, and for a type error a field path at or above the
mutated one; an accepted plan runs on the model (or stops with a PlanError). The CLI, on a
subset: exit code 0, 1 or 2, no traceback, and nothing written outside temporary directories.

Model only and quick: about 2,300 inputs in well under a minute. These tests keep their own
example database in ``.hypothesis/fuzz`` so that a failure found here is replayed first.
"""

from __future__ import annotations

import contextlib
import copy
import io
import re
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase

from sts_props.cli import main
from sts_props.manifest_files import load_manifests, validate_manifests
from sts_props.manifest_shapes import MAX_MODEL_REPLICAS
from sts_props.model import ModelConfig
from sts_props.model.runner import MAX_SETTLE_STEPS
from sts_props.ops import Create, Scale, Settle
from sts_props.plan import Plan, PlanError
from sts_props.replay import check_promotable, run_plan_on_model
from sts_props.scenario import ManifestError, Manifests, Scenario
from sts_props.strategies.chooser import Interleaving
from sts_props.strategies.manifests import valid_statefulsets
from sts_props.strategies.ops import scenarios

REPO = Path(__file__).resolve().parents[1]
CONFIG = ModelConfig.for_version("v1.37.2")


def _fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples,
        database=DirectoryBasedExampleDatabase(str(REPO / ".hypothesis" / "fuzz")),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# -- mutations -------------------------------------------------------------------------------
Path_ = tuple[str | int, ...]

ODD_STRINGS = ["", " ", "\n", "a\nb", "None", "null", "0", "-1", "1e3", "0x1F", "3.5", "50%",
               "200%", "RollingUpdate", "OnDelete", "Parallel", "Always", "true", "A_B", "a.b",
               "\u2028", "ü", "x" * 300, "apps/v1beta1", "v1", "StatefulSet"]
HUGE = [2**31 - 1, 2**31, -(2**31) - 1, 2**63, 2**64, 10**30, -(10**30), MAX_MODEL_REPLICAS + 1]
FIELD_NAMES = ["replicas", "spec", "metadata", "name", "kind", "apiVersion", "selector",
               "template", "containers", "ports", "extra", "", "op", "ordinal", "value"]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 8), st.sampled_from(HUGE),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(ODD_STRINGS),
    st.text(max_size=12))
odd_values = st.one_of(
    scalars,
    st.lists(st.one_of(st.integers(-2, 3), st.text(max_size=3), st.none()), max_size=3),
    st.dictionaries(st.sampled_from(FIELD_NAMES), st.one_of(st.integers(-2, 3),
                                                            st.text(max_size=3), st.none()),
                    max_size=3),
)
odd_keys = st.one_of(st.sampled_from(FIELD_NAMES), st.integers(-1, 3), st.booleans())


def _nodes(doc: Any, path: Path_ = ()) -> list[Path_]:
    """Every path in ``doc`` (dict keys and list indices), the root first."""
    out = [path]
    if isinstance(doc, dict):
        for key, value in doc.items():
            out += _nodes(value, (*path, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            out += _nodes(value, (*path, i))
    return out


def _get(doc: Any, path: Path_) -> Any:
    for step in path:
        doc = doc[step]
    return doc


def render(path: Path_) -> str:
    """A path as the library writes it: ``spec.template.spec.containers[0].name``."""
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out


@st.composite
def mutated(draw: st.DrawFn, doc: Any, at_most: int = 3,
            within: Path_ = ()) -> tuple[Any, list[tuple[str, Path_]]]:
    """``doc`` with 1..at_most mutations (under ``within`` when it exists): a value replaced
    (by anything, or by an odd value of its own type), a key or item removed, a key added, a
    value wrapped in a list or a mapping."""
    doc = copy.deepcopy(doc)
    done: list[tuple[str, Path_]] = []
    for _ in range(draw(st.integers(1, at_most), label="mutations")):
        # strictly inside ``within`` (the section itself is replaced only when within=())
        paths = [p for p in _nodes(doc) if p[:len(within)] == within and p != within] \
            or _nodes(doc)
        # mostly a leaf (a field's value): a whole section replaced is refused at once and
        # would tell little about the fields inside it. (Hypothesis prefers small draws, so
        # the leaf is what 0 means.)
        leaves = [p for p in paths if not isinstance(_get(doc, p), dict | list)]
        if leaves and draw(st.integers(0, 3), label="any node?") < 3:
            # an op's fields rather than its name: most ops (create, settle) have only a name
            fields = [p for p in leaves if p[-1] != "op"]
            paths = fields if fields and draw(st.booleans(), label="op name?") is False \
                else leaves
        path = draw(st.sampled_from(paths), label="path")
        how = draw(st.sampled_from(["replace", "tweak", "delete", "add", "wrap"]), label="how")
        target = _get(doc, path)
        if how == "tweak":  # same type, odd value: gets past the type checks, into the model
            if isinstance(target, bool):
                value: Any = not target
            elif isinstance(target, int):
                value = draw(st.one_of(st.integers(-3, 8), st.sampled_from(HUGE)), label="int")
            elif isinstance(target, str):
                value = draw(st.one_of(st.sampled_from(ODD_STRINGS), st.text(max_size=8)),
                             label="str")
            else:
                value = draw(odd_values, label="value")
            how = "replace"
        else:
            value = draw(odd_values, label="value")
        if how == "add" and isinstance(target, dict):
            target[draw(odd_keys, label="key")] = value
        elif not path:  # the root: replace the whole document only now and then
            if how == "replace":
                doc = value
            else:
                continue
        else:
            parent, step = _get(doc, path[:-1]), path[-1]
            if how == "delete" and isinstance(parent, list):
                # the last item, so that the paths of earlier mutations stay where they were
                path = (*path[:-1], len(parent) - 1)
                parent.pop()
            elif how == "delete":
                del parent[step]
            elif how == "wrap":
                parent[step] = draw(st.sampled_from([[target], {"x": target}]), label="wrap")
            else:
                parent[step] = value
        done.append((how, path))
        if not isinstance(doc, dict | list):
            break
    return doc, done


# -- checks of an answer ---------------------------------------------------------------------
TYPE_ERROR = re.compile(r"must be (an object|a list|an integer|a string|true or false|a quantity"
                        r"|a 32-bit|a 64-bit|one of)|is not a string \(quote it\)|"
                        r"is not a JSON (value|number)|does not fit in 64 bits")


def check_error(exc: BaseException, files: list[Path], mutations: list[tuple[str, Path_]],
                prefix: str = "") -> None:
    """A documented input error: one line, names one of ``files``, and a type error names a
    field path at or above a mutated one (``prefix`` is the document's place in the file,
    e.g. ``manifests.statefulset`` in a plan)."""
    text = str(exc)
    note(f"error: {text}")
    assert isinstance(exc, ManifestError | PlanError), repr(exc)
    assert len(text.splitlines()) == 1, text
    assert "Traceback" not in text and "__init__()" not in text, text
    assert any(str(f) in text for f in files) or any(str(f.parent) in text for f in files), text
    if TYPE_ERROR.search(text):
        # the parent of a mutated path: a wrong type is reported there or below it
        parents = {render(p[:-1]) if p and isinstance(p[-1], str) else render(p)
                   for how, p in mutations}
        mentioned = [f"{prefix}.{p}" if prefix and p else (prefix or p) for p in parents]
        assert any(m in text for m in mentioned), (text, mentioned)


# -- manifests -------------------------------------------------------------------------------
manifest_bases = st.one_of(st.just(Manifests.seed()), valid_statefulsets())


@_fuzz(150)
@given(base=manifest_bases)
def test_valid_manifests_load(base: Manifests) -> None:
    """The other side of the property: nothing valid is refused (no false alarms)."""
    with tempfile.TemporaryDirectory() as tmp:
        files = _write_manifests(Path(tmp), base.statefulset, base.service, base.storageclass)
        assert load_manifests(files, CONFIG).statefulset == base.statefulset
        assert validate_manifests(files, CONFIG).ok


def _write_manifests(tmp: Path, *docs: Any, one_file: bool = False) -> list[Path]:
    docs = tuple(d for d in docs if d is not None)
    if one_file:
        path = tmp / "all.yaml"
        path.write_text(yaml.safe_dump_all(docs, sort_keys=False), encoding="utf-8")
        return [path]
    files = []
    for i, doc in enumerate(docs):
        path = tmp / f"doc{i}.yaml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        files.append(path)
    return files


@_fuzz(900)
@given(base=manifest_bases, which=st.sampled_from(["statefulset"] * 4 + ["service",
                                                                         "storageclass"]),
       one_file=st.booleans(), data=st.data())
def test_mutated_manifests_load_or_fail_cleanly(base: Manifests, which: str, one_file: bool,
                                                data: st.DataObject) -> None:
    docs = {"statefulset": base.statefulset, "service": base.service,
            "storageclass": base.storageclass}
    if docs[which] is None:
        which = "statefulset"
    docs[which], mutations = data.draw(mutated(docs[which]), label=which)
    note(f"{which} after {mutations}: {docs[which]!r}"[:3000])
    with tempfile.TemporaryDirectory() as tmp:
        files = _write_manifests(Path(tmp), *docs.values(), one_file=one_file)
        notes: list[str] = []
        try:
            loaded = load_manifests(files, CONFIG, notes=notes.append)
        except ManifestError as exc:
            check_error(exc, files, mutations)
        else:
            assert isinstance(loaded, Manifests)
        assert all(len(n.splitlines()) == 1 for n in notes)
        try:
            report = validate_manifests(files, CONFIG)
        except ManifestError as exc:
            check_error(exc, files, mutations)
        else:
            for result in report.results:
                line = result.line(with_file=True)
                assert len(line.splitlines()) == 1, line
                if not result.ok:
                    check_error(ManifestError(line), files, mutations)
    # the same document as a plan's manifests section
    section = {k: v for k, v in (("statefulset", docs["statefulset"]),
                                 ("service", docs["service"]),
                                 ("storageClass", docs["storageclass"])) if v is not None}
    try:
        Manifests.from_dict(section)
    except ManifestError as exc:
        check_error(ManifestError(f"plan.yaml: {exc}"), [Path("plan.yaml")], mutations,
                    prefix=f"manifests.{'storageClass' if which == 'storageclass' else which}")


# -- plans -----------------------------------------------------------------------------------
@st.composite
def plan_data(draw: st.DrawFn) -> dict[str, Any]:
    """A generated plan as YAML data, with optional sections filled in."""
    scenario = draw(scenarios(max_ops=8), label="scenario")
    plan = Plan(scenario, name="fuzz", seed=draw(st.integers(0, 99), label="seed"))
    data = plan.to_dict()
    if draw(st.booleans(), label="interleavings"):
        data["interleavings"] = [{"steps": s, "picks": [0, 1]}
                                 for s in draw(st.lists(st.sampled_from([None, 0, 2]),
                                                        max_size=3), label="steps")]
    if draw(st.booleans(), label="expect"):
        data["expect"] = [{"afterOp": 0, "outcome": "accepted", "rule": "VAL-1"}]
    if draw(st.booleans(), label="origin"):
        data["origin"] = {"foundOn": "model (v1.37.2)"}
    return data


@st.composite
def mutated_plans(draw: st.DrawFn) -> tuple[dict[str, Any], list[tuple[str, Path_]]]:
    data = draw(plan_data())
    # half of the mutations land in the ops, the rest anywhere (manifests, sections, root)
    within: Path_ = draw(st.sampled_from([("ops",), ("ops",), ("manifests",), ()]),
                         label="within")
    result: tuple[dict[str, Any], list[tuple[str, Path_]]] = draw(
        mutated(data, within=within), label="plan")
    return result


def _load(text: str, tmp: Path) -> tuple[Path, Plan | PlanError]:
    path = tmp / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        return path, Plan.load(path)
    except PlanError as exc:
        return path, exc


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False)


def check_plan_error(exc: BaseException, path: Path, mutations: list[tuple[str, Path_]]
                     ) -> None:
    text = str(exc)
    note(f"error: {text}")
    assert isinstance(exc, PlanError), repr(exc)
    assert len(text.splitlines()) == 1 and "__init__()" not in text, text
    assert text.startswith(f"{path}: "), text
    if TYPE_ERROR.search(text):
        parents = [render(p[:-1]) if p and isinstance(p[-1], str) else render(p)
                   for _, p in mutations]
        assert any(p in text for p in parents), (text, parents)


@_fuzz(600)
@given(case=mutated_plans())
def test_mutated_plans_load_and_replay_or_fail_cleanly(
        case: tuple[dict[str, Any], list[tuple[str, Path_]]]) -> None:
    data, mutations = case
    note(f"mutations: {mutations}")
    with tempfile.TemporaryDirectory() as tmp:
        path, loaded = _load(_dump(data), Path(tmp))
        if isinstance(loaded, PlanError):
            check_plan_error(loaded, path, mutations)
            return
        try:
            run = run_plan_on_model(loaded)
        except PlanError as exc:  # an op that cannot apply, found by running (spec_edit)
            assert len(str(exc).splitlines()) == 1, str(exc)
            try:
                check_promotable(loaded, str(path))
            except PlanError as refused:
                check_plan_error(refused, path, [])
            else:
                raise AssertionError("promote would take a plan that does not replay") from exc
        else:
            assert run.backend == "model"


def test_interleaving_steps_at_the_limit_load_and_end() -> None:
    """The largest ``steps`` a plan may give still lets the run end (it stops when idle)."""
    scenario = Scenario(Manifests.seed(), (Create(), Scale(2), Settle()))
    plan = Plan.loads(Plan(scenario, interleavings=(Interleaving(MAX_SETTLE_STEPS, (7,)),)
                           ).dumps())
    assert plan.interleavings[0].steps == MAX_SETTLE_STEPS
    assert run_plan_on_model(plan).ok


# -- the CLI on a subset ---------------------------------------------------------------------
def _repo_state() -> dict[str, float]:
    """Every file of the repository outside .git and the caches, with its mtime."""
    skip = {".git", ".hypothesis", "__pycache__", ".pytest_cache", ".mypy_cache",
            ".ruff_cache"}
    state: dict[str, float] = {}
    for path in REPO.rglob("*"):
        parts = set(path.relative_to(REPO).parts)
        if parts & skip or not path.is_file():
            continue
        state[str(path)] = path.stat().st_mtime
    return state


_BASELINES: dict[str, dict[str, float]] = {}


def _audit(test: str) -> None:
    """The repository is as it was at this test's first audit (its first example): no file
    written, changed or removed outside the temporary directories since."""
    state = _repo_state()
    assert state == _BASELINES.setdefault(test, state)


def _cli(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


def check_cli(code: int, err: str, allowed: set[int]) -> None:
    note(f"exit {code}, stderr: {err}")
    assert code in allowed, (code, err)
    assert "Traceback" not in err
    for line in err.splitlines():
        assert line.startswith("sts-props: "), err
    if code == 2:
        assert len([line for line in err.splitlines() if "error:" in line]) >= 1


@_fuzz(250)
@given(base=manifest_bases, data=st.data())
def test_cli_validate_on_mutated_files(base: Manifests, data: st.DataObject) -> None:
    sts, _ = data.draw(mutated(base.statefulset), label="statefulset")
    with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp):
        files = _write_manifests(Path(tmp), sts, base.service, base.storageclass)
        code, _, err = _cli(["validate", *map(str, files)])
        check_cli(code, err, {0, 2})
    if data.draw(st.integers(0, 24), label="audit") == 0:  # 0 first: the baseline
        _audit("validate")


@_fuzz(250)
@given(case=mutated_plans(), audit=st.integers(0, 24))
def test_cli_replay_on_mutated_plans(case: tuple[dict[str, Any], list[tuple[str, Path_]]],
                                     audit: int) -> None:
    data, _ = case
    with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp):
        path = Path(tmp) / "plan.yaml"
        path.write_text(_dump(data), encoding="utf-8")
        # artifacts of a failing run go to ./artifacts, i.e. into the temporary directory
        code, _, err = _cli(["replay", str(path), "--backend", "model"])
        check_cli(code, err, {0, 1, 2})
    if audit == 0:
        _audit("replay")
