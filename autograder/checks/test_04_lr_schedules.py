"""Hidden checks of assignment 04 (learning-rate schedules).

Every check draws its hyperparameters and step ranges from ``rng`` and compares the
student's rates step by step with two oracles: the schedulers of
``torch.optim.lr_scheduler`` stepped on a dummy optimizer, and the pure functions of
:mod:`course_utils.schedules`. Schedules that repeat are checked over at least three
cycles or restarts. Rates are compared with ``rtol=1e-10`` and ``atol=1e-12`` times the
largest rate (a rate of exactly 0 leaves no relative tolerance).
"""

import math

import numpy as np
import torch

from autograder.checking import (
    CheckFailed,
    Drivers,
    expect_close,
    expect_equal,
    expect_true,
    task,
)
from course_utils import schedules

REFERENCE_SETUP = "from course_utils.answers.lr_schedules import *"
DRIVERS = Drivers(__file__)

RTOL = 1e-10
ATOL_FACTOR = 1e-12


# Evaluates the student's schedule at every step of ``steps`` (keyword hyperparameters).
def _student_rates(student, name, steps, **kwargs):
    got = DRIVERS.run(student, "schedule_rates", name=name, steps=list(steps), kwargs=kwargs)
    expect_true(
        isinstance(got, list) and len(got) == len(steps),
        f"{name}: could not read one number per step",
    )
    return np.asarray(got, dtype=np.float64)


def _call(name, kwargs):
    shown = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    return f"{name}(t, {shown})"


def _expect_rates(got, expected, steps, what):
    """Compare step by step; the message names the first step that differs."""
    expected = np.asarray(expected, dtype=np.float64)
    atol = ATOL_FACTOR * float(np.max(np.abs(expected)))
    bad = ~(np.abs(got - expected) <= atol + RTOL * np.abs(expected))
    if np.any(bad):
        first = int(np.argmax(bad))
        raise CheckFailed(
            f"{what}: {int(bad.sum())} of {len(steps)} steps differ; "
            f"first at t = {steps[first]!r}: "
            f"expected {float(expected[first])!r}, got {float(got[first])!r} "
            f"(rtol={RTOL:g})"
        )


def _torch_rates(make_scheduler, lr, num_steps):
    """Rates of a torch scheduler for t = 0, ..., num_steps - 1 (get_last_lr after t steps)."""
    optimizer = torch.optim.SGD([torch.zeros(1, dtype=torch.float64, requires_grad=True)], lr=lr)
    scheduler = make_scheduler(optimizer)
    rates = []
    for _ in range(num_steps):
        rates.append(float(scheduler.get_last_lr()[0]))
        optimizer.step()
        scheduler.step()
    return np.array(rates)


def _lr(rng):
    return float(10 ** rng.uniform(-3, 0))


# ----------------------------------------------------------------------------- 04.1


@task("04.1")
def test_step_lr_matches_torch(student, rng):
    """step_lr equals torch's StepLR at every step, for random step_size and gamma"""
    for _ in range(3):
        kwargs = dict(
            base_lr=_lr(rng), step_size=int(rng.integers(1, 12)), gamma=float(rng.uniform(0.1, 0.9))
        )
        steps = list(range(kwargs["step_size"] * 4 + int(rng.integers(1, 10))))
        got = _student_rates(student, "step_lr", steps, **kwargs)
        expected = _torch_rates(
            lambda opt, k=kwargs: torch.optim.lr_scheduler.StepLR(
                opt, step_size=k["step_size"], gamma=k["gamma"]
            ),
            kwargs["base_lr"],
            len(steps),
        )
        _expect_rates(got, expected, steps, f"{_call('step_lr', kwargs)} against torch's StepLR")
        reference = [schedules.step_lr(t, **kwargs) for t in steps]
        _expect_rates(got, reference, steps, _call("step_lr", kwargs))


@task("04.1")
def test_multistep_lr_matches_torch(student, rng):
    """multistep_lr equals torch's MultiStepLR, including the ResNet milestones 30, 60, 90"""
    cases = [dict(base_lr=_lr(rng), milestones=[30, 60, 90], gamma=0.1)]
    for _ in range(2):
        count = int(rng.integers(1, 5))
        milestones = sorted(int(m) for m in rng.choice(np.arange(1, 40), size=count, replace=False))
        cases.append(
            dict(base_lr=_lr(rng), milestones=milestones, gamma=float(rng.uniform(0.1, 0.9)))
        )
    for kwargs in cases:
        steps = list(range(kwargs["milestones"][-1] + int(rng.integers(2, 10))))
        got = _student_rates(student, "multistep_lr", steps, **kwargs)
        expected = _torch_rates(
            lambda opt, k=kwargs: torch.optim.lr_scheduler.MultiStepLR(
                opt, milestones=k["milestones"], gamma=k["gamma"]
            ),
            kwargs["base_lr"],
            len(steps),
        )
        what = f"{_call('multistep_lr', kwargs)} against torch's MultiStepLR"
        _expect_rates(got, expected, steps, what)


