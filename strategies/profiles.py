"""Hypothesis settings profiles for sts-props: one per kind of system under test.

Hypothesis's defaults (200 ms deadline, 100 examples, 50 stateful steps) suit fast pure
functions, not a controller model that runs dozens of syncs per example, and even less a real
cluster where one example takes seconds to minutes. Its built-in ``ci`` profile also silently
drops the example database, so a failure found in CI is not replayed by the next run; the
profiles here keep the database on disk explicitly.

========== ======== ======== ===== =========================================================
profile    examples deadline steps why
========== ======== ======== ===== =========================================================
model      200      2 s      20    local runs on the reference model (pure Python, ~10-50 ms
                                   per example); generous deadline for a loaded laptop
model-ci   1000     none     20    CI on the model: more examples, failures printed as
                                   reproduction blobs, database kept in ``.hypothesis/``
cluster    10       none     10    a real cluster (kwok/k3s): seconds per op, so few examples
                                   and short sequences; every slow-system health check off
========== ======== ======== ===== =========================================================

Select one with ``STS_PROPS_PROFILE`` (``tests/conftest.py`` reads it) or in code:

>>> get_profile("model").max_examples
200
>>> get_profile("cluster").deadline is None
True
>>> get_profile("nope")
Traceback (most recent call last):
...
ValueError: unknown Hypothesis profile 'nope'; sts-props defines: cluster, model, model-ci
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, Phase, settings
from hypothesis.database import DirectoryBasedExampleDatabase

__all__ = ["DEFAULT_PROFILE", "ENV_VAR", "PROFILES", "active_profile_name", "get_profile",
           "load_profile", "register_profiles"]

ENV_VAR = "STS_PROPS_PROFILE"
DEFAULT_PROFILE = "model"
#: Where the model-ci and cluster profiles keep failing examples (relative to the working
#: directory, as Hypothesis's own default is; CI caches this directory between runs).
DATABASE_DIR = Path(".hypothesis") / "examples"


def _profiles() -> dict[str, settings]:
    on_disk = DirectoryBasedExampleDatabase(str(DATABASE_DIR))
    return {
        # Fast system. The deadline is loosened, not removed: a single example taking > 2 s on
        # the model is a performance bug (e.g. a settle that livelocks until MAX_SETTLE_STEPS)
        # worth hearing about. too_slow is suppressed because generating a scenario plus a
        # DataChooser draws many values; data_too_large because long interleavings are valid.
        "model": settings(
            max_examples=200,
            deadline=timedelta(seconds=2),
            stateful_step_count=20,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        ),
        # CI on the model. No deadline: CI machines are noisy and a flaky deadline failure is
        # a false alarm. print_blob lets a CI log be replayed with @reproduce_failure; the
        # database is set explicitly (Hypothesis's ``ci`` profile would drop it) so the next
        # run starts from the last failure. derandomize stays False: CI should keep exploring.
        "model-ci": settings(
            max_examples=1000,
            deadline=None,
            stateful_step_count=20,
            derandomize=False,
            print_blob=True,
            database=on_disk,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        ),
        # Slow system: one op costs seconds (API round trips, watches, settles). Few examples,
        # short sequences, no deadline, every health check that measures time or generation
        # effort off, and no explain phase (it re-runs the failing example many times, which
        # costs minutes on a cluster). Failures stay in the on-disk database: re-finding one
        # on a cluster is the expensive part.
        "cluster": settings(
            max_examples=10,
            deadline=None,
            stateful_step_count=10,
            print_blob=True,
            database=on_disk,
            phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
            suppress_health_check=[
                HealthCheck.too_slow,
                HealthCheck.data_too_large,
                HealthCheck.filter_too_much,
                HealthCheck.large_base_example,
                HealthCheck.function_scoped_fixture,
            ],
        ),
    }


PROFILES: tuple[str, ...] = tuple(sorted(_profiles()))


def register_profiles() -> None:
    """Register every sts-props profile with Hypothesis (idempotent)."""
    for name, profile in _profiles().items():
        settings.register_profile(name, profile)


def active_profile_name() -> str:
    """The profile named by ``STS_PROPS_PROFILE``, or ``model``."""
    return os.environ.get(ENV_VAR, "").strip() or DEFAULT_PROFILE


def get_profile(name: str) -> settings:
    """The settings of profile ``name`` (registered, not loaded); unknown names are an error."""
    if name not in PROFILES:
        raise ValueError(f"unknown Hypothesis profile {name!r}; sts-props defines: "
                         f"{', '.join(PROFILES)}")
    register_profiles()
    return settings.get_profile(name)


def load_profile(name: str | None = None) -> settings:
    """Load profile ``name`` (default: :func:`active_profile_name`) and return its settings.

    ``settings.load_profile`` makes it the default for every test that does not set its own;
    call it before test modules are imported (``tests/conftest.py`` does), because a state
    machine's ``TestCase`` copies the default settings when it is first created.
    """
    profile = get_profile(name or active_profile_name())
    settings.load_profile(name or active_profile_name())
    return profile
