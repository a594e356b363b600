"""Reading and writing the param groups of an optimizer, shared by the scheduler classes."""

import functools
import inspect
import weakref

import torch

from course_utils.schedules import _checks


def check_optimizer(optimizer):
    """Any object with a non-empty list ``param_groups`` of dicts with an ``'lr'`` entry."""
    groups = getattr(optimizer, "param_groups", None)
    if not (
        isinstance(groups, list)
        and groups
        and all(isinstance(group, dict) and "lr" in group for group in groups)
    ):
        raise TypeError(
            f"{type(optimizer).__name__} is not an Optimizer: a scheduler needs an object "
            "with a non-empty list param_groups of dicts with an 'lr' entry "
            "(any torch.optim.Optimizer)"
        )
    return optimizer


def per_group(name, value, optimizer, check=_checks.nonnegative):
    """One checked float per param group: a number (or one-element tensor) is repeated, a
    list or tuple must have one entry per group."""
    count = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != count:
            raise ValueError(
                f"Invalid {name}: {value!r} ({name} must be a number or a list of {count} "
                "numbers, one per param group)"
            )
        return [check(name, _checks.number(name, v)) for v in value]
    return [check(name, _checks.number(name, value))] * count


def write(group, key, value):
    """Set ``group[key]``; a tensor entry is filled in place (it may be shared)."""
    if isinstance(group[key], torch.Tensor):
        group[key].fill_(float(value))
    else:
        group[key] = value


def snapshot(optimizer, key="lr"):
    """Every group's ``key``, tensors cloned (so the caller cannot change the groups)."""
    return [
        group[key].clone() if isinstance(group[key], torch.Tensor) else group[key]
        for group in optimizer.param_groups
    ]


def uses_betas(optimizer):
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


def set_momentum(group, use_beta1, value):
    if use_beta1:
        group["betas"] = (value, *group["betas"][1:])
    else:
        group["momentum"] = value


def start_momentum(optimizer, use_beta1, base_momentum, max_momentum):
    """Begin every group at its ``max_momentum`` and store both bounds in the group
    (``'base_momentum'``, ``'max_momentum'``), as torch's CyclicLR and OneCycleLR do."""
    for group, low, high in zip(optimizer.param_groups, base_momentum, max_momentum, strict=True):
        set_momentum(group, use_beta1, high)
        group["max_momentum"] = high
        group["base_momentum"] = low


def track_optimizer_steps(optimizer):
    """Mark ``optimizer._opt_called`` on every ``optimizer.step()``, as torch's schedulers do.

    This is how a scheduler notices ``scheduler.step()`` called before the first
    ``optimizer.step()``. The wrapper carries torch's marker (``_wrapped_by_lr_sched``),
    so torch's schedulers and ours wrap an optimizer once between them. An optimizer
    without a bound ``step`` method is left alone (returns False).
    """
    step = getattr(optimizer, "step", None)
    if step is None or not inspect.ismethod(step):
        return hasattr(step, "_wrapped_by_lr_sched")
    if hasattr(step, "_wrapped_by_lr_sched"):
        return True
    method = step.__func__
    owner = weakref.ref(optimizer)

    @functools.wraps(method)
    def step_and_mark(*args, **kwargs):
        opt = owner()
        opt._opt_called = True
        return method(opt, *args, **kwargs)

    step_and_mark._wrapped_by_lr_sched = True
    optimizer.step = step_and_mark
    return True
