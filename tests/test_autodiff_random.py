"""Randomly generated expressions, with shared subexpressions, in both modes vs torch.

A seeded generator writes a straight-line program over three inputs: each statement
applies a primitive to earlier results, picked from all earlier results so that many
are used several times (several paths from an input to the output). The generator
evaluates the program on floats only to keep every statement inside its domain.
"""

import math
import random
from collections import Counter

import pytest
import torch

from course_utils.autodiff import Dual, Var, cos, exp, log, relu, sigmoid, sin, tanh

NUM_INPUTS = 3
NUM_STATEMENTS = 25

OURS = {
    "sin": sin,
    "cos": cos,
    "exp": exp,
    "log": log,
    "tanh": tanh,
    "sigmoid": sigmoid,
    "relu": relu,
}
TORCH = {
    "sin": torch.sin,
    "cos": torch.cos,
    "exp": torch.exp,
    "log": torch.log,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
}
MATH = {
    "sin": math.sin,
    "cos": math.cos,
    "exp": math.exp,
    "log": math.log,
    "tanh": math.tanh,
    "sigmoid": lambda v: 1 / (1 + math.exp(-v)),
    "relu": lambda v: max(v, 0.0),
}

# op: (arity, statement given the function table, domain test on float arguments)
OPS = {
    "add": (2, lambda f: lambda a, b: a + b, lambda a, b: True),
    "sub": (2, lambda f: lambda a, b: a - b, lambda a, b: True),
    "mul": (2, lambda f: lambda a, b: a * b, lambda a, b: True),
    "div": (2, lambda f: lambda a, b: a / b, lambda a, b: abs(b) > 0.3),
    "pow": (2, lambda f: lambda a, b: a**b, lambda a, b: a > 0.3 and abs(b * math.log(a)) < 3),
    "sin": (1, lambda f: f["sin"], lambda a: True),
    "cos": (1, lambda f: f["cos"], lambda a: True),
    "exp": (1, lambda f: f["exp"], lambda a: a < 3),
    "log": (1, lambda f: f["log"], lambda a: a > 0.3),
    "tanh": (1, lambda f: f["tanh"], lambda a: True),
    "sigmoid": (1, lambda f: f["sigmoid"], lambda a: True),
    "relu": (1, lambda f: f["relu"], lambda a: abs(a) > 1e-3),
    "neg": (1, lambda f: lambda a: -a, lambda a: True),
    "square": (1, lambda f: lambda a: a**2, lambda a: True),
    "sqrt": (1, lambda f: lambda a: a**0.5, lambda a: a > 0.3),
    "number_pow": (1, lambda f: lambda a: 1.5**a, lambda a: abs(a) < 5),
    "number_sub": (1, lambda f: lambda a: 0.7 - a, lambda a: True),
    "number_div": (1, lambda f: lambda a: 1.3 / a, lambda a: abs(a) > 0.3),
    "number_mul_add": (1, lambda f: lambda a: 2.0 * a + 0.5, lambda a: True),
}


def make_program(seed):
    """Inputs and statements (op, argument indices); index < NUM_INPUTS is an input."""
    rng = random.Random(seed)
    inputs = [rng.uniform(-2.0, 2.0) for _ in range(NUM_INPUTS)]
    values = list(inputs)
    statements = []
    while len(statements) < NUM_STATEMENTS:
        op = rng.choice(sorted(OPS))
        arity, make, valid = OPS[op]
        args = [rng.randrange(len(values)) for _ in range(arity)]
        float_args = [values[i] for i in args]
        if not valid(*float_args):
            continue
        value = make(MATH)(*float_args)
        if abs(value) > 1e3:
            continue
        statements.append((op, args))
        values.append(value)
    return inputs, statements


def run_program(statements, inputs, functions):
    values = list(inputs)
    for op, args in statements:
        values.append(OPS[op][1](functions)(*[values[i] for i in args]))
    return values[-1] + values[-2] * values[-3]


def torch_gradient(inputs, statements):
    leaves = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in inputs]
    out = run_program(statements, leaves, TORCH)
    out.backward()
    return out.item(), [0.0 if t.grad is None else t.grad.item() for t in leaves]


def forward_gradient(inputs, statements):
    grads = []
    for i in range(len(inputs)):
        duals = [Dual(v, 1.0 if k == i else 0.0) for k, v in enumerate(inputs)]
        out = run_program(statements, duals, OURS)
        grads.append(out.tangent)
    return out.value, grads


def reverse_gradient(inputs, statements):
    variables = [Var(v) for v in inputs]
    out = run_program(statements, variables, OURS)
    out.backward()
    return out.value, [v.grad for v in variables]


SEEDS = range(60)


@pytest.mark.parametrize("seed", SEEDS)
def test_both_modes_match_torch_on_random_expression(seed):
    inputs, statements = make_program(seed)
    value, expected = torch_gradient(inputs, statements)
    forward_value, forward = forward_gradient(inputs, statements)
    reverse_value, reverse = reverse_gradient(inputs, statements)
    assert forward_value == pytest.approx(value, rel=1e-12, abs=1e-12)
    assert reverse_value == pytest.approx(value, rel=1e-12, abs=1e-12)
    assert forward == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert reverse == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_generated_programs_reuse_subexpressions_and_cover_every_op():
    max_uses = []
    ops = set()
    for seed in SEEDS:
        _, statements = make_program(seed)
        uses = Counter(i for _, args in statements for i in args)
        max_uses.append(max(uses.values()))
        ops.update(op for op, _ in statements)
    assert min(max_uses) >= 3
    assert ops == set(OPS)
