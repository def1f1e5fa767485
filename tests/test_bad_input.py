"""Issue 14, "no traceback on any input": each known bad input is one line on stderr naming the
file and the field path, and exit code 2 (``docs/bad-input.md``).

Every test here is a probe that once ended in a Python traceback or a wrong answer.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from sts_props.cli import main
from sts_props.manifest_files import load_manifests, validate_manifests
from sts_props.manifest_shapes import MAX_MODEL_REPLICAS, type_problems
from sts_props.model import ModelConfig
from sts_props.model.config import VersionError
from sts_props.model.validation import default_statefulset, validate_create
from sts_props.ops import OpFormatError, op_from_dict
from sts_props.plan import Plan, PlanError
from sts_props.scenario import ManifestError, Manifests, Scenario

CONFIG = ModelConfig.for_version("v1.37.2")


def _bad_input(capsys: pytest.CaptureFixture[str], args: list[str]) -> str:
    """Run the CLI; it must exit 2 with exactly one line on stderr and no traceback."""
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("sts-props") and ": error: " in lines[0], lines[0]
    return lines[0]


def _write(path: Path, *docs: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump_all(docs), encoding="utf-8")
    return path


def _seed_set() -> dict[str, Any]:
    return Manifests.seed().statefulset


def _edited(edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    sts = _seed_set()
    edit(sts)
    return sts


def _plan_file(tmp_path: Path, statefulset: dict[str, Any] | None = None,
               ops: list[Any] | None = None, **extra: Any) -> Path:
    data: dict[str, Any] = {
        "stsPropsPlan": 1, "name": "probe",
        "manifests": {"statefulset": statefulset or _seed_set()},
        "ops": ops if ops is not None else [{"op": "create"}, {"op": "settle"}],
        **extra,
    }
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


# -- wrong-typed nested fields ---------------------------------------------------------------
WRONG_TYPES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("spec-is-a-list", lambda s: s.__setitem__("spec", [1, 2]),
     "spec: must be an object (a mapping), got a list"),
    ("metadata-is-a-list", lambda s: s.__setitem__("metadata", [1]),
     "metadata: must be an object (a mapping), got a list"),
    ("template-is-a-word", lambda s: s["spec"].__setitem__("template", "oops"),
     "spec.template: must be an object (a mapping), got 'oops'"),
    ("claim-templates-is-a-map", lambda s: s["spec"].__setitem__("volumeClaimTemplates",
                                                                 {"a": 1}),
     "spec.volumeClaimTemplates: must be a list, got an object"),
    ("match-labels-is-a-list", lambda s: s["spec"]["selector"].__setitem__("matchLabels",
                                                                           ["app"]),
     "spec.selector.matchLabels: must be an object (a mapping), got a list"),
    ("update-strategy-is-a-word", lambda s: s["spec"].__setitem__("updateStrategy",
                                                                  "RollingUpdate"),
     "spec.updateStrategy: must be an object (a mapping), got 'RollingUpdate'"),
    ("replicas-is-a-word", lambda s: s["spec"].__setitem__("replicas", "three"),
     "spec.replicas: must be an integer, got 'three'"),
    ("replicas-beyond-int32", lambda s: s["spec"].__setitem__("replicas", 2**31),
     "spec.replicas: must be a 32-bit integer"),
    ("env-value-is-a-number", lambda s: s["spec"]["template"]["spec"]["containers"][0]
     .__setitem__("env", [{"name": "A", "value": 1}]),
     "spec.template.spec.containers[0].env[0].value: must be a string, got 1"),
    ("storage-is-not-a-quantity", lambda s: s["spec"]["volumeClaimTemplates"][0]["spec"]
     ["resources"]["requests"].__setitem__("storage", "two gigs"),
     "spec.volumeClaimTemplates[0].spec.resources.requests[storage]: must be a quantity"),
]


@pytest.mark.parametrize(("edit", "message"), [(e, m) for _, e, m in WRONG_TYPES],
                         ids=[i for i, _, _ in WRONG_TYPES])
def test_wrong_typed_field_is_a_type_error_naming_its_path(
        edit: Callable[[dict[str, Any]], None], message: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path / "sts.yaml", _edited(edit))
    line = _bad_input(capsys, ["validate", str(path)])
    assert f"{path}: " in line and message in line
    with pytest.raises(ManifestError, match="must be"):
        load_manifests([path], CONFIG)


@pytest.mark.parametrize(("edit", "message"), [(e, m) for _, e, m in WRONG_TYPES],
                         ids=[i for i, _, _ in WRONG_TYPES])
def test_wrong_typed_field_in_a_plan_is_refused_by_replay_and_promote(
        edit: Callable[[dict[str, Any]], None], message: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = _plan_file(tmp_path, _edited(edit))
    line = _bad_input(capsys, ["replay", str(path), "--backend", "model"])
    assert f"{path}: manifests.statefulset." in line and message in line
    into = tmp_path / "regressions"
    into.mkdir()
    _bad_input(capsys, ["promote", str(path), "--into", str(into)])
    assert not list(into.iterdir())


def test_replicas_three_is_not_blamed_on_its_sign() -> None:
    """The old answer was "must be greater than or equal to 0"."""
    sts = _edited(lambda s: s["spec"].__setitem__("replicas", "three"))
    assert [p.describe() for p in type_problems(sts, "StatefulSet")] == [
        "spec.replicas: must be an integer, got 'three'"]
    causes = validate_create(default_statefulset(sts, CONFIG), CONFIG)  # even unchecked
    assert [c.message for c in causes] == ["must be an integer, got 'three'"]


# -- unreadable input ------------------------------------------------------------------------
def _seed_dir(tmp_path: Path) -> Path:
    d = tmp_path / "manifests"
    d.mkdir()
    seed = Manifests.seed()
    for name, doc in (("sts.yaml", seed.statefulset), ("svc.yaml", seed.service),
                      ("sc.yaml", seed.storageclass)):
        assert doc is not None
        _write(d / name, doc)
    return d


def test_unreadable_manifest_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    d = _seed_dir(tmp_path)

    def denied(self: Path) -> Any:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "iterdir", denied)  # we run as root: chmod would not deny
    line = _bad_input(capsys, ["validate", str(d)])
    assert line == f"sts-props: error: {d}: cannot read: Permission denied"
    assert _bad_input(capsys, ["check", "--manifests", str(d), "--examples", "1"]) == line


def test_unreadable_manifest_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    d = _seed_dir(tmp_path)

    def denied(self: Path, *args: Any, **kw: Any) -> str:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_text", denied)
    line = _bad_input(capsys, ["validate", str(d)])
    assert line == f"sts-props: error: {d / 'sc.yaml'}: cannot read: Permission denied"


def test_fifo_in_manifest_directory_is_refused_without_blocking(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = _seed_dir(tmp_path)
    os.mkfifo(d / "pipe.yaml")  # reading it would wait for a writer forever
    line = _bad_input(capsys, ["validate", str(d)])
    assert f"{d / 'pipe.yaml'}: not a regular file" in line


def test_broken_symlink_in_manifest_directory(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    d = _seed_dir(tmp_path)
    (d / "gone.yaml").symlink_to(tmp_path / "nowhere.yaml")
    line = _bad_input(capsys, ["validate", str(d)])
    assert f"{d / 'gone.yaml'}: a broken symbolic link" in line


@pytest.mark.parametrize(("text", "message"), [
    ("replicas: " + "9" * 5000, "not usable YAML: Exceeds the limit"),
    ("apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {creationTimestamp: 2020-01-01}",
     "metadata.creationTimestamp: a date is not a JSON value (quote it)"),
    ("apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {labels: {1: a}}",
     "metadata.labels: key 1 is not a string (quote it)"),
    ("- just\n- a list", "a manifest is a mapping, got a list"),
    ("apiVersion: v1\nmetadata: {name: x}", "kind: required"),
    ("kind: [StatefulSet]", "kind: must be a string, got a list"),
    ("apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {labels: &l {a: *l}}",
     "metadata.labels.a: a YAML alias that contains itself"),
    ("apiVersion: apps/v1\nkind: StatefulSet\nx0: &a [y, y, y, y, y, y, y, y, y, y]\n"
     + "".join(f"x{i}: &{'abcdef'[i]} [" + ", ".join([f"*{'abcdef'[i - 1]}"] * 10) + "]\n"
               for i in range(1, 6)),
     "too large: 1234569 values once its YAML aliases are expanded (at most 100000)"),
], ids=["huge-integer", "date", "integer-key", "list-document", "no-kind", "kind-list",
        "recursive-alias", "alias-bomb"])
def test_yaml_that_is_no_manifest(text: str, message: str, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text(text, encoding="utf-8")
    line = _bad_input(capsys, ["validate", str(path)])
    assert str(path) in line and message in line


# -- VAL-4, apiVersion -----------------------------------------------------------------------
def test_a_70_character_name_is_blamed_on_its_length(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """VAL-4: a DNS-1123 label, at most 63 characters; the characters are fine here."""
    name = "a" * 70
    sts = _edited(lambda s: s["metadata"].__setitem__("name", name))
    causes = validate_create(default_statefulset(sts, CONFIG), CONFIG)
    assert [(c.field, c.rule, c.message) for c in causes] == [
        ("metadata.name", "VAL-4", "must be no more than 63 characters (a DNS-1123 label), "
                                   "got 70")]
    line = _bad_input(capsys, ["validate", str(_write(tmp_path / "sts.yaml", sts))])
    assert "no more than 63 characters" in line and "[VAL-4]" in line
    assert "must consist of" not in line
    both = _edited(lambda s: s["metadata"].__setitem__("name", "A" * 70))
    assert len(validate_create(default_statefulset(both, CONFIG), CONFIG)) == 2


@pytest.mark.parametrize("api_version", ["apps/v1beta1", "apps/v1beta2", "extensions/v1beta1"])
def test_only_apps_v1_statefulsets(api_version: str, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    sts = _edited(lambda s: s.__setitem__("apiVersion", api_version))
    line = _bad_input(capsys, ["validate", str(_write(tmp_path / "sts.yaml", sts))])
    assert f"apiVersion: '{api_version}' is not supported for StatefulSet" in line
    line = _bad_input(capsys, ["replay", str(_plan_file(tmp_path, sts))])
    assert "manifests.statefulset.apiVersion" in line


# -- Services and StorageClasses -------------------------------------------------------------
#: (id, edit of the seed Service, message, a harness requirement rather than an apiserver rule)
SERVICE_CASES: list[tuple[str, Callable[[dict[str, Any]], None], str, bool]] = [
    ("not-headless", lambda s: s["spec"].__setitem__("clusterIP", "10.0.0.9"),
     "spec.clusterIP: must be None", True),
    ("no-selector", lambda s: s["spec"].pop("selector"), "spec.selector: required", True),
    ("selects-other-pods", lambda s: s["spec"].__setitem__("selector", {"app": "other"}),
     "spec.selector: does not select the StatefulSet's pods", True),
    ("port-out-of-range", lambda s: s["spec"]["ports"][0].__setitem__("port", 70000),
     "spec.ports[0].port: must be between 1 and 65535", False),
    ("ports-is-a-map", lambda s: s["spec"].__setitem__("ports", {"port": 80}),
     "spec.ports: must be a list, got an object", False),
    ("selector-is-a-list", lambda s: s["spec"].__setitem__("selector", ["app"]),
     "spec.selector: must be an object (a mapping), got a list", False),
    ("port-is-a-word", lambda s: s["spec"]["ports"][0].__setitem__("port", "http"),
     "spec.ports[0].port: must be an integer, got 'http'", False),
    ("two-unnamed-ports", lambda s: s["spec"].__setitem__("ports", [{"port": 1},
                                                                    {"port": 2}]),
     "spec.ports[0].name: required when a Service has more than one port", False),
]


@pytest.mark.parametrize(("edit", "message", "harness"),
                         [(e, m, h) for _, e, m, h in SERVICE_CASES],
                         ids=[i for i, _, _, _ in SERVICE_CASES])
def test_an_unusable_service_is_refused(edit: Callable[[dict[str, Any]], None], message: str,
                                        harness: bool, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    d = _seed_dir(tmp_path)
    svc = yaml.safe_load((d / "svc.yaml").read_text())
    edit(svc)
    _write(d / "svc.yaml", svc)
    line = _bad_input(capsys, ["validate", str(d)])
    assert f"{d / 'svc.yaml'}: " in line and message in line
    assert ("an sts-props requirement; the apiserver accepts it" in line) == harness
    with pytest.raises(ManifestError, match=re.escape(message)):
        load_manifests([d], CONFIG)


@pytest.mark.parametrize(("edit", "message"), [
    (lambda c: c.pop("provisioner"), "provisioner: required"),
    (lambda c: c.__setitem__("provisioner", 5), "provisioner: must be a string, got 5"),
    (lambda c: c.__setitem__("parameters", ["gp2"]), "parameters: must be an object"),
    (lambda c: c.__setitem__("reclaimPolicy", "Keep"), "reclaimPolicy: supported values"),
], ids=["no-provisioner", "provisioner-number", "parameters-list", "reclaim-policy"])
def test_an_invalid_storageclass_is_refused(edit: Callable[[dict[str, Any]], None],
                                            message: str, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    d = _seed_dir(tmp_path)
    sc = yaml.safe_load((d / "sc.yaml").read_text())
    edit(sc)
    _write(d / "sc.yaml", sc)
    line = _bad_input(capsys, ["validate", str(d)])
    assert f"{d / 'sc.yaml'}: " in line and message in line


# -- other kinds, several sets ---------------------------------------------------------------
def test_kinds_sts_props_does_not_use_are_ignored_with_one_note(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = _seed_dir(tmp_path)
    _write(d / "config.yaml", {"apiVersion": "v1", "kind": "ConfigMap",
                               "metadata": {"name": "settings"}},
           {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}})
    capsys.readouterr()
    assert main(["validate", str(d)]) == 0
    out, err = capsys.readouterr()
    assert "ok: StatefulSet redis is valid" in out
    assert err.count("\n") == 1 and err.startswith("sts-props: note: ignoring 2 documents")
    assert "ConfigMap settings" in err and "Deployment web" in err
    notes: list[str] = []
    m = load_manifests([d], CONFIG, notes=notes.append)
    assert m.set_name == "redis" and len(notes) == 1


def test_validate_checks_each_statefulset_separately(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = _seed_set()
    other = _edited(lambda s: s["metadata"].__setitem__("name", "cache"))
    bad = _edited(lambda s: (s["metadata"].__setitem__("name", "broken"),
                             s["spec"].__setitem__("replicas", -1)))
    path = _write(tmp_path / "sets.yaml", good, other, bad)
    report = validate_manifests([path], CONFIG)
    assert [(r.document.name, r.ok) for r in report.statefulsets] == [
        ("redis", True), ("cache", True), ("broken", False)]
    capsys.readouterr()
    assert main(["validate", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        f"ok: StatefulSet redis is valid for Kubernetes v1.37.2 ({path} (document 1))",
        f"ok: StatefulSet cache is valid for Kubernetes v1.37.2 ({path} (document 2))"]
    assert err.splitlines() == [
        f"sts-props: error: {path} (document 3): invalid StatefulSet broken: spec.replicas: "
        "must be greater than or equal to 0 [VAL-5]"]
    # a scenario still runs exactly one set
    with pytest.raises(ManifestError, match=r"3 StatefulSets .* a scenario runs exactly one"):
        load_manifests([path], CONFIG)
    line = _bad_input(capsys, ["check", "--manifests", str(path), "--examples", "1"])
    assert "a scenario runs exactly one" in line


# -- versions --------------------------------------------------------------------------------
@pytest.mark.parametrize("version", ["v1.20", "v1.999", "1.32.9", "v1.39.0"])
def test_a_version_outside_the_model_is_refused(version: str, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(VersionError, match=r"outside the versions the model covers "
                                           r"\(v1\.33 to v1\.38\)"):
        ModelConfig.for_version(version)
    line = _bad_input(capsys, ["validate", "--k8s-version", version, str(_seed_dir(tmp_path))])
    assert "(v1.33 to v1.38)" in line
    line = _bad_input(capsys, ["replay", str(_plan_file(tmp_path, k8sVersion=version))])
    assert "(v1.33 to v1.38)" in line


@pytest.mark.parametrize("version", ["v1.33.0", "v1.34.1+k3s1", "v1.35.2", "v1.36.3", "1.37",
                                     "v1.38.0-beta.0"])
def test_the_versions_in_use_stay_valid(version: str) -> None:
    assert 33 <= ModelConfig.for_version(version).k8s_minor <= 38


# -- plans: op fields and sections -----------------------------------------------------------
OP_CASES: list[tuple[dict[str, Any], str]] = [
    ({"op": "scale", "replicas": "zero"}, "ops[2] (scale): replicas: must be an integer, "
                                          "got 'zero'"),
    ({"op": "scale", "replicas": True}, "ops[2] (scale): replicas: must be an integer, got true"),
    ({"op": "scale", "replicas": 2.0}, "ops[2] (scale): replicas: must be an integer, got 2.0"),
    ({"op": "scale", "replicas": [1]}, "ops[2] (scale): replicas: must be an integer, got a list"),
    ({"op": "scale", "replicas": 2**40}, "ops[2] (scale): replicas: must be a 32-bit integer"),
    ({"op": "scale"}, "ops[2] (scale): missing field 'replicas'"),
    ({"op": "delete_pod", "ordinal": "one"}, "ops[2] (delete_pod): ordinal: must be an integer, "
                                             "got 'one'"),
    ({"op": "set_update_strategy", "type": "Sometimes"},
     "ops[2] (set_update_strategy): type: must be one of RollingUpdate, OnDelete, Recreate, got "
     "'Sometimes'"),
    ({"op": "set_max_unavailable", "value": [50]},
     "ops[2] (set_max_unavailable): value: must be an integer or a string, got a list"),
    ({"op": "fail_node", "ordinal": 0, "colocated": [1, "x"]},
     "ops[2] (fail_node): colocated[1]: must be an integer, got 'x'"),
    ({"op": "fail_node", "ordinal": 0, "colocated": 1},
     "ops[2] (fail_node): colocated: must be a list, got 1"),
    ({"op": "set_template", "field": "image", "value": 7},
     "ops[2] (set_template): value: must be a string, got 7"),
    ({"op": "set_retention", "whenDeleted": "Retain", "whenScaled": None},
     "ops[2] (set_retention): whenScaled: must be one of Retain, Delete, got null"),
    ({"op": "delete_set", "propagation": "Later"},
     "ops[2] (delete_set): propagation: must be one of Background, Foreground, Orphan"),
    ({"op": ["scale"]}, "ops[2]: unknown op a list"),
    ("scale", "ops[2]: an op must be a mapping with an 'op' key"),
    ({"op": "scale", "replicas": 1, "count": 2}, "ops[2] (scale): op 'scale' has no field "
                                                 "'count'"),
    ({"op": "scale", "replicas": MAX_MODEL_REPLICAS + 1},
     f"ops[2] (scale): replicas: {MAX_MODEL_REPLICAS + 1} is more than the model runs"),
    ({"op": "revert_template", "version": 1},
     "ops[2] (revert_template): version: must be 0..0"),
]


@pytest.mark.parametrize(("op", "message"), OP_CASES, ids=[m.split(": ", 1)[1][:40]
                                                           for _, m in OP_CASES])
def test_op_fields_are_type_checked(op: Any, message: str, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    path = _plan_file(tmp_path, ops=[{"op": "create"}, {"op": "settle"}, op])
    with pytest.raises(PlanError) as info:
        Plan.load(path)
    assert str(info.value).startswith(f"{path}: {message}"), str(info.value)
    assert "__init__" not in str(info.value) and "\n" not in str(info.value)
    line = _bad_input(capsys, ["replay", str(path), "--backend", "model"])
    assert line == f"sts-props: error: {info.value}"


def test_op_from_dict_without_an_index() -> None:
    with pytest.raises(OpFormatError, match=r"^op \(scale\): replicas: must be an integer, "
                                            "got 'zero'$"):
        op_from_dict({"op": "scale", "replicas": "zero"})
    assert op_from_dict({"op": "fail_node", "ordinal": 1, "colocated": [2]}).to_dict() == {
        "op": "fail_node", "ordinal": 1, "colocated": [2]}


SECTION_CASES: list[tuple[dict[str, Any], str]] = [
    ({"name": ["x"]}, "name: must be a string, got a list"),
    ({"name": "a\nb"}, "name: must be one line of printable text, got 'a\\nb'"),
    ({"upstream": "tab\there"}, "upstream: must be one line of printable text"),
    ({"expect": 5}, "expect: must be a list of expectations, got 5"),
    ({"expect": [{"afterOp": 9}]}, "expect[0]: expectation afterOp must be an op index 0..1"),
    ({"origin": {"foundOn": ["kwok"]}}, "origin.foundOn: must be a string, got a list"),
    ({"interleavings": [{"steps": True}]}, "interleavings[0].steps: must be null (drain)"),
    ({"interleavings": [{"steps": 10**9}]}, "interleavings[0].steps: must be null (drain) or "
                                            "a count 0..20000"),
    ({"interleavings": [{"picks": ["a"]}]}, "interleavings[0].picks[0]: must be an integer"),
    ({"interleavings": [5]}, "interleavings[0]: must be a mapping"),
    ({"k8sVersion": 1.3}, "k8sVersion: not a Kubernetes version: 1.3"),
    ({"backend": ["model"]}, "backend a list is not one of"),
    ({"mutant": 5}, "mutant: must be a mutant's name, got 5"),
    ({"stsPropsPlan": True}, "plan format true is not supported"),
]


@pytest.mark.parametrize(("extra", "message"), SECTION_CASES,
                         ids=[m.split(":")[0] for _, m in SECTION_CASES])
def test_plan_sections_are_type_checked(extra: dict[str, Any], message: str,
                                        tmp_path: Path) -> None:
    path = _plan_file(tmp_path, **extra)
    with pytest.raises(PlanError) as info:
        Plan.load(path)
    assert str(info.value).startswith(f"{path}: {message}"), str(info.value)


_PLAN_HEAD = "stsPropsPlan: 1\nmanifests: {statefulset: {}}\nops: [{op: create}]\n"


def _alias_bomb(levels: int = 9, width: int = 9) -> str:
    """One flow node whose aliases expand to width**levels leaves (about 43 million)."""
    node = "&b0 [" + ", ".join(["lol"] * width) + "]"
    for i in range(1, levels):
        node = f"&b{i} [{node}, " + ", ".join([f"*b{i - 1}"] * (width - 1)) + "]"
    return node


@pytest.mark.parametrize(("text", "message"), [
    ("seed: " + "9" * 5000, "not usable YAML: Exceeds the limit (4300 digits)"),
    ("origin: {a: " + "[" * 5000 + "]" * 5000 + "}", "not usable YAML: maximum recursion depth"),
], ids=["huge-integer", "deep-nesting"])
def test_plan_yaml_beyond_pyyaml_limits(text: str, message: str, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """PyYAML's own limits once escaped ``Plan.loads`` as a ValueError or RecursionError."""
    path = tmp_path / "plan.yaml"
    path.write_text(_PLAN_HEAD + text + "\n", encoding="utf-8")
    line = _bad_input(capsys, ["replay", str(path), "--backend", "model"])
    assert f"{path}: {message}" in line


