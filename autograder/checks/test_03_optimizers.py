"""Hidden checks of assignment 03, optimizers.

Every update rule is run by a driver in the student's process on sequences of 20 to 40
random gradients (random shapes, scales and hyperparameters, the defaults among them),
starting from the empty state; the iterates and the final state come back as plain data
and are compared here with ``torch.optim`` in float64, fed the same gradients. A second run
continues from a state produced by ``torch.optim`` in the middle of a run (state
continuity, and the key names of the state). With every step the driver sends back the
step's inputs (theta, grad, the state dict) as they are after the call, which must equal
what was passed: the notebook forbids modifying them. All the runs of one task go to the
student's process in one request. The momentum conventions are compared with
``course_utils.optim.momentum`` and the switching test of SWATS with the group entries of
``course_utils.optim.SWATS`` on a real run.
"""

import inspect
from dataclasses import dataclass, field

import numpy as np
import torch

from autograder.checking import (
    CheckFailed,
    Drivers,
    expect_close,
    expect_equal,
    expect_true,
    fail,
    task,
)
from course_utils.answers import optimizers as answers
from course_utils.optim import SWATS, momentum

REFERENCE_SETUP = "from course_utils.answers.optimizers import *"
ANSWER_IMPORTS = ("math", "numpy")  # and the standard library: the notebook's rules
# imported by the grader while the zygote starts: the first torch.optim optimizer
# imports torch._dynamo on first use, 2 s of the self-check otherwise
GRADER_PRELOAD = ("torch._dynamo",)
# imported by the zygote before it forks a child: 03.7 lends the child torch's Adam
# step, and the first torch.optim optimizer imports torch._dynamo (2 s per child)
CHILD_PRELOAD = ("torch._dynamo",)
DRIVERS = Drivers(__file__)

RTOL = 1e-8
ATOL = 1e-12

IN_PLACE_RULE = (
    "the notebook's rule: do not modify theta, grad or the arrays in state in place "
    "(theta -= ... changes the caller's array); build new arrays and return the state "
    "as a new dict"
)


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
    """torch.optim's state of one parameter in the notebook's format (int step, arrays;
    SGD without momentum: a None buffer)."""
    state = {}
    for key in _TORCH_KEYS[kind]:
        value = torch_state.get(key)
        if value is not None:
            state[key] = int(value) if key == "step" else value.detach().numpy().copy()
    if kind == "sgd" and "momentum_buffer" not in state:
        state["momentum_buffer"] = None
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


def _shape(rng, dims=None):
    """A random shape: of ``dims`` dimensions (0 to 3), or else of 1 or 2."""
    dims = int(rng.integers(1, 3)) if dims is None else dims
    if dims == 1:
        return (int(rng.integers(1, 8)),)
    return tuple(int(rng.integers(2, 5 if dims == 2 else 4)) for _ in range(dims))


_DIMS = (1, 2, 0, 3)  # the shapes of the runs of one task, in turn: theta may have any shape


def _gradients(rng, shape, num_steps, low=1e-2, high=3.0):
    """Random gradients whose size changes from step to step between ``low`` and ``high``."""
    scales = np.exp(rng.uniform(np.log(low), np.log(high), num_steps))
    return [s * np.asarray(rng.standard_normal(shape)) for s in scales]


def _defaults(name):
    """The keyword arguments of ``name`` that have defaults, with them (torch.optim's)."""
    parameters = inspect.signature(getattr(answers, name)).parameters.values()
    return {
        p.name: p.default
        for p in parameters
        if p.kind is p.KEYWORD_ONLY and p.default is not inspect.Parameter.empty
    }


def _value(value):
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, tuple):
        return "(" + ", ".join(_value(v) for v in value) + ")"
    return repr(value)


def _call(name, hyper):
    """``adam_step(lr=0.01, amsgrad=True; not passed, so the defaults: betas=(0.9, 0.999),
    eps=1e-08, weight_decay=0)``: the call with every hyperparameter it used."""
    given = ", ".join(f"{k}={_value(v)}" for k, v in hyper.items())
    rest = ", ".join(f"{k}={_value(v)}" for k, v in _defaults(name).items() if k not in hyper)
    if not rest:
        return f"{name}({given})"
    if not given:
        return f"{name}() with no hyperparameters passed, so the defaults: {rest}"
    return f"{name}({given}; not passed, so the defaults: {rest})"


