"""Hidden checks of assignment 02 (gradient descent and batching).

Every check draws its data, shapes, batch sizes, epochs and seeds from ``rng``; the expected
values come from :mod:`course_utils.batching` with the same seeds, or from formulas worked
out here. Batch sizes that do not divide the number of examples are always among the cases.
Loss functions handed to student functions are defined in ``drivers/02_batching.py``, so
a wrong Task 02.1 does not fail the tasks that take ``loss_grad`` as an argument.
"""

import itertools
import time

import numpy as np

from autograder.checking import (
    CheckFailed,
    Drivers,
    expect_close,
    expect_equal,
    expect_true,
    task,
)
from course_utils import batching

REFERENCE_SETUP = "from course_utils.answers.batching import *"
ANSWER_IMPORTS = ("math", "numpy")  # and the standard library: the notebook's rules
DRIVERS = Drivers(__file__)

RTOL = 1e-8
ATOL = 1e-12


def _regression_data(rng, n, d, noise=0.5):
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + noise * rng.standard_normal(n)
    return X, y


def _non_divisor(rng, n):
    """A batch size 2 <= b < n that does not divide n (n >= 3)."""
    choices = [b for b in range(2, n) if n % b]
    return int(rng.choice(choices))


def _seed(rng):
    return int(rng.integers(2**31))


def _number(value, what):
    """A scalar result as a float: a float, an int or a NumPy scalar (which arrives as a
    0-d array); an array of one element is not a number."""
    if isinstance(value, np.ndarray):
        ok = value.ndim == 0 and value.dtype.kind in "iuf"
    else:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok:
        shown = (
            repr(value) if not isinstance(value, np.ndarray) else f"an array of shape {value.shape}"
        )
        raise CheckFailed(f"{what}: expected a single number, got {shown[:120]}")
    return float(np.asarray(value).reshape(()))


def _numbers(values, what):
    """A list of scalar results as a 1-D float array."""
    if isinstance(values, np.ndarray) and values.ndim == 1:
        values = list(values)
    if not isinstance(values, list | tuple):
        raise CheckFailed(f"{what}: expected a list of numbers, got {type(values).__name__}")
    return np.array([_number(v, f"{what}[{i}]") for i, v in enumerate(values)])


def _loss_and_grad(result, what):
    expect_true(
        isinstance(result, list | tuple) and len(result) == 2,
        f"{what}: expected a pair (loss, grad), got {type(result).__name__}",
    )
    return result


# ----------------------------------------------------------------------------- 02.1


@task("02.1")
def test_linreg_loss_grad_random_batches(student, rng):
    """linreg_loss_grad: mean loss and gradient on random batches, including b = 1"""
    for b in [1, int(rng.integers(2, 8)), int(rng.integers(20, 60))]:
        d = int(rng.integers(1, 7))
        X, y = _regression_data(rng, b, d)
        theta = rng.standard_normal(d)
        loss, grad = _loss_and_grad(
            student.call("linreg_loss_grad", theta, X, y), "linreg_loss_grad"
        )
        ref_loss, ref_grad = batching.linear_regression_loss_grad(theta, X, y)
        what = f"linreg_loss_grad(theta, X, y) with b={b}, d={d}"
        expect_close(_number(loss, f"{what}: loss"), ref_loss, rtol=RTOL, what=f"{what}: loss")
        expect_close(grad, ref_grad, rtol=RTOL, atol=ATOL, what=f"{what}: gradient")


@task("02.1")
def test_linreg_loss_grad_vectorized(student, rng):
    """linreg_loss_grad is vectorized: no Python loop over the examples of the batch"""
    b, d = int(rng.integers(60, 90)), int(rng.integers(2, 5))
    X, y = _regression_data(rng, b, d)
    theta = rng.standard_normal(d)
    got = DRIVERS.run(student, "traced_linreg", theta=theta, X=X, y=y)
    call = f"linreg_loss_grad(theta, X, y) with b={b}, d={d}"
    ref_loss, ref_grad = batching.linear_regression_loss_grad(theta, X, y)
    expect_close(_number(got["loss"], f"{call}: loss"), ref_loss, rtol=RTOL, what=f"{call}: loss")
    expect_close(got["grad"], ref_grad, rtol=RTOL, atol=ATOL, what=f"{call}: gradient")
    expect_true(
        got["events"] < b,
        f"{call} ran {got['events']} lines of your code, more than one per example: write it "
        "vectorized (X @ theta, X.T @ residual), with no Python loop over the examples",
    )


