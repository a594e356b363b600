"""Drivers of assignment 02's hidden checks, run in the student's process.

The free names are the notebook's own (``batch_indices``, ``minibatch_gd``,
``accumulated_gradient``, ``gradient_variance``). Inputs and results are plain data.
"""

import sys
import time

import numpy as np


def mse_loss_grad(theta, X_batch, y_batch):
    """The loss every driver hands to the student's functions (half mean squared error)."""
    residual = X_batch @ theta - y_batch
    return 0.5 * float(np.mean(residual**2)), X_batch.T @ residual / len(X_batch)


def batch_level_loss_grad(theta, X_batch, y_batch):
    """A loss whose batch value is not a mean over examples (it has a batch-level term), so
    the weighted sum over micro-batches differs from one call on the whole batch."""
    residual = X_batch @ theta - y_batch
    mean = float(np.mean(residual))
    loss = (float(np.dot(residual, residual)) / len(residual) + mean**2) / 2
    grad = X_batch.T @ residual / len(X_batch) + mean * X_batch.mean(axis=0)
    return loss, grad


def traced_linreg(theta, X, y):
    """linreg_loss_grad on one batch, traced: its result, and how many lines of notebook
    code (and calls of notebook functions) ran, which grows with the batch for a Python
    loop over the examples."""
    events = [0]

    def local(frame, event, arg):
        if event == "line":
            events[0] += 1
        return local

    def trace(frame, event, arg):
        if frame.f_code.co_filename.startswith("<cell"):
            events[0] += 1
            return local
        return None

    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        loss, grad = linreg_loss_grad(theta, X, y)
    finally:
        sys.settrace(previous)
    return {"loss": loss, "grad": grad, "events": events[0]}


def epochs(n, batch_size, seed, shuffle, drop_last, num_epochs):
    """The batches of ``num_epochs`` calls of batch_indices with one generator (none for
    seed None), with the type name of each call's result, the type name and number of
    dimensions of each batch, and whether each call drew from the generator."""
    generator = None if seed is None else np.random.default_rng(seed)
    result = []
    for _epoch in range(num_epochs):
        state = None if generator is None else generator.bit_generator.state
        batches = batch_indices(n, batch_size, rng=generator, shuffle=shuffle, drop_last=drop_last)
        kind = type(batches).__name__
        batches = list(batches)
        drew = generator is not None and generator.bit_generator.state != state
        result.append(
            {
                "returned": kind,
                "batches": [np.asarray(batch) for batch in batches],
                "kinds": [[type(batch).__name__, np.ndim(batch)] for batch in batches],
                "drew": drew,
            }
        )
    return result


def refused_batch_size(n, batch_size):
    """The name of the exception batch_indices raises for a bad batch size, or 'nothing'."""
    try:
        batch_indices(n, batch_size, shuffle=False)
    except ValueError:
        return "ValueError"
    except Exception as error:
        return type(error).__name__
    return "nothing"


def gradient_descent(
    X,
    y,
    theta0,
    lr,
    batch_size,
    num_epochs,
    seed,
    shuffle,
    drop_last,
    lent_epochs,
    lent_call,
    pause=0.0,
):
    """minibatch_gd with a lent batch_indices that hands out the given epochs (plain data),
    so that a wrong batch_indices (Task 02.3) does not fail Task 02.4 as well; with
    ``pause``, each loss evaluation sleeps that long, so epochs take measurable time, and
    the call's wall time is returned with the result."""
    remaining = [list(epoch) for epoch in lent_epochs]
    generator = np.random.default_rng(seed)

    def lent_batch_indices(n, batch_size, rng=None, *, shuffle=True, drop_last=False):
        call = [n, batch_size, bool(shuffle), bool(drop_last)]
        if shuffle and rng is not generator:
            raise ValueError(
                f"minibatch_gd called batch_indices with rng={rng!r}, not with the Generator "
                "it was given (pass rng=rng in every epoch)"
            )
        if call != lent_call:
            raise ValueError(
                f"minibatch_gd called batch_indices({n}, {batch_size}, shuffle={shuffle}, "
                f"drop_last={drop_last}); this run needs batch_indices({lent_call[0]}, "
                f"{lent_call[1]}, shuffle={lent_call[2]}, drop_last={lent_call[3]})"
            )
        if not remaining:
            raise RuntimeError("minibatch_gd called batch_indices more than once per epoch")
        if shuffle and rng is not None:
            rng.permutation(n)
        return remaining.pop(0)

    def paused_loss_grad(theta, X_batch, y_batch):
        time.sleep(pause)
        return mse_loss_grad(theta, X_batch, y_batch)

    theta0_before = np.array(theta0, copy=True)
    namespace = minibatch_gd.__globals__
    had, own = "batch_indices" in namespace, namespace.get("batch_indices")
    namespace["batch_indices"] = lent_batch_indices
    started = time.perf_counter()
    try:
        theta, history = minibatch_gd(
            paused_loss_grad if pause else mse_loss_grad,
            theta0,
            X,
            y,
            lr=lr,
            batch_size=batch_size,
            num_epochs=num_epochs,
            rng=generator,
            shuffle=shuffle,
            drop_last=drop_last,
        )
    finally:
        if had:
            namespace["batch_indices"] = own
        else:
            namespace.pop("batch_indices", None)
    wall = time.perf_counter() - started
    return {
        "wall": wall,
        "theta": theta,
        "history": history,
        "kinds": {key: type(value).__name__ for key, value in history.items()},
        "theta0_changed": not np.array_equal(theta0, theta0_before),
    }


def accumulation(X, y, theta, micro_batch_size):
    """accumulated_gradient of the MSE, with every micro-batch (X and y) it evaluated."""
    parts = []

    def recording_loss_grad(theta, X_batch, y_batch):
        parts.append([np.array(X_batch), np.array(y_batch)])
        return mse_loss_grad(theta, X_batch, y_batch)

    loss, grad = accumulated_gradient(recording_loss_grad, theta, X, y, micro_batch_size)
    return {"loss": loss, "grad": grad, "parts": parts}


def micro_batches(X, y, theta, micro_batch_size):
    """accumulated_gradient of a loss that is not a mean over examples."""
    loss, grad = accumulated_gradient(batch_level_loss_grad, theta, X, y, micro_batch_size)
    return {"loss": loss, "grad": grad}


def variance(X, y, theta, batch_size, num_samples, seed):
    """gradient_variance of the MSE with a generator seeded with ``seed``, and the number of
    examples of every call of loss_grad."""
    sizes = []

    def recording_loss_grad(theta, X_batch, y_batch):
        sizes.append(len(X_batch))
        return mse_loss_grad(theta, X_batch, y_batch)

    value = gradient_variance(
        recording_loss_grad, theta, X, y, batch_size, num_samples, np.random.default_rng(seed)
    )
    return {"value": value, "sizes": sizes}
