r"""The classic optimizers as pure per-tensor update rules.

Each rule takes one parameter tensor, its gradient and the optimizer state of that
tensor, and returns ``(new_param, new_state)`` without modifying its inputs. Parameters
and gradients may be NumPy arrays or torch tensors (the result has the same type and
dtype). The state is a plain dict using torch.optim's key names; ``None`` or ``{}`` is
the state before the first step. The step count ``"step"`` comes back as a Python int
(torch.optim keeps a 0-d tensor; either is accepted as input). The algorithms are those
documented for torch.optim 2.13, step for step, so that

    new_param, state = adam_update(param, grad, state, lr=1e-3)

applied repeatedly gives the same values as ``torch.optim.Adam`` up to rounding.

Notation used in the docstrings: :math:`\theta` parameter, :math:`\nabla` gradient,
:math:`g` the gradient actually used (negated if ``maximize``, plus :math:`\lambda\theta`
for an L2 ``weight_decay`` :math:`\lambda`), :math:`\gamma` learning rate, :math:`t` the
step count starting at 1. Non-finite gradients are never masked: a NaN gradient gives a
NaN parameter.
"""

import numpy as np
import torch

from course_utils.optim import _validation
from course_utils.optim._base import step_tensor
from course_utils.optim.adagrad import _adagrad_single, init_adagrad_state
from course_utils.optim.adam import _adam_single, init_adam_state
from course_utils.optim.rmsprop import _rmsprop_single, init_rmsprop_state
from course_utils.optim.sgd import _sgd_single


def _to_torch(x, dtype=None):
    """A private torch copy of an array, tensor or number."""
    if isinstance(x, torch.Tensor):
        copy = x.detach().clone()
    else:
        copy = torch.from_numpy(np.array(x, copy=True))
    return copy if dtype is None else copy.to(dtype)


def _step_count(value):
    return int(value.item()) if isinstance(value, torch.Tensor) else int(value)


def _run_kernel(kernel, init, param, grad, state, *, extra=None, **options):
    """One step of the in-place single-tensor ``kernel`` of the torch.optim drop-in, on
    private copies of ``param``, ``grad`` and the state, so that the pure rule and the class
    share one implementation; results come back as the type of ``param``. The step count
    goes in as the classes' tensor counter and comes back as a Python int (the state of
    these rules is plain data: assignment 03's checks pass it between processes)."""
    as_numpy = not isinstance(param, torch.Tensor)
    p = _to_torch(param)
    g = _to_torch(grad, p.dtype)
    work = {}
    for key, value in (state or {}).items():
        if key == "step":
            work[key] = step_tensor(_step_count(value))
        elif value is not None:
            work[key] = _to_torch(value, p.dtype)
    if init is not None:
        init(p, work)
    kernel(p, g, work, **options)

    def back(key, value):
        if key == "step":
            return int(value.item())
        if not isinstance(value, torch.Tensor):
            return value
        return value.numpy() if as_numpy else value

    new_state = dict(extra or {})
    new_state.update({key: back(key, value) for key, value in work.items()})
    return back(None, p), new_state


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
    return _run_kernel(
        _sgd_single,
        None,
        param,
        grad,
        state if momentum != 0 else None,
        lr=lr,
        momentum=momentum,
        dampening=dampening,
        nesterov=nesterov,
        weight_decay=weight_decay,
        maximize=maximize,
        extra={"momentum_buffer": None},
    )


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
    return _run_kernel(
        _adagrad_single,
        lambda p, st: init_adagrad_state(
            p, st, initial_accumulator_value=initial_accumulator_value
        ),
        param,
        grad,
        state,
        lr=lr,
        lr_decay=lr_decay,
        weight_decay=weight_decay,
        eps=eps,
        maximize=maximize,
    )


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
    return _run_kernel(
        _rmsprop_single,
        lambda p, st: init_rmsprop_state(p, st, momentum=momentum, centered=centered),
        param,
        grad,
        state,
        lr=lr,
        alpha=alpha,
        eps=eps,
        weight_decay=weight_decay,
        momentum=momentum,
        centered=centered,
        maximize=maximize,
    )


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
    return _run_kernel(
        _adam_single,
        lambda p, st: init_adam_state(p, st, amsgrad=amsgrad),
        param,
        grad,
        state,
        lr=lr,
        beta1=beta1,
        beta2=beta2,
        eps=eps,
        weight_decay=weight_decay,
        amsgrad=amsgrad,
        maximize=maximize,
        decoupled_weight_decay=decoupled_weight_decay,
    )