# ----------------------------------------------------------------------------- 02.2


@task("02.2")
def test_logreg_loss_grad_random_batches(student, rng):
    """logreg_loss_grad: mean binary cross-entropy and gradient on random batches"""
    for b in [1, int(rng.integers(5, 40))]:
        d = int(rng.integers(1, 6))
        X = rng.standard_normal((b, d))
        y = (rng.random(b) < 0.5).astype(np.float64)
        theta = rng.standard_normal(d)
        loss, grad = _loss_and_grad(
            student.call("logreg_loss_grad", theta, X, y), "logreg_loss_grad"
        )
        ref_loss, ref_grad = batching.logistic_regression_loss_grad(theta, X, y)
        what = f"logreg_loss_grad(theta, X, y) with b={b}, d={d}"
        expect_close(_number(loss, f"{what}: loss"), ref_loss, rtol=RTOL, what=f"{what}: loss")
        expect_close(grad, ref_grad, rtol=RTOL, atol=ATOL, what=f"{what}: gradient")


@task("02.2")
def test_logreg_loss_grad_large_logits(student, rng):
    """logreg_loss_grad: finite and accurate for logits of magnitude up to 1000"""
    b, d = int(rng.integers(3, 10)), int(rng.integers(2, 5))
    half = rng.standard_normal((b, d))
    X = np.vstack([half, -half])  # logits of both signs with the same magnitudes
    y = (rng.random(2 * b) < 0.5).astype(np.float64)
    theta = rng.standard_normal(d)
    theta *= rng.uniform(750, 1000) / np.max(np.abs(X @ theta))
    loss, grad = _loss_and_grad(student.call("logreg_loss_grad", theta, X, y), "logreg_loss_grad")
    ref_loss, ref_grad = batching.logistic_regression_loss_grad(theta, X, y)
    largest = float(np.max(np.abs(X @ theta)))
    what = f"loss with logits up to |z| = {largest:.0f}"
    expect_close(_number(loss, what), ref_loss, rtol=RTOL, what=what)
    expect_close(
        grad, ref_grad, rtol=RTOL, atol=ATOL, what=f"gradient with logits up to |z| = {largest:.0f}"
    )


# ----------------------------------------------------------------------------- 02.3


def _reference_epochs(n, batch_size, seed, shuffle, drop_last, num_epochs):
    generator = np.random.default_rng(seed)
    return [
        list(
            batching.batch_indices(
                n, batch_size, shuffle=shuffle, rng=generator, drop_last=drop_last
            )
        )
        for _ in range(num_epochs)
    ]


def _expect_same_epochs(got, expected, what, shuffle):
    expect_true(
        isinstance(got, list) and len(got) == len(expected),
        f"{what}: could not read the batches of {len(expected)} epochs",
    )
    for epoch, (call, expected_batches) in enumerate(zip(got, expected, strict=True), 1):
        where = f"{what}, epoch {epoch}"
        expect_true(
            call["returned"] == "list",
            f"{where}: batch_indices returned a {call['returned']}; return the list of the "
            "batches' index arrays",
        )
        if not shuffle:
            expect_true(not call["drew"], f"{where}: with shuffle=False, rng must not be used")
        got_batches = call["batches"]
        expect_equal(len(got_batches), len(expected_batches), what=f"{where}: number of batches")
        for k, (batch, (kind, ndim), expected_batch) in enumerate(
            zip(got_batches, call["kinds"], expected_batches, strict=True)
        ):
            expect_true(
                kind == "ndarray" and ndim == 1 and batch.dtype.kind in "iu",
                f"{where}, batch {k}: expected a 1-D NumPy integer array, got a {kind} with "
                f"{ndim} dimension(s) and dtype {batch.dtype}",
            )
            expect_equal(batch, expected_batch, what=f"{where}, batch {k}")


