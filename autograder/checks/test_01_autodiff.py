"""Hidden checks of assignment 01, automatic differentiation.

Each check draws its inputs from ``rng``, asks the student's process for plain data
(values, tangents, adjoints, arrays) and compares them here with an independent oracle:
PyTorch in float64 (``torch.func.jvp`` for tangents, ``torch.autograd`` for adjoints),
exact formulas, or ``course_utils.autodiff`` where a value is defined by our convention
(the relative error of ``gradient_check``).

Drivers pass expressions as strings; the same string is evaluated here on torch
tensors, with ``sin(u)`` meaning ``torch.sin(u)`` and so on, exactly as the notebook's
elementary functions dispatch to a method of the argument.
"""

import re

import numpy as np
import torch

from autograder.checking import Drivers, expect_close, expect_equal, expect_true, fail, task
from course_utils.autodiff import gradient_check

REFERENCE_SETUP = "from course_utils.answers.autodiff import *"
DRIVERS = Drivers(__file__)

RTOL = 1e-8
ATOL = 1e-12
FUNCTIONS = ("sin", "cos", "exp", "log", "tanh", "sigmoid", "relu")
TORCH_NAMES = {name: getattr(torch, name) for name in FUNCTIONS}


def _torch_eval(expression, **names):
    return eval(expression, {"__builtins__": {}, **TORCH_NAMES}, names)


def _t(value, requires_grad=False):
    return torch.tensor(value, dtype=torch.float64, requires_grad=requires_grad)


def _jvp(expression, point, tangent, **constants):
    """Value and tangent of an expression in u, v along (du, dv), by torch forward AD."""

    def function(u, v):
        return _torch_eval(expression, u=u, v=v, **constants)

    primals = tuple(_t(x) for x in point)
    tangents = tuple(_t(x) for x in tangent)
    value, out_tangent = torch.func.jvp(function, primals, tangents)
    return value.item(), out_tangent.item()


def _value_and_grads(expression, arrays, **constants):
    """Value of an expression of named float64 arrays and its gradient for each of them."""
    leaves = {name: _t(array, requires_grad=True) for name, array in arrays.items()}
    out = _torch_eval(expression, **leaves, **constants)
    grads = torch.autograd.grad(out, list(leaves.values()), allow_unused=True)
    return out.item(), {
        name: np.zeros_like(np.asarray(arrays[name], dtype=np.float64))
        if grad is None
        else grad.numpy()
        for name, grad in zip(leaves, grads, strict=True)
    }


def _signed(rng, low, high, size=None):
    """Uniform magnitudes in [low, high] with random signs (away from 0)."""
    return rng.uniform(low, high, size) * rng.choice([-1.0, 1.0], size)


