"""Hyperparameter checks shared by the pure update rules and the optimizer classes.

Each check raises ``ValueError`` whose message names the hyperparameter, the value given
and the rule it breaks, e.g. ``Invalid lr value: -0.1 (lr must be a finite number >= 0)``.
The messages contain the phrases of torch.optim's own messages (``Invalid momentum
value: -0.5``, ``Invalid beta parameter at index 0: 1.0``, ``Tensor lr must be
1-element``), so that code matching torch's errors matches ours.
The rules are those of ``torch.optim`` 2.13, made stricter where torch accepts values
that break the algorithm: NaN and infinite values are refused everywhere, ``dampening``
and RMSprop's ``alpha`` must lie in [0, 1].
"""

import math
import numbers

import torch

UNSUPPORTED_FLAGS = ("fused", "capturable", "differentiable")


def as_float(name, value):
    """Return ``value`` as a Python float; a 1-element tensor is accepted like in torch."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(
                f"Invalid {name}: tensor of shape {tuple(value.shape)} (Tensor {name} must be "
                "1-element: give a number or a 1-element tensor)"
            )
        return float(value.item())
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"Invalid {name} value: {value!r} ({name} must be a real number)")
    return float(value)


def check_nonnegative(name, value):
    x = as_float(name, value)
    if not (math.isfinite(x) and x >= 0.0):
        raise ValueError(f"Invalid {name} value: {value!r} ({name} must be a finite number >= 0)")
    return x


def check_unit_interval(name, value, *, include_one, what=None):
    """Check ``0 <= value <= 1`` (``include_one``) or ``0 <= value < 1``; ``what`` names
    the value in the message (default: ``name value``)."""
    x = as_float(name, value)
    inside = 0.0 <= x <= 1.0 if include_one else 0.0 <= x < 1.0
    if not inside:
        interval = "[0, 1]" if include_one else "[0, 1)"
        raise ValueError(
            f"Invalid {what or name + ' value'}: {value!r} ({name} must be in {interval})"
        )
    return x


def check_betas(betas):
    """Check an Adam ``betas`` pair: two numbers or two 1-element tensors, in [0, 1)."""
    if isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__") or len(betas) != 2:
        raise ValueError(f"Invalid betas: {betas!r} (betas must be a pair (beta1, beta2))")
    if isinstance(betas[0], torch.Tensor) != isinstance(betas[1], torch.Tensor):
        raise ValueError(
            f"Invalid betas: {betas!r} (betas must be either both floats or both Tensors "
            "of 1 element, not one of each)"
        )
    return tuple(
        check_unit_interval(
            f"betas[{i}]", beta, include_one=False, what=f"beta parameter at index {i}"
        )
        for i, beta in enumerate(betas)
    )


def squeeze_betas(betas):
    """``betas`` as torch.optim.Adam stores them: a tuple, 1-element tensors made 0-d.
    Anything but a pair is returned unchanged, for :func:`check_betas` to refuse."""
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        return betas
    return tuple(b.squeeze() if isinstance(b, torch.Tensor) and b.dim() != 0 else b for b in betas)


def check_no_tensors_with_foreach(named_values, *, foreach):
    """torch.optim.Adam's rule: with ``foreach=True`` (and no ``capturable``) its
    hyperparameters must be numbers, not tensors."""
    if not foreach:
        return
    for name, value in named_values.items():
        if isinstance(value, torch.Tensor):
            raise ValueError(
                f"Invalid {name}: a tensor with foreach=True ({name} as a Tensor is not "
                "supported for capturable=False and foreach=True, and this package has no "
                f"capturable mode: pass {name} as a float, e.g. {name}.item(), or use "
                "foreach=False)"
            )


def check_flags(hyperparameters):
    """Refuse the torch.optim execution modes this package does not implement."""
    for flag in UNSUPPORTED_FLAGS:
        if hyperparameters.get(flag):
            raise ValueError(
                f"Invalid {flag}: {hyperparameters[flag]!r} ({flag}=True is not supported by "
                "course_utils.optim; use foreach=True for the multi-tensor path)"
            )
    foreach = hyperparameters.get("foreach")
    if foreach is not None and not isinstance(foreach, bool):
        raise ValueError(f"Invalid foreach: {foreach!r} (foreach must be None, True or False)")


def check_sgd(*, lr, momentum, dampening, weight_decay, nesterov):
    check_nonnegative("lr", lr)
    momentum = check_nonnegative("momentum", momentum)
    dampening = check_unit_interval("dampening", dampening, include_one=True)
    check_nonnegative("weight_decay", weight_decay)
    if nesterov and momentum <= 0.0:
        raise ValueError(
            f"Invalid nesterov: {nesterov!r} with momentum={momentum!r} "
            "(Nesterov momentum requires momentum > 0)"
        )
    if nesterov and dampening != 0.0:
        raise ValueError(
            f"Invalid nesterov: {nesterov!r} with dampening={dampening!r} "
            "(Nesterov momentum requires dampening == 0)"
        )


def check_adagrad(*, lr, lr_decay, weight_decay, initial_accumulator_value, eps):
    check_nonnegative("lr", lr)
    check_nonnegative("lr_decay", lr_decay)
    check_nonnegative("weight_decay", weight_decay)
    check_nonnegative("initial_accumulator_value", initial_accumulator_value)
    check_nonnegative("eps", eps)


def check_rmsprop(*, lr, alpha, eps, weight_decay, momentum):
    check_nonnegative("lr", lr)
    check_unit_interval("alpha", alpha, include_one=True)
    check_nonnegative("eps", eps)
    check_nonnegative("weight_decay", weight_decay)
    check_nonnegative("momentum", momentum)


def check_adam(*, lr, betas, eps, weight_decay):
    """Check Adam's hyperparameters and return ``betas`` as two floats."""
    check_nonnegative("lr", lr)
    beta1, beta2 = check_betas(betas)
    check_nonnegative("eps", eps)
    check_nonnegative("weight_decay", weight_decay)
    return beta1, beta2
