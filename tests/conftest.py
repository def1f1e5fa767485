"""Load the Hypothesis settings profile named by STS_PROPS_PROFILE (default: "model").

Loaded here, before any test module is imported, so that state machines' ``TestCase`` classes
(which copy the default settings when created) see it too. See strategies/profiles.py.
"""

from sts_props.strategies.profiles import load_profile

load_profile()
