"""Elementary functions that work on every kind of number in this package.

``sin(x)`` calls ``x.sin()`` when ``x`` has such a method (``Dual``, ``Var``, ``Tensor``)
and otherwise evaluates the plain float ``math`` version. One expression written with
these functions therefore runs unchanged on floats, on dual numbers (forward mode) and on
recorded graphs (reverse mode). Each class states the derivative of the primitive where
it implements the method.

The ``float_*`` helpers are the float versions that the classes share for their values.
"""

import math


def float_log(x):
    """Natural logarithm of a positive float; raise ValueError otherwise."""
    if x <= 0:
        raise ValueError(f"log is defined for positive numbers only, got {x!r}")
    return math.log(x)


def float_sigmoid(x):
    """Logistic function 1 / (1 + e^-x), written so that exp never overflows."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def float_relu(x):
    """max(x, 0) as a float."""
    return float(x) if x > 0 else 0.0


def _apply(name, x, float_fn):
    method = getattr(x, name, None)
    if method is not None:
        return method()
    return float_fn(float(x))


def sin(x):
    """Sine; d sin u = cos u du."""
    return _apply("sin", x, math.sin)


def cos(x):
    """Cosine; d cos u = -sin u du."""
    return _apply("cos", x, math.cos)


def exp(x):
    """Exponential; d e^u = e^u du."""
    return _apply("exp", x, math.exp)


def log(x):
    """Natural logarithm of a positive argument; d log u = du / u."""
    return _apply("log", x, float_log)


def tanh(x):
    """Hyperbolic tangent; d tanh u = (1 - tanh^2 u) du."""
    return _apply("tanh", x, math.tanh)


def sigmoid(x):
    """Logistic function s(u) = 1 / (1 + e^-u); d s(u) = s(u) (1 - s(u)) du."""
    return _apply("sigmoid", x, float_sigmoid)


def relu(x):
    """max(u, 0); d relu u = [u > 0] du (the derivative at 0 is taken to be 0, as in torch)."""
    return _apply("relu", x, float_relu)
