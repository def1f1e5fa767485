"""Run scenarios side by side on one cluster (``--jobs N``, issue 13): a scheduler that knows
which scenarios must run alone.

Each scenario already lives in its own labelled namespace with its own recorder and History
(:class:`~sts_props.cluster.driver.ClusterRun`), so scenarios of different namespaces do not see
each other's objects. What they share is the control plane: a scenario whose ops disturb it
(:attr:`sts_props.ops.Op.shared`: a controller or apiserver restart, a node failure, cordoned
nodes, a cluster-wide admission policy) would disturb every other scenario in flight, which its
model knows nothing about. Such a scenario runs *alone*: the scheduler lets the scenarios in
flight finish, runs it with nothing beside it, then goes on.

The items run in the order given (the most teaching first); results are handed over in the
order they finish, in the calling thread, so whoever counts them needs no lock. After the
first failing result no new item starts; those in flight finish and are handed over too. An
interrupt (Ctrl-C, SIGTERM) in the calling thread sets ``cancel`` (the runs end at their next
check and clean up their namespaces) and waits up to :data:`CANCEL_WAIT` seconds for them.

>>> import threading
>>> seen = []
>>> def run(n: int, cancel: threading.Event) -> int:
...     return n * n
>>> finished = run_concurrently([1, 2, 3], jobs=2, alone=lambda n: n == 3, run=run,
...                             done=lambda n, r: seen.append((n, r)),
...                             failed=lambda r: False)
>>> sorted(seen), finished
([(1, 1), (2, 4), (3, 9)], 3)
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TypeVar

from sts_props.cluster.driver import Cancelled
from sts_props.ops import SHARED_OPS
from sts_props.scenario import Scenario

Item = TypeVar("Item")
Result = TypeVar("Result")

#: seconds an interrupted run waits for the scenarios in flight to clean up
CANCEL_WAIT = 60.0


def prefixed(progress: Callable[[str], None], prefix: str) -> Callable[[str], None]:
    """``progress`` with ``prefix`` before every line: whose line it is, when several runs
    print side by side.

    >>> lines: list[str] = []
    >>> prefixed(lines.append, "[a] ")("started")
    >>> lines
    ['[a] started']
    """
    return lambda line: progress(prefix + line)


def runs_alone(scenario: Scenario) -> bool:
    """Whether an op of ``scenario`` disturbs what every namespace shares (:attr:`Op.shared`),
    so that it must run with nothing beside it."""
    return any(op.kind in SHARED_OPS for op in scenario.ops)


class ControlPlaneLock:
    """For searches side by side that each run their scenarios one at a time (model mutants,
    one Hypothesis search each, :func:`sts_props.mutation_runs.run_mutation_suite`): a
    scenario holds the lock ``shared`` beside others, or, when it :func:`runs_alone`,
    ``alone`` with nothing beside it. A scenario waiting to run alone goes before scenarios
    that come after it, so it is not starved.

    >>> from sts_props.scenario import Manifests
    >>> lock = ControlPlaneLock()
    >>> with lock.hold(Scenario(Manifests.seed(), ())):
    ...     lock.holders
    1
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self.holders = 0  # scenarios in flight
        self._alone = False
        self._waiting_alone = 0

    @contextlib.contextmanager
    def hold(self, scenario: Scenario) -> Iterator[None]:
        """Hold the lock for one run of ``scenario``, alone if it must be."""
        solo = runs_alone(scenario)
        with self._changed:
            if solo:
                self._waiting_alone += 1
                self._changed.wait_for(lambda: not self._alone and self.holders == 0)
                self._waiting_alone -= 1
                self._alone = True
            else:
                self._changed.wait_for(lambda: not self._alone and not self._waiting_alone)
            self.holders += 1
        try:
            yield
        finally:
            with self._changed:
                self.holders -= 1
                self._alone = False if solo else self._alone
                self._changed.notify_all()


def run_concurrently(
    items: Iterable[Item],
    jobs: int,
    alone: Callable[[Item], bool],
    run: Callable[[Item, threading.Event], Result],
    done: Callable[[Item, Result], None],
    failed: Callable[[Result], bool],
    started: Callable[[Item], None] | None = None,
    cancel: threading.Event | None = None,
) -> int:
    """Run ``run(item, cancel)`` for each item, at most ``jobs`` at once, an item for which
    ``alone(item)`` holds with nothing beside it; ``done(item, result)`` for each result as it
    comes (in this thread). Stops starting new items after a result for which ``failed``
    holds. Returns how many items ran to a result.

    An exception in ``run`` (a cluster error) is raised here once the items in flight have
    finished, as the sequential loop would raise it.

    ``cancel``: the caller's own event, for a run that is itself one of several side by side
    (each mutant's scenarios on its own cluster): once it is set no item starts, and the runs
    in flight see it as they would see an interrupt here.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    queue = deque(items)
    cancel = cancel if cancel is not None else threading.Event()
    finished = 0
    stop = False
    error: BaseException | None = None
    flight: dict[cf.Future[Result], tuple[Item, bool]] = {}
    pool = cf.ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="scenario")
    try:
        while queue or flight:
            while (queue and not stop and error is None and not cancel.is_set()
                   and len(flight) < jobs):
                item = queue[0]
                solo = alone(item)
                if flight and (solo or any(s for _, s in flight.values())):
                    break  # it runs alone, or one runs alone now: wait for the flight to land
                queue.popleft()
                if started is not None:
                    started(item)
                flight[pool.submit(run, item, cancel)] = (item, solo)
            if not flight:
                break
            landed, _ = cf.wait(flight, return_when=cf.FIRST_COMPLETED)
            for future in landed:
                item, _ = flight.pop(future)
                exc = future.exception()
                if exc is not None:
                    error = error or exc
                    continue
                result = future.result()
                finished += 1
                done(item, result)
                if failed(result):
                    stop = True
    except BaseException:
        cancel.set()  # interrupted: the runs in flight end at their next check
        _, late = cf.wait(flight, timeout=CANCEL_WAIT)
        if late:
            pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    if error is not None:
        raise error
    if queue and cancel.is_set():  # the caller's cancel (an interrupt here raised above)
        raise Cancelled(f"cancelled with {len(queue)} item(s) not started")
    return finished


def run_all(
    items: Sequence[Item],
    jobs: int,
    alone: Callable[[Item], bool],
    run: Callable[[Item, threading.Event], Result],
    done: Callable[[Item, Result], None] | None = None,
    started: Callable[[Item], None] | None = None,
    cancel: threading.Event | None = None,
) -> list[Result]:
    """:func:`run_concurrently` for every item, whatever the others found: the results in the
    order of ``items`` (``done`` hears of each as it finishes). An exception in ``run`` starts
    no further item and is raised once those in flight have finished.

    >>> import threading
    >>> run_all(["a", "bb", "ccc"], jobs=2, alone=lambda s: False,
    ...         run=lambda s, cancel: len(s))
    [1, 2, 3]
    """
    results: dict[int, Result] = {}

    def finished(index: int, result: Result) -> None:
        results[index] = result
        if done is not None:
            done(items[index], result)

    run_concurrently(range(len(items)), jobs, alone=lambda i: alone(items[i]),
                     run=lambda i, cancel: run(items[i], cancel), done=finished,
                     failed=lambda _result: False,
                     started=None if started is None else lambda i: started(items[i]),
                     cancel=cancel)
    return [results[i] for i in sorted(results)]
