"""Hidden checks of assignment 04 (learning-rate schedules).

Every check draws its hyperparameters and step ranges from ``rng`` and compares the
student's rates step by step with two oracles: the schedulers of
``torch.optim.lr_scheduler`` stepped on a dummy optimizer, and the pure functions of
:mod:`course_utils.schedules`. Schedules that repeat are checked over at least three
cycles or restarts. Rates are compared with ``rtol=1e-10`` and ``atol=1e-12`` times the
largest rate (a rate of exactly 0 leaves no relative tolerance). Some cases leave
hyperparameters out, so that the notebook's defaults are checked too; the oracles get
them filled in from the signatures of :mod:`course_utils.answers.lr_schedules`, which a
test keeps equal to the notebook's.

The conventions of the notebook hold for every schedule function: it returns a Python
number (``float``, or an ``int``, which every use of a rate accepts alike), and it stores
nothing between calls, so the steps evaluated again in a shuffled order give the same
rates.
"""

import inspect
import math

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
from course_utils import schedules
from course_utils.answers import lr_schedules as answers

REFERENCE_SETUP = "from course_utils.answers.lr_schedules import *"
ANSWER_IMPORTS = ("math", "numpy")  # and the standard library: the notebook's rules
# imported by the grader while the zygote starts: the first torch.optim optimizer
# imports torch._dynamo on first use, 2 s of the self-check otherwise
GRADER_PRELOAD = ("torch._dynamo",)
DRIVERS = Drivers(__file__)

RTOL = 1e-10
ATOL_FACTOR = 1e-12


def _with_defaults(name, kwargs):
    """``kwargs`` with the notebook's defaults of ``name`` filled in (for the oracles)."""
    bound = inspect.signature(getattr(answers, name)).bind_partial(**kwargs)
    bound.apply_defaults()
    return {k: v for k, v in bound.arguments.items() if k not in ("t", "train_step")}


def _call(name, kwargs):
    shown = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    return f"{name}(t, {shown})"


# Evaluates the student's schedule at every step of ``steps`` (keyword hyperparameters),
# twice: in order, and again in a shuffled order (a schedule stores nothing between calls).
def _student_rates(student, rng, name, steps, **kwargs):
    call = _call(name, kwargs)
    order = rng.permutation(len(steps)).tolist()
    got = DRIVERS.run(
        student, "schedule_rates", name=name, steps=list(steps), order=order, kwargs=kwargs
    )
    expect_true(
        isinstance(got, dict)
        and isinstance(got.get("rates"), list)
        and len(got["rates"]) == len(steps),
        f"{call}: could not read one number per step",
    )
    if got["not_a_number"]:
        index, kind = got["not_a_number"][0]
        fail(
            f"{call} returned a {str(kind)[:40]} at t = {steps[int(index)]!r}; a schedule "
            "returns a Python float (float(...) of a NumPy value or a tensor)"
        )
    rates = np.asarray(got["rates"], dtype=np.float64)
    again = np.asarray(got["again"], dtype=np.float64)
    differ = np.flatnonzero(~((rates == again) | (np.isnan(rates) & np.isnan(again))))
    if differ.size:
        i = int(differ[0])
        fail(
            f"{call}: evaluated again with the same steps in a shuffled order, t = "
            f"{steps[i]!r} gave {float(again[i])!r} instead of {float(rates[i])!r}; a schedule "
            "stores nothing between calls: its rate depends only on t and the hyperparameters"
        )
    return rates


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
    """step_lr equals torch's StepLR at every step, for random step_size and gamma (default 0.1)"""
    for case in range(3):
        kwargs = dict(
            base_lr=_lr(rng), step_size=int(rng.integers(1, 12)), gamma=float(rng.uniform(0.1, 0.9))
        )
        if case == 0:
            del kwargs["gamma"]
        full = _with_defaults("step_lr", kwargs)
        steps = list(range(kwargs["step_size"] * 4 + int(rng.integers(1, 10))))
        got = _student_rates(student, rng, "step_lr", steps, **kwargs)
        expected = _torch_rates(
            lambda opt, k=full: torch.optim.lr_scheduler.StepLR(
                opt, step_size=k["step_size"], gamma=k["gamma"]
            ),
            kwargs["base_lr"],
            len(steps),
        )
        _expect_rates(got, expected, steps, f"{_call('step_lr', kwargs)} against torch's StepLR")
        reference = [schedules.step_lr(t, **full) for t in steps]
        _expect_rates(got, reference, steps, _call("step_lr", kwargs))