def _one_number(value, what):
    """A loss Tensor's data as a float: a number, or an array holding one entry (the text
    allows a one-entry Tensor of any shape)."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        array = None
    expect_true(
        array is not None and array.size == 1,
        f"{what} should be a Tensor holding one number; its data is {value!r}",
    )
    return float(array.reshape(()))


def _scalar_cases(rng):
    """Cases (expression, (u, v)) for every operator with numbers on either side and every
    function (each at a positive and a negative point, log at positive ones), and the
    constants c, p (real exponent, positive base u) and k (integer exponent, any sign of v)."""
    cases = []
    for expression in [
        "u + v",
        "u - v",
        "u * v",
        "u / v",
        "u + c",
        "c + u",
        "u - c",
        "c - u",
        "u * c",
        "c * u",
        "u / c",
        "c / u",
        "-u",
        "u ** p",
        "v ** k",
    ]:
        point = (float(rng.uniform(0.4, 2.5)), float(_signed(rng, 0.4, 2.5)))
        cases.append((expression, point))
    for name in FUNCTIONS:
        values = rng.uniform(0.2, 2.5, 3)
        if name != "log":
            values *= [1.0, -1.0, float(rng.choice([-1.0, 1.0]))]
        cases.extend((f"{name}(u)", (float(value), 0.5)) for value in values)
    constants = {
        "c": float(_signed(rng, 0.5, 3.0)),
        "p": float(rng.uniform(-2.0, 3.0)),
        "k": float(rng.choice([-2.0, -1.0, 2.0, 3.0])),
    }
    return cases, constants


def _describe(expression, kind, point, tangent=None, constants=None):
    """'u * c with u = Dual(1.2, 0.3), c = 2': the inputs and constants the expression uses."""
    names = set(re.findall(r"[a-z]+", expression))
    parts = []
    for k, name in enumerate("uv"):
        if name in names:
            args = f"{point[k]:.6g}" + ("" if tangent is None else f", {tangent[k]:.6g}")
            parts.append(f"{name} = {kind}({args})")
    parts += [f"{n} = {v:.6g}" for n, v in (constants or {}).items() if n in names]
    return f"{expression} with {', '.join(parts)}"


# ---------------------------------------------------------------------------- Task 01.1

LECTURE = "u * v + sin(u)"


@task("01.1")
def test_lecture_forward_value_and_tangent(student, rng):
    """lecture_forward(x, y, dx, dy) returns z = x*y + sin(x) and dz = (y + cos x) dx + x dy"""
    for _ in range(4):
        x, y = (float(v) for v in _signed(rng, 0.1, 3.0, 2))
        dx, dy = (float(v) for v in rng.normal(size=2))
        got = student.call("lecture_forward", x, y, dx, dy)
        expect_close(
            got,
            _jvp(LECTURE, (x, y), (dx, dy)),
            rtol=RTOL,
            atol=ATOL,
            what=f"lecture_forward({x:.6g}, {y:.6g}, {dx:.6g}, {dy:.6g}) as (z, dz)",
        )


@task("01.1")
def test_lecture_forward_unit_seeds(student, rng):
    """the seeds (1, 0) and (0, 1) give the partial derivatives y + cos(x) and x"""
    x, y = (float(v) for v in _signed(rng, 0.1, 3.0, 2))
    for seed, name in [((1.0, 0.0), "dz/dx = y + cos(x)"), ((0.0, 1.0), "dz/dy = x")]:
        got = student.call("lecture_forward", x, y, *seed)
        expect_true(
            isinstance(got, tuple | list) and len(got) == 2,
            f"lecture_forward should return the pair (z, dz), got {got!r}",
        )
        expect_close(
            got[1],
            _jvp(LECTURE, (x, y), seed)[1],
            rtol=RTOL,
            atol=ATOL,
            what=f"dz of lecture_forward({x:.6g}, {y:.6g}, {seed[0]:g}, {seed[1]:g}), i.e. {name}",
        )


# ---------------------------------------------------------------------------- Task 01.2


def _check_dual_cases(student, cases, constants):
    got = DRIVERS.run(student, "dual_cases", cases=cases, **constants)
    for (expression, point, tangent), (value, out_tangent) in zip(cases, got, strict=True):
        want = _jvp(expression, point, tangent, **constants)
        where = _describe(expression, "Dual", point, tangent, constants)
        expect_close(value, want[0], rtol=RTOL, atol=ATOL, what=f"value of {where}")
        expect_close(out_tangent, want[1], rtol=RTOL, atol=ATOL, what=f"tangent of {where}")


@task("01.2")
def test_dual_operators(student, rng):
    """+ - * / with Duals and numbers on either side, unary minus and ** carry the right tangents"""
    cases, constants = _scalar_cases(rng)
    operator_cases = [
        (expression, (point[0], point[1]), tuple(float(t) for t in rng.normal(size=2)))
        for expression, point in cases
        if "(" not in expression
    ]
    _check_dual_cases(student, operator_cases, constants)


@task("01.2")
def test_dual_functions(student, rng):
    """sin cos exp log tanh sigmoid relu of a Dual carry the tangent f'(u) du"""
    cases, constants = _scalar_cases(rng)
    function_cases = [
        (expression, (point[0], 1.0), (float(rng.normal()), 0.0))
        for expression, point in cases
        if "(" in expression
    ]
    _check_dual_cases(student, function_cases, constants)


COMPOSITIONS = [
    "exp(sin(a * t)) / (1 + t ** 2)",
    "tanh(a * t) * sigmoid(t - b) + log(1 + t * t)",
    "relu(t - b) * cos(a * t) - t / (2 + sin(t))",
    "(t * t + a) ** 1.5 - exp(-t) * b",
    "sin(t) * sin(t) + cos(t) * cos(t) + a * t",
]


@task("01.2")
def test_derivative_of_compositions(student, rng):
    """derivative(f, x) of compositions of operators and functions matches torch.autograd"""
    a, b = float(rng.uniform(0.5, 2.0)), float(_signed(rng, 0.2, 1.0))
    points = []
    while len(points) < len(COMPOSITIONS):
        x = float(rng.uniform(-2.0, 2.0))
        if abs(x - b) > 0.05:
            points.append(x)
    got = DRIVERS.run(student, "derivatives", expressions=COMPOSITIONS, points=points, a=a, b=b)
    for expression, x, value in zip(COMPOSITIONS, points, got, strict=True):
        t = _t(x, requires_grad=True)
        (want,) = torch.autograd.grad(_torch_eval(expression, t=t, a=a, b=b), t)
        expect_close(
            value,
            want.item(),
            rtol=RTOL,
            atol=ATOL,
            what=f"derivative(lambda t: {expression}, {x:.6g}) with a = {a:.6g}, b = {b:.6g}",
        )


