"""RMSprop, a drop-in for ``torch.optim.RMSprop``."""

import torch

from course_utils.optim import _validation
from course_utils.optim._base import (
    CourseOptimizer,
    effective_grad,
    foreach_effective_grads,
    group_float,
    increment_step,
    increment_steps,
    init_step,
)


class RMSprop(CourseOptimizer):
    r"""RMSprop: steps scaled by a running root-mean-square of the gradients.

    For each parameter:

    .. math::
        g &\leftarrow \pm\nabla + \lambda\theta \\
        s &\leftarrow \alpha s + (1-\alpha) g^2 \\
        \delta &= \sqrt{s - \bar g^2} + \epsilon \ \text{with}\
        \bar g \leftarrow \alpha\bar g + (1-\alpha) g \ \text{(centered)}, \quad
        \delta = \sqrt{s} + \epsilon \ \text{(otherwise)} \\
        b &\leftarrow \mu b + g/\delta,\ \theta \leftarrow \theta - \gamma b
        \ \text{(}\mu > 0\text{)}, \quad
        \theta \leftarrow \theta - \gamma\, g/\delta \ \text{(otherwise)}

    Convention: :math:`\epsilon` is added after the square root; :math:`s, \bar g, b`
    start at zero (no bias correction); the learning rate multiplies the momentum buffer.
    The centered variance :math:`s - \bar g^2` is not clamped: if rounding makes it
    negative the step is NaN, exactly as in torch.optim.

    Args:
        params: iterable of tensors or of dicts defining param groups.
        lr: learning rate :math:`\gamma` (default 1e-2).
        alpha: smoothing constant :math:`\alpha \in [0, 1]` (default 0.99).
        eps: :math:`\epsilon` (default 1e-8).
        weight_decay: L2 penalty :math:`\lambda` added to the gradient (default 0).
        momentum: :math:`\mu \ge 0` (default 0).
        centered: normalise by the estimated variance instead of the second moment.
        capturable, differentiable: only ``False`` is supported.
        foreach: ``True`` multi-tensor path, ``False`` per-tensor loop, ``None`` by device.
        maximize: ascend the objective.

    State per parameter: ``"step"`` (a 0-d float tensor on the CPU, as in torch.optim),
    ``"square_avg"``, plus ``"momentum_buffer"`` when ``momentum > 0`` and ``"grad_avg"``
    when ``centered``.
    """

    LEGACY_GROUP_DEFAULTS = {
        "momentum": 0,
        "centered": False,
        "foreach": None,
        "maximize": False,
        "differentiable": False,
        "capturable": False,
    }

    def __init__(
        self,
        params,
        lr=1e-2,
        alpha=0.99,
        eps=1e-8,
        weight_decay=0,
        momentum=0,
        centered=False,
        capturable=False,
        foreach=None,
        maximize=False,
        differentiable=False,
    ):
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "capturable": capturable,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def _check_hyperparameters(self, hyperparameters):
        _validation.check_flags(hyperparameters)
        _validation.check_rmsprop(
            lr=hyperparameters["lr"],
            alpha=hyperparameters["alpha"],
            eps=hyperparameters["eps"],
            weight_decay=hyperparameters["weight_decay"],
            momentum=hyperparameters["momentum"],
        )

    def _update(self, group, params, grads, states, foreach):
        options = {
            "lr": group_float(group, "lr"),
            "alpha": group_float(group, "alpha"),
            "eps": group_float(group, "eps"),
            "weight_decay": group_float(group, "weight_decay"),
            "momentum": group_float(group, "momentum"),
            "centered": bool(group["centered"]),
            "maximize": bool(group["maximize"]),
        }
        for param, state in zip(params, states, strict=True):
            init_rmsprop_state(
                param, state, momentum=options["momentum"], centered=options["centered"]
            )
        if foreach:
            _rmsprop_foreach(params, grads, states, **options)
        else:
            for param, grad, state in zip(params, grads, states, strict=True):
                _rmsprop_single(param, grad, state, **options)


def init_rmsprop_state(param, state, *, momentum, centered):
    """The state of a tensor before its first RMSprop step (missing buffers are zeros)."""
    init_step(state)
    keys = ["square_avg"] + ["momentum_buffer"] * (momentum > 0) + ["grad_avg"] * centered
    for key in keys:
        if state.get(key) is None:
            state[key] = torch.zeros_like(param)


def _rmsprop_single(
    param, grad, state, *, lr, alpha, eps, weight_decay, momentum, centered, maximize
):
    increment_step(state)
    g = effective_grad(param, grad, weight_decay=weight_decay, maximize=maximize)
    square_avg = state["square_avg"]
    square_avg.mul_(alpha).addcmul_(g, g, value=1 - alpha)
    if centered:
        grad_avg = state["grad_avg"]
        grad_avg.lerp_(g, 1 - alpha)
        denom = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
    else:
        denom = square_avg.sqrt()
    denom.add_(eps)
    if momentum > 0:
        buf = state["momentum_buffer"]
        buf.mul_(momentum).addcdiv_(g, denom)
        param.add_(buf, alpha=-lr)
    else:
        param.addcdiv_(g, denom, value=-lr)


def _rmsprop_foreach(
    params, grads, states, *, lr, alpha, eps, weight_decay, momentum, centered, maximize
):
    increment_steps(states)
    g = foreach_effective_grads(params, grads, weight_decay=weight_decay, maximize=maximize)
    square_avgs = [state["square_avg"] for state in states]
    torch._foreach_mul_(square_avgs, alpha)
    torch._foreach_addcmul_(square_avgs, g, g, value=1 - alpha)
    if centered:
        grad_avgs = [state["grad_avg"] for state in states]
        torch._foreach_lerp_(grad_avgs, g, 1 - alpha)
        denom = torch._foreach_addcmul(square_avgs, grad_avgs, grad_avgs, value=-1)
        torch._foreach_sqrt_(denom)
    else:
        denom = torch._foreach_sqrt(square_avgs)
    torch._foreach_add_(denom, eps)
    if momentum > 0:
        bufs = [state["momentum_buffer"] for state in states]
        torch._foreach_mul_(bufs, momentum)
        torch._foreach_addcdiv_(bufs, g, denom)
        torch._foreach_add_(params, bufs, alpha=-lr)
    else:
        torch._foreach_addcdiv_(params, g, denom, value=-lr)
