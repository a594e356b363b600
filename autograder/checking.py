"""What hidden checks are written with: the task marker and comparison helpers.

A hidden check is a pytest test function in ``autograder/checks/test_<assignment>.py``::

    from autograder.checking import expect_close, task

    @task("01.2")
    def test_sin_tangent(student, rng):
        \"\"\"sin(Dual(x, 1)) carries the tangent cos(x)\"\"\"
        x = rng.uniform(-3, 3, size=5)
        got = student.run("result = [sin(Dual(v, 1.0)).tangent for v in xs]", xs=x)
        expect_close(got, np.cos(x), rtol=1e-12, what="tangent of sin(Dual(x, 1))")

- ``@task(ID)`` ties the check to a task: the task scores its points only when every one
  of its checks passes.
- The first line of the docstring says what was checked; feedback shows it to students.
- ``student`` (see :class:`autograder.grading.Student`) runs the student's code in the
  child process and returns plain data; ``rng`` is a ``numpy.random.Generator`` seeded
  afresh on every grading run, so answers cannot be precomputed.
- Drivers are functions in ``autograder/checks/drivers/<assignment>.py``, an ordinary
  linted Python file; ``DRIVERS = Drivers(__file__)`` in a check module reads it, and
  ``DRIVERS.run(student, "name", **inputs)`` sends the text of that function (with the
  file's imports and the functions it uses) to the student's process and calls
  ``name(**inputs)`` there, in a copy of the notebook's namespace (the student's
  names are the file's free names). The file is never imported, here or there.
- Driver snippets (the code of ``student.run``) and their inputs are public by design:
  student code can read both, so a driver only calls the student's functions on the
  inputs; expected values, reference code and verdicts stay in the check. Where a check
  lends the student a helper (02.4's batches, 03.7's Adam step), it is plain data or
  public library code, never ours.
- Failures are raised with :class:`CheckFailed` (the ``expect_*`` helpers do it). Their
  message is the feedback: it says how the answer differed, never the check's code.
  Do not use bare ``assert``: checks run without pytest's assertion rewriting.

Tolerances (documented for students in the notebooks): results computed in float64 are
compared with ``rtol=1e-8`` unless a check says otherwise (an order of summation that
differs from the reference changes the last digits); float32 results with ``rtol=1e-5``.
"""

import ast
from pathlib import Path

import numpy as np
import pytest


class CheckFailed(AssertionError):
    """A hidden check found a wrong answer; the message is shown to the student."""


class Drivers:
    """The driver functions of one assignment, read from ``drivers/<assignment>.py`` next
    to the check module ``check_file`` (``test_<assignment>.py``)."""

    def __init__(self, check_file):
        check_file = Path(check_file)
        assignment = check_file.stem.removeprefix("test_")
        self.path = check_file.parent / "drivers" / f"{assignment}.py"
        self.text = self.path.read_text(encoding="utf-8")
        tree = ast.parse(self.text)
        self._imports = [
            ast.get_source_segment(self.text, node)
            for node in tree.body
            if isinstance(node, ast.Import | ast.ImportFrom)
        ]
        self._functions = {
            node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)
        }
        self.names = set(self._functions)
        self._code = {}  # (driver, input names) -> the text code() sends

    def _needed(self, driver):
        """``driver`` and the functions of the file it uses, directly or through others."""
        needed, todo = [], [driver]
        while todo:
            name = todo.pop()
            if name in needed:
                continue
            needed.append(name)
            used = {n.id for n in ast.walk(self._functions[name]) if isinstance(n, ast.Name)}
            todo.extend(sorted(used & self.names))
        return sorted(needed, key=lambda n: self._functions[n].lineno)

    def code(self, driver, inputs):
        """The text sent to the student's process: the file's imports, ``driver`` and the
        functions it uses (nothing else of the file), then ``result = driver(...)``."""
        if driver not in self.names:
            raise KeyError(f"{self.path} defines no driver {driver!r}")
        key = (driver, tuple(inputs))
        if key not in self._code:  # made once per driver: a batch sends each many times
            parts = self._imports + [
                ast.get_source_segment(self.text, self._functions[name])
                for name in self._needed(driver)
            ]
            arguments = ", ".join(f"{name}={name}" for name in inputs)
            self._code[key] = "\n\n\n".join(parts) + f"\n\n\nresult = {driver}({arguments})\n"
        return self._code[key]

    def load(self, name):
        """A function of the file, defined on the trusted side (for a check's own use)."""
        if name not in self.names:
            raise KeyError(f"{self.path} defines no function {name!r}")
        namespace = {}
        exec(compile(self.text, str(self.path), "exec"), namespace)
        return namespace[name]

    def run(self, student, driver, /, *, timeout=None, **inputs):
        """Call the function ``driver`` of the file with ``inputs`` in the student's process.

        When the student's code raises, hangs or crashes, the message names the call and
        its inputs (arrays summarised), so the student can reproduce it."""
        return student.run(
            self.code(driver, inputs),
            timeout=timeout,
            call_text=lambda: f"ran {call_text(driver, inputs)}",  # only on a failure
            **inputs,
        )


