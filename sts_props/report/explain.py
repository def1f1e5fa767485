"""``explanation.md``: each violation of a failing run in sentences.

For every violation: what happened (the check's own sentence), which rule (the IDs, with a
title for each), and which history records it rests on, each described (``#14 (t=6s): Pod
redis-2 ADDED, phase Pending, during op 3 "scale to 5"``). Then the ops that ran with their
answers, and how to replay the plan.

>>> from sts_props.checks import Violation
>>> from sts_props.model import run_model
>>> from sts_props.ops import Create, Settle
>>> from sts_props.plan import Plan
>>> from sts_props.scenario import Manifests, Scenario
>>> plan = Plan(Scenario(Manifests.seed(), (Create(), Settle())), name="demo")
>>> h = run_model(plan.scenario).history
>>> text = explain(plan, h, [Violation("CHK-3", "CHK-3/ORD-1", "Pod redis-1 came early.", (5,))])
>>> "## 1. CHK-3/ORD-1" in text and "#5" in text
True
"""

from __future__ import annotations

from collections.abc import Sequence

from sts_props.checks import Violation
from sts_props.history import Event, History
from sts_props.ops import describe_op_record
from sts_props.plan import Plan
from sts_props.report.rules import rule_ids, title
from sts_props.snapshot import is_ready, is_terminating, phase


def describe_record(history: History, seq: int) -> str:
    """One phrase for record ``seq``: what it is, and during which op it was recorded."""
    if not 0 <= seq < len(history):
        return f"#{seq}: not in this history"
    ev = history.events[seq]
    what = _what(ev)
    op = _op_during(history, seq)
    # op and quiescent records name their op themselves
    during = f", during op {op}" if op and ev.type == "object" else ""
    return f"{ev.where()}: {what}{during}"


def _what(ev: Event) -> str:
    if ev.type == "op":
        op = ev.data.get("op") or {}
        text = describe_op_record(op)
        verb = {"invoke": "invoked", "ok": "accepted", "fail": "rejected",
                "info": "indeterminate"}.get(ev.phase, ev.phase)
        return f'op {ev.data.get("index")} "{text}" {verb}'
    if ev.type == "quiescent":
        settled = "settled" if ev.data.get("settled") else "not settled"
        reason = f" ({ev.data.get('reason')})" if ev.data.get("reason") else ""
        return f"quiescent point after op {ev.data.get('afterOp')}, {settled}{reason}"
    if ev.type == "crash":
        return (f"{ev.data.get('component')} (pid {ev.data.get('pid')}) found exited "
                f"({ev.data.get('how')}), restarted by the harness")
    if ev.type == "object":
        obj = ev.obj
        detail = ""
        if ev.kind == "Pod" and ev.action != "DELETED":
            flags = [phase(obj) or "no phase", "Ready" if is_ready(obj) else "not Ready"]
            if is_terminating(obj):
                flags.append("terminating")
            detail = ", " + ", ".join(flags)
        elif ev.kind == "StatefulSet" and ev.action != "DELETED":
            st = obj.get("status") or {}
            detail = (f", replicas {st.get('replicas')}, ready {st.get('readyReplicas')}, "
                      f"updated {st.get('updatedReplicas')}")
        return f"{ev.kind} {ev.name} {ev.action}{detail}"
    return ev.type


def _op_during(history: History, seq: int) -> str:
    """The last op invoked at or before ``seq``: ``3 "scale to 5"``."""
    last = None
    for ev in history.ops():
        if ev.seq > seq:
            break
        if ev.phase == "invoke":
            last = ev
    if last is None:
        return ""
    return f'{last.data.get("index")} "{describe_op_record(last.data.get("op"))}"'


def cited_records(v: Violation, differential: bool) -> list[tuple[str, int]]:
    """``[(which history, seq)]``: a CMP violation cites (model seq, cluster seq)."""
    if differential and v.check == "CMP" and len(v.events) >= 2:
        return [("model", v.events[0]), ("cluster", v.events[1])]
    return [("run", s) for s in v.events]