# ---------------------------------------------------------------------------- Task 01.3


def _lecture_adjoints(rng, student):
    x, y = (float(v) for v in _signed(rng, 0.1, 3.0, 2))
    z_bar = float(_signed(rng, 0.5, 3.0))
    got = student.call("lecture_reverse", x, y, z_bar)
    expect_true(
        isinstance(got, dict) and {"a", "b", "x", "y"} <= set(got),
        f"lecture_reverse should return a dict with the keys 'a', 'b', 'x', 'y', got {got!r}",
    )
    xt, yt = _t(x, requires_grad=True), _t(y, requires_grad=True)
    dx, dy = torch.autograd.grad(_torch_eval(LECTURE, u=xt, v=yt), (xt, yt))
    want = {"a": z_bar, "b": z_bar, "x": z_bar * dx.item(), "y": z_bar * dy.item()}
    return got, want, f"lecture_reverse({x:.6g}, {y:.6g}, z_bar={z_bar:.6g})"


@task("01.3")
def test_lecture_reverse_intermediates(student, rng):
    """lecture_reverse gives a_bar = b_bar = z_bar and y_bar = x * z_bar"""
    got, want, call = _lecture_adjoints(rng, student)
    for name in "aby":
        expect_close(got[name], want[name], rtol=RTOL, atol=ATOL, what=f"{call}[{name!r}]")


@task("01.3")
def test_lecture_reverse_sums_both_paths(student, rng):
    """lecture_reverse gives x_bar = (y + cos x) z_bar, the sum over both uses of x"""
    for _ in range(3):
        got, want, call = _lecture_adjoints(rng, student)
        expect_close(got["x"], want["x"], rtol=RTOL, atol=ATOL, what=f"{call}['x']")


# ---------------------------------------------------------------------------- Task 01.4


def _check_var_cases(student, cases, constants):
    got = DRIVERS.run(student, "var_cases", cases=cases, **constants)
    for (expression, point), (value, u_grad, v_grad) in zip(cases, got, strict=True):
        want_value, want_grads = _value_and_grads(
            expression, {"u": point[0], "v": point[1]}, **constants
        )
        where = _describe(expression, "Var", point, constants=constants)
        expect_close(value, want_value, rtol=RTOL, atol=ATOL, what=f"value of {where}")
        expect_close(
            [u_grad, v_grad],
            [want_grads["u"], want_grads["v"]],
            rtol=RTOL,
            atol=ATOL,
            what=f"[u.grad, v.grad] after backward() of {where}",
        )


@task("01.4")
def test_var_operator_adjoints(student, rng):
    """backward() through + - * / (numbers on either side), unary minus and ** matches torch"""
    cases, constants = _scalar_cases(rng)
    _check_var_cases(student, [case for case in cases if "(" not in case[0]], constants)


@task("01.4")
def test_var_function_adjoints(student, rng):
    """backward() through sin cos exp log tanh sigmoid relu gives torch's gradients"""
    cases, constants = _scalar_cases(rng)
    _check_var_cases(student, [case for case in cases if "(" in case[0]], constants)


SHARED = [
    "u * u",
    "u + u",
    "u * v + sin(u)",
    "(u * v) * (u * v) + u / (u + v * v)",
    "exp(u) * exp(u) - exp(u) * v",
    "tanh(u * v - u) * (u * v - u) + sigmoid(v) * sigmoid(v)",
]


@task("01.4")
def test_shared_subexpressions(student, rng):
    """a value used several times collects the adjoints of all its uses (x*x gives 2x)"""
    cases = [(e, (float(rng.uniform(0.3, 2.0)), float(_signed(rng, 0.3, 2.0)))) for e in SHARED]
    _check_var_cases(student, cases, {})


