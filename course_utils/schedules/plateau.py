r"""Reduce the learning rate when a monitored metric stops improving.

The lecture's rule "if the loss has not improved for :math:`k` epochs, drop the
learning rate by 10x" is ``ReduceLROnPlateau(optimizer, factor=0.1, patience=k - 1)``:
the rate drops on the :math:`k`-th epoch in a row without improvement (torch counts
``patience`` as the number of bad epochs tolerated before a drop).
"""

import copy
import math
import warnings

from torch.optim import lr_scheduler as _torch

from course_utils.schedules import _checks
from course_utils.schedules import _param_groups as groups_


class ReduceLROnPlateau(_torch.ReduceLROnPlateau):
    r"""Drop-in for ``torch.optim.lr_scheduler.ReduceLROnPlateau`` (torch 2.13), and an
    instance of it: torch's ``SequentialLR`` and ``ChainedScheduler`` refuse it at
    construction, as they refuse theirs, and code that checks ``isinstance`` treats it
    as torch's (e.g. to pass the metric to ``step``).

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
    param group; a list that no longer matches the groups raises RuntimeError at the
    next reduction, as in torch. The rates are read and written as ``group['lr']``, so
    any object with torch's ``param_groups`` works. ``step(metric, epoch)`` sets
    ``last_epoch = epoch`` and gives torch's deprecation warning. The attributes are
    torch's, so state dicts load both ways.
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
        self.optimizer = groups_.check_optimizer(optimizer)
        self.factor = _checks.in_interval("factor", factor, 0.0, 1.0, high_open=True)
        self.patience = _checks.nonnegative_int("patience", patience)
        self.cooldown = _checks.nonnegative_int("cooldown", cooldown)
        self.eps = _checks.nonnegative("eps", eps)
        self.min_lrs = groups_.per_group("min_lr", min_lr, optimizer)
        self.default_min_lr = None if isinstance(min_lr, (list, tuple)) else self.min_lrs[0]
        self._set_comparison(mode, threshold, threshold_mode)
        self.last_epoch = 0
        self._last_lr = groups_.snapshot(optimizer)
        self.best = self.mode_worse
        self.num_bad_epochs = 0
        self.cooldown_counter = 0

    def _set_comparison(self, mode, threshold, threshold_mode):
        self.mode = _checks.choice("mode", mode, ("min", "max"))
        self.threshold = _checks.nonnegative("threshold", threshold)
        self.threshold_mode = _checks.choice("threshold_mode", threshold_mode, ("rel", "abs"))
        self.mode_worse = math.inf if mode == "min" else -math.inf

    @property
    def in_cooldown(self):
        return self.cooldown_counter > 0

    def is_better(self, value, best):
        """Whether ``value`` improves on ``best`` by more than the threshold."""
        rel = self.threshold_mode == "rel"
        if self.mode == "min":
            return value < (best * (1.0 - self.threshold) if rel else best - self.threshold)
        return value > (best * (1.0 + self.threshold) if rel else best + self.threshold)

    def _is_better(self, a, best):
        return self.is_better(a, best)

    def step(self, metrics, epoch=None):
        """Record this epoch's metric (a number or 0-d tensor) and reduce the rate if due."""
        value = float(metrics)
        if epoch is None:
            epoch = self.last_epoch + 1
        else:
            warnings.warn(_torch.EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self.last_epoch = epoch
        if self.is_better(value, self.best):
            self.best = value
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self._reduce_lr(epoch)
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = groups_.snapshot(self.optimizer)

    def _reduce_lr(self, epoch=None):
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"The number of param groups in the `optimizer` ({len(groups)}) differs "
                    f"from the {len(self.min_lrs)} min_lrs given when ReduceLROnPlateau was "
                    "made with a list min_lr (a param group was added since): set "
                    "scheduler.min_lrs to one value per param group"
                )
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs, strict=True):
            old = float(group["lr"])
            new = max(old * self.factor, min_lr)
            if old - new > self.eps:
                groups_.write(group, "lr", new)

    def get_last_lr(self):
        """The rates after the last step, one per param group."""
        return list(self._last_lr)

    def state_dict(self):
        """Everything but the optimizer, as a deep copy (loads into torch's class)."""
        return {k: copy.deepcopy(v) for k, v in vars(self).items() if k != "optimizer"}

    def load_state_dict(self, state_dict):
        """Restore a :meth:`state_dict`, ours or torch's."""
        self.__dict__.update(copy.deepcopy(state_dict))
        self._set_comparison(self.mode, self.threshold, self.threshold_mode)
