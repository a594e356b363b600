"""Test problems: gradients against torch autograd, known minimizers, Reddi et al.'s
counterexample with torch's Adam and AMSGrad, the sparse problem with torch's Adagrad."""

import math

import numpy as np
import pytest
import torch

from course_helpers.problems import (
    Beale,
    IllConditionedQuadratic,
    MonkeySaddle,
    Rosenbrock,
    Saddle,
    make_linear_regression,
    make_logistic_regression,
    make_sparse_regression,
    optimizer_update_rule,
    reddi_gradient,
    reddi_loss,
    run_online,
)
from course_utils import optim as course_optim
from course_utils.optim.adagrad import adagrad_effective_lr

# Each surface written again in torch from its textbook formula, as the oracle.
TORCH_FORMULAS = {
    "rosenbrock": lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2,
    "beale": lambda x, y: (
        (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2
    ),
    "saddle": lambda x, y: x**2 - y**2,
    "monkey saddle": lambda x, y: x**3 - 3 * x * y**2,
}
SURFACES = [Rosenbrock(), Beale(), Saddle(), MonkeySaddle()]


def torch_value_and_grad(formula, point):
    x, y = (torch.tensor(c, dtype=torch.float64, requires_grad=True) for c in point)
    value = formula(x, y)
    value.backward()
    return value.item(), np.array([x.grad.item(), y.grad.item()])


@pytest.mark.parametrize("problem", SURFACES, ids=lambda p: p.name)
def test_surface_value_and_gradient_match_torch(problem):
    points = np.random.default_rng(0).uniform(-2.0, 2.0, size=(25, 2))
    for point in points:
        value, grad = torch_value_and_grad(TORCH_FORMULAS[problem.name], point)
        assert problem.value(point) == pytest.approx(value, rel=1e-13, abs=1e-13)
        np.testing.assert_allclose(problem.grad(point), grad, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("problem", SURFACES, ids=lambda p: p.name)
def test_surface_evaluates_grids_pointwise(problem):
    grid = np.random.default_rng(1).uniform(-1.5, 1.5, size=(2, 4, 3))
    values = problem.value(grid)
    grads = problem.grad(grid)
    assert values.shape == (4, 3)
    assert grads.shape == (2, 4, 3)
    for i in range(4):
        for j in range(3):
            assert values[i, j] == pytest.approx(problem.value(grid[:, i, j]), rel=1e-14)
            np.testing.assert_allclose(grads[:, i, j], problem.grad(grid[:, i, j]), rtol=1e-14)
    np.testing.assert_array_equal(problem(grid), values)


def test_values_worked_by_hand():
    assert Rosenbrock().value([0.0, 0.0]) == 1.0
    assert Rosenbrock().value([-1.0, 1.0]) == 4.0
    assert Beale().value([0.0, 0.0]) == 1.5**2 + 2.25**2 + 2.625**2
    assert Beale().value([1.0, 0.0]) == 0.5**2 + 1.25**2 + 1.625**2
    assert Saddle().value([3.0, 2.0]) == 5.0
    assert MonkeySaddle().value([1.0, 1.0]) == -2.0
    assert Rosenbrock(a=2.0, b=10.0).value([0.0, 1.0]) == 4.0 + 10.0


@pytest.mark.parametrize(
    ("problem", "point"),
    [(Rosenbrock(), (1.0, 1.0)), (Rosenbrock(a=-0.5, b=3.0), (-0.5, 0.25)), (Beale(), (3.0, 0.5))],
)
def test_known_minimizers(problem, point):
    np.testing.assert_array_equal(problem.minimizer, point)
    assert problem.value(point) == 0.0 == problem.minimum
    np.testing.assert_allclose(problem.grad(point), 0.0, atol=1e-15)
    nearby = np.asarray(point) + np.random.default_rng(2).normal(scale=1e-3, size=(20, 2))
    assert np.all([problem.value(p) > 0.0 for p in nearby])


def central_difference_hessian(grad, point, h=1e-5):
    point = np.asarray(point, dtype=np.float64)
    columns = []
    for k in range(len(point)):
        step = np.zeros_like(point)
        step[k] = h
        columns.append((grad(point + step) - grad(point - step)) / (2 * h))
    return np.stack(columns, axis=1)


def test_saddles_are_stationary_but_not_minima():
    saddle, monkey = Saddle(), MonkeySaddle()
    for problem in (saddle, monkey):
        assert problem.minimizer is None and problem.minimum is None
        np.testing.assert_array_equal(problem.grad(problem.stationary_point), 0.0)
    eigenvalues = np.linalg.eigvalsh(central_difference_hessian(saddle.grad, [0.0, 0.0]))
    np.testing.assert_allclose(eigenvalues, [-2.0, 2.0], atol=1e-8)
    np.testing.assert_allclose(
        central_difference_hessian(monkey.grad, [0.0, 0.0]), np.zeros((2, 2)), atol=1e-8
    )
    assert monkey.value([-0.1, 0.0]) < 0.0 < monkey.value([0.1, 0.0])


@pytest.mark.parametrize("seed", [None, 3])
@pytest.mark.parametrize(("kappa", "dim"), [(1.0, 2), (50.0, 2), (1000.0, 5)])
def test_ill_conditioned_quadratic(kappa, dim, seed):
    problem = IllConditionedQuadratic(kappa, dim=dim, seed=seed)
    eigenvalues = np.linalg.eigvalsh(problem.A)
    np.testing.assert_allclose(problem.A, problem.A.T, atol=1e-12)
    assert eigenvalues.max() / eigenvalues.min() == pytest.approx(kappa, rel=1e-10)
    np.testing.assert_array_equal(problem.minimizer, np.zeros(dim))
    assert problem.value(problem.minimizer) == 0.0 == problem.minimum
    rng = np.random.default_rng(4)
    A = torch.tensor(problem.A)
    for point in rng.standard_normal((10, dim)):
        x = torch.tensor(point, requires_grad=True)
        value = 0.5 * x @ A @ x
        value.backward()
        assert problem.value(point) == pytest.approx(value.item(), rel=1e-12)
        np.testing.assert_allclose(problem.grad(point), x.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_gradient_descent_on_quadratic_contracts_by_one_minus_inverse_kappa():
    kappa = 20.0
    problem = IllConditionedQuadratic(kappa)
    x = np.array([1.0, 1.0])
    for _ in range(30):
        x = x - problem.grad(x) / kappa
    # diagonal A = diag(1, kappa): the flat coordinate shrinks by (1 - 1/kappa) per step
    assert x[0] == pytest.approx((1 - 1 / kappa) ** 30, rel=1e-12)
    assert x[1] == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize(
    ("cls", "kwargs", "name"),
    [
        (IllConditionedQuadratic, {"condition_number": 0.5}, "condition_number"),
        (IllConditionedQuadratic, {"dim": 0}, "dim"),
        (Rosenbrock, {"b": -1.0}, "b"),
    ],
)
def test_problems_reject_bad_parameters(cls, kwargs, name):
    with pytest.raises(ValueError, match=f"Invalid {name}"):
        cls(**kwargs)


def test_surfaces_reject_points_of_wrong_dimension():
    with pytest.raises(ValueError, match="Invalid point"):
        Rosenbrock().value([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="Invalid point"):
        IllConditionedQuadratic(dim=3).grad([1.0, 2.0])


# ---------------------------------------------------------------- Reddi et al. (2018)


def test_reddi_losses_and_gradients():
    C = 3.0
    assert [float(reddi_gradient(t, 0.3, C)) for t in range(1, 7)] == [C, -1, -1, C, -1, -1]
    assert [float(reddi_loss(t, 0.5, C)) for t in range(1, 4)] == [1.5, -0.5, -0.5]
    block = sum(float(reddi_loss(t, x, C)) for t in (1, 2, 3) for x in [np.array(-1.0)])
    assert block == -(C - 2)
    with pytest.raises(ValueError, match="Invalid C"):
        reddi_gradient(1, 0.0, C=2.0)


def test_run_online_projects_and_computes_regret_by_hand():
    run = run_online(lambda x, g, t: x, num_steps=6, x0=1.0, C=3.0)
    np.testing.assert_array_equal(run["x"], np.ones(7))
    # x = 1: losses 3, -1, -1, ...; best fixed point after t rounds is x = -sign(sum of grads)
    losses = np.cumsum([3.0, -1.0, -1.0, 3.0, -1.0, -1.0])
    grad_sums = np.cumsum([3.0, -1.0, -1.0, 3.0, -1.0, -1.0])
    expected = (losses + np.abs(grad_sums)) / np.arange(1, 7)
    np.testing.assert_allclose(run["average_regret"], expected)

    escaping = run_online(lambda x, g, t: x - 10.0 * g, num_steps=3, x0=0.0, C=3.0)
    np.testing.assert_array_equal(escaping["x"], [0.0, -1.0, 1.0, 1.0])


def test_run_online_rejects_bad_input():
    with pytest.raises(ValueError, match="Invalid x0"):
        run_online(lambda x, g, t: x, num_steps=3, x0=2.0)
    with pytest.raises(ValueError, match="Invalid num_steps"):
        run_online(lambda x, g, t: x, num_steps=-1)
    with pytest.raises(ValueError, match="Invalid bounds"):
        run_online(lambda x, g, t: x, num_steps=1, bounds=(1.0, -1.0))


def reddi_adam(amsgrad, adam_class=torch.optim.Adam):
    C = 3.0
    beta2 = 1.0 / (1.0 + C**2)
    # Theorem 1 of Reddi et al.: beta1 = 0, beta2 = 1/(1 + C^2), alpha_t = alpha / sqrt(t)
    # with alpha < sqrt(1 - beta2)
    rule = optimizer_update_rule(
        lambda params: adam_class(params, lr=0.5, betas=(0.0, beta2), amsgrad=amsgrad),
        lr_decay_sqrt=True,
    )
    return run_online(rule, num_steps=600, x0=0.0, C=C)


@pytest.mark.parametrize("adam_class", [torch.optim.Adam, course_optim.Adam], ids=["torch", "ours"])
def test_adam_fails_and_amsgrad_converges_on_reddi_problem(adam_class):
    adam = reddi_adam(amsgrad=False, adam_class=adam_class)
    amsgrad = reddi_adam(amsgrad=True, adam_class=adam_class)
    assert adam["x"][-1] > 0.9
    assert np.all(adam["x"][-300:] > 0.5)
    assert abs(amsgrad["x"][-1] + 1.0) < 0.05
    assert np.all(amsgrad["x"][-300:] < -0.9)
    # x stuck at +1 has average regret 2(C - 2)/3 per round; AMSGrad's goes to 0
    assert adam["average_regret"][-1] > 0.5
    assert amsgrad["average_regret"][-1] < 0.1


def numpy_amsgrad_rule(lr, beta2, eps=1e-8):
    """Independent AMSGrad with beta1 = 0: x <- x - lr_t g / (sqrt(max_s v_s) + eps)."""
    state = {"v": 0.0, "v_max": 0.0}

    def update(x, g, t):
        state["v"] = beta2 * state["v"] + (1 - beta2) * float(g) ** 2
        state["v_max"] = max(state["v_max"], state["v"])
        return x - lr / math.sqrt(t) * g / (math.sqrt(state["v_max"]) + eps)

    return update


def test_torch_wrapper_matches_plain_numpy_amsgrad_when_bias_correction_is_moot():
    # With beta1 = 0 the first moment needs no bias correction; torch's bias correction of
    # the second moment divides sqrt(v_max) by sqrt(1 - beta2^t), a factor that is 1 up to
    # 1e-12 once t >= 12 for beta2 = 0.1; each visit to the bound -1 then resynchronises
    # the iterates, so late iterates agree to rounding.
    C, beta2 = 3.0, 0.1
    torch_run = reddi_adam(amsgrad=True)
    numpy_run = run_online(numpy_amsgrad_rule(0.5, beta2), num_steps=600, x0=0.0, C=C)
    assert np.all(numpy_run["x"][-300:] < -0.9)
    np.testing.assert_allclose(torch_run["x"][-100:], numpy_run["x"][-100:], atol=1e-9)


# ---------------------------------------------------------------- sparse features


def run_torch(optimizer_class, problem, lr, steps):
    param = torch.zeros(problem.X.shape[1], dtype=torch.float64)
    param.grad = torch.zeros_like(param)
    optimizer = optimizer_class([param], lr=lr)
    for _ in range(steps):
        param.grad.copy_(torch.from_numpy(problem.grad(param.numpy())))
        optimizer.step()
    return problem.value(param.numpy())


def test_sparse_problem_features():
    problem = make_sparse_regression(n=2000, num_dense=3, num_rare=20, rare_prob=0.03, seed=1)
    freq = problem.feature_frequency
    np.testing.assert_array_equal(freq[:3], 1.0)
    assert np.all(np.abs(freq[3:] - 0.03) < 0.02)
    np.testing.assert_allclose(problem.X @ problem.w_true, problem.y)
    assert problem.value(problem.w_true) == 0.0
    np.testing.assert_allclose(problem.grad(problem.w_true), 0.0, atol=1e-15)


def test_adagrad_beats_sgd_on_sparse_features():
    problem = make_sparse_regression(seed=0)
    budget = 200
    sgd = min(run_torch(torch.optim.SGD, problem, lr, budget) for lr in (0.1, 0.3, 1.0, 1.5))
    adagrad = min(
        run_torch(torch.optim.Adagrad, problem, lr, budget) for lr in (0.1, 0.3, 1.0, 3.0)
    )
    initial = problem.value(np.zeros(problem.X.shape[1]))
    assert sgd < initial
    assert adagrad < 0.01 * sgd


def test_adagrad_effective_lr_is_the_step_torch_takes_and_favours_rare_features():
    problem = make_sparse_regression(seed=2)
    lr = 0.5
    param = torch.zeros(problem.X.shape[1], dtype=torch.float64)
    param.grad = torch.zeros_like(param)
    optimizer = torch.optim.Adagrad([param], lr=lr)
    for _ in range(20):
        before = param.clone().numpy()
        grad = problem.grad(before)
        param.grad.copy_(torch.from_numpy(grad))
        optimizer.step()
    accumulated = optimizer.state[param]["sum"].numpy()
    effective = adagrad_effective_lr(accumulated, lr)
    np.testing.assert_allclose(before - param.numpy(), effective * grad, rtol=1e-12, atol=1e-15)
    dense, rare = effective[: problem.num_dense], effective[problem.num_dense :]
    assert rare.min() > 2.0 * dense.max()
    with pytest.raises(ValueError, match="Invalid learning rate"):
        adagrad_effective_lr(accumulated, -1.0)


# ---------------------------------------------------------------- data generators


def test_make_linear_regression():
    X, y, w = make_linear_regression(500, 4, noise=0.1, seed=3)
    assert X.shape == (500, 4) and y.shape == (500,) and w.shape == (4,)
    residual = y - X @ w
    assert np.std(residual) == pytest.approx(0.1, rel=0.15)
    np.testing.assert_allclose(np.linalg.lstsq(X, y, rcond=None)[0], w, atol=0.03)
    again = make_linear_regression(500, 4, noise=0.1, seed=3)
    np.testing.assert_array_equal(again[0], X)
    assert not np.array_equal(make_linear_regression(500, 4, seed=4)[0], X)
    exact = make_linear_regression(10, 2, noise=0.0, seed=0)
    np.testing.assert_array_equal(exact[0] @ exact[2], exact[1])


def test_make_logistic_regression():
    X, y, w = make_logistic_regression(4000, 3, seed=5)
    assert X.shape == (4000, 3) and y.shape == (4000,) and w.shape == (3,)
    assert set(np.unique(y)) <= {0.0, 1.0}
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    standard_error = math.sqrt(np.sum(p * (1 - p))) / len(y)
    assert abs(y.mean() - p.mean()) < 4 * standard_error
    agree = np.mean((X @ w > 0) == (y == 1))
    assert agree == pytest.approx(np.mean(np.maximum(p, 1 - p)), abs=0.03)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: make_linear_regression(0, 3), "n"),
        (lambda: make_linear_regression(5, 0), "d"),
        (lambda: make_linear_regression(5, 2, noise=-1.0), "noise"),
        (lambda: make_logistic_regression(5, 2.5), "d"),
        (lambda: make_sparse_regression(rare_prob=0.0), "rare_prob"),
    ],
)
def test_generators_reject_bad_input(call, name):
    with pytest.raises(ValueError, match=f"Invalid {name}"):
        call()