def explain(plan: Plan, history: History, violations: Sequence[Violation],
            model_history: History | None = None, logs: Sequence[str] = ()) -> str:
    """The Markdown text of ``explanation.md``; ``logs``: the components whose log excerpt
    goes beside it (``<component>.log``)."""
    backend = str(history.header.get("backend") or plan.backend)
    version = str(history.header.get("k8sVersion") or plan.k8s_version)
    against = " compared with the reference model" if model_history is not None else ""
    lines = [f"# Counterexample: {plan.name or plan.manifests.set_name}", "",
             f"Run on **{backend}** (Kubernetes {version}){against}: "
             f"{len(plan.ops)} ops, {len(violations)} violation(s)."]
    if plan.upstream:
        lines.append(f"Generalises the upstream e2e test: `{plan.upstream}`.")
    gates = ", ".join(f"{k}={'on' if v else 'off'}" for k, v in plan.gates)
    lines.append(f"Feature gates overridden: {gates or 'none (the version defaults)'}; "
                 f"seed: {plan.seed if plan.seed is not None else 'none'}.")
    if plan.mutant:
        lines.append(f"The model ran as mutant `{plan.mutant}`: one of its rules is broken on "
                     "purpose (sts_props/mutants.py), so a failure may be the mutant's.")
    lines.append("")
    for number, v in enumerate(violations, 1):
        lines += _violation_section(number, v, history, model_history)
    lines += ["## The ops that ran", ""]
    answers = {int(ev.data.get("index", -1)): ev for ev in history.ops() if ev.phase != "invoke"}
    for ev in history.ops():
        if ev.phase != "invoke":
            continue
        index = int(ev.data.get("index", -1))
        answer = answers.get(index)
        verdict = ("no answer recorded" if answer is None else
                   {"ok": "accepted", "fail": "rejected", "info": "indeterminate"}.get(
                       answer.phase, answer.phase))
        text = describe_op_record(ev.data.get("op"))
        lines.append(f"{index}. {text} (invoked at {ev.where()}, {verdict})")
    files = ["`plan.yaml`: the manifests, ops, backend, version, gates and seed of this run",
             "`history.jsonl`: the History of this run"
             + (" (the cluster's); `model-history.jsonl`: the model's" if model_history
                is not None else ""),
             "`timeline.svg`: one lane per ordinal; the red bands are the records cited above "
             "(V1, V2, ...)",
             *[f"`{component}.log`: what {component} logged while this scenario ran"
               for component in logs]]
    lines += ["", "## Files and replay", "",
              *[f"- {text}{'.' if n == len(files) else ';'}" for n, text in enumerate(files, 1)],
              "",
              "Run it again with `sts-props replay plan.yaml`"
              + (f" (on {plan.backend}, as the plan records; `--backend model` runs the "
                 "model alone)" if plan.backend != "model" else "") + ".", ""]
    return "\n".join(lines)


def _violation_section(number: int, v: Violation, history: History,
                       model_history: History | None) -> list[str]:
    out = [f"## {number}. {v.rule}", "", f"**What happened.** {v.message}", ""]
    ids = rule_ids(v.rule)
    named = [f"{i} ({title(i)})" if title(i) else i for i in ids]
    out.append(f"**Which rule.** This breaks {'; '.join(named)}. The rule text is in "
               "`statefulset-semantics.md` under these IDs.")
    out.append("")
    cited = cited_records(v, model_history is not None)
    if cited:
        out.append("**Where.** The records this rests on (V"
                   f"{number} in the timeline):")
        for which, seq in cited:
            h = model_history if which == "model" and model_history is not None else history
            prefix = f"{which} history " if which != "run" else ""
            out.append(f"- {prefix}{describe_record(h, seq)}")
    else:
        out.append("**Where.** The check cites no single record: it concerns the run as a "
                   "whole.")
    out.append("")
    return out
