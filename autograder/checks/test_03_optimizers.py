"""Hidden checks of assignment 03, optimizers.

Every update rule is run by a driver in the student's process on a sequence of
20 to 40 random gradients (random shapes, scales and hyperparameters), starting from the
empty state; the iterates and the final state come back as plain data and are compared
here with ``torch.optim`` in float64, fed the same gradients. A second run continues from a
state produced by ``torch.optim`` in the middle of a run (state continuity, and the key
names of the state). The momentum conventions are compared with
``course_utils.optim.momentum`` and the switching test of SWATS with the group entries of
``course_utils.optim.SWATS`` on a real run.
"""

import numpy as np
import torch

from autograder.checking import Drivers, expect_close, expect_equal, expect_true, task
from course_utils.optim import SWATS, momentum

REFERENCE_SETUP = "from course_utils.answers.optimizers import *"
DRIVERS = Drivers(__file__)

RTOL = 1e-8
ATOL = 1e-12


_TORCH_KEYS = {
    "sgd": ("momentum_buffer",),
    "nesterov": ("momentum_buffer",),
    "adagrad": ("step", "sum"),
    "rmsprop": ("step", "square_avg", "grad_avg"),
    "adam": ("step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"),
    "adamw": ("step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"),
}


def _torch_optimizer(kind, param, hyper):
    if kind == "sgd":
        return torch.optim.SGD([param], **hyper)
    if kind == "nesterov":
        return torch.optim.SGD([param], nesterov=True, **hyper)
    return {
        "adagrad": torch.optim.Adagrad,
        "rmsprop": torch.optim.RMSprop,
        "adam": torch.optim.Adam,
        "adamw": torch.optim.AdamW,
    }[kind]([param], foreach=False, **hyper)


def _plain_state(kind, torch_state):
    """torch.optim's state of one parameter in the notebook's format (int step, arrays)."""
    state = {}
    for key in _TORCH_KEYS[kind]:
        if key not in torch_state:
            continue
        value = torch_state[key]
        if value is None:
            continue
        state[key] = int(value) if key == "step" else value.detach().numpy().copy()
    return state


def _torch_run(kind, theta0, grads, hyper):
    """Iterates of torch.optim over the gradients, and the plain state after each step."""
    param = torch.tensor(theta0, dtype=torch.float64, requires_grad=True)
    optimizer = _torch_optimizer(kind, param, hyper)
    iterates, states = [], []
    for g in grads:
        param.grad = torch.tensor(g, dtype=torch.float64)
        optimizer.step()
        iterates.append(param.detach().numpy().copy())
        states.append(_plain_state(kind, optimizer.state[param]))
    return iterates, states


def _shape(rng):
    return [(int(rng.integers(1, 8)),), (int(rng.integers(2, 5)), int(rng.integers(2, 5)))][
        int(rng.integers(2))
    ]


def _gradients(rng, shape, num_steps, *, small=False):
    """Random gradients whose size changes from step to step over about two decades."""
    low, high = (1e-4, 1e-2) if small else (1e-2, 3.0)
    scales = np.exp(rng.uniform(np.log(low), np.log(high), num_steps))
    return [s * rng.standard_normal(shape) for s in scales]


def _describe(hyper):
    return ", ".join(
        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in hyper.items()
    )


def _expect_sequence(got, expected, name, hyper, offset=0):
    expect_true(
        isinstance(got, dict) and isinstance(got.get("iterates"), list),
        f"{name}: could not read the iterates (does it return (new_theta, new_state)?)",
    )
    expect_equal(len(got["iterates"]), len(expected), what=f"{name}: number of steps run")
    for k, (theta, theta_ref) in enumerate(zip(got["iterates"], expected, strict=True)):
        expect_close(
            theta,
            theta_ref,
            rtol=RTOL,
            atol=ATOL,
            what=f"{name}({_describe(hyper)}): theta after step {offset + k + 1}, "
            "compared with torch.optim",
        )
    expect_true(
        not got["modified"],
        f"{name}: theta or grad was modified in place; return new arrays instead",
    )