def _random_graph(rng, ops):
    """Random DAG as instructions (op, i, j) over numbered nodes; every node feeds the root."""
    num_inputs = int(rng.integers(2, 5))
    inputs = [float(v) for v in rng.uniform(-1.0, 1.0, num_inputs)]
    instructions = []
    unused = set(range(num_inputs))
    for _ in range(int(rng.integers(12, 25))):
        size = num_inputs + len(instructions)
        i, j = (int(v) for v in rng.integers(0, size, 2))
        if rng.random() < 0.15:
            j = i
        op = str(rng.choice(ops))
        instructions.append((op, i, j))
        unused -= {i, j} if op in ("add", "mul", "tadd") else {i}
        unused.add(size)
    pending = sorted(unused)
    while len(pending) > 1:
        i, j = pending.pop(), pending.pop()
        instructions.append(("add", i, j))
        pending.append(num_inputs + len(instructions) - 1)
    return inputs, instructions


def _parents(num_inputs, instructions):
    parents = [() for _ in range(num_inputs)]
    for op, i, j in instructions:
        parents.append((i, j) if op in ("add", "mul", "tadd") else (i,))
    return parents


@task("01.4")
def test_topological_order_of_random_graphs(student, rng):
    """topological_order lists every node of a random graph once, each after its parents"""
    for _ in range(3):
        inputs, instructions = _random_graph(rng, ["add", "mul", "sin"])
        got = DRIVERS.run(student, "graph_order", inputs=inputs, instructions=instructions)
        parents = _parents(len(inputs), instructions)
        expect_true(
            isinstance(got, list) and len(got) >= 1,
            f"topological_order should return a list of nodes, got {got!r}",
        )
        order = [k for k in got if k >= 0]
        missing = sorted(set(range(len(parents))) - set(order))
        expect_true(
            not missing,
            f"topological_order missed {len(missing)} of the {len(parents)} nodes of a graph",
        )
        expect_true(
            len(order) == len(set(order)),
            "topological_order listed a node more than once (keep a set of visited nodes)",
        )
        place = {k: n for n, k in enumerate(order)}
        late = [k for k in order if any(place[p] > place[k] for p in parents[k])]
        expect_true(
            not late,
            f"topological_order put {len(late)} node(s) before one of their parents "
            "(emit a node only after all of its parents)",
        )
        expect_equal(got[-1], len(parents) - 1, what="position of the root (the last node)")


TORCH_GRAPH_OPS = {
    "add": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "sin": lambda a, b: torch.sin(a),
    "cos": lambda a, b: torch.cos(a),
    "tadd": lambda a, b: torch.tanh(a + b),
}


def _torch_graph(inputs, instructions):
    nodes = [_t(v, requires_grad=True) for v in inputs]
    leaves = list(nodes)
    for op, i, j in instructions:
        nodes.append(TORCH_GRAPH_OPS[op](nodes[i], nodes[j]))
    return nodes[-1], leaves


@task("01.4")
def test_gradients_of_random_graphs(student, rng):
    """backward() on random graphs with shared nodes gives torch's gradients for every input"""
    for _ in range(3):
        inputs, instructions = _random_graph(rng, ["tadd", "mul", "sin", "cos"])
        got = DRIVERS.run(student, "graph_grads", inputs=inputs, instructions=instructions)
        root, leaves = _torch_graph(inputs, instructions)
        want = torch.autograd.grad(root, leaves)
        expect_close(
            got[: len(inputs)],
            [g.item() for g in want],
            rtol=RTOL,
            atol=ATOL,
            what=f"input grads of a random graph of {len(got)} nodes",
        )
        expect_close(got[-1], 1.0, what="grad of the output itself")


@task("01.4")
def test_deep_chain(student, rng):
    """backward() works through a loop of about 5000 steps, deeper than Python's recursion limit"""
    length = int(rng.integers(4000, 6000))
    x0, scale = float(rng.uniform(-1.0, 1.0)), float(rng.uniform(0.005, 0.05))
    got = DRIVERS.run(student, "deep_chain", x0=x0, length=length, scale=scale)
    xt = _t(x0, requires_grad=True)
    vt = xt
    for _ in range(length):
        vt = torch.tanh(vt) + xt * scale
    (want,) = torch.autograd.grad(vt, xt)
    expect_close(
        got,
        [vt.item(), want.item()],
        rtol=RTOL,
        atol=ATOL,
        what=f"[value, x.grad] of v = tanh(v) + {scale:.4g} x repeated {length} times",
    )


