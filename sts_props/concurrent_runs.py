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
import threading
from collections import deque
from collections.abc import Callable, Iterable
from typing import TypeVar

from sts_props.ops import SHARED_OPS
from sts_props.scenario import Scenario

Item = TypeVar("Item")
Result = TypeVar("Result")

#: seconds an interrupted run waits for the scenarios in flight to clean up
CANCEL_WAIT = 60.0


def runs_alone(scenario: Scenario) -> bool:
    """Whether an op of ``scenario`` disturbs what every namespace shares (:attr:`Op.shared`),
    so that it must run with nothing beside it."""
    return any(op.kind in SHARED_OPS for op in scenario.ops)


def run_concurrently(
    items: Iterable[Item],
    jobs: int,
    alone: Callable[[Item], bool],
    run: Callable[[Item, threading.Event], Result],
    done: Callable[[Item, Result], None],
    failed: Callable[[Result], bool],
    started: Callable[[Item], None] | None = None,
) -> int:
    """Run ``run(item, cancel)`` for each item, at most ``jobs`` at once, an item for which
    ``alone(item)`` holds with nothing beside it; ``done(item, result)`` for each result as it
    comes (in this thread). Stops starting new items after a result for which ``failed``
    holds. Returns how many items ran to a result.

    An exception in ``run`` (a cluster error) is raised here once the items in flight have
    finished, as the sequential loop would raise it.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    queue = deque(items)
    cancel = threading.Event()
    finished = 0
    stop = False
    error: BaseException | None = None
    flight: dict[cf.Future[Result], tuple[Item, bool]] = {}
    pool = cf.ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="scenario")
    try:
        while queue or flight:
            while queue and not stop and error is None and len(flight) < jobs:
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
    return finished
