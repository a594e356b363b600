"""Reverse-mode automatic differentiation on numpy arrays.

``Tensor`` is the array version of ``Var``: a float64 array ``data``, an adjoint ``grad``
of the same shape, and one ``_backward`` closure per operation that adds the
vector-Jacobian product of that operation to its parents' adjoints. For a loss L and
G = dL/dout:

    out = A @ B            dL/dA += G B^T,             dL/dB += A^T G
    out = a * b            dL/da += G b,               dL/db += G a   (elementwise)
    out = a / b            dL/da += G / b,             dL/db -= G a / b^2
    out = a ** c           dL/da += G c a^(c-1)
    out = a.sum(axis)      dL/da += G broadcast back over the summed axes
    out = f(a)             dL/da += G f'(a)            for exp, log, tanh, sigmoid, relu

Broadcasting: when numpy stretches an operand of shape (1, 4) or (4,) to (3, 4), every
copy contributes to the gradient, so the incoming gradient is summed over the stretched
axes back to the operand's own shape (``unbroadcast``).
"""

import numbers

import numpy as np

from course_utils.autodiff.reverse import topological_order


def unbroadcast(grad, shape):
    """Sum ``grad`` over the axes that broadcasting added or stretched, giving ``shape``.

    Leading axes that the operand did not have are summed away; axes where the operand
    has length 1 are summed with ``keepdims=True``.
    """
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


def _stable_sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _lift(x):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, numbers.Real | np.ndarray | list | tuple):
        return Tensor(x)
    return None