# ----------------------------------------------------------------------------- 04.2


@task("04.2")
def test_cosine_lr_matches_torch(student, rng):
    """cosine_lr equals torch's CosineAnnealingLR for 0 <= t <= T_max, with and without eta_min"""
    for eta_min_fraction in [0.0, float(rng.uniform(0.01, 0.5))]:
        base_lr = _lr(rng)
        kwargs = dict(
            base_lr=base_lr, T_max=int(rng.integers(1, 60)), eta_min=eta_min_fraction * base_lr
        )
        steps = list(range(kwargs["T_max"] + 1))
        got = _student_rates(student, "cosine_lr", steps, **kwargs)
        expected = _torch_rates(
            lambda opt, k=kwargs: torch.optim.lr_scheduler.CosineAnnealingLR(
                opt, T_max=k["T_max"], eta_min=k["eta_min"]
            ),
            base_lr,
            len(steps),
        )
        _expect_rates(got, expected, steps, f"{_call('cosine_lr', kwargs)} against torch")
        reference = [schedules.cosine_annealing_lr(t, **kwargs) for t in steps]
        _expect_rates(got, reference, steps, _call("cosine_lr", kwargs))


# ----------------------------------------------------------------------------- 04.3


def _warmup_case(rng, start_factor):
    warmup_steps = int(rng.integers(1, 15))
    base_lr = _lr(rng)
    return dict(
        base_lr=base_lr,
        warmup_steps=warmup_steps,
        total_steps=warmup_steps + int(rng.integers(1, 40)),
        warmup_start_factor=start_factor,
        eta_min=float(rng.choice([0.0, rng.uniform(0.01, 0.3) * base_lr])),
    )


@task("04.3")
def test_warmup_cosine_matches_torch_sequential(student, rng):
    """linear_warmup_cosine equals torch's LinearLR then CosineAnnealingLR (SequentialLR)"""
    for _ in range(3):
        kwargs = _warmup_case(rng, float(rng.uniform(0.01, 0.9)))
        W, T = kwargs["warmup_steps"], kwargs["total_steps"]
        steps = list(range(T + 1))
        got = _student_rates(student, "linear_warmup_cosine", steps, **kwargs)
        expected = _torch_rates(
            lambda opt, k=kwargs, W=W, T=T: torch.optim.lr_scheduler.SequentialLR(
                opt,
                [
                    torch.optim.lr_scheduler.LinearLR(
                        opt, start_factor=k["warmup_start_factor"], total_iters=W
                    ),
                    torch.optim.lr_scheduler.CosineAnnealingLR(
                        opt, T_max=T - W, eta_min=k["eta_min"]
                    ),
                ],
                milestones=[W],
            ),
            kwargs["base_lr"],
            len(steps),
        )
        what = f"{_call('linear_warmup_cosine', kwargs)} against torch's SequentialLR"
        _expect_rates(got, expected, steps, what)


@task("04.3")
def test_warmup_cosine_from_zero_no_warmup_and_past_the_end(student, rng):
    """linear_warmup_cosine: start factor 0, no warm-up (W = 0), and eta_min after total_steps"""
    cases = [_warmup_case(rng, 0.0), _warmup_case(rng, float(rng.uniform(0.05, 0.5)))]
    no_warmup = _warmup_case(rng, float(rng.uniform(0.0, 0.5)))
    no_warmup["warmup_steps"] = 0
    cases.append(no_warmup)
    for kwargs in cases:
        steps = list(range(kwargs["total_steps"] + int(rng.integers(3, 10))))
        got = _student_rates(student, "linear_warmup_cosine", steps, **kwargs)
        reference = [schedules.warmup_cosine_lr(t, **kwargs) for t in steps]
        _expect_rates(got, reference, steps, _call("linear_warmup_cosine", kwargs))


# ----------------------------------------------------------------------------- 04.4


