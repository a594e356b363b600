"""Forward mode: the lecture example, derivative(), a long chain and error paths."""

import math

import numpy as np
import pytest
import torch

from course_utils.autodiff import Dual, derivative, exp, log, sin


def lecture_example(x, y):
    a = x * y
    b = sin(x)
    return a + b


@pytest.mark.parametrize(("x", "y"), [(0.7, -1.3), (2.0, 3.0), (-1.1, 0.0)])
def test_lecture_example_by_hand(x, y):
    dz_dx = lecture_example(Dual(x, 1.0), Dual(y, 0.0))
    dz_dy = lecture_example(Dual(x, 0.0), Dual(y, 1.0))
    assert dz_dx.value == pytest.approx(x * y + math.sin(x), rel=1e-15)
    assert dz_dx.tangent == pytest.approx(y + math.cos(x), rel=1e-15)
    assert dz_dy.tangent == pytest.approx(x, rel=1e-15)


def test_tangent_is_directional_derivative():
    x, y, vx, vy = 0.7, -1.3, 0.6, -2.0
    z = lecture_example(Dual(x, vx), Dual(y, vy))
    assert z.tangent == pytest.approx((y + math.cos(x)) * vx + x * vy, rel=1e-14)


def test_square_counts_both_factors():
    assert (Dual(3.0, 1.0) * Dual(3.0, 1.0)).tangent == 6.0
    assert derivative(lambda x: x * x, 3.0) == 6.0


@pytest.mark.parametrize("x", [-1.5, 0.25, 2.0])
def test_derivative_convenience(x):
    def f(t):
        return exp(sin(t)) * t**2 - 3 / (1 + t * t)

    expected = (
        math.exp(math.sin(x)) * math.cos(x) * x**2
        + math.exp(math.sin(x)) * 2 * x
        + 6 * x / (1 + x * x) ** 2
    )
    assert derivative(f, x) == pytest.approx(expected, rel=1e-13)


def test_derivative_of_constant_function_is_zero():
    assert derivative(lambda t: 4.0, 1.0) == 0.0


def test_numpy_scalars_mix_with_duals():
    x = Dual(2.0, 1.0)
    z = np.float64(3.0) * x + np.int64(1) - x / np.float64(4.0)
    assert isinstance(z, Dual)
    assert z.value == pytest.approx(6.5)
    assert z.tangent == pytest.approx(2.75)


def test_chain_of_10000_operations():
    num_steps = 10_000
    chain = Dual(0.5, 1.0)
    for _ in range(num_steps):
        chain = chain * 1.0001 + 0.0
    assert chain.tangent == pytest.approx(1.0001**num_steps, rel=1e-10)

    x = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    t = x
    chain = Dual(0.5, 1.0)
    for _ in range(num_steps):
        t = torch.sin(t)
        chain = sin(chain)
    t.backward()
    assert chain.value == pytest.approx(t.item(), rel=1e-12)
    assert chain.tangent == pytest.approx(x.grad.item(), rel=1e-9)


@pytest.mark.parametrize(
    "make",
    [
        lambda: log(Dual(0.0, 1.0)),
        lambda: log(Dual(-2.0, 1.0)),
        lambda: log(-2.0),
        lambda: Dual(-2.0, 1.0) ** Dual(0.5, 0.0),
        lambda: (-2.0) ** Dual(0.5, 1.0),
        lambda: Dual(-8.0, 1.0) ** 0.5,
    ],
)
def test_invalid_domain_raises_value_error(make):
    with pytest.raises(ValueError):
        make()


def test_log_error_names_the_value():
    with pytest.raises(ValueError, match="positive.*-2.0"):
        log(Dual(-2.0, 1.0))


def test_mixing_with_unsupported_type_is_type_error():
    with pytest.raises(TypeError):
        Dual(1.0) + "a"
