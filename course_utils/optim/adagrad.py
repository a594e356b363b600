"""Adagrad, a drop-in for ``torch.optim.Adagrad``."""

import numpy as np
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


class Adagrad(CourseOptimizer):
    r"""Adagrad: per-coordinate steps scaled by the root of the summed squared gradients.

    For each parameter, at step :math:`t = 1, 2, \dots`:

    .. math::
        g &\leftarrow \pm\nabla + \lambda\theta, \qquad
        \tilde\gamma = \gamma / (1 + (t-1)\,\eta) \\
        S &\leftarrow S + g^2 \\
        \theta &\leftarrow \theta - \tilde\gamma\, g / (\sqrt{S} + \epsilon)

    Convention: :math:`\epsilon` is added after the square root (the lecture slides write
    :math:`\delta + \sqrt{r}`, the same thing); :math:`S_0` is ``initial_accumulator_value``.

    Args:
        params: iterable of tensors or of dicts defining param groups.
        lr: learning rate :math:`\gamma` (default 1e-2).
        lr_decay: :math:`\eta \ge 0` (default 0).
        weight_decay: L2 penalty :math:`\lambda` added to the gradient (default 0).
        initial_accumulator_value: :math:`S_0 \ge 0` (default 0).
        eps: :math:`\epsilon` (default 1e-10).
        foreach: ``True`` multi-tensor path, ``False`` per-tensor loop, ``None`` by device.
        maximize: ascend the objective.
        differentiable, fused: only ``False`` / ``None`` are supported.

    State per parameter: ``"step"`` (a 0-d float tensor on the CPU, as in torch.optim) and
    ``"sum"`` (:math:`S`), created at the first step of that parameter from its group's
    ``initial_accumulator_value`` (torch.optim creates them in the constructor from the
    constructor's value, so it ignores a per-group ``initial_accumulator_value``).

    A group without ``initial_accumulator_value`` (a state dict of an older torch.optim,
    whose step never reads it) starts new sums from the constructor's value, as
    torch.optim's constructor did.
    """

    LEGACY_GROUP_DEFAULTS = {
        "foreach": None,
        "maximize": False,
        "differentiable": False,
        "fused": None,
    }

    def __init__(
        self,
        params,
        lr=1e-2,
        lr_decay=0,
        weight_decay=0,
        initial_accumulator_value=0,
        eps=1e-10,
        foreach=None,
        *,
        maximize=False,
        differentiable=False,
        fused=None,
    ):
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)

    def _check_hyperparameters(self, hyperparameters):
        _validation.check_flags(hyperparameters)
        _validation.check_adagrad(
            lr=hyperparameters["lr"],
            lr_decay=hyperparameters["lr_decay"],
            weight_decay=hyperparameters["weight_decay"],
            initial_accumulator_value=hyperparameters["initial_accumulator_value"],
            eps=hyperparameters["eps"],
        )

    def _update(self, group, params, grads, states, foreach):
        initial = _validation.as_float(
            "initial_accumulator_value",
            group.get("initial_accumulator_value", self.defaults["initial_accumulator_value"]),
        )
        for param, state in zip(params, states, strict=True):
            init_adagrad_state(param, state, initial_accumulator_value=initial)
        options = {
            "lr": group_float(group, "lr"),
            "lr_decay": group_float(group, "lr_decay"),
            "weight_decay": group_float(group, "weight_decay"),
            "eps": group_float(group, "eps"),
            "maximize": bool(group["maximize"]),
        }
        if foreach:
            _adagrad_foreach(params, grads, states, **options)
        else:
            for param, grad, state in zip(params, grads, states, strict=True):
                _adagrad_single(param, grad, state, **options)


def init_adagrad_state(param, state, *, initial_accumulator_value):
    """The state of a tensor before its first Adagrad step."""
    init_step(state)
    if state.get("sum") is None:
        state["sum"] = torch.full_like(param, initial_accumulator_value)


def _adagrad_single(param, grad, state, *, lr, lr_decay, weight_decay, eps, maximize):
    t = increment_step(state)
    clr = lr / (1 + (t - 1) * lr_decay)
    g = effective_grad(param, grad, weight_decay=weight_decay, maximize=maximize)
    total = state["sum"]
    total.addcmul_(g, g)
    param.addcdiv_(g, total.sqrt().add_(eps), value=-clr)


def _adagrad_foreach(params, grads, states, *, lr, lr_decay, weight_decay, eps, maximize):
    minus_clr = [-lr / (1 + (t - 1) * lr_decay) for t in increment_steps(states)]
    g = foreach_effective_grads(params, grads, weight_decay=weight_decay, maximize=maximize)
    sums = [state["sum"] for state in states]
    torch._foreach_addcmul_(sums, g, g)
    std = torch._foreach_sqrt(sums)
    torch._foreach_add_(std, eps)
    torch._foreach_addcdiv_(params, g, std, minus_clr)


def adagrad_effective_lr(sum_sq_grad, lr: float, eps: float = 1e-10) -> np.ndarray:
    """Per-coordinate step size of Adagrad: lr / (√Gᵢ + eps), where Gᵢ = Σ_s g_{s,i}².

    The update is θᵢ ← θᵢ − lr · gᵢ / (√Gᵢ + eps) with eps outside the square root and
    G including the current gradient (torch.optim.Adagrad's convention with lr_decay = 0).
    """
    if not lr >= 0.0:
        raise ValueError(f"Invalid learning rate: {lr} (lr must be >= 0)")
    if not eps >= 0.0:
        raise ValueError(f"Invalid eps: {eps} (eps must be >= 0)")
    return lr / (np.sqrt(np.asarray(sum_sq_grad, dtype=np.float64)) + eps)
