r"""Drop-in replacements for the schedulers of ``torch.optim.lr_scheduler`` (torch 2.13).

Every class here is a ``torch.optim.lr_scheduler.LRScheduler`` (our
:class:`ReduceLROnPlateau` is a ``torch.optim.lr_scheduler.ReduceLROnPlateau``), so it
works inside torch's ``SequentialLR`` and ``ChainedScheduler`` and wherever code checks
``isinstance``. Each takes the same constructor arguments with the same defaults as its
torch namesake, keeps the same attributes under the same names (so a ``state_dict()``
of ours loads into torch's class and torch's into ours), gives the same learning rates
step by step and the same warnings. The schedule itself is a factory of
:mod:`course_utils.schedules.functional`; the classes apply it to an optimizer.

Conventions (torch's):

- Construction is step 0: ``last_epoch`` becomes 0 and the rate for step 0 is written
  into every param group. Each group's starting rate is stored as
  ``group['initial_lr']`` (an existing entry is kept) and listed in ``base_lrs``. Call
  ``scheduler.step()`` after ``optimizer.step()``; each call advances ``last_epoch``.
  Calling it before the first ``optimizer.step()`` gives torch's ``UserWarning``.
- Any optimizer works: any object with a list ``param_groups`` of dicts with an
  ``'lr'`` entry, which includes every ``torch.optim.Optimizer``. (The order warning
  needs a bound ``step`` method to watch; an object without one gets no warning.)
  Rates are computed as Python floats; a tensor ``group['lr']`` is filled in place.
- Chainable schedules (StepLR, MultiStepLR, ExponentialLR, LinearLR,
  CosineAnnealingLR) update the *current* rate of each group by the schedule's
  step-to-step rule, as torch does; so a rate changed from outside (by hand, or by
  another scheduler in a ``ChainedScheduler``) is carried along. Without outside
  changes the result equals the schedule at ``last_epoch`` with the group's
  ``initial_lr``, up to rounding. ``step(epoch)`` (deprecated in torch, with its
  warning) sets ``last_epoch = epoch`` and evaluates the closed form.
- The other schedules (CyclicLR, CosineAnnealingWarmRestarts, OneCycleLR,
  WarmupCosineLR, ScheduleLR) evaluate their schedule at ``last_epoch`` on every
  step and overwrite outside changes, as torch does.

Where torch contradicts its own documentation, ours follows the documentation; each
such case is stated in the class docstring. Arguments are checked at construction and
refused with a ValueError naming them where torch's documentation says what they must
be but torch's code lets another value through to fail later or give a meaningless
schedule: a non-integer ``step_size``, ``T_max``, ``total_iters`` or ``T_0``, a
negative ``gamma``, ``eta_min``, rate or momentum, and NaN or infinite values. Values
torch documents and accepts are accepted: ``gamma = 0``, unsorted or repeated
milestones, tensor rates.
"""

import copy
import math
import types
import warnings
from collections import Counter

import torch
from torch.optim import lr_scheduler as _torch

from course_utils.schedules import _checks
from course_utils.schedules import _param_groups as groups_
from course_utils.schedules.functional import (
    cosine_between,
    cosine_schedule,
    cycle_schedule,
    cyclic_scale,
    exponential_schedule,
    linear_between,
    linear_schedule,
    multistep_schedule,
    one_cycle_phase_ends,
    phases_schedule,
    restart_position,
    step_schedule,
    warmup_cosine_schedule,
)

_ORDER_WARNING = (
    "lr_scheduler.step() was called before optimizer.step(): the first value of the "
    "schedule is skipped. Since PyTorch 1.1.0 the order is optimizer.step() first, then "
    "lr_scheduler.step(); see "
    "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate"
)
_OVERRIDDEN_WARNING = (
    "`optimizer.step()` has been overridden after the learning rate scheduler was made, so "
    "the scheduler cannot see whether optimizer.step() is called before "
    "lr_scheduler.step(); make the scheduler after replacing it. See "
    "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate"
)
_GET_LR_WARNING = (
    "get_lr() computes the next rates; to get the last learning rate computed by the "
    "scheduler, use get_last_lr()"
)