@task("01.4")
def test_backward_starts_from_zero(student, rng):
    """backward() sets every adjoint of its graph afresh: calling it twice, or on a second output"""
    x, y = float(rng.uniform(0.2, 2.0)), float(_signed(rng, 0.2, 2.0))
    c = float(_signed(rng, 0.5, 3.0))
    got = DRIVERS.run(student, "backward_twice", x=x, y=y, c=c)
    want = [1.0, 1.0, 1.0, y + np.cos(x), x]
    expect_close(
        got["twice"],
        want,
        rtol=RTOL,
        atol=ATOL,
        what=f"grads of z, a, b, x, y after z.backward() twice (x = {x:.6g}, y = {y:.6g})",
    )
    expect_close(
        got["second_output"],
        [c * y, c * x],
        rtol=RTOL,
        atol=ATOL,
        what=f"[x.grad, y.grad] after z.backward() and then q.backward() for q = (x*y) * {c:.6g}",
    )


# ---------------------------------------------------------------------------- Task 01.5


def _random_polynomial(rng):
    """f: R^n -> R^m with n != m as terms (coefficient, j, k): c x_j, or c x_j x_k for k >= 0.

    Output 0 uses the last input in two terms and output 1 does not use it, so a Jacobian by
    reverse mode must accumulate adjoints and reset them between its backward passes.
    """
    while True:
        n, m = (int(v) for v in rng.integers(2, 6, 2))
        if n != m:
            break
    polynomial = []
    for i in range(m):
        allowed = n - 1 if i == 1 else n
        terms = []
        for _ in range(int(rng.integers(2, 6))):
            j = int(rng.integers(0, allowed))
            k = int(rng.integers(0, allowed)) if rng.random() < 0.6 else -1
            terms.append((float(_signed(rng, 0.5, 2.0)), j, k))
        if i == 0:
            terms.append((float(_signed(rng, 0.5, 2.0)), n - 1, int(rng.integers(0, n))))
            terms.append((float(_signed(rng, 0.5, 2.0)), n - 1, -1))
        polynomial.append(terms)
    point = [float(v) for v in rng.uniform(-2.0, 2.0, n)]
    return polynomial, point


def _exact_jacobian(polynomial, point):
    x = np.asarray(point)
    jacobian = np.zeros((len(polynomial), len(point)))
    for i, terms in enumerate(polynomial):
        for coefficient, j, k in terms:
            if k < 0:
                jacobian[i, j] += coefficient
            else:
                jacobian[i, j] += coefficient * x[k]
                jacobian[i, k] += coefficient * x[j]
    return jacobian


def _check_jacobian(student, rng, name, kind, expected_calls):
    for _ in range(3):
        polynomial, point = _random_polynomial(rng)
        got = DRIVERS.run(student, "jacobian", name=name, polynomial=polynomial, point=point)
        m, n = len(polynomial), len(point)
        expect_close(
            got["J"],
            _exact_jacobian(polynomial, point),
            rtol=RTOL,
            atol=ATOL,
            what=f"{name}(f, x) for a polynomial f: R^{n} -> R^{m} (J[i, j] = d f_i / d x_j)",
        )
        want_calls = [kind] * expected_calls(n, m)
        expect_equal(
            list(got["calls"]),
            want_calls,
            what=f"types of the inputs of each call of f by {name} for f: R^{n} -> R^{m}",
        )


@task("01.5")
def test_jacobian_forward(student, rng):
    """jacobian_forward gives the Jacobian of random polynomial maps by n passes with Duals"""
    _check_jacobian(student, rng, "jacobian_forward", "Dual", lambda n, m: n)


@task("01.5")
def test_jacobian_reverse(student, rng):
    """jacobian_reverse gives the Jacobian of random polynomial maps from one recording with Vars"""
    _check_jacobian(student, rng, "jacobian_reverse", "Var", lambda n, m: 1)


# ---------------------------------------------------------------------------- Task 01.6


SHAPES = [(5,), (2, 3), (3, 1), (2, 2, 2)]


def _cubic(rng):
    shape = SHAPES[int(rng.integers(len(SHAPES)))]
    x = _signed(rng, 0.5, 2.0, shape)
    cubic = rng.uniform(1.0, 3.0, shape)
    linear = rng.normal(size=shape)
    return x, cubic, linear, 3 * cubic * x**2 + linear


@task("01.6")
def test_numerical_gradient_is_central(student, rng):
    """numerical_gradient(f, x, eps=1e-4) of cubic functions is within 1e-6 of the exact gradient"""
    for _ in range(2):
        x, cubic, linear, exact = _cubic(rng)
        got = DRIVERS.run(student, "central_differences", x=x, cubic=cubic, linear=linear, eps=1e-4)
        expect_close(
            got["grad"],
            exact,
            rtol=0.0,
            atol=1e-6,
            what=f"numerical_gradient of sum(a x^3 + b x) for x of shape {x.shape}, eps=1e-4 "
            "(a one-sided difference is off by about eps * f''/2)",
        )
        expect_true(got["unchanged"], "numerical_gradient changed its argument x: work on copies")


