"""Argument checks shared by the schedules: each raises ValueError naming the argument."""

import math
from numbers import Integral, Real


def _fail(name, value, requirement):
    raise ValueError(f"Invalid {name}: {value!r} ({name} must be {requirement})")


def is_int(value):
    return isinstance(value, Integral) and not isinstance(value, bool)


def is_real(value):
    return isinstance(value, Real) and not isinstance(value, bool)


def positive_int(name, value):
    if not (is_int(value) and value > 0):
        _fail(name, value, "a positive integer")
    return int(value)


def nonnegative_int(name, value):
    if not (is_int(value) and value >= 0):
        _fail(name, value, "an integer >= 0")
    return int(value)


def positive(name, value):
    if not (is_real(value) and value > 0 and math.isfinite(value)):
        _fail(name, value, "a finite number > 0")
    return float(value)


def nonnegative(name, value):
    if not (is_real(value) and value >= 0 and math.isfinite(value)):
        _fail(name, value, "a finite number >= 0")
    return float(value)


def in_interval(name, value, low, high, *, low_open=False, high_open=False):
    """Check ``low <(=) value <(=) high``; the brackets in the message show which ends are open."""
    ok = is_real(value) and (value > low if low_open else value >= low)
    ok = ok and (value < high if high_open else value <= high)
    if not ok:
        interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        _fail(name, value, f"in {interval}")
    return float(value)


def finite(name, value):
    if not (is_real(value) and math.isfinite(value)):
        _fail(name, value, "a finite number")
    return float(value)


def number(name, value):
    """A real number or a one-element tensor (torch accepts tensor rates), as a float."""
    if hasattr(value, "numel") and hasattr(value, "item"):
        if value.numel() != 1:
            _fail(name, value, "a number or a one-element tensor")
        return float(value.item())
    if not is_real(value):
        _fail(name, value, "a number or a one-element tensor")
    return float(value)


def choice(name, value, choices):
    if value not in choices:
        _fail(name, value, "one of " + ", ".join(repr(c) for c in choices))
    return value


def step_count(t, name="t"):
    """A step count: a finite real number >= 0 (fractional values are allowed)."""
    if not (is_real(t) and t >= 0 and math.isfinite(t)):
        _fail(name, t, "a finite number >= 0")
    return t


def nonnegative_ints(name, values):
    try:
        values = list(values)
    except TypeError:
        _fail(name, values, "a list of integers >= 0")
    if not all(is_int(v) and v >= 0 for v in values):
        _fail(name, values, "a list of integers >= 0")
    return [int(v) for v in values]


def increasing_ints(name, values):
    values = list(values)
    if not all(is_int(v) and v >= 0 for v in values):
        _fail(name, values, "a list of integers >= 0")
    if any(b <= a for a, b in zip(values, values[1:], strict=False)):
        _fail(name, values, "strictly increasing")
    return [int(v) for v in values]