def _expect_state(got_state, expected_state, name, hyper, step):
    expect_true(isinstance(got_state, dict), f"{name}: the returned state is not a dict")
    for key, value in expected_state.items():
        expect_true(
            key in got_state,
            f"{name}({_describe(hyper)}): the state after step {step} has no key {key!r} "
            f"(keys: {sorted(got_state)})",
        )
        what = f"{name}({_describe(hyper)}): state[{key!r}] after step {step}"
        if key == "step":
            # an int, or a float holding a whole number (torch keeps a float tensor)
            got = got_state[key]
            number = np.asarray(got)
            expect_true(
                number.size == 1 and number.dtype.kind in "iuf",
                f"{what}: expected a number of steps, got {got!r}",
            )
            expect_equal(float(number.reshape(())), float(value), what=what)
        else:
            expect_close(got_state[key], value, rtol=RTOL, atol=ATOL, what=what)


def _check_rule(student, rng, kind, name, hyper, *, small=False):
    """A run from the empty state, then a run continued from torch's state at a random step."""
    shape = _shape(rng)
    num_steps = int(rng.integers(20, 41))
    theta0 = rng.standard_normal(shape)
    grads = _gradients(rng, shape, num_steps, small=small)
    expected, states = _torch_run(kind, theta0, grads, hyper)
    got = DRIVERS.run(
        student, "sequence", name=name, theta0=theta0, grads=grads, state0={}, hyper=hyper
    )
    _expect_sequence(got, expected, name, hyper)
    _expect_state(got["state"], states[-1], name, hyper, num_steps)

    split = int(rng.integers(3, num_steps - 3))
    resumed = DRIVERS.run(
        student,
        "sequence",
        name=name,
        theta0=expected[split - 1],
        grads=grads[split:],
        state0=states[split - 1],
        hyper=hyper,
    )
    _expect_sequence(
        resumed, expected[split:], f"{name} continued from torch's state", hyper, offset=split
    )


def _maybe(rng, value, probability=0.5):
    return value if rng.random() < probability else 0.0


def _loguniform(rng, low, high):
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


# ----------------------------------------------------------------------------- 03.1


@task("03.1")
def test_sgd_momentum_against_torch(student, rng):
    """sgd_step: torch.optim.SGD with random momentum, dampening and weight decay"""
    configs = [
        {"lr": float(rng.uniform(0.01, 0.3))},
        {"lr": float(rng.uniform(0.01, 0.1)), "momentum": float(rng.uniform(0.5, 0.95))},
        {
            "lr": float(rng.uniform(0.01, 0.1)),
            "momentum": float(rng.uniform(0.5, 0.95)),
            "dampening": float(rng.uniform(0.1, 0.9)),
            "weight_decay": _maybe(rng, float(rng.uniform(0.01, 0.5))),
        },
        {
            "lr": float(rng.uniform(0.01, 0.1)),
            "momentum": float(rng.uniform(0.5, 0.95)),
            "weight_decay": float(rng.uniform(0.01, 0.5)),
        },
    ]
    for hyper in configs:
        _check_rule(student, rng, "sgd", "sgd_step", hyper)


# ----------------------------------------------------------------------------- 03.2


@task("03.2")
def test_nesterov_against_torch(student, rng):
    """nesterov_step: torch.optim.SGD(nesterov=True) with random momentum and weight decay"""
    for weight_decay in [0.0, float(rng.uniform(0.01, 0.5))]:
        hyper = {"lr": float(rng.uniform(0.01, 0.1)), "momentum": float(rng.uniform(0.3, 0.95))}
        if weight_decay:
            hyper["weight_decay"] = weight_decay
        _check_rule(student, rng, "nesterov", "nesterov_step", hyper)


# ----------------------------------------------------------------------------- 03.3


