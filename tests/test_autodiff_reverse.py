"""Reverse mode on scalars: the lecture example, accumulation over paths, long chains."""

import math
import sys

import pytest
import torch

from course_utils.autodiff import Dual, Tensor, Var, log, sin, topological_order


@pytest.mark.parametrize(("x", "y"), [(0.7, -1.3), (2.0, 3.0), (-1.1, 0.0)])
def test_lecture_example_by_hand(x, y):
    vx, vy = Var(x, name="x"), Var(y, name="y")
    a = vx * vy
    b = sin(vx)
    z = a + b
    z.backward()
    assert z.value == pytest.approx(x * y + math.sin(x), rel=1e-15)
    assert (z.grad, a.grad, b.grad) == (1.0, 1.0, 1.0)
    assert vx.grad == pytest.approx(y + math.cos(x), rel=1e-15)
    assert vy.grad == pytest.approx(x, rel=1e-15)


def test_square_accumulates_both_paths():
    x = Var(3.0)
    (x * x).backward()
    assert x.grad == 6.0


def test_node_used_many_times_accumulates_every_use():
    x = Var(1.5)
    a = x * 2.0
    z = a * a + a + sin(a) - a / x
    z.backward()
    # z = 4x^2 + 2x + sin(2x) - 2, so dz/dx = 8x + 2 + 2 cos(2x)
    assert x.grad == pytest.approx(8 * 1.5 + 2 + 2 * math.cos(3.0), rel=1e-14)


def test_backward_twice_gives_same_adjoints():
    x, y = Var(0.4), Var(2.0)
    z = x * y + sin(x)
    z.backward()
    first = (x.grad, y.grad)
    z.backward()
    assert (x.grad, y.grad) == first


def test_backward_from_intermediate_node():
    x, y = Var(0.4), Var(2.0)
    a = x * y
    z = a + sin(x)
    z.backward()
    a.backward()
    assert (x.grad, y.grad) == (2.0, 0.4)


def test_topological_order_puts_parents_first():
    x, y = Var(1.0), Var(2.0)
    a = x * y
    b = sin(x)
    c = a + b
    z = c * a
    order = topological_order(z)
    assert len(order) == len(set(order)) == 6
    position = {node: i for i, node in enumerate(order)}
    for node in order:
        for parent in node.parents:
            assert position[parent] < position[node]
    assert order[-1] is z


def test_chain_of_10000_multiplications_has_closed_form_gradient():
    num_steps = 10_000
    assert num_steps > sys.getrecursionlimit()
    x = Var(0.5)
    chain = x
    for _ in range(num_steps):
        chain = chain * 1.0001 + 0.0
    chain.backward()
    assert chain.value == pytest.approx(0.5 * 1.0001**num_steps, rel=1e-10)
    assert x.grad == pytest.approx(1.0001**num_steps, rel=1e-10)


def test_chain_of_10000_sines_matches_torch():
    x = Var(0.5)
    chain = x
    xt = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    t = xt
    for _ in range(10_000):
        chain = sin(chain)
        t = torch.sin(t)
    chain.backward()
    t.backward()
    assert chain.value == pytest.approx(t.item(), rel=1e-12)
    assert x.grad == pytest.approx(xt.grad.item(), rel=1e-9)


def test_constants_become_leaves_with_their_own_adjoint():
    x = Var(3.0)
    z = 2.0 * x
    z.backward()
    constant = next(p for p in z.parents if p is not x)
    assert constant.op == "" and constant.value == 2.0
    assert constant.grad == 3.0


@pytest.mark.parametrize(
    "make",
    [
        lambda: log(Var(0.0)),
        lambda: log(Var(-1.0)),
        lambda: Var(-2.0) ** Var(0.5),
        lambda: 0.0 ** Var(1.0),
    ],
)
def test_invalid_domain_raises_value_error(make):
    with pytest.raises(ValueError):
        make()


@pytest.mark.parametrize(
    "make",
    [
        lambda: Var(1.0) + Dual(1.0, 1.0),
        lambda: Dual(1.0, 1.0) * Var(1.0),
        lambda: Var(1.0) - Tensor([1.0]),
        lambda: Var(1.0) + "a",
    ],
)
def test_mixing_modes_is_type_error(make):
    with pytest.raises(TypeError):
        make()
