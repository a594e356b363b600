"""Drivers of assignment 01's hidden checks, run in the student's process.

The free names are the notebook's own (``Dual``, ``derivative``, ``Var``,
``topological_order``, the functions ``sin``, ``cos``, ``tanh``, ..., the Jacobian and
gradient-check functions, ``Tensor``, ``softmax_cross_entropy``, ``MLP``, ``train_mlp``).
Expressions are evaluated with the constants of a case bound next to the student's names.
"""

import numbers
import sys

import numpy as np


def by_hand(x, y, dx, dy):
    """lecture_forward with the names Dual and derivative hidden from it: its result and
    the hidden names it called."""

    class Hidden(Exception):
        pass

    called = []

    def stand_in(name):
        def refuse(*args, **kwargs):
            called.append(name)
            raise Hidden(name)

        return refuse

    namespace = lecture_forward.__globals__
    hidden = {name: namespace[name] for name in ("Dual", "derivative") if name in namespace}
    namespace.update({name: stand_in(name) for name in hidden})
    try:
        result = lecture_forward(x, y, dx, dy)
    except Hidden:
        result = None
    finally:
        namespace.update(hidden)
    return {"result": result, "called": called}


def dual_cases(cases, **constants):
    """Value and tangent of each expression of u and v at Dual inputs; what the expression
    returned ("new" for a Dual other than u and v) and whether u and v kept their values."""
    result = []
    for expression, (u0, v0), (du0, dv0) in cases:
        u, v = Dual(u0, du0), Dual(v0, dv0)
        out = eval(expression, globals(), dict(constants, u=u, v=v))
        if out is u or out is v:
            returned = "u" if out is u else "v"
        else:
            returned = "new" if isinstance(out, Dual) else type(out).__name__
        kept = [u.value, u.tangent, v.value, v.tangent] == [u0, du0, v0, dv0]
        result.append([float(out.value), float(out.tangent), returned, kept])
    return result


def derivatives(expressions, points, **constants):
    """derivative of each expression of t, as a lambda, at its point, and the input of
    every call of the lambda ([value, tangent] of a Dual, else the name of its type)."""
    result = []
    for expression, x in zip(expressions, points, strict=True):
        function = eval("lambda t: " + expression, dict(globals(), **constants))
        inputs = []

        def f(t, function=function, inputs=inputs):
            if isinstance(t, Dual):
                inputs.append([float(t.value), float(t.tangent)])
            else:
                inputs.append(type(t).__name__)
            return function(t)

        result.append([derivative(f, x), inputs])
    return result


def var_cases(cases, **constants):
    """Value and adjoints of u and v of each expression of u and v, after backward()."""
    result = []
    for expression, (u0, v0) in cases:
        u, v = Var(u0), Var(v0)
        out = eval(expression, globals(), dict(constants, u=u, v=v))
        out.backward()
        result.append([float(out.value), float(u.grad), float(v.grad)])
    return result


def var_records(cases, **constants):
    """The graph of each expression of Var inputs u and v, found by a search of the
    driver's own along ``parents``: the position of the output and, per node, [parent
    positions, local_grads, whether op and name are strings], with u at 0 and v at 1 (a
    local derivative that is not a real number is sent as its type name). Also whether Var
    keeps the identity of object (no __eq__ or __hash__ of its own)."""
    graphs = []
    for expression, (u0, v0) in cases:
        u, v = Var(u0), Var(v0)
        out = eval(expression, globals(), dict(constants, u=u, v=v))
        nodes = [u, v]
        position = {id(u): 0, id(v): 1}
        if id(out) not in position:
            position[id(out)] = len(nodes)
            nodes.append(out)
        stack, expanded = [out], set()
        while stack:
            node = stack.pop()
            if id(node) in expanded:
                continue
            expanded.add(id(node))
            for parent in node.parents:
                if id(parent) not in position:
                    position[id(parent)] = len(nodes)
                    nodes.append(parent)
                stack.append(parent)
        records = [
            [
                [position[id(parent)] for parent in node.parents],
                [
                    float(g) if isinstance(g, numbers.Real) else type(g).__name__
                    for g in node.local_grads
                ],
                isinstance(node.op, str) and isinstance(node.name, str),
            ]
            for node in nodes
        ]
        graphs.append([position[id(out)], records])
    identity = Var.__eq__ is object.__eq__ and Var.__hash__ is object.__hash__
    return {"graphs": graphs, "identity": identity}


def _without_recursion(function):
    """function() under Python's default recursion limit (1000 frames above the caller;
    a limit the notebook raised is restored afterwards), profiled: [its result, or
    "RecursionError", the deepest nesting of Python calls it made, whether the profile
    stayed in place]."""
    depth = [0, 0]

    def profile(frame, event, arg):
        if event == "call":
            depth[0] += 1
            depth[1] = max(depth[1], depth[0])
        elif event == "return":
            depth[0] -= 1

    here, frame = 0, sys._getframe()
    while frame is not None:
        here, frame = here + 1, frame.f_back
    limit, previous = sys.getrecursionlimit(), sys.getprofile()
    sys.setrecursionlimit(here + 1000)
    sys.setprofile(profile)
    try:
        result = function()
    except RecursionError:
        result = "RecursionError"
    finally:
        profiled = sys.getprofile() is profile
        sys.setprofile(previous)
        sys.setrecursionlimit(limit)
    return [result, depth[1], profiled]