@dataclass
class _Run:
    """One sequence of calls of an update rule: what is sent, and torch's answers."""

    name: str
    call: str  # the call, its hyperparameters, theta's shape and the starting state
    inputs: dict  # theta0, grads, state0, hyper: the driver's arguments
    expected: list  # torch's theta after every step
    state: dict | None = None  # torch's state after the last step, if it is compared
    offset: int = 0  # steps taken before the run (a run continued from torch's state)
    checks: list = field(default_factory=list)  # other expectations on the final state


def _rule_runs(
    rng,
    kind,
    name,
    hyper,
    *,
    dims=None,
    grad_range=(1e-2, 3.0),
    theta_scale=1.0,
    state0=None,
    resume=True,
):
    """A run from the empty state (or ``state0``, another first-step state the notebook
    allows), and, with ``resume``, a run continued from torch's state at a random step."""
    shape = _shape(rng, dims)
    num_steps = int(rng.integers(20, 41))
    theta0 = theta_scale * np.asarray(rng.standard_normal(shape))
    grads = _gradients(rng, shape, num_steps, *grad_range)
    expected, states = _torch_run(kind, theta0, grads, hyper)
    state0 = {} if state0 is None else state0
    call = _call(name, hyper)
    runs = [
        _Run(
            name,
            f"{call} on theta of shape {shape} from the state {state0!r}",
            {"theta0": theta0, "grads": grads, "state0": state0, "hyper": hyper},
            expected,
            states[-1],
        )
    ]
    if resume:
        split = int(rng.integers(3, num_steps - 3))
        runs.append(
            _Run(
                name,
                f"{call} on theta of shape {shape}, continued from torch.optim's state after "
                f"step {split} (keys {sorted(states[split - 1])})",
                {
                    "theta0": expected[split - 1],
                    "grads": grads[split:],
                    "state0": states[split - 1],
                    "hyper": hyper,
                },
                expected[split:],
                offset=split,
            )
        )
    return runs


def _send(student, name, runs, **options):
    """All the runs in one request; if the student's code raised, each run alone again, so
    that the message names the call (hyperparameters and start) that raised."""
    inputs = [run.inputs for run in runs]
    try:
        return DRIVERS.run(student, "sequences", name=name, runs=inputs, **options)
    except CheckFailed as exc:
        if len(runs) == 1:
            raise CheckFailed(f"{runs[0].call}: {exc}") from None
        if not str(exc).startswith("your code raised"):
            raise
        for run in runs:
            try:
                DRIVERS.run(student, "sequences", name=name, runs=[run.inputs], **options)
            except CheckFailed as single:
                raise CheckFailed(f"{run.call}: {single}") from None
        raise


def _expect_state(got_state, expected_state, what):
    expect_true(
        isinstance(got_state, dict),
        f"{what}: the returned state is not a dict but {type(got_state).__name__} "
        f"(does it return (new_theta, new_state)?)",
    )
    for key, value in expected_state.items():
        none_rule = "with momentum=0 the notebook asks for the state {'momentum_buffer': None}"
        expect_true(
            key in got_state,
            f"{what}: the state has no key {key!r} (keys: {sorted(got_state)})"
            + (f"; {none_rule}" if value is None else ""),
        )
        entry = f"{what}: state[{key!r}]"
        got = got_state[key]
        if value is None:
            expect_true(got is None, f"{entry} is {got!r}; {none_rule}")
        elif key == "step":
            # an int, or a float holding a whole number (torch keeps a float tensor)
            number = np.asarray(got)
            expect_true(
                number.size == 1 and number.dtype.kind in "iuf",
                f"{entry}: expected a number of steps, got {got!r}",
            )
            expect_equal(float(number.reshape(())), float(value), what=entry)
        else:
            expect_close(got, value, rtol=RTOL, atol=ATOL, what=entry)


def _same(a, b):
    """Whether two values that crossed as plain data are equal (NaN equal to NaN)."""
    if a is None or b is None:
        return a is b
    if isinstance(a, dict) or isinstance(b, dict):
        return (
            isinstance(a, dict)
            and isinstance(b, dict)
            and a.keys() == b.keys()
            and all(_same(a[k], b[k]) for k in a)
        )
    try:
        a, b = np.asarray(a), np.asarray(b)
        if a.dtype.kind in "biufc" and b.dtype.kind in "biufc":
            return a.shape == b.shape and np.array_equal(
                a, b, equal_nan=a.dtype.kind in "fc" and b.dtype.kind in "fc"
            )
    except (TypeError, ValueError):
        pass
    return bool(np.all(a == b)) if np.shape(a) == np.shape(b) else False