class LRScheduler(_torch.LRScheduler):
    """Base class: one learning rate per param group, advanced by :meth:`step`.

    Subclasses give the closed form (``_closed_form_lrs(t)``: the schedule at step
    ``t`` for every group) and, when chainable, the step-to-step rule
    (``_chained_lrs(t, initial)``: the rates for step ``t`` from the current ones;
    ``initial`` is true for the step done by the constructor). torch's hooks
    ``get_lr()``, ``_get_closed_form_lr()``, ``_initial_step()`` and ``_update_lr()``
    (which ``SequentialLR`` calls) are defined on top of these.
    """

    _not_state = ("optimizer", "_schedule_cache")

    def __init__(self, optimizer, last_epoch=-1, base_lrs=None):
        self.optimizer = groups_.check_optimizer(optimizer)
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
            for i, group in enumerate(groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{i}] when "
                        f"resuming scheduler with last_epoch >= 0 (last_epoch={last_epoch}): "
                        "load the optimizer's state_dict from the checkpoint first, or use "
                        "last_epoch=-1 for a fresh start"
                    )
        self.base_lrs = groups_.snapshot(optimizer, "initial_lr") if base_lrs is None else base_lrs
        self.last_epoch = last_epoch
        groups_.track_optimizer_steps(optimizer)
        self._initial_step()

    # -- torch's protocol --------------------------------------------------------------

    def _initial_step(self):
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def step(self, epoch=None):
        """Advance one step (``epoch=None``), or jump to step ``epoch`` (closed form;
        deprecated in torch, which warns, and so does this)."""
        if self._step_count == 1:
            self._warn_if_out_of_order()
        self._step_count += 1
        if epoch is not None:
            _checks.step_count(epoch, "epoch")
            warnings.warn(_torch.EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _warn_if_out_of_order(self):
        step = getattr(self.optimizer, "step", None)
        if hasattr(step, "_wrapped_by_lr_sched"):
            if not getattr(self.optimizer, "_opt_called", False):
                warnings.warn(_ORDER_WARNING, UserWarning, stacklevel=3)
        elif isinstance(self.optimizer, torch.optim.Optimizer):
            warnings.warn(_OVERRIDDEN_WARNING, UserWarning, stacklevel=3)

    def _update_lr(self, epoch=None):
        """Go to the next step (``epoch=None``: the chained rule) or to step ``epoch``
        (the closed form) and write the rates. Nothing changes when this raises."""
        previous = self.last_epoch
        self.last_epoch = previous + 1 if epoch is None else epoch
        self._get_lr_called_within_step = True
        try:
            lrs = self.get_lr() if epoch is None else self._get_closed_form_lr()
        except BaseException:
            self.last_epoch = previous
            raise
        finally:
            self._get_lr_called_within_step = False
        self._write_lrs(lrs)

    def get_lr(self):
        """The rates for step ``last_epoch`` by the step-to-step rule (torch's hook; to
        read the current rates use :meth:`get_last_lr`)."""
        if not self._get_lr_called_within_step:
            warnings.warn(_GET_LR_WARNING, UserWarning, stacklevel=2)
        return self._chained_lrs(self.last_epoch, self._is_initial)

    def _get_closed_form_lr(self):
        return self._closed_form_lrs(self.last_epoch)

    def get_last_lr(self):
        """The rates written by the last step, one per param group."""
        return list(self._last_lr)

    def state_dict(self):
        """Everything but the optimizer, as a deep copy (loads into torch's namesake)."""
        return {
            key: copy.deepcopy(value)
            for key, value in vars(self).items()
            if key not in self._not_state
        }

    def load_state_dict(self, state_dict):
        """Restore a :meth:`state_dict`, ours or torch's (the optimizer's own state is
        loaded separately)."""
        self.__dict__.update(copy.deepcopy(state_dict))
        self.__dict__.pop("_schedule_cache", None)

    # -- for subclasses ------------------------------------------------------------------

    def _closed_form_lrs(self, t):
        raise NotImplementedError

    def _chained_lrs(self, t, initial):
        return self._closed_form_lrs(t)

    def _current_lrs(self):
        return [float(group["lr"]) for group in self.optimizer.param_groups]

    def _write_lrs(self, lrs):
        for group, lr in zip(self.optimizer.param_groups, lrs, strict=True):
            groups_.write(group, "lr", lr)
        self._last_lr = groups_.snapshot(self.optimizer)

    def _schedule(self, key, make):
        """The schedule ``make()`` built once per ``key`` (the hyperparameters it uses)."""
        cache = self.__dict__.setdefault("_schedule_cache", {})
        schedule = cache.get(key)
        if schedule is None:
            schedule = cache[key] = make()
        return schedule

    def _bases(self):
        return [float(base) for base in self.base_lrs]


class StepLR(LRScheduler):
    r"""Multiply the rate by ``gamma`` every ``step_size`` steps: :func:`step_schedule`.

    Step rule: :math:`\alpha_t = \gamma\,\alpha_{t-1}` when ``t`` is a positive multiple
    of ``step_size``, else :math:`\alpha_t = \alpha_{t-1}`.
    """

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size = _checks.positive_int("step_size", step_size)
        self.gamma = _checks.nonnegative("gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def _closed_form_lrs(self, t):
        return [
            self._schedule(
                (base, self.step_size, self.gamma),
                lambda base=base: step_schedule(base, self.step_size, self.gamma),
            )(t)
            for base in self._bases()
        ]

    def _chained_lrs(self, t, initial):
        factor = self.gamma if t > 0 and t % self.step_size == 0 else 1.0
        return [lr * factor for lr in self._current_lrs()]


class MultiStepLR(LRScheduler):
    r"""Multiply the rate by ``gamma`` at each milestone: :func:`multistep_schedule`.

    ``milestones`` are integers ``>= 0`` in any order, kept as a ``Counter`` as torch
    keeps them; a milestone listed ``k`` times multiplies by :math:`\gamma^k`.
    Step rule: :math:`\alpha_t = \gamma^{k}\,\alpha_{t-1}` when ``t`` is listed ``k``
    times.
    """

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones = Counter(_checks.nonnegative_ints("milestones", milestones))
        self.gamma = _checks.nonnegative("gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def _closed_form_lrs(self, t):
        milestones = tuple(sorted(self.milestones.elements()))
        return [
            self._schedule(
                (base, milestones, self.gamma),
                lambda base=base: multistep_schedule(base, milestones, self.gamma),
            )(t)
            for base in self._bases()
        ]

    def _chained_lrs(self, t, initial):
        factor = self.gamma ** self.milestones[t] if t in self.milestones else 1.0
        return [lr * factor for lr in self._current_lrs()]


class ExponentialLR(LRScheduler):
    r"""Multiply the rate by ``gamma`` every step: :func:`exponential_schedule`.

    Step rule: :math:`\alpha_t = \gamma\,\alpha_{t-1}`; construction leaves the rate as
    it is.
    """

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = _checks.nonnegative("gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def _closed_form_lrs(self, t):
        return [
            self._schedule(
                (base, self.gamma), lambda base=base: exponential_schedule(base, self.gamma)
            )(t)
            for base in self._bases()
        ]

    def _chained_lrs(self, t, initial):
        factor = 1.0 if initial else self.gamma
        return [lr * factor for lr in self._current_lrs()]


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing from the initial rate to ``eta_min``: :func:`cosine_schedule`.

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
        return [
            self._schedule(
                (base, self.T_max, self.eta_min),
                lambda base=base: cosine_schedule(base, self.T_max, self.eta_min),
            )(t)
            for base in self._bases()
        ]

    def _chained_lrs(self, t, initial):
        current = self._current_lrs()
        if initial:
            return current
        if (t - 1 - self.T_max) % (2 * self.T_max) == 0:
            rise = (1.0 - math.cos(math.pi / self.T_max)) / 2.0
            return [
                lr + (base - self.eta_min) * rise
                for lr, base in zip(current, self._bases(), strict=True)
            ]
        ratio = (1.0 + math.cos(math.pi * t / self.T_max)) / (
            1.0 + math.cos(math.pi * (t - 1) / self.T_max)
        )
        return [self.eta_min + (lr - self.eta_min) * ratio for lr in current]


class LinearLR(LRScheduler):
    r"""The factor goes from ``start_factor`` to ``end_factor``: :func:`linear_schedule`.

    As in torch, ``0 < start_factor <= 1`` and ``0 <= end_factor <= 1``. Step rule: with
    :math:`f_t = s + (e - s)\min(t, T)/T`, step 0 multiplies the rate by
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
        args = (self.start_factor, self.end_factor, self.total_iters)
        return [
            self._schedule((base, *args), lambda base=base: linear_schedule(base, *args))(t)
            for base in self._bases()
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


class ScheduleLR(LRScheduler):
    """Any schedule of :mod:`~course_utils.schedules.functional` applied to an optimizer.

    ``make_schedule(base_lr)`` returns the schedule of a group that starts from
    ``base_lr`` (its ``initial_lr``), e.g. ``lambda lr: join_schedules([...], [...])``;
    it is called once per group. The schedule is evaluated at ``last_epoch`` on every
    step. Like torch's ``LambdaLR``, the function is not part of :meth:`state_dict`:
    pass the same one to the scheduler that loads it.
    """

    _not_state = (*LRScheduler._not_state, "make_schedule")

    def __init__(self, optimizer, make_schedule, last_epoch=-1):
        if not callable(make_schedule):
            raise TypeError(
                f"make_schedule is a {type(make_schedule).__name__}; give a function "
                "base_lr -> schedule"
            )
        self.make_schedule = make_schedule
        super().__init__(optimizer, last_epoch)

    def _schedule_key(self):
        return ()

    def _closed_form_lrs(self, t):
        key = self._schedule_key()
        return [
            self._schedule((base, *key), lambda base=base: self.make_schedule(base))(t)
            for base in self._bases()
        ]


class WarmupCosineLR(ScheduleLR):
    r"""Linear warm-up then cosine annealing: :func:`warmup_cosine_schedule` (no torch twin).

    The rate of each group goes linearly from ``warmup_start_factor * initial_lr`` to
    ``initial_lr`` over ``warmup_steps`` steps, then follows a half cosine down to
    ``eta_min`` at ``total_steps``, and stays there. For ``warmup_start_factor > 0`` it
    matches torch's ``SequentialLR([LinearLR(...), CosineAnnealingLR(...)],
    milestones=[warmup_steps])``.
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
        warmup_cosine_schedule(0.0, warmup_steps, total_steps, warmup_start_factor, eta_min)
        self.warmup_steps = warmup_steps
        self.total_steps = total_steps
        self.warmup_start_factor = float(warmup_start_factor)
        self.eta_min = float(eta_min)
        super().__init__(optimizer, self._make, last_epoch)

    def _schedule_key(self):
        return (self.warmup_steps, self.total_steps, self.warmup_start_factor, self.eta_min)

    def _make(self, base):
        return warmup_cosine_schedule(base, *self._schedule_key())


class CyclicLR(LRScheduler):
    r"""Cyclical learning rate (Smith, arXiv:1506.01186): :func:`cycle_schedule` at ``last_epoch``.

    ``base_lr`` and ``max_lr`` (a number, a one-element tensor, or one per group) bound
    the cycle; ``base_lrs`` are the ``base_lr`` values, written into the groups on a
    fresh start. ``step()`` is meant to be called after every batch. The cycle is kept
    as torch keeps it (``total_size``, ``step_ratio``). With ``cycle_momentum=True``
    (default, as in torch) the optimizer needs a ``momentum`` or ``betas``
    hyperparameter; its momentum (``betas[0]`` for Adam-like optimizers) goes from
    ``max_momentum`` down to ``base_momentum`` while the rate peaks. A custom
    ``scale_fn`` is saved in :meth:`state_dict` as torch saves it: a callable object's
    ``__dict__``, nothing of a function (pass the same one to the scheduler that loads
    it).
    """

    _not_state = (*LRScheduler._not_state, "_scale_fn_custom", "_scale_fn_ref")

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
        groups_.check_optimizer(optimizer)
        base_lrs = groups_.per_group("base_lr", base_lr, optimizer)
        self.max_lrs = groups_.per_group("max_lr", max_lr, optimizer)
        up = _checks.positive("step_size_up", step_size_up)
        down = up if step_size_down is None else _checks.positive("step_size_down", step_size_down)
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode
        self._init_scale_fn()  # checks mode, gamma, scale_fn and scale_mode
        if last_epoch == -1:
            for group, lr in zip(optimizer.param_groups, base_lrs, strict=True):
                groups_.write(group, "lr", lr)
        self.cycle_momentum = bool(cycle_momentum)
        if self.cycle_momentum:
            self.use_beta1 = groups_.uses_betas(optimizer)
            self.base_momentums = groups_.per_group("base_momentum", base_momentum, optimizer)
            self.max_momentums = groups_.per_group("max_momentum", max_momentum, optimizer)
            if last_epoch == -1:
                groups_.start_momentum(
                    optimizer, self.use_beta1, self.base_momentums, self.max_momentums
                )
        super().__init__(optimizer, last_epoch, base_lrs=base_lrs)

    def _scale(self):
        return cyclic_scale(self.mode, self.gamma, self._scale_fn_custom, self.scale_mode)

    def _init_scale_fn(self):
        """As torch: the built-in scale function of ``mode`` as ``_scale_fn_ref`` (not
        saved), and ``scale_mode`` set to the one that mode uses."""
        scale_fn, scale_mode = self._scale()
        if self._scale_fn_custom is None:
            self._scale_fn_ref, self.scale_mode = scale_fn, scale_mode

    def scale_fn(self, x):
        """The amplitude scale at ``x`` (the cycle number or the step, by ``scale_mode``)."""
        return self._scale()[0](x)

    def _wave(self, low, high):
        key = (low, high, self.total_size, self.step_ratio, self.mode, self.gamma)
        key += (self._scale_fn_custom, self.scale_mode)
        return self._schedule(
            key, lambda: cycle_schedule(low, high, self.total_size, self.step_ratio, self._scale())
        )

    def _closed_form_lrs(self, t):
        return [
            self._wave(base, float(top))(t)
            for base, top in zip(self._bases(), self.max_lrs, strict=True)
        ]

    def _write_lrs(self, lrs):
        super()._write_lrs(lrs)
        if self.cycle_momentum:
            t = self.last_epoch
            for group, low, high in zip(
                self.optimizer.param_groups, self.base_momentums, self.max_momentums, strict=True
            ):
                groups_.set_momentum(group, self.use_beta1, self._wave(float(high), float(low))(t))

    def state_dict(self):
        state = super().state_dict()
        fn = self._scale_fn_custom
        state["_scale_fn_custom"] = (
            None if fn is None or isinstance(fn, types.FunctionType) else dict(vars(fn))
        )
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        saved = state.pop("_scale_fn_custom", None)
        state.pop("_scale_fn_ref", None)
        super().load_state_dict(state)
        if saved is not None and self._scale_fn_custom is not None:
            vars(self._scale_fn_custom).update(saved)
        self._init_scale_fn()


class CosineAnnealingWarmRestarts(LRScheduler):
    r"""Cosine annealing with warm restarts (SGDR): :func:`warm_restarts_schedule`.

    The scheduler keeps :math:`T_{cur}` (steps since the last restart) and :math:`T_i`
    (length of the current cycle), as torch's does, and sets
    :math:`\alpha = \eta_{\min} + \tfrac12(\alpha_0 - \eta_{\min})(1 + \cos(\pi T_{cur}/T_i))`.

    - ``step()`` adds 1 to :math:`T_{cur}`; on reaching :math:`T_i` it wraps around and
      :math:`T_i` grows by ``T_mult``. With whole steps this is the schedule at
      ``last_epoch``.
    - ``step(epoch)`` accepts a fractional epoch (e.g. ``epoch + i / batches``) and sets
      :math:`T_{cur}, T_i` from it; ``last_epoch`` becomes ``floor(epoch)``. A later
      ``step()`` continues from that :math:`T_{cur}` (torch does the same). As in
      torch, this class gives no deprecation or order warnings.

    Differs from torch where torch contradicts its documentation: torch locates the
    cycle with a floating-point logarithm, which puts some exact restart epochs one
    cycle early when ``T_mult > 2`` (e.g. ``T_0=1, T_mult=3, epoch=121`` gives
    ``eta_min`` instead of the initial rate); here the cycle boundaries are found
    exactly, so ``step(epoch)`` differs from torch at those epochs.
    """

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        self.T_0 = _checks.positive_int("T_0", T_0)
        self.T_mult = _checks.positive_int("T_mult", T_mult)
        self.eta_min = _checks.nonnegative("eta_min", eta_min)
        self.T_i = self.T_0
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def step(self, epoch=None):
        """Advance one step, or go to the (possibly fractional) ``epoch``."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        self._update_lr(epoch)

    def _update_lr(self, epoch=None):
        if epoch is None:
            t = self.last_epoch + 1
            T_cur, T_i = self.T_cur + 1, self.T_i
            if T_cur >= T_i:
                T_cur, T_i = T_cur % T_i, T_i * self.T_mult
        else:
            _checks.step_count(epoch, "epoch")
            t = math.floor(epoch)
            T_cur, T_i = restart_position(epoch, self.T_0, self.T_mult)
        self.T_cur, self.T_i, self.last_epoch = T_cur, T_i, t
        self._write_lrs(self._closed_form_lrs(t))

    def _closed_form_lrs(self, t):
        fraction = self.T_cur / self.T_i
        return [cosine_between(base, self.eta_min, fraction) for base in self._bases()]


class OneCycleLR(LRScheduler):
    r"""The 1cycle policy (Smith & Topin, arXiv:1708.07120): :func:`phases_schedule`.

    On a fresh start every group gets ``initial_lr = max_lr / div_factor``,
    ``max_lr`` and ``min_lr = initial_lr / final_div_factor`` as entries, and the rate
    at step ``t`` is the 1cycle curve through those entries, phase by phase as torch
    keeps them in ``_schedule_phases`` (so it equals ``one_cycle_lr(t, max_lr, ...)``).
    Give ``total_steps``, or ``epochs`` and ``steps_per_epoch``. ``step()`` is meant to
    be called after every batch; steps ``0 .. total_steps`` are allowed (the last call
    after the last batch lands on ``total_steps``), and stepping further raises
    ValueError without changing anything. With ``cycle_momentum=True`` the momentum
    (``betas[0]`` for Adam-like optimizers) follows the groups' ``'max_momentum'`` and
    ``'base_momentum'`` entries on the same phases.

    Differs from torch where torch raises ZeroDivisionError: a phase of zero length
    (e.g. ``pct_start * total_steps == 1``) gives its end value.
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
        groups_.check_optimizer(optimizer)
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
        pct_start = _checks.in_interval("pct_start", pct_start, 0.0, 1.0)
        self._anneal_func_type = _checks.choice(
            "anneal_strategy", anneal_strategy, ("cos", "linear")
        )
        self._schedule_phases = _one_cycle_phases(self.total_steps, pct_start, three_phase)
        div_factor = _checks.positive("div_factor", div_factor)
        final_div_factor = _checks.positive("final_div_factor", final_div_factor)
        max_lrs = groups_.per_group("max_lr", max_lr, optimizer)
        if last_epoch == -1:
            for group, top in zip(optimizer.param_groups, max_lrs, strict=True):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = bool(cycle_momentum)
        if self.cycle_momentum:
            self.use_beta1 = groups_.uses_betas(optimizer)
            if last_epoch == -1:
                groups_.start_momentum(
                    optimizer,
                    self.use_beta1,
                    groups_.per_group("base_momentum", base_momentum, optimizer),
                    groups_.per_group("max_momentum", max_momentum, optimizer),
                )
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _annealing_cos(start, end, pct):
        """Half a cosine from ``start`` to ``end`` as ``pct`` goes from 0 to 1."""
        return cosine_between(start, end, pct)

    @staticmethod
    def _annealing_linear(start, end, pct):
        """A straight line from ``start`` to ``end`` as ``pct`` goes from 0 to 1."""
        return linear_between(start, end, pct)

    def _strategy(self):
        """``'cos'`` or ``'linear'``; a state dict of torch before 2.2 names the function
        (``anneal_func``) instead."""
        strategy = getattr(self, "_anneal_func_type", None)
        if strategy is None:
            legacy = getattr(self, "anneal_func", None)
            linear = getattr(legacy, "__name__", "") == "_annealing_linear"
            strategy = self._anneal_func_type = "linear" if linear else "cos"
        return strategy

    def _curve(self, group, start_key, end_key):
        phases = self._schedule_phases
        values = (float(group[phases[0][start_key]]),)
        values += tuple(float(group[phase[end_key]]) for phase in phases)
        ends = tuple(float(phase["end_step"]) for phase in phases)
        strategy = self._strategy()
        return self._schedule(
            (values, ends, strategy), lambda: phases_schedule(values, ends, strategy)
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
            self._curve(group, "start_lr", "end_lr")(t) for group in self.optimizer.param_groups
        ]

    def _write_lrs(self, lrs):
        super()._write_lrs(lrs)
        if self.cycle_momentum:
            t = self.last_epoch
            for group in self.optimizer.param_groups:
                momentum = self._curve(group, "start_momentum", "end_momentum")(t)
                groups_.set_momentum(group, self.use_beta1, momentum)


def _one_cycle_phases(total_steps, pct_start, three_phase):
    """The phases of a 1cycle schedule in torch's format: the last step of each phase
    (:func:`~course_utils.schedules.functional.one_cycle_phase_ends`) and the param-group
    entries it goes between."""
    ends = one_cycle_phase_ends(total_steps, pct_start, three_phase)
    if three_phase:
        lrs = ["initial_lr", "max_lr", "initial_lr", "min_lr"]
        momenta = ["max_momentum", "base_momentum", "max_momentum", "max_momentum"]
    else:
        lrs = ["initial_lr", "max_lr", "min_lr"]
        momenta = ["max_momentum", "base_momentum", "max_momentum"]
    return [
        {
            "end_step": end,
            "start_lr": lrs[i],
            "end_lr": lrs[i + 1],
            "start_momentum": momenta[i],
            "end_momentum": momenta[i + 1],
        }
        for i, end in enumerate(ends)
    ]
