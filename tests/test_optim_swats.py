"""SWATS (Keskar & Socher 2017): projected SGD learning rate worked by hand, the switch,
and both phases against torch.optim (Adam before the switch, SGD with momentum after)."""

import io

import numpy as np
import pytest
import torch

from course_utils.optim import SWATS

BETA1, BETA2 = 0.9, 0.999


def quadratic_grad_step(optimizer, x, a):
    optimizer.zero_grad()
    (0.5 * (a * x * x).sum()).backward()
    optimizer.step()


def test_projected_learning_rate_of_the_first_two_steps_by_hand():
    lr = 0.01
    a = np.array([1.0, 2.0, 0.5])
    x0 = np.array([1.0, -2.0, 4.0])
    x = torch.tensor(x0, requires_grad=True)
    optimizer = SWATS([x], lr=lr, eps=0.0)
    a_t = torch.tensor(a)

    # Step 1: bias corrections cancel, so p1 = -lr * sign(g1) and
    # gamma1 = |p1|^2 / (-p1.g1) = 3 lr^2 / (lr * sum|g1|) = 3 lr / 7 for g1 = (1, -4, 2).
    quadratic_grad_step(optimizer, x, a_t)
    group = optimizer.param_groups[0]
    g1 = a * x0
    assert group["gamma"] == pytest.approx(3 * lr / 7, rel=1e-12)
    assert group["lambda_avg"] == pytest.approx((1 - BETA2) * 3 * lr / 7, rel=1e-12)
    assert not group["switched"], "no switch at k = 1 although Lambda_1 equals gamma_1"
    x1 = x0 - lr * np.sign(g1)
    np.testing.assert_allclose(x.detach().numpy(), x1, rtol=1e-12)

    # Step 2 from the formulas of the paper's algorithm 1 (eps = 0).
    quadratic_grad_step(optimizer, x, a_t)
    g2 = a * x1
    m2 = BETA1 * (1 - BETA1) * g1 + (1 - BETA1) * g2
    v2 = BETA2 * (1 - BETA2) * g1**2 + (1 - BETA2) * g2**2
    p2 = -lr * np.sqrt(1 - BETA2**2) / (1 - BETA1**2) * m2 / np.sqrt(v2)
    gamma2 = (p2 @ p2) / -(p2 @ g2)
    lambda2 = BETA2 * (1 - BETA2) * 3 * lr / 7 + (1 - BETA2) * gamma2
    np.testing.assert_allclose(x.detach().numpy(), x1 + p2, rtol=1e-12)
    assert group["gamma"] == pytest.approx(gamma2, rel=1e-10)
    assert group["lambda_avg"] == pytest.approx(lambda2, rel=1e-10)
    assert abs(lambda2 / (1 - BETA2**2) - gamma2) > 1e-9
    assert not group["switched"]


def test_constant_gradient_switches_at_step_two_then_takes_sgd_steps():
    """For f = c.x the Adam step is constant, gamma_1 = gamma_2 = lr * n / sum|c|."""
    lr = 0.01
    c = torch.tensor([3.0, -1.0, 0.5, 2.0], dtype=torch.float64)
    x = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    optimizer = SWATS([x], lr=lr, eps=0.0)
    expected_lr = lr * 4 / c.abs().sum().item()
    for _ in range(2):
        optimizer.zero_grad()
        (c @ x).backward()
        optimizer.step()
    assert optimizer.switched == [True]
    assert optimizer.param_groups[0]["switch_step"] == 2
    assert optimizer.sgd_lrs[0] == pytest.approx(expected_lr, rel=1e-12)
    before = x.detach().clone()
    for k in range(1, 4):
        optimizer.zero_grad()
        (c @ x).backward()
        optimizer.step()
        # v_k = sum_{j<k} beta1^j c, theta -= (1 - beta1) Lambda v_k
        velocity = sum(BETA1**j for j in range(k)) * c
        before = before - (1 - BETA1) * expected_lr * velocity
        torch.testing.assert_close(x.detach(), before, rtol=1e-12, atol=1e-14)