@task("03.3")
def test_momentum_conventions(student, rng):
    """momentum_goodfellow_step, momentum_ema_step: iterates and velocities, lr changed mid-run"""
    cases = [
        ("momentum_goodfellow_step", "alpha", momentum.momentum_goodfellow),
        ("momentum_ema_step", "beta", momentum.momentum_ema),
    ]
    for name, coefficient_name, reference in cases:
        shape = _shape(rng)
        num_steps = int(rng.integers(20, 31))
        theta0 = rng.standard_normal(shape)
        grads = _gradients(rng, shape, num_steps)
        change = int(rng.integers(5, num_steps - 5))
        lr0 = float(rng.uniform(0.01, 0.3))
        lrs = [lr0 if t < change else lr0 * float(rng.uniform(0.05, 0.5)) for t in range(num_steps)]
        coefficient = float(rng.uniform(0.5, 0.99))
        got = DRIVERS.run(
            student,
            "convention",
            name=name,
            coefficient_name=coefficient_name,
            theta0=theta0,
            grads=grads,
            lrs=lrs,
            coefficient=coefficient,
        )
        expect_true(
            isinstance(got, dict) and len(got.get("iterates", [])) == num_steps,
            f"{name}: could not read the iterates (does it return (new_theta, new_velocity)?)",
        )
        theta, velocity = theta0, np.zeros_like(theta0)
        for k, (g, lr) in enumerate(zip(grads, lrs, strict=True)):
            theta, velocity = reference(
                theta, velocity, g, lr=lr, **{coefficient_name: coefficient}
            )
            what = f"{name}({coefficient_name}={coefficient:.4g}, lr={lr:.4g}), step {k + 1}"
            expect_close(got["iterates"][k], theta, rtol=RTOL, atol=ATOL, what=f"{what}: theta")
            expect_close(
                got["velocities"][k], velocity, rtol=RTOL, atol=ATOL, what=f"{what}: velocity"
            )


# ----------------------------------------------------------------------------- 03.4


@task("03.4")
def test_adagrad_against_torch(student, rng):
    """adagrad_step: torch.optim.Adagrad with random lr_decay, weight decay, S_0 and eps"""
    configs = [
        {"lr": float(rng.uniform(0.01, 0.5))},
        {
            "lr": float(rng.uniform(0.01, 0.5)),
            "lr_decay": float(rng.uniform(0.05, 1.0)),
            "weight_decay": _maybe(rng, float(rng.uniform(0.01, 0.5))),
        },
        {
            "lr": float(rng.uniform(0.01, 0.5)),
            "lr_decay": _maybe(rng, float(rng.uniform(0.05, 1.0))),
            "initial_accumulator_value": float(rng.uniform(0.1, 2.0)),
            "eps": _loguniform(rng, 1e-6, 1e-1),
            "weight_decay": float(rng.uniform(0.01, 0.5)),
        },
    ]
    for hyper in configs:
        _check_rule(student, rng, "adagrad", "adagrad_step", hyper)


# ----------------------------------------------------------------------------- 03.5


@task("03.5")
def test_rmsprop_against_torch(student, rng):
    """rmsprop_step: torch.optim.RMSprop, plain and centered, random alpha, eps, weight decay"""
    for centered in [False, True, bool(rng.integers(2))]:
        hyper = {
            "lr": _loguniform(rng, 1e-3, 1e-1),
            "alpha": float(rng.uniform(0.5, 0.999)),
            "eps": _loguniform(rng, 1e-8, 1e-1),
            "weight_decay": _maybe(rng, float(rng.uniform(0.01, 0.5))),
            "centered": centered,
        }
        _check_rule(student, rng, "rmsprop", "rmsprop_step", hyper)


# ----------------------------------------------------------------------------- 03.6


def _adam_configs(rng, *, amsgrad):
    def betas():
        return (float(rng.uniform(0.0, 0.95)), float(rng.uniform(0.8, 0.9999)))

    return [
        ({"lr": _loguniform(rng, 1e-3, 1e-1), "amsgrad": amsgrad}, False),
        (
            {
                "lr": _loguniform(rng, 1e-3, 1e-1),
                "betas": betas(),
                "eps": _loguniform(rng, 1e-3, 1e-1),
                "weight_decay": _maybe(rng, float(rng.uniform(0.01, 0.5))),
                "amsgrad": amsgrad,
            },
            True,
        ),
        (
            {
                "lr": _loguniform(rng, 1e-3, 1e-1),
                "betas": betas(),
                "eps": _loguniform(rng, 1e-8, 1e-4),
                "weight_decay": float(rng.uniform(0.01, 0.5)),
                "amsgrad": amsgrad,
            },
            False,
        ),
    ]


