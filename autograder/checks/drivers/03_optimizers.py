"""Drivers of assignment 03's hidden checks, run in the student's process.

The free names are the notebook's own: the update rules, looked up by name, and
``adamw_step``, ``swats_criterion``. Inputs and results are plain data.
"""

import numpy as np
import torch


def sequence(name, theta0, grads, state0, hyper):
    """The update rule ``name`` over the gradients from ``theta0`` and ``state0``: the
    iterates, the final state and whether an input array was modified in place."""
    rule = globals()[name]
    theta, state = np.array(theta0, dtype=np.float64), dict(state0)
    iterates, modified = [], False
    for g in grads:
        theta_in, g_in = theta.copy(), np.array(g, dtype=np.float64)
        new_theta, state = rule(theta, g_in, state, **hyper)
        modified = modified or not np.array_equal(theta, theta_in) or not np.array_equal(g_in, g)
        theta = np.array(new_theta, dtype=np.float64)
        iterates.append(theta)
    return {"iterates": iterates, "state": state, "modified": modified}


def convention(name, coefficient_name, theta0, grads, lrs, coefficient):
    """A momentum rule ``name`` from a zero velocity, with a rate per step."""
    rule = globals()[name]
    theta, velocity, iterates, velocities = np.array(theta0), np.zeros_like(theta0), [], []
    for g, lr in zip(grads, lrs, strict=True):
        theta, velocity = rule(
            theta, velocity, np.array(g), lr=lr, **{coefficient_name: coefficient}
        )
        iterates.append(np.array(theta, dtype=np.float64))
        velocities.append(np.array(velocity, dtype=np.float64))
    return {"iterates": iterates, "velocities": velocities}


def lent_adam_step(
    theta, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False
):
    """One step of torch.optim.Adam (public code) on numpy arrays and a plain-dict state."""
    param = torch.tensor(np.array(theta, dtype=np.float64))
    optimizer = torch.optim.Adam(
        [param],
        lr=lr,
        betas=tuple(betas),
        eps=eps,
        weight_decay=weight_decay,
        amsgrad=amsgrad,
        foreach=False,
    )
    if state:
        buffers = {
            k: torch.tensor(np.array(v, dtype=np.float64)) for k, v in state.items() if k != "step"
        }
        optimizer.state[param] = {"step": torch.tensor(float(state["step"])), **buffers}
    param.grad = torch.tensor(np.array(grad, dtype=np.float64))
    optimizer.step()
    kept = optimizer.state[param]
    new_state = {k: v.numpy().copy() for k, v in kept.items() if k != "step"}
    new_state["step"] = int(kept["step"])
    return param.detach().numpy().copy(), new_state


def adamw_sequence(theta0, grads, hyper):
    """adamw_step over the gradients, with torch's Adam step lent under the name adam_step
    (so that a bug in adam_step costs only Task 03.6)."""
    namespace = adamw_step.__globals__
    had, own = "adam_step" in namespace, namespace.get("adam_step")
    namespace["adam_step"] = lent_adam_step
    try:
        return sequence("adamw_step", theta0, grads, {}, hyper)
    finally:
        if had:
            namespace["adam_step"] = own
        else:
            namespace.pop("adam_step", None)


def swats_steps(ps, gs, lambda_avg0, beta2, switch_tol):
    """swats_criterion at every step k = 1, 2, ... of a run, carrying lambda_avg along."""
    lam, out = lambda_avg0, []
    for k, (p, g) in enumerate(zip(ps, gs, strict=True), 1):
        gamma, lam, sgd_lr, switch = swats_criterion(
            p, g, lam, k, beta2=beta2, switch_tol=switch_tol
        )
        out.append([gamma, lam, sgd_lr, bool(switch)])
    return out


def swats_once(p, g, lambda_avg, k, options):
    """One call of swats_criterion, its answer as a list."""
    return list(swats_criterion(p, g, lambda_avg, k, **options))
