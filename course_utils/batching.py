"""Full-batch, stochastic and mini-batch gradient descent as one loop (numpy).

With n training examples, one epoch visits them in batches of size b and takes one step
per batch:

    θ ← θ − lr · ∇L_B(θ),    L_B(θ) = (1/|B|) Σ_{i∈B} ℓ(θ; xᵢ, yᵢ).

Batch gradient descent (BGD) is b = n (one step per epoch), stochastic gradient descent
(SGD) is b = 1 and mini-batch gradient descent (MBGD) is 1 < b < n: all three are this
loop with a different batch size.

Loss convention: the mini-batch loss is the MEAN over the batch, as in torch's
``reduction="mean"``. Lecture notes often write the SUM Σ_{i∈B} ℓᵢ instead; its gradient
is b times larger, so the two conventions take the same step when lr_sum = lr_mean / b.
With the mean, a learning rate that works for one batch size stays sensible for another.

Every ``loss_grad`` in this module has the signature
``loss_grad(theta, X_batch, y_batch) -> (loss, grad)`` and returns the mean loss over the
batch and its gradient with respect to ``theta`` (same shape as ``theta``).
"""

import math
import time
from collections.abc import Callable, Iterator, Sequence

import numpy as np

LossGradFn = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[float, np.ndarray]]


def _check_positive_int(name: str, value) -> int:
    if isinstance(value, bool) or int(value) != value or value < 1:
        raise ValueError(f"Invalid {name}: {value} ({name} must be an integer >= 1)")
    return int(value)


def _as_generator(rng) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, int | np.integer):
        return np.random.default_rng(rng)
    raise ValueError(f"Invalid rng: {rng!r} (rng must be None, an int seed or a numpy Generator)")