@task("03.6")
def test_adam_against_torch(student, rng):
    """adam_step: torch.optim.Adam, random betas, eps up to 0.1, L2 decay, small gradients"""
    for hyper, small in _adam_configs(rng, amsgrad=False):
        _check_rule(student, rng, "adam", "adam_step", hyper, small=small)


@task("03.6")
def test_amsgrad_against_torch(student, rng):
    """adam_step(amsgrad=True): torch.optim.Adam(amsgrad=True), gradients that shrink and grow"""
    for hyper, small in _adam_configs(rng, amsgrad=True):
        _check_rule(student, rng, "adam", "adam_step", hyper, small=small)


# ----------------------------------------------------------------------------- 03.7


@task("03.7")
def test_adamw_against_torch(student, rng):
    """adamw_step: torch.optim.AdamW with random weight decay (adam_step lent by the grader)"""
    for amsgrad in [False, True]:
        hyper = {
            "lr": _loguniform(rng, 1e-3, 1e-1),
            "betas": (float(rng.uniform(0.5, 0.95)), float(rng.uniform(0.8, 0.999))),
            "eps": _loguniform(rng, 1e-8, 1e-3),
            "weight_decay": float(rng.uniform(0.05, 2.0)),
            "amsgrad": amsgrad,
        }
        shape = _shape(rng)
        num_steps = int(rng.integers(20, 41))
        theta0 = rng.standard_normal(shape)
        grads = _gradients(rng, shape, num_steps)
        expected, states = _torch_run("adamw", theta0, grads, hyper)
        got = DRIVERS.run(student, "adamw_sequence", theta0=theta0, grads=grads, hyper=hyper)
        _expect_sequence(got, expected, "adamw_step", hyper)
        _expect_state(got["state"], states[-1], "adamw_step", hyper, num_steps)


# ----------------------------------------------------------------------------- 03.8


def _swats_run(rng, *, switch_tol, num_steps):
    """A SWATS run on a noisy quadratic: per step the Adam step p_k, the gradient g_k and
    the group entries (gamma, lambda_avg, switched, sgd_lr) after the step."""
    d = int(rng.integers(3, 9))
    curvature = rng.uniform(0.5, 5.0, d)
    noise = rng.uniform(0.0, 0.3)
    param = torch.tensor(rng.standard_normal(d), dtype=torch.float64, requires_grad=True)
    lr = _loguniform(rng, 1e-3, 1e-1)
    betas = (float(rng.uniform(0.5, 0.95)), float(rng.uniform(0.8, 0.99)))
    optimizer = SWATS([param], lr=lr, betas=betas, switch_tol=switch_tol)
    group = optimizer.param_groups[0]
    steps = []
    for _ in range(num_steps):
        before = param.detach().numpy().copy()
        g = curvature * before + noise * rng.standard_normal(d)
        param.grad = torch.tensor(g, dtype=torch.float64)
        optimizer.step()
        steps.append(
            {
                "p": param.detach().numpy() - before,
                "g": g,
                "gamma": group["gamma"],
                "lambda_avg": group["lambda_avg"],
                "switched": group["switched"],
                "sgd_lr": group["sgd_lr"],
            }
        )
        if group["switched"]:
            break
    return steps, betas[1]


def _switching_tolerance(steps, beta2):
    """A tolerance that makes the run switch at a step k* > 1, far from the threshold."""
    previous = np.inf
    for k, s in enumerate(steps, 1):
        sgd_lr = s["lambda_avg"] / (1 - beta2**k)
        gap = abs(sgd_lr - s["gamma"])
        if k > 2 and sgd_lr > 0 and gap < 0.2 * previous:
            return float(np.sqrt(gap * previous))
        if k > 1 and sgd_lr > 0:
            previous = min(previous, gap)
    return None