def least_squares(seed=0):
    generator = torch.Generator().manual_seed(seed)
    A = torch.randn(40, 4, generator=generator, dtype=torch.float64)
    b = A @ (10 * torch.randn(4, generator=generator, dtype=torch.float64))
    return A, b


def loss_step(optimizer, x, A, b):
    optimizer.zero_grad()
    loss = 0.5 * ((A @ x - b) ** 2).mean()
    loss.backward()
    optimizer.step()
    return loss.item()


def test_switches_on_least_squares_and_each_phase_matches_torch():
    A, b = least_squares()
    x = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    adam_x = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    optimizer = SWATS([x], lr=1e-3)
    adam = torch.optim.Adam([adam_x], lr=1e-3)
    group = optimizer.param_groups[0]
    for _ in range(300):
        loss_step(optimizer, x, A, b)
        if group["switched"]:
            break
        loss_step(adam, adam_x, A, b)
        torch.testing.assert_close(x, adam_x, rtol=1e-10, atol=1e-12)
    assert group["switched"]
    assert 2 < group["switch_step"] < 300
    assert group["sgd_lr"] > 0
    assert group["sgd_lr"] == pytest.approx(
        group["lambda_avg"] / (1 - BETA2 ** group["switch_step"])
    )
    assert abs(group["sgd_lr"] - group["gamma"]) < 1e-9
    # Adam's last step still ran at the switch step; it must equal torch's Adam step.
    loss_step(adam, adam_x, A, b)
    torch.testing.assert_close(x, adam_x, rtol=1e-10, atol=1e-12)

    sgd_x = x.detach().clone().requires_grad_()
    sgd = torch.optim.SGD([sgd_x], lr=(1 - BETA1) * group["sgd_lr"], momentum=BETA1)
    losses = []
    for _ in range(100):
        losses.append(loss_step(optimizer, x, A, b))
        loss_step(sgd, sgd_x, A, b)
        torch.testing.assert_close(x, sgd_x, rtol=1e-10, atol=1e-12)
    assert losses[-1] < losses[0]


def test_state_dict_round_trip_and_lr_changes_after_the_switch():
    A, b = least_squares()
    x = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    twin = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    optimizer, reference = SWATS([x], lr=1e-3), SWATS([twin], lr=1e-3)
    while not optimizer.switched[0]:
        loss_step(optimizer, x, A, b)
        loss_step(reference, twin, A, b)
    buffer = io.BytesIO()
    torch.save(optimizer.state_dict(), buffer)
    buffer.seek(0)
    optimizer = SWATS([x], lr=1e-3)
    optimizer.load_state_dict(torch.load(buffer, weights_only=True))
    assert optimizer.switched == [True]
    for opt in (optimizer, reference):
        opt.param_groups[0]["lr"] = 5e-4  # a scheduler halving lr halves the SGD rate
    for _ in range(5):
        loss_step(optimizer, x, A, b)
        loss_step(reference, twin, A, b)
    torch.testing.assert_close(x, twin, rtol=0, atol=0)
    sgd_x = twin.detach().clone().requires_grad_()
    sgd = torch.optim.SGD(
        [sgd_x], lr=(1 - BETA1) * reference.sgd_lrs[0] / 2, momentum=BETA1, dampening=0
    )
    sgd.state[sgd_x]["momentum_buffer"] = reference.state[twin]["momentum_buffer"].clone()
    loss_step(reference, twin, A, b)
    loss_step(sgd, sgd_x, A, b)
    torch.testing.assert_close(twin, sgd_x, rtol=1e-12, atol=1e-14)


def test_groups_switch_independently():
    c = torch.tensor([1.0, -2.0], dtype=torch.float64)
    linear = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    quadratic = torch.ones(2, dtype=torch.float64, requires_grad=True)
    optimizer = SWATS([{"params": [linear]}, {"params": [quadratic], "lr": 0.1}], lr=0.01)
    for _ in range(3):
        optimizer.zero_grad()
        (c @ linear + (quadratic**2).sum()).backward()
        optimizer.step()
    assert optimizer.switched == [True, False]
    assert optimizer.sgd_lrs[1] is None
