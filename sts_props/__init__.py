"""sts-props: a property-based conformance harness for Kubernetes StatefulSet semantics.

Scenarios (manifests plus ops) run on the executable reference model in :mod:`sts_props.model`
and on real clusters; checks in :mod:`sts_props.checks` read the resulting Histories.

>>> from sts_props import Scenario, Manifests, run_model
>>> from sts_props.ops import Create, Settle
>>> result = run_model(Scenario(Manifests.seed(), (Create(), Settle())))
>>> sorted(result.final_pods())
['redis-0', 'redis-1', 'redis-2']
"""

from sts_props.model.runner import ModelResult, run_model
from sts_props.scenario import ManifestError, Manifests, Scenario

__all__ = ["ManifestError", "Manifests", "ModelResult", "Scenario", "run_model"]
__version__ = "0.1.0"
