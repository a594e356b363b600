r"""SWATS: start with Adam, switch to SGD with momentum when a stable SGD learning rate appears.

Keskar & Socher, "Improving Generalization Performance by Switching from Adam to SGD",
arXiv:1712.07628 (2017), algorithm 1, applied to each param group separately.
"""

import torch

from course_utils.optim import _validation
from course_utils.optim._base import CourseOptimizer, effective_grad, group_float, init_step
from course_utils.optim.adam import adam_moments

GROUP_BOOKKEEPING = {
    "step": 0,
    "switched": False,
    "sgd_lr": None,
    "switch_step": None,
    "lr_at_switch": None,
    "gamma": None,
    "lambda_avg": 0.0,
}


class SWATS(CourseOptimizer):
    r"""Adam until the projected SGD learning rate settles, then SGD with momentum.

    Adam phase, at group step :math:`k` (per parameter exactly :class:`Adam`, with L2
    ``weight_decay`` folded into :math:`g`): the Adam step of the whole group

    .. math::
        p_k = -\frac{\gamma}{1-\beta_1^k}\,\frac{m_k}{\sqrt{v_k/(1-\beta_2^k)} + \epsilon}

    is applied, :math:`\theta_k = \theta_{k-1} + p_k`, and, if :math:`p_k^\top g_k \ne 0`,
    the SGD learning rate whose step along :math:`-g_k` has :math:`p_k` as its
    projection is estimated and averaged:

    .. math::
        \gamma_k = \frac{p_k^\top p_k}{-p_k^\top g_k}, \qquad
        \lambda_k = \beta_2 \lambda_{k-1} + (1-\beta_2)\gamma_k, \qquad
        \Lambda_k = \frac{\lambda_k}{1-\beta_2^k}

    (if :math:`p_k^\top g_k = 0`, :math:`\lambda_k = \lambda_{k-1}`). The dot products run
    over all the tensors of the group. The group switches when :math:`k > 1`,
    :math:`|\Lambda_k - \gamma_k| <` ``switch_tol`` and :math:`\Lambda_k > 0`; the SGD
    learning rate is then :math:`\Lambda = \Lambda_k`.

    SGD phase, from the next step on, with a velocity starting at zero:

    .. math::
        v \leftarrow \beta_1 v + g, \qquad \theta \leftarrow \theta - (1-\beta_1)\,\Lambda\, v

    This is the paper's form (algorithm 1): the buffer sums gradients (PyTorch
    convention) and :math:`(1-\beta_1)` turns it into an average, so that :math:`\Lambda`
    is on the same scale as the EMA-form momentum used to estimate it.

    Choices beyond the paper: the paper writes :math:`\epsilon` next to the uncorrected
    :math:`\sqrt{v_k}`; here the Adam phase is torch.optim.Adam's (``eps`` after the
    bias-corrected root), so it matches ``torch.optim.Adam`` step for step before the
    switch. The condition :math:`\Lambda_k > 0` prevents switching to an ascent step.
    If the group's ``lr`` is changed after the switch (e.g. by a scheduler), the SGD
    learning rate is scaled by the same factor: :math:`\Lambda\,\gamma_t/\gamma_{switch}`.
    Only the per-tensor path exists (no ``foreach``).

    Args:
        params: iterable of tensors or of dicts defining param groups.
        lr: Adam learning rate :math:`\gamma` (default 1e-3).
        betas: :math:`(\beta_1, \beta_2)` in [0, 1) (default (0.9, 0.999)); :math:`\beta_1`
            is also the SGD momentum and :math:`\beta_2` the averaging factor of
            :math:`\lambda`.
        eps: Adam's :math:`\epsilon` (default 1e-8).
        weight_decay: L2 penalty added to the gradient in both phases (default 0).
        switch_tol: the paper's :math:`\epsilon` of the switching test (default 1e-9).
        maximize: ascend the objective.

    Group entries, readable at any time: ``"switched"`` (bool), ``"sgd_lr"``
    (:math:`\Lambda`, ``None`` before the switch), ``"switch_step"`` (the :math:`k` at
    which it switched), ``"gamma"`` (latest :math:`\gamma_k`), ``"lambda_avg"``
    (:math:`\lambda_k`) and ``"step"`` (:math:`k`, a Python int: the group's own count,
    unlike the per-tensor ``state["step"]``, a 0-d float tensor as in torch.optim.Adam).
    The properties :attr:`switched` and :attr:`sgd_lrs` list them per group.
    """

    LEGACY_GROUP_DEFAULTS = {"maximize": False, "switch_tol": 1e-9, **GROUP_BOOKKEEPING}

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        *,
        switch_tol=1e-9,
        maximize=False,
    ):
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "switch_tol": switch_tol,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check_hyperparameters(self, hyperparameters):
        _validation.check_adam(
            lr=hyperparameters["lr"],
            betas=hyperparameters["betas"],
            eps=hyperparameters["eps"],
            weight_decay=hyperparameters["weight_decay"],
        )
        _validation.check_nonnegative("switch_tol", hyperparameters["switch_tol"])

    def add_param_group(self, param_group):
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for key, value in GROUP_BOOKKEEPING.items():
            group.setdefault(key, value)

    @property
    def switched(self):
        """Per param group, whether it has switched to SGD."""
        return [group["switched"] for group in self.param_groups]

    @property
    def sgd_lrs(self):
        r"""Per param group, the SGD learning rate :math:`\Lambda` (``None`` before the switch)."""
        return [group["sgd_lr"] for group in self.param_groups]

    def _step_group(self, group, params):
        group["step"] += 1
        if group["switched"]:
            self._sgd_phase(group, params)
        else:
            self._adam_phase(group, params)

    def _sgd_phase(self, group, params):
        beta1, _ = _validation.check_betas(group["betas"])
        lr = group["sgd_lr"] * group_float(group, "lr") / group["lr_at_switch"]
        weight_decay = group_float(group, "weight_decay")
        for param in params:
            state = self.state[param]
            g = effective_grad(
                param, param.grad, weight_decay=weight_decay, maximize=group["maximize"]
            )
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = torch.zeros_like(param)
            buf.mul_(beta1).add_(g)
            param.add_(buf, alpha=-(1 - beta1) * lr)

    def _adam_phase(self, group, params):
        beta1, beta2 = _validation.check_betas(group["betas"])
        lr, eps = group_float(group, "lr"), group_float(group, "eps")
        weight_decay = group_float(group, "weight_decay")
        p_dot_p = torch.zeros((), dtype=torch.float64, device=params[0].device)
        p_dot_g = torch.zeros((), dtype=torch.float64, device=params[0].device)
        for param in params:
            state = self.state[param]
            if not state:
                init_step(state)
                state["exp_avg"] = torch.zeros_like(param)
                state["exp_avg_sq"] = torch.zeros_like(param)
            exp_avg, denom, step_size, g = adam_moments(
                param,
                param.grad,
                state,
                lr=lr,
                beta1=beta1,
                beta2=beta2,
                eps=eps,
                weight_decay=weight_decay,
                amsgrad=False,
                maximize=group["maximize"],
                decoupled_weight_decay=False,
            )
            adam_step = (exp_avg / denom).mul_(step_size)
            param.add_(adam_step)
            flat_step = adam_step.reshape(-1).to(torch.float64)
            flat_grad = g.reshape(-1).to(torch.float64)
            p_dot_p += torch.dot(flat_step, flat_step).to(p_dot_p.device)
            p_dot_g += torch.dot(flat_step, flat_grad).to(p_dot_g.device)
        gamma, lambda_avg, sgd_lr, switch = switch_criterion(
            float(p_dot_p),
            float(p_dot_g),
            group["lambda_avg"],
            group["step"],
            beta2=beta2,
            switch_tol=group["switch_tol"],
        )
        if gamma is None:
            return
        group.update(gamma=gamma, lambda_avg=lambda_avg)
        if switch:
            group.update(switched=True, sgd_lr=sgd_lr, switch_step=group["step"], lr_at_switch=lr)