def _metric_sequence(rng, length, threshold):
    """A loss curve with improvements, exact ties, and decreases smaller than the threshold."""
    values, current = [], float(rng.uniform(1.0, 5.0))
    for _ in range(length):
        kind = rng.choice(["improve", "tie", "tiny", "worse"], p=[0.3, 0.3, 0.2, 0.2])
        if kind == "improve":
            current *= float(rng.uniform(0.5, 0.95))
            value = current
        elif kind == "tie":
            value = current
        elif kind == "tiny":
            value = current * (1.0 - threshold * float(rng.uniform(0.1, 0.9)))
        else:
            value = current * float(rng.uniform(1.01, 1.5))
        values.append(value)
    return values


def _torch_plateau(lr, metrics, kwargs):
    optimizer = torch.optim.SGD([torch.zeros(1, dtype=torch.float64, requires_grad=True)], lr=lr)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, **kwargs)
    rates = []
    for value in metrics:
        scheduler.step(value)
        rates.append(float(optimizer.param_groups[0]["lr"]))
    return np.array(rates)


def _check_plateau(student, lr, metrics, kwargs):
    got = DRIVERS.run(student, "plateau_rates", lr=lr, metrics=metrics, kwargs=kwargs)
    expect_true(
        isinstance(got, list) and len(got) == len(metrics),
        "ReduceOnPlateau.step: could not read one rate per step",
    )
    steps = list(range(1, len(metrics) + 1))
    shown = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    what = (
        f"ReduceOnPlateau({lr!r}, {shown}) stepped with the metrics "
        f"{[round(v, 6) for v in metrics]} (t = number of step() calls)"
    )
    _expect_rates(
        np.asarray(got, dtype=np.float64), _torch_plateau(lr, metrics, kwargs), steps, what
    )


@task("04.4")
def test_plateau_matches_torch_on_random_metrics(student, rng):
    """ReduceOnPlateau: the rates of torch's ReduceLROnPlateau on metrics with ties, small gains"""
    for _ in range(4):
        threshold = float(rng.choice([1e-4, rng.uniform(1e-3, 0.05)]))
        kwargs = dict(
            factor=float(rng.uniform(0.1, 0.7)),
            patience=int(rng.integers(0, 5)),
            threshold=threshold,
            cooldown=int(rng.integers(0, 4)),
        )
        _check_plateau(
            student, _lr(rng), _metric_sequence(rng, int(rng.integers(25, 45)), threshold), kwargs
        )


@task("04.4")
def test_plateau_patience_cooldown_and_min_lr(student, rng):
    """ReduceOnPlateau: on a long plateau the rate drops every patience + 1 (+ cooldown) steps"""
    lr = _lr(rng)
    patience, cooldown = int(rng.integers(0, 4)), int(rng.integers(0, 3))
    start = float(rng.uniform(1, 3))
    metrics = [start, start * 0.8] + [start * 0.8] * int(rng.integers(15, 30))
    kwargs = dict(
        factor=float(rng.uniform(0.2, 0.6)),
        patience=patience,
        cooldown=cooldown,
        min_lr=lr * float(rng.uniform(0.005, 0.05)),
    )
    _check_plateau(student, lr, metrics, kwargs)
    kwargs = dict(patience=int(rng.integers(1, 4)), threshold=float(rng.uniform(0.01, 0.1)))
    _check_plateau(student, lr, _metric_sequence(rng, 30, kwargs["threshold"]), kwargs)


# ----------------------------------------------------------------------------- 04.5


def _cyclic_case(rng, mode, symmetric):
    base_lr = _lr(rng)
    up = int(rng.integers(1, 10))
    return dict(
        base_lr=base_lr,
        max_lr=base_lr * float(rng.uniform(2, 20)),
        step_size_up=up,
        step_size_down=None if symmetric else int(rng.integers(1, 10)),
        mode=mode,
    )


@task("04.5")
def test_cyclic_matches_torch(student, rng):
    """cyclic_lr equals torch's CyclicLR over 3+ cycles (triangular, triangular2, u != d)"""
    for mode in ["triangular", "triangular2"]:
        for symmetric in [True, False]:
            kwargs = _cyclic_case(rng, mode, symmetric)
            down = kwargs["step_size_down"] or kwargs["step_size_up"]
            cycle = kwargs["step_size_up"] + down
            steps = list(range(3 * cycle + int(rng.integers(1, cycle + 1))))
            got = _student_rates(student, "cyclic_lr", steps, **kwargs)
            expected = _torch_rates(
                lambda opt, k=kwargs: torch.optim.lr_scheduler.CyclicLR(
                    opt,
                    base_lr=k["base_lr"],
                    max_lr=k["max_lr"],
                    step_size_up=k["step_size_up"],
                    step_size_down=k["step_size_down"],
                    mode=k["mode"],
                    cycle_momentum=False,
                ),
                kwargs["base_lr"],
                len(steps),
            )
            _expect_rates(got, expected, steps, f"{_call('cyclic_lr', kwargs)} against torch")
            reference = [schedules.cyclic_lr(t, **kwargs) for t in steps]
            _expect_rates(got, reference, steps, _call("cyclic_lr", kwargs))


