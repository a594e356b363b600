"""Jacobians by forward and reverse mode against torch.autograd.functional.jacobian."""

import numpy as np
import pytest
import torch

from course_utils.autodiff import (
    exp,
    jacobian_forward,
    jacobian_reverse,
    log,
    sigmoid,
    sin,
    tanh,
)

OURS = {"exp": exp, "log": log, "sigmoid": sigmoid, "sin": sin, "tanh": tanh}
TORCH = {
    "exp": torch.exp,
    "log": torch.log,
    "sigmoid": torch.sigmoid,
    "sin": torch.sin,
    "tanh": torch.tanh,
}


def lecture_style(x, f):
    """R^3 -> R^4 with shared subexpressions."""
    a = x[0] * x[1]
    return [
        a + f["sin"](x[2]),
        f["exp"](x[0]) / x[2],
        x[1] ** 2 * f["tanh"](a),
        f["log"](f["sigmoid"](x[2] - x[0]) + a * a),
    ]


def dense_tanh(matrix):
    """x -> tanh(M x), as scalars."""

    def f(x, fns):
        return [fns["tanh"](sum(m * xj for m, xj in zip(row, x, strict=True))) for row in matrix]

    return f


def torch_jacobian(f, x):
    return torch.autograd.functional.jacobian(
        lambda t: torch.stack(f(list(t), TORCH)), torch.tensor(x, dtype=torch.float64)
    ).numpy()


CASES = {
    "lecture_style": (lecture_style, [0.7, -1.2, 1.9]),
    "wide_input": (dense_tanh(np.random.default_rng(0).normal(size=(2, 6))), np.linspace(-1, 1, 6)),
    "tall_output": (dense_tanh(np.random.default_rng(1).normal(size=(5, 2))), [0.3, -0.8]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_forward_and_reverse_jacobians_match_torch(case):
    f, x = CASES[case]
    expected = torch_jacobian(f, x)
    forward = jacobian_forward(lambda v: f(v, OURS), x)
    reverse = jacobian_reverse(lambda v: f(v, OURS), x)
    assert forward.shape == reverse.shape == expected.shape
    np.testing.assert_allclose(forward, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(reverse, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(forward, reverse, rtol=1e-12, atol=1e-14)


def test_scalar_function_gives_one_row_gradient():
    def f(x):
        return x[0] * x[1] + sin(x[0])

    x = [0.7, -1.3]
    expected = [[-1.3 + np.cos(0.7), 0.7]]
    np.testing.assert_allclose(jacobian_forward(f, x), expected, rtol=1e-15)
    np.testing.assert_allclose(jacobian_reverse(f, x), expected, rtol=1e-15)


def test_outputs_that_ignore_some_inputs_have_zero_entries():
    def f(x):
        return [x[0] * 2.0, 5.0, exp(x[2])]

    x = [1.0, 2.0, 0.5]
    expected = [[2.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, np.exp(0.5)]]
    np.testing.assert_allclose(jacobian_forward(f, x), expected, rtol=1e-15)
    np.testing.assert_allclose(jacobian_reverse(f, x), expected, rtol=1e-15)


def test_pass_counts_forward_n_reverse_m():
    calls = []

    def f(x):
        calls.append(type(x[0]).__name__)
        return [x[0] + x[1] + x[2]]

    jacobian_forward(f, [1.0, 2.0, 3.0])
    jacobian_reverse(f, [1.0, 2.0, 3.0])
    assert calls == ["Dual", "Dual", "Dual", "Var"]


def test_input_must_be_a_vector():
    with pytest.raises(ValueError, match="1-D"):
        jacobian_forward(lambda x: x[0], np.ones((2, 2)))
    with pytest.raises(ValueError, match="1-D"):
        jacobian_reverse(lambda x: x[0], 3.0)
