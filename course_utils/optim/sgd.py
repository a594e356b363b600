"""SGD with optional momentum and Nesterov momentum, a drop-in for ``torch.optim.SGD``."""

import torch

from course_utils.optim import _validation
from course_utils.optim._base import (
    CourseOptimizer,
    effective_grad,
    foreach_effective_grads,
    group_float,
)


class SGD(CourseOptimizer):
    r"""Stochastic gradient descent, optionally with (Nesterov) momentum.

    For each parameter, with gradient :math:`\nabla`:

    .. math::
        g &\leftarrow \pm\nabla + \lambda\theta \\
        b &\leftarrow g \ \text{(first step)},\quad
        b \leftarrow \mu b + (1-\tau) g \ \text{(later steps)} \\
        \theta &\leftarrow \theta - \gamma\,(g + \mu b) \ \text{(nesterov)},\quad
        \theta \leftarrow \theta - \gamma b \ \text{(momentum)},\quad
        \theta \leftarrow \theta - \gamma g \ \text{(}\mu = 0\text{)}

    Convention (torch.optim's and the lecture's): the buffer sums gradients and the
    learning rate multiplies it, so changing ``lr`` takes effect at once on the whole
    velocity; the first buffer is the gradient itself, undamped. See
    :mod:`course_utils.optim.momentum` for the other conventions and how they relate.

    Args:
        params: iterable of tensors or of dicts defining param groups.
        lr: learning rate :math:`\gamma` (default 1e-3).
        momentum: :math:`\mu \ge 0` (default 0).
        dampening: :math:`\tau \in [0, 1]` (default 0).
        weight_decay: L2 penalty :math:`\lambda \ge 0` added to the gradient (default 0).
        nesterov: Nesterov momentum; needs ``momentum > 0`` and ``dampening == 0``.
        maximize: ascend the objective instead of descending it.
        foreach: ``True`` for the multi-tensor path (``torch._foreach_*``), ``False`` for
            the per-tensor loop, ``None`` to choose by device (multi-tensor on CUDA).
        differentiable, fused: accepted for signature compatibility; only ``False`` /
            ``None`` are supported.

    State per parameter: ``"momentum_buffer"`` (only when ``momentum != 0``; without
    momentum ``state`` stays empty, as in torch.optim).
    """

    LEGACY_GROUP_DEFAULTS = {
        "nesterov": False,
        "maximize": False,
        "foreach": None,
        "differentiable": False,
        "fused": False,
    }

    def __init__(
        self,
        params,
        lr=1e-3,
        momentum=0,
        dampening=0,
        weight_decay=0,
        nesterov=False,
        *,
        maximize=False,
        foreach=None,
        differentiable=False,
        fused=None,
    ):
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            "foreach": foreach,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)

    def _check_hyperparameters(self, hyperparameters):
        _validation.check_flags(hyperparameters)
        _validation.check_sgd(
            lr=hyperparameters["lr"],
            momentum=hyperparameters["momentum"],
            dampening=hyperparameters["dampening"],
            weight_decay=hyperparameters["weight_decay"],
            nesterov=hyperparameters["nesterov"],
        )

    def _keeps_state(self, group):
        return group["momentum"] != 0

    def _update(self, group, params, grads, states, foreach):
        options = {
            "lr": group_float(group, "lr"),
            "momentum": group_float(group, "momentum"),
            "dampening": group_float(group, "dampening"),
            "weight_decay": group_float(group, "weight_decay"),
            "nesterov": bool(group["nesterov"]),
            "maximize": bool(group["maximize"]),
        }
        if foreach:
            _sgd_foreach(params, grads, states, **options)
        else:
            for param, grad, state in zip(params, grads, states, strict=True):
                _sgd_single(param, grad, state, **options)


def _sgd_single(param, grad, state, *, lr, momentum, dampening, weight_decay, nesterov, maximize):
    g = effective_grad(param, grad, weight_decay=weight_decay, maximize=maximize)
    if momentum != 0:
        buf = state.get("momentum_buffer")
        if buf is None:
            buf = state["momentum_buffer"] = g.clone()
        else:
            buf.mul_(momentum).add_(g, alpha=1 - dampening)
        g = g.add(buf, alpha=momentum) if nesterov else buf
    param.add_(g, alpha=-lr)


def _sgd_foreach(
    params, grads, states, *, lr, momentum, dampening, weight_decay, nesterov, maximize
):
    g = foreach_effective_grads(params, grads, weight_decay=weight_decay, maximize=maximize)
    if momentum != 0:
        bufs = [state.get("momentum_buffer") for state in states]
        running = [i for i, buf in enumerate(bufs) if buf is not None]
        if running:
            running_bufs = [bufs[i] for i in running]
            torch._foreach_mul_(running_bufs, momentum)
            torch._foreach_add_(running_bufs, [g[i] for i in running], alpha=1 - dampening)
        for i, state in enumerate(states):
            if bufs[i] is None:
                bufs[i] = state["momentum_buffer"] = g[i].clone()
        g = torch._foreach_add(g, bufs, alpha=momentum) if nesterov else bufs
    torch._foreach_add_(params, g, alpha=-lr)
