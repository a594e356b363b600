"""Learning-rate schedules: pure functions of the step, torch.optim.lr_scheduler drop-ins,
and the learning-rate range test.

- :mod:`~course_utils.schedules.functional`: ``lr = schedule(t, ...)`` for step ``t``,
  and factories that check the hyperparameters once and return a schedule
  (``step_schedule(...)(t)``), composed with :func:`join_schedules`.
- :mod:`~course_utils.schedules.schedulers`: the same schedules applied to the param
  groups of any torch optimizer, subclasses of torch's ``LRScheduler``, step by step
  equal to torch's schedulers; :class:`ScheduleLR` applies any schedule.
- :mod:`~course_utils.schedules.plateau`: :class:`ReduceLROnPlateau`.
- :mod:`~course_utils.schedules.range_test`: :func:`lr_range_test`.
"""

from course_utils.schedules.functional import (
    Schedule,
    anneal_schedule,
    constant_schedule,
    cosine_annealing_lr,
    cosine_schedule,
    cosine_warm_restarts_lr,
    cyclic_lr,
    cyclic_momentum,
    cyclic_schedule,
    exponential_lr,
    exponential_schedule,
    join_schedules,
    linear_lr,
    linear_schedule,
    multistep_lr,
    multistep_schedule,
    one_cycle_lr,
    one_cycle_momentum,
    one_cycle_momentum_schedule,
    one_cycle_schedule,
    step_lr,
    step_schedule,
    warm_restarts_schedule,
    warmup_cosine_lr,
    warmup_cosine_schedule,
    warmup_linear_schedule,
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
    ScheduleLR,
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
    "Schedule",
    "ScheduleLR",
    "StepLR",
    "WarmupCosineLR",
    "anneal_schedule",
    "constant_schedule",
    "cosine_annealing_lr",
    "cosine_schedule",
    "cosine_warm_restarts_lr",
    "cyclic_lr",
    "cyclic_momentum",
    "cyclic_schedule",
    "exponential_lr",
    "exponential_schedule",
    "join_schedules",
    "linear_lr",
    "linear_schedule",
    "lr_range_test",
    "multistep_lr",
    "multistep_schedule",
    "one_cycle_lr",
    "one_cycle_momentum",
    "one_cycle_momentum_schedule",
    "one_cycle_schedule",
    "step_lr",
    "step_schedule",
    "warm_restarts_schedule",
    "warmup_cosine_lr",
    "warmup_cosine_schedule",
    "warmup_linear_schedule",
]