def _changed(after, before):
    """Where an array passed to the call changed, in words."""
    after, before = np.asarray(after), np.asarray(before)
    if after.shape != before.shape:
        return f"its shape was {before.shape} and is {after.shape} after the call"
    differs = ~((after == before) | (np.isnan(after) & np.isnan(before)))
    index = tuple(int(i) for i in np.argwhere(differs)[0]) if differs.ndim else ()
    at = f" at index {index}" if index else ""
    return f"e.g.{at} it was {float(before[index])!r} and is {float(after[index])!r} after the call"


def _expect_inputs_unchanged(got, run):
    """Each call of the run left theta, grad and the state dict it was given as they were."""
    for k, after in enumerate(got["inputs"]):
        where = f"{run.call}, step {run.offset + k + 1}"
        theta = run.inputs["theta0"] if k == 0 else np.asarray(got["iterates"][k - 1], np.float64)
        state = run.inputs["state0"] if k == 0 else got["states"][k - 1]
        for label, value, before in (
            ("theta", after["theta"], theta),
            ("grad", after["grad"], run.inputs["grads"][k]),
        ):
            if not _same(value, before):
                fail(
                    f"{where}: the call modified the array passed as {label} "
                    f"({_changed(value, before)}); {IN_PLACE_RULE}"
                )
        if not isinstance(state, dict) or _same(after["state"], state):
            continue
        if not isinstance(after["state"], dict) or after["state"].keys() != state.keys():
            keys = sorted(after["state"]) if isinstance(after["state"], dict) else "?"
            fail(
                f"{where}: the call changed the state dict it was given (its keys were "
                f"{sorted(state)} and are {keys} after the call); {IN_PLACE_RULE}"
            )
        for key in state:
            value, before = after["state"][key], state[key]
            if _same(value, before):
                continue
            if isinstance(before, np.ndarray) and np.ndim(before):
                fail(
                    f"{where}: the call modified the array state[{key!r}] it was given "
                    f"({_changed(value, before)}); {IN_PLACE_RULE}"
                )
            fail(
                f"{where}: the call changed state[{key!r}] in the dict it was given (it was "
                f"{before!r} and is {value!r} after the call); {IN_PLACE_RULE}"
            )


def _unpack(entry):
    """The list of values a driver sent with ``pack`` (one stacked array, or a list)."""
    if not isinstance(entry, dict):
        fail("the grader could not read the results of its runs")
    if "stack" in entry:
        return list(entry["stack"])
    return list(entry["list"])


def _unpack_states(entry):
    """The list of state dicts a driver sent with ``pack_states``."""
    if isinstance(entry, dict) and "keys" in entry:
        columns = {key: _unpack(values) for key, values in entry["keys"].items()}
        count = len(next(iter(columns.values()), []))
        return [{key: column[i] for key, column in columns.items()} for i in range(count)]
    return _unpack(entry)


def _check_runs(student, name, runs, *, watch=(), lend_adam=False):
    """Run the sequences in the student's process and compare them with torch's."""
    results = _send(student, name, runs, watch=list(watch), lend_adam=lend_adam)
    expect_true(
        isinstance(results, list) and len(results) == len(runs),
        f"{name}: the grader could not read the results of its runs",
    )
    unpacked = []
    for got in results:
        unpacked.append(
            {
                "iterates": _unpack(got["iterates"]),
                "states": _unpack_states(got["states"]),
                "inputs": [
                    {"theta": theta, "grad": grad, "state": state}
                    for theta, grad, state in zip(
                        _unpack(got["thetas_after"]),
                        _unpack(got["grads_after"]),
                        _unpack_states(got["states_after"]),
                        strict=True,
                    )
                ],
                "called": got["called"],
            }
        )
    for run, got in zip(runs, unpacked, strict=True):
        for k, (theta, theta_ref) in enumerate(zip(got["iterates"], run.expected, strict=True)):
            expect_close(
                theta,
                theta_ref,
                rtol=RTOL,
                atol=ATOL,
                what=f"{run.call}: theta after step {run.offset + k + 1}, compared with "
                "torch.optim's",
            )
        if run.state is not None:
            last = run.offset + len(run.expected)
            _expect_state(got["states"][-1], run.state, f"{run.call}: the state after step {last}")
    for run, got in zip(runs, unpacked, strict=True):
        _expect_inputs_unchanged(got, run)
        for called in got["called"]:
            fail(
                f"{run.call}: {name} called {called}; the task asks to write {name} on its own "
                f"(not by calling {called})"
            )


