"""Learning-rate schedules: pure functions of the step, torch.optim.lr_scheduler drop-ins,
and the learning-rate range test.

- :mod:`~course_utils.schedules.functional`: ``lr = schedule(t, ...)`` for step ``t``.
- :mod:`~course_utils.schedules.schedulers`: the same schedules applied to the param
  groups of any torch optimizer, step by step equal to torch's schedulers.
- :mod:`~course_utils.schedules.plateau`: :class:`ReduceLROnPlateau`.
- :mod:`~course_utils.schedules.range_test`: :func:`lr_range_test`.
"""

from course_utils.schedules.functional import (
    cosine_annealing_lr,
    cosine_warm_restarts_lr,
    cyclic_lr,
    cyclic_momentum,
    exponential_lr,
    linear_lr,
    multistep_lr,
    one_cycle_lr,
    one_cycle_momentum,
    step_lr,
    warmup_cosine_lr,
)
from course_utils.schedules.plateau import ReduceLROnPlateau
from course_utils.schedules.range_test import LRRangeTestResult, lr_range_test
from course_utils.schedules.schedulers import (
    CosineAnnealingLR,
    CosineAnnealingWarmRestarts,
    CyclicLR,
    ExponentialLR,
    LinearLR,
    LRScheduler,
    MultiStepLR,
    OneCycleLR,
    StepLR,
    WarmupCosineLR,
)

__all__ = [
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "ExponentialLR",
    "LRRangeTestResult",
    "LRScheduler",
    "LinearLR",
    "MultiStepLR",
    "OneCycleLR",
    "ReduceLROnPlateau",
    "StepLR",
    "WarmupCosineLR",
    "cosine_annealing_lr",
    "cosine_warm_restarts_lr",
    "cyclic_lr",
    "cyclic_momentum",
    "exponential_lr",
    "linear_lr",
    "lr_range_test",
    "multistep_lr",
    "one_cycle_lr",
    "one_cycle_momentum",
    "step_lr",
    "warmup_cosine_lr",
]
