"""Forward-mode automatic differentiation with dual numbers.

A dual number ``Dual(u, du)`` carries a value ``u`` and a tangent ``du = du/dt``, the
derivative of ``u`` along one chosen input direction ``t``. Every primitive maps the
values as usual and the tangents by its differential:

    d(u + v) = du + dv            d(u - v) = du - dv
    d(u v)   = u dv + v du        d(u / v) = du / v - u dv / v^2
    d(u^c)   = c u^(c-1) du       d(c^u)   = c^u log(c) du
    d(u^v)   = v u^(v-1) du + u^v log(u) dv
    d sin u  = cos u du           d cos u  = -sin u du
    d e^u    = e^u du             d log u  = du / u
    d tanh u = (1 - tanh^2 u) du  d s(u)   = s(u) (1 - s(u)) du   (s = sigmoid)
    d relu u = [u > 0] du

Forward mode replaces each statement of a program by its differential analogue and
evaluates them in the same order as the program. For the lecture example::

    a = x * y        da = x dy + y dx
    b = sin(x)       db = cos(x) dx
    z = a + b        dz = da + db

seeding ``dx = 1, dy = 0`` gives ``dz = y + cos x = dz/dx``; seeding ``dx = 0, dy = 1``
gives ``dz/dy = x``. One pass yields the derivative along one input direction, so a full
Jacobian of f: R^n -> R^m costs n passes (see ``jacobian_forward``).
"""

import math
import numbers

from course_utils.autodiff.functions import float_log, float_relu, float_sigmoid


def _lift(x):
    if isinstance(x, Dual):
        return x
    if isinstance(x, numbers.Real):
        return Dual(x, 0.0)
    return None


class Dual:
    """A value together with its tangent (directional derivative).

    Supports ``+ - * /`` and ``**`` with Duals or real numbers on either side, unary
    minus, and the methods ``sin cos exp log tanh sigmoid relu`` used by the functions of
    ``course_utils.autodiff``.
    """

    __array_ufunc__ = None

    def __init__(self, value, tangent=0.0):
        self.value = float(value)
        self.tangent = float(tangent)

    def __repr__(self):
        return f"Dual(value={self.value!r}, tangent={self.tangent!r})"

    def __add__(self, other):
        other = _lift(other)
        if other is None:
            return NotImplemented
        return Dual(self.value + other.value, self.tangent + other.tangent)

    def __radd__(self, other):
        return self.__add__(other)

    def __sub__(self, other):
        other = _lift(other)
        if other is None:
            return NotImplemented
        return Dual(self.value - other.value, self.tangent - other.tangent)

    def __rsub__(self, other):
        other = _lift(other)
        if other is None:
            return NotImplemented
        return other - self

    def __mul__(self, other):
        other = _lift(other)
        if other is None:
            return NotImplemented
        return Dual(
            self.value * other.value,
            self.value * other.tangent + other.value * self.tangent,
        )

    def __rmul__(self, other):
        return self.__mul__(other)

    def __truediv__(self, other):
        other = _lift(other)
        if other is None:
            return NotImplemented
        quotient = self.value / other.value
        return Dual(quotient, (self.tangent - quotient * other.tangent) / other.value)

    def __rtruediv__(self, other):
        other = _lift(other)
        if other is None:
            return NotImplemented
        return other / self

    def __neg__(self):
        return Dual(-self.value, -self.tangent)

    def __pow__(self, exponent):
        if isinstance(exponent, Dual):
            if self.value <= 0:
                raise ValueError(
                    f"u ** v with a dual exponent needs a positive base u, got {self.value!r}"
                )
            value = self.value**exponent.value
            return Dual(
                value,
                exponent.value * self.value ** (exponent.value - 1) * self.tangent
                + value * math.log(self.value) * exponent.tangent,
            )
        if not isinstance(exponent, numbers.Real):
            return NotImplemented
        c = float(exponent)
        slope = c * math.pow(self.value, c - 1) if c != 0 else 0.0
        return Dual(math.pow(self.value, c), slope * self.tangent)

    def __rpow__(self, base):
        if not isinstance(base, numbers.Real):
            return NotImplemented
        if base <= 0:
            raise ValueError(f"c ** u with a dual exponent needs a positive base c, got {base!r}")
        value = float(base) ** self.value
        return Dual(value, value * math.log(base) * self.tangent)

    def sin(self):
        return Dual(math.sin(self.value), math.cos(self.value) * self.tangent)

    def cos(self):
        return Dual(math.cos(self.value), -math.sin(self.value) * self.tangent)

    def exp(self):
        value = math.exp(self.value)
        return Dual(value, value * self.tangent)

    def log(self):
        return Dual(float_log(self.value), self.tangent / self.value)

    def tanh(self):
        value = math.tanh(self.value)
        return Dual(value, (1.0 - value * value) * self.tangent)

    def sigmoid(self):
        value = float_sigmoid(self.value)
        return Dual(value, value * (1.0 - value) * self.tangent)

    def relu(self):
        slope = 1.0 if self.value > 0 else 0.0
        return Dual(float_relu(self.value), slope * self.tangent)


def derivative(f, x):
    """Derivative f'(x) of a scalar function by one forward pass seeded with dx = 1.

    ``f`` is written with ``+ - * / **`` and the functions of ``course_utils.autodiff``;
    a result that does not depend on its input (a plain number) has derivative 0.
    """
    y = f(Dual(x, 1.0))
    return y.tangent if isinstance(y, Dual) else 0.0