@task("01.6")
def test_numerical_gradient_default_eps(student, rng):
    """numerical_gradient(f, x) with the default eps = 1e-6 is close to the exact gradient"""
    x, cubic, linear, exact = _cubic(rng)
    got = DRIVERS.run(student, "central_differences", x=x, cubic=cubic, linear=linear, eps=None)
    expect_close(
        got["grad"],
        exact,
        rtol=1e-6,
        atol=1e-6,
        what=f"numerical_gradient of sum(a x^3 + b x), x of shape {x.shape}, default eps",
    )


@task("01.6")
def test_gradient_check(student, rng):
    """gradient_check is below 1e-7 for a correct gradient and the relative error for a wrong one"""
    n = int(rng.integers(4, 8))
    x = rng.uniform(-0.5, 0.5, n)
    coefficients = rng.uniform(0.5, 2.0, n)
    zero = rng.choice(n, size=2, replace=False)
    coefficients[zero] = 0.0
    exact = coefficients * np.exp(x)
    scaled = exact.copy()
    scaled[int(rng.choice(np.flatnonzero(coefficients)))] *= 1.0 + rng.uniform(0.02, 0.5)
    spurious = exact.copy()
    spurious[zero[0]] = float(_signed(rng, 0.1, 1.0))
    got = DRIVERS.run(
        student, "checked", x=x, coefficients=coefficients, grads=[exact, scaled, spurious]
    )
    expect_true(
        isinstance(got, list) and len(got) == 3 and all(isinstance(v, float) for v in got),
        f"gradient_check should return a float, got {got!r}",
    )
    expect_true(
        not np.isnan(got[0]),
        "gradient_check returned nan for a correct gradient with some entries 0: an entry where "
        "both gradients are 0 must count as error 0 (divide by max(|g| + |n|, tiny))",
    )
    expect_true(
        got[0] < 1e-7,
        f"gradient_check of a correct gradient should be below 1e-7, got {got[0]:.3g}",
    )

    def f(z):
        return float(np.sum(coefficients * np.exp(z)))

    for value, grad, case in [(got[1], scaled, "one entry scaled"), (got[2], spurious, "nonzero")]:
        want = gradient_check(f, x, grad)
        expect_close(
            value,
            want,
            rtol=1e-3,
            what=f"gradient_check of a wrong gradient ({case} where the true one is different)",
        )


# ---------------------------------------------------------------------------- Task 01.7


def _broadcast_shapes(rng):
    n, m, k = (int(v) for v in rng.integers(2, 5, 3))
    return [
        ((n, m), (m,)),
        ((n, m), (1, m)),
        ((n, 1), (1, m)),
        ((n, m), (n, 1)),
        ((m,), (n, m)),
        ((n, m), (n, m)),
        ((k, n, m), (n, 1)),
        ((1, 1), (n, m)),
    ]


@task("01.7")
def test_unbroadcast(student, rng):
    """unbroadcast(grad, shape) sums grad over the added and the stretched axes"""
    shapes = [shape for _, shape in _broadcast_shapes(rng)[:-1]]
    for k, shape in enumerate([*shapes, shapes[-1]]):
        stretched = [size if size > 1 else int(rng.integers(2, 5)) for size in shape]
        grad_shape = tuple(stretched) if k == len(shapes) else (int(rng.integers(2, 4)), *stretched)
        grad = rng.normal(size=grad_shape)
        target = _t(np.zeros(shape), requires_grad=True)
        (target.expand(grad_shape) * _t(grad)).sum().backward()
        expect_close(
            student.call("unbroadcast", grad, tuple(shape)),
            target.grad.numpy(),
            rtol=RTOL,
            atol=ATOL,
            what=f"unbroadcast of a gradient of shape {grad_shape} to {tuple(shape)}",
        )