def batch_indices(
    n: int,
    batch_size: int,
    *,
    shuffle: bool = True,
    rng: None | int | np.random.Generator = None,
    drop_last: bool = False,
) -> Iterator[np.ndarray]:
    """Yield the index arrays of the batches of one epoch over ``range(n)``.

    With ``shuffle`` the examples are visited in the order of one random permutation drawn
    from ``rng`` (a Generator, or a seed handed to ``np.random.default_rng``; ``None`` draws
    fresh entropy). Passing the same Generator to successive epochs gives a different
    permutation each epoch and the same sequence of permutations for the same seed.
    Without ``shuffle`` the order is 0, 1, ..., n − 1. The last batch holds n mod b examples
    when b does not divide n; ``drop_last`` omits it. A batch size larger than n gives one
    batch of n examples (none with ``drop_last``).
    """
    n = _check_positive_int("n", n)
    batch_size = _check_positive_int("batch_size", batch_size)
    order = _as_generator(rng).permutation(n) if shuffle else np.arange(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        yield order[start : start + batch_size]


def accumulated_gradient(
    loss_grad: LossGradFn,
    theta: np.ndarray,
    X_batch: np.ndarray,
    y_batch: np.ndarray,
    micro_batch_size: int,
) -> tuple[float, np.ndarray]:
    """Mean loss and gradient of a mini-batch computed in micro-batches (gradient accumulation).

    The batch of b examples is split into consecutive micro-batches of m examples (the last
    one holds the remaining b mod m when m does not divide b). Only one micro-batch is
    evaluated at a time, which is how a batch too large for memory is trained. Micro-batch
    j with mⱼ examples and mean gradient ḡⱼ contributes with weight mⱼ / b:

        Σⱼ (mⱼ / b) ḡⱼ = (1/b) Σⱼ Σ_{i∈Bⱼ} ∇ℓᵢ = ∇L_B,

    exactly the mean gradient of the whole batch. A common bug is to average the ḡⱼ with
    equal weights 1/k; that over-weights the examples of a smaller last micro-batch and is
    only correct when all micro-batches have the same size. The loss is accumulated the
    same way.
    """
    micro_batch_size = _check_positive_int("micro_batch_size", micro_batch_size)
    b = len(X_batch)
    if b == 0:
        raise ValueError("Invalid batch: X_batch is empty")
    if len(y_batch) != b:
        raise ValueError(f"Invalid batch: {b} inputs but {len(y_batch)} targets")
    loss = 0.0
    grad = np.zeros_like(theta, dtype=np.float64)
    for start in range(0, b, micro_batch_size):
        stop = min(start + micro_batch_size, b)
        micro_loss, micro_grad = loss_grad(theta, X_batch[start:stop], y_batch[start:stop])
        weight = (stop - start) / b
        loss += weight * micro_loss
        grad += weight * np.asarray(micro_grad)
    return loss, grad


def minibatch_gd(
    loss_grad: LossGradFn,
    theta0,
    X: np.ndarray,
    y: np.ndarray,
    *,
    lr: float,
    batch_size: int,
    num_epochs: int,
    shuffle: bool = True,
    seed: None | int | np.random.Generator = 0,
    drop_last: bool = False,
    loss_fn: Callable[[np.ndarray, np.ndarray, np.ndarray], float] | None = None,
    callback: Callable[[int, int, np.ndarray, float], None] | None = None,
    micro_batch_size: int | None = None,
    accumulation_steps: int | None = None,
) -> tuple[np.ndarray, dict]:
    """Mini-batch gradient descent: θ ← θ − lr · ∇L_B(θ) for each batch B of each epoch.

    ``batch_size=len(X)`` is full-batch gradient descent, ``batch_size=1`` per-example SGD,
    anything between is mini-batch gradient descent. Batches come from
    :func:`batch_indices` with one Generator built from ``seed`` for the whole run, so a
    run is reproducible and every epoch uses a fresh permutation.

    Gradient accumulation: with ``micro_batch_size=m`` each batch's gradient is computed by
    :func:`accumulated_gradient` in micro-batches of m examples; ``accumulation_steps=k``
    means m = ⌈b / k⌉ (at most k micro-batches). The update is the same as without
    accumulation, up to floating-point rounding.

    ``loss_fn(theta, X, y)``, if given, is evaluated on the full data set before training
    and after every epoch. ``callback(epoch, step, theta, batch_loss)`` runs after every
    update (epochs count from 1, steps from 1 over the whole run).

    Returns ``(theta, history)`` where history holds

    - ``"loss"``: loss_fn at epochs 0, 1, ..., num_epochs (empty without loss_fn),
    - ``"time"``: cumulative wall time in seconds spent on the updates at the same points
      (starting at 0.0; loss_fn and callback are not timed),
    - ``"step_loss"``: the mini-batch loss at every step, before that step's update.
    """
    if not lr >= 0.0:
        raise ValueError(f"Invalid learning rate: {lr} (lr must be >= 0)")
    batch_size = _check_positive_int("batch_size", batch_size)
    if isinstance(num_epochs, bool) or int(num_epochs) != num_epochs or num_epochs < 0:
        raise ValueError(f"Invalid num_epochs: {num_epochs} (num_epochs must be an integer >= 0)")
    if micro_batch_size is not None and accumulation_steps is not None:
        raise ValueError(
            f"Invalid accumulation settings: micro_batch_size={micro_batch_size} and "
            f"accumulation_steps={accumulation_steps} (give at most one)"
        )
    if accumulation_steps is not None:
        accumulation_steps = _check_positive_int("accumulation_steps", accumulation_steps)
        micro_batch_size = math.ceil(min(batch_size, len(X)) / accumulation_steps)
    elif micro_batch_size is not None:
        micro_batch_size = _check_positive_int("micro_batch_size", micro_batch_size)
    if len(X) != len(y):
        raise ValueError(f"Invalid data: {len(X)} inputs but {len(y)} targets")

    theta = np.array(theta0, dtype=np.float64)
    rng = _as_generator(seed)
    history = {"loss": [], "time": [0.0], "step_loss": []}
    if loss_fn is not None:
        history["loss"].append(float(loss_fn(theta, X, y)))
    elapsed = 0.0
    step = 0
    for epoch in range(1, int(num_epochs) + 1):
        for idx in batch_indices(len(X), batch_size, shuffle=shuffle, rng=rng, drop_last=drop_last):
            start = time.perf_counter()
            if micro_batch_size is None:
                batch_loss, grad = loss_grad(theta, X[idx], y[idx])
            else:
                batch_loss, grad = accumulated_gradient(
                    loss_grad, theta, X[idx], y[idx], micro_batch_size
                )
            theta = theta - lr * np.asarray(grad)
            elapsed += time.perf_counter() - start
            step += 1
            history["step_loss"].append(float(batch_loss))
            if callback is not None:
                callback(epoch, step, theta, float(batch_loss))
        history["time"].append(elapsed)
        if loss_fn is not None:
            history["loss"].append(float(loss_fn(theta, X, y)))
    return theta, history


def gradient_variance(
    loss_grad: LossGradFn,
    theta: np.ndarray,
    X: np.ndarray,
    y: np.ndarray,
    batch_sizes: Sequence[int],
    num_samples: int,
    rng: None | int | np.random.Generator = None,
    *,
    replace: bool = False,
) -> np.ndarray:
    """Monte-Carlo estimate of E‖g_B − ∇L‖² for each batch size b in ``batch_sizes``.

    g_B is the mean gradient over a random batch B of b examples and ∇L the full-data mean
    gradient at ``theta``. Each estimate averages ``num_samples`` batches drawn without
    replacement (each batch holds b distinct examples), or with replacement if ``replace``.

    With σ² = (1/n) Σᵢ ‖∇ℓᵢ − ∇L‖² the per-example gradient variance:
    with replacement E‖g_B − ∇L‖² = σ² / b; without replacement it is
    σ² / b · (n − b) / (n − 1), which is 0 for b = n (the full batch is exact).
    Returns an array with one estimate per batch size.
    """
    num_samples = _check_positive_int("num_samples", num_samples)
    n = len(X)
    batch_sizes = [_check_positive_int("batch_size", b) for b in batch_sizes]
    if not replace and max(batch_sizes, default=0) > n:
        raise ValueError(
            f"Invalid batch_size: {max(batch_sizes)} (without replacement batch_size must be "
            f"<= n = {n})"
        )
    generator = _as_generator(rng)
    full_grad = np.asarray(loss_grad(theta, X, y)[1])
    estimates = np.empty(len(batch_sizes))
    for k, b in enumerate(batch_sizes):
        total = 0.0
        for _ in range(num_samples):
            idx = generator.choice(n, size=b, replace=replace)
            g = np.asarray(loss_grad(theta, X[idx], y[idx])[1])
            total += float(np.sum((g - full_grad) ** 2))
        estimates[k] = total / num_samples
    return estimates


def predicted_gradient_variance(per_example_grads, batch_size: int, replace: bool = False) -> float:
    """Variance of the mini-batch gradient predicted from the per-example gradients.

    With ``G`` the n per-example gradients (one per row) and σ² = (1/n) Σᵢ ‖gᵢ − ḡ‖² their
    total variance, the mean of a batch of b examples drawn with replacement has
    E‖ĝ_b − ḡ‖² = σ²/b; drawn without replacement (the usual shuffled epoch) the finite-
    population correction multiplies it by (n − b)/(n − 1), which is 0 for the full batch.
    """
    G = np.asarray(per_example_grads, dtype=np.float64)
    n = len(G)
    batch_size = _check_positive_int("batch_size", batch_size)
    if not replace and batch_size > n:
        raise ValueError(
            f"Invalid batch_size: {batch_size} (without replacement it must be <= n = {n})"
        )
    sigma2 = float(np.sum((G - G.mean(axis=0)) ** 2)) / n
    factor = 1.0 if replace else ((n - batch_size) / (n - 1) if n > 1 else 0.0)
    return sigma2 / batch_size * factor


def linear_regression_loss_grad(
    theta: np.ndarray, X: np.ndarray, y: np.ndarray
) -> tuple[float, np.ndarray]:
    """Mean squared error with a ½: L(θ) = 1/(2b) Σᵢ (xᵢᵀθ − yᵢ)², ∇L = Xᵀ(Xθ − y) / b."""
    residual = X @ theta - y
    return 0.5 * float(np.mean(residual**2)), X.T @ residual / len(X)


def logistic_regression_loss_grad(
    theta: np.ndarray, X: np.ndarray, y: np.ndarray
) -> tuple[float, np.ndarray]:
    """Mean binary cross-entropy of a logistic model with labels yᵢ ∈ {0, 1}.

    With zᵢ = xᵢᵀθ and σ(z) = 1/(1 + e^{−z}):
    L(θ) = (1/b) Σᵢ [log(1 + e^{zᵢ}) − yᵢ zᵢ],  ∇L = Xᵀ(σ(z) − y) / b.
    log(1 + e^z) is evaluated as logaddexp(0, z) and σ(z) as (1 + tanh(z/2))/2, both free of
    overflow for large |z|.
    """
    z = X @ theta
    loss = float(np.mean(np.logaddexp(0.0, z) - y * z))
    sigmoid = 0.5 * (1.0 + np.tanh(0.5 * z))
    return loss, X.T @ (sigmoid - y) / len(X)
