"""The executable reference model of the StatefulSet controller (pure Python, no I/O).

>>> from sts_props.model import ModelRun, ModelConfig
>>> from sts_props.scenario import Manifests
>>> from sts_props.ops import Create, Settle
>>> run = ModelRun(Manifests.seed(), ModelConfig.for_version("v1.37.2"))
>>> _ = run.apply(Create()); _ = run.apply(Settle())
>>> sorted(run.world.pods)
['redis-0', 'redis-1', 'redis-2']
"""

from sts_props.model.config import ModelConfig
from sts_props.model.runner import Chooser, ModelResult, ModelRun, run_model

__all__ = ["Chooser", "ModelConfig", "ModelResult", "ModelRun", "run_model"]
