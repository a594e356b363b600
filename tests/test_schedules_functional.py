"""The pure schedule functions against formulas and values worked out by hand."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import course_utils.schedules as cs

SETTINGS = settings(max_examples=40, deadline=None)


def test_lecture_step_decay_at_30_60_90():
    expected = {0: 0.1, 29: 0.1, 30: 0.01, 59: 0.01, 60: 1e-3, 89: 1e-3, 90: 1e-4, 119: 1e-4}
    for t, lr in expected.items():
        assert cs.step_lr(t, 0.1, 30, 0.1) == pytest.approx(lr, rel=1e-12)
        assert cs.multistep_lr(t, 0.1, [30, 60, 90], 0.1) == pytest.approx(lr, rel=1e-12)
    assert cs.multistep_lr(500, 0.1, [30, 60, 90], 0.1) == pytest.approx(1e-4, rel=1e-12)


@SETTINGS
@given(st.floats(1e-4, 1.0), st.integers(1, 200), st.data())
def test_lecture_cosine(base_lr, T, data):
    t = data.draw(st.integers(0, T))
    assert cs.cosine_annealing_lr(t, base_lr, T) == pytest.approx(
        0.5 * base_lr * (1 + np.cos(t * np.pi / T)), rel=1e-12, abs=1e-18
    )


def test_cosine_with_eta_min_by_hand():
    assert cs.cosine_annealing_lr(0, 0.1, 10, 0.01) == pytest.approx(0.1)
    assert cs.cosine_annealing_lr(5, 0.1, 10, 0.01) == pytest.approx(0.055)
    assert cs.cosine_annealing_lr(10, 0.1, 10, 0.01) == pytest.approx(0.01)
    # past T_max the cosine continues upwards, back to the initial rate at 2 T_max
    assert cs.cosine_annealing_lr(15, 0.1, 10, 0.01) == pytest.approx(0.055)
    assert cs.cosine_annealing_lr(20, 0.1, 10, 0.01) == pytest.approx(0.1)


@SETTINGS
@given(st.floats(1e-4, 1.0), st.integers(1, 200), st.data())
def test_lecture_linear_decay(base_lr, T, data):
    t = data.draw(st.integers(0, 2 * T))
    expected = base_lr * (1 - t / T) if t <= T else 0.0
    assert cs.linear_lr(t, base_lr, 1.0, 0.0, T) == pytest.approx(expected, rel=1e-12, abs=1e-18)


def test_linear_warmup_factors_by_hand():
    # torch's docstring example: start_factor 0.05 over 40 epochs, lr 0.05
    assert cs.linear_lr(0, 0.05, 0.05, 1.0, 40) == pytest.approx(0.0025)
    assert cs.linear_lr(20, 0.05, 0.05, 1.0, 40) == pytest.approx(0.05 * 0.525)
    assert cs.linear_lr(40, 0.05, 0.05, 1.0, 40) == pytest.approx(0.05)
    assert cs.linear_lr(90, 0.05, 0.05, 1.0, 40) == pytest.approx(0.05)


@SETTINGS
@given(st.floats(1e-4, 1.0), st.floats(0.5, 1.0), st.integers(0, 300))
def test_exponential(base_lr, gamma, t):
    assert cs.exponential_lr(t, base_lr, gamma) == pytest.approx(
        base_lr * math.exp(t * math.log(gamma)), rel=1e-12
    )


def smith_triangular(t, base_lr, max_lr, stepsize):
    """The formula of Smith (2017), section 3.1, for the symmetric triangle."""
    cycle = np.floor(1 + t / (2 * stepsize))
    x = np.abs(t / stepsize - 2 * cycle + 1)
    return base_lr + (max_lr - base_lr) * np.maximum(0, 1 - x), cycle


@SETTINGS
@given(st.floats(0.0, 0.1), st.floats(0.2, 2.0), st.integers(1, 20), st.floats(0.9, 1.0), st.data())
def test_cyclic_against_smiths_formula(base_lr, max_lr, stepsize, gamma, data):
    t = data.draw(st.integers(0, 8 * stepsize))
    triangle, cycle = smith_triangular(t, base_lr, max_lr, stepsize)
    amplitude = triangle - base_lr
    expected = {
        "triangular": triangle,
        "triangular2": base_lr + amplitude / 2 ** (cycle - 1),
        "exp_range": base_lr + amplitude * gamma**t,
    }
    for mode, value in expected.items():
        got = cs.cyclic_lr(t, base_lr, max_lr, stepsize, mode=mode, gamma=gamma)
        assert got == pytest.approx(value, rel=1e-12, abs=1e-15), mode


def test_cyclic_asymmetric_by_hand():
    # 2 steps up, 4 steps down, from 0.1 to 0.7
    expected = [0.1, 0.4, 0.7, 0.55, 0.4, 0.25, 0.1, 0.4]
    got = [cs.cyclic_lr(t, 0.1, 0.7, 2, 4) for t in range(8)]
    assert got == pytest.approx(expected, rel=1e-12)
    momenta = [cs.cyclic_momentum(t, 0.8, 0.9, 2, 4) for t in range(4)]
    assert momenta == pytest.approx([0.9, 0.85, 0.8, 0.825], rel=1e-12)


def test_warm_restarts_by_hand():
    # T_0 = 10, T_mult = 2: cycles [0, 10), [10, 30), [30, 70), [70, 150)
    base, eta = 0.1, 0.002
    mid = (base + eta) / 2
    cases = {
        0: base,
        5: mid,
        10: base,
        20: mid,
        29.999999: eta,
        30: base,
        50: mid,
        70: base,
        110: mid,
        35.0: eta + (base - eta) * (1 + math.cos(math.pi * 5 / 40)) / 2,
        12.5: eta + (base - eta) * (1 + math.cos(math.pi * 2.5 / 20)) / 2,
    }
    for t, lr in cases.items():
        assert cs.cosine_warm_restarts_lr(t, base, 10, 2, eta) == pytest.approx(lr, rel=1e-6), t
    for t in (0, 3, 6, 9, 12.0):
        assert cs.cosine_warm_restarts_lr(t, base, 3, 1, eta) == pytest.approx(base), t
    assert cs.cosine_warm_restarts_lr(4.5, base, 3, 1, eta) == pytest.approx(mid)


def test_warm_restarts_exact_at_every_restart_for_large_t_mult():
    # T_0 = 1, T_mult = 3: restarts at 1, 4, 13, 40, 121, 364, ... A floating-point
    # logarithm places some of them (121 among them) one cycle early.
    start, length = 0, 1
    for _ in range(12):
        assert cs.cosine_warm_restarts_lr(start, 0.5, 1, 3) == 0.5, start
        if start:
            assert cs.cosine_warm_restarts_lr(start - 0.5, 0.5, 1, 3) < 0.5
        start, length = start + length, 3 * length


def test_warmup_cosine_by_hand():
    base, eta = 0.4, 0.01
    assert cs.warmup_cosine_lr(0, base, 4, 14, 0.0, eta) == 0.0
    assert cs.warmup_cosine_lr(1, base, 4, 14, 0.0, eta) == pytest.approx(0.1)
    assert cs.warmup_cosine_lr(2, base, 4, 14, 0.5, eta) == pytest.approx(0.3)
    assert cs.warmup_cosine_lr(4, base, 4, 14, 0.0, eta) == pytest.approx(base)
    assert cs.warmup_cosine_lr(9, base, 4, 14, 0.0, eta) == pytest.approx((base + eta) / 2)
    assert cs.warmup_cosine_lr(14, base, 4, 14, 0.0, eta) == pytest.approx(eta)
    assert cs.warmup_cosine_lr(100, base, 4, 14, 0.0, eta) == eta
    assert cs.warmup_cosine_lr(0, base, 0, 10) == pytest.approx(base)


def test_one_cycle_by_hand():
    # total 100, pct 0.3: the rise ends at step 29, the fall at step 99
    max_lr = 1.0
    initial, final = max_lr / 25, max_lr / 25 / 1e4
    assert cs.one_cycle_lr(0, max_lr, 100) == pytest.approx(initial)
    assert cs.one_cycle_lr(29, max_lr, 100) == pytest.approx(max_lr)
    assert cs.one_cycle_lr(64, max_lr, 100) == pytest.approx((max_lr + final) / 2)
    assert cs.one_cycle_lr(99, max_lr, 100) == pytest.approx(final)
    assert cs.one_cycle_lr(14.5, max_lr, 100, anneal_strategy="linear") == pytest.approx(
        (initial + max_lr) / 2
    )
    # three phases: up to step 29, down to initial at step 58, then to final at 99
    assert cs.one_cycle_lr(58, max_lr, 100, three_phase=True) == pytest.approx(initial)
    assert cs.one_cycle_lr(99, max_lr, 100, three_phase=True) == pytest.approx(final)
    assert cs.one_cycle_momentum(0, 100) == pytest.approx(0.95)
    assert cs.one_cycle_momentum(29, 100) == pytest.approx(0.85)
    assert cs.one_cycle_momentum(99, 100) == pytest.approx(0.95)
    assert cs.one_cycle_momentum(80, 100, three_phase=True) == pytest.approx(0.95)


def test_one_cycle_past_the_end():
    cs.one_cycle_lr(100, 1.0, 100)
    with pytest.raises(ValueError, match="Invalid t: 101 .*total_steps = 100"):
        cs.one_cycle_lr(101, 1.0, 100)


BAD_CALLS = [
    (lambda: cs.step_lr(-1, 0.1, 30), "t", "-1"),
    (lambda: cs.step_lr(3, 0.1, -30), "step_size", "-30"),
    (lambda: cs.step_lr(3, 0.1, 30, gamma=0), "gamma", "0"),
    (lambda: cs.step_lr(3, -0.1, 30), "base_lr", "-0.1"),
    (lambda: cs.multistep_lr(3, 0.1, [60, 30]), "milestones", "[60, 30]"),
    (lambda: cs.exponential_lr(3, 0.1, -0.9), "gamma", "-0.9"),
    (lambda: cs.exponential_lr(float("nan"), 0.1, 0.9), "t", "nan"),
    (lambda: cs.cosine_annealing_lr(3, 0.1, 0), "T_max", "0"),
    (lambda: cs.linear_lr(3, 0.1, -0.5), "start_factor", "-0.5"),
    (lambda: cs.linear_lr(3, 0.1, total_iters=0), "total_iters", "0"),
    (lambda: cs.warmup_cosine_lr(3, 0.1, 5, 5), "total_steps", "5"),
    (
        lambda: cs.warmup_cosine_lr(3, 0.1, 5, 10, warmup_start_factor=-1),
        "warmup_start_factor",
        "-1",
    ),
    (lambda: cs.cyclic_lr(3, 0.1, 1.0, mode="square"), "mode", "square"),
    (lambda: cs.cyclic_lr(3, 0.1, 1.0, step_size_up=0), "step_size_up", "0"),
    (lambda: cs.cyclic_lr(3, 0.1, 1.0, mode="exp_range", gamma=-1), "gamma", "-1"),
    (lambda: cs.cosine_warm_restarts_lr(3, 0.1, 0), "T_0", "0"),
    (lambda: cs.cosine_warm_restarts_lr(3, 0.1, 5, T_mult=0), "T_mult", "0"),
    (lambda: cs.cosine_warm_restarts_lr(3, 0.1, 5, eta_min=-1.0), "eta_min", "-1.0"),
    (lambda: cs.one_cycle_lr(3, 0.1, 10, pct_start=-0.1), "pct_start", "-0.1"),
    (lambda: cs.one_cycle_lr(3, 0.1, 10, anneal_strategy="step"), "anneal_strategy", "step"),
    (lambda: cs.one_cycle_lr(3, 0.1, 10, final_div_factor=0), "final_div_factor", "0"),
]


@pytest.mark.parametrize(("call", "name", "value"), BAD_CALLS)
def test_bad_arguments_raise_value_error_naming_them(call, name, value):
    with pytest.raises(ValueError, match=f"Invalid {name}: ") as info:
        call()
    assert value in str(info.value)