# One run of each rule decays by exactly 1 (a test of weight_decay against 1 instead of 0
# shows); the others by random amounts, or not at all.
UNIT_DECAY = 1.0


def _maybe(rng, value, probability=0.5):
    return value if rng.random() < probability else 0.0


def _loguniform(rng, low, high):
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def _defaults_runs(rng, kind, name):
    """A run with no hyperparameters passed: the defaults must be torch's. The gradients
    are tiny and theta small, so that even eps moves the iterates by more than rtol."""
    return _rule_runs(
        rng, kind, name, {}, dims=1, grad_range=(1e-6, 1e-4), theta_scale=1e-2, resume=False
    )


# ----------------------------------------------------------------------------- 03.1


@task("03.1")
def test_sgd_momentum_against_torch(student, rng):
    """sgd_step: torch.optim.SGD with random momentum, dampening and weight decay, from the
    states {} and {"momentum_buffer": None}, inputs left unchanged"""
    none = {"momentum_buffer": None}  # the notebook: a missing or None buffer is the first step
    configs = [
        ({"lr": float(rng.uniform(0.01, 0.3))}, None),
        ({"lr": float(rng.uniform(0.01, 0.1)), "momentum": float(rng.uniform(0.5, 0.95))}, none),
        (
            {
                "lr": float(rng.uniform(0.01, 0.1)),
                "momentum": float(rng.uniform(0.5, 0.95)),
                "dampening": float(rng.uniform(0.1, 0.9)),
                "weight_decay": float(rng.uniform(0.01, 0.5)),  # on a 0-d theta
            },
            none,
        ),
        (
            {
                "lr": float(rng.uniform(0.01, 0.1)),
                "momentum": float(rng.uniform(0.5, 0.95)),
                "weight_decay": UNIT_DECAY,
            },
            None,
        ),
    ]
    runs = []
    for (hyper, state0), dims in zip(configs, _DIMS, strict=True):
        runs += _rule_runs(rng, "sgd", "sgd_step", hyper, dims=dims, state0=state0)
    _check_runs(student, "sgd_step", runs)


# ----------------------------------------------------------------------------- 03.2


@task("03.2")
def test_nesterov_against_torch(student, rng):
    """nesterov_step: torch.optim.SGD(nesterov=True) with random momentum and weight decay,
    written without calling sgd_step, inputs left unchanged"""
    runs = []
    decays = [0.0, float(rng.uniform(0.01, 0.5)), UNIT_DECAY]
    for weight_decay, dims in zip(decays, _DIMS[:3], strict=True):
        hyper = {"lr": float(rng.uniform(0.01, 0.1)), "momentum": float(rng.uniform(0.3, 0.95))}
        if weight_decay:
            hyper["weight_decay"] = weight_decay
        runs += _rule_runs(rng, "nesterov", "nesterov_step", hyper, dims=dims)
    _check_runs(student, "nesterov_step", runs, watch=["sgd_step"])


# ----------------------------------------------------------------------------- 03.3