@task("02.3")
def test_batch_indices_shuffled_epochs(student, rng):
    """batch_indices: one rng.permutation(n) per epoch, slices of batch_size, the partial batch"""
    n = int(rng.choice([12, 20, 21, 25, 33, 34, 45]))
    cases = [(b, drop_last) for b in [_non_divisor(rng, n), 1, n] for drop_last in [False, True]]
    for batch_size, drop_last in [*cases, (n + int(rng.integers(1, 5)), False)]:
        seed, num_epochs = _seed(rng), int(rng.integers(2, 4))
        inputs = dict(n=n, batch_size=batch_size, shuffle=True, drop_last=drop_last)
        got = DRIVERS.run(student, "epochs", seed=seed, num_epochs=num_epochs, **inputs)
        expected = _reference_epochs(n, batch_size, seed, True, drop_last, num_epochs)
        what = f"batch_indices({n}, {batch_size}, rng, drop_last={drop_last})"
        _expect_same_epochs(got, expected, what, shuffle=True)


@task("02.3")
def test_batch_indices_in_order_and_edge_cases(student, rng):
    """batch_indices: shuffle=False (rng unused, or None), batch_size >= n, ValueError for
    batch_size < 1"""
    n = int(rng.integers(5, 30))
    cases = [(n, int(rng.integers(1, n)), False, 0), (n, n + int(rng.integers(1, 5)), False, 0)]
    cases += [(n, n + 1, True, 0), (n, n, True, 0), (n, int(rng.integers(1, n)), False, None)]
    for n_case, batch_size, drop_last, seed in cases:
        got = DRIVERS.run(
            student,
            "epochs",
            n=n_case,
            batch_size=batch_size,
            seed=seed,
            shuffle=False,
            drop_last=drop_last,
            num_epochs=1,
        )
        expected = _reference_epochs(n_case, batch_size, 0, False, drop_last, 1)
        rng_text = "rng=None" if seed is None else "rng"
        what = (
            f"batch_indices({n_case}, {batch_size}, {rng_text}, shuffle=False, "
            f"drop_last={drop_last})"
        )
        _expect_same_epochs(got, expected, what, shuffle=False)
    for bad in [0, -int(rng.integers(1, 5))]:
        raised = DRIVERS.run(student, "refused_batch_size", n=n, batch_size=bad)
        expect_equal(raised, "ValueError", what=f"batch_indices({n}, {bad}) raised")


# ----------------------------------------------------------------------------- 02.4


def _replay(theta0, X, y, lr, epochs):
    """Gradient descent along the given batches: (theta, full-data losses, step losses)."""
    loss_grad = batching.linear_regression_loss_grad
    theta = np.array(theta0, dtype=np.float64)
    losses, step_losses = [loss_grad(theta, X, y)[0]], []
    for batches in epochs:
        for batch in batches:
            idx = np.asarray(batch)
            if idx.ndim != 1 or idx.dtype.kind not in "iu":
                raise TypeError("not a batch of indices")
            batch_loss, grad = loss_grad(theta, X[idx], y[idx])
            step_losses.append(batch_loss)
            theta = theta - lr * grad
        losses.append(loss_grad(theta, X, y)[0])
    return theta, losses, step_losses