@task("01.7")
def test_broadcasting_gradients(student, rng):
    """gradients of + - * between broadcast operands have the operands' shapes and torch's values"""
    cases = []
    for op in "+-*":
        for shape_a, shape_b in _broadcast_shapes(rng):
            out_shape = np.broadcast_shapes(shape_a, shape_b)
            cases.append(
                (
                    f"((A {op} B) * W).sum()",
                    rng.normal(size=shape_a),
                    rng.normal(size=shape_b),
                    rng.normal(size=out_shape),
                )
            )
    got = DRIVERS.run(student, "broadcast_cases", cases=cases)
    for (expression, a, b, w), (value, grad_a, grad_b) in zip(cases, got, strict=True):
        want_value, want = _value_and_grads(expression, {"A": a, "B": b, "W": w})
        where = f"{expression} with A of shape {a.shape}, B of shape {b.shape}"
        value = _one_number(value, f"the value of {where}")
        expect_close(value, want_value, rtol=RTOL, atol=ATOL, what=f"value of {where}")
        expect_close(grad_a, want["A"], rtol=RTOL, atol=ATOL, what=f"A.grad for {where}")
        expect_close(grad_b, want["B"], rtol=RTOL, atol=ATOL, what=f"B.grad for {where}")


ARRAY_EXPRESSIONS = [
    "(tanh(A @ B) * W).sum()",
    "(relu(A @ B - b) * W).mean()",
    "(A.sum(axis=0) * c).sum() + (A.sum(axis=1) * d).sum() + A.sum()",
    "((A * A + A) * A).sum()",
    "((h := tanh(A @ B)) * h + relu(h) * W).sum()",
    "(tanh(A @ B + b) @ C).mean()",
]


@task("01.7")
def test_matmul_activations_and_reductions(student, rng):
    """gradients through @, tanh, relu, sum(axis), mean and shared nodes match torch.autograd"""
    n, m, p, q = (int(v) for v in rng.integers(2, 6, 4))
    arrays = {
        "A": rng.normal(size=(n, m)),
        "B": rng.normal(size=(m, p)),
        "W": rng.normal(size=(n, p)),
        "b": rng.normal(size=p),
        "c": rng.normal(size=m),
        "d": rng.normal(size=n),
        "C": rng.normal(size=(p, q)),
    }
    got = DRIVERS.run(student, "array_cases", expressions=ARRAY_EXPRESSIONS, arrays=arrays)
    for expression, (value, grads) in zip(ARRAY_EXPRESSIONS, got, strict=True):
        want_value, want = _value_and_grads(expression, arrays)
        value = _one_number(value, f"the value of {expression}")
        expect_close(value, want_value, rtol=RTOL, atol=ATOL, what=f"value of {expression}")
        for name, grad in want.items():
            expect_close(
                grads[name],
                grad,
                rtol=RTOL,
                atol=ATOL,
                what=f"{name}.grad for {expression} ({name} of shape {arrays[name].shape})",
            )


@task("01.7")
def test_softmax_cross_entropy(student, rng):
    """softmax_cross_entropy and its gradient match torch, also for logits near 1000"""
    n, classes = int(rng.integers(3, 9)), int(rng.integers(2, 6))
    labels = rng.integers(0, classes, n)
    logits = rng.normal(size=(n, classes))
    cases = [logits, float(rng.uniform(500.0, 2000.0)) * logits]
    got = DRIVERS.run(student, "softmax_cases", cases=cases, labels=labels)
    for case, (value, grad) in zip(cases, got, strict=True):
        value = _one_number(value, "the loss of softmax_cross_entropy")
        size = f"logits of shape {case.shape} and size up to {np.abs(case).max():.3g}"
        expect_true(
            np.isfinite(value) and np.all(np.isfinite(grad)),
            f"softmax_cross_entropy gave a non-finite loss or gradient for {size}: subtract each "
            "row's maximum before exp",
        )
        zt = _t(case, requires_grad=True)
        loss = torch.nn.functional.cross_entropy(zt, torch.from_numpy(labels))
        (want,) = torch.autograd.grad(loss, zt)
        expect_close(value, loss.item(), rtol=RTOL, atol=ATOL, what=f"loss for {size}")
        expect_close(grad, want.numpy(), rtol=RTOL, atol=ATOL, what=f"gradient for {size}")


@task("01.7")
def test_two_layer_network_gradients(student, rng):
    """gradients of the cross-entropy of tanh(X W1 + b1) W2 + b2 match torch.autograd"""
    n, d, h, c = (int(v) for v in rng.integers(2, 7, 4))
    X = rng.normal(size=(n, d))
    y = rng.integers(0, c, n)
    weights = [rng.normal(size=s) for s in [(d, h), (h,), (h, c), (c,)]]
    value, grads = DRIVERS.run(student, "network", X=X, y=y, weights=weights)
    value = _one_number(value, "the loss of the network")
    params = [_t(w, requires_grad=True) for w in weights]
    W1, b1, W2, b2 = params
    loss = torch.nn.functional.cross_entropy(
        torch.tanh(_t(X) @ W1 + b1) @ W2 + b2, torch.from_numpy(y)
    )
    want = torch.autograd.grad(loss, params)
    expect_close(value, loss.item(), rtol=RTOL, atol=ATOL, what="loss of the network")
    for name, grad, ref in zip(["W1", "b1", "W2", "b2"], grads, want, strict=True):
        expect_close(grad, ref.numpy(), rtol=RTOL, atol=ATOL, what=f"{name}.grad of the network")