class Tensor:
    """A float64 array node of a computation graph, with adjoint ``grad``.

    Supports broadcasting ``+ - * /``, ``** c`` for a real constant c, unary minus, ``@``
    between 2-D tensors, ``sum``, ``mean``, ``reshape``, ``transpose`` / ``T`` and the
    methods ``exp log tanh sigmoid relu`` (also ``sin`` and ``cos``). numpy arrays and
    numbers mixed into an expression become constant input nodes.
    """

    __array_ufunc__ = None

    def __init__(self, data, parents=(), op=""):
        self.data = np.array(data, dtype=np.float64)
        self.grad = np.zeros_like(self.data)
        self.parents = parents
        self.op = op
        self._backward = lambda: None

    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    def __repr__(self):
        return f"Tensor({self.data!r}, op={self.op!r})"

    def item(self):
        """The value of a one-element tensor as a Python float."""
        return self.data.item()

    def backward(self, grad=None):
        """Compute ``node.grad = d <grad, self> / d node`` for every node of the graph.

        For a one-element tensor ``grad`` defaults to 1 (the gradient of the value itself);
        any other tensor needs a seed ``grad`` of its shape. All adjoints of the graph
        are reset to 0 first, so calling it twice gives the same result.
        """
        if grad is None:
            if self.data.size != 1:
                raise ValueError(
                    f"backward() on a Tensor of shape {self.shape} needs a seed gradient "
                    "`grad` of the same shape (only one-element tensors default to 1)"
                )
            grad = np.ones_like(self.data)
        grad = np.asarray(grad, dtype=np.float64)
        if grad.shape != self.shape:
            raise ValueError(
                f"Seed gradient of shape {grad.shape} does not match the Tensor's shape "
                f"{self.shape}"
            )
        order = topological_order(self)
        for node in order:
            node.grad = np.zeros_like(node.data)
        self.grad = grad.copy()
        for node in reversed(order):
            node._backward()

    def __add__(self, other):
        other = _lift(other)
        if other is None:
            return NotImplemented
        out = Tensor(self.data + other.data, parents=(self, other), op="+")

        def backward():
            self.grad += unbroadcast(out.grad, self.shape)
            other.grad += unbroadcast(out.grad, other.shape)

        out._backward = backward
        return out

    def __radd__(self, other):
        return self.__add__(other)

    def __sub__(self, other):
        other = _lift(other)
        if other is None:
            return NotImplemented
        out = Tensor(self.data - other.data, parents=(self, other), op="-")

        def backward():
            self.grad += unbroadcast(out.grad, self.shape)
            other.grad -= unbroadcast(out.grad, other.shape)

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
        out = Tensor(self.data * other.data, parents=(self, other), op="*")

        def backward():
            self.grad += unbroadcast(out.grad * other.data, self.shape)
            other.grad += unbroadcast(out.grad * self.data, other.shape)

        out._backward = backward
        return out

    def __rmul__(self, other):
        return self.__mul__(other)

    def __truediv__(self, other):
        other = _lift(other)
        if other is None:
            return NotImplemented
        out = Tensor(self.data / other.data, parents=(self, other), op="/")

        def backward():
            self.grad += unbroadcast(out.grad / other.data, self.shape)
            other.grad -= unbroadcast(out.grad * out.data / other.data, other.shape)

        out._backward = backward
        return out

    def __rtruediv__(self, other):
        other = _lift(other)
        if other is None:
            return NotImplemented
        return other / self

    def __neg__(self):
        out = Tensor(-self.data, parents=(self,), op="neg")

        def backward():
            self.grad -= out.grad

        out._backward = backward
        return out

    def __pow__(self, exponent):
        if not isinstance(exponent, numbers.Real):
            return NotImplemented
        c = float(exponent)
        out = Tensor(self.data**c, parents=(self,), op=f"**{c:g}")

        def backward():
            if c != 0:
                self.grad += c * self.data ** (c - 1) * out.grad

        out._backward = backward
        return out

    def __matmul__(self, other):
        other = _lift(other)
        if other is None:
            return NotImplemented
        if self.ndim != 2 or other.ndim != 2:
            raise ValueError(
                f"@ is implemented for 2-D tensors only, got shapes {self.shape} and {other.shape}"
            )
        out = Tensor(self.data @ other.data, parents=(self, other), op="@")

        def backward():
            self.grad += out.grad @ other.data.T
            other.grad += self.data.T @ out.grad

        out._backward = backward
        return out

    def __rmatmul__(self, other):
        other = _lift(other)
        if other is None:
            return NotImplemented
        return other @ self

    def sum(self, axis=None, keepdims=False):
        """Sum over ``axis`` (an int, a tuple of ints, or None for all axes)."""
        out = Tensor(self.data.sum(axis=axis, keepdims=keepdims), parents=(self,), op="sum")

        def backward():
            grad = out.grad
            if axis is not None and not keepdims:
                grad = np.expand_dims(grad, _normalize_axes(axis, self.ndim))
            self.grad += np.broadcast_to(grad, self.shape)

        out._backward = backward
        return out

    def mean(self, axis=None, keepdims=False):
        """Mean over ``axis``: the sum divided by the number of summed entries."""
        total = self.sum(axis=axis, keepdims=keepdims)
        return total / (self.data.size // total.data.size)

    def reshape(self, *shape):
        """The same entries in a new shape (``reshape(2, 3)`` or ``reshape((2, 3))``)."""
        if len(shape) == 1 and isinstance(shape[0], tuple | list):
            shape = tuple(shape[0])
        out = Tensor(self.data.reshape(shape), parents=(self,), op="reshape")

        def backward():
            self.grad += out.grad.reshape(self.shape)

        out._backward = backward
        return out

    def transpose(self, *axes):
        """Permute the axes (reverse them when none are given), as ``numpy.transpose``."""
        axes = axes[0] if len(axes) == 1 and isinstance(axes[0], tuple | list) else axes
        axes = tuple(axes) or tuple(reversed(range(self.ndim)))
        out = Tensor(self.data.transpose(axes), parents=(self,), op="transpose")

        def backward():
            self.grad += out.grad.transpose(np.argsort(axes))

        out._backward = backward
        return out

    @property
    def T(self):
        return self.transpose()

    def _elementwise(self, op, value, slope):
        out = Tensor(value, parents=(self,), op=op)

        def backward():
            self.grad += slope * out.grad

        out._backward = backward
        return out

    def sin(self):
        return self._elementwise("sin", np.sin(self.data), np.cos(self.data))

    def cos(self):
        return self._elementwise("cos", np.cos(self.data), -np.sin(self.data))

    def exp(self):
        value = np.exp(self.data)
        return self._elementwise("exp", value, value)

    def log(self):
        if np.any(self.data <= 0):
            raise ValueError(
                f"log is defined for positive numbers only, got minimum {self.data.min()!r}"
            )
        return self._elementwise("log", np.log(self.data), 1.0 / self.data)

    def tanh(self):
        value = np.tanh(self.data)
        return self._elementwise("tanh", value, 1.0 - value**2)

    def sigmoid(self):
        value = _stable_sigmoid(self.data)
        return self._elementwise("sigmoid", value, value * (1.0 - value))

    def relu(self):
        return self._elementwise(
            "relu", np.maximum(self.data, 0.0), (self.data > 0).astype(np.float64)
        )


def _normalize_axes(axis, ndim):
    axes = axis if isinstance(axis, tuple) else (axis,)
    return tuple(a % ndim for a in axes)


def softmax_cross_entropy(logits, labels):
    """Mean cross-entropy of softmax(logits) against integer class labels.

    For logits z of shape (N, C) and labels y in {0, ..., C-1}:

        L = (1/N) sum_i [ logsumexp(z_i) - z_i[y_i] ],
        logsumexp(z_i) = m_i + log sum_j exp(z_ij - m_i),  m_i = max_j z_ij,

    where subtracting the row maximum keeps every exp() in (0, 1]. The gradient is
    dL/dz_i = (softmax(z_i) - onehot(y_i)) / N.
    """
    logits = _lift(logits)
    labels = np.asarray(labels)
    if logits is None or logits.ndim != 2:
        raise ValueError("softmax_cross_entropy needs 2-D logits of shape (N, C)")
    n, num_classes = logits.shape
    if n == 0:
        raise ValueError("softmax_cross_entropy needs at least one row of logits")
    if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"labels must be integers of shape ({n},), got dtype {labels.dtype} and shape "
            f"{labels.shape}"
        )
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(
            f"labels must lie in [0, {num_classes - 1}], got values from {labels.min()} "
            f"to {labels.max()}"
        )
    shifted = logits.data - logits.data.max(axis=1, keepdims=True)
    log_sum_exp = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    log_probs = shifted - log_sum_exp
    rows = np.arange(n)
    out = Tensor(-log_probs[rows, labels].mean(), parents=(logits,), op="softmax_xent")

    def backward():
        grad = np.exp(log_probs)
        grad[rows, labels] -= 1.0
        logits.grad += grad * (out.grad / n)

    out._backward = backward
    return out
