"""Check ``CRASH``: no control-plane component exits by itself during a scenario (issue 12).

The cluster driver restarts a kube-apiserver, kube-controller-manager or kube-scheduler that
exited on its own (:meth:`sts_props.cluster.base.Cluster.supervise`, as a kubelet restarts a
static pod) so that the run can go on, and records a ``crash`` record in the History: the
component, its pid, its exit status when known, what its log says (the first lines of a panic
or fatal error, else its last lines), when it was found and after which op. This check turns
each such record into a violation, so that it fails the scenario, survives in a saved
``history.jsonl`` and is re-checked offline like every other check.

A planned restart fault (``restart_controller``, ``restart_apiserver``) kills and restarts its
component itself: that is never a crash record. What is excused, and why:

* a kube-controller-manager or kube-scheduler that exits because it **lost its leader
  election** (its log says ``leaderelection lost``) while a planned ``restart_apiserver`` kept
  the apiserver away, i.e. between that op's invoke and the quiescent record that ends its
  wait, or found by the restart itself (the record's ``window``). Leader election is meant to
  work that way: a leader that cannot renew its Lease for its renew deadline (10 s) exits, and
  the kubelet restarts it.

* a crash that is a **known upstream deviation** (:data:`KNOWN_CRASHES`, each with its finding
  in docs/findings.md): kube-scheduler exits on purpose when it finds its cache corrupted
  ("Scheduler cache is corrupted", F-2): a pod deleted and re-created under its name while
  the scheduler's watch was away (an apiserver restart) reaches it as one update of two UIDs
  (upstream fix open, #141255); StatefulSet pods keep their names, so fault runs meet it.
  :func:`known_crashes` lists them, so a run tells a known deviation from a new one.

Everything else is a violation, in a planned window too: a component other than the restarted
one that panics or dies of a fatal error, a leader that loses its election outside such a
window (the apiserver was slow, not away), and an apiserver that exits by itself.

>>> from sts_props.history import History
>>> h = History.new(backend="kwok", set_name="web")
>>> _ = h.op("invoke", 0, {"op": "create"})
>>> _ = h.append("crash", 1.0, component="kube-scheduler", pid=7, how="exit status 2",
...              cause="panic", excerpt=["panic: boom"], at=0.0, restartSeconds=1.2,
...              window="", opIndex=0, found="after op 0")
>>> [v.check for v in check_crashes(h)]
['CRASH']
>>> check_crashes(History.new(backend="kwok", set_name="web"))
[]
"""

from __future__ import annotations

from sts_props.checks._timeline import as_dict, as_int
from sts_props.checks.violation import Violation
from sts_props.cluster.base import LEADER_LOST, Crash
from sts_props.history import Event, History
from sts_props.ops import describe_op_record

#: the components that hold a leader Lease (and so may lose it while the apiserver is away)
LEADER_ELECTED = ("kube-controller-manager", "kube-scheduler")

#: Known upstream deviations: (component, text in its log excerpt, finding in docs/findings.md).
KNOWN_CRASHES: tuple[tuple[str, str, str], ...] = (
    ("kube-scheduler", "Scheduler cache is corrupted", "F-2"),
)


def known_finding(crash: Crash) -> str | None:
    """The finding a crash is a known instance of, or None."""
    text = " ".join([crash.summary(), *crash.excerpt])
    return next((finding for component, needle, finding in KNOWN_CRASHES
                 if crash.component == component and needle in text), None)


def known_crashes(history: History) -> list[str]:
    """The crashes of ``history`` that are known upstream deviations, one line each."""
    out = []
    for ev in history.events:
        if ev.type == "crash":
            crash = Crash.from_record(ev.data)
            finding = known_finding(crash)
            if finding is not None:
                out.append(f"{crash.component} exited at {ev.where()}: known upstream "
                           f"deviation {finding} (docs/findings.md)")
    return out


def check_crashes(history: History) -> list[Violation]:
    """One ``CRASH`` violation per ``crash`` record that is not excused (module docstring)."""
    out: list[Violation] = []
    last: Event | None = None
    outage: int | None = None  # index of a restart_apiserver whose window is open
    for ev in history.events:
        if ev.type == "op" and ev.phase == "invoke":
            last = ev
            if as_dict(ev.data.get("op")).get("op") == "restart_apiserver":
                outage = as_int(ev.data.get("index"), -1)
        elif ev.type == "quiescent" and outage is not None \
                and as_int(ev.data.get("afterOp"), -1) >= outage:
            outage = None
        elif ev.type == "crash":
            crash = Crash.from_record(ev.data)
            planned = bool(crash.window) or outage is not None
            if planned and crash.cause == LEADER_LOST and crash.component in LEADER_ELECTED:
                continue
            if known_finding(crash) is not None:
                continue  # reported by known_crashes, not a new violation
            out.append(_violation(ev, crash, last, planned))
    return out


def _violation(ev: Event, crash: Crash, last: Event | None, planned: bool) -> Violation:
    found = str(ev.data.get("found") or "")
    op = ""
    if last is not None:
        text = describe_op_record(last.data.get("op"))
        op = (f"; the op in flight or last invoked: op {last.data.get('index')} \"{text}\" "
              f"({last.where()})")
    window = (" while a planned restart kept the apiserver away, which explains only a lost "
              "leader election" if planned else "")
    cited = (ev.seq, last.seq) if last is not None else (ev.seq,)
    return Violation(
        "CRASH", "CRASH",
        f"{crash.summary()}. Found at {ev.where()}{f' ({found})' if found else ''}{window}{op}."
        f" The harness restarted it (serving again after {crash.restart_seconds:.1f}s).",
        cited)
