"""Load the Hypothesis settings profile named by STS_PROPS_PROFILE (default: "model").

Loaded at configure time, before any test module is imported, so that state machines'
``TestCase`` classes (which copy the default settings when created) see it too. An unknown
name is a usage error of the whole run (one line, exit code 4), as the plugin makes it in a
user's project. See strategies/profiles.py.
"""

import pytest

from sts_props.strategies.profiles import ENV_VAR, load_profile


def pytest_configure(config: pytest.Config) -> None:
    try:
        load_profile()
    except ValueError as exc:
        raise pytest.UsageError(f"{ENV_VAR}: {exc}") from None