def _run_gd(
    student, rng, *, n, d, batch_size, num_epochs, shuffle, drop_last, int_theta0=False, pause=0.0
):
    X, y = _regression_data(rng, n, d)
    theta0 = rng.integers(-2, 3, d) if int_theta0 else rng.standard_normal(d)
    lr = float(rng.uniform(0.02, 0.1))
    seed = _seed(rng)
    reference = _reference_epochs(n, batch_size, seed, shuffle, drop_last, num_epochs)
    got = DRIVERS.run(
        student,
        "gradient_descent",
        X=X,
        y=y,
        theta0=theta0,
        lr=lr,
        batch_size=batch_size,
        num_epochs=num_epochs,
        seed=seed,
        shuffle=shuffle,
        drop_last=drop_last,
        lent_epochs=reference,
        lent_call=[n, batch_size, shuffle, drop_last],
        pause=pause,
    )
    name = {1: "SGD", n: "BGD"}.get(batch_size, "MBGD")
    what = (
        f"{name}: minibatch_gd with n={n}, batch_size={batch_size}, num_epochs={num_epochs}, "
        f"shuffle={shuffle}, drop_last={drop_last}"
        + (f", theta0 the integer array {theta0.tolist()}" if int_theta0 else "")
    )
    expect_true(
        isinstance(got, dict) and isinstance(got.get("history"), dict),
        f"{what}: expected a pair (theta, history) with history a dict",
    )
    history = got["history"]
    for key in ("loss", "step_loss", "time"):
        expect_true(key in history, f"{what}: history has no key {key!r}")
        expect_true(
            got["kinds"][key] == "list",
            f"{what}: history[{key!r}] is a {got['kinds'][key]}; history is a dict of three lists",
        )

    theta, losses, step_losses = _replay(theta0, X, y, lr, reference)
    steps_per_epoch = len(reference[0]) if reference else 0
    _compare_run(got, theta, losses, step_losses, steps_per_epoch, what)
    return got


def _compare_run(got, theta, losses, step_losses, steps_per_epoch, what):
    history = got["history"]
    got_steps = _numbers(history["step_loss"], "history['step_loss']")
    expect_equal(
        len(got_steps),
        len(step_losses),
        what=f"{what}: number of steps (entries of history['step_loss'])",
    )
    differs = ~(np.abs(got_steps - step_losses) <= RTOL * np.abs(step_losses) + ATOL)
    if np.any(differs):
        first = int(np.argmax(differs))
        epoch, batch = divmod(first, steps_per_epoch)
        raise CheckFailed(
            f"{what}: the batch losses first differ at step {first + 1} (epoch {epoch + 1}, "
            f"batch {batch + 1}): expected {float(step_losses[first])!r}, "
            f"got {float(got_steps[first])!r}"
        )
    expect_close(got["theta"], theta, rtol=RTOL, atol=ATOL, what=f"{what}: theta")
    expect_close(
        _numbers(history["loss"], "history['loss']"),
        losses,
        rtol=RTOL,
        what=f"{what}: history['loss']",
    )


@task("02.4")
def test_minibatch_gd_bgd_sgd_mbgd(student, rng):
    """minibatch_gd: BGD (b = n), SGD (b = 1), MBGD with b not dividing n, reshuffled per epoch"""
    n = int(rng.choice([14, 21, 25, 26, 33]))
    d = int(rng.integers(1, 4))
    for batch_size in [n, 1, _non_divisor(rng, n)]:
        _run_gd(
            student,
            rng,
            n=n,
            d=d,
            batch_size=batch_size,
            num_epochs=int(rng.integers(2, 4)),
            shuffle=True,
            drop_last=False,
        )


@task("02.4")
def test_minibatch_gd_drop_last_and_order(student, rng):
    """minibatch_gd: drop_last=True and shuffle=False"""
    n = int(rng.choice([15, 22, 27, 35]))
    d = int(rng.integers(1, 4))
    _run_gd(
        student,
        rng,
        n=n,
        d=d,
        batch_size=_non_divisor(rng, n),
        num_epochs=int(rng.integers(2, 4)),
        shuffle=True,
        drop_last=True,
    )
    _run_gd(
        student,
        rng,
        n=n,
        d=d,
        batch_size=_non_divisor(rng, n),
        num_epochs=2,
        shuffle=False,
        drop_last=False,
    )


PAUSE = 0.004  # seconds each loss evaluation sleeps in the history-format check


