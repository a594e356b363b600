r"""Drop-in replacements for the schedulers of ``torch.optim.lr_scheduler`` (torch 2.13).

Each class takes the same constructor arguments with the same defaults as its torch
namesake, has ``step()``, ``get_last_lr()``, ``last_epoch``, ``base_lrs``,
``state_dict()`` and ``load_state_dict()``, and gives the same learning rates step by
step (the few deliberate differences are stated in the class docstrings). The
schedule itself is one of the pure functions of
:mod:`course_utils.schedules.functional`; the classes only apply it to an optimizer.

Conventions (torch's):

- Construction is step 0: ``last_epoch`` becomes 0 and the rate for step 0 is written
  into every param group. Each group's starting rate is stored as
  ``group['initial_lr']`` (an existing entry is kept) and listed in ``base_lrs``. Call
  ``scheduler.step()`` after ``optimizer.step()``; each call advances ``last_epoch``.
- Any optimizer works: any object with a list ``param_groups`` of dicts with an
  ``'lr'`` entry, which includes every ``torch.optim.Optimizer`` and its subclasses.
  Rates are computed as Python floats; a tensor ``group['lr']`` is filled in place.
- Chainable schedules (StepLR, MultiStepLR, ExponentialLR, LinearLR,
  CosineAnnealingLR) update the *current* rate of each group by the schedule's
  step-to-step rule, as torch does; so a rate changed from outside (by hand, or by
  another scheduler in ``torch.optim.lr_scheduler.ChainedScheduler``) is carried
  along. Without outside changes the result equals the pure function at
  ``last_epoch`` with the group's ``initial_lr``, up to rounding. ``step(epoch)`` sets
  ``last_epoch = epoch`` and evaluates the pure function directly, like torch's closed
  form.
- The other schedules (CyclicLR, CosineAnnealingWarmRestarts, OneCycleLR,
  WarmupCosineLR) evaluate their pure function at ``last_epoch`` on every step and
  overwrite outside changes, as torch does.
- Unlike torch, the optimizer's ``step`` method is left alone (torch wraps it to warn
  when the two ``step`` calls come in the wrong order), and ``step(epoch)`` gives no
  deprecation warning.
"""

import copy
import math

import torch

from course_utils.schedules import _checks
from course_utils.schedules.functional import (
    ANNEAL_STRATEGIES,
    CYCLIC_MODES,
    _cosine_between,
    _one_cycle_value,
    _restart_position,
    _warmup_cosine_checks,
    cosine_annealing_lr,
    cyclic_lr,
    cyclic_momentum,
    exponential_lr,
    linear_lr,
    multistep_lr,
    step_lr,
    warmup_cosine_lr,
)


def _check_optimizer(optimizer):
    groups = getattr(optimizer, "param_groups", None)
    if not (
        isinstance(groups, list)
        and groups
        and all(isinstance(group, dict) and "lr" in group for group in groups)
    ):
        raise TypeError(
            f"{type(optimizer).__name__} is not an optimizer: a scheduler needs an object "
            "with a non-empty list param_groups of dicts with an 'lr' entry "
            "(any torch.optim.Optimizer)"
        )
    return optimizer


def _per_group(name, value, optimizer, check):
    """One checked value per param group: a scalar is repeated, a list must match."""
    count = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != count:
            raise ValueError(
                f"Invalid {name}: {value!r} ({name} must be a number or a list of {count} "
                "numbers, one per param group)"
            )
        return [check(name, v) for v in value]
    return [check(name, value)] * count


def _write(group, key, value):
    if isinstance(group[key], torch.Tensor):
        group[key].fill_(value)
    else:
        group[key] = value


def _lr_snapshot(optimizer):
    return [
        group["lr"].clone() if isinstance(group["lr"], torch.Tensor) else group["lr"]
        for group in optimizer.param_groups
    ]


def _uses_betas(optimizer):
    """Whether momentum lives in ``betas[0]`` (Adam-like) rather than ``momentum``."""
    defaults = getattr(optimizer, "defaults", {})
    if "betas" in defaults:
        return True
    if "momentum" in defaults:
        return False
    raise ValueError(
        f"Invalid cycle_momentum: True ({type(optimizer).__name__} has neither a 'momentum' "
        "nor a 'betas' hyperparameter to cycle; pass cycle_momentum=False)"
    )