@task("03.3")
def test_momentum_conventions(student, rng):
    """momentum_goodfellow_step, momentum_ema_step: iterates and velocities, lr changed
    mid-run, theta and grad left unchanged"""
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
        call = f"{name}({coefficient_name}={coefficient:.6g}) on theta of shape {shape}"
        try:
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
        except CheckFailed as exc:
            raise CheckFailed(f"{call}: {exc}") from None
        theta, velocity = theta0, np.zeros_like(theta0)
        for k, (g, lr) in enumerate(zip(grads, lrs, strict=True)):
            theta, velocity = reference(
                theta, velocity, g, lr=lr, **{coefficient_name: coefficient}
            )
            what = f"{name}({coefficient_name}={coefficient:.6g}, lr={lr:.6g}), step {k + 1}"
            expect_close(got["iterates"][k], theta, rtol=RTOL, atol=ATOL, what=f"{what}: theta")
            expect_close(
                got["velocities"][k], velocity, rtol=RTOL, atol=ATOL, what=f"{what}: velocity"
            )
        for k, after in enumerate(got["inputs"]):
            before = {"theta": theta0 if k == 0 else got["iterates"][k - 1], "grad": grads[k]}
            for label in ("theta", "grad"):
                if not _same(after[label], before[label]):
                    fail(
                        f"{name}({coefficient_name}={coefficient:.6g}, lr={lrs[k]:.6g}), step "
                        f"{k + 1}: the call modified the array passed as {label} "
                        f"({_changed(after[label], before[label])}); the notebook's rule: do "
                        "not modify theta or grad in place, build new arrays"
                    )


# ----------------------------------------------------------------------------- 03.4


@task("03.4")
def test_adagrad_against_torch(student, rng):
    """adagrad_step: torch.optim.Adagrad with its defaults and random lr_decay, weight decay,
    S_0 and eps, inputs left unchanged"""
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
            "weight_decay": UNIT_DECAY,
        },
    ]
    runs = _defaults_runs(rng, "adagrad", "adagrad_step")
    for hyper, dims in zip(configs, _DIMS[1:], strict=True):
        runs += _rule_runs(rng, "adagrad", "adagrad_step", hyper, dims=dims)
    _check_runs(student, "adagrad_step", runs)


# ----------------------------------------------------------------------------- 03.5


@task("03.5")
def test_rmsprop_against_torch(student, rng):
    """rmsprop_step: torch.optim.RMSprop with its defaults, plain and centered, random alpha,
    eps and weight decay, inputs left unchanged"""
    runs = _defaults_runs(rng, "rmsprop", "rmsprop_step")
    for i, centered in enumerate([False, True, bool(rng.integers(2))]):
        weight_decay = float(rng.uniform(0.01, 0.5))
        hyper = {
            "lr": _loguniform(rng, 1e-3, 1e-1),
            "alpha": float(rng.uniform(0.5, 0.999)),
            "eps": _loguniform(rng, 1e-8, 1e-1),
            # the last run always decays (so a decay added to grad in place is seen)
            "weight_decay": UNIT_DECAY if i == 2 else _maybe(rng, weight_decay),
            "centered": centered,
        }
        runs += _rule_runs(rng, "rmsprop", "rmsprop_step", hyper, dims=_DIMS[1 + i])
    _check_runs(student, "rmsprop_step", runs)


# ----------------------------------------------------------------------------- 03.6


def _adam_configs(rng, *, amsgrad):
    """(hyperparameters, gradient range) of three runs."""

    def betas():
        return (float(rng.uniform(0.0, 0.95)), float(rng.uniform(0.8, 0.9999)))

    return [
        ({"lr": _loguniform(rng, 1e-3, 1e-1), "amsgrad": amsgrad}, (1e-2, 3.0)),
        (
            {
                "lr": _loguniform(rng, 1e-3, 1e-1),
                "betas": betas(),
                "eps": _loguniform(rng, 1e-3, 1e-1),
                "weight_decay": _maybe(rng, float(rng.uniform(0.01, 0.5))),
                "amsgrad": amsgrad,
            },
            (1e-4, 1e-2),
        ),
        (
            {
                "lr": _loguniform(rng, 1e-3, 1e-1),
                "betas": betas(),
                "eps": _loguniform(rng, 1e-8, 1e-4),
                "weight_decay": UNIT_DECAY if amsgrad else float(rng.uniform(0.01, 0.5)),
                "amsgrad": amsgrad,
            },
            (1e-2, 3.0),
        ),
    ]


def _adam_runs(rng, *, amsgrad):
    runs = [] if amsgrad else _defaults_runs(rng, "adam", "adam_step")
    dims = _DIMS[1:] if not amsgrad else _DIMS[:3]
    for (hyper, grad_range), d in zip(_adam_configs(rng, amsgrad=amsgrad), dims, strict=True):
        runs += _rule_runs(rng, "adam", "adam_step", hyper, dims=d, grad_range=grad_range)
    return runs


