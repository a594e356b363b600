"""The answers of assignment 03_optimizers under the notebook's names and signatures."""

import numpy as np

from course_utils.optim import functional as _functional
from course_utils.optim import momentum as _momentum
from course_utils.optim.swats import switch_criterion as _switch_criterion


def sgd_step(theta, grad, state, *, lr, momentum=0.0, dampening=0.0, weight_decay=0.0):
    return _functional.sgd_update(
        theta, grad, state, lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay
    )


def nesterov_step(theta, grad, state, *, lr, momentum, weight_decay=0.0):
    return _functional.sgd_update(
        theta, grad, state, lr=lr, momentum=momentum, nesterov=True, weight_decay=weight_decay
    )


def momentum_goodfellow_step(theta, velocity, grad, *, lr, alpha):
    return _momentum.momentum_goodfellow(theta, velocity, grad, lr=lr, alpha=alpha)


def momentum_ema_step(theta, velocity, grad, *, lr, beta):
    return _momentum.momentum_ema(theta, velocity, grad, lr=lr, beta=beta)


def adagrad_step(
    theta,
    grad,
    state,
    *,
    lr=0.01,
    lr_decay=0.0,
    weight_decay=0.0,
    initial_accumulator_value=0.0,
    eps=1e-10,
):
    return _functional.adagrad_update(
        theta,
        grad,
        state,
        lr=lr,
        lr_decay=lr_decay,
        weight_decay=weight_decay,
        initial_accumulator_value=initial_accumulator_value,
        eps=eps,
    )


def rmsprop_step(
    theta, grad, state, *, lr=0.01, alpha=0.99, eps=1e-08, weight_decay=0.0, centered=False
):
    return _functional.rmsprop_update(
        theta,
        grad,
        state,
        lr=lr,
        alpha=alpha,
        eps=eps,
        weight_decay=weight_decay,
        centered=centered,
    )


def adam_step(
    theta, grad, state, *, lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.0, amsgrad=False
):
    return _functional.adam_update(
        theta, grad, state, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad
    )


def adamw_step(
    theta, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False
):
    return _functional.adam_update(
        theta,
        grad,
        state,
        lr=lr,
        betas=betas,
        eps=eps,
        weight_decay=weight_decay,
        amsgrad=amsgrad,
        decoupled_weight_decay=True,
    )


def swats_criterion(p, g, lambda_avg, k, *, beta2=0.999, switch_tol=1e-9):
    p, g = np.ravel(p), np.ravel(g)
    return _switch_criterion(
        float(np.dot(p, p)),
        float(np.dot(p, g)),
        lambda_avg,
        k,
        beta2=beta2,
        switch_tol=switch_tol,
    )


__all__ = [
    "sgd_step",
    "nesterov_step",
    "momentum_goodfellow_step",
    "momentum_ema_step",
    "adagrad_step",
    "rmsprop_step",
    "adam_step",
    "adamw_step",
    "swats_criterion",
]
