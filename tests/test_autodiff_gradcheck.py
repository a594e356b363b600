"""Central-difference gradients and the relative-error check."""

import numpy as np
import pytest

from course_utils.autodiff import Tensor, gradient_check, numerical_gradient, softmax_cross_entropy


def f(x):
    return float(np.sum(np.sin(x) * x**2))


def true_gradient(x):
    return np.cos(x) * x**2 + 2 * x * np.sin(x)


X = np.array([[0.3, -1.2, 2.0], [0.7, 1.5, -0.4]])


def test_numerical_gradient_matches_closed_form():
    np.testing.assert_allclose(numerical_gradient(f, X), true_gradient(X), rtol=1e-8, atol=1e-10)


def test_numerical_gradient_does_not_modify_input():
    x = X.copy()
    numerical_gradient(f, x)
    np.testing.assert_array_equal(x, X)


def test_correct_gradient_has_small_error():
    assert gradient_check(f, X, true_gradient(X)) < 1e-7


def test_wrong_gradient_has_large_error():
    missing_term = np.cos(X) * X**2
    assert gradient_check(f, X, missing_term) > 1e-2
    assert gradient_check(f, X, -true_gradient(X)) == pytest.approx(1.0, rel=1e-6)


def test_error_is_relative():
    scaled = 1e6 * true_gradient(X)
    assert gradient_check(lambda x: 1e6 * f(x), X, scaled, eps=1e-6) < 1e-6


def test_checks_a_tensor_gradient():
    rng = np.random.default_rng(0)
    inputs, labels = rng.normal(size=(6, 3)), rng.integers(0, 4, size=6)

    def loss(w):
        return softmax_cross_entropy(Tensor(inputs) @ w, labels)

    w = Tensor(rng.normal(size=(3, 4)))
    loss(w).backward()
    assert gradient_check(lambda a: loss(Tensor(a)).item(), w.data, w.grad) < 1e-7


@pytest.mark.parametrize("eps", [0.0, -1e-6, float("nan")])
def test_invalid_step_size(eps):
    with pytest.raises(ValueError, match="eps"):
        numerical_gradient(f, X, eps=eps)


def test_shape_mismatch_is_value_error():
    with pytest.raises(ValueError, match="shape"):
        gradient_check(f, X, np.zeros(3))
