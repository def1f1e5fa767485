"""The ``CRASH`` check (issue 12): a control-plane component that exits by itself fails the
scenario; a leader that loses its election while a planned apiserver restart keeps the apiserver
away does not. On kwok: ``tests/test_supervisor_kwok.py``."""

from __future__ import annotations

from pathlib import Path

from sts_props.checks import check_crashes
from sts_props.cluster.base import FATAL, LEADER_LOST, PANIC, Crash
from sts_props.cluster.crashlog import read_excerpt
from sts_props.history import History
from sts_props.report.rules import title


def _history(*, crash: Crash | None, restart_apiserver: bool = False,
             after_window: bool = False) -> History:
    h = History.new(backend="kwok", set_name="web", clock_granularity=1.0)
    h.op("invoke", 0, {"op": "create"}, t=0.1)
    h.op("ok", 0, {"op": "create"}, t=0.2, outcome={"status": "ok"}, writes=[])
    h.quiescent(0, True, t=1.0)
    first = {"op": "restart_apiserver"} if restart_apiserver else {"op": "scale", "replicas": 2}
    h.op("invoke", 1, first, t=1.1)
    if crash is not None and not after_window:
        h.append("crash", 2.0, **crash.record(), opIndex=1, found="after op 1")
    h.op("ok", 1, first, t=3.0, outcome={"status": "ok"}, writes=[])
    h.quiescent(1, True, t=4.0)
    if crash is not None and after_window:
        h.append("crash", 5.0, **crash.record(), opIndex=1, found="before op 2")
    return h


def _crash(component: str = "kube-scheduler", cause: str = PANIC, window: str = "") -> Crash:
    excerpt = {PANIC: ("panic: runtime error: index out of range", "goroutine 212 [running]:"),
               FATAL: ("F1204 10:00:00.000000 1 server.go:1] cannot serve",),
               LEADER_LOST: ('E1204 10:00:00.000000 1 leaderelection.go:1] "leaderelection lost"',),
               "": ("I1204 10:00:00.000000 1 eventhandlers.go:1] add event for scheduled pod",)}
    return Crash(component, 4242, "exit status 2", cause, excerpt[cause], at=0.0,
                 restart_seconds=1.3, window=window)


def test_a_crash_record_is_a_violation_naming_component_log_and_op() -> None:
    vs = check_crashes(_history(crash=_crash()))
    assert [v.rule for v in vs] == ["CRASH"]
    msg = vs[0].message
    assert "kube-scheduler (pid 4242) exited by itself: exit status 2" in msg
    assert "panic: runtime error: index out of range" in msg
    assert 'op 1 "scale to 2"' in msg and "after op 1" in msg
    assert title("CRASH")


def test_no_crash_record_no_violation() -> None:
    assert check_crashes(_history(crash=None)) == []


def test_a_crash_survives_a_saved_history(tmp_path: Path) -> None:
    _history(crash=_crash(cause="")).save(tmp_path / "history.jsonl")
    vs = check_crashes(History.load(tmp_path / "history.jsonl"))
    assert len(vs) == 1 and "no panic or fatal line in its log" in vs[0].message


def test_a_lost_election_during_a_planned_apiserver_restart_is_excused() -> None:
    lost = _crash("kube-controller-manager", LEADER_LOST)
    assert check_crashes(_history(crash=lost, restart_apiserver=True)) == []
    # found by the restart itself (its window), wherever the record falls
    assert check_crashes(_history(crash=_crash(cause=LEADER_LOST, window="kube-apiserver"),
                                  after_window=True)) == []


def test_only_a_lost_election_and_only_in_the_window_is_excused() -> None:
    panicked = check_crashes(_history(crash=_crash(), restart_apiserver=True))
    assert len(panicked) == 1 and "planned restart" in panicked[0].message
    later = check_crashes(_history(crash=_crash(cause=LEADER_LOST), restart_apiserver=True,
                                   after_window=True))
    assert len(later) == 1  # the wait after the restart had settled: not explained by it
    plain = check_crashes(_history(crash=_crash(cause=LEADER_LOST)))
    assert len(plain) == 1  # no planned restart at all
    apiserver = check_crashes(_history(crash=_crash("kube-apiserver", FATAL),
                                       restart_apiserver=True))
    assert len(apiserver) == 1


def test_the_excerpt_is_read_from_where_the_dead_process_began(tmp_path: Path) -> None:
    log = tmp_path / "kube-scheduler.log"
    log.write_text("panic: an older process's panic\ngoroutine 1 [running]:\n")
    start = log.stat().st_size
    with log.open("a") as f:
        f.write("I1204 10:00:00.000000 1 server.go:1] serving\n"
                "F1204 10:00:01.000000 1 cache.go:9] the cache is corrupt\n"
                "goroutine 1 [running]:\nk8s.io/scheduler.f()\n")
    cause, excerpt = read_excerpt(log, start)
    assert cause == FATAL
    assert excerpt[0].endswith("the cache is corrupt") and "k8s.io/scheduler.f()" in excerpt
    assert read_excerpt(log)[0] == PANIC  # the whole file: the older process's panic first
    assert read_excerpt(tmp_path / "missing.log") == ("", ())


def test_the_schedulers_cache_corrupted_exit_is_the_known_finding_f2_not_a_new_crash() -> None:
    """Seen in CI after a node failure: kube-scheduler exits on purpose when its cache is
    corrupted (docs/findings.md F-2). A known upstream deviation is listed, not a violation;
    any other scheduler exit still is one."""
    from sts_props.checks.crash import check_crashes, known_crashes
    from sts_props.history import History

    def history(excerpt: list[str]) -> History:
        h = History.new(backend="kwok", set_name="web")
        h.op("invoke", 0, {"op": "fail_pod", "ordinal": 0})
        h.append("crash", 1.0, component="kube-scheduler", pid=7, how="exit status unknown",
                 cause="exit", excerpt=excerpt, at=0.0, restartSeconds=0.6, window="",
                 opIndex=0, found="after op 0")
        return h

    known = history(['E1204 cache.go:662] "Pod updated on a different node than previously '
                     'added to. Scheduler cache is corrupted and can badly affect scheduling"'])
    assert check_crashes(known) == []
    assert [line.split(": ", 1)[1] for line in known_crashes(known)] == [
        "known upstream deviation F-2 (docs/findings.md)"]
    other = history(["panic: runtime error: index out of range"])
    assert [v.check for v in check_crashes(other)] == ["CRASH"]
    assert known_crashes(other) == []