@pytest.mark.parametrize(("entry", "message"), [
    ("BOMB", "expect[0]: an expectation must be a mapping, got a list"),
    ("{afterOp: BOMB}", "expect[0]: expectation afterOp must be an op index 0..0, got a list"),
    ("{afterOp: 0, outcome: BOMB}", "expect[0]: expectation outcome must be accepted or "
                                    "rejected, got a list"),
    ("{afterOp: 0, rule: BOMB}", "expect[0]: expectation rule must be a string, got a list"),
    ("{afterOp: 0, note: {a: 1}}", "expect[0]: expectation note must be a string, got an "
                                   "object"),
], ids=["entry", "afterOp", "outcome", "rule", "note"])
def test_an_expectation_is_not_shown_by_its_repr(entry: str, message: str, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """A wrong ``expect`` entry was quoted with repr() (an alias bomb: a repr of 43 million
    values, which never ended) and a list as rule or note was kept as its repr."""
    path = tmp_path / "plan.yaml"
    path.write_text(_PLAN_HEAD + f"expect: [{entry.replace('BOMB', _alias_bomb())}]\n",
                    encoding="utf-8")
    line = _bad_input(capsys, ["replay", str(path), "--backend", "model"])
    assert f"{path}: {message}" in line and len(line) < 300


@pytest.mark.parametrize(("command", "text", "message"), [
    ("replay", _PLAN_HEAD + 'expect: [{afterOp: 0, pods: ["\\ud800"]}]',
     r"expect[0].pods[0]: '\ud800' is not valid Unicode (a lone surrogate"),
    ("replay", _PLAN_HEAD.replace("{}", '{metadata: {labels: {"a\\udfff": b}}}'),
     r"manifests.statefulset.metadata.labels: 'a\udfff' is not valid Unicode"),
    ("validate", 'apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: a, annotations: '
                 '{n: "x\\U0000d800"}}', r"metadata.annotations.n: 'x\ud800' is not valid"),
], ids=["plan-expect", "plan-label-key", "manifest-annotation"])
def test_a_lone_surrogate_is_refused(command: str, text: str, message: str, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    """YAML's "\\ud800" escape makes a string no UTF-8 file can hold: a replay that failed
    with it in a violation once ended in a UnicodeEncodeError writing its artifacts."""
    path = tmp_path / "odd.yaml"
    path.write_text(text + "\n", encoding="utf-8")
    extra = ["--backend", "model", "--artifacts", str(tmp_path / "art")] \
        if command == "replay" else []
    line = _bad_input(capsys, [command, str(path), *extra])
    assert f"{path}: " in line and message in line, line
    assert not (tmp_path / "art").exists()


@pytest.mark.parametrize(("command", "text", "message"), [
    ("replay", _PLAN_HEAD + "? " + "x" * 100_000 + "\n: 1", "unknown key 'xxxx"),
    ("replay", _PLAN_HEAD + "gates: {? " + "x" * 100_000 + ": true}",
     "unknown feature gate 'xxxx"),
    ("replay", _PLAN_HEAD + "mutant: " + "x" * 100_000, "unknown mutant 'xxxx"),
    ("replay", _PLAN_HEAD + "interleavings: [{? " + "x" * 100_000 + ": 1}]",
     "interleavings[0]: unknown key 'xxxx"),
    ("validate", "", "invalid label value 'xxxx"),  # the seed set, a template label added
], ids=["plan-key", "gate", "mutant", "interleaving-key", "label-value"])
def test_a_long_unknown_name_is_shortened(command: str, text: str, message: str,
                                          tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """A name of 100,000 characters (an explicit ``?`` key: YAML limits an implicit one to
    1024) was quoted whole: one line, but not one to read."""
    path = tmp_path / "odd.yaml"
    path.write_text(text + "\n", encoding="utf-8")
    if not text:
        _write(path, _edited(lambda s: s["spec"]["template"]["metadata"]["labels"].__setitem__(
            "b", "x" * 100_000)))
    line = _bad_input(capsys, [command, str(path)]
                      + (["--backend", "model"] if command == "replay" else []))
    assert message in line and len(line) < 1000, line[:300]


_CLAIMS_RUN = ["claims", "--claim", "2", "--examples", "1", "--search", "1", "--seed", "1"]


def test_a_directory_named_like_a_claims_plan_is_refused_before_the_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``claims --plans DIR`` with a directory ``claim2-1.yaml`` in DIR once ran every claim
    and then ended in an IsADirectoryError traceback when it wrote the plans."""
    (tmp_path / "claim2-1.yaml").mkdir()
    line = _bad_input(capsys, [*_CLAIMS_RUN, "--plans", str(tmp_path)])
    assert f"--plans {tmp_path}: claim2-1.yaml is a directory" in line
    assert "claims on the model" not in capsys.readouterr().out  # refused before the run


@pytest.mark.parametrize("entry", ["dangling-link", "fifo"])
def test_a_link_or_fifo_named_like_a_claims_plan_is_replaced(
        entry: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A dangling link ``claim2-1.yaml`` once ended in a FileNotFoundError traceback (and a
    link into an existing directory was written through); a FIFO blocked the run forever."""
    old = tmp_path / "claim2-1.yaml"
    if entry == "fifo":
        os.mkfifo(old)
    else:
        old.symlink_to(tmp_path / "missing" / "x.yaml")
    assert main([*_CLAIMS_RUN, "--plans", str(tmp_path)]) == 0
    assert "Traceback" not in capsys.readouterr().err
    assert not old.is_symlink() and old.is_file()
    assert not (tmp_path / "missing").exists()


def test_plan_manifests_section_is_type_checked(tmp_path: Path) -> None:
    for manifests, message in [
        ({"statefulset": _seed_set(), "deployment": {}}, "manifests: unknown key 'deployment'"),
        ({"statefulset": _seed_set(), "service": [1]},
         "manifests.service: must be an object (a mapping), got a list"),
        ({"statefulset": _seed_set(), "service": {"spec": {"ports": [{"port": "x"}]}}},
         "manifests.service.spec.ports[0].port: must be an integer, got 'x'"),
        ({"statefulset": {**_seed_set(), "kind": "Deployment"}},
         "manifests.statefulset.kind: must be StatefulSet, got 'Deployment'"),
        ({"statefulset": _edited(lambda s: s["spec"].__setitem__("replicas", 5000))},
         "manifests.statefulset.spec.replicas: 5000 is more than the model runs"),
    ]:
        path = tmp_path / "plan.yaml"
        path.write_text(yaml.safe_dump({"manifests": manifests, "ops": []}), encoding="utf-8")
        with pytest.raises(PlanError) as info:
            Plan.load(path)
        assert str(info.value).startswith(f"{path}: {message}"), str(info.value)


def test_a_plan_that_does_not_replay_is_not_promoted(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Setting the image the set already has makes no new template version, so reverting to
    version 1 fails only when the plan runs: replay says so in one line, promote refuses."""
    path = _plan_file(tmp_path, ops=[
        {"op": "create"}, {"op": "set_template", "field": "image", "value": "redis:6.2"},
        {"op": "revert_template", "version": 1}])
    Plan.load(path)  # the file itself is well-formed
    line = _bad_input(capsys, ["replay", str(path), "--backend", "model"])
    assert "revert_template version 1: only versions 0..0 exist" in line
    into = tmp_path / "regressions"
    into.mkdir()
    line = _bad_input(capsys, ["promote", str(path), "--into", str(into)])
    assert line.startswith(f"sts-props: error: {path}: does not replay on the model: ")
    assert not list(into.iterdir())


def test_a_plan_that_replays_is_still_promoted(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    into = tmp_path / "regressions"
    into.mkdir()
    assert main(["promote", str(_plan_file(tmp_path)), "--into", str(into)]) == 0
    assert [p.name for p in into.iterdir()] == ["probe.yaml"]


def test_promote_onto_a_dangling_link_is_refused(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """A dangling link where the promoted plan goes: ``exists()`` is false for it, and the
    exclusive open then ended in a FileExistsError traceback."""
    into = tmp_path / "regressions"
    into.mkdir()
    (into / "probe.yaml").symlink_to(tmp_path / "nowhere.yaml")
    line = _bad_input(capsys, ["promote", str(_plan_file(tmp_path)), "--into", str(into)])
    assert f"{into / 'probe.yaml'}: already exists; promote refuses to overwrite" in line
    assert not (tmp_path / "nowhere.yaml").exists()


def test_scenario_yaml_is_checked_too() -> None:
    from sts_props.scenario import Scenario

    for text, message in [("- 1", "scenario: must be a mapping"),
                          ("manifests: {statefulset: {spec: [1]}}\nops: []",
                           "manifests.statefulset.spec: must be an object"),
                          ("manifests: {statefulset: {}}\nops: [{op: scale, replicas: x}]",
                           "scenario: ops[0] (scale): replicas: must be an integer"),
                          ("manifests: [", "scenario: not valid YAML")]:
        with pytest.raises(ManifestError, match=re.escape(message)):
            Scenario.from_yaml(text)


def test_null_is_an_absent_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """As on the apiserver: ``start: null`` is start 0, not "must be an integer"."""
    sts = _edited(lambda s: s["spec"].update(ordinals={"start": None}, minReadySeconds=None,
                                             updateStrategy=None))
    path = _write(tmp_path / "sts.yaml", sts)
    capsys.readouterr()
    assert main(["validate", str(path)]) == 0
    loaded = load_manifests([path], CONFIG).statefulset["spec"]
    assert loaded["ordinals"] == {} and "minReadySeconds" not in loaded


# -- probes of session 15 (a helper's bad-input hunt, 2026-12-06) ------------------------------
@pytest.mark.parametrize("command", [
    ["validate", "{path}"], ["replay", "{path}", "--backend", "model"],
    ["promote", "{path}", "--into", "{tmp}"],
    ["check", "--backend", "model", "--examples", "1", "--manifests", "{path}"],
])
def test_a_fifo_named_directly_is_refused_without_blocking(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    """Named on the command line (not found in a directory), a FIFO once made every reader
    wait for a writer forever, and ``/dev/zero`` read until memory ran out."""
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    args = [a.format(path=fifo, tmp=tmp_path) for a in command]
    assert f"{fifo}: not a regular file (a FIFO, socket or device)" in _bad_input(capsys, args)
    assert "/dev/zero: not a regular file" in _bad_input(capsys, ["validate", "/dev/zero"])


def test_a_fifo_as_kubeconfig_or_patch_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    line = _bad_input(capsys, ["check", "--backend", "kubeconfig", "--kubeconfig", str(fifo),
                               "--examples", "1"])
    assert f"{fifo}: cannot read the kubeconfig: not a regular file" in line
    line = _bad_input(capsys, ["check", "--backend", "kwok", "--patch", str(fifo),
                               "--examples", "1"])
    assert f"--patch {fifo}: not a regular file" in line


@pytest.mark.parametrize("digits,message", [
    ("9" * 4301, "must not be greater than 100%"),   # Go's Atoi: the largest int, over 100
    ("0" * 4301, "cannot be 0"),
    ("0" * 30 + "50", None),                         # leading zeros: 50%, valid
])
def test_a_percentage_of_thousands_of_digits(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             digits: str, message: str | None) -> None:
    """Python refuses int() of more than 4300 digits; that once escaped as a traceback from
    every path that validates a set (validate, check, replay, seed)."""
    sts = _edited(lambda s: s["spec"].update(updateStrategy={
        "type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": digits + "%"}}))
    path = _write(tmp_path / "sts.yaml", sts)
    if message is None:
        capsys.readouterr()
        assert main(["validate", str(path)]) == 0
        return
    line = _bad_input(capsys, ["validate", str(path)])
    assert f"spec.updateStrategy.rollingUpdate.maxUnavailable: {message} [VAL-5]" in line


@pytest.mark.parametrize("version", ["1.37", "v1.37.2-foo.1", "v1.37.2-rc", "v1.37.2+k3s1",
                                     "v1.37.2-/../x", "v1." + "9" * 5000])
def test_k8s_version_flag_takes_release_versions_only(
        capsys: pytest.CaptureFixture[str], version: str) -> None:
    """The cluster backends build and start releases: ``1.37`` passed the flag and then ended
    in a traceback from the kwok binary lookup (doctor, cluster status, check)."""
    for command in (["doctor", "--backend", "kwok"], ["cluster", "status"],
                    ["check", "--backend", "model", "--examples", "1"]):
        line = _bad_input(capsys, [*command, "--k8s-version", version])
        assert "not a Kubernetes release version" in line or (
            "not a Kubernetes version" in line and len(line) < 300)


def test_k8s_version_flag_takes_a_pre_release_tag(capsys: pytest.CaptureFixture[str]) -> None:
    """``v1.38.0-beta.0`` is a tag the module proxy serves (the v1.38 line of the model)."""
    assert main(["check", "--backend", "model", "--examples", "2", "--k8s-version",
                 "v1.38.0-beta.0"]) == 0
    assert "(v1.38.0-beta.0)" in capsys.readouterr().out


@pytest.mark.parametrize("field,value,message", [
    ("clusters", 5, "clusters: must be a list of {name, cluster}, got int"),
    ("contexts", True, "contexts: must be a list of {name, context}, got bool"),
    ("current-context", ["ctx"], "current-context: must be a context's name, got list"),
])
def test_a_kubeconfig_with_wrong_types(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       field: str, value: Any, message: str) -> None:
    config: dict[str, Any] = {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:9"}}],
        "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "ctx", "users": [{"name": "u", "user": {"token": "t"}}]}
    config[field] = value
    path = _write(tmp_path / "kc.yaml", config)
    line = _bad_input(capsys, ["validate", str(_seed_dir(tmp_path)), "--backend", "kubeconfig",
                               "--kubeconfig", str(path)])
    assert f"{path}: {message}" in line


@pytest.mark.parametrize("gates,version,message", [
    ({"PodIndexLabel": False}, "v1.37.2", "feature gate PodIndexLabel was removed in v1.35"),
    ({"StatefulSetAutoDeletePVC": True}, "v1.36.3", "StatefulSetAutoDeletePVC was removed"),
    ({"PodIndexLabel": False}, "v1.34.4", "PodIndexLabel is locked to true in v1.34"),
    ({"StatefulSetSemanticRevisionComparison": True}, "v1.34.0", "does not exist before "
     "v1.34.2"),
])
def test_a_gate_setting_the_version_refuses(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            gates: dict[str, bool], version: str,
                                            message: str) -> None:
    """``PodIndexLabel: false`` on v1.37.2 once replayed on the model, whose pods then lacked
    the pod-index label, and the quiescent check flagged every pod (ID-7): a configuration no
    cluster can have (kube_features.go: GA and locked from 1.32, removed in 1.35)."""
    path = _plan_file(tmp_path, gates=gates, k8sVersion=version)
    assert message in _bad_input(capsys, ["replay", str(path), "--backend", "model"])
    with pytest.raises(VersionError, match=re.escape(message)):
        ModelConfig.for_version(version, **gates)


def test_gate_settings_a_version_takes() -> None:
    assert ModelConfig.for_version("v1.34.4", PodIndexLabel=True).gate("PodIndexLabel")
    assert not ModelConfig.for_version(
        "v1.35.4", StatefulSetSemanticRevisionComparison=False).gate(
        "StatefulSetSemanticRevisionComparison")
    assert ModelConfig.for_version("v1.33.0", MaxUnavailableStatefulSet=True).gate(
        "MaxUnavailableStatefulSet")


def test_a_long_model_replay_says_how_far_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    """A plan of hundreds of replicas replays for minutes on the model (every pod simulated):
    it once printed nothing until the end."""
    import sts_props.replay as replay
    from sts_props.ops import Create, Scale, Settle

    monkeypatch.setattr(replay, "PROGRESS_EVERY", 0.0)
    lines: list[str] = []
    plan = Plan(Scenario(Manifests.seed(), (Create(), Scale(replicas=4), Settle())))
    run = replay.run_plan_on_model(plan, progress=lines.append)
    assert run.ok
    assert [line.split(" done")[0] for line in lines[:3]] == [
        "  op 1 of 3 (create)", "  op 2 of 3 (scale)", "  op 3 of 3 (settle)"]
    assert lines[-1].startswith("  checking the History (")


@pytest.mark.parametrize("args,flag", [
    (["check", "--kubeconfig", "kc.yaml"], "--kubeconfig"),
    (["check", "--backend", "kwok", "--context", "ctx"], "--context"),
    (["check", "--allow-existing-cluster"], "--allow-existing-cluster"),
    (["check", "--backend", "kwok", "--image", "x:1"], "--image"),
    (["seed", "--image", "x:1"], "--image"),
    (["mutants", "--list", "--kubeconfig", "kc.yaml"], "--kubeconfig"),
    (["doctor", "--backend", "kwok", "--image", "x:1"], "--image"),
    (["check", "--min-ops", "3"], "--min-ops"),
    (["claims", "--backend", "model", "--samples", "2"], "--samples"),
])
def test_a_flag_the_backend_would_ignore_is_refused(
        capsys: pytest.CaptureFixture[str], args: list[str], flag: str) -> None:
    """``check --backend model --kubeconfig ...`` once ran on the model and never said that the
    kubeconfig went unread; ``check --min-ops 3`` and ``claims --samples 2`` on the model
    ran without their flag's effect."""
    line = _bad_input(capsys, args)
    assert f"error: {flag} is for " in line and "would ignore it" in line


def test_doctor_takes_image_when_a_backend_it_checks_runs_one(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The refusal above is for an ``--image`` no checked backend would read; with kwok-image
    among the backends (or all of them, the default) the image reaches the checks."""
    import sts_props.cli.doctor as cli_doctor

    seen: list[tuple[list[str], str | None]] = []
    monkeypatch.setattr(cli_doctor, "diagnose",
                        lambda backends, version, image=None: seen.append((backends, image)) or [])
    assert main(["doctor", "--backend", "kwok", "--backend", "kwok-image", "--image", "x:1"]) == 0
    assert main(["doctor", "--image", "x:1"]) == 0
    assert [image for _, image in seen] == ["x:1", "x:1"]
    assert seen[0][0] == ["kwok", "kwok-image"]


# -- probes of session 17 (a helper's bad-input hunt) -------------------------------------------
def _one_line(capsys: pytest.CaptureFixture[str], args: list[str], code: int) -> str:
    """Run the CLI: exit ``code``, one line on stderr, nothing on stdout (no work was done)."""
    capsys.readouterr()
    assert main(args) == code
    out, err = capsys.readouterr()
    assert "Traceback" not in err and out == "", out
    (line,) = err.splitlines()
    return line


def test_a_fifo_as_junit_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Opening a FIFO to write waits for a reader: ``check --junit FIFO`` once hung in the
    check of its output paths (here a reader is open, so that the old code would run on)."""
    fifo = tmp_path / "report.xml"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        line = _bad_input(capsys, ["check", "--examples", "1", "--max-ops", "1",
                                   "--database", str(tmp_path / "db"), "--junit", str(fifo)])
    finally:
        os.close(reader)
    assert line == f"sts-props: error: --junit {fifo}: is a FIFO; give a file name"


def test_an_infinite_budget_is_refused_and_shown_shortened(
        capsys: pytest.CaptureFixture[str]) -> None:
    """400 digits are an infinite float: ``explore --budget 99...9h`` once ended in a
    traceback ("cannot convert float NaN to integer") when it printed its time share."""
    line = _bad_input(capsys, ["explore", "--budget", "9" * 400 + "h"])
    assert "argument --budget: expected a positive duration" in line
    assert "got '9999" in line and len(line) < 200


def test_jobs_on_the_model_is_refused_by_explore(capsys: pytest.CaptureFixture[str]) -> None:
    """``explore --jobs 4`` on the model once went unread; check and claims refused it."""
    line = _bad_input(capsys, ["explore", "--jobs", "4", "--model-examples", "1"])
    assert line.endswith("--jobs 4 runs the cluster tier's scenarios side by side: it needs a "
                         "cluster backend")


#: a claims run of seconds, were the refusal to come only after the model tier
_QUICK_CLAIMS = ["--claim", "1", "--examples", "1", "--search", "1"]


@pytest.mark.parametrize("command", [["explore", "--model-examples", "1"],
                                     ["claims", *_QUICK_CLAIMS]])
def test_a_missing_kubeconfig_is_refused_before_the_model_tier(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    """Both run on the model first (minutes by default) and start the cluster after: a
    missing kubeconfig file or context was once found only then."""
    missing = tmp_path / "kc.yaml"
    line = _one_line(capsys, [*command, "--backend", "kubeconfig", "--kubeconfig",
                              str(missing)], 2)
    assert line == f"sts-props: error: {missing}: no such kubeconfig file (pass --kubeconfig " \
                   "FILE or set KUBECONFIG)"
    missing.write_text("clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
                       "contexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x\n")
    line = _one_line(capsys, [*command, "--backend", "kubeconfig", "--kubeconfig",
                              str(missing), "--context", "nope"], 2)
    assert line.endswith(f"{missing}: no context 'nope' (it has: x)")


def test_a_home_path_that_cannot_be_expanded(monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """``~`` with no home directory behind it (``~nobody-here/x``; ``HOME`` unset and no
    password entry) once ended ``doctor`` and ``cluster status`` in a RuntimeError."""
    import pwd

    monkeypatch.setenv("STS_PROPS_CACHE", "~no-such-user-here/cache")
    assert _one_line(capsys, ["cluster", "status"], 3) == (
        "sts-props: error: $STS_PROPS_CACHE '~no-such-user-here/cache': no home directory to "
        "expand ~ in; give an absolute path")
    monkeypatch.setenv("KUBECONFIG", "~no-such-user-here/kc")
    line = _one_line(capsys, ["claims", "--backend", "kubeconfig", *_QUICK_CLAIMS], 2)
    assert line.endswith("$KUBECONFIG '~no-such-user-here/kc': no home directory to expand ~ "
                         "in; give an absolute path")
    line = _one_line(capsys, ["claims", "--backend", "kubeconfig", *_QUICK_CLAIMS,
                              "--kubeconfig", "~no-such-user-here/kc"], 2)
    assert line.endswith("kubeconfig '~no-such-user-here/kc': no home directory to expand ~ "
                         "in; give an absolute path")
    monkeypatch.delenv("STS_PROPS_CACHE")
    monkeypatch.delenv("HOME")

    def no_entry(uid: int) -> Any:
        raise KeyError(uid)

    monkeypatch.setattr(pwd, "getpwuid", no_entry)
    assert _one_line(capsys, ["cluster", "status"], 3) == (
        "sts-props: error: no home directory for ~/.cache/sts-props: set HOME, or "
        "STS_PROPS_CACHE to an absolute path")


def test_doctor_names_a_cache_that_cannot_hold_a_build(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``STS_PROPS_CACHE`` naming a file (or a place nobody may write): doctor once said the
    binaries were "not built yet: the first run builds them", a build that could not be
    stored there."""
    from sts_props.cluster.kwok.checks import binaries_finding

    afile = tmp_path / "cache-file"
    afile.write_text("x")
    monkeypatch.setenv("STS_PROPS_CACHE", str(afile))
    finding = binaries_finding("v1.37.2", can_build=True)
    assert not finding.ok
    assert finding.detail == (f"not built, and no build could be stored: $STS_PROPS_CACHE "
                              f"{afile} is not a directory")
    assert "STS_PROPS_CACHE" in finding.fix
    monkeypatch.setenv("STS_PROPS_CACHE", str(tmp_path / "fresh" / "cache"))
    assert binaries_finding("v1.37.2", can_build=True).ok  # created by the first build


def test_a_plan_whose_min_ready_wait_has_no_end_is_refused_before_a_cluster(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """minReadySeconds 2^31-1: the model's clock jumps ahead, and a cluster replay once
    waited for the cluster to follow, 68 years per pod (a hang). Refused in one line before
    a cluster starts; the model replays it."""
    from sts_props.ops import Create, Settle
    from sts_props.plan import Plan

    sts = Manifests.seed().statefulset
    sts["spec"]["minReadySeconds"] = 2**31 - 1
    plan = tmp_path / "slow.yaml"
    Plan(Scenario(Manifests.seed().with_statefulset(sts), (Create(), Settle())),
         backend="kwok").dump(plan)
    line = _one_line(capsys, ["replay", str(plan)], 2)
    assert line == (f"sts-props: error: {plan}: minReadySeconds 2147483647 over 3 pods could "
                    "need 6442450941 s of waiting in one op; a cluster run waits at most 900 s "
                    "(the model takes any value)")
    assert main(["replay", str(plan), "--backend", "model"]) == 0


def test_promote_tag_that_is_not_utf8_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A byte that is not UTF-8 (``--tag $'\\xff'``) arrives as a lone surrogate: promote once
    wrote it into a regression plan that nothing could load again."""
    plan = _plan_file(tmp_path)
    into = tmp_path / "regressions"
    into.mkdir()
    line = _bad_input(capsys, ["promote", str(plan), "--into", str(into), "--tag", "bad\udcff"])
    assert "argument --tag: 'bad\\udcff': not UTF-8 text" in line
    assert not list(into.iterdir())


def test_promote_from_a_path_that_is_not_utf8(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """The plan's path goes into ``origin.promotedFrom``: a byte of it that is not UTF-8 once
    made the promoted plan one that nothing could load again."""
    plan = _plan_file(tmp_path).rename(tmp_path / "plan\udcff.yaml")
    into = tmp_path / "regressions"
    into.mkdir()
    assert main(["promote", str(plan), "--into", str(into)]) == 0
    promoted = Plan.load(into / "probe.yaml")
    assert dict(promoted.origin)["promotedFrom"] == f"{tmp_path}/plan\\xff.yaml"


def test_a_removed_working_directory(tmp_path: Path) -> None:
    """Hypothesis reads the working directory when imported: in a directory removed under the
    shell every command once ended in that import's traceback."""
    import subprocess
    import sys

    gone = tmp_path / "gone"
    gone.mkdir()
    script = (f"import os, runpy, sys; os.chdir({str(gone)!r}); os.rmdir({str(gone)!r}); "
              "sys.argv = ['sts-props', 'validate', 'x.yaml']; "
              "runpy.run_module('sts_props.cli', run_name='__main__')")
    repo = str(Path(__file__).resolve().parent.parent)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": repo}, timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        "sts-props: error: the working directory cannot be used (No such file or directory; "
        "was it removed?): cd to a directory that exists"]