def _set_momentum(group, use_beta1, value):
    if use_beta1:
        group["betas"] = (value, *group["betas"][1:])
    else:
        group["momentum"] = value


def _momentum_setup(scheduler, optimizer, base_momentum, max_momentum, last_epoch):
    """Check the momentum bounds and, on a fresh start, begin every group at the maximum.

    Both bounds are also stored in each group (``'base_momentum'``, ``'max_momentum'``).
    """
    scheduler.use_beta1 = _uses_betas(optimizer)
    base = _per_group("base_momentum", base_momentum, optimizer, _checks.nonnegative)
    top = _per_group("max_momentum", max_momentum, optimizer, _checks.nonnegative)
    if last_epoch == -1:
        for group, b, m in zip(optimizer.param_groups, base, top, strict=True):
            _set_momentum(group, scheduler.use_beta1, m)
            group["max_momentum"] = m
            group["base_momentum"] = b
    return base, top


class SchedulerState:
    """What every scheduler shares: its last rates and its state as a plain dict."""

    def get_last_lr(self):
        """The rates written by the last step, one per param group."""
        return list(self._last_lr)

    def state_dict(self):
        """Everything but the optimizer, as a deep copy."""
        return {
            key: copy.deepcopy(value) for key, value in vars(self).items() if key != "optimizer"
        }

    def load_state_dict(self, state_dict):
        """Restore a :meth:`state_dict` (the optimizer's own state is loaded separately)."""
        self.__dict__.update(copy.deepcopy(state_dict))


class LRScheduler(SchedulerState):
    """Base class: one learning rate per param group, advanced by :meth:`step`.

    Subclasses give the closed form (``_closed_form_lrs(t)``: the pure function at step
    ``t`` for every group) and, when chainable, the step-to-step rule
    (``_chained_lrs(t, initial)``: the rates for step ``t`` from the current ones;
    ``initial`` is true for the step done by the constructor).
    """

    def __init__(self, optimizer, last_epoch=-1, base_lrs=None):
        self.optimizer = _check_optimizer(optimizer)
        if not (_checks.is_int(last_epoch) and last_epoch >= -1):
            raise ValueError(
                f"Invalid last_epoch: {last_epoch!r} (last_epoch must be -1 for a fresh start "
                "or the index of the last step done when resuming)"
            )
        groups = optimizer.param_groups
        if last_epoch == -1:
            for group in groups:
                lr = group["lr"]
                group.setdefault("initial_lr", lr.clone() if isinstance(lr, torch.Tensor) else lr)
        else:
            missing = [i for i, group in enumerate(groups) if "initial_lr" not in group]
            if missing:
                raise KeyError(
                    f"param_groups {missing} have no 'initial_lr', which resuming with "
                    f"last_epoch={last_epoch} needs: load the optimizer's state_dict from the "
                    "checkpoint first, or use last_epoch=-1 for a fresh start"
                )
        if base_lrs is None:
            base_lrs = [float(group["initial_lr"]) for group in groups]
        self.base_lrs = base_lrs
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self):
        t = self.last_epoch + 1
        self._apply(t, self._chained_lrs(t, initial=True))

    def _closed_form_lrs(self, t):
        raise NotImplementedError

    def _chained_lrs(self, t, initial):
        return self._closed_form_lrs(t)

    def _current_lrs(self):
        return [float(group["lr"]) for group in self.optimizer.param_groups]

    def _apply(self, t, lrs):
        self.last_epoch = t
        for group, lr in zip(self.optimizer.param_groups, lrs, strict=True):
            _write(group, "lr", lr)
        self._last_lr = _lr_snapshot(self.optimizer)

    def step(self, epoch=None):
        """Advance one step (``epoch=None``), or jump to step ``epoch`` (closed form)."""
        if epoch is None:
            t = self.last_epoch + 1
            lrs = self._chained_lrs(t, initial=False)
        else:
            t = _checks.step_count(epoch, "epoch")
            lrs = self._closed_form_lrs(t)
        self._apply(t, lrs)


