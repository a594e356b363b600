r"""The classic optimizers as pure per-tensor update rules.

Each rule takes one parameter tensor, its gradient and the optimizer state of that
tensor, and returns ``(new_param, new_state)`` without modifying its inputs. Parameters
and gradients may be NumPy arrays or torch tensors (the result has the same type and
dtype). The state is a plain dict using torch.optim's key names; ``None`` or ``{}`` is
the state before the first step. The algorithms are those documented for torch.optim
2.13, step for step, so that

    new_param, state = adam_update(param, grad, state, lr=1e-3)

applied repeatedly gives the same values as ``torch.optim.Adam`` up to rounding.

Notation used in the docstrings: :math:`\theta` parameter, :math:`\nabla` gradient,
:math:`g` the gradient actually used (negated if ``maximize``, plus :math:`\lambda\theta`
for an L2 ``weight_decay`` :math:`\lambda`), :math:`\gamma` learning rate, :math:`t` the
step count starting at 1. Non-finite gradients are never masked: a NaN gradient gives a
NaN parameter.
"""

import math

import numpy as np
import torch

from course_utils.optim import _validation


def _sqrt(x):
    return torch.sqrt(x) if isinstance(x, torch.Tensor) else np.sqrt(x)


def _maximum(a, b):
    """Elementwise maximum that propagates NaN (never ``fmax``)."""
    return torch.maximum(a, b) if isinstance(a, torch.Tensor) else np.maximum(a, b)


def _copy(x):
    return x.clone() if isinstance(x, torch.Tensor) else np.array(x, copy=True)


def _full_like(x, value):
    if isinstance(x, torch.Tensor):
        return torch.full_like(x, value)
    return np.full_like(x, value)


def _zeros_like(x):
    return _full_like(x, 0.0)


def _effective_grad(param, grad, *, weight_decay, maximize):
    """g = (−∇ if maximize else ∇) + λθ (the L2 penalty folded into the gradient)."""
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = g + weight_decay * param
    return g


