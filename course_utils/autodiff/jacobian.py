"""Jacobians of f: R^n -> R^m by forward and by reverse mode.

``f`` takes a list of n scalars and returns one scalar or a sequence of m scalars; it is
written with ``+ - * / **`` and the functions of ``course_utils.autodiff``, so the same
``f`` runs on ``Dual`` and on ``Var`` inputs. Both functions return the m x n matrix
J[i, j] = d f_i / d x_j (m = 1 for a scalar f).

Cost, counted in passes over the program of f:

- forward mode: one pass per input direction e_j gives column j, so n passes;
- reverse mode: one recording pass, then one backward pass per output f_i gives row i,
  so m backward passes.

Training a network needs the gradient of one loss (m = 1) with respect to millions of
parameters (n large), which is why deep-learning frameworks differentiate in reverse
mode. Forward mode wins when f has few inputs and many outputs.
"""

import numpy as np

from course_utils.autodiff.forward import Dual
from course_utils.autodiff.reverse import Var


def _as_vector(x):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"x must be a 1-D vector of n numbers, got shape {x.shape}")
    return x


def _as_outputs(y):
    if isinstance(y, Dual | Var) or np.ndim(y) == 0:
        return [y]
    return list(y)


def jacobian_forward(f, x):
    """Jacobian of ``f`` at ``x`` by n forward passes, column j seeded with dx = e_j."""
    x = _as_vector(x)
    n = x.size
    columns = []
    for j in range(n):
        inputs = [Dual(x[k], 1.0 if k == j else 0.0) for k in range(n)]
        outputs = _as_outputs(f(inputs))
        columns.append([y.tangent if isinstance(y, Dual) else 0.0 for y in outputs])
    return np.array(columns, dtype=np.float64).T


def jacobian_reverse(f, x):
    """Jacobian of ``f`` at ``x`` by one recording pass and m backward passes (row i)."""
    x = _as_vector(x)
    inputs = [Var(value, name=f"x{k}") for k, value in enumerate(x)]
    outputs = _as_outputs(f(inputs))
    jacobian = np.zeros((len(outputs), x.size))
    for i, y in enumerate(outputs):
        if not isinstance(y, Var):
            continue
        for v in inputs:
            v.grad = 0.0
        y.backward()
        jacobian[i] = [v.grad for v in inputs]
    return jacobian
