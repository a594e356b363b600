"""The LR range test on linear least squares, where the stable step bound 2/L is known.

The design matrix X (n x 4) has X^T X / n = diag(s), so the mean squared error has the
Hessian H = 2 diag(s) for every batch, L = 2 max(s) = 1 and plain gradient descent is
stable exactly for lr < 2 / L = 2. Each batch has fresh noise in y, so the noise keeps
every direction excited and the loss blows up soon after the rate passes 2.
"""

import math

import numpy as np
import pytest
import torch

import course_utils.schedules as cs

S = (0.5, 0.15, 0.05, 0.015)
STABLE_BOUND = 2.0 / (2.0 * max(S))
N = 64


def problem(seed, num_batches=100, sigma=0.3):
    g = torch.Generator().manual_seed(seed)
    Q, _ = torch.linalg.qr(torch.randn(N, len(S), generator=g, dtype=torch.float64))
    X = math.sqrt(N) * Q * torch.tensor(S, dtype=torch.float64).sqrt()
    w_true = 3.0 * torch.randn(len(S), 1, generator=g, dtype=torch.float64)
    batches = [
        (X, X @ w_true + sigma * torch.randn(N, 1, generator=g, dtype=torch.float64))
        for _ in range(num_batches)
    ]
    model = torch.nn.Linear(len(S), 1, bias=False, dtype=torch.float64)
    with torch.no_grad():
        model.weight.copy_(0.1 * torch.randn(1, len(S), generator=g, dtype=torch.float64))
    return model, batches


class PlainSGD(torch.optim.Optimizer):
    """A bare subclass of torch.optim.Optimizer, as the course's own optimizers are."""

    def __init__(self, params, lr=0.01):
        super().__init__(params, {"lr": lr})

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.add_(p.grad, alpha=-group["lr"])


def gradient_descent_by_hand(w0, batches, lrs):
    """Losses of plain gradient descent on the MSE, in numpy: the oracle for raw_losses."""
    w, losses = w0.copy(), []
    for (X, y), lr in zip(batches, lrs, strict=False):
        X, y = X.numpy(), y.numpy()[:, 0]
        residual = X @ w - y
        losses.append(np.mean(residual**2))
        w = w - lr * 2.0 * X.T @ residual / len(y)
    return np.array(losses)


def smoothed_by_hand(raw, smooth):
    average, out = 0.0, []
    for i, loss in enumerate(raw):
        average = (1 - smooth) * average + smooth * loss
        out.append(average / (1 - (1 - smooth) ** (i + 1)))
    return np.array(out)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("kind", ["sgd", "plain"])
def test_sweep_records_stops_and_suggests_a_stable_rate(seed, kind):
    model, batches = problem(seed)
    optimizer = (torch.optim.SGD if kind == "sgd" else PlainSGD)(model.parameters(), lr=0.5)
    w0 = model.weight.detach().numpy()[0].copy()
    result = cs.lr_range_test(model, torch.nn.MSELoss(), batches, optimizer)

    count = len(result.lrs)
    ratio = 1e8 ** (1 / 99)
    np.testing.assert_allclose(result.lrs, 1e-7 * ratio ** np.arange(count), rtol=1e-12)
    np.testing.assert_allclose(
        result.raw_losses, gradient_descent_by_hand(w0, batches, result.lrs), rtol=1e-9
    )
    np.testing.assert_allclose(result.losses, smoothed_by_hand(result.raw_losses, 0.05), rtol=1e-12)

    assert result.diverged and count < 100
    assert result.lrs[-1] > STABLE_BOUND
    assert result.losses[-1] > 4 * result.losses[:-1].min()
    assert np.all(result.losses[:-1] <= 4 * np.minimum.accumulate(result.losses[:-1]))
    assert 1e-3 <= result.suggested_lr <= STABLE_BOUND
    assert np.isin(result.suggested_lr, result.lrs)