@task("04.1")
def test_multistep_lr_matches_torch(student, rng):
    """multistep_lr equals torch's MultiStepLR, including the ResNet milestones 30, 60, 90"""
    cases = [dict(base_lr=_lr(rng), milestones=[30, 60, 90])]  # gamma: the default 0.1
    for _ in range(2):
        count = int(rng.integers(1, 5))
        milestones = sorted(int(m) for m in rng.choice(np.arange(1, 40), size=count, replace=False))
        cases.append(
            dict(base_lr=_lr(rng), milestones=milestones, gamma=float(rng.uniform(0.1, 0.9)))
        )
    for kwargs in cases:
        full = _with_defaults("multistep_lr", kwargs)
        steps = list(range(kwargs["milestones"][-1] + int(rng.integers(2, 10))))
        got = _student_rates(student, rng, "multistep_lr", steps, **kwargs)
        expected = _torch_rates(
            lambda opt, k=full: torch.optim.lr_scheduler.MultiStepLR(
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
        kwargs = dict(base_lr=base_lr, T_max=int(rng.integers(1, 60)))
        if eta_min_fraction:
            kwargs["eta_min"] = eta_min_fraction * base_lr
        full = _with_defaults("cosine_lr", kwargs)
        steps = list(range(kwargs["T_max"] + 1))
        got = _student_rates(student, rng, "cosine_lr", steps, **kwargs)
        expected = _torch_rates(
            lambda opt, k=full: torch.optim.lr_scheduler.CosineAnnealingLR(
                opt, T_max=k["T_max"], eta_min=k["eta_min"]
            ),
            base_lr,
            len(steps),
        )
        _expect_rates(got, expected, steps, f"{_call('cosine_lr', kwargs)} against torch")
        reference = [schedules.cosine_annealing_lr(t, **full) for t in steps]
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
        got = _student_rates(student, rng, "linear_warmup_cosine", steps, **kwargs)
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
    """linear_warmup_cosine: start factor 0 (the default), no warm-up (W = 0), eta_min after T"""
    defaults = _warmup_case(rng, 0.0)
    del defaults["warmup_start_factor"], defaults["eta_min"]
    cases = [defaults, _warmup_case(rng, float(rng.uniform(0.05, 0.5)))]
    no_warmup = _warmup_case(rng, float(rng.uniform(0.0, 0.5)))
    no_warmup["warmup_steps"] = 0
    cases.append(no_warmup)
    for kwargs in cases:
        steps = list(range(kwargs["total_steps"] + int(rng.integers(3, 10))))
        got = _student_rates(student, rng, "linear_warmup_cosine", steps, **kwargs)
        full = _with_defaults("linear_warmup_cosine", kwargs)
        reference = [schedules.warmup_cosine_lr(t, **full) for t in steps]
        _expect_rates(got, reference, steps, _call("linear_warmup_cosine", kwargs))


# ----------------------------------------------------------------------------- 04.4


def _metric_sequence(rng, length, threshold):
    """A loss curve with improvements, exact ties, decreases smaller than the threshold, and
    runs of such small decreases that add up to more than the threshold (each one relative
    to the last value: together they improve on the best, one by one they do not)."""
    values, current = [], float(rng.uniform(1.0, 5.0))
    while len(values) < length:
        kind = rng.choice(
            ["improve", "tie", "tiny", "creep", "worse"], p=[0.25, 0.25, 0.15, 0.15, 0.2]
        )
        if kind == "improve":
            current *= float(rng.uniform(0.5, 0.95))
            values.append(current)
        elif kind == "tie":
            values.append(current)
        elif kind == "tiny":
            values.append(current * (1.0 - threshold * float(rng.uniform(0.1, 0.9))))
        elif kind == "creep":
            for _ in range(int(rng.integers(2, 5))):
                current *= 1.0 - threshold * float(rng.uniform(0.4, 0.9))
                values.append(current)
        else:
            values.append(current * float(rng.uniform(1.01, 1.5)))
    return values[:length]


def _torch_plateau(lr, metrics, kwargs):
    optimizer = torch.optim.SGD([torch.zeros(1, dtype=torch.float64, requires_grad=True)], lr=lr)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, **kwargs)
    rates = []
    for value in metrics:
        scheduler.step(value)
        rates.append(float(optimizer.param_groups[0]["lr"]))
    return np.array(rates)


def _check_plateau(student, lr, metrics, kwargs):
    call = ", ".join([repr(lr)] + [f"{k}={v!r}" for k, v in kwargs.items()])
    what = (
        f"ReduceOnPlateau({call}) stepped with the metrics "
        f"{[float(f'{v:.8g}') for v in metrics]} (t = number of step() calls)"
    )
    got = DRIVERS.run(student, "plateau_rates", lr=lr, metrics=metrics, kwargs=kwargs)
    expect_true(
        isinstance(got, dict)
        and all(
            isinstance(got.get(k), list) and len(got[k]) == len(metrics)
            for k in ("returned", "kept")
        ),
        f"ReduceOnPlateau({call}).step: could not read one rate per step",
    )
    steps = list(range(1, len(metrics) + 1))
    expected = _torch_plateau(lr, metrics, kwargs)
    _expect_rates(np.asarray(got["returned"], dtype=np.float64), expected, steps, what)
    _expect_rates(
        np.asarray(got["kept"], dtype=np.float64),
        expected,
        steps,
        f"{what}: self.lr after step() (step keeps the rate it returns in self.lr)",
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
    factor = float(rng.uniform(0.2, 0.6))
    # min_lr binds at the second reduction, which the plateau always reaches
    kwargs = dict(factor=factor, patience=patience, cooldown=cooldown, min_lr=lr * factor**1.5)
    _check_plateau(student, lr, metrics, kwargs)
    kwargs = dict(patience=int(rng.integers(1, 4)), threshold=float(rng.uniform(0.01, 0.1)))
    _check_plateau(student, lr, _metric_sequence(rng, 30, kwargs["threshold"]), kwargs)


@task("04.4")
def test_plateau_small_gains_do_not_move_the_best(student, rng):
    """ReduceOnPlateau: gains below the threshold leave b as it is; two that add up improve on it"""
    threshold = float(rng.uniform(1e-3, 0.05))
    value = float(rng.uniform(1.0, 5.0))
    metrics = [value]
    for _ in range(int(rng.integers(6, 12))):
        value *= 1.0 - threshold * float(rng.uniform(0.55, 0.9))
        metrics.append(value)
    metrics += [value] * 3
    _check_plateau(student, _lr(rng), metrics, dict(patience=1, threshold=threshold))


@task("04.4")
def test_plateau_defaults_and_eps(student, rng):
    """ReduceOnPlateau(lr) with the defaults; a reduction smaller than eps is not taken"""
    start = float(rng.uniform(1.0, 3.0))
    metrics = [start, start * 0.8]
    for _ in range(int(rng.integers(24, 34))):
        kind = rng.choice(["tie", "tiny"])
        metrics.append(start * 0.8 * (1.0 - (0.0 if kind == "tie" else rng.uniform(1e-6, 9e-5))))
    _check_plateau(student, _lr(rng), metrics, {})
    plateau = [start] * int(rng.integers(10, 16))
    _check_plateau(
        student,
        float(10 ** rng.uniform(-7.5, -7.0)),
        plateau,
        dict(factor=float(rng.uniform(0.3, 0.7)), patience=0),
    )
    lr = _lr(rng)
    _check_plateau(
        student,
        lr,
        plateau,
        dict(
            factor=float(rng.uniform(0.4, 0.6)), patience=0, eps=lr * float(rng.uniform(0.3, 0.4))
        ),
    )


@task("04.4")
def test_plateau_boundaries(student, rng):
    """ReduceOnPlateau at its boundaries: a metric exactly at b (1 - threshold), a
    reduction exactly eps (as torch's ReduceLROnPlateau)"""
    # A first metric of +inf (no improvement on b = +inf) is left ungraded: an answer
    # that takes the first metric as the best differs from torch only there.
    lr = float(rng.choice([0.5, 1.0, 2.0]))  # powers of two: the boundaries are exact
    level = float(rng.choice([1.0, 2.0, 4.0]))
    _check_plateau(
        student, lr, [level, level / 2, level / 2, level / 2], dict(patience=0, threshold=0.5)
    )
    _check_plateau(student, lr, [level] * 4, dict(patience=0, factor=0.5, eps=lr / 2))


# ----------------------------------------------------------------------------- 04.5


def _cyclic_case(rng, mode, symmetric, up=None):
    base_lr = _lr(rng)
    up = int(rng.integers(1, 10)) if up is None else up
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
    # The defaults (step_size_down=None: as long as the way up, mode triangular) twice,
    # with a way up of 2-4 and of 5-9 steps: no other default number of steps down
    # matches both.
    cases = [
        _cyclic_case(rng, "triangular", True, up=int(rng.integers(2, 5))),
        _cyclic_case(rng, "triangular", True, up=int(rng.integers(5, 10))),
    ]
    for case in cases:
        del case["step_size_down"], case["mode"]
    others = [("triangular", False), ("triangular2", True), ("triangular2", False)]
    cases += [_cyclic_case(rng, mode, symmetric) for mode, symmetric in others]
    for kwargs in cases:
        full = _with_defaults("cyclic_lr", kwargs)
        down = full["step_size_down"] or full["step_size_up"]
        cycle = full["step_size_up"] + down
        steps = list(range(3 * cycle + int(rng.integers(1, cycle + 1))))
        got = _student_rates(student, rng, "cyclic_lr", steps, **kwargs)
        expected = _torch_rates(
            lambda opt, k=full: torch.optim.lr_scheduler.CyclicLR(
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
        reference = [schedules.cyclic_lr(t, **full) for t in steps]
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
        if T_mult == 1:  # the defaults T_mult=1 and eta_min=0 (seen only if T_0 > 1)
            del kwargs["T_mult"], kwargs["eta_min"]
            kwargs["T_0"] = int(rng.integers(2, 8))
        full = _with_defaults("sgdr", kwargs)
        steps = list(range(_after_restarts(full["T_0"], T_mult, 3) + int(rng.integers(1, 6))))
        got = _student_rates(student, rng, "sgdr", steps, **kwargs)
        expected = _torch_rates(
            lambda opt, k=full: torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
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
        got = _student_rates(student, rng, "sgdr", steps, **kwargs)
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
        full = _with_defaults("one_cycle", kwargs)
        steps = list(range(kwargs["total_steps"]))
        got = _student_rates(student, rng, "one_cycle", steps, **kwargs)
        extra = {k: v for k, v in full.items() if k not in ("max_lr", "total_steps")}
        expected = _torch_rates(
            lambda opt, k=kwargs, extra=extra: torch.optim.lr_scheduler.OneCycleLR(
                opt, max_lr=k["max_lr"], total_steps=k["total_steps"], cycle_momentum=False, **extra
            ),
            kwargs["max_lr"],
            len(steps),
        )
        _expect_rates(got, expected, steps, f"{_call('one_cycle', kwargs)} against torch")
        reference = [schedules.one_cycle_lr(t, **full) for t in steps]
        _expect_rates(got, reference, steps, _call("one_cycle", kwargs))


# ----------------------------------------------------------------------------- 04.8


# train_step returns the scripted losses in order and records the rates it was given.
def _scripted_losses(rng, num_iters, blow_up):
    """A noisy range-test curve: flat, falling, then (if blow_up) exploding, against log lr."""
    x = np.linspace(0.0, 1.0, num_iters)
    fall_at, width = float(rng.uniform(0.3, 0.5)), float(rng.uniform(0.05, 0.15))
    losses = float(rng.uniform(1, 3)) * (1.0 - 0.7 / (1.0 + np.exp(-(x - fall_at) / width)))
    if blow_up:
        losses += np.exp(np.clip((x - float(rng.uniform(0.75, 0.9))) * 40.0, None, 50.0)) - 1.0
        losses = np.maximum(losses, 0.05)
    losses *= 1.0 + 0.05 * rng.standard_normal(num_iters)
    return [float(v) for v in losses]


def _reference_range_test(scripted, kwargs):
    model = torch.nn.Linear(1, 1, dtype=torch.float64)
    optimizer = torch.optim.SGD(model.parameters(), lr=kwargs["start_lr"])
    queue = list(scripted)

    def loss_fn(output, target):
        return output.sum() * 0.0 + queue.pop(0)

    data = [(torch.zeros(1, 1, dtype=torch.float64), torch.zeros(1, dtype=torch.float64))]
    return schedules.lr_range_test(model, loss_fn, data, optimizer, suggestion="steepest", **kwargs)


def _suggestion_keeping_non_finite(lrs, losses, skip_start, skip_end):
    """What an answer suggests that skips the ends but keeps the non-finite steps."""
    keep = np.arange(skip_start, len(losses) - skip_end)
    if len(keep) < 2:
        keep = np.arange(len(losses))
    with np.errstate(all="ignore"):
        slopes = np.gradient(losses[keep], np.log(lrs[keep]))
    return float(lrs[keep][np.argmin(slopes)])


def _check_range_test(student, scripted, kwargs, expected=None):
    """Compare the student's sweep over ``scripted`` with the reference's (``expected``,
    computed here unless given)."""
    if expected is None:
        expected = _reference_range_test(scripted, _with_defaults("lr_range_test", kwargs))
    shown = "".join(f", {k}={v!r}" for k, v in kwargs.items())
    what = f"lr_range_test(train_step{shown})"
    got = DRIVERS.run(student, "range_test", scripted=scripted, kwargs=kwargs)
    n = len(expected.lrs)
    expect_true(isinstance(got, dict), f"{what}: could not read the result")
    calls = np.asarray(got["calls"], dtype=np.float64)
    expect_equal(
        len(calls),
        n,
        what=f"{what}: number of train_step calls (the sweep stops after the blow-up)",
    )
    expect_close(calls, expected.lrs, rtol=RTOL, what=f"{what}: the rates passed to train_step")
    for key in ("lrs", "losses"):
        kind, ndim, dtype = (str(v)[:40] for v in got["kinds"][key])
        expect_true(
            got["arrays"][key] is True,
            f"{what}: result[{key!r}] is a {kind} with ndim {ndim} and dtype {dtype or 'none'}; "
            "it should be a 1-D float NumPy array",
        )
    expect_true(
        got["float_suggestion"] is True,
        f"{what}: result['suggested_lr'] is a {str(got['kinds']['suggested_lr'][0])[:40]}; it "
        "should be a Python float",
    )
    expect_close(got["lrs"], expected.lrs, rtol=RTOL, what=f"{what}: result['lrs']")
    losses = np.asarray(got["losses"], dtype=np.float64)
    expect_equal(losses.shape, expected.losses.shape, what=f"{what}: shape of result['losses']")
    finite = np.isfinite(expected.losses)
    expect_true(
        np.array_equal(np.isfinite(losses), finite)
        and np.array_equal(losses[~finite], expected.losses[~finite], equal_nan=True),
        f"{what}: result['losses'] should be {expected.losses[~finite].tolist()} at the steps "
        f"{np.flatnonzero(~finite).tolist()} (a non-finite loss is recorded, and stays "
        "non-finite) and finite elsewhere",
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


def _range_case(rng):
    start_lr = float(10 ** rng.uniform(-7, -4))
    return dict(
        start_lr=start_lr,
        end_lr=start_lr * float(10 ** rng.uniform(4, 8)),
        num_iters=int(rng.integers(40, 120)),
        smooth=float(rng.uniform(0.02, 0.5)),
        diverge_threshold=float(rng.uniform(2, 5)),
        skip_start=int(rng.integers(0, 12)),
        skip_end=int(rng.integers(0, 6)),
    )


@task("04.8")
def test_range_test_sweep_smoothing_and_stop(student, rng):
    """lr_range_test: exponential sweep, bias-corrected smoothing, stop at a blow-up, suggestion"""
    for blow_up in [True, False]:
        kwargs = _range_case(rng)
        _check_range_test(student, _scripted_losses(rng, kwargs["num_iters"], blow_up), kwargs)


@task("04.8")
def test_range_test_defaults_and_non_finite_loss(student, rng):
    """lr_range_test(train_step) with the defaults; a loss of inf, NaN or -inf is recorded, ends
    the sweep, and the suggestion leaves it out"""
    _check_range_test(student, _scripted_losses(rng, 100, blow_up=False), {})
    for bad in (math.inf, math.nan, -math.inf):
        kwargs = dict(_range_case(rng), skip_end=0, num_iters=int(rng.integers(50, 90)))
        scripted = _scripted_losses(rng, kwargs["num_iters"], blow_up=False)
        for _ in range(5):  # a step where keeping the bad loss would change the suggestion
            at = int(rng.integers(kwargs["skip_start"] + 20, kwargs["num_iters"]))
            trial = scripted[:at] + [bad] + scripted[at + 1 :]
            result = _reference_range_test(trial, kwargs)
            naive = _suggestion_keeping_non_finite(
                result.lrs, result.losses, kwargs["skip_start"], 0
            )
            if bad == math.inf or naive != result.suggested_lr:
                break
        _check_range_test(student, trial, kwargs, result)


@task("04.8")
def test_range_test_short_sweep_uses_every_step(student, rng):
    """lr_range_test: when skip_start and skip_end would leave fewer than two steps, all count"""
    # A sweep of 2..16 steps with the default skip_start=10 and skip_end=5 (16: one is left).
    for num_iters in (int(rng.integers(2, 15)), 16):
        kwargs = dict(num_iters=num_iters, smooth=float(rng.uniform(0.05, 0.5)))
        _check_range_test(student, _scripted_losses(rng, num_iters, blow_up=False), kwargs)
    # A blow-up after a few steps: fewer than skip_start + skip_end + 2 steps are recorded.
    kwargs = dict(_range_case(rng), num_iters=60, skip_start=int(rng.integers(4, 8)), skip_end=3)
    scripted = _scripted_losses(rng, 60, blow_up=False)
    at = int(rng.integers(3, kwargs["skip_start"] + kwargs["skip_end"]))
    scripted[at] = scripted[at] * 1e6
    _check_range_test(student, scripted, kwargs)


@task("04.8")
def test_range_test_boundaries(student, rng):
    """lr_range_test at its boundaries: exactly two steps left after skipping (they count),
    a smoothed loss exactly diverge_threshold times the best (not a blow-up)"""
    decay = float(rng.uniform(0.5, 0.8))
    falling = [1.0 + 5.0 * decay**i for i in range(17)]  # steepest at the first steps
    _check_range_test(student, falling, dict(num_iters=17, smooth=float(rng.uniform(0.3, 0.9))))
    # smooth=1 makes each smoothed loss the loss itself, so 4.0 is exactly 4 x the best 1.0
    level = [1.0] * 5 + [4.0] + [1.0] * 14
    _check_range_test(student, level, dict(num_iters=20, smooth=1.0, skip_start=0, skip_end=0))