# ---------------------------------------------------------------------------- Task 01.8


@task("01.8")
def test_one_training_step(student, rng):
    """MLP gives tanh(X W1 + b1) W2 + b2 and train_mlp's first epoch is one gradient step"""
    n, d = int(rng.integers(10, 30)), int(rng.integers(2, 4))
    hidden, classes = int(rng.integers(3, 9)), int(rng.integers(2, 5))
    lr, seed = float(rng.uniform(0.05, 1.0)), int(rng.integers(0, 1000))
    X = rng.normal(size=(n, d))
    y = rng.integers(0, classes, n)
    y[0] = classes - 1
    got = DRIVERS.run(
        student, "one_step", X=X, y=y, hidden=hidden, classes=classes, lr=lr, seed=seed
    )
    expect_equal(
        [tuple(np.shape(p)) for p in got["start"]],
        [(d, hidden), (hidden,), (hidden, classes), (classes,)],
        what="shapes of MLP(D, H, C).parameters()",
    )
    params = [_t(p, requires_grad=True) for p in got["start"]]
    W1, b1, W2, b2 = params
    logits = torch.tanh(_t(X) @ W1 + b1) @ W2 + b2
    expect_close(got["logits"], logits.detach().numpy(), rtol=RTOL, atol=ATOL, what="MLP(X).data")
    expect_equal(
        np.asarray(got["predicted"]).astype(np.int64),
        logits.argmax(dim=1).numpy(),
        what="MLP.predict(X)",
    )
    loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(y))
    grads = torch.autograd.grad(loss, params)
    expect_equal(len(got["losses"]), 1, what="number of losses after num_epochs=1")
    expect_close(
        got["losses"][0], loss.item(), rtol=RTOL, atol=ATOL, what="losses[0] (before the update)"
    )
    names = ["W1", "b1", "W2", "b2"]
    for name, after, p, g in zip(names, got["after"], params, grads, strict=True):
        expect_close(
            after,
            (p - lr * g).detach().numpy(),
            rtol=RTOL,
            atol=ATOL,
            what=f"{name} after one epoch with lr = {lr:.4g} ({name} - lr * dL/d{name})",
        )


def _two_moons(rng, n=200, noise=0.1):
    """Two interleaved half circles, randomly rotated, scaled and shifted; labels 0 and 1."""
    angle = rng.uniform(0.0, np.pi, n)
    label = rng.permutation(np.arange(n) % 2)
    points = np.column_stack(
        [
            np.where(label == 0, np.cos(angle), 1.0 - np.cos(angle)),
            np.where(label == 0, np.sin(angle), 0.5 - np.sin(angle)),
        ]
    )
    points += rng.normal(0.0, noise, (n, 2))
    theta = rng.uniform(0.0, 2 * np.pi)
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    scale, shift = rng.uniform(0.8, 1.25), rng.uniform(-0.5, 0.5, 2)
    return (points - [0.5, 0.25]) @ rotation.T * scale + shift, label


@task("01.8")
def test_training_on_two_moons(student, rng):
    """train_mlp(X, y, 16, lr=1.0, num_epochs=300) on two moons: accuracy >= 0.95, loss < 0.15"""
    X, y = _two_moons(rng)
    seed = int(rng.integers(0, 1000))
    got = DRIVERS.run(student, "training", X=X, y=y, seed=seed)
    losses = np.asarray(got["losses"])
    expect_equal(len(losses), 300, what="number of losses for num_epochs=300")
    expect_true(np.all(np.isfinite(losses)), "the training loss became nan or inf")
    accuracy = float(np.mean(np.asarray(got["predicted"]) == y))
    if not (losses[-1] < 0.15 and accuracy >= 0.95):
        fail(
            f"after 300 epochs on two moons the loss went from {losses[0]:.4f} to {losses[-1]:.4f} "
            f"and the training accuracy is {accuracy:.3f}; expected a loss below 0.15 and an "
            "accuracy of at least 0.95"
        )
