"""Reverse-mode automatic differentiation on scalars.

Every operation on ``Var`` objects creates a new node that records its ``parents`` and,
for each parent u, the local derivative dw/du of the new node w (``local_grads``). For an
output s, the adjoint of a node u is the sum over all its uses,

    ds/du = sum_i (dw_i/du) (ds/dw_i),

so ``backward`` visits the nodes in reverse topological order and each node adds
``local_grad * node.grad`` to each parent's adjoint: when a node is reached, its adjoint is
complete. For the lecture example ``a = x*y, b = sin x, z = a + b``:

    z.grad = 1,  a.grad = b.grad = 1,  y.grad = x,  x.grad = y * 1 + cos(x) * 1

One backward pass yields the derivatives of one output with respect to all inputs, so a
full Jacobian of f: R^n -> R^m costs m passes (see ``jacobian_reverse``).
"""

import math
import numbers

from course_utils.autodiff.functions import float_log, float_relu, float_sigmoid


def topological_order(root):
    """Nodes of the graph that ends in ``root``, every node after all of its parents.

    Depth-first search with an explicit stack instead of recursion, so graphs deeper than
    Python's recursion limit (a chain of 10 000 operations) work. A node is pushed once
    to be expanded and once more, below its parents, to be emitted after them.
    """
    order = []
    visited = set()
    stack = [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        for parent in node.parents:
            if parent not in visited:
                stack.append((parent, False))
    return order


def _lift(x):
    if isinstance(x, Var):
        return x
    if isinstance(x, numbers.Real):
        return Var(x)
    return None


class Var:
    """A scalar node of a computation graph, with value ``value`` and adjoint ``grad``.

    ``Var(2.0, name="x")`` makes an input; arithmetic and the functions of
    ``course_utils.autodiff`` make new nodes with ``parents``, ``local_grads`` (d this /
    d parent, one per parent) and ``op`` recorded. Real numbers mixed into an expression
    become constant input nodes.
    """

    __array_ufunc__ = None

    def __init__(self, value, name="", parents=(), local_grads=(), op=""):
        self.value = float(value)
        self.grad = 0.0
        self.name = name
        self.parents = tuple(parents)
        self.local_grads = tuple(local_grads)
        self.op = op
        if len(self.parents) != len(self.local_grads):
            raise ValueError(
                f"Invalid node: {len(self.parents)} parents and {len(self.local_grads)} "
                "local_grads (one local derivative per parent)"
            )

    def __repr__(self):
        return f"Var(value={self.value!r}, grad={self.grad!r}, op={self.op!r})"

    def backward(self):
        """Compute ``node.grad = d self / d node`` for every node of the graph.

        All adjoints of the graph are reset to 0, the output is seeded with 1 and each node,
        in reverse topological order, adds ``local_grad * node.grad`` to its parents. Calling
        it twice gives the same adjoints (unlike torch, which accumulates into the leaves'
        ``.grad``).
        """
        order = topological_order(self)
        for node in order:
            node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):
            for parent, local_grad in zip(node.parents, node.local_grads, strict=True):
                parent.grad += local_grad * node.grad

    def _unary(self, op, value, local_grad):
        return Var(value, parents=(self,), local_grads=(local_grad,), op=op)

    def __add__(self, other):
        other = _lift(other)
        if other is None:
            return NotImplemented
        return Var(self.value + other.value, parents=(self, other), local_grads=(1.0, 1.0), op="+")

    def __radd__(self, other):
        return self.__add__(other)

    def __sub__(self, other):
        other = _lift(other)
        if other is None:
            return NotImplemented
        return Var(self.value - other.value, parents=(self, other), local_grads=(1.0, -1.0), op="-")

    def __rsub__(self, other):
        other = _lift(other)
        if other is None:
            return NotImplemented
        return other - self

    def __mul__(self, other):
        other = _lift(other)
        if other is None:
            return NotImplemented
        return Var(
            self.value * other.value,
            parents=(self, other),
            local_grads=(other.value, self.value),
            op="*",
        )

    def __rmul__(self, other):
        return self.__mul__(other)

    def __truediv__(self, other):
        other = _lift(other)
        if other is None:
            return NotImplemented
        quotient = self.value / other.value
        return Var(
            quotient,
            parents=(self, other),
            local_grads=(1.0 / other.value, -quotient / other.value),
            op="/",
        )

    def __rtruediv__(self, other):
        other = _lift(other)
        if other is None:
            return NotImplemented
        return other / self

    def __neg__(self):
        return self._unary("neg", -self.value, -1.0)

    def __pow__(self, exponent):
        if isinstance(exponent, Var):
            if self.value <= 0:
                raise ValueError(
                    f"u ** v with a Var exponent needs a positive base u, got {self.value!r}"
                )
            value = self.value**exponent.value
            return Var(
                value,
                parents=(self, exponent),
                local_grads=(
                    exponent.value * self.value ** (exponent.value - 1),
                    value * math.log(self.value),
                ),
                op="**",
            )
        if not isinstance(exponent, numbers.Real):
            return NotImplemented
        c = float(exponent)
        slope = c * math.pow(self.value, c - 1) if c != 0 else 0.0
        return self._unary(f"**{c:g}", math.pow(self.value, c), slope)

    def __rpow__(self, base):
        if not isinstance(base, numbers.Real):
            return NotImplemented
        if base <= 0:
            raise ValueError(f"c ** u with a Var exponent needs a positive base c, got {base!r}")
        value = float(base) ** self.value
        return self._unary(f"{base:g}**", value, value * math.log(base))

    def sin(self):
        return self._unary("sin", math.sin(self.value), math.cos(self.value))

    def cos(self):
        return self._unary("cos", math.cos(self.value), -math.sin(self.value))

    def exp(self):
        value = math.exp(self.value)
        return self._unary("exp", value, value)

    def log(self):
        return self._unary("log", float_log(self.value), 1.0 / self.value)

    def tanh(self):
        value = math.tanh(self.value)
        return self._unary("tanh", value, 1.0 - value * value)

    def sigmoid(self):
        value = float_sigmoid(self.value)
        return self._unary("sigmoid", value, value * (1.0 - value))

    def relu(self):
        return self._unary("relu", float_relu(self.value), 1.0 if self.value > 0 else 0.0)
