"""Adam and AdamW, drop-ins for ``torch.optim.Adam`` and ``torch.optim.AdamW``."""

import math

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


class Adam(CourseOptimizer):
    r"""Adam, with the AMSGrad variant and optional decoupled (AdamW) weight decay.

    For each parameter, at step :math:`t = 1, 2, \dots`:

    .. math::
        g &\leftarrow \pm\nabla;\quad
        \theta \leftarrow \theta(1 - \gamma\lambda) \ \text{(decoupled)},\quad
        g \leftarrow g + \lambda\theta \ \text{(L2, otherwise)} \\
        m &\leftarrow \beta_1 m + (1-\beta_1) g, \qquad
        v \leftarrow \beta_2 v + (1-\beta_2) g^2 \\
        \hat v &= \max_{s \le t} v_s / (1-\beta_2^t) \ \text{(amsgrad)}, \quad
        \hat v = v / (1-\beta_2^t) \ \text{(otherwise)} \\
        \theta &\leftarrow \theta - \gamma\, \frac{m / (1-\beta_1^t)}{\sqrt{\hat v} + \epsilon}

    Convention: :math:`\epsilon` is added after the bias-corrected square root (the
    lecture slides' :math:`\sqrt{\hat v + \epsilon}` puts it inside; Kingma & Ba's
    algorithm 1 and torch.optim put it outside, as here). Both paths evaluate the last
    line in the algebraically identical form
    :math:`\theta - \frac{\gamma\sqrt{1-\beta_2^t}}{1-\beta_1^t}\,
    \frac{m}{\sqrt{v} + \epsilon\sqrt{1-\beta_2^t}}`, which saves one pass over the
    parameters; the results agree with torch.optim to rounding.

    Args:
        params: iterable of tensors or of dicts defining param groups.
        lr: learning rate :math:`\gamma` (default 1e-3).
        betas: :math:`(\beta_1, \beta_2)`, each in [0, 1) (default (0.9, 0.999)).
        eps: :math:`\epsilon` (default 1e-8).
        weight_decay: :math:`\lambda` (default 0).
        amsgrad: use the running maximum of :math:`v` (Reddi et al., 2018).
        foreach: ``True`` multi-tensor path, ``False`` per-tensor loop, ``None`` by device.
        maximize: ascend the objective.
        capturable, differentiable, fused: only ``False`` / ``None`` are supported.
        decoupled_weight_decay: apply :math:`\lambda` as AdamW does (default False).

    Tensor hyperparameters follow torch.optim's rules: ``lr`` and each beta may be a
    1-element tensor, both betas or neither must be tensors, and tensors are refused with
    ``foreach=True``. (torch.optim also refuses an ``int`` beta next to a float one; here
    any real number counts as a float.)

    State per parameter: ``"step"`` (a 0-d float tensor on the CPU, as in torch.optim),
    ``"exp_avg"`` (:math:`m`), ``"exp_avg_sq"`` (:math:`v`) and, with amsgrad,
    ``"max_exp_avg_sq"``.
    """

    LEGACY_GROUP_DEFAULTS = {
        "amsgrad": False,
        "maximize": False,
        "foreach": None,
        "capturable": False,
        "differentiable": False,
        "decoupled_weight_decay": False,
        "fused": None,
    }

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        amsgrad=False,
        *,
        foreach=None,
        maximize=False,
        capturable=False,
        differentiable=False,
        fused=None,
        decoupled_weight_decay=False,
    ):
        defaults = {
            "lr": lr,
            "betas": _validation.squeeze_betas(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
            "fused": fused,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _check_hyperparameters(self, hyperparameters):
        _validation.check_flags(hyperparameters)
        _validation.check_adam(
            lr=hyperparameters["lr"],
            betas=hyperparameters["betas"],
            eps=hyperparameters["eps"],
            weight_decay=hyperparameters["weight_decay"],
        )
        beta1, beta2 = hyperparameters["betas"]
        _validation.check_no_tensors_with_foreach(
            {"lr": hyperparameters["lr"], "betas[0]": beta1, "betas[1]": beta2},
            foreach=hyperparameters["foreach"],
        )

    def _update(self, group, params, grads, states, foreach):
        beta1, beta2 = _validation.check_betas(group["betas"])
        options = {
            "lr": group_float(group, "lr"),
            "beta1": beta1,
            "beta2": beta2,
            "eps": group_float(group, "eps"),
            "weight_decay": group_float(group, "weight_decay"),
            "amsgrad": bool(group["amsgrad"]),
            "maximize": bool(group["maximize"]),
            "decoupled_weight_decay": bool(group["decoupled_weight_decay"]),
        }
        for param, state in zip(params, states, strict=True):
            init_adam_state(param, state, amsgrad=options["amsgrad"])
        if foreach:
            _adam_foreach(params, grads, states, **options)
        else:
            for param, grad, state in zip(params, grads, states, strict=True):
                _adam_single(param, grad, state, **options)


class AdamW(Adam):
    r"""AdamW: Adam with decoupled weight decay, :math:`\theta \leftarrow \theta(1-\gamma\lambda)`
    before each Adam step (Loshchilov & Hutter, 2019).

    Same arguments as :class:`Adam` without ``decoupled_weight_decay`` (always on), and
    ``weight_decay`` defaults to 1e-2 as in torch.optim.AdamW. The decay is multiplied by
    the current learning rate, so a schedule scales it too.
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=1e-2,
        amsgrad=False,
        *,
        maximize=False,
        foreach=None,
        capturable=False,
        differentiable=False,
        fused=None,
    ):
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            foreach=foreach,
            maximize=maximize,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=True,
        )

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True


def init_adam_state(param, state, *, amsgrad):
    """The state of a tensor before its first Adam step (missing buffers are zeros)."""
    init_step(state)
    for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")[: 3 if amsgrad else 2]:
        if state.get(key) is None:
            state[key] = torch.zeros_like(param)


def adam_moments(
    param,
    grad,
    state,
    *,
    lr,
    beta1,
    beta2,
    eps,
    weight_decay,
    amsgrad,
    maximize,
    decoupled_weight_decay,
):
    """Adam's bookkeeping for one tensor, torch.optim.Adam's single-tensor arithmetic: count
    the step, apply the weight decay, update the moments in ``state``; return ``(exp_avg,
    denom, step_size, g)``, so that the step is ``step_size * exp_avg / denom`` (``g`` is the
    gradient used). :class:`Adam` and :class:`~course_utils.optim.SWATS` both take it."""
    t = increment_step(state)
    if decoupled_weight_decay and weight_decay != 0:
        param.mul_(1 - lr * weight_decay)
    l2 = 0.0 if decoupled_weight_decay else weight_decay
    g = effective_grad(param, grad, weight_decay=l2, maximize=maximize)
    exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
    exp_avg.lerp_(g, 1 - beta1)
    exp_avg_sq.mul_(beta2).addcmul_(g, g, value=1 - beta2)
    second_moment = exp_avg_sq
    if amsgrad:
        second_moment = state["max_exp_avg_sq"]
        torch.maximum(second_moment, exp_avg_sq, out=second_moment)
    root_bc2 = math.sqrt(1 - beta2**t)
    denom = second_moment.sqrt().add_(eps * root_bc2)
    return exp_avg, denom, -lr * root_bc2 / (1 - beta1**t), g


def _adam_single(param, grad, state, **options):
    exp_avg, denom, step_size, _ = adam_moments(param, grad, state, **options)
    param.addcdiv_(exp_avg, denom, value=step_size)


def _adam_foreach(
    params,
    grads,
    states,
    *,
    lr,
    beta1,
    beta2,
    eps,
    weight_decay,
    amsgrad,
    maximize,
    decoupled_weight_decay,
):
    steps = increment_steps(states)
    if decoupled_weight_decay and weight_decay != 0:
        torch._foreach_mul_(params, 1 - lr * weight_decay)
    l2 = 0.0 if decoupled_weight_decay else weight_decay
    g = foreach_effective_grads(params, grads, weight_decay=l2, maximize=maximize)
    exp_avgs = [state["exp_avg"] for state in states]
    exp_avg_sqs = [state["exp_avg_sq"] for state in states]
    torch._foreach_lerp_(exp_avgs, g, 1 - beta1)
    torch._foreach_mul_(exp_avg_sqs, beta2)
    torch._foreach_addcmul_(exp_avg_sqs, g, g, value=1 - beta2)
    second_moments = exp_avg_sqs
    if amsgrad:
        second_moments = [state["max_exp_avg_sq"] for state in states]
        torch._foreach_maximum_(second_moments, exp_avg_sqs)
    root_bc2 = [math.sqrt(1 - beta2**t) for t in steps]
    denom = torch._foreach_sqrt(second_moments)
    torch._foreach_add_(denom, [eps * r for r in root_bc2])
    step_sizes = [-lr * r / (1 - beta1**t) for r, t in zip(root_bc2, steps, strict=True)]
    torch._foreach_addcdiv_(params, exp_avgs, denom, step_sizes)
