"""The scheduler of scenarios side by side (``--jobs``, issue 13 item 1), on plain items: how
many run at once, that an item marked to run alone never shares the cluster, what a failure, an
error and an interrupt do. The cluster side is in tests/test_cluster_kwok.py."""

from __future__ import annotations

import threading
import time

import pytest

from sts_props.cluster.driver import Cancelled
from sts_props.concurrent_runs import ControlPlaneLock, run_all, run_concurrently, runs_alone


class Probe:
    """Runs items (ints) for a moment each and notes what ran at the same time."""

    def __init__(self, seconds: float = 0.05) -> None:
        self.seconds = seconds
        self.lock = threading.Lock()
        self.active: set[int] = set()
        self.peak = 0
        self.beside: dict[int, set[int]] = {}
        self.started: list[int] = []

    def run(self, item: int, cancel: threading.Event) -> int:
        with self.lock:
            self.active.add(item)
            self.started.append(item)
            self.peak = max(self.peak, len(self.active))
            for other in self.active:
                self.beside.setdefault(other, set()).update(self.active - {other})
        deadline = time.monotonic() + self.seconds
        while time.monotonic() < deadline and not cancel.is_set():
            time.sleep(0.005)
        with self.lock:
            self.active.discard(item)
        return -item if cancel.is_set() else item


def test_at_most_jobs_at_once_and_every_item_reported_once() -> None:
    probe, done = Probe(), []
    n = run_concurrently(range(10), 3, alone=lambda i: False, run=probe.run,
                         done=lambda i, r: done.append((i, r)), failed=lambda r: False)
    assert n == 10 and sorted(done) == [(i, i) for i in range(10)]
    assert 2 <= probe.peak <= 3
    assert probe.started == list(range(10))  # started in the order given


def test_an_item_that_runs_alone_has_nothing_beside_it() -> None:
    probe = Probe()
    alone = {3, 4, 7}
    run_concurrently(range(10), 4, alone=lambda i: i in alone, run=probe.run,
                     done=lambda i, r: None, failed=lambda r: False)
    for item in alone:
        assert probe.beside.get(item, set()) == set(), f"{item} ran beside others"
    assert probe.peak >= 2  # the others still ran side by side


def test_jobs_1_is_one_at_a_time() -> None:
    probe = Probe(0.01)
    run_concurrently(range(5), 1, alone=lambda i: False, run=probe.run,
                     done=lambda i, r: None, failed=lambda r: False)
    assert probe.peak == 1


def test_no_new_item_after_a_failure_and_those_in_flight_are_reported() -> None:
    probe, done = Probe(), []
    n = run_concurrently(range(20), 3, alone=lambda i: False, run=probe.run,
                         done=lambda i, r: done.append(i), failed=lambda r: r == 1)
    assert 1 in done
    assert n == len(done) < 20
    assert set(probe.started) == set(done)  # what started was reported, nothing after


def test_an_error_is_raised_after_the_flight_lands() -> None:
    probe = Probe()

    def run(item: int, cancel: threading.Event) -> int:
        if item == 2:
            raise RuntimeError("the cluster went away")
        return probe.run(item, cancel)

    done: list[int] = []
    with pytest.raises(RuntimeError, match="went away"):
        run_concurrently(range(10), 3, alone=lambda i: False, run=run,
                         done=lambda i, r: done.append(i), failed=lambda r: False)
    assert 2 not in done and not probe.active  # nothing left running
    assert len(done) < 9


def test_an_interrupt_cancels_the_runs_in_flight_and_waits_for_them() -> None:
    probe, slow = Probe(), Probe(seconds=30)  # 30 s unless cancelled
    started = time.monotonic()

    def run(item: int, cancel: threading.Event) -> int:
        return (probe if item == 1 else slow).run(item, cancel)

    def done(item: int, result: int) -> None:
        raise KeyboardInterrupt  # Ctrl-C while the main thread hands over item 1's result

    with pytest.raises(KeyboardInterrupt):
        run_concurrently([1, 2, 3], 3, alone=lambda i: False, run=run, done=done,
                         failed=lambda r: False)
    assert time.monotonic() - started < 10
    assert sorted(slow.started) == [2, 3] and not slow.active  # cancelled, ended before


def test_the_callers_cancel_ends_the_flight_and_starts_nothing_more() -> None:
    """A run that is one of several side by side (a controller mutant's scenarios on its own
    cluster) is cancelled from outside: no further item starts and Cancelled is raised."""
    slow = Probe(seconds=30)
    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(Cancelled, match="3 item"):
        run_concurrently([1, 2, 3, 4, 5], 2, alone=lambda i: False, run=slow.run,
                         done=lambda i, r: None, failed=lambda r: False, cancel=cancel)
    assert time.monotonic() - started < 10
    assert sorted(slow.started) == [1, 2] and not slow.active
    with pytest.raises(Cancelled):  # already set: nothing runs at all
        run_all([7], 1, alone=lambda i: False, run=slow.run, cancel=cancel)
    assert 7 not in slow.started


def test_bad_jobs() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        run_concurrently([1], 0, alone=lambda i: False, run=lambda i, c: i,
                         done=lambda i, r: None, failed=lambda r: False)


def test_run_all_returns_every_result_in_the_order_given() -> None:
    probe, heard = Probe(), []
    results = run_all(list(range(8)), 3, alone=lambda i: i == 5, run=probe.run,
                      done=lambda i, r: heard.append(i))
    assert results == list(range(8)) and sorted(heard) == list(range(8))
    assert probe.beside.get(5, set()) == set() and probe.peak >= 2


def test_searches_side_by_side_run_a_disturbing_scenario_alone() -> None:
    """ControlPlaneLock (model mutants side by side): three threads, each running its own
    scenarios one at a time; the one whose scenario restarts the controller never shares the
    cluster, and the others do share it."""
    from sts_props.ops import Create, Settle, op_from_dict
    from sts_props.scenario import Manifests, Scenario

    quiet = Scenario(Manifests.seed(), (Create(), Settle()))
    loud = Scenario(Manifests.seed(), (Create(), op_from_dict({"op": "restart_controller"})))
    assert runs_alone(loud) and not runs_alone(quiet)
    lock, probe = ControlPlaneLock(), Probe(seconds=0.02)
    loud_items = {100, 101, 102}

    def search(first: int) -> None:
        for item in range(first, first + 6):
            scenario = loud if item in loud_items else quiet
            with lock.hold(scenario):
                probe.run(item, threading.Event())

    threads = [threading.Thread(target=search, args=(start,)) for start in (0, 10, 100)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(probe.started) == 18 and lock.holders == 0
    for item in loud_items:
        assert probe.beside.get(item, set()) == set(), f"{item} ran beside others"
    assert probe.peak >= 2
