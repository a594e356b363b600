"""Drivers of assignment 01's hidden checks, run in the student's process.

The free names are the notebook's own (``Dual``, ``derivative``, ``Var``,
``topological_order``, the functions ``sin``, ``cos``, ``tanh``, ..., the Jacobian and
gradient-check functions, ``Tensor``, ``softmax_cross_entropy``, ``MLP``, ``train_mlp``).
Expressions are evaluated with the constants of a case bound next to the student's names.
"""

import numpy as np


def dual_cases(cases, **constants):
    """Value and tangent of each expression of u and v at Dual inputs."""
    result = []
    for expression, (u0, v0), (du0, dv0) in cases:
        u, v = Dual(u0, du0), Dual(v0, dv0)
        out = eval(expression, globals(), dict(constants, u=u, v=v))
        result.append([float(out.value), float(out.tangent)])
    return result


def derivatives(expressions, points, **constants):
    """derivative of each expression of t, as a lambda, at its point."""
    return [
        derivative(eval("lambda t: " + e, dict(globals(), **constants)), x)
        for e, x in zip(expressions, points, strict=True)
    ]


def var_cases(cases, **constants):
    """Value and adjoints of u and v of each expression of u and v, after backward()."""
    result = []
    for expression, (u0, v0) in cases:
        u, v = Var(u0), Var(v0)
        out = eval(expression, globals(), dict(constants, u=u, v=v))
        out.backward()
        result.append([float(out.value), float(u.grad), float(v.grad)])
    return result


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
    """A chain v = tanh(v) + x * scale of the given length: its value and dv/dx."""
    x = Var(x0, name="x")
    v = x
    for _ in range(length):
        v = tanh(v) + x * scale
    v.backward()
    return [float(v.value), float(x.grad)]


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


def jacobian(name, polynomial, point):
    """The Jacobian function ``name`` of a polynomial map, and the input type of each call."""
    calls = []

    def f(xs):
        calls.append(type(xs[0]).__name__)
        outputs = []
        for terms in polynomial:
            total = 0.0
            for coefficient, j, k in terms:
                total = total + (coefficient * xs[j] if k < 0 else coefficient * xs[j] * xs[k])
            outputs.append(total)
        return outputs

    return {"J": np.asarray(globals()[name](f, point), dtype=np.float64), "calls": calls}


def central_differences(x, cubic, linear, eps):
    """numerical_gradient of sum(cubic x^3 + linear x), and whether x was left unchanged."""

    def f(z):
        return float(np.sum(cubic * z**3 + linear * z))

    before = np.array(x, copy=True)
    grad = numerical_gradient(f, x) if eps is None else numerical_gradient(f, x, eps=eps)
    return {
        "grad": np.asarray(grad, dtype=np.float64),
        "unchanged": bool(np.array_equal(x, before)),
    }


def checked(x, coefficients, grads):
    """gradient_check of sum(coefficients exp(x)) against each candidate gradient."""

    def f(z):
        return float(np.sum(coefficients * np.exp(z)))

    return [float(gradient_check(f, x, grad)) for grad in grads]


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


def softmax_cases(cases, labels):
    """softmax_cross_entropy of each logits array, and its gradient."""
    result = []
    for logits in cases:
        Z = Tensor(logits)
        loss = softmax_cross_entropy(Z, labels)
        loss.backward()
        result.append([loss.data, Z.grad])
    return result


def network(X, y, weights):
    """The loss of a two-layer tanh network on Tensors, and the gradients of its weights."""
    params = [Tensor(p) for p in weights]
    W1, b1, W2, b2 = params
    loss = softmax_cross_entropy(tanh(Tensor(X) @ W1 + b1) @ W2 + b2, y)
    loss.backward()
    return [loss.data, [p.grad for p in params]]


def one_step(X, y, hidden, classes, lr, seed):
    """An MLP's start, its logits and predictions, and train_mlp's one epoch from the seed."""
    start_model = MLP(X.shape[1], hidden, classes, seed=seed)
    start = [np.array(p.data, dtype=np.float64) for p in start_model.parameters()]
    logits = np.array(start_model(X).data, dtype=np.float64)
    predicted = np.asarray(start_model.predict(X))
    model, losses = train_mlp(X, y, num_hidden=hidden, lr=lr, num_epochs=1, seed=seed)
    return {
        "start": start,
        "logits": logits,
        "predicted": predicted,
        "losses": [float(v) for v in losses],
        "after": [np.array(p.data, dtype=np.float64) for p in model.parameters()],
    }


def training(X, y, seed):
    """train_mlp for 300 epochs: the losses and the final predictions."""
    model, losses = train_mlp(X, y, num_hidden=16, lr=1.0, num_epochs=300, seed=seed)
    return {"losses": [float(v) for v in losses], "predicted": model.predict(X)}
