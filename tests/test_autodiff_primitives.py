"""Every primitive in forward and reverse mode against torch.autograd (float64) and
central differences of the float evaluation."""

import math

import pytest
import torch

from course_utils.autodiff import Dual, Var, cos, exp, log, relu, sigmoid, sin, tanh

# name: (function on our numbers, same function on torch tensors, input points)
UNARY = {
    "sin": (sin, torch.sin, [-2.1, 0.3, 1.7]),
    "cos": (cos, torch.cos, [-2.1, 0.3, 1.7]),
    "exp": (exp, torch.exp, [-3.0, 0.2, 2.5]),
    "log": (log, torch.log, [0.05, 1.0, 7.3]),
    "tanh": (tanh, torch.tanh, [-4.0, -0.4, 0.9]),
    "sigmoid": (sigmoid, torch.sigmoid, [-30.0, -1.2, 0.0, 2.2, 30.0]),
    "relu": (relu, torch.relu, [-1.3, 0.8]),
    "neg": (lambda u: -u, lambda u: -u, [-1.5, 2.0]),
    "pow_int": (lambda u: u**3, lambda u: u**3, [-1.4, 0.6]),
    "pow_half": (lambda u: u**0.5, lambda u: u**0.5, [0.3, 4.0]),
    "pow_negative": (lambda u: u**-1.5, lambda u: u**-1.5, [0.3, 4.0]),
    "pow_zero": (lambda u: u**0, lambda u: u**0, [-0.7, 1.1]),
    "number_pow": (lambda u: 2.5**u, lambda u: 2.5**u, [-1.0, 1.3]),
    "add_number": (lambda u: u + 2.5, lambda u: u + 2.5, [0.4]),
    "number_add": (lambda u: 2.5 + u, lambda u: 2.5 + u, [0.4]),
    "sub_number": (lambda u: u - 2.5, lambda u: u - 2.5, [0.4]),
    "number_sub": (lambda u: 2.5 - u, lambda u: 2.5 - u, [0.4]),
    "mul_number": (lambda u: u * -1.5, lambda u: u * -1.5, [0.4]),
    "number_mul": (lambda u: -1.5 * u, lambda u: -1.5 * u, [0.4]),
    "div_number": (lambda u: u / 2.5, lambda u: u / 2.5, [0.4]),
    "number_div": (lambda u: 2.5 / u, lambda u: 2.5 / u, [-0.7, 0.4]),
}

BINARY = {
    "add": (lambda a, b: a + b, [(0.3, -1.2)]),
    "sub": (lambda a, b: a - b, [(0.3, -1.2)]),
    "mul": (lambda a, b: a * b, [(0.3, -1.2), (2.0, 2.0)]),
    "div": (lambda a, b: a / b, [(0.3, -1.2), (-2.0, 0.5)]),
    "pow": (lambda a, b: a**b, [(0.3, -1.2), (2.0, 1.5)]),
}

CASES = [(name, fn, tfn, (x,)) for name, (fn, tfn, xs) in UNARY.items() for x in xs] + [
    (name, fn, fn, point) for name, (fn, points) in BINARY.items() for point in points
]
IDS = [f"{name}-{point}" for name, _, _, point in CASES]


def torch_value_and_grad(tfn, point):
    inputs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in point]
    out = tfn(*inputs)
    out.backward()
    return out.item(), [t.grad.item() for t in inputs]


def central_differences(fn, point, eps=1e-6):
    grads = []
    for i in range(len(point)):
        plus = list(point)
        minus = list(point)
        plus[i] += eps
        minus[i] -= eps
        grads.append((fn(*plus) - fn(*minus)) / (2 * eps))
    return grads


def forward_value_and_grad(fn, point):
    grads = []
    for i in range(len(point)):
        out = fn(*[Dual(v, 1.0 if k == i else 0.0) for k, v in enumerate(point)])
        grads.append(out.tangent)
    return out.value, grads


def reverse_value_and_grad(fn, point):
    inputs = [Var(v) for v in point]
    out = fn(*inputs)
    out.backward()
    return out.value, [v.grad for v in inputs]


@pytest.mark.parametrize(("name", "fn", "tfn", "point"), CASES, ids=IDS)
def test_forward_mode_matches_torch_and_central_differences(name, fn, tfn, point):
    value, grads = forward_value_and_grad(fn, point)
    torch_value, torch_grads = torch_value_and_grad(tfn, point)
    assert value == pytest.approx(torch_value, rel=1e-12, abs=0.0)
    assert grads == pytest.approx(torch_grads, rel=1e-10, abs=0.0)
    assert grads == pytest.approx(central_differences(fn, point), rel=1e-6, abs=1e-8)


@pytest.mark.parametrize(("name", "fn", "tfn", "point"), CASES, ids=IDS)
def test_reverse_mode_matches_torch_and_central_differences(name, fn, tfn, point):
    value, grads = reverse_value_and_grad(fn, point)
    torch_value, torch_grads = torch_value_and_grad(tfn, point)
    assert value == pytest.approx(torch_value, rel=1e-12, abs=0.0)
    assert grads == pytest.approx(torch_grads, rel=1e-10, abs=0.0)
    assert grads == pytest.approx(central_differences(fn, point), rel=1e-6, abs=1e-8)


@pytest.mark.parametrize(
    ("fn", "math_fn", "x"),
    [
        (sin, math.sin, 0.8),
        (cos, math.cos, 0.8),
        (exp, math.exp, 0.8),
        (log, math.log, 0.8),
        (tanh, math.tanh, 0.8),
        (sigmoid, lambda v: 1 / (1 + math.exp(-v)), -0.8),
        (relu, lambda v: max(v, 0.0), -0.8),
        (relu, lambda v: max(v, 0.0), 0.8),
    ],
)
def test_functions_accept_plain_floats(fn, math_fn, x):
    assert fn(x) == pytest.approx(math_fn(x), rel=1e-15)
    assert isinstance(fn(x), float)


def test_sigmoid_of_plain_float_does_not_overflow():
    assert sigmoid(-1000.0) == 0.0
    assert sigmoid(1000.0) == 1.0
    assert sigmoid(-745.0) == pytest.approx(math.exp(-745.0))


def test_relu_derivative_at_zero_is_zero_like_torch():
    _, (torch_grad,) = torch_value_and_grad(torch.relu, (0.0,))
    x = Var(0.0)
    relu(x).backward()
    assert relu(Dual(0.0, 1.0)).tangent == x.grad == torch_grad == 0.0
