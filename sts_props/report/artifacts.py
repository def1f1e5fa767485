"""One directory per failing run: plan, histories, explanation, timeline picture.

``write_artifacts(root, plan, history, violations, model_history=None)`` makes
``root/<YYYYmmdd-HHMMSS>-<random>/`` with:

* ``plan.yaml``: the :class:`~sts_props.plan.Plan` (replay it with ``sts-props replay``);
* ``history.jsonl``: the run's History (the cluster's in a differential run) and, for a
  differential run, ``model-history.jsonl``;
* ``explanation.md``: each violation in sentences (:mod:`.explain`);
* ``timeline.svg``: the picture (:mod:`.timeline_svg`), and ``model-timeline.svg`` for a
  differential run;
* ``violations.txt``: one line per violation (for grep and for older tooling);
* ``<component>.log`` for each control-plane log excerpt given (``logs``; a cluster run's
  :meth:`~sts_props.cluster.base.Cluster.log_excerpts`: on kwok, the kube-controller-manager
  lines written while the scenario ran).

>>> import tempfile
>>> from pathlib import Path
>>> from sts_props.checks import Violation
>>> from sts_props.model import run_model
>>> from sts_props.ops import Create, Settle
>>> from sts_props.plan import Plan
>>> from sts_props.scenario import Manifests, Scenario
>>> plan = Plan(Scenario(Manifests.seed(), (Create(), Settle())), name="demo")
>>> h = run_model(plan.scenario).history
>>> scratch = tempfile.TemporaryDirectory()
>>> where = write_artifacts(Path(scratch.name), plan, h, [Violation("Q", "Q/ST-1", "x")])
>>> sorted(p.name for p in where.iterdir())
['explanation.md', 'history.jsonl', 'plan.yaml', 'timeline.svg', 'violations.txt']
>>> scratch.cleanup()
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from sts_props.checks import Violation
from sts_props.history import History
from sts_props.plan import Plan
from sts_props.report.explain import cited_records, explain
from sts_props.report.timeline_svg import Highlight, timeline_svg


def highlights(violations: Sequence[Violation], which: str, differential: bool
               ) -> list[Highlight]:
    """The records to mark on the ``which`` history ("run", "model" or "cluster")."""
    out = []
    for number, v in enumerate(violations, 1):
        seqs = tuple(seq for side, seq in cited_records(v, differential)
                     if side == which or (side == "run" and which in ("run", "cluster")))
        check = v.rule.split("/", 1)[0]
        out.append(Highlight(f"V{number} {check}", seqs, v.describe()))
    return out


def write_artifacts(root: Path, plan: Plan, history: History, violations: Sequence[Violation],
                    model_history: History | None = None,
                    logs: Mapping[str, str] | None = None) -> Path:
    """Write the files of a failing run into a new directory under ``root``; returns it."""
    root.mkdir(parents=True, exist_ok=True)
    where = Path(tempfile.mkdtemp(prefix=time.strftime("%Y%m%d-%H%M%S-"), dir=root))
    differential = model_history is not None
    plan.dump(where / "plan.yaml")
    history.save(where / "history.jsonl")
    (where / "violations.txt").write_text(
        "".join(v.describe() + "\n" for v in violations), encoding="utf-8")
    (where / "explanation.md").write_text(
        explain(plan, history, violations, model_history, sorted(logs or {})),
        encoding="utf-8")
    backend = str(history.header.get("backend") or plan.backend)
    name = plan.name or plan.manifests.set_name
    main_side = "cluster" if differential else "run"
    (where / "timeline.svg").write_text(timeline_svg(
        history, highlights(violations, main_side, differential),
        title=f"{name} on {backend}: {len(violations)} violation(s)"), encoding="utf-8")
    if model_history is not None:
        model_history.save(where / "model-history.jsonl")
        (where / "model-timeline.svg").write_text(timeline_svg(
            model_history, highlights(violations, "model", True),
            title=f"{name} on the reference model"), encoding="utf-8")
    for component, text in sorted((logs or {}).items()):
        (where / f"{component}.log").write_text(text, encoding="utf-8")
    return where