def call_text(name, inputs, limit=400):
    """``name(key=value, ...)`` with each value summarised, at most about ``limit`` chars."""
    text = f"{name}({', '.join(f'{k}={_summary(v, 4)}' for k, v in inputs.items())})"
    return text if len(text) <= limit else text[: limit - 4] + " ...)"


def task(task_id):
    """Mark a hidden check as belonging to task ``task_id`` (e.g. ``"01.3"``)."""
    return pytest.mark.task(task_id)


def fail(message):
    raise CheckFailed(message)


def _summary(value, limit=6, digits=6):
    """A short text for ``value``: a 0-d array as its number, larger arrays by shape and
    their first ``limit`` entries to ``digits`` significant digits."""
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            item = value.item()
            return f"{item:.{digits}g}" if isinstance(item, float) else repr(item)
        flat = value.ravel()
        with np.printoptions(precision=digits - 1, floatmode="maxprec", legacy=False):
            shown = np.array2string(
                flat[:limit], separator=", ", formatter=_digits_formatter(flat, digits)
            )
        more = f" (+{flat.size - limit} more)" if flat.size > limit else ""
        return f"array of shape {value.shape}: {shown}{more}"
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _digits_formatter(flat, digits):
    if flat.dtype.kind != "f":
        return None
    return {"float_kind": lambda x: f"{x:.{digits}g}"}


def _digits_for(rtol):
    """Significant digits that show a difference larger than ``rtol`` (6 to 17)."""
    if not rtol or rtol <= 0:
        return 17
    return int(min(17, max(6, np.ceil(-np.log10(rtol)) + 2)))


def _as_float_array(value, what):
    if value is None:
        fail(f"{what}: expected numbers, got None (did the function return its result?)")
    if isinstance(value, str | bytes | dict):
        fail(f"{what}: expected numbers, got {type(value).__name__} {_summary(value)}")
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        fail(f"{what}: expected numbers, got {_summary(value)}")
    return array


def expect_close(actual, expected, *, rtol=1e-8, atol=0.0, what="result"):
    """Fail unless ``actual`` has ``expected``'s shape and values within the tolerances."""
    expected = np.asarray(expected, dtype=np.float64)
    actual = _as_float_array(actual, what)
    if actual.shape != expected.shape:
        fail(f"{what}: expected shape {expected.shape}, got shape {actual.shape}")
    both_nan = np.isnan(actual) & np.isnan(expected)
    if np.any(np.isnan(actual) & ~both_nan):
        fail(f"{what}: got NaN where {_summary(expected)} was expected")
    error = np.abs(actual - expected)
    allowed = atol + rtol * np.abs(expected)
    bad = ~both_nan & ~(error <= allowed)
    if np.any(bad):
        index = np.unravel_index(np.argmax(np.where(bad, error - allowed, -np.inf)), bad.shape)
        tolerance = f"(tolerance rtol={rtol:g}, atol={atol:g})"
        if expected.ndim == 0:
            fail(f"{what}: expected {float(expected)!r}, got {float(actual)!r} {tolerance}")
        digits = _digits_for(rtol)
        fail(
            f"{what}: expected {_summary(expected, digits=digits)}, got "
            f"{_summary(actual, digits=digits)}; {int(bad.sum())} of {bad.size} values "
            f"differ, e.g. at index {tuple(int(i) for i in index)} expected "
            f"{float(expected[index])!r} but got {float(actual[index])!r} {tolerance}"
        )


def expect_equal(actual, expected, *, what="result"):
    """Fail unless ``actual == expected`` for plain data (ints, strings, lists of them)."""
    if isinstance(expected, np.ndarray) or isinstance(actual, np.ndarray):
        if not (np.shape(actual) == np.shape(expected) and np.array_equal(actual, expected)):
            fail(f"{what}: expected {_summary(expected)}, got {_summary(actual)}")
        return
    if type(actual) is not type(expected) or actual != expected:
        fail(f"{what}: expected {_summary(expected)}, got {_summary(actual)}")


def expect_true(condition, message):
    """Fail with ``message`` unless ``condition`` holds."""
    if not condition:
        fail(message)