class StepLR(LRScheduler):
    r"""Multiply the rate by ``gamma`` every ``step_size`` steps: :func:`step_lr`.

    Step rule: :math:`\alpha_t = \gamma\,\alpha_{t-1}` when ``t`` is a positive multiple
    of ``step_size``, else :math:`\alpha_t = \alpha_{t-1}`.
    """

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size = _checks.positive_int("step_size", step_size)
        self.gamma = _checks.positive("gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def _closed_form_lrs(self, t):
        return [step_lr(t, base, self.step_size, self.gamma) for base in self.base_lrs]

    def _chained_lrs(self, t, initial):
        factor = self.gamma if t > 0 and t % self.step_size == 0 else 1.0
        return [lr * factor for lr in self._current_lrs()]


class MultiStepLR(LRScheduler):
    r"""Multiply the rate by ``gamma`` at each milestone: :func:`multistep_lr`.

    ``milestones`` must be strictly increasing integers (torch also accepts repeated
    milestones, applying ``gamma`` once per repeat; here that is an error).
    Step rule: :math:`\alpha_t = \gamma\,\alpha_{t-1}` when ``t`` is a milestone.
    """

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones = _checks.increasing_ints("milestones", milestones)
        self.gamma = _checks.positive("gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def _closed_form_lrs(self, t):
        return [multistep_lr(t, base, self.milestones, self.gamma) for base in self.base_lrs]

    def _chained_lrs(self, t, initial):
        factor = self.gamma if t in self.milestones else 1.0
        return [lr * factor for lr in self._current_lrs()]


class ExponentialLR(LRScheduler):
    r"""Multiply the rate by ``gamma`` every step: :func:`exponential_lr`.

    Step rule: :math:`\alpha_t = \gamma\,\alpha_{t-1}`; construction leaves the rate as
    it is.
    """

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = _checks.positive("gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def _closed_form_lrs(self, t):
        return [exponential_lr(t, base, self.gamma) for base in self.base_lrs]

    def _chained_lrs(self, t, initial):
        factor = 1.0 if initial else self.gamma
        return [lr * factor for lr in self._current_lrs()]


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing from the initial rate to ``eta_min``: :func:`cosine_annealing_lr`.

    Step rule (torch's recursive form): with :math:`c_t = 1 + \cos(t\pi/T_{\max})`,

    .. math:: \alpha_t = \eta_{\min} + (\alpha_{t-1} - \eta_{\min})\,c_t / c_{t-1}

    which telescopes to the closed form. Where :math:`c_{t-1} = 0` (the step after
    ``T_max``, ``3 T_max``, ...) the ratio is undefined, and the closed-form increment
    :math:`\tfrac12(\alpha_0 - \eta_{\min})(1 - \cos(\pi/T_{\max}))` is added instead.
    Past ``T_max`` the rate therefore rises again along the same cosine, back to the
    initial rate at ``2 T_max`` (torch's class does the same; it does not stay at
    ``eta_min``). Construction leaves the rate as it is.
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max = _checks.positive_int("T_max", T_max)
        self.eta_min = _checks.nonnegative("eta_min", eta_min)
        super().__init__(optimizer, last_epoch)

    def _closed_form_lrs(self, t):
        return [cosine_annealing_lr(t, base, self.T_max, self.eta_min) for base in self.base_lrs]

    def _chained_lrs(self, t, initial):
        current = self._current_lrs()
        if initial:
            return current
        if (t - 1 - self.T_max) % (2 * self.T_max) == 0:
            rise = (1.0 - math.cos(math.pi / self.T_max)) / 2.0
            return [
                lr + (base - self.eta_min) * rise
                for lr, base in zip(current, self.base_lrs, strict=True)
            ]
        ratio = (1.0 + math.cos(math.pi * t / self.T_max)) / (
            1.0 + math.cos(math.pi * (t - 1) / self.T_max)
        )
        return [self.eta_min + (lr - self.eta_min) * ratio for lr in current]


class LinearLR(LRScheduler):
    r"""Linear change of the factor from ``start_factor`` to ``end_factor``: :func:`linear_lr`.

    As in torch, ``0 < start_factor <= 1`` and ``0 <= end_factor <= 1``. Step rule: with
    :math:`f_t = s + (e - s)\min(t, T)/T`, construction multiplies the rate by
    :math:`f_0 = s` and step ``t`` multiplies it by
    :math:`f_t / f_{t-1} = 1 + (e - s) / (T s + (t - 1)(e - s))` (1 after ``total_iters``).
    """

    def __init__(
        self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, last_epoch=-1
    ):
        self.start_factor = _checks.in_interval(
            "start_factor", start_factor, 0.0, 1.0, low_open=True
        )
        self.end_factor = _checks.in_interval("end_factor", end_factor, 0.0, 1.0)
        self.total_iters = _checks.positive_int("total_iters", total_iters)
        super().__init__(optimizer, last_epoch)

    def _closed_form_lrs(self, t):
        return [
            linear_lr(t, base, self.start_factor, self.end_factor, self.total_iters)
            for base in self.base_lrs
        ]

    def _chained_lrs(self, t, initial):
        current = self._current_lrs()
        if t == 0:
            return [lr * self.start_factor for lr in current]
        if initial or t > self.total_iters:
            return current
        slope = self.end_factor - self.start_factor
        factor = 1.0 + slope / (self.total_iters * self.start_factor + (t - 1) * slope)
        return [lr * factor for lr in current]


class WarmupCosineLR(LRScheduler):
    r"""Linear warm-up then cosine annealing: :func:`warmup_cosine_lr` (no torch twin).

    The rate of each group goes linearly from ``warmup_start_factor * initial_lr`` to
    ``initial_lr`` over ``warmup_steps`` steps, then follows a half cosine down to
    ``eta_min`` at ``total_steps``, and stays there. The pure function is evaluated at
    ``last_epoch`` on every step (outside changes to the rate are overwritten). For
    ``warmup_start_factor > 0`` it matches torch's
    ``SequentialLR([LinearLR(...), CosineAnnealingLR(...)], milestones=[warmup_steps])``.
    """

    def __init__(
        self,
        optimizer,
        warmup_steps,
        total_steps,
        warmup_start_factor=0.0,
        eta_min=0.0,
        last_epoch=-1,
    ):
        _warmup_cosine_checks(warmup_steps, total_steps, warmup_start_factor, eta_min)
        self.warmup_steps = warmup_steps
        self.total_steps = total_steps
        self.warmup_start_factor = float(warmup_start_factor)
        self.eta_min = float(eta_min)
        super().__init__(optimizer, last_epoch)

    def _closed_form_lrs(self, t):
        return [
            warmup_cosine_lr(
                t, base, self.warmup_steps, self.total_steps, self.warmup_start_factor, self.eta_min
            )
            for base in self.base_lrs
        ]


class CyclicLR(LRScheduler):
    r"""Cyclical learning rate (Smith, arXiv:1506.01186): :func:`cyclic_lr` at ``last_epoch``.

    ``base_lr`` and ``max_lr`` (a number or one per group) bound the cycle;
    ``base_lrs`` are the ``base_lr`` values, written into the groups on a fresh start.
    ``step()`` is meant to be called after every batch. With ``cycle_momentum=True``
    (default, as in torch) the optimizer needs a ``momentum`` or ``betas``
    hyperparameter; its momentum (``betas[0]`` for Adam-like optimizers) follows
    :func:`cyclic_momentum`, going from ``max_momentum`` down to ``base_momentum`` while
    the rate peaks. A custom ``scale_fn`` is not part of :meth:`state_dict`: pass the
    same one to the constructor of the scheduler that loads it.
    """

    def __init__(
        self,
        optimizer,
        base_lr,
        max_lr,
        step_size_up=2000,
        step_size_down=None,
        mode="triangular",
        gamma=1.0,
        scale_fn=None,
        scale_mode="cycle",
        cycle_momentum=True,
        base_momentum=0.8,
        max_momentum=0.9,
        last_epoch=-1,
    ):
        _check_optimizer(optimizer)
        base_lrs = _per_group("base_lr", base_lr, optimizer, _checks.nonnegative)
        self.max_lrs = _per_group("max_lr", max_lr, optimizer, _checks.nonnegative)
        self.step_size_up = _checks.positive("step_size_up", step_size_up)
        self.step_size_down = (
            self.step_size_up
            if step_size_down is None
            else _checks.positive("step_size_down", step_size_down)
        )
        if scale_fn is None:
            _checks.choice("mode", mode, CYCLIC_MODES)
            _checks.positive("gamma", gamma)
        else:
            _checks.choice("scale_mode", scale_mode, ("cycle", "iterations"))
        self.mode = mode
        self.gamma = gamma
        self.scale_mode = scale_mode
        self._custom_scale_fn = scale_fn
        if last_epoch == -1:
            for group, lr in zip(optimizer.param_groups, base_lrs, strict=True):
                _write(group, "lr", lr)
        self.cycle_momentum = bool(cycle_momentum)
        if self.cycle_momentum:
            self.base_momentums, self.max_momentums = _momentum_setup(
                self, optimizer, base_momentum, max_momentum, last_epoch
            )
        super().__init__(optimizer, last_epoch, base_lrs=base_lrs)

    def _cycle_args(self):
        return (
            self.step_size_up,
            self.step_size_down,
            self.mode,
            self.gamma,
            self._custom_scale_fn,
            self.scale_mode,
        )

    def _closed_form_lrs(self, t):
        return [
            cyclic_lr(t, base, top, *self._cycle_args())
            for base, top in zip(self.base_lrs, self.max_lrs, strict=True)
        ]

    def _apply(self, t, lrs):
        super()._apply(t, lrs)
        if self.cycle_momentum:
            for group, base, top in zip(
                self.optimizer.param_groups, self.base_momentums, self.max_momentums, strict=True
            ):
                _set_momentum(
                    group, self.use_beta1, cyclic_momentum(t, base, top, *self._cycle_args())
                )

    def state_dict(self):
        state = super().state_dict()
        state.pop("_custom_scale_fn")
        return state


class CosineAnnealingWarmRestarts(LRScheduler):
    r"""Cosine annealing with warm restarts (SGDR): :func:`cosine_warm_restarts_lr`.

    The scheduler keeps :math:`T_{cur}` (steps since the last restart) and :math:`T_i`
    (length of the current cycle), as torch's does, and sets
    :math:`\alpha = \eta_{\min} + \tfrac12(\alpha_0 - \eta_{\min})(1 + \cos(\pi T_{cur}/T_i))`.

    - ``step()`` adds 1 to :math:`T_{cur}`; on reaching :math:`T_i` it wraps around and
      :math:`T_i` grows by ``T_mult``. With whole steps this is the pure function at
      ``last_epoch``.
    - ``step(epoch)`` accepts a fractional epoch (e.g. ``epoch + i / batches``) and sets
      :math:`T_{cur}, T_i` from it; ``last_epoch`` becomes ``floor(epoch)``. A later
      ``step()`` continues from that :math:`T_{cur}` (torch does the same).

    torch locates the cycle with a floating-point logarithm, which puts some exact
    restart epochs one cycle early when ``T_mult > 2`` (e.g. ``T_0=1, T_mult=3,
    epoch=121`` gives ``eta_min`` instead of the initial rate); here the cycle
    boundaries are found exactly, so ``step(epoch)`` differs from torch at those epochs.
    """

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        self.T_0 = _checks.positive_int("T_0", T_0)
        self.T_mult = _checks.positive_int("T_mult", T_mult)
        self.eta_min = _checks.nonnegative("eta_min", eta_min)
        self.T_i = self.T_0
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def _initial_step(self):
        self.step()

    def step(self, epoch=None):
        """Advance one step, or go to the (possibly fractional) ``epoch``."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            t = self.last_epoch + 1
            T_cur, T_i = self.T_cur + 1, self.T_i
            if T_cur >= T_i:
                T_cur, T_i = T_cur % T_i, T_i * self.T_mult
        else:
            _checks.step_count(epoch, "epoch")
            t = math.floor(epoch)
            T_cur, T_i = _restart_position(epoch, self.T_0, self.T_mult)
        self.T_cur, self.T_i = T_cur, T_i
        lrs = [_cosine_between(base, self.eta_min, T_cur / T_i) for base in self.base_lrs]
        self._apply(t, lrs)


class OneCycleLR(LRScheduler):
    r"""The 1cycle policy (Smith & Topin, arXiv:1708.07120): :func:`one_cycle_lr`.

    On a fresh start every group gets ``initial_lr = max_lr / div_factor``,
    ``max_lr`` and ``min_lr = initial_lr / final_div_factor`` as entries, and the rate
    at step ``t`` is the 1cycle curve through those three entries (so it equals
    ``one_cycle_lr(t, max_lr, ...)``). Give ``total_steps``, or ``epochs`` and
    ``steps_per_epoch``. ``step()`` is meant to be called after every batch; steps
    ``0 .. total_steps`` are allowed (the last call after the last batch lands on
    ``total_steps``), and stepping further raises ValueError without changing anything.
    With ``cycle_momentum=True`` the momentum (``betas[0]`` for Adam-like optimizers)
    follows :func:`one_cycle_momentum` between the groups' ``'max_momentum'`` and
    ``'base_momentum'`` entries. Where torch divides by zero (a phase of zero length,
    e.g. ``pct_start * total_steps == 1``), that phase gives its end value.
    """

    def __init__(
        self,
        optimizer,
        max_lr,
        total_steps=None,
        epochs=None,
        steps_per_epoch=None,
        pct_start=0.3,
        anneal_strategy="cos",
        cycle_momentum=True,
        base_momentum=0.85,
        max_momentum=0.95,
        div_factor=25.0,
        final_div_factor=1e4,
        three_phase=False,
        last_epoch=-1,
    ):
        _check_optimizer(optimizer)
        if total_steps is not None:
            self.total_steps = _checks.positive_int("total_steps", total_steps)
        elif epochs is not None and steps_per_epoch is not None:
            self.total_steps = _checks.positive_int("epochs", epochs) * _checks.positive_int(
                "steps_per_epoch", steps_per_epoch
            )
        else:
            raise ValueError(
                "Invalid total_steps: None (give total_steps, or both epochs and steps_per_epoch)"
            )
        self.pct_start = _checks.in_interval("pct_start", pct_start, 0.0, 1.0)
        self.anneal_strategy = _checks.choice("anneal_strategy", anneal_strategy, ANNEAL_STRATEGIES)
        self.three_phase = bool(three_phase)
        div_factor = _checks.positive("div_factor", div_factor)
        final_div_factor = _checks.positive("final_div_factor", final_div_factor)
        max_lrs = _per_group("max_lr", max_lr, optimizer, _checks.nonnegative)
        if last_epoch == -1:
            for group, top in zip(optimizer.param_groups, max_lrs, strict=True):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = bool(cycle_momentum)
        if self.cycle_momentum:
            _momentum_setup(self, optimizer, base_momentum, max_momentum, last_epoch)
        super().__init__(optimizer, last_epoch)

    def _curve(self, t, start, peak, end):
        return _one_cycle_value(
            t,
            self.total_steps,
            self.pct_start,
            self.anneal_strategy,
            start,
            peak,
            end,
            self.three_phase,
        )

    def _closed_form_lrs(self, t):
        if t > self.total_steps:
            raise ValueError(
                f"OneCycleLR was stepped to step {t}, past the end of its schedule: it was "
                f"built for total_steps={self.total_steps} (steps 0 to {self.total_steps}). "
                "Make total_steps (or epochs * steps_per_epoch) equal to the number of "
                "optimizer steps in the training loop, or stop calling scheduler.step() "
                "after the last one."
            )
        return [
            self._curve(t, group["initial_lr"], group["max_lr"], group["min_lr"])
            for group in self.optimizer.param_groups
        ]

    def _apply(self, t, lrs):
        super()._apply(t, lrs)
        if self.cycle_momentum:
            for group in self.optimizer.param_groups:
                momentum = self._curve(
                    t, group["max_momentum"], group["base_momentum"], group["max_momentum"]
                )
                _set_momentum(group, self.use_beta1, momentum)
