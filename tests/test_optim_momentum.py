"""The three momentum conventions: equal under a constant learning rate, and how they
part when the learning rate changes. Gradients come from a fixed quadratic, so that
each trajectory depends on its own iterates."""

import numpy as np
import pytest
import torch

from course_utils.optim.momentum import momentum_ema, momentum_goodfellow, momentum_pytorch

BETA = 0.9
A = np.diag([1.0, 4.0, 0.25])
TARGET = np.array([1.0, -2.0, 3.0])


def grad(theta):
    return A @ (theta - TARGET)


def run(step, lrs, coefficient, theta0):
    """Iterates and velocities of one form, with learning rate ``lrs[k]`` at step k."""
    theta, velocity = theta0.copy(), np.zeros_like(theta0)
    thetas, velocities = [], []
    for lr in lrs:
        key = "alpha" if step is momentum_goodfellow else "beta"
        theta, velocity = step(theta, velocity, grad(theta), lr=lr, **{key: coefficient})
        thetas.append(theta)
        velocities.append(velocity)
    return np.array(thetas), np.array(velocities)


THETA0 = np.array([0.5, 0.5, -1.0])


def test_pytorch_form_is_torch_sgd_with_momentum():
    lrs = [0.05] * 40
    thetas, _ = run(momentum_pytorch, lrs, BETA, THETA0)
    p = torch.tensor(THETA0, requires_grad=True)
    optimizer = torch.optim.SGD([p], lr=0.05, momentum=BETA)
    for k in range(len(lrs)):
        optimizer.zero_grad()
        (0.5 * (p - torch.tensor(TARGET)) @ torch.tensor(A) @ (p - torch.tensor(TARGET))).backward()
        optimizer.step()
        np.testing.assert_allclose(thetas[k], p.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_all_three_forms_agree_under_a_constant_learning_rate():
    eta = 0.05
    lrs = [eta] * 60
    theta_a, v_a = run(momentum_pytorch, lrs, BETA, THETA0)
    theta_b, v_b = run(momentum_goodfellow, lrs, BETA, THETA0)
    theta_c, v_c = run(momentum_ema, [eta / (1 - BETA)] * 60, BETA, THETA0)
    np.testing.assert_allclose(theta_b, theta_a, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(theta_c, theta_a, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(v_b, -eta * v_a, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(v_c, (1 - BETA) * v_a, rtol=1e-12, atol=1e-14)


CHANGE = 20


@pytest.mark.parametrize("factor", [0.1, 3.0])
def test_goodfellow_form_carries_the_old_learning_rate_after_a_change(factor):
    eta, new_eta = 0.05, 0.05 * factor
    lrs = [eta] * CHANGE + [new_eta] * 20
    theta_a, v_a = run(momentum_pytorch, lrs, BETA, THETA0)
    theta_b, _ = run(momentum_goodfellow, lrs, BETA, THETA0)
    np.testing.assert_allclose(theta_b[:CHANGE], theta_a[:CHANGE], rtol=1e-12, atol=1e-14)
    # First step after the change, by hand: (a) moves by -eta' (beta v + g), (b) by
    # beta v_b - eta' g = -(beta eta v + eta' g); they differ by (eta - eta') beta v.
    expected_gap = (eta - new_eta) * BETA * v_a[CHANGE - 1]
    np.testing.assert_allclose(theta_a[CHANGE] - theta_b[CHANGE], expected_gap, rtol=1e-10)
    assert np.abs(theta_a[CHANGE:] - theta_b[CHANGE:]).max() > 1e-4


def test_ema_form_still_matches_with_a_rescaled_schedule():
    lrs = [0.05] * CHANGE + [0.005] * 20
    theta_a, _ = run(momentum_pytorch, lrs, BETA, THETA0)
    theta_c, _ = run(momentum_ema, [lr / (1 - BETA) for lr in lrs], BETA, THETA0)
    np.testing.assert_allclose(theta_c, theta_a, rtol=1e-12, atol=1e-14)
    theta_c_unscaled, _ = run(momentum_ema, lrs, BETA, THETA0)
    assert np.abs(theta_c_unscaled - theta_a).max() > 1e-3


def test_forms_accept_torch_tensors():
    theta, velocity, g = torch.ones(2), torch.zeros(2), torch.tensor([1.0, -1.0])
    new_theta, new_velocity = momentum_goodfellow(theta, velocity, g, lr=0.1, alpha=0.9)
    torch.testing.assert_close(new_velocity, torch.tensor([-0.1, 0.1]))
    torch.testing.assert_close(new_theta, torch.tensor([0.9, 1.1]))