def sgd_update(
    param,
    grad,
    state=None,
    *,
    lr,
    momentum=0.0,
    dampening=0.0,
    nesterov=False,
    weight_decay=0.0,
    maximize=False,
):
    r"""One step of SGD with optional (Nesterov) momentum, torch.optim.SGD's algorithm.

    .. math::
        g &\leftarrow \pm\nabla + \lambda\theta \\
        b &\leftarrow g \ \text{(first step, no dampening)},\quad
        b \leftarrow \mu b + (1-\tau) g \ \text{(later steps)} \\
        d &\leftarrow g + \mu b \ \text{(nesterov)},\quad d \leftarrow b \ \text{(otherwise)} \\
        \theta &\leftarrow \theta - \gamma d

    with momentum :math:`\mu` and dampening :math:`\tau`; without momentum :math:`d = g`.
    Convention: the learning rate multiplies the buffer (:math:`b` holds a sum of
    gradients, not of steps), which is the lecture's form
    :math:`v \leftarrow \beta v + g,\ \theta \leftarrow \theta - \eta v`.

    State: ``{"momentum_buffer": b or None}`` (``None`` before the first step or when
    ``momentum == 0``).
    """
    _validation.check_sgd(
        lr=lr,
        momentum=momentum,
        dampening=dampening,
        weight_decay=weight_decay,
        nesterov=nesterov,
    )
    g = _effective_grad(param, grad, weight_decay=weight_decay, maximize=maximize)
    buf = None
    if momentum != 0:
        previous = (state or {}).get("momentum_buffer")
        if previous is None:
            buf = _copy(g)
        else:
            buf = momentum * previous + (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf
    return param - lr * g, {"momentum_buffer": buf}


def adagrad_update(
    param,
    grad,
    state=None,
    *,
    lr,
    lr_decay=0.0,
    weight_decay=0.0,
    initial_accumulator_value=0.0,
    eps=1e-10,
    maximize=False,
):
    r"""One step of Adagrad, torch.optim.Adagrad's algorithm.

    .. math::
        t &\leftarrow t + 1, \qquad g \leftarrow \pm\nabla + \lambda\theta \\
        \tilde\gamma &= \gamma / (1 + (t-1)\,\eta) \\
        S &\leftarrow S + g^2 \\
        \theta &\leftarrow \theta - \tilde\gamma\, g / (\sqrt{S} + \epsilon)

    with ``lr_decay`` :math:`\eta` and :math:`S_0` = ``initial_accumulator_value``.
    Convention: :math:`\epsilon` is added after the square root; the decayed learning
    rate uses the step count before the increment (:math:`\tilde\gamma = \gamma` at
    :math:`t = 1`).

    State: ``{"step": t, "sum": S}``.
    """
    _validation.check_adagrad(
        lr=lr,
        lr_decay=lr_decay,
        weight_decay=weight_decay,
        initial_accumulator_value=initial_accumulator_value,
        eps=eps,
    )
    state = state or {}
    step = int(state.get("step", 0)) + 1
    total = state.get("sum")
    if total is None:
        total = _full_like(param, initial_accumulator_value)
    g = _effective_grad(param, grad, weight_decay=weight_decay, maximize=maximize)
    clr = lr / (1 + (step - 1) * lr_decay)
    total = total + g * g
    return param - clr * g / (_sqrt(total) + eps), {"step": step, "sum": total}


def rmsprop_update(
    param,
    grad,
    state=None,
    *,
    lr,
    alpha=0.99,
    eps=1e-8,
    weight_decay=0.0,
    momentum=0.0,
    centered=False,
    maximize=False,
):
    r"""One step of RMSprop, torch.optim.RMSprop's algorithm.

    .. math::
        g &\leftarrow \pm\nabla + \lambda\theta \\
        s &\leftarrow \alpha s + (1-\alpha) g^2 \\
        \bar g &\leftarrow \alpha \bar g + (1-\alpha) g, \quad
        \delta = \sqrt{s - \bar g^2} + \epsilon \ \text{(centered)},\quad
        \delta = \sqrt{s} + \epsilon \ \text{(otherwise)} \\
        b &\leftarrow \mu b + g/\delta, \quad \theta \leftarrow \theta - \gamma b
        \ \text{(momentum } \mu > 0\text{)},\quad
        \theta \leftarrow \theta - \gamma g/\delta \ \text{(otherwise)}

    with :math:`s_0 = \bar g_0 = b_0 = 0`. Convention: :math:`\epsilon` is added after
    the square root; the momentum buffer accumulates normalised gradients and the
    learning rate multiplies the buffer.

    State: ``{"step": t, "square_avg": s}`` plus ``"momentum_buffer"`` when
    ``momentum > 0`` and ``"grad_avg"`` when ``centered``.
    """
    _validation.check_rmsprop(
        lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum
    )
    state = state or {}
    new_state = {"step": int(state.get("step", 0)) + 1}
    g = _effective_grad(param, grad, weight_decay=weight_decay, maximize=maximize)
    square_avg = state.get("square_avg")
    if square_avg is None:
        square_avg = _zeros_like(param)
    square_avg = alpha * square_avg + (1 - alpha) * g * g
    new_state["square_avg"] = square_avg
    if centered:
        grad_avg = state.get("grad_avg")
        if grad_avg is None:
            grad_avg = _zeros_like(param)
        grad_avg = alpha * grad_avg + (1 - alpha) * g
        new_state["grad_avg"] = grad_avg
        denom = _sqrt(square_avg - grad_avg * grad_avg) + eps
    else:
        denom = _sqrt(square_avg) + eps
    if momentum > 0:
        buf = state.get("momentum_buffer")
        if buf is None:
            buf = _zeros_like(param)
        buf = momentum * buf + g / denom
        new_state["momentum_buffer"] = buf
        return param - lr * buf, new_state
    return param - lr * g / denom, new_state


def adam_update(
    param,
    grad,
    state=None,
    *,
    lr,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0.0,
    amsgrad=False,
    maximize=False,
    decoupled_weight_decay=False,
):
    r"""One step of Adam (AdamW with ``decoupled_weight_decay=True``), torch.optim's algorithm.

    .. math::
        t &\leftarrow t + 1, \qquad g \leftarrow \pm\nabla \\
        \theta &\leftarrow \theta (1 - \gamma\lambda) \ \text{(decoupled, AdamW)},\quad
        g \leftarrow g + \lambda\theta \ \text{(otherwise, L2)} \\
        m &\leftarrow \beta_1 m + (1-\beta_1) g, \qquad
        v \leftarrow \beta_2 v + (1-\beta_2) g^2 \\
        v^{max} &\leftarrow \max(v^{max}, v) \ \text{(amsgrad; the raw } v\text{ is used
        otherwise)} \\
        \theta &\leftarrow \theta - \frac{\gamma}{1-\beta_1^t}\,
        \frac{m}{\sqrt{v}/\sqrt{1-\beta_2^t} + \epsilon}

    Convention: :math:`\epsilon` is added after the bias-corrected square root
    :math:`\sqrt{\hat v}`, not inside it; AMSGrad keeps the maximum of the raw second
    moments (before bias correction); decoupled decay multiplies :math:`\theta` by
    :math:`1 - \gamma\lambda` before the Adam step, so it scales with the learning rate.

    State: ``{"step": t, "exp_avg": m, "exp_avg_sq": v}`` plus ``"max_exp_avg_sq"`` when
    ``amsgrad``.
    """
    beta1, beta2 = _validation.check_adam(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
    state = state or {}
    step = int(state.get("step", 0)) + 1
    g = -grad if maximize else grad
    if weight_decay != 0:
        if decoupled_weight_decay:
            param = param * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * param
    exp_avg = state.get("exp_avg")
    exp_avg_sq = state.get("exp_avg_sq")
    if exp_avg is None:
        exp_avg = _zeros_like(param)
    if exp_avg_sq is None:
        exp_avg_sq = _zeros_like(param)
    exp_avg = beta1 * exp_avg + (1 - beta1) * g
    exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * g * g
    new_state = {"step": step, "exp_avg": exp_avg, "exp_avg_sq": exp_avg_sq}
    second_moment = exp_avg_sq
    if amsgrad:
        previous_max = state.get("max_exp_avg_sq")
        if previous_max is None:
            previous_max = _zeros_like(param)
        second_moment = _maximum(previous_max, exp_avg_sq)
        new_state["max_exp_avg_sq"] = second_moment
    bias_correction1 = 1 - beta1**step
    bias_correction2 = 1 - beta2**step
    denom = _sqrt(second_moment) / math.sqrt(bias_correction2) + eps
    return param - (lr / bias_correction1) * exp_avg / denom, new_state