# ----------------------------------------------------------------------------- 04.6


def _sgdr_case(rng, T_mult):
    base_lr = _lr(rng)
    return dict(
        base_lr=base_lr,
        T_0=int(rng.integers(1, 8)),
        T_mult=T_mult,
        eta_min=float(rng.choice([0.0, rng.uniform(0.01, 0.3) * base_lr])),
    )


def _after_restarts(T_0, T_mult, count):
    """The step where restart number ``count`` happens."""
    return sum(T_0 * T_mult**i for i in range(count))


@task("04.6")
def test_sgdr_matches_torch(student, rng):
    """sgdr equals torch's CosineAnnealingWarmRestarts at integer steps over three restarts"""
    for T_mult in [1, 2, int(rng.integers(2, 4))]:
        kwargs = _sgdr_case(rng, T_mult)
        steps = list(range(_after_restarts(kwargs["T_0"], T_mult, 3) + int(rng.integers(1, 6))))
        got = _student_rates(student, "sgdr", steps, **kwargs)
        expected = _torch_rates(
            lambda opt, k=kwargs: torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
                opt, T_0=k["T_0"], T_mult=k["T_mult"], eta_min=k["eta_min"]
            ),
            kwargs["base_lr"],
            len(steps),
        )
        _expect_rates(got, expected, steps, f"{_call('sgdr', kwargs)} against torch")


@task("04.6")
def test_sgdr_fractional_epochs(student, rng):
    """sgdr at fractional steps t = e + i / B, including exact restarts"""
    for T_mult in [1, int(rng.integers(2, 4))]:
        kwargs = _sgdr_case(rng, T_mult)
        end = _after_restarts(kwargs["T_0"], T_mult, 3) + 2
        batches = int(rng.integers(2, 7))
        steps = [e + i / batches for e in range(end) for i in range(batches)]
        got = _student_rates(student, "sgdr", steps, **kwargs)
        reference = [schedules.cosine_warm_restarts_lr(t, **kwargs) for t in steps]
        _expect_rates(got, reference, steps, _call("sgdr", kwargs))


# ----------------------------------------------------------------------------- 04.7


@task("04.7")
def test_one_cycle_matches_torch(student, rng):
    """one_cycle equals torch's OneCycleLR (cos, two phases) at every step 0 .. total_steps - 1"""
    cases = [dict(max_lr=_lr(rng), total_steps=int(rng.integers(20, 200)))]
    for _ in range(3):
        cases.append(
            dict(
                max_lr=_lr(rng),
                total_steps=int(rng.integers(20, 200)),
                pct_start=float(rng.uniform(0.1, 0.6)),
                div_factor=float(rng.uniform(5, 50)),
                final_div_factor=float(10 ** rng.uniform(1, 4)),
            )
        )
    for kwargs in cases:
        steps = list(range(kwargs["total_steps"]))
        got = _student_rates(student, "one_cycle", steps, **kwargs)
        extra = {k: v for k, v in kwargs.items() if k not in ("max_lr", "total_steps")}
        expected = _torch_rates(
            lambda opt, k=kwargs, extra=extra: torch.optim.lr_scheduler.OneCycleLR(
                opt, max_lr=k["max_lr"], total_steps=k["total_steps"], cycle_momentum=False, **extra
            ),
            kwargs["max_lr"],
            len(steps),
        )
        _expect_rates(got, expected, steps, f"{_call('one_cycle', kwargs)} against torch")
        reference = [schedules.one_cycle_lr(t, **kwargs) for t in steps]
        _expect_rates(got, reference, steps, _call("one_cycle", kwargs))


# ----------------------------------------------------------------------------- 04.8


