"""Hypothesis strategies for sts-props: manifests, op sequences, interleavings, a state machine.

Generate a Scenario and run it on the reference model:

>>> from hypothesis import given, settings
>>> from sts_props.model import run_model
>>> from sts_props.strategies import scenarios
>>> @settings(max_examples=5, database=None)
... @given(scenarios(max_ops=6))
... def test_model_settles(sc):
...     assert not run_model(sc).unsettled
>>> test_model_settles()

Let Hypothesis choose the interleavings as well (a :class:`DataChooser` draws, per op, how far the
system moves and which enabled step goes first):

>>> from hypothesis import strategies as st
>>> from sts_props.strategies import DataChooser, ScriptedChooser
>>> @settings(max_examples=5, database=None)
... @given(scenarios(max_ops=6), st.data())
... def test_interleavings(sc, data):
...     chooser = DataChooser(data)
...     first = run_model(sc, chooser=chooser)
...     again = run_model(sc, chooser=ScriptedChooser(chooser.log))   # replayable
...     assert first.history.to_jsonl() == again.history.to_jsonl()
>>> test_interleavings()

Invalid manifests come with the rule and field the API must cite:

>>> from hypothesis import find
>>> from sts_props.strategies import invalid_statefulsets
>>> _, rule, path = find(invalid_statefulsets(), lambda case: case[1] == "VAL-4")
>>> rule, path
('VAL-4', 'metadata.name')

The state machine (``TestStatefulSetMachine = StatefulSetMachine.TestCase`` in a test module) and
the settings profiles (``STS_PROPS_PROFILE=model|model-ci|cluster``) are in
:mod:`sts_props.strategies.state_machine` and :mod:`sts_props.strategies.profiles`.
"""

from sts_props.strategies.chooser import (
    DataChooser,
    Interleaving,
    ScriptedChooser,
    choosers,
    interleavings,
)
from sts_props.strategies.manifests import (
    image_values,
    invalid_statefulsets,
    set_names,
    valid_statefulsets,
    web_manifests,
)
from sts_props.strategies.ops import max_unavailable_values, op_sequences, scenarios
from sts_props.strategies.profiles import get_profile, load_profile, register_profiles
from sts_props.strategies.state_machine import StatefulSetMachine

__all__ = [
    "DataChooser",
    "Interleaving",
    "ScriptedChooser",
    "StatefulSetMachine",
    "choosers",
    "get_profile",
    "image_values",
    "interleavings",
    "invalid_statefulsets",
    "load_profile",
    "max_unavailable_values",
    "op_sequences",
    "register_profiles",
    "scenarios",
    "set_names",
    "valid_statefulsets",
    "web_manifests",
]