@task("02.4")
def test_minibatch_gd_history_format_and_theta0(student, rng):
    """minibatch_gd: history lengths, cumulative times from 0, theta0 left unchanged, a
    float64 copy of an integer theta0"""
    n = int(rng.choice([16, 24, 30]))
    num_epochs = int(rng.integers(2, 5))
    batch_size = _non_divisor(rng, n)
    got = _run_gd(
        student,
        rng,
        n=n,
        d=3,
        batch_size=batch_size,
        num_epochs=num_epochs,
        shuffle=True,
        drop_last=False,
        int_theta0=True,
        pause=PAUSE,
    )
    expect_true(
        not got["theta0_changed"],
        "minibatch_gd modified the caller's theta0 (update a copy: theta = theta - lr * grad)",
    )
    times = _numbers(got["history"]["time"], "history['time']")
    expect_equal(times.shape, (num_epochs + 1,), what="shape of history['time']")
    expect_true(times[0] == 0.0, f"history['time'] must start with 0.0, got {times[0]!r}")
    expect_true(
        bool(np.all(np.isfinite(times)) and np.all(np.diff(times) >= 0)),
        f"history['time'] must be cumulative (non-decreasing) seconds, got {times.tolist()}",
    )
    # Each loss evaluation sleeps PAUSE seconds, so the epochs take measurable time even
    # on a coarse clock, and their total cannot exceed the call's own wall time.
    expect_true(
        0.0 < times[-1] <= got["wall"] + 1e-3,
        f"history['time'] must add up the seconds each epoch took: after {num_epochs} "
        f"epochs it says {times[-1]!r} s, while the whole call took {got['wall']:.3f} s "
        "(start from 0.0 and add time.perf_counter() - start after each epoch)",
    )


# ----------------------------------------------------------------------------- 02.5