# train_step returns the scripted losses in order and records the rates it was given.
def _scripted_losses(rng, kwargs, blow_up):
    """A noisy range-test curve: flat, falling, then (if blow_up) exploding, against log lr."""
    n = kwargs["num_iters"]
    x = np.linspace(0.0, 1.0, n)
    fall_at, width = float(rng.uniform(0.3, 0.5)), float(rng.uniform(0.05, 0.15))
    losses = float(rng.uniform(1, 3)) * (1.0 - 0.7 / (1.0 + np.exp(-(x - fall_at) / width)))
    if blow_up:
        losses += np.exp(np.clip((x - float(rng.uniform(0.75, 0.9))) * 40.0, None, 50.0)) - 1.0
        losses = np.maximum(losses, 0.05)
    losses *= 1.0 + 0.05 * rng.standard_normal(n)
    return [float(v) for v in losses]


def _reference_range_test(scripted, kwargs):
    model = torch.nn.Linear(1, 1, dtype=torch.float64)
    optimizer = torch.optim.SGD(model.parameters(), lr=kwargs["start_lr"])
    queue = list(scripted)

    def loss_fn(output, target):
        return output.sum() * 0.0 + queue.pop(0)

    data = [(torch.zeros(1, 1, dtype=torch.float64), torch.zeros(1, dtype=torch.float64))]
    return schedules.lr_range_test(model, loss_fn, data, optimizer, suggestion="steepest", **kwargs)


def _check_range_test(student, scripted, kwargs):
    got = DRIVERS.run(student, "range_test", scripted=scripted, kwargs=kwargs)
    expected = _reference_range_test(scripted, kwargs)
    shown = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    what = f"lr_range_test(train_step, {shown})"
    n = len(expected.lrs)
    expect_true(isinstance(got, dict), f"{what}: expected a dict, got {type(got).__name__}")
    calls = np.asarray(got["calls"], dtype=np.float64)
    expect_equal(
        len(calls),
        n,
        what=f"{what}: number of train_step calls (the sweep stops after the blow-up)",
    )
    expect_close(calls, expected.lrs, rtol=RTOL, what=f"{what}: the rates passed to train_step")
    expect_close(got["lrs"], expected.lrs, rtol=RTOL, what=f"{what}: result['lrs']")
    losses = np.asarray(got["losses"], dtype=np.float64)
    expect_equal(losses.shape, expected.losses.shape, what=f"{what}: shape of result['losses']")
    finite = np.isfinite(expected.losses)
    expect_true(
        np.array_equal(np.isfinite(losses), finite)
        and np.array_equal(losses[~finite], expected.losses[~finite], equal_nan=True),
        f"{what}: result['losses'] should be {expected.losses[~finite].tolist()} at the steps "
        f"{np.flatnonzero(~finite).tolist()} (a non-finite loss stays non-finite) and finite "
        "elsewhere",
    )
    expect_close(
        losses[finite],
        expected.losses[finite],
        rtol=RTOL,
        what=f"{what}: result['losses'] (smoothed), finite values",
    )
    expect_close(
        got["suggested_lr"],
        expected.suggested_lr,
        rtol=RTOL,
        what=f"{what}: result['suggested_lr']",
    )


@task("04.8")
def test_range_test_sweep_smoothing_and_stop(student, rng):
    """lr_range_test: exponential sweep, bias-corrected smoothing, stop at a blow-up, suggestion"""
    for blow_up in [True, False]:
        start_lr = float(10 ** rng.uniform(-7, -4))
        kwargs = dict(
            start_lr=start_lr,
            end_lr=start_lr * float(10 ** rng.uniform(4, 8)),
            num_iters=int(rng.integers(40, 120)),
            smooth=float(rng.uniform(0.02, 0.5)),
            diverge_threshold=float(rng.uniform(2, 5)),
            skip_start=int(rng.integers(0, 12)),
            skip_end=int(rng.integers(0, 6)),
        )
        _check_range_test(student, _scripted_losses(rng, kwargs, blow_up), kwargs)


@task("04.8")
def test_range_test_defaults_and_non_finite_loss(student, rng):
    """lr_range_test: the default sweep, and a loss that becomes inf stops it and is left out"""
    kwargs = dict(
        start_lr=1e-7,
        end_lr=10.0,
        num_iters=100,
        smooth=0.05,
        diverge_threshold=4.0,
        skip_start=10,
        skip_end=5,
    )
    scripted = _scripted_losses(rng, kwargs, blow_up=False)
    _check_range_test(student, scripted, kwargs)
    kwargs = dict(kwargs, skip_end=0, num_iters=int(rng.integers(50, 90)))
    scripted = _scripted_losses(rng, kwargs, blow_up=False)
    scripted[int(rng.integers(30, kwargs["num_iters"]))] = math.inf
    _check_range_test(student, scripted, kwargs)
