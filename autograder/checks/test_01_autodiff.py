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

import math
import re

import numpy as np
import torch

from autograder.checking import (
    CheckFailed,
    Drivers,
    expect_close,
    expect_equal,
    expect_true,
    fail,
    task,
)
from course_utils.autodiff import MLP, gradient_check

REFERENCE_SETUP = "from course_utils.answers.autodiff import *"
ANSWER_IMPORTS = ("math", "numpy")  # and the standard library: the notebook's rules
# imported by the grader while the zygote starts: torch.func.jvp imports torch._dynamo
# on first use, 2 s of the self-check otherwise
GRADER_PRELOAD = ("torch._dynamo",)
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
    function (each at a positive and a negative point, log at positive ones, relu also at
    exactly 0), and the constants c, p (real exponent, positive base u) and k (integer
    exponent, any sign of v); also the exponents 0 and 1, where c u^(c-1) is 0 and 1."""
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
        "u ** 0",
        "v ** 1",
    ]:
        point = (float(rng.uniform(0.4, 2.5)), float(_signed(rng, 0.4, 2.5)))
        cases.append((expression, point))
    for name in FUNCTIONS:
        values = rng.uniform(0.2, 2.5, 3)
        if name != "log":
            values *= [1.0, -1.0, float(rng.choice([-1.0, 1.0]))]
        cases.extend((f"{name}(u)", (float(value), 0.5)) for value in values)
    cases.append(("relu(u)", (0.0, 0.5)))  # the derivative of relu at 0 is taken to be 0
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


@task("01.1")
def test_lecture_forward_by_hand(student, rng):
    """lecture_forward is the differential program written by hand: it works without Dual"""
    x, y = (float(v) for v in _signed(rng, 0.1, 3.0, 2))
    dx, dy = (float(v) for v in rng.normal(size=2))
    call = f"lecture_forward({x:.6g}, {y:.6g}, {dx:.6g}, {dy:.6g})"
    got = DRIVERS.run(student, "by_hand", x=x, y=y, dx=dx, dy=dy)
    expect_true(
        not got["called"],
        f"{call} called {', '.join(sorted(set(got['called'])))}: write the program and its "
        "differential program by hand with math.sin and math.cos (no dual numbers yet)",
    )
    expect_close(
        got["result"],
        _jvp(LECTURE, (x, y), (dx, dy)),
        rtol=RTOL,
        atol=ATOL,
        what=f"{call} as (z, dz), with Dual and derivative hidden",
    )


# ---------------------------------------------------------------------------- Task 01.2


def _check_dual_cases(student, cases, constants):
    got = DRIVERS.run(student, "dual_cases", cases=cases, **constants)
    for (expression, point, tangent), (value, out_tangent, returned, kept) in zip(
        cases, got, strict=True
    ):
        want = _jvp(expression, point, tangent, **constants)
        where = _describe(expression, "Dual", point, tangent, constants)
        expect_close(value, want[0], rtol=RTOL, atol=ATOL, what=f"value of {where}")
        expect_close(out_tangent, want[1], rtol=RTOL, atol=ATOL, what=f"tangent of {where}")
        shown = returned if returned in ("u", "v") else f"a {returned}"
        expect_true(
            returned == "new",
            f"{where} returned {shown} instead of a new Dual: each method returns a new Dual "
            "and none changes self",
        )
        expect_true(
            kept,
            f"{where} changed the value or tangent of u or v: each method returns a new Dual "
            "and none changes self",
        )


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
    """sin cos exp log tanh sigmoid relu of a Dual carry the tangent f'(u) du (relu' at 0 is 0)"""
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
    for expression, x, (value, inputs) in zip(COMPOSITIONS, points, got, strict=True):
        call = f"derivative(lambda t: {expression}, {x:.6g}) with a = {a:.6g}, b = {b:.6g}"
        t = _t(x, requires_grad=True)
        (want,) = torch.autograd.grad(_torch_eval(expression, t=t, a=a, b=b), t)
        expect_close(value, want.item(), rtol=RTOL, atol=ATOL, what=call)
        shown = ", ".join(
            f"Dual({i[0]:.6g}, {i[1]:.6g})" if isinstance(i, list) else i for i in inputs
        )
        expect_true(
            inputs == [[x, 1.0]],
            f"{call} evaluated f {len(inputs)} time(s), on {shown or 'nothing'}: one forward "
            f"pass evaluates f once, at Dual({x:.6g}, 1.0)",
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


@task("01.3")
def test_lecture_reverse_default_seed(student, rng):
    """lecture_reverse(x, y) without z_bar seeds z_bar = 1.0: the adjoints are the gradient"""
    x, y = (float(v) for v in _signed(rng, 0.1, 3.0, 2))
    got = student.call("lecture_reverse", x, y)
    call = f"lecture_reverse({x:.6g}, {y:.6g}) (default z_bar=1.0)"
    expect_true(
        isinstance(got, dict) and {"a", "b", "x", "y"} <= set(got),
        f"{call} should return a dict with the keys 'a', 'b', 'x', 'y', got {got!r}",
    )
    want = {"a": 1.0, "b": 1.0, "x": y + np.cos(x), "y": x}
    for name in "abxy":
        expect_close(got[name], want[name], rtol=RTOL, atol=ATOL, what=f"{call}[{name!r}]")


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
    """backward() through sin cos exp log tanh sigmoid relu matches torch (relu'(0) = 0)"""
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


def _chain_rule(root, records):
    """The adjoint of every node of a recorded graph, seeded with 1 at ``root``: each node,
    once all of its children are done (Kahn's order), passes local_grad * adjoint on."""
    children_left = [0] * len(records)
    for parents, _, _ in records:
        for parent in parents:
            children_left[parent] += 1
    adjoint = [0.0] * len(records)
    adjoint[root] = 1.0
    ready = [k for k, left in enumerate(children_left) if left == 0]
    while ready:
        node = ready.pop()
        for parent, local_grad in zip(*records[node][:2], strict=True):
            adjoint[parent] += local_grad * adjoint[node]
            children_left[parent] -= 1
            if children_left[parent] == 0:
                ready.append(parent)
    return adjoint


@task("01.4")
def test_recorded_graph(student, rng):
    """every node records its parents and one local derivative per parent, from which the
    chain rule gives torch's gradients; Var keeps identity (no __eq__ or __hash__)"""
    cases, constants = _scalar_cases(rng)
    cases += [(e, (float(rng.uniform(0.3, 2.0)), float(_signed(rng, 0.3, 2.0)))) for e in SHARED]
    got = DRIVERS.run(student, "var_records", cases=cases, **constants)
    for (expression, point), (root, records) in zip(cases, got["graphs"], strict=True):
        where = f"the graph of {_describe(expression, 'Var', point, constants=constants)}"
        for parents, local_grads, labels in records:
            expect_true(
                len(local_grads) == len(parents),
                f"{where}: a node has {len(parents)} parent(s) but {len(local_grads)} "
                "local_grads; record one local derivative d node / d parent per parent",
            )
            odd = sorted({type(g).__name__ for g in local_grads if isinstance(g, str)})
            expect_true(
                not odd,
                f"{where}: local_grads should hold numbers (floats), found {', '.join(odd)}",
            )
            expect_true(labels, f"{where}: a node's op or name is not a string")
        _, want = _value_and_grads(expression, {"u": point[0], "v": point[1]}, **constants)
        adjoint = _chain_rule(root, records)
        expect_close(
            adjoint[:2],
            [want["u"], want["v"]],
            rtol=RTOL,
            atol=ATOL,
            what=f"d out / d u and d out / d v by the chain rule over the parents and "
            f"local_grads of {where}",
        )
    expect_true(
        got["identity"],
        "Var defines __eq__ or __hash__: nodes are kept in sets and dicts by identity, so "
        "leave both to object",
    )


RECURSION_HINT = (
    "compute the order without recursion, with an explicit stack (a Python list) as Task 01.4 "
    "describes; raising the recursion limit does not count"
)
MAX_CALL_DEPTH = 100


def _deep_run(what, run):
    """``run()`` of a driver on a graph deeper than Python's default recursion limit; fail
    with the recursion hint if it crashed, hit the limit or nested a call per node."""
    try:
        got = run()
    except CheckFailed as exc:
        fail(f"{exc}; {what}: {RECURSION_HINT}")
    outcome = got["order"] if "order" in got else got["result"]
    expect_true(
        outcome != "RecursionError",
        f"{what} raised RecursionError under Python's default recursion limit: {RECURSION_HINT}",
    )
    expect_true(
        got["profiled"],
        f"{what}: the grader could not measure how deeply your code nests calls (the profile "
        "function it set with sys.setprofile was replaced)",
    )
    expect_true(
        got["depth"] <= MAX_CALL_DEPTH,
        f"{what} nested {got['depth']} Python calls inside each other, about one per node: "
        f"{RECURSION_HINT}",
    )
    return outcome


@task("01.4")
def test_topological_order_without_recursion(student, rng):
    """topological_order of a chain 3000 deep lists it in order without nesting a call per
    node, under Python's default recursion limit"""
    length = int(rng.integers(2500, 3500))
    what = f"topological_order(v) for the chain v = v + x repeated {length} times"
    order = _deep_run(what, lambda: DRIVERS.run(student, "chain_order", length=length))
    expect_equal(
        order,
        list(range(length + 1)),
        what=f"{what}: positions of the listed nodes (x is 0, the k-th addition k)",
    )


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
    """backward() works through a loop of about 2000 steps, deeper than Python's recursion limit"""
    length = int(rng.integers(1500, 2500))  # 3 nodes a step: 3 to 7 times the limit of 1000
    x0, scale = float(rng.uniform(-1.0, 1.0)), float(rng.uniform(0.005, 0.05))
    what = f"v.backward() for v = tanh(v) + {scale:.4g} x repeated {length} times"
    got = _deep_run(
        what, lambda: DRIVERS.run(student, "deep_chain", x0=x0, length=length, scale=scale)
    )
    # worked by hand: v_0 = x, v_k+1 = tanh(v_k) + s x, so dv_k+1/dx = (1 - tanh(v_k)^2) dv_k/dx + s
    value, slope = x0, 1.0
    for _ in range(length):
        t = math.tanh(value)
        value, slope = t + x0 * scale, (1.0 - t * t) * slope + scale
    expect_close(
        got,
        [value, slope],
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
    for point_kind in ["list", "tuple", "array"]:
        polynomial, point = _random_polynomial(rng)
        got = DRIVERS.run(
            student, "jacobian", name=name, polynomial=polynomial, point=point, kind=point_kind
        )
        m, n = len(polynomial), len(point)
        call = f"{name}(f, x) for a polynomial f: R^{n} -> R^{m} with x a {point_kind}"
        expect_close(
            got["J"],
            _exact_jacobian(polynomial, point),
            rtol=RTOL,
            atol=ATOL,
            what=f"{call} (J[i, j] = d f_i / d x_j)",
        )
        returned, dtype = got["returned"]
        expect_true(
            returned == "ndarray" and dtype == "f",
            f"{call} returned a {returned}{' of dtype kind ' + dtype if dtype else ''}: return "
            "the Jacobian as a float numpy array",
        )
        arguments = sorted({argument for argument, _ in got["calls"]})
        expect_true(
            arguments in ([], ["list"]),
            f"{call} called f with a {' and a '.join(arguments)}: f takes a list of n numbers",
        )
        expect_equal(
            [entry for _, entry in got["calls"]],
            [kind] * expected_calls(n, m),
            what=f"types of the inputs of each call of f by {call}",
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


def _check_evaluations(got, x, eps, call):
    """numerical_gradient returned an array, left x alone and evaluated f on copies of x,
    each moved by +eps or -eps along one coordinate, every coordinate both ways."""
    expect_true(
        got["type"] == "ndarray",
        f"{call} returned a {got['type']}: return a numpy array of x's shape",
    )
    expect_true(
        not any(got["changed"]),
        f"{call} changed its argument x: evaluate f on copies of x and leave x as it was",
    )
    expect_true(
        not any(got["shared"]),
        f"{call} called f on x itself (or on a view of it): evaluate f on copies of x",
    )
    moves = set()
    for step in np.asarray(got["steps"]).reshape(len(got["steps"]), -1):
        moved = np.flatnonzero(step)
        if len(moved) > 1 or not np.allclose(np.abs(step[moved]), eps, rtol=1e-6, atol=0.0):
            shown = np.array2string(step, precision=3, separator=", ", threshold=8)
            fail(
                f"{call} evaluated f at x + {shown}: each evaluation moves one entry of x by "
                f"+eps or -eps, eps = {eps:g}"
            )
        moves.update((int(i), bool(step[i] > 0)) for i in moved)
    missing = x.size * 2 - len(moves)
    expect_true(
        missing == 0,
        f"{call} did not evaluate f at x + eps e_i and x - eps e_i for every entry i "
        f"({missing} of the {2 * x.size} points are missing)",
    )


@task("01.6")
def test_numerical_gradient_is_central(student, rng):
    """numerical_gradient(f, x, eps=1e-4) of cubic functions is within 1e-6 of the exact
    gradient; f is evaluated on copies of x moved by +-eps along each coordinate"""
    for _ in range(2):
        x, cubic, linear, exact = _cubic(rng)
        got = DRIVERS.run(student, "central_differences", x=x, cubic=cubic, linear=linear, eps=1e-4)
        call = f"numerical_gradient(f, x, eps=1e-4) for f = sum(a x^3 + b x), x of shape {x.shape}"
        expect_close(
            got["grad"],
            exact,
            rtol=0.0,
            atol=1e-6,
            what=f"{call} (a one-sided difference is off by about eps * f''/2)",
        )
        _check_evaluations(got, x, 1e-4, call)


@task("01.6")
def test_numerical_gradient_at_integer_x(student, rng):
    """numerical_gradient at an integer array x is the central difference of n_i: f is
    evaluated at the float points x +- eps e_i"""
    x, cubic, linear, _ = _cubic(rng)
    x = rng.integers(-3, 4, x.shape)
    exact = 3 * cubic * x**2 + linear
    got = DRIVERS.run(student, "central_differences", x=x, cubic=cubic, linear=linear, eps=1e-4)
    call = (
        f"numerical_gradient(f, x, eps=1e-4) for f = sum(a x^3 + b x), x an integer array of "
        f"shape {x.shape}"
    )
    expect_close(
        got["grad"],
        exact,
        rtol=0.0,
        atol=1e-6,
        what=f"{call} (x + eps e_i is not an integer: f maps float arrays, so evaluate it on "
        "float64 copies of x)",
    )
    _check_evaluations(got, x, 1e-4, call)


@task("01.6")
def test_numerical_gradient_default_eps(student, rng):
    """numerical_gradient(f, x) with the default eps = 1e-6 is close to the exact gradient
    and moves x by 1e-6"""
    x, cubic, linear, exact = _cubic(rng)
    got = DRIVERS.run(student, "central_differences", x=x, cubic=cubic, linear=linear, eps=None)
    call = f"numerical_gradient(f, x) (default eps) for f = sum(a x^3 + b x), x of shape {x.shape}"
    expect_close(got["grad"], exact, rtol=1e-6, atol=1e-6, what=call)
    _check_evaluations(got, x, 1e-6, call)


@task("01.6")
def test_gradient_check(student, rng):
    """gradient_check is below 1e-7 for a correct gradient and the relative error for a wrong
    one (entries of both signs, errors of both signs), with the defaults eps=1e-6 and
    tiny=1e-12 and with eps and tiny given"""
    n = int(rng.integers(4, 8))
    x = rng.uniform(-0.5, 0.5, n)
    order = rng.permutation(n)
    zero, positive, negative = order[:2], order[2], order[3]
    coefficients = rng.uniform(0.5, 2.0, n) * rng.choice([-1.0, 1.0], n)
    coefficients[zero] = 0.0
    coefficients[positive] = abs(coefficients[positive])
    coefficients[negative] = -abs(coefficients[negative])
    exact = coefficients * np.exp(x)
    scaled = exact.copy()
    scaled[int(rng.choice(np.flatnonzero(coefficients)))] *= 1.0 + rng.uniform(0.02, 0.5)
    below = exact.copy()  # g - n < 0 where the error is largest
    below[negative] *= 1.0 + rng.uniform(0.02, 0.5)
    spurious = exact.copy()
    spurious[zero[0]] = float(_signed(rng, 0.1, 1.0))
    tiny_entry = exact.copy()
    tiny_entry[zero[1]] = 1e-14  # where the central difference is exactly 0
    cases = [
        (exact, {}, "a correct gradient"),
        (scaled, {}, "one entry scaled"),
        (below, {}, "one negative entry too large in magnitude (g - n < 0)"),
        (spurious, {}, "an entry nonzero where the true one is 0"),
        (tiny_entry, {}, "an entry 1e-14 where the true one is 0"),
        (tiny_entry, {"tiny": 1e-20}, "an entry 1e-14 where the true one is 0"),
        (scaled, {"eps": 1e-4}, "one entry scaled"),
    ]
    got = DRIVERS.run(
        student,
        "checked",
        x=x,
        coefficients=coefficients,
        grads=[grad for grad, _, _ in cases],
        options=[options for _, options, _ in cases],
    )
    expect_true(
        not got["not_floats"],
        f"gradient_check should return a float, got {', '.join(got['not_floats'])}",
    )
    values = got["results"]
    expect_true(
        not np.isnan(values[0]),
        "gradient_check returned nan for a correct gradient with some entries 0: an entry where "
        "both gradients are 0 must count as error 0 (divide by max(|g| + |n|, tiny))",
    )
    expect_true(
        values[0] < 1e-7,
        f"gradient_check of a correct gradient (entries of both signs, some 0) should be below "
        f"1e-7, got {values[0]:.3g} (r = max |g - n| / max(|g| + |n|, tiny))",
    )

    def f(z):
        return float(np.sum(coefficients * np.exp(z)))

    for k, ((grad, options, case), value, steps) in enumerate(
        zip(cases, values, got["steps"], strict=True)
    ):
        arguments = "".join(f", {key}={v:g}" for key, v in options.items())
        call = f"gradient_check(f, x, grad{arguments}) for grad with {case}"
        eps = options.get("eps", 1e-6)
        taken = [step for step in steps if step > 0]
        expect_true(
            bool(taken) and np.allclose(taken, eps, rtol=1e-6, atol=0.0),
            f"{call} evaluated f at points up to {max(steps, default=0.0):.3g} away from x: "
            f"numerical_gradient(f, x, eps) moves one entry by eps = {eps:g} (the default "
            "is 1e-6, and gradient_check passes its eps on)",
        )
        if k > 0:
            expect_close(value, gradient_check(f, x, grad, **options), rtol=1e-3, what=call)


# ---------------------------------------------------------------------------- Task 01.7


def _broadcast_shapes(rng):
    n, m, k = (int(v) for v in rng.integers(2, 5, 3))
    return [
        ((n, m), ()),
        ((), (n, m)),
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
    """unbroadcast(grad, shape) sums grad over the added and the stretched axes (also to ())"""
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
    """gradients of + - * between broadcast operands (also 0-d ones) have the operands' shapes
    and torch's values"""
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
    "(relu(R) * W).sum() + (relu(R - R) * W).mean()",
    "tanh(P @ Q) - 2.0 * (P @ Q)",
    "(T.sum(axis=1) * E).sum() + (A.sum(axis=-1) * d).sum()",
    "((A + c) * (A + 1.0)).sum()",
    "((A - c) * (A - 1.0)).sum()",
    "(tanh(A) * tanh(A) * W2).sum()",
]


@task("01.7")
def test_matmul_activations_and_reductions(student, rng):
    """gradients through @, tanh, relu (0 at 0), sum(axis) (also -1 and of 3-D tensors), mean,
    numbers and shared nodes (a Tensor used by two nodes of the same operation) match
    torch.autograd, also from a (1, 1) output"""
    n, m, p, q = (int(v) for v in rng.integers(2, 6, 4))
    arrays = {
        "A": rng.normal(size=(n, m)),
        "B": rng.normal(size=(m, p)),
        "W": rng.normal(size=(n, p)),
        "b": rng.normal(size=p),
        "c": rng.normal(size=m),
        "d": rng.normal(size=n),
        "C": rng.normal(size=(p, q)),
        "W2": rng.normal(size=(n, m)),
    }
    k = int(rng.integers(2, 4))
    R = rng.normal(size=(n, p))
    R[rng.random((n, p)) < 0.4] = 0.0
    R[0, 0] = 0.0
    arrays |= {
        "R": R,
        "P": rng.normal(size=(1, m)),
        "Q": rng.normal(size=(m, 1)),
        "T": rng.normal(size=(k, n, m)),
        "E": rng.normal(size=(k, m)),
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
def test_tensor_backward_starts_from_zero(student, rng):
    """Tensor.backward() sets the adjoints of its graph afresh: twice, or on a second output"""
    n, m, p = (int(v) for v in rng.integers(2, 5, 3))
    a, b, w = rng.normal(size=(n, m)), rng.normal(size=(m, p)), rng.normal(size=(n, p))
    got = DRIVERS.run(student, "tensor_backward_twice", a=a, b=b, w=w)
    A, B = _t(a, requires_grad=True), _t(b, requires_grad=True)
    H = torch.tanh(A @ B)
    want = torch.autograd.grad((H * _t(w)).sum(), [A, B, H])
    for name, grad, ref in zip(["A", "B", "H"], got["twice"], want, strict=True):
        expect_close(
            grad,
            ref.numpy(),
            rtol=RTOL,
            atol=ATOL,
            what=f"{name}.grad after loss.backward() twice, loss = (tanh(A @ B) * W).sum() "
            f"with H = tanh(A @ B), A of shape {a.shape}, B of shape {b.shape}",
        )
    expect_close(
        got["second_output"],
        2 * a / a.size,
        rtol=RTOL,
        atol=ATOL,
        what="A.grad after loss.backward() and then backward() of a second output (A * A).mean()",
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
    other_labels = (labels + rng.integers(1, classes, n)) % classes
    value, grad = DRIVERS.run(
        student, "softmax_shared", logits=logits, labels=labels, other_labels=other_labels
    )
    call = (
        f"softmax_cross_entropy(Z, labels) + softmax_cross_entropy(Z, other_labels), Z of shape "
        f"{logits.shape} used by both nodes"
    )
    zt = _t(logits, requires_grad=True)
    loss = sum(
        torch.nn.functional.cross_entropy(zt, torch.from_numpy(y)) for y in (labels, other_labels)
    )
    (want,) = torch.autograd.grad(loss, zt)
    value = _one_number(value, f"the value of {call}")
    expect_close(value, loss.item(), rtol=RTOL, atol=ATOL, what=f"value of {call}")
    expect_close(grad, want.numpy(), rtol=RTOL, atol=ATOL, what=f"Z.grad for {call}")


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
    call = f"MLP({d}, {hidden}, {classes}, seed={seed})(X) for X of shape {X.shape}"
    expect_true(
        got["returned"] == "Tensor",
        f"{call} returned a {got['returned']}: the logits are a Tensor of shape (N, C)",
    )
    params = [_t(p, requires_grad=True) for p in got["start"]]
    W1, b1, W2, b2 = params
    logits = torch.tanh(_t(X) @ W1 + b1) @ W2 + b2
    expect_close(got["logits"], logits.detach().numpy(), rtol=RTOL, atol=ATOL, what=f"{call}.data")
    expect_equal(
        np.asarray(got["predicted"]).astype(np.int64),
        logits.argmax(dim=1).numpy(),
        what="MLP.predict(X)",
    )
    loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(y))
    grads = torch.autograd.grad(loss, params)
    expect_equal(len(got["losses"]), 1, what="number of losses after num_epochs=1")
    expect_true(
        not got["not_floats"],
        f"train_mlp's losses should be floats, got {', '.join(got['not_floats'])} (e.g. "
        "float(loss.data))",
    )
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


@task("01.8")
def test_train_mlp_defaults(student, rng):
    """train_mlp(X, y) uses num_hidden=16, lr=0.5, num_epochs=200, seed=0 and C = max(y) + 1"""
    n, d = int(rng.integers(12, 25)), int(rng.integers(2, 4))
    X = rng.normal(size=(n, d))
    y = rng.choice([0, 1, 3], size=n)  # no label 2: C = max(y) + 1 = 4 all the same
    y[:3] = [0, 1, 3]
    got = DRIVERS.run(student, "defaults", X=X, y=y)
    call = f"train_mlp(X, y) with the defaults, X of shape {X.shape} and labels 0, 1 and 3"
    expect_equal(
        got["shapes"],
        [[d, 16], [16], [16, 4], [4]],
        what=f"shapes of the parameters of {call} (num_hidden=16, C = max(y) + 1 = 4)",
    )
    expect_equal(len(got["losses"]), 200, what=f"number of losses of {call} (num_epochs=200)")
    expect_true(
        not got["not_floats"],
        f"{call}: losses should be floats, got {', '.join(got['not_floats'])}",
    )
    start = MLP(d, 16, 4, seed=0)
    params = [_t(p.data, requires_grad=True) for p in start.parameters()]
    want = []
    for _ in range(3):
        W1, b1, W2, b2 = params
        logits = torch.tanh(_t(X) @ W1 + b1) @ W2 + b2
        loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(y))
        grads = torch.autograd.grad(loss, params)
        want.append(loss.item())
        params = [
            (p - 0.5 * g).detach().requires_grad_() for p, g in zip(params, grads, strict=True)
        ]
    expect_close(
        got["losses"][:3],
        want,
        rtol=RTOL,
        atol=ATOL,
        what=f"losses[:3] of {call} (seed=0, then steps with lr=0.5)",
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
