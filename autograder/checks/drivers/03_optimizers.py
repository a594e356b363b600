"""Drivers of assignment 03's hidden checks, run in the student's process.

The free names are the notebook's own: the update rules, looked up by name, and
``swats_criterion``. Inputs and results are plain data. Next to what a function returned,
the drivers send back its inputs as they are after the call (copies), so that the check
can tell whether the call changed them.
"""

import copy

import numpy as np
import torch


def snapshot(state):
    """A copy of a state dict (of its arrays and whatever else it holds)."""
    if not isinstance(state, dict):
        return state
    return {
        k: np.array(v, copy=True) if isinstance(v, np.ndarray) else copy.deepcopy(v)
        for k, v in state.items()
    }


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


def pack(values):
    """A list of values as one message entry: ``{"stack": array}`` when they are arrays (or
    numpy numbers) of one shape and dtype, else ``{"list": values}`` (fewer arrays to send)."""
    arrays = [v for v in values if isinstance(v, np.ndarray | np.generic)]
    if values and len(arrays) == len(values):
        first = np.asarray(arrays[0])
        if all(np.shape(a) == first.shape and a.dtype == first.dtype for a in arrays):
            return {"stack": np.stack([np.asarray(a) for a in arrays])}
    return {"list": values}


def pack_states(states):
    """A list of state dicts as ``{"keys": {key: pack(values)}}`` when they all are dicts
    with the same keys (at least one), else ``{"list": states}``."""
    keys = list(states[0]) if states and isinstance(states[0], dict) else []
    if not keys or not all(isinstance(s, dict) and list(s) == keys for s in states):
        return {"list": states}
    return {"keys": {key: pack([s[key] for s in states]) for key in keys}}


def one_sequence(rule, theta0, grads, state0, hyper):
    """``rule`` over the gradients from ``theta0`` and ``state0``. Per step: the new theta,
    a copy of the returned state and copies of the inputs (theta, grad, state) as they are
    after the call."""
    theta, state = np.array(theta0, dtype=np.float64), dict(state0)
    iterates, states, thetas, grads_after, states_after = [], [], [], [], []
    for g in grads:
        theta_in, grad_in = theta.copy(), np.array(g, dtype=np.float64)
        new_theta, state_out = rule(theta_in, grad_in, state, **hyper)
        thetas.append(theta_in.copy())
        grads_after.append(grad_in.copy())
        states_after.append(snapshot(state))
        iterates.append(
            np.array(new_theta, copy=True) if isinstance(new_theta, np.ndarray) else new_theta
        )
        theta, state = np.array(new_theta, dtype=np.float64), state_out
        states.append(snapshot(state))
    return {
        "iterates": pack(iterates),
        "states": pack_states(states),
        "thetas_after": pack(thetas),
        "grads_after": pack(grads_after),
        "states_after": pack_states(states_after),
    }


def sequences(name, runs, watch=(), lend_adam=False):
    """Each run (theta0, grads, state0, hyper) of the update rule ``name``, and per run the
    names in ``watch`` that the rule called. With ``lend_adam``, the rule's ``adam_step``
    is torch's Adam step for the length of the runs (so that a bug in the student's own
    adam_step costs only its task)."""
    rule = globals()[name]
    namespace = rule.__globals__
    saved = {key: namespace[key] for key in [*watch, "adam_step"] if key in namespace}
    calls = []

    def recorder(key, function):
        def recorded(*args, **kwargs):
            calls.append(key)
            return function(*args, **kwargs)

        return recorded

    try:
        for key in watch:
            if key in saved:
                namespace[key] = recorder(key, saved[key])
        if lend_adam:
            namespace["adam_step"] = lent_adam_step
        results = []
        for run in runs:
            del calls[:]
            result = one_sequence(rule, **run)
            result["called"] = sorted(set(calls))
            results.append(result)
        return results
    finally:
        for key in [*watch, "adam_step"]:
            if key in saved:
                namespace[key] = saved[key]
            else:
                namespace.pop(key, None)


def convention(name, coefficient_name, theta0, grads, lrs, coefficient):
    """A momentum rule ``name`` from a zero velocity, with a rate per step; per step the
    new theta and velocity, and copies of theta and grad as they are after the call."""
    rule = globals()[name]
    theta, velocity = np.array(theta0, dtype=np.float64), np.zeros_like(theta0)
    iterates, velocities, inputs = [], [], []
    for g, lr in zip(grads, lrs, strict=True):
        theta_in, grad_in = theta.copy(), np.array(g, dtype=np.float64)
        theta, velocity = rule(
            theta_in, velocity, grad_in, lr=lr, **{coefficient_name: coefficient}
        )
        inputs.append({"theta": theta_in.copy(), "grad": grad_in.copy()})
        theta, velocity = np.array(theta, dtype=np.float64), np.array(velocity, dtype=np.float64)
        iterates.append(theta.copy())
        velocities.append(velocity.copy())
    return {"iterates": iterates, "velocities": velocities, "inputs": inputs}


def kind(value):
    """What kind of value a result is: "float", "bool", "None" or its type's name."""
    if value is None:
        return "None"
    if isinstance(value, bool | np.bool_):
        return "bool"
    if isinstance(value, float | np.floating):
        return "float"
    return f"{type(value).__module__}.{type(value).__qualname__}"


def swats_steps(ps, gs, lambda_avg0, beta2, switch_tol, shape):
    """swats_criterion at every step k = 1, 2, ... of a run, carrying lambda_avg along,
    with p and g given the shape ``shape``."""
    lam, out = lambda_avg0, []
    for k, (p, g) in enumerate(zip(ps, gs, strict=True), 1):
        gamma, lam, sgd_lr, switch = swats_criterion(
            np.reshape(p, shape), np.reshape(g, shape), lam, k, beta2=beta2, switch_tol=switch_tol
        )
        out.append([gamma, lam, sgd_lr, bool(switch)])
    return out


def swats_calls(calls):
    """swats_criterion once per call (p, g, lambda_avg, k, options): its answer as a list,
    whether it is a tuple, and the kind of each entry."""
    out = []
    for call in calls:
        answer = swats_criterion(
            call["p"], call["g"], call["lambda_avg"], call["k"], **call["options"]
        )
        entries = list(answer) if isinstance(answer, tuple | list) else [answer]
        out.append(
            {
                "answer": entries,
                "tuple": isinstance(answer, tuple),
                "kinds": [kind(v) for v in entries],
            }
        )
    return out