def test_suggestions_follow_their_definitions():
    model, batches = problem(0)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    steepest = cs.lr_range_test(model, torch.nn.MSELoss(), batches, optimizer)
    lrs, losses = steepest.lrs[10:-5], steepest.losses[10:-5]
    slopes = [
        (losses[i + 1] - losses[i - 1]) / math.log(lrs[i + 1] / lrs[i - 1])
        for i in range(1, len(lrs) - 1)
    ]
    assert steepest.suggested_lr == lrs[1 + int(np.argmin(slopes))]
    tenth = cs.lr_range_test(model, torch.nn.MSELoss(), batches, optimizer, suggestion="min/10")
    assert tenth.suggested_lr == pytest.approx(lrs[int(np.argmin(losses))] / 10, rel=1e-12)


def test_full_sweep_without_divergence_ends_at_end_lr():
    model, batches = problem(1)
    result = cs.lr_range_test(
        model,
        torch.nn.MSELoss(),
        batches,
        lambda params: torch.optim.SGD(params, lr=0.0),
        start_lr=1e-4,
        end_lr=1e-2,
        num_iters=30,
    )
    assert not result.diverged and len(result.lrs) == 30
    assert result.lrs[0] == 1e-4 and result.lrs[-1] == pytest.approx(1e-2, rel=1e-12)


def test_model_and_optimizer_are_restored():
    model, batches = problem(2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = torch.nn.MSELoss()
    for X, y in batches[:3]:
        optimizer.zero_grad()
        loss_fn(model(X), y).backward()
        optimizer.step()
    model.eval()
    weight = model.weight.detach().clone()
    grad = model.weight.grad.clone()
    buffer = optimizer.state[model.weight]["momentum_buffer"].clone()

    cs.lr_range_test(model, loss_fn, batches, optimizer)

    assert torch.equal(model.weight, weight)
    assert torch.equal(model.weight.grad, grad)
    assert not model.training
    assert optimizer.param_groups[0]["lr"] == 0.05
    assert torch.equal(optimizer.state[model.weight]["momentum_buffer"], buffer)


def test_restored_also_when_the_loss_raises():
    model, batches = problem(3)
    weight = model.weight.detach().clone()
    calls = []

    def failing_loss(prediction, y):
        calls.append(1)
        if len(calls) == 5:
            raise RuntimeError("boom")
        return torch.nn.functional.mse_loss(prediction, y)

    with pytest.raises(RuntimeError, match="boom"):
        cs.lr_range_test(
            model,
            failing_loss,
            batches,
            lambda p: torch.optim.SGD(p, lr=0.1),
            start_lr=1e-2,
            end_lr=1.0,
        )
    assert torch.equal(model.weight, weight)


def test_a_one_shot_iterator_ends_the_sweep_and_a_list_is_reused():
    model, batches = problem(4, num_batches=7)
    short = cs.lr_range_test(
        model,
        torch.nn.MSELoss(),
        iter(batches),
        lambda p: torch.optim.SGD(p, lr=0.1),
        end_lr=1e-3,
        num_iters=20,
    )
    assert len(short.lrs) == 7
    reused = cs.lr_range_test(
        model,
        torch.nn.MSELoss(),
        batches,
        lambda p: torch.optim.SGD(p, lr=0.1),
        end_lr=1e-3,
        num_iters=20,
    )
    assert len(reused.lrs) == 20


@pytest.mark.parametrize(
    ("kwargs", "name", "value"),
    [
        ({"start_lr": 0.0}, "start_lr", "0.0"),
        ({"start_lr": 1.0, "end_lr": 0.5}, "end_lr", "0.5"),
        ({"num_iters": 1}, "num_iters", "1"),
        ({"num_iters": 10.5}, "num_iters", "10.5"),
        ({"smooth": 0.0}, "smooth", "0.0"),
        ({"smooth": 1.5}, "smooth", "1.5"),
        ({"diverge_threshold": 1.0}, "diverge_threshold", "1.0"),
        ({"suggestion": "valley"}, "suggestion", "valley"),
        ({"skip_start": -1}, "skip_start", "-1"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(kwargs, name, value):
    model, batches = problem(0, num_batches=2)
    with pytest.raises(ValueError, match=f"Invalid {name}: ") as info:
        cs.lr_range_test(
            model, torch.nn.MSELoss(), batches, lambda p: torch.optim.SGD(p, lr=0.1), **kwargs
        )
    assert value in str(info.value)
