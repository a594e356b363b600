"""Drivers of assignment 04's hidden checks, run in the student's process.

The free names are the notebook's own: ``ReduceOnPlateau`` and ``lr_range_test``, and the
schedule functions looked up by name. Inputs and results are plain data.
"""


def schedule_rates(name, steps, kwargs):
    """The rate of the schedule function ``name`` at each step."""
    schedule = globals()[name]
    return [float(schedule(t, **kwargs)) for t in steps]


def plateau_rates(lr, metrics, kwargs):
    """The rate after each ``ReduceOnPlateau.step(metric)``."""
    scheduler = ReduceOnPlateau(lr, **kwargs)
    return [float(scheduler.step(v)) for v in metrics]


def range_test(scripted, kwargs):
    """``lr_range_test`` over a train_step that returns the scripted losses in turn."""
    calls = []

    def train_step(lr):
        calls.append(float(lr))
        return scripted[len(calls) - 1]

    out = lr_range_test(train_step, **kwargs)
    return {
        "calls": calls,
        "lrs": [float(v) for v in out["lrs"]],
        "losses": [float(v) for v in out["losses"]],
        "suggested_lr": float(out["suggested_lr"]),
    }
