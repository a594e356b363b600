"""Drivers of assignment 04's hidden checks, run in the student's process.

The free names are the notebook's own: ``ReduceOnPlateau`` and ``lr_range_test``, and the
schedule functions looked up by name. Inputs and results are plain data.
"""

import math

import numpy as np


def as_number(value):
    """``value`` as a float when it holds one number, else NaN (the check reports its type)."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return math.nan
    return float(array.reshape(-1)[0]) if array.size == 1 else math.nan


def schedule_rates(name, steps, order, kwargs):
    """The rate of the schedule function ``name`` at each step; the same rates evaluated
    again with the steps taken in ``order``; the first result that is not a Python number."""
    schedule = globals()[name]
    values = [schedule(t, **kwargs) for t in steps]
    again = [None] * len(steps)
    for i in order:
        again[i] = as_number(schedule(steps[i], **kwargs))
    not_a_number = [
        [i, type(v).__name__]
        for i, v in enumerate(values)
        if isinstance(v, bool) or not isinstance(v, float | int)
    ]
    return {
        "rates": [as_number(v) for v in values],
        "again": again,
        "not_a_number": not_a_number[:1],
    }


def plateau_rates(lr, metrics, kwargs):
    """The rate returned by each ``ReduceOnPlateau.step(metric)``, and ``self.lr`` after it."""
    scheduler = ReduceOnPlateau(lr, **kwargs)
    returned, kept = [], []
    for v in metrics:
        returned.append(float(scheduler.step(v)))
        kept.append(float(scheduler.lr))
    return {"returned": returned, "kept": kept}


def range_test(scripted, kwargs):
    """``lr_range_test`` over a train_step that returns the scripted losses in turn."""
    calls = []

    def train_step(lr):
        calls.append(float(lr))
        return scripted[len(calls) - 1]

    out = lr_range_test(train_step, **kwargs)
    kinds = {
        key: [type(out[key]).__name__, int(np.ndim(out[key])), str(getattr(out[key], "dtype", ""))]
        for key in ("lrs", "losses", "suggested_lr")
    }
    arrays = {
        key: isinstance(out[key], np.ndarray) and out[key].ndim == 1 and out[key].dtype.kind == "f"
        for key in ("lrs", "losses")
    }
    return {
        "calls": calls,
        "lrs": [float(v) for v in out["lrs"]],
        "losses": [float(v) for v in out["losses"]],
        "suggested_lr": as_number(out["suggested_lr"]),
        "kinds": kinds,
        "arrays": arrays,
        "float_suggestion": isinstance(out["suggested_lr"], float),
    }