def chain_order(length):
    """topological_order of the chain v = v + x repeated ``length`` times, run by
    _without_recursion: the positions of the nodes it lists (x at 0, then the chain in
    build order, -1 for other objects) or "RecursionError", the depth of nested calls and
    whether the profile stayed in place."""
    x = Var(0.5, name="x")
    nodes = [x]
    for _ in range(length):
        nodes.append(nodes[-1] + x)
    order, depth, profiled = _without_recursion(lambda: list(topological_order(nodes[-1])))
    if order != "RecursionError":
        position = {id(node): k for k, node in enumerate(nodes)}
        order = [position.get(id(node), -1) for node in order]
    return {"order": order, "depth": depth, "profiled": profiled}


def build_graph(inputs, instructions):
    """The nodes of a random graph: the inputs, then one node per instruction."""
    nodes = [Var(value, name=f"x{i}") for i, value in enumerate(inputs)]
    for op, i, j in instructions:
        a, b = nodes[i], nodes[j]
        build = {
            "add": lambda a=a, b=b: a + b,
            "mul": lambda a=a, b=b: a * b,
            "sin": lambda a=a: sin(a),
            "cos": lambda a=a: cos(a),
            "tadd": lambda a=a, b=b: tanh(a + b),
        }
        nodes.append(build[op]())
    return nodes


def graph_order(inputs, instructions):
    """The positions (in build order) of the nodes topological_order returns, -1 for others."""
    nodes = build_graph(inputs, instructions)
    position = {id(node): k for k, node in enumerate(nodes)}
    return [position.get(id(node), -1) for node in topological_order(nodes[-1])]


def graph_grads(inputs, instructions):
    """The adjoint of every node after backward() from the last one."""
    nodes = build_graph(inputs, instructions)
    nodes[-1].backward()
    return [float(node.grad) for node in nodes]


def deep_chain(x0, length, scale):
    """A chain v = tanh(v) + x * scale of the given length: its value and dv/dx after
    v.backward() run by _without_recursion, or "RecursionError", and the depth of calls."""
    x = Var(x0, name="x")
    v = x
    for _ in range(length):
        v = tanh(v) + x * scale
    outcome, depth, profiled = _without_recursion(v.backward)
    if outcome == "RecursionError":
        return {"result": outcome, "depth": depth, "profiled": profiled}
    return {"result": [float(v.value), float(x.grad)], "depth": depth, "profiled": profiled}


def backward_twice(x, y, c):
    """Adjoints after z.backward() twice, then after backward() of a second output."""
    xv, yv = Var(x, name="x"), Var(y, name="y")
    a = xv * yv
    b = sin(xv)
    z = a + b
    z.backward()
    z.backward()
    twice = [float(n.grad) for n in (z, a, b, xv, yv)]
    q = a * c
    q.backward()
    return {"twice": twice, "second_output": [float(xv.grad), float(yv.grad)]}


def jacobian(name, polynomial, point, kind):
    """The Jacobian function ``name`` of a polynomial map at the point given as a list, a
    tuple or an array (``kind``): the matrix, the type of what it returned and, for each
    call of f, the type of its argument and of the argument's first entry."""
    calls = []

    def f(xs):
        calls.append([type(xs).__name__, type(xs[0]).__name__])
        outputs = []
        for terms in polynomial:
            total = 0.0
            for coefficient, j, k in terms:
                total = total + (coefficient * xs[j] if k < 0 else coefficient * xs[j] * xs[k])
            outputs.append(total)
        return outputs

    x = {"list": list, "tuple": tuple, "array": np.array}[kind](point)
    J = globals()[name](f, x)
    returned = [type(J).__name__, J.dtype.kind if isinstance(J, np.ndarray) else ""]
    return {"J": np.asarray(J, dtype=np.float64), "returned": returned, "calls": calls}


def central_differences(x, cubic, linear, eps):
    """numerical_gradient of sum(cubic x^3 + linear x) with the given eps (None: the
    default): the gradient and the name of its type, and for each call of f its argument
    minus x, whether it shared memory with x, and whether x had changed by then."""
    before = np.array(x, copy=True)
    steps, shared, changed = [], [], []

    def f(z):
        steps.append(np.asarray(z, dtype=np.float64) - before)
        shared.append(bool(np.shares_memory(z, x)))
        changed.append(not np.array_equal(x, before))
        return float(np.sum(cubic * z**3 + linear * z))

    grad = numerical_gradient(f, x) if eps is None else numerical_gradient(f, x, eps=eps)
    return {
        "grad": np.asarray(grad, dtype=np.float64),
        "type": type(grad).__name__,
        "steps": np.array(steps).reshape(len(steps), *np.shape(x)),
        "shared": shared,
        "changed": changed + [not np.array_equal(x, before)],
    }


