"""Tensor reverse mode against torch.autograd in float64, and the MLP built on it."""

import time

import numpy as np
import pytest
import torch

from course_utils.autodiff import (
    MLP,
    Tensor,
    exp,
    log,
    relu,
    sigmoid,
    sin,
    softmax_cross_entropy,
    tanh,
    train_mlp,
    unbroadcast,
)

RTOL = 1e-10


def check_against_torch(fn, torch_fn, arrays, seed_grad=True):
    """Run fn on Tensors and torch_fn on float64 torch tensors; compare value and grads.

    With ``seed_grad`` the output is back-propagated with a random seed gradient W (the
    gradient of sum(W * out)); otherwise the output must have one element.
    """
    ours = [Tensor(a) for a in arrays]
    theirs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out = fn(*ours)
    expected = torch_fn(*theirs)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=RTOL, atol=1e-13)
    if seed_grad:
        weights = np.random.default_rng(1).normal(size=out.shape)
        out.backward(weights)
        expected.backward(torch.tensor(weights))
    else:
        out.backward()
        expected.backward()
    for tensor, reference in zip(ours, theirs, strict=True):
        assert tensor.grad.shape == tensor.shape
        np.testing.assert_allclose(tensor.grad, reference.grad.numpy(), rtol=RTOL, atol=1e-13)


def random_array(shape, seed, low=-2.0, high=2.0):
    return np.random.default_rng(seed).uniform(low, high, size=shape)


SHAPE_PAIRS = [
    ((3, 4), (3, 4)),
    ((3, 4), (4,)),
    ((3, 4), (1, 4)),
    ((3, 4), (3, 1)),
    ((3, 1), (1, 4)),
    ((2, 3, 4), (3, 1)),
    ((3, 4), ()),
    ((), (3, 4)),
]

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "shared": lambda a, b: a * b + a / b - b * b,
}


@pytest.mark.parametrize("shapes", SHAPE_PAIRS, ids=str)
@pytest.mark.parametrize("op", sorted(BINARY))
def test_broadcasting_binary_ops(op, shapes):
    a = random_array(shapes[0], 0)
    b = random_array(shapes[1], 1, low=0.5, high=2.0)
    check_against_torch(BINARY[op], BINARY[op], [a, b])


UNARY = {
    "exp": (exp, torch.exp, (-2.0, 2.0)),
    "log": (log, torch.log, (0.1, 3.0)),
    "tanh": (tanh, torch.tanh, (-3.0, 3.0)),
    "sigmoid": (sigmoid, torch.sigmoid, (-40.0, 40.0)),
    "relu": (relu, torch.relu, (-2.0, 2.0)),
    "sin": (sin, torch.sin, (-3.0, 3.0)),
    "neg": (lambda a: -a, lambda a: -a, (-2.0, 2.0)),
    "square": (lambda a: a**2, lambda a: a**2, (-2.0, 2.0)),
    "pow": (lambda a: a**-0.5, lambda a: a**-0.5, (0.1, 3.0)),
    "number_ops": (
        lambda a: 3.0 - 2.0 / a + 1.5 * a,
        lambda a: 3.0 - 2.0 / a + 1.5 * a,
        (0.5, 3.0),
    ),
}


@pytest.mark.parametrize("op", sorted(UNARY))
def test_elementwise_functions(op):
    fn, torch_fn, (low, high) = UNARY[op]
    check_against_torch(fn, torch_fn, [random_array((4, 5), 2, low, high)])


def test_sigmoid_is_stable_for_large_arguments():
    out = sigmoid(Tensor([-800.0, 800.0]))
    np.testing.assert_array_equal(out.data, [0.0, 1.0])


def test_matmul_and_transpose():
    a, b, c = random_array((3, 4), 3), random_array((4, 5), 4), random_array((5, 2), 5)
    check_against_torch(
        lambda x, y, z: (x @ y).T @ x @ y @ z, lambda x, y, z: (x @ y).T @ x @ y @ z, [a, b, c]
    )


def test_matmul_with_numpy_operands():
    a, b = random_array((3, 4), 3), random_array((4, 2), 4)
    at = torch.tensor(a)
    check_against_torch(lambda x: (a @ x).T @ a @ x, lambda x: (at @ x).T @ at @ x, [b])


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_reductions(reduction, axis, keepdims):
    def ours(x):
        return getattr(x * x, reduction)(axis=axis, keepdims=keepdims)

    def theirs(x):
        dim = None if axis is None else axis
        if reduction == "sum":
            return (x * x).sum(dim=dim, keepdim=keepdims)
        return (x * x).mean(dim=dim, keepdim=keepdims)

    check_against_torch(ours, theirs, [random_array((2, 3, 4), 6)])


def test_reshape_and_transpose_with_axes():
    def ours(x):
        return x.reshape(4, 6).transpose(1, 0).reshape((2, 12)) * x.transpose((2, 0, 1)).reshape(
            2, 12
        )

    def theirs(x):
        return x.reshape(4, 6).permute(1, 0).reshape(2, 12) * x.permute(2, 0, 1).reshape(2, 12)

    check_against_torch(ours, theirs, [random_array((2, 3, 4), 7)])


