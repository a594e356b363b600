"""The answers of assignment 02_batching under the notebook's names and signatures."""

import timeit

import numpy as np

from course_utils import batching as _batching
from course_utils.batching import accumulated_gradient, predicted_gradient_variance

linreg_loss_grad = _batching.linear_regression_loss_grad
logreg_loss_grad = _batching.logistic_regression_loss_grad


def batch_indices(n, batch_size, rng=None, *, shuffle=True, drop_last=False):
    return list(
        _batching.batch_indices(n, batch_size, shuffle=shuffle, rng=rng, drop_last=drop_last)
    )


def minibatch_gd(
    loss_grad, theta0, X, y, *, lr, batch_size, num_epochs, rng=None, shuffle=True, drop_last=False
):
    return _batching.minibatch_gd(
        loss_grad,
        theta0,
        X,
        y,
        lr=lr,
        batch_size=batch_size,
        num_epochs=num_epochs,
        shuffle=shuffle,
        seed=rng,
        drop_last=drop_last,
        loss_fn=lambda theta, X_all, y_all: loss_grad(theta, X_all, y_all)[0],
    )


def gradient_variance(loss_grad, theta, X, y, batch_size, num_samples, rng):
    return float(
        _batching.gradient_variance(loss_grad, theta, X, y, [batch_size], num_samples, rng)[0]
    )


def batched_vs_loop(theta, X, y, number=200):
    def batched():
        return _batching.linear_regression_loss_grad(theta, X, y)[1]

    def loop():
        grads = [
            _batching.linear_regression_loss_grad(theta, X[i : i + 1], y[i : i + 1])[1]
            for i in range(len(X))
        ]
        return np.mean(grads, axis=0)

    return {
        "batched_grad": batched(),
        "loop_grad": loop(),
        "batched_time": timeit.timeit(batched, number=number) / number,
        "loop_time": timeit.timeit(loop, number=number) / number,
    }


__all__ = [
    "linreg_loss_grad",
    "logreg_loss_grad",
    "batch_indices",
    "minibatch_gd",
    "accumulated_gradient",
    "gradient_variance",
    "predicted_gradient_variance",
    "batched_vs_loop",
]
