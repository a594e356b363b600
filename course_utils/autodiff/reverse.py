"""Reverse-mode automatic differentiation on scalars.

Every operation on ``Var`` objects creates a new node that remembers its parents and a
small ``_backward`` closure. For an output s and a node w with parents u, the closure adds
w's contribution to the adjoint ``u.grad = ds/du``:

    u.grad += (dw/du) * w.grad

Because a node may feed several others, its adjoint is the sum over all its uses,

    ds/du = sum_i (dw_i/du) (ds/dw_i),

which is why closures accumulate with ``+=`` and never assign. ``backward`` visits the
nodes in reverse topological order, so each node's adjoint is complete before it is
passed on to its parents. For the lecture example ``a = x*y, b = sin x, z = a + b``:

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
    ``course_utils.autodiff`` make new nodes with ``parents`` and ``op`` recorded.
    Real numbers mixed into an expression become constant input nodes.
    """

    __array_ufunc__ = None

    def __init__(self, value, name="", *, parents=(), op=""):
        self.value = float(value)
        self.grad = 0.0
        self.name = name
        self.parents = parents
        self.op = op
        self._backward = lambda: None

    def __repr__(self):
        return f"Var(value={self.value!r}, grad={self.grad!r}, op={self.op!r})"

    def backward(self):
        """Compute ``node.grad = d self / d node`` for every node of the graph.

        All adjoints of the graph are reset to 0, the output is seeded with 1 and the
        closures run in reverse topological order. Calling it twice gives the same
        adjoints (unlike torch, which accumulates into the leaves' ``.grad``).
        """
        order = topological_order(self)
        for node in order:
            node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):
            node._backward()

    def __add__(self, other):
        other = _lift(other)
        if other is None:
            return NotImplemented
        out = Var(self.value + other.value, parents=(self, other), op="+")

        def backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = backward
        return out

    def __radd__(self, other):
        return self.__add__(other)

    def __sub__(self, other):
        other = _lift(other)
        if other is None:
            return NotImplemented
        out = Var(self.value - other.value, parents=(self, other), op="-")

        def backward():
            self.grad += out.grad
            other.grad -= out.grad

        out._backward = backward
        return out

    def __rsub__(self, other):
        other = _lift(other)
        if other is None:
            return NotImplemented
        return other - self

    def __mul__(self, other):
        other = _lift(other)
        if other is None:
            return NotImplemented
        out = Var(self.value * other.value, parents=(self, other), op="*")

        def backward():
            self.grad += other.value * out.grad
            other.grad += self.value * out.grad

        out._backward = backward
        return out

    def __rmul__(self, other):
        return self.__mul__(other)

    def __truediv__(self, other):
        other = _lift(other)
        if other is None:
            return NotImplemented
        out = Var(self.value / other.value, parents=(self, other), op="/")

        def backward():
            self.grad += out.grad / other.value
            other.grad -= out.value / other.value * out.grad

        out._backward = backward
        return out

    def __rtruediv__(self, other):
        other = _lift(other)
        if other is None:
            return NotImplemented
        return other / self

    def __neg__(self):
        out = Var(-self.value, parents=(self,), op="neg")

        def backward():
            self.grad -= out.grad

        out._backward = backward
        return out

    def __pow__(self, exponent):
        if isinstance(exponent, Var):
            if self.value <= 0:
                raise ValueError(
                    f"u ** v with a Var exponent needs a positive base u, got {self.value!r}"
                )
            out = Var(self.value**exponent.value, parents=(self, exponent), op="**")

            def backward():
                self.grad += exponent.value * self.value ** (exponent.value - 1) * out.grad
                exponent.grad += out.value * math.log(self.value) * out.grad

            out._backward = backward
            return out
        if not isinstance(exponent, numbers.Real):
            return NotImplemented
        c = float(exponent)
        out = Var(math.pow(self.value, c), parents=(self,), op=f"**{c:g}")

        def backward():
            if c != 0:
                self.grad += c * math.pow(self.value, c - 1) * out.grad

        out._backward = backward
        return out

    def __rpow__(self, base):
        if not isinstance(base, numbers.Real):
            return NotImplemented
        if base <= 0:
            raise ValueError(f"c ** u with a Var exponent needs a positive base c, got {base!r}")
        out = Var(float(base) ** self.value, parents=(self,), op=f"{base:g}**")

        def backward():
            self.grad += out.value * math.log(base) * out.grad

        out._backward = backward
        return out

    def sin(self):
        out = Var(math.sin(self.value), parents=(self,), op="sin")

        def backward():
            self.grad += math.cos(self.value) * out.grad

        out._backward = backward
        return out

    def cos(self):
        out = Var(math.cos(self.value), parents=(self,), op="cos")

        def backward():
            self.grad -= math.sin(self.value) * out.grad

        out._backward = backward
        return out

    def exp(self):
        out = Var(math.exp(self.value), parents=(self,), op="exp")

        def backward():
            self.grad += out.value * out.grad

        out._backward = backward
        return out

    def log(self):
        out = Var(float_log(self.value), parents=(self,), op="log")

        def backward():
            self.grad += out.grad / self.value

        out._backward = backward
        return out

    def tanh(self):
        out = Var(math.tanh(self.value), parents=(self,), op="tanh")

        def backward():
            self.grad += (1.0 - out.value * out.value) * out.grad

        out._backward = backward
        return out

    def sigmoid(self):
        out = Var(float_sigmoid(self.value), parents=(self,), op="sigmoid")

        def backward():
            self.grad += out.value * (1.0 - out.value) * out.grad

        out._backward = backward
        return out

    def relu(self):
        out = Var(float_relu(self.value), parents=(self,), op="relu")

        def backward():
            if self.value > 0:
                self.grad += out.grad

        out._backward = backward
        return out