def test_unbroadcast_sums_stretched_axes():
    grad = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(unbroadcast(grad, (3, 1)), grad.sum(axis=(0, 2))[:, None])
    np.testing.assert_array_equal(unbroadcast(grad, ()), grad.sum())
    np.testing.assert_array_equal(unbroadcast(grad, (2, 3, 4)), grad)


@pytest.mark.parametrize("scale", [1.0, 50.0, 1000.0])
def test_softmax_cross_entropy(scale):
    logits = random_array((6, 4), 8) * scale
    labels = np.array([0, 3, 1, 1, 2, 3])
    check_against_torch(
        lambda z: softmax_cross_entropy(z, labels),
        lambda z: torch.nn.functional.cross_entropy(z, torch.tensor(labels)),
        [logits],
        seed_grad=False,
    )


def test_small_network_loss_gradients():
    rng = np.random.default_rng(9)
    X, labels = rng.normal(size=(8, 3)), rng.integers(0, 3, size=8)
    w1, b1, w2, b2 = (
        rng.normal(size=(3, 5)),
        rng.normal(size=5),
        rng.normal(size=(5, 3)),
        rng.normal(size=3),
    )

    def ours(w1, b1, w2, b2):
        hidden = tanh(X @ w1 + b1)
        logits = relu(hidden) @ w2 + sigmoid(hidden).mean(axis=1, keepdims=True) * b2
        return softmax_cross_entropy(logits, labels) + 0.01 * (w1 * w1).sum()

    def theirs(w1, b1, w2, b2):
        hidden = torch.tanh(torch.tensor(X) @ w1 + b1)
        logits = torch.relu(hidden) @ w2 + torch.sigmoid(hidden).mean(dim=1, keepdim=True) * b2
        loss = torch.nn.functional.cross_entropy(logits, torch.tensor(labels))
        return loss + 0.01 * (w1 * w1).sum()

    check_against_torch(ours, theirs, [w1, b1, w2, b2], seed_grad=False)


def test_backward_twice_gives_same_gradients():
    x = Tensor(random_array((3,), 10))
    loss = (x * x).sum()
    loss.backward()
    first = x.grad.copy()
    loss.backward()
    np.testing.assert_array_equal(x.grad, first)
    np.testing.assert_allclose(first, 2 * x.data, rtol=1e-15)


def test_backward_on_non_scalar_without_seed_is_value_error():
    out = Tensor(np.ones((2, 3))) * 2.0
    with pytest.raises(ValueError, match=r"\(2, 3\).*seed gradient"):
        out.backward()
    with pytest.raises(ValueError, match="shape"):
        out.backward(np.ones(3))


@pytest.mark.parametrize(
    "make",
    [
        lambda: log(Tensor([1.0, 0.0])),
        lambda: Tensor([1.0, 2.0]) @ Tensor([1.0, 2.0]),
        lambda: softmax_cross_entropy(Tensor(np.zeros((2, 3))), np.array([0, 3])),
        lambda: softmax_cross_entropy(Tensor(np.zeros((2, 3))), np.array([0.0, 1.0])),
        lambda: softmax_cross_entropy(Tensor(np.zeros((2, 3))), np.array([0, 1, 2])),
        lambda: softmax_cross_entropy(Tensor(np.zeros(3)), np.array([0])),
    ],
)
def test_invalid_input_raises_value_error(make):
    with pytest.raises(ValueError):
        make()


def xor_blobs(n, seed):
    """Four Gaussian blobs at (+-1, +-1); the label is 1 where the signs differ (XOR)."""
    rng = np.random.default_rng(seed)
    centers = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
    which = rng.integers(0, 4, size=n)
    X = centers[which] + 0.25 * rng.normal(size=(n, 2))
    return X, (which >= 2).astype(np.int64)


def test_train_mlp_fits_xor_blobs_quickly():
    X, y = xor_blobs(200, seed=0)
    start = time.perf_counter()
    model, losses = train_mlp(X, y, num_hidden=8, lr=0.5, num_epochs=300, seed=0)
    elapsed = time.perf_counter() - start
    assert isinstance(model, MLP)
    assert len(losses) == 300
    assert losses[-1] < 0.1 * losses[0]
    assert np.mean(model.predict(X) == y) >= 0.97
    X_test, y_test = xor_blobs(200, seed=1)
    assert np.mean(model.predict(X_test) == y_test) >= 0.95
    assert elapsed < 5.0


def test_train_mlp_with_zero_learning_rate_keeps_initial_loss():
    X, y = xor_blobs(40, seed=2)
    _, losses = train_mlp(X, y, lr=0.0, num_epochs=3)
    assert losses[0] == losses[1] == losses[2]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lr": -0.1}, "Invalid learning rate: -0.1"),
        ({"num_hidden": 0}, "num_hidden"),
        ({"num_epochs": -1}, "num_epochs"),
        ({"num_epochs": 2.5}, "num_epochs"),
    ],
)
def test_train_mlp_rejects_invalid_hyperparameters(kwargs, message):
    X, y = xor_blobs(10, seed=3)
    with pytest.raises(ValueError, match=message):
        train_mlp(X, y, **kwargs)