def switch_criterion(p_dot_p, p_dot_g, lambda_avg, k, *, beta2=0.999, switch_tol=1e-9):
    r"""One step of SWATS's bookkeeping from the dot products of Adam's step :math:`p_k`.

    ``p_dot_p`` is :math:`p_k^\top p_k`, ``p_dot_g`` is :math:`p_k^\top g_k`, ``lambda_avg``
    is :math:`\lambda_{k-1}` and ``k`` the step. Returns ``(gamma, lambda_avg, sgd_lr,
    switch)``: :math:`\gamma_k`, :math:`\lambda_k`, :math:`\Lambda_k` and whether to switch
    (:math:`k > 1`, :math:`|\Lambda_k - \gamma_k| <` ``switch_tol`` and
    :math:`\Lambda_k > 0`); ``(None, lambda_avg, None, False)`` when :math:`p_k^\top g_k = 0`.
    """
    if p_dot_g == 0.0:
        return None, lambda_avg, None, False
    gamma = p_dot_p / -p_dot_g
    lambda_avg = beta2 * lambda_avg + (1 - beta2) * gamma
    sgd_lr = lambda_avg / (1 - beta2**k)
    switch = k > 1 and abs(sgd_lr - gamma) < switch_tol and sgd_lr > 0
    return gamma, lambda_avg, sgd_lr, bool(switch)