@task("03.8")
def test_swats_criterion_on_a_run(student, rng):
    """swats_criterion: gamma_k, lambda_k, Lambda_k and the switch at every step of a SWATS run"""
    for _ in range(20):
        start = rng.bit_generator.state
        probe, beta2 = _swats_run(rng, switch_tol=0.0, num_steps=30)
        tol = _switching_tolerance(probe, beta2)
        if tol is not None:
            break
    else:
        raise RuntimeError("no SWATS run with a clear switching step was found")
    # The same run again (the same draws) with the tolerance that switches at a step k* > 2.
    rng.bit_generator.state = start
    steps, beta2 = _swats_run(rng, switch_tol=tol, num_steps=30)
    expect_true(steps[-1]["switched"], "internal: the reference SWATS run did not switch")
    got = DRIVERS.run(
        student,
        "swats_steps",
        ps=[s["p"] for s in steps],
        gs=[s["g"] for s in steps],
        lambda_avg0=0.0,
        beta2=beta2,
        switch_tol=tol,
    )
    expect_true(
        isinstance(got, list) and len(got) == len(steps) and all(len(r) == 4 for r in got),
        "swats_criterion: expected a tuple (gamma, lambda_avg, sgd_lr, switch) at every step",
    )
    for k, (row, s) in enumerate(zip(got, steps, strict=True), 1):
        gamma, lam, sgd_lr, switch = row
        what = f"swats_criterion at step k={k} (beta2={beta2:.4g}, switch_tol={tol:.3g})"
        expect_close(gamma, s["gamma"], rtol=1e-7, what=f"{what}: gamma_k")
        expect_close(lam, s["lambda_avg"], rtol=1e-7, what=f"{what}: lambda_k")
        expect_close(sgd_lr, s["lambda_avg"] / (1 - beta2**k), rtol=1e-7, what=f"{what}: Lambda_k")
        expect_equal(bool(switch), s["switched"], what=f"{what}: switch")
    expect_close(got[-1][2], steps[-1]["sgd_lr"], rtol=1e-7, what="Lambda at the switch")


@task("03.8")
def test_swats_criterion_edge_cases(student, rng):
    """swats_criterion: no switch at k = 1 or for Lambda <= 0; p.g = 0 skips the step"""
    d = int(rng.integers(2, 6))
    g = rng.standard_normal(d)
    p = -float(rng.uniform(0.01, 1.0)) * g
    beta2 = float(rng.uniform(0.8, 0.999))
    gamma = float(p @ p / -(p @ g))
    got = DRIVERS.run(
        student,
        "swats_once",
        p=p,
        g=g,
        lambda_avg=0.0,
        k=1,
        options={"beta2": beta2, "switch_tol": 1.0},
    )
    expect_close(
        got[:3],
        [gamma, (1 - beta2) * gamma, gamma],
        rtol=1e-10,
        what="(gamma, lambda, Lambda) at k=1",
    )
    expect_equal(bool(got[3]), False, what="switch at k=1 (Lambda_1 always equals gamma_1)")

    lam = -(1 - beta2) * gamma
    got = DRIVERS.run(
        student,
        "swats_once",
        p=-p,
        g=g,
        lambda_avg=lam,
        k=2,
        options={"beta2": beta2, "switch_tol": 10.0},
    )
    expect_close(got[2], -gamma, rtol=1e-10, what="Lambda for an ascent direction p = +c g")
    expect_equal(bool(got[3]), False, what="switch with Lambda < 0")

    q, h = np.zeros(d), g.copy()
    q[0], h[0] = rng.standard_normal(), 0.0  # disjoint supports: q.h is exactly 0
    previous = float(rng.uniform(0.1, 1.0))
    got = DRIVERS.run(student, "swats_once", p=q, g=h, lambda_avg=previous, k=5, options={})
    expect_true(
        isinstance(got, list) and len(got) == 4 and got[0] is None and got[2] is None,
        f"p.g = 0: expected (None, lambda_avg, None, False), got {got!r}",
    )
    expect_close(got[1], previous, rtol=0, what="lambda_avg when p.g = 0 (unchanged)")
    expect_equal(bool(got[3]), False, what="switch when p.g = 0")
