r"""Reduce the learning rate when a monitored metric stops improving.

The lecture's rule "if the loss has not improved for :math:`k` epochs, drop the
learning rate by 10x" is ``ReduceLROnPlateau(optimizer, factor=0.1, patience=k - 1)``:
the rate drops on the :math:`k`-th epoch in a row without improvement (torch counts
``patience`` as the number of bad epochs tolerated before a drop).
"""

import math

from course_utils.schedules import _checks
from course_utils.schedules.schedulers import (
    SchedulerState,
    _check_optimizer,
    _lr_snapshot,
    _per_group,
    _write,
)


class ReduceLROnPlateau(SchedulerState):
    r"""Drop-in for ``torch.optim.lr_scheduler.ReduceLROnPlateau`` (torch 2.13).

    Call ``step(metric)`` once per epoch with the monitored value. With :math:`b` the
    best value so far and :math:`\theta` = ``threshold``, a value :math:`v` is an
    improvement when

    - ``mode='min'``: :math:`v < b(1 - \theta)` (``threshold_mode='rel'``) or
      :math:`v < b - \theta` (``'abs'``);
    - ``mode='max'``: :math:`v > b(1 + \theta)` (``'rel'``) or :math:`v > b + \theta`
      (``'abs'``)

    (:math:`b` starts at :math:`+\infty` for ``min`` and :math:`-\infty` for ``max``, so
    the first value always improves; a tie is not an improvement). Each step:

    1. An improvement sets :math:`b = v` and resets the bad-epoch count; otherwise the
       count grows by one.
    2. During cooldown the cooldown counter goes down by one and the bad-epoch count is
       set to 0.
    3. When the count exceeds ``patience``, every group's rate becomes
       :math:`\max(\alpha \cdot \text{factor}, \text{min\_lr})` (the change is skipped
       when it is not larger than ``eps``), cooldown restarts at ``cooldown`` and the
       count at 0.

    ``min_lr`` is a number (also used for param groups added later) or one number per
    param group. The rates are read and written as ``group['lr']``, so any torch
    optimizer works. ``step(metric, epoch)`` sets ``last_epoch = epoch`` (torch warns
    that this is deprecated; here it is silent).
    """

    def __init__(
        self,
        optimizer,
        mode="min",
        factor=0.1,
        patience=10,
        threshold=1e-4,
        threshold_mode="rel",
        cooldown=0,
        min_lr=0,
        eps=1e-8,
    ):
        self.optimizer = _check_optimizer(optimizer)
        self.mode = _checks.choice("mode", mode, ("min", "max"))
        self.factor = _checks.in_interval("factor", factor, 0.0, 1.0, low_open=True, high_open=True)
        self.patience = _checks.nonnegative_int("patience", patience)
        self.threshold = _checks.nonnegative("threshold", threshold)
        self.threshold_mode = _checks.choice("threshold_mode", threshold_mode, ("rel", "abs"))
        self.cooldown = _checks.nonnegative_int("cooldown", cooldown)
        self.min_lrs = _per_group("min_lr", min_lr, optimizer, _checks.nonnegative)
        self.default_min_lr = None if isinstance(min_lr, (list, tuple)) else self.min_lrs[0]
        self.eps = _checks.nonnegative("eps", eps)
        self.last_epoch = 0
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self._last_lr = _lr_snapshot(optimizer)

    @property
    def in_cooldown(self):
        return self.cooldown_counter > 0

    def is_better(self, value, best):
        """Whether ``value`` improves on ``best`` by more than the threshold."""
        rel = self.threshold_mode == "rel"
        if self.mode == "min":
            return value < (best * (1.0 - self.threshold) if rel else best - self.threshold)
        return value > (best * (1.0 + self.threshold) if rel else best + self.threshold)

    def step(self, metrics, epoch=None):
        """Record this epoch's metric (a number or 0-d tensor) and reduce the rate if due."""
        value = float(metrics)
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        if self.is_better(value, self.best):
            self.best = value
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self._reduce_lrs()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = _lr_snapshot(self.optimizer)

    def _reduce_lrs(self):
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs) and self.default_min_lr is not None:
            self.min_lrs = [self.default_min_lr] * len(groups)
        if len(groups) != len(self.min_lrs):
            raise ValueError(
                f"Invalid min_lr: {self.min_lrs!r} (the optimizer now has {len(groups)} param "
                "groups; set scheduler.min_lrs to one value per group)"
            )
        for group, min_lr in zip(groups, self.min_lrs, strict=True):
            old = float(group["lr"])
            new = max(old * self.factor, min_lr)
            if old - new > self.eps:
                _write(group, "lr", new)
