"""Small helpers for cluster tests that talk to the apiserver directly (not through a
:class:`~sts_props.cluster.driver.ClusterRun`'s ops).

>>> poll(lambda: "", 1.0)
''
"""

from __future__ import annotations

import time
from collections.abc import Callable


def poll(condition: Callable[[], str], timeout: float, every: float = 0.25) -> str:
    """Ask ``condition`` (it answers "" when met, else what is missing) every ``every`` seconds
    until it is met or ``timeout`` seconds have passed; its last answer ("" if met)."""
    deadline = time.monotonic() + timeout
    missing = condition()
    while missing and time.monotonic() < deadline:
        time.sleep(every)
        missing = condition()
    return missing
