"""Batching: batch orders, BGD/SGD/MBGD as one loop, gradient accumulation, gradient variance."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.batching import (
    accumulated_gradient,
    batch_indices,
    gradient_variance,
    linear_regression_loss_grad,
    logistic_regression_loss_grad,
    minibatch_gd,
)


def linear_data(n=23, d=4, seed=0, noise=0.3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + noise * rng.standard_normal(n)
    return X, y


def full_loss(theta, X, y):
    return linear_regression_loss_grad(theta, X, y)[0]


# ---------------------------------------------------------------- batch_indices


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 40),
    batch_size=st.integers(1, 50),
    shuffle=st.booleans(),
    drop_last=st.booleans(),
)
def test_batch_indices_partition_one_epoch(n, batch_size, shuffle, drop_last):
    batches = list(batch_indices(n, batch_size, shuffle=shuffle, rng=3, drop_last=drop_last))
    expected_count = n // batch_size if drop_last else math.ceil(n / batch_size)
    assert len(batches) == expected_count
    full = min(batch_size, n)
    for batch in batches[:-1]:
        assert len(batch) == batch_size
    if batches:
        last = n % batch_size if (n % batch_size and not drop_last) else full
        assert len(batches[-1]) == last
    seen = np.concatenate(batches) if batches else np.array([], dtype=int)
    assert len(np.unique(seen)) == len(seen)
    if not drop_last:
        assert sorted(seen.tolist()) == list(range(n))
    if not shuffle:
        assert seen.tolist() == list(range(len(seen)))


def test_batch_indices_reproducible_and_fresh_each_epoch():
    first = [np.concatenate(list(batch_indices(50, 7, rng=42)))]
    again = [np.concatenate(list(batch_indices(50, 7, rng=42)))]
    np.testing.assert_array_equal(first[0], again[0])

    generator = np.random.default_rng(42)
    epochs = [np.concatenate(list(batch_indices(50, 7, rng=generator))) for _ in range(3)]
    np.testing.assert_array_equal(epochs[0], first[0])
    assert not np.array_equal(epochs[0], epochs[1])
    assert not np.array_equal(epochs[1], epochs[2])
    reference = np.random.default_rng(42)
    for order in epochs:
        np.testing.assert_array_equal(order, reference.permutation(50))


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"n": 0, "batch_size": 2}, "n"),
        ({"n": 5, "batch_size": 0}, "batch_size"),
        ({"n": 5, "batch_size": 2.5}, "batch_size"),
        ({"n": 5, "batch_size": 2, "rng": "seed"}, "rng"),
    ],
)
def test_batch_indices_rejects_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=f"Invalid {name}"):
        list(batch_indices(**kwargs))


# ---------------------------------------------------------------- loss helpers


def test_linear_and_logistic_loss_grad_match_torch():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((17, 5))
    theta = rng.standard_normal(5)
    y_real = rng.standard_normal(17)
    y_label = (rng.random(17) < 0.5).astype(float)

    t = torch.tensor(theta, requires_grad=True)
    Xt = torch.tensor(X)
    loss = 0.5 * torch.nn.functional.mse_loss(Xt @ t, torch.tensor(y_real))
    loss.backward()
    value, grad = linear_regression_loss_grad(theta, X, y_real)
    assert value == pytest.approx(loss.item(), rel=1e-13)
    np.testing.assert_allclose(grad, t.grad.numpy(), rtol=1e-12, atol=1e-14)

    t = torch.tensor(theta, requires_grad=True)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(Xt @ t, torch.tensor(y_label))
    loss.backward()
    value, grad = logistic_regression_loss_grad(theta, X, y_label)
    assert value == pytest.approx(loss.item(), rel=1e-13)
    np.testing.assert_allclose(grad, t.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_logistic_loss_is_finite_for_huge_logits():
    X = np.array([[1.0], [1.0], [-1.0]])
    y = np.array([1.0, 0.0, 1.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value, grad = logistic_regression_loss_grad(np.array([800.0]), X, y)
    # by hand: losses 0, 800, 800 (log(1 + e^z) - y z with z = 800, 800, -800)
    assert value == pytest.approx(1600.0 / 3.0)
    # by hand: sigma(z) - y = 0, 1, -1 -> X^T (.) / 3 = (0 + 1 + 1) / 3
    np.testing.assert_allclose(grad, [2.0 / 3.0])


# ---------------------------------------------------------------- minibatch_gd


def hand_gd(theta, X, y, lr, orders, batch_size, drop_last=False):
    """Independent loop: explicit least-squares gradient per batch of each given order."""
    for order in orders:
        stop = len(order) - len(order) % batch_size if drop_last else len(order)
        for start in range(0, stop, batch_size):
            idx = order[start : start + batch_size]
            Xb, yb = X[idx], y[idx]
            theta = theta - lr * (Xb.T @ (Xb @ theta - yb)) / len(idx)
    return theta


def test_full_batch_is_gradient_descent():
    X, y = linear_data()
    theta0 = np.zeros(X.shape[1])
    theta, history = minibatch_gd(
        linear_regression_loss_grad, theta0, X, y, lr=0.1, batch_size=len(X), num_epochs=5
    )
    expected = hand_gd(theta0, X, y, 0.1, [np.arange(len(X))] * 5, len(X))
    np.testing.assert_allclose(theta, expected, rtol=1e-12, atol=1e-14)
    assert len(history["step_loss"]) == 5


def test_batch_size_one_without_shuffle_is_per_example_sgd():
    X, y = linear_data(n=9)
    theta0 = np.ones(X.shape[1])
    theta, history = minibatch_gd(
        linear_regression_loss_grad,
        theta0,
        X,
        y,
        lr=0.05,
        batch_size=1,
        num_epochs=2,
        shuffle=False,
    )
    expected = theta0
    for _ in range(2):
        for i in range(len(X)):
            expected = expected - 0.05 * X[i] * (X[i] @ expected - y[i])
    np.testing.assert_allclose(theta, expected, rtol=1e-12, atol=1e-14)
    assert len(history["step_loss"]) == 18


@pytest.mark.parametrize("drop_last", [False, True])
def test_minibatch_matches_torch_sgd_on_the_same_batches(drop_last):
    X, y = linear_data(n=23)
    theta0 = np.zeros(X.shape[1])
    seed, lr, batch_size, num_epochs = 7, 0.2, 5, 4
    theta, history = minibatch_gd(
        linear_regression_loss_grad,
        theta0,
        X,
        y,
        lr=lr,
        batch_size=batch_size,
        num_epochs=num_epochs,
        seed=seed,
        drop_last=drop_last,
    )
    # documented contract: one Generator from the seed, one permutation per epoch
    generator = np.random.default_rng(seed)
    orders = [generator.permutation(len(X)) for _ in range(num_epochs)]
    param = torch.zeros(X.shape[1], dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=lr)
    torch_losses = []
    for order in orders:
        stop = len(X) - len(X) % batch_size if drop_last else len(X)
        for start in range(0, stop, batch_size):
            idx = order[start : start + batch_size]
            optimizer.zero_grad()
            pred = torch.tensor(X[idx]) @ param
            loss = 0.5 * torch.mean((pred - torch.tensor(y[idx])) ** 2)
            loss.backward()
            optimizer.step()
            torch_losses.append(loss.item())
    np.testing.assert_allclose(theta, param.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(history["step_loss"], torch_losses, rtol=1e-12)
    assert len(torch_losses) == num_epochs * (4 if drop_last else 5)


def test_sum_convention_equals_mean_with_lr_divided_by_b():
    X, y = linear_data(n=24)
    b, lr_mean = 6, 0.3

    def sum_loss_grad(theta, Xb, yb):
        value, grad = linear_regression_loss_grad(theta, Xb, yb)
        return len(Xb) * value, len(Xb) * grad

    common = {"batch_size": b, "num_epochs": 3, "seed": 1}
    theta_mean, _ = minibatch_gd(
        linear_regression_loss_grad, np.zeros(4), X, y, lr=lr_mean, **common
    )
    theta_sum, _ = minibatch_gd(sum_loss_grad, np.zeros(4), X, y, lr=lr_mean / b, **common)
    np.testing.assert_allclose(theta_sum, theta_mean, rtol=1e-12, atol=1e-14)
    theta_wrong, _ = minibatch_gd(sum_loss_grad, np.zeros(4), X, y, lr=lr_mean, **common)
    assert not np.allclose(theta_wrong, theta_mean)


def test_history_and_callback():
    X, y = linear_data(n=20)
    theta0 = np.full(4, 0.5)
    calls = []

    def callback(epoch, step, theta, loss):
        calls.append((epoch, step, theta.copy(), loss))

    theta, history = minibatch_gd(
        linear_regression_loss_grad,
        theta0,
        X,
        y,
        lr=0.1,
        batch_size=8,
        num_epochs=3,
        loss_fn=full_loss,
        callback=callback,
    )
    residual = X @ theta0 - y
    assert history["loss"][0] == pytest.approx(0.5 * np.mean(residual**2), rel=1e-14)
    assert history["loss"][-1] == pytest.approx(full_loss(theta, X, y), rel=1e-14)
    assert len(history["loss"]) == len(history["time"]) == 4
    assert history["time"][0] == 0.0
    assert np.all(np.diff(history["time"]) >= 0)
    assert len(history["step_loss"]) == 9
    assert [c[:2] for c in calls] == [(e, 3 * (e - 1) + k) for e in (1, 2, 3) for k in (1, 2, 3)]
    np.testing.assert_array_equal(calls[-1][2], theta)
    assert [c[3] for c in calls] == history["step_loss"]
    assert history["loss"][-1] < history["loss"][0]


def test_no_loss_fn_gives_empty_loss_history():
    X, y = linear_data(n=10)
    _, history = minibatch_gd(
        linear_regression_loss_grad, np.zeros(4), X, y, lr=0.1, batch_size=3, num_epochs=2
    )
    assert history["loss"] == []
    assert len(history["time"]) == 3


def test_reproducible_from_seed():
    X, y = linear_data(n=30)
    common = {"lr": 0.1, "batch_size": 4, "num_epochs": 3}
    a, _ = minibatch_gd(linear_regression_loss_grad, np.zeros(4), X, y, seed=5, **common)
    b, _ = minibatch_gd(linear_regression_loss_grad, np.zeros(4), X, y, seed=5, **common)
    c, _ = minibatch_gd(linear_regression_loss_grad, np.zeros(4), X, y, seed=6, **common)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


@pytest.mark.parametrize("batch_size", [1, 8, 200])
def test_bgd_sgd_mbgd_reach_least_squares_solution(batch_size):
    X, y = linear_data(n=200, d=3, seed=4, noise=0.1)
    lstsq = np.linalg.lstsq(X, y, rcond=None)[0]
    lr = {1: 0.01, 8: 0.05, 200: 0.5}[batch_size]
    theta, _ = minibatch_gd(
        linear_regression_loss_grad,
        np.zeros(3),
        X,
        y,
        lr=lr,
        batch_size=batch_size,
        num_epochs=60,
    )
    np.testing.assert_allclose(theta, lstsq, atol=0.03)


def test_logistic_regression_decreases_loss():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((100, 3))
    y = (X @ np.array([2.0, -1.0, 0.5]) + 0.3 * rng.standard_normal(100) > 0).astype(float)

    def loss(theta, Xa, ya):
        return logistic_regression_loss_grad(theta, Xa, ya)[0]

    _, history = minibatch_gd(
        logistic_regression_loss_grad,
        np.zeros(3),
        X,
        y,
        lr=0.5,
        batch_size=10,
        num_epochs=10,
        loss_fn=loss,
    )
    assert history["loss"][0] == pytest.approx(math.log(2.0))
    assert history["loss"][-1] < 0.5 * math.log(2.0)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"lr": -0.1}, "learning rate"),
        ({"batch_size": 0}, "batch_size"),
        ({"num_epochs": -1}, "num_epochs"),
        ({"num_epochs": 1.5}, "num_epochs"),
        ({"micro_batch_size": 0}, "micro_batch_size"),
        ({"accumulation_steps": 0}, "accumulation_steps"),
        ({"accumulation_steps": 2, "micro_batch_size": 2}, "accumulation settings"),
        ({"seed": "zero"}, "rng"),
    ],
)
def test_minibatch_gd_rejects_bad_input(kwargs, name):
    X, y = linear_data(n=10)
    arguments = {"lr": 0.1, "batch_size": 3, "num_epochs": 1} | kwargs
    with pytest.raises(ValueError, match=f"Invalid {name}"):
        minibatch_gd(linear_regression_loss_grad, np.zeros(4), X, y, **arguments)


def test_minibatch_gd_rejects_mismatched_data():
    X, y = linear_data(n=10)
    with pytest.raises(ValueError, match="Invalid data"):
        minibatch_gd(
            linear_regression_loss_grad,
            np.zeros(4),
            X,
            y[:-1],
            lr=0.1,
            batch_size=3,
            num_epochs=1,
        )


# ---------------------------------------------------------------- gradient accumulation


@settings(max_examples=60, deadline=None)
@given(b=st.integers(1, 30), m=st.integers(1, 35), seed=st.integers(0, 1000))
def test_accumulated_gradient_equals_full_batch_mean(b, m, seed):
    X, y = linear_data(n=b, seed=seed)
    theta = np.random.default_rng(seed + 1).standard_normal(4)
    loss, grad = accumulated_gradient(linear_regression_loss_grad, theta, X, y, m)
    residual = X @ theta - y
    assert loss == pytest.approx(0.5 * np.mean(residual**2), rel=1e-12)
    np.testing.assert_allclose(grad, X.T @ residual / b, rtol=1e-12, atol=1e-12)


def test_equal_weight_averaging_of_uneven_micro_batches_is_wrong():
    X, y = linear_data(n=10)
    theta = np.ones(4)
    means = [linear_regression_loss_grad(theta, X[s : s + 4], y[s : s + 4])[1] for s in (0, 4, 8)]
    naive = np.mean(means, axis=0)
    correct = accumulated_gradient(linear_regression_loss_grad, theta, X, y, 4)[1]
    np.testing.assert_allclose(correct, X.T @ (X @ theta - y) / 10, rtol=1e-12)
    assert np.max(np.abs(naive - correct)) > 1e-3


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize(
    "accumulation", [{"micro_batch_size": 3}, {"micro_batch_size": 7}, {"accumulation_steps": 3}]
)
def test_accumulation_gives_the_same_run(drop_last, accumulation):
    X, y = linear_data(n=26)
    common = {
        "lr": 0.15,
        "batch_size": 7,
        "num_epochs": 4,
        "seed": 11,
        "drop_last": drop_last,
        "loss_fn": full_loss,
    }
    theta_plain, history_plain = minibatch_gd(
        linear_regression_loss_grad, np.zeros(4), X, y, **common
    )
    theta_acc, history_acc = minibatch_gd(
        linear_regression_loss_grad, np.zeros(4), X, y, **common, **accumulation
    )
    np.testing.assert_allclose(theta_acc, theta_plain, rtol=0, atol=1e-12)
    np.testing.assert_allclose(history_acc["step_loss"], history_plain["step_loss"], atol=1e-12)
    np.testing.assert_allclose(history_acc["loss"], history_plain["loss"], atol=1e-12)


def test_accumulated_gradient_rejects_bad_input():
    X, y = linear_data(n=5)
    with pytest.raises(ValueError, match="Invalid micro_batch_size"):
        accumulated_gradient(linear_regression_loss_grad, np.zeros(4), X, y, 0)
    with pytest.raises(ValueError, match="Invalid batch"):
        accumulated_gradient(linear_regression_loss_grad, np.zeros(4), X[:0], y[:0], 2)


# ---------------------------------------------------------------- gradient variance


MC_RTOL = np.array([0.2, 0.1, 0.1, 0.1])


def per_example_variance(theta, X, y):
    """σ² = (1/n) Σ ‖gᵢ − ḡ‖² with gᵢ = xᵢ (xᵢᵀθ − yᵢ) written out for least squares."""
    per_example = X * (X @ theta - y)[:, None]
    return np.mean(np.sum((per_example - per_example.mean(axis=0)) ** 2, axis=1))


def test_gradient_variance_without_replacement_matches_finite_population_formula():
    X, y = linear_data(n=40, d=5, seed=3, noise=1.0)
    theta = np.zeros(5)
    sigma2 = per_example_variance(theta, X, y)
    n = len(X)
    batch_sizes = [1, 4, 10, 20, 40]
    estimates = gradient_variance(
        linear_regression_loss_grad, theta, X, y, batch_sizes, num_samples=4000, rng=0
    )
    expected = np.array([sigma2 / b * (n - b) / (n - 1) for b in batch_sizes])
    # about 4 Monte-Carlo standard errors; the b = 1 samples are heavy-tailed
    np.testing.assert_array_less(np.abs(estimates[:-1] / expected[:-1] - 1), MC_RTOL)
    assert estimates[-1] == pytest.approx(0.0, abs=1e-20)
    assert np.all(np.diff(estimates) < 0)


def test_gradient_variance_with_replacement_falls_like_one_over_b():
    X, y = linear_data(n=40, d=5, seed=3, noise=1.0)
    theta = np.zeros(5)
    sigma2 = per_example_variance(theta, X, y)
    batch_sizes = [1, 4, 16, 64]
    estimates = gradient_variance(
        linear_regression_loss_grad,
        theta,
        X,
        y,
        batch_sizes,
        num_samples=4000,
        rng=np.random.default_rng(1),
        replace=True,
    )
    np.testing.assert_array_less(np.abs(estimates * np.array(batch_sizes) / sigma2 - 1), MC_RTOL)


def test_gradient_variance_rejects_too_large_batches_without_replacement():
    X, y = linear_data(n=5)
    with pytest.raises(ValueError, match="Invalid batch_size"):
        gradient_variance(linear_regression_loss_grad, np.zeros(4), X, y, [6], 10, 0)
    with pytest.raises(ValueError, match="Invalid num_samples"):
        gradient_variance(linear_regression_loss_grad, np.zeros(4), X, y, [2], 0, 0)
