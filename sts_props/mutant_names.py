"""The names of the model's mutation hooks: what ``ModelConfig(mutant=...)`` and a plan's
``mutant:`` field may say. The catalogue with what each one breaks is :mod:`sts_props.mutants`.

>>> "scale-down-ascending" in MUTANT_NAMES
True
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["MUTANT_NAMES", "MutantName"]

MutantName = Literal[
    "failed-never-recreated",
    "scale-down-ascending",
    "update-ignores-partition",
    "terminating-counted-updated",
    "current-promoted-early",
    "pvc-of-k-for-k-plus-1",
    "ordered-two-at-once",
    "parallel-waits-like-ordered",
    "deleted-claims-retained",
    "pod-index-label-missing",
    "rollback-not-bumped",
]

#: every mutant name, in catalogue order
MUTANT_NAMES: tuple[MutantName, ...] = get_args(MutantName)