def checked(x, coefficients, grads, options):
    """gradient_check of sum(coefficients exp(x)) against each candidate gradient, with
    the keyword arguments of its options entry: the results, the type names of those
    that are not floats, and for each result the largest step from x of each call of f."""
    results, not_floats, steps = [], [], []

    def f(z):
        steps[-1].append(float(np.max(np.abs(np.asarray(z, dtype=np.float64) - x))))
        return float(np.sum(coefficients * np.exp(z)))

    for grad, keywords in zip(grads, options, strict=True):
        steps.append([])
        value = gradient_check(f, x, grad, **keywords)
        if not isinstance(value, float):
            not_floats.append(type(value).__name__)
        results.append(float(value))
    return {"results": results, "not_floats": not_floats, "steps": steps}


def broadcast_cases(cases):
    """Loss and the adjoints of A and B of each expression of Tensors A, B, W."""
    result = []
    for expression, a, b, w in cases:
        A, B, W = Tensor(a), Tensor(b), Tensor(w)
        loss = eval(expression, globals(), {"A": A, "B": B, "W": W})
        loss.backward()
        result.append([loss.data, A.grad, B.grad])
    return result


def array_cases(expressions, arrays):
    """Loss and the adjoint of every named Tensor of each expression."""
    result = []
    for expression in expressions:
        tensors = {name: Tensor(value) for name, value in arrays.items()}
        loss = eval(expression, dict(globals(), **tensors))
        loss.backward()
        result.append([loss.data, {name: t.grad for name, t in tensors.items()}])
    return result


def tensor_backward_twice(a, b, w):
    """Adjoints of A, B and H = tanh(A @ B) after backward() of (H * W).sum() twice, then
    the adjoint of A after backward() of a second output, (A * A).mean()."""
    A, B, W = Tensor(a), Tensor(b), Tensor(w)
    H = tanh(A @ B)
    loss = (H * W).sum()
    loss.backward()
    loss.backward()
    twice = [np.array(t.grad, dtype=np.float64) for t in (A, B, H)]
    second = (A * A).mean()
    second.backward()
    return {"twice": twice, "second_output": np.array(A.grad, dtype=np.float64)}


def softmax_cases(cases, labels):
    """softmax_cross_entropy of each logits array, and its gradient."""
    result = []
    for logits in cases:
        Z = Tensor(logits)
        loss = softmax_cross_entropy(Z, labels)
        loss.backward()
        result.append([loss.data, Z.grad])
    return result


def softmax_shared(logits, labels, other_labels):
    """The sum of the softmax cross-entropies of one logits Tensor against two label
    arrays, and the gradient of the logits."""
    Z = Tensor(logits)
    loss = softmax_cross_entropy(Z, labels) + softmax_cross_entropy(Z, other_labels)
    loss.backward()
    return [loss.data, Z.grad]


def network(X, y, weights):
    """The loss of a two-layer tanh network on Tensors, and the gradients of its weights."""
    params = [Tensor(p) for p in weights]
    W1, b1, W2, b2 = params
    loss = softmax_cross_entropy(tanh(Tensor(X) @ W1 + b1) @ W2 + b2, y)
    loss.backward()
    return [loss.data, [p.grad for p in params]]


def _not_floats(values):
    """The type names of the values that are not floats."""
    return sorted({type(v).__name__ for v in values if not isinstance(v, float)})


def one_step(X, y, hidden, classes, lr, seed):
    """An MLP's start, its logits (and the type of what MLP(X) returned) and predictions,
    and train_mlp's one epoch from the seed."""
    start_model = MLP(X.shape[1], hidden, classes, seed=seed)
    start = [np.array(p.data, dtype=np.float64) for p in start_model.parameters()]
    out = start_model(X)
    logits = np.array(out.data, dtype=np.float64)
    predicted = np.asarray(start_model.predict(X))
    model, losses = train_mlp(X, y, num_hidden=hidden, lr=lr, num_epochs=1, seed=seed)
    return {
        "start": start,
        "returned": "Tensor" if isinstance(out, Tensor) else type(out).__name__,
        "logits": logits,
        "predicted": predicted,
        "losses": [float(v) for v in losses],
        "not_floats": _not_floats(losses),
        "after": [np.array(p.data, dtype=np.float64) for p in model.parameters()],
    }


def defaults(X, y):
    """train_mlp(X, y) with its default arguments: the shapes of the parameters and the
    losses."""
    model, losses = train_mlp(X, y)
    return {
        "shapes": [list(np.shape(p.data)) for p in model.parameters()],
        "losses": [float(v) for v in losses],
        "not_floats": _not_floats(losses),
    }


def training(X, y, seed):
    """train_mlp for 300 epochs: the losses and the final predictions."""
    model, losses = train_mlp(X, y, num_hidden=16, lr=1.0, num_epochs=300, seed=seed)
    return {"losses": [float(v) for v in losses], "predicted": model.predict(X)}