@task("02.5")
def test_accumulated_gradient_equals_batch_gradient(student, rng):
    """accumulated_gradient: equals the batch gradient, micro-batches of m consecutive examples"""
    b = int(rng.choice([10, 14, 21, 22, 26]))
    d = int(rng.integers(1, 5))
    X, y = _regression_data(rng, b, d)
    theta = rng.standard_normal(d)
    full_loss, full_grad = batching.linear_regression_loss_grad(theta, X, y)
    for m in [_non_divisor(rng, b), _non_divisor(rng, b), 1, b, b + int(rng.integers(1, 5))]:
        got = DRIVERS.run(student, "accumulation", X=X, y=y, theta=theta, micro_batch_size=m)
        what = f"accumulated_gradient with b={b}, micro_batch_size={m}"
        expected_sizes = [m] * (b // m) + ([b % m] if b % m else [])
        expect_equal(
            [len(X_part) for X_part, _ in got["parts"]],
            expected_sizes,
            what=f"{what}: micro-batch sizes",
        )
        for j, (X_part, y_part) in enumerate(got["parts"]):
            start = j * m
            expect_true(
                np.array_equal(X_part, X[start : start + m])
                and np.array_equal(y_part, y[start : start + m]),
                f"{what}: micro-batch {j + 1} is not X_batch[{start}:{start + m}], "
                f"y_batch[{start}:{start + m}] (the consecutive slices, in order)",
            )
        ref_loss, ref_grad = batching.accumulated_gradient(
            batching.linear_regression_loss_grad, theta, X, y, m
        )
        loss = _number(got["loss"], f"{what}: loss")
        expect_close(loss, ref_loss, rtol=RTOL, what=f"{what}: loss")
        expect_close(loss, full_loss, rtol=RTOL, what=f"{what}: loss")
        expect_close(got["grad"], full_grad, rtol=RTOL, atol=ATOL, what=f"{what}: gradient")


@task("02.5")
def test_accumulated_gradient_evaluates_each_micro_batch(student, rng):
    """accumulated_gradient: the sum of (m_j / b) loss_grad(micro-batch j), for any loss_grad"""
    b = int(rng.choice([11, 17, 23]))
    d = int(rng.integers(1, 4))
    X, y = _regression_data(rng, b, d)
    theta = rng.standard_normal(d)
    for m in [_non_divisor(rng, b), 1]:
        got = DRIVERS.run(student, "micro_batches", X=X, y=y, theta=theta, micro_batch_size=m)
        ref_loss, ref_grad = batching.accumulated_gradient(
            DRIVERS.load("batch_level_loss_grad"), theta, X, y, m
        )
        what = (
            f"accumulated_gradient with a loss_grad that is not a mean over examples, b={b}, "
            f"micro_batch_size={m} (call loss_grad on each micro-batch and weight it by m_j / b)"
        )
        expect_close(
            _number(got["loss"], f"{what}: loss"), ref_loss, rtol=RTOL, what=f"{what}: loss"
        )
        expect_close(got["grad"], ref_grad, rtol=RTOL, atol=ATOL, what=f"{what}: gradient")


# ----------------------------------------------------------------------------- 02.6


@task("02.6")
def test_gradient_variance_monte_carlo(student, rng):
    """gradient_variance: mean of ||g_B - grad L||^2 over num_samples batches rng.choice(n, b)"""
    n, d = int(rng.integers(12, 40)), int(rng.integers(2, 5))
    X, y = _regression_data(rng, n, d)
    theta = rng.standard_normal(d)
    for batch_size in [1, int(rng.integers(2, n)), n]:
        seed, num_samples = _seed(rng), int(rng.integers(5, 25))
        got = DRIVERS.run(
            student,
            "variance",
            X=X,
            y=y,
            theta=theta,
            batch_size=batch_size,
            num_samples=num_samples,
            seed=seed,
        )
        call = f"gradient_variance(n={n}, batch_size={batch_size}, num_samples={num_samples})"
        if batch_size < n:
            full = got["sizes"].count(n)
            expect_true(
                full == 1,
                f"{call} computed the full gradient loss_grad(theta, X, y) {full} times; "
                "compute it once, before the samples",
            )
        expected = batching.gradient_variance(
            batching.linear_regression_loss_grad,
            theta,
            X,
            y,
            [batch_size],
            num_samples,
            np.random.default_rng(seed),
        )[0]
        expect_close(_number(got["value"], call), expected, rtol=RTOL, atol=ATOL, what=call)


# ----------------------------------------------------------------------------- 02.7


def _exact_batch_variance(G, b, replace):
    """E||mean of the batch's rows - mean of all rows||^2 over every possible batch."""
    n = len(G)
    mean = G.mean(axis=0)
    if replace:
        batches = itertools.product(range(n), repeat=b)
    else:
        batches = itertools.combinations(range(n), b)
    distances = [np.sum((G[list(batch)].mean(axis=0) - mean) ** 2) for batch in batches]
    return float(np.mean(distances))


@task("02.7")
def test_predicted_variance_matches_enumeration(student, rng):
    """predicted_gradient_variance: equals the exact average over every batch (small n)"""
    for replace in [False, True]:
        n, d = int(rng.integers(4, 7)), int(rng.integers(1, 4))
        G = rng.standard_normal((n, d)) * rng.uniform(0.5, 3)
        for b in [1, int(rng.integers(2, n)), n] if not replace else [1, 2, 3]:
            got = _number(
                student.call("predicted_gradient_variance", G, b, replace=replace),
                "predicted_gradient_variance",
            )
            expect_close(
                got,
                _exact_batch_variance(G, b, replace),
                rtol=RTOL,
                atol=ATOL,
                what=f"predicted_gradient_variance(n={n}, batch_size={b}, replace={replace})",
            )


@task("02.7")
def test_predicted_variance_formula(student, rng):
    """predicted_gradient_variance: sigma^2 / b, times (n - b) / (n - 1) without replacement
    (the default)"""
    n, d = int(rng.integers(20, 200)), int(rng.integers(1, 8))
    G = rng.standard_normal((n, d)) + rng.standard_normal(d)
    sigma2 = np.sum((G - G.mean(axis=0)) ** 2) / n
    b_middle = int(rng.integers(2, n))
    for b in [1, b_middle, n]:
        for replace in [False, True] + ([None] if b == b_middle else []):
            expected = sigma2 / b * (1.0 if replace else (n - b) / (n - 1))
            if replace is None:
                result = student.call("predicted_gradient_variance", G, b)
                call = f"predicted_gradient_variance(G, {b}) with the default replace, n={n}"
            else:
                result = student.call("predicted_gradient_variance", G, b, replace=replace)
                call = f"predicted_gradient_variance(n={n}, batch_size={b}, replace={replace})"
            expect_close(_number(result, call), expected, rtol=RTOL, atol=ATOL, what=call)


# ----------------------------------------------------------------------------- 02.8

_TIMES = ("batched_time", "loop_time")


MEASUREMENTS = 3  # at most this many calls; timings are the least: a busy machine adds time


def _timed_call(student, theta, X, y, call, **number):
    """batched_vs_loop once: its gradients checked, its two times and the call's duration."""
    b, d = X.shape
    started = time.perf_counter()
    got = student.call("batched_vs_loop", theta, X, y, **number)
    elapsed = time.perf_counter() - started
    expect_true(isinstance(got, dict), f"{call}: expected a dict, got {type(got).__name__}")
    missing = {"batched_grad", "loop_grad", *_TIMES} - set(got)
    expect_true(not missing, f"{call}: the dict has no key(s) {sorted(missing)}")
    expected = X.T @ (X @ theta - y) / b
    for key in ("batched_grad", "loop_grad"):
        expect_close(got[key], expected, rtol=RTOL, atol=ATOL, what=f"{call}: {key} (d={d})")
    batched, loop = (_number(got[key], f"{call}: {key}") for key in _TIMES)
    for key, seconds in zip(_TIMES, (batched, loop), strict=True):
        expect_true(
            seconds > 0.0,
            f"{call}: {key} should be seconds per evaluation (a positive number), got {seconds!r}",
        )
    return batched, loop, elapsed


@task("02.8")
def test_batched_vs_loop_gradients_and_times(student, rng):
    """batched_vs_loop: both gradients equal the mean gradient; the times fit in the call,
    the loop is the slower one and its time grows with b; the default number is 200"""
    d = int(rng.integers(2, 8))
    theta = rng.standard_normal(d)
    number = 5
    sizes = (int(rng.integers(40, 60)), int(rng.integers(200, 240)))
    data = {b: _regression_data(rng, b, d) for b in sizes}
    measured = {b: [] for b in sizes}
    for _ in range(MEASUREMENTS):
        for b in sizes:
            call = f"batched_vs_loop(theta, X, y, number={number}) with b={b}"
            batched, loop, elapsed = _timed_call(student, theta, *data[b], call, number=number)
            expect_true(
                number * (batched + loop) <= elapsed,
                f"{call}: {number} evaluations of each would take "
                f"{number * (batched + loop):.3g} s, but the whole call took {elapsed:.3g} s: "
                "report the measured timeit total / number",
            )
            measured[b].append((batched, loop))
        least = {b: [min(times) for times in zip(*measured[b], strict=True)] for b in sizes}
        (batched1, t1), (batched2, t2) = least[sizes[0]], least[sizes[1]]
        if t1 > batched1 and t2 > batched2 and t2 > 1.5 * t1:
            break
    for b in sizes:
        batched, loop = least[b]
        expect_true(
            loop > batched,
            f"batched_vs_loop(theta, X, y, number={number}) with b={b}: the loop ({loop:.3g} s, "
            f"the least of {len(measured[b])} calls) should be slower than one batched "
            f"expression ({batched:.3g} s); are the two timings swapped, or not measured?",
        )
    (b1, b2) = sizes
    expect_true(
        t2 > 1.5 * t1,
        f"the loop over b={b2} examples took {t2:.3g} s, not clearly more than over b={b1} "
        f"({t1:.3g} s), the least of {len(measured[b1])} calls each: time the loop itself, "
        "once per evaluation",
    )
    call = f"batched_vs_loop(theta, X, y) with the default number, b={b1}"
    batched, loop, elapsed = _timed_call(student, theta, *data[b1], call)
    expect_true(
        200 * (batched + loop) <= elapsed,
        f"{call}: 200 evaluations of each would take {200 * (batched + loop):.3g} s, but the "
        f"whole call took {elapsed:.3g} s: the default is number=200",
    )
