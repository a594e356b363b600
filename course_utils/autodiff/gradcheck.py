"""Gradient checking by central differences.

The central difference

    df/dx_i ~ (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)

has truncation error O(eps^2) and rounding error about u |f| / eps (u = 2.2e-16 in
float64), so eps = 1e-6 balances the two for float64. A gradient g is compared with the
estimate n entrywise by the relative error

    |g_i - n_i| / max(|g_i| + |n_i|, tiny),

and the largest one is reported. Typical readings in float64 with eps = 1e-6: below about
1e-7 the gradient is right; 1e-5 to 1e-3 deserves a look (a kink such as relu at 0 lies
within eps, or the function is badly scaled); above 1e-2 the gradient is wrong. In
float32 use eps near 1e-3 and expect errors near 1e-3 even for a correct gradient.
An entry whose true derivative is 0 can read as relative error 1 when the estimate is a
tiny nonzero rounding residue; look at the absolute values in that case.
"""

import numpy as np


def _check_eps(eps):
    if not eps > 0:
        raise ValueError(f"Invalid step size: {eps!r} (eps must be > 0)")


def numerical_gradient(f, x, eps=1e-6):
    """Central-difference estimate of the gradient of a scalar f at the array ``x``.

    ``f`` maps a float64 array of ``x``'s shape to a number; it is evaluated 2 x.size
    times, each time on a fresh copy of ``x`` with one entry moved by +-eps.
    """
    _check_eps(eps)
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        x_plus = x.copy()
        x_plus[index] += eps
        x_minus = x.copy()
        x_minus[index] -= eps
        grad[index] = (float(f(x_plus)) - float(f(x_minus))) / (2 * eps)
    return grad


def gradient_check(f, x, grad, eps=1e-6, tiny=1e-12):
    """Largest relative error between ``grad`` and the central-difference gradient of f.

    Returns max_i |g_i - n_i| / max(|g_i| + |n_i|, tiny); see the module docstring for
    how to read it.
    """
    if not tiny > 0:
        raise ValueError(f"Invalid denominator floor: {tiny!r} (tiny must be > 0)")
    numeric = numerical_gradient(f, x, eps)
    grad = np.asarray(grad, dtype=np.float64)
    if grad.shape != numeric.shape:
        raise ValueError(f"grad has shape {grad.shape} but x has shape {numeric.shape}")
    if grad.size == 0:
        return 0.0
    error = np.abs(grad - numeric) / np.maximum(np.abs(grad) + np.abs(numeric), tiny)
    return float(error.max())