@task("03.6")
def test_adam_against_torch(student, rng):
    """adam_step: torch.optim.Adam with its defaults, random betas, eps up to 0.1, L2 decay,
    small gradients, inputs left unchanged"""
    _check_runs(student, "adam_step", _adam_runs(rng, amsgrad=False))


@task("03.6")
def test_amsgrad_against_torch(student, rng):
    """adam_step(amsgrad=True): torch.optim.Adam(amsgrad=True), gradients that shrink and
    grow, inputs left unchanged"""
    _check_runs(student, "adam_step", _adam_runs(rng, amsgrad=True))


# ----------------------------------------------------------------------------- 03.7


@task("03.7")
def test_adamw_against_torch(student, rng):
    """adamw_step: torch.optim.AdamW with its defaults and random weight decay (adam_step
    lent by the grader), inputs left unchanged"""
    runs = _defaults_runs(rng, "adamw", "adamw_step")
    for amsgrad, dims in zip([False, True], _DIMS[1:3], strict=True):
        hyper = {
            "lr": _loguniform(rng, 1e-3, 1e-1),
            "betas": (float(rng.uniform(0.5, 0.95)), float(rng.uniform(0.8, 0.999))),
            "eps": _loguniform(rng, 1e-8, 1e-3),
            "weight_decay": float(rng.uniform(0.05, 2.0)),
            "amsgrad": amsgrad,
        }
        runs += _rule_runs(rng, "adamw", "adamw_step", hyper, dims=dims, resume=False)
    _check_runs(student, "adamw_step", runs, lend_adam=True)


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
    """swats_criterion: gamma_k, lambda_k, Lambda_k and the switch at every step of a SWATS
    run, with p and g of two dimensions"""
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
    # p and g hold all the parameters of a model: the dot products run over all elements
    d = steps[0]["p"].size
    shape = next((n, d // n) for n in (2, 3, 5, 7, 1) if d % n == 0)
    got = DRIVERS.run(
        student,
        "swats_steps",
        ps=[s["p"] for s in steps],
        gs=[s["g"] for s in steps],
        lambda_avg0=0.0,
        beta2=beta2,
        switch_tol=tol,
        shape=list(shape),
    )
    expect_true(
        isinstance(got, list) and len(got) == len(steps) and all(len(r) == 4 for r in got),
        "swats_criterion: expected a tuple (gamma, lambda_avg, sgd_lr, switch) at every step",
    )
    for k, (row, s) in enumerate(zip(got, steps, strict=True), 1):
        gamma, lam, sgd_lr, switch = row
        what = (
            f"swats_criterion(p, g, lambda_avg, k={k}, beta2={beta2:.6g}, switch_tol={tol:.3g}) "
            f"with p and g of shape {shape}"
        )
        expect_close(gamma, s["gamma"], rtol=1e-7, what=f"{what}: gamma_k")
        expect_close(lam, s["lambda_avg"], rtol=1e-7, what=f"{what}: lambda_k")
        expect_close(sgd_lr, s["lambda_avg"] / (1 - beta2**k), rtol=1e-7, what=f"{what}: Lambda_k")
        expect_equal(bool(switch), s["switched"], what=f"{what}: switch")
    expect_close(got[-1][2], steps[-1]["sgd_lr"], rtol=1e-7, what="Lambda at the switch")


@task("03.8")
def test_swats_criterion_edge_cases(student, rng):
    """swats_criterion: no switch at k = 1 or for Lambda <= 0, a switch at k = 2, |Lambda -
    gamma| (not Lambda - gamma) below switch_tol; p.g = 0 skips the step; the defaults
    beta2=0.999 and switch_tol=1e-9; a tuple of floats and a bool"""
    shape = (2, int(rng.integers(1, 4)))
    g = rng.standard_normal(shape)
    p = -float(rng.uniform(0.01, 1.0)) * g
    beta2 = float(rng.uniform(0.8, 0.999))
    gamma = float(np.sum(p * p) / -np.sum(p * g))  # > 0: p is a descent direction
    q, h = np.zeros(shape), g.copy()
    q[0, 0], h[0, 0] = rng.standard_normal(), 0.0  # disjoint supports: q.h is exactly 0
    previous = float(rng.uniform(0.1, 1.0))

    def near_switch(delta):
        """A call at k = 3 with the defaults (beta2 = 0.999) where Lambda_3 = gamma + delta."""
        lambda_3 = (gamma + delta) * (1 - 0.999**3)
        call = {"p": p, "g": g, "lambda_avg": (lambda_3 - 0.001 * gamma) / 0.999, "k": 3}
        label = (
            f"swats_criterion(p, g, lambda_avg, k=3) with the defaults, where "
            f"|Lambda_3 - gamma_3| = {delta:.2g} {'<' if delta < 1e-9 else '>'} switch_tol=1e-9"
        )
        return {**call, "options": {}}, label, (gamma, lambda_3, gamma + delta, delta < 1e-9)

    exact_p = np.array([[-1.0, 0.0], [0.0, 0.0]])
    exact_g = np.array([[2.0, 1.0], [0.0, 3.0]])  # gamma = p.p / -p.g = 1 / 2

    def exact_case(lambda_1, switch_tol, expected):
        options = {"beta2": 0.5, "switch_tol": switch_tol}
        call = {"p": exact_p, "g": exact_g, "lambda_avg": lambda_1, "k": 2, "options": options}
        label = (
            f"swats_criterion(p={exact_p.tolist()}, g={exact_g.tolist()}, "
            f"lambda_avg={lambda_1}, k=2, beta2=0.5, switch_tol={switch_tol})"
        )
        return call, label, expected

    cases = [
        (
            {
                "p": p,
                "g": g,
                "lambda_avg": 0.0,
                "k": 1,
                "options": {"beta2": beta2, "switch_tol": 1.0},
            },
            f"swats_criterion(p, g, lambda_avg=0, k=1, beta2={beta2:.6g}, switch_tol=1)",
            (gamma, (1 - beta2) * gamma, gamma, False),
        ),
        (
            {
                "p": -p,
                "g": g,
                "lambda_avg": -(1 - beta2) * gamma,
                "k": 2,
                "options": {"beta2": beta2, "switch_tol": 10.0},
            },
            f"swats_criterion for an ascent direction p = +c g (k=2, beta2={beta2:.6g}, "
            "switch_tol=10; Lambda < 0 never switches)",
            (-gamma, -(1 - beta2**2) * gamma, -gamma, False),
        ),
        (
            {"p": q, "g": h, "lambda_avg": previous, "k": 5, "options": {}},
            f"swats_criterion with p.g = 0 (lambda_avg={previous:.6g}, k=5)",
            (None, previous, None, False),
        ),
        near_switch(0.5e-9),
        near_switch(3e-9),
        # exact in binary (gamma = 0.5, beta2 = 0.5): a switch at k = 2; Lambda far below
        # gamma (|Lambda - gamma|, not Lambda - gamma); Lambda exactly 0 (Lambda > 0)
        exact_case(0.625, 0.5, (0.5, 0.5625, 0.75, True)),
        exact_case(-0.125, 0.1, (0.5, 0.1875, 0.25, False)),
        exact_case(-0.5, 1.0, (0.5, 0.0, 0.0, False)),
    ]
    got = DRIVERS.run(student, "swats_calls", calls=[call for call, _, _ in cases])
    for answer, (_, label, expected) in zip(got, cases, strict=True):
        entries = answer["answer"]
        expect_true(
            answer["tuple"] and len(entries) == 4,
            f"{label}: expected the tuple (gamma, lambda_avg, sgd_lr, switch), got "
            f"{'a tuple' if answer['tuple'] else 'not a tuple'} of {len(entries)} entries "
            f"{entries!r}",
        )
        names = ("gamma", "lambda_avg", "sgd_lr", "switch")
        wanted = ["None" if e is None else "float" for e in expected[:3]] + ["bool"]
        for name, kind, want in zip(names, answer["kinds"], wanted, strict=True):
            expect_true(
                kind == want,
                f"{label}: {name} is {'a ' + kind if kind in ('float', 'bool') else kind}, "
                f"expected {'None' if want == 'None' else 'a ' + want} (the notebook: "
                "gamma, lambda_avg and sgd_lr are floats and switch a bool, or (None, "
                "lambda_avg, None, False) where p.g = 0)",
            )
        for name, value, want in zip(
            ("gamma_k", "lambda_k", "Lambda_k"), entries[:3], expected[:3], strict=True
        ):
            if want is not None:
                expect_close(value, want, rtol=1e-10, what=f"{label}: {name}")
        expect_equal(bool(entries[3]), expected[3], what=f"{label}: switch")
