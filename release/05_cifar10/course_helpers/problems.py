"""Test problems for optimizers: values, gradients and known solutions (numpy).

Two-dimensional surfaces
    :class:`IllConditionedQuadratic`, :class:`Rosenbrock`, :class:`Beale`, :class:`Saddle`
    and :class:`MonkeySaddle` share one interface: ``value(x)`` and ``grad(x)`` take a point
    whose coordinates run along axis 0, so ``value(np.array([x, y]))`` is a number and
    ``value(np.stack([X, Y]))`` evaluates a whole grid (what the contour plots in
    :mod:`course_helpers.plots` do). Each carries a suggested start ``x0``, a plot window
    ``xlim``/``ylim``, its critical point ``stationary_point`` and, where that point is the
    minimum, ``minimizer`` and ``minimum``.

Online convex counterexample
    :func:`reddi_loss`, :func:`reddi_gradient`, :func:`run_online` and
    :func:`optimizer_update_rule` reproduce the problem on which Adam fails to converge
    (Reddi, Kale & Kumar, "On the Convergence of Adam and Beyond", ICLR 2018, Section 3).

Sparse features
    :func:`make_sparse_regression` builds a regression where most features are rarely
    non-zero yet informative, the setting in which Adagrad's per-coordinate step sizes
    beat a single global learning rate.

Synthetic data
    :func:`make_linear_regression` and :func:`make_logistic_regression`.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


def _point(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 0 or x.shape[0] != 2:
        raise ValueError(f"Invalid point with shape {x.shape}: axis 0 must hold the 2 coordinates")
    return x


class Problem2D:
    """Base class of the two-dimensional test surfaces.

    Subclasses implement ``value`` and ``grad``. ``stationary_point`` is a point where the
    gradient vanishes; ``minimizer`` and ``minimum`` are ``None`` for surfaces without a
    minimum (the saddles).
    """

    name = "problem"

    def __init__(self, *, x0, xlim, ylim, stationary_point, minimum=None):
        self.x0 = np.asarray(x0, dtype=np.float64)
        self.xlim = tuple(xlim)
        self.ylim = tuple(ylim)
        self.stationary_point = np.asarray(stationary_point, dtype=np.float64)
        self.minimum = minimum
        self.minimizer = None if minimum is None else self.stationary_point

    def value(self, x) -> np.ndarray:
        raise NotImplementedError

    def grad(self, x) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, x) -> np.ndarray:
        return self.value(x)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class IllConditionedQuadratic(Problem2D):
    """f(x) = ½ xᵀ A x with A symmetric positive definite of condition number κ.

    The eigenvalues of A are spaced geometrically from 1 to κ, so the largest curvature
    is L = κ and the smallest μ = 1. Gradient descent with step 1/L contracts the error
    along the flattest direction by (1 − 1/κ) per step. With ``seed=None`` A is diagonal
    (axes aligned with the eigenvectors); with a seed, A = Q diag(λ) Qᵀ for a random
    orthogonal Q. The minimizer is 0 with minimum 0; ∇f(x) = A x. Points have ``dim``
    coordinates along axis 0 (the plots need ``dim=2``).
    """

    name = "quadratic"

    def __init__(self, condition_number: float = 10.0, dim: int = 2, seed: int | None = None):
        if not condition_number >= 1.0:
            raise ValueError(
                f"Invalid condition_number: {condition_number} (condition_number must be >= 1)"
            )
        if isinstance(dim, bool) or int(dim) != dim or dim < 1:
            raise ValueError(f"Invalid dim: {dim} (dim must be an integer >= 1)")
        super().__init__(
            x0=np.full(int(dim), 1.0),
            xlim=(-1.5, 1.5),
            ylim=(-1.5, 1.5),
            stationary_point=np.zeros(int(dim)),
            minimum=0.0,
        )
        self.condition_number = float(condition_number)
        self.dim = int(dim)
        self.eigenvalues = np.geomspace(1.0, self.condition_number, self.dim)
        if seed is None:
            self.A = np.diag(self.eigenvalues)
        else:
            rng = np.random.default_rng(seed)
            q, r = np.linalg.qr(rng.standard_normal((self.dim, self.dim)))
            q = q * np.sign(np.diag(r))
            self.A = (q * self.eigenvalues) @ q.T

    def _coords(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim == 0 or x.shape[0] != self.dim:
            raise ValueError(
                f"Invalid point with shape {x.shape}: axis 0 must hold the {self.dim} coordinates"
            )
        return x

    def value(self, x) -> np.ndarray:
        x = self._coords(x)
        return 0.5 * np.einsum("i...,ij,j...->...", x, self.A, x)

    def grad(self, x) -> np.ndarray:
        x = self._coords(x)
        return np.einsum("ij,j...->i...", self.A, x)

    def __repr__(self) -> str:
        return f"IllConditionedQuadratic(condition_number={self.condition_number}, dim={self.dim})"


class Rosenbrock(Problem2D):
    """f(x, y) = (a − x)² + b (y − x²)², minimum 0 at (a, a²); (1, 1) for a=1, b=100.

    ∂f/∂x = −2(a − x) − 4 b x (y − x²),  ∂f/∂y = 2 b (y − x²).
    The minimizer lies at the bottom of a long curved valley.
    """

    name = "rosenbrock"

    def __init__(self, a: float = 1.0, b: float = 100.0):
        if not b > 0.0:
            raise ValueError(f"Invalid b: {b} (b must be > 0)")
        self.a = float(a)
        self.b = float(b)
        super().__init__(
            x0=(-1.5, 2.0),
            xlim=(-2.0, 2.0),
            ylim=(-1.0, 3.0),
            stationary_point=(self.a, self.a**2),
            minimum=0.0,
        )

    def value(self, x) -> np.ndarray:
        x, y = _point(x)
        return (self.a - x) ** 2 + self.b * (y - x**2) ** 2

    def grad(self, x) -> np.ndarray:
        x, y = _point(x)
        return np.stack(
            [-2.0 * (self.a - x) - 4.0 * self.b * x * (y - x**2), 2.0 * self.b * (y - x**2)]
        )

    def __repr__(self) -> str:
        return f"Rosenbrock(a={self.a}, b={self.b})"


class Beale(Problem2D):
    """f(x, y) = (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)².

    Minimum 0 at (3, 0.5). With rₖ = cₖ − x + x yᵏ (c = 1.5, 2.25, 2.625 for k = 1, 2, 3):
    ∂f/∂x = Σₖ 2 rₖ (yᵏ − 1),  ∂f/∂y = Σₖ 2 rₖ · k x yᵏ⁻¹.
    """

    name = "beale"
    _c = (1.5, 2.25, 2.625)

    def __init__(self):
        super().__init__(
            x0=(1.0, 1.5),
            xlim=(-4.5, 4.5),
            ylim=(-4.5, 4.5),
            stationary_point=(3.0, 0.5),
            minimum=0.0,
        )

    def value(self, x) -> np.ndarray:
        x, y = _point(x)
        return sum((c - x + x * y**k) ** 2 for k, c in enumerate(self._c, start=1))

    def grad(self, x) -> np.ndarray:
        x, y = _point(x)
        gx = np.zeros(np.broadcast(x, y).shape)
        gy = np.zeros(np.broadcast(x, y).shape)
        for k, c in enumerate(self._c, start=1):
            r = c - x + x * y**k
            gx = gx + 2.0 * r * (y**k - 1.0)
            gy = gy + 2.0 * r * k * x * y ** (k - 1)
        return np.stack([gx, gy])


class Saddle(Problem2D):
    """f(x, y) = x² − y², a saddle point at the origin (no minimum; f is unbounded below).

    ∇f = (2x, −2y). Gradient descent started exactly on the x-axis converges to the
    saddle; any offset in y grows by the factor (1 + 2·lr) per step.
    """

    name = "saddle"

    def __init__(self):
        super().__init__(
            x0=(-1.5, 1e-3), xlim=(-2.0, 2.0), ylim=(-2.0, 2.0), stationary_point=(0.0, 0.0)
        )

    def value(self, x) -> np.ndarray:
        x, y = _point(x)
        return x**2 - y**2

    def grad(self, x) -> np.ndarray:
        x, y = _point(x)
        return np.stack([2.0 * x, -2.0 * y])


class MonkeySaddle(Problem2D):
    """f(x, y) = x³ − 3 x y², a degenerate saddle at the origin (the Hessian vanishes there).

    ∇f = (3x² − 3y², −6xy).
    """

    name = "monkey saddle"

    def __init__(self):
        super().__init__(
            x0=(1.0, 0.2), xlim=(-1.5, 1.5), ylim=(-1.5, 1.5), stationary_point=(0.0, 0.0)
        )

    def value(self, x) -> np.ndarray:
        x, y = _point(x)
        return x**3 - 3.0 * x * y**2

    def grad(self, x) -> np.ndarray:
        x, y = _point(x)
        return np.stack([3.0 * x**2 - 3.0 * y**2, -6.0 * x * y])


def _check_reddi_c(C: float) -> None:
    if not C > 2.0:
        raise ValueError(f"Invalid C: {C} (C must be > 2)")


def reddi_loss(t: int, x, C: float = 3.0):
    """Loss f_t(x) of the online problem of Reddi et al. (2018, Section 3).

    On the feasible set x ∈ [−1, 1], f_t(x) = C x if t mod 3 == 1 and −x otherwise,
    for rounds t = 1, 2, 3, ... and C > 2. Over each block of three rounds the losses
    sum to (C − 2) x, so the best fixed decision is x* = −1.
    """
    _check_reddi_c(C)
    x = np.asarray(x, dtype=np.float64)
    return C * x if t % 3 == 1 else -x


def reddi_gradient(t: int, x, C: float = 3.0):
    """Gradient of :func:`reddi_loss`: C if t mod 3 == 1, else −1 (independent of x)."""
    _check_reddi_c(C)
    x = np.asarray(x, dtype=np.float64)
    return np.full_like(x, C if t % 3 == 1 else -1.0)


def run_online(
    update_rule: Callable[[np.ndarray, np.ndarray, int], np.ndarray],
    num_steps: int,
    *,
    x0: float = 0.0,
    C: float = 3.0,
    bounds: tuple[float, float] = (-1.0, 1.0),
) -> dict:
    """Projected online optimization on the problem of Reddi et al. (2018).

    For t = 1, ..., T: observe gₜ = ∇fₜ(xₜ), take ``y = update_rule(xₜ, gₜ, t)`` and project,
    xₜ₊₁ = clip(y, *bounds). The paper projects Adam/AMSGrad iterates in the norm weighted by
    √v̂ₜ; in one dimension every such weighted projection onto an interval is this clip.

    Returns a dict with ``x`` (the T + 1 iterates x₁, ..., x_{T+1}) and ``average_regret``
    (R_t / t for t = 1..T, where R_t = Σ_{s≤t} f_s(x_s) − min_{x∈[lo, hi]} Σ_{s≤t} f_s(x)).
    Adam with β₁ = 0, β₂ = 1/(1 + C²) and αₜ = α/√t drifts to +1 and its average regret stays
    bounded away from 0; AMSGrad converges to −1 and its average regret goes to 0.
    """
    _check_reddi_c(C)
    if int(num_steps) != num_steps or num_steps < 0:
        raise ValueError(f"Invalid num_steps: {num_steps} (num_steps must be an integer >= 0)")
    lo, hi = bounds
    if not lo < hi:
        raise ValueError(f"Invalid bounds: {bounds} (lower must be < upper)")
    if not lo <= x0 <= hi:
        raise ValueError(f"Invalid x0: {x0} (x0 must lie in {bounds})")
    xs = np.empty(int(num_steps) + 1)
    xs[0] = x0
    regret = np.empty(int(num_steps))
    cumulative_loss = 0.0
    cumulative_grad = 0.0
    for t in range(1, int(num_steps) + 1):
        x = xs[t - 1]
        g = float(reddi_gradient(t, x, C))
        cumulative_loss += float(reddi_loss(t, x, C))
        cumulative_grad += g
        best_fixed = min(cumulative_grad * lo, cumulative_grad * hi)
        regret[t - 1] = (cumulative_loss - best_fixed) / t
        xs[t] = np.clip(float(update_rule(np.array(x), np.array(g), t)), lo, hi)
    return {"x": xs, "average_regret": regret}


def optimizer_update_rule(
    make_optimizer: Callable, *, lr_decay_sqrt: bool = False
) -> Callable[[np.ndarray, np.ndarray, int], np.ndarray]:
    """Wrap a torch.optim-style optimizer as an ``update_rule(x, g, t)`` for :func:`run_online`.

    ``make_optimizer(params)`` builds the optimizer for a list of parameters, for example
    ``lambda p: torch.optim.Adam(p, lr=0.5, betas=(0.0, 0.1), amsgrad=True)``. The wrapper
    owns one float64 parameter; each call writes the (projected) iterate x into it, sets its
    gradient to g and takes one optimizer step, so the optimizer's state persists across
    calls. With ``lr_decay_sqrt=True`` the learning rate of step t is lr₀/√t, the schedule
    αₜ = α/√t of Reddi et al.
    """
    import torch

    param = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = make_optimizer([param])
    base_lrs = [group["lr"] for group in optimizer.param_groups]

    def update(x, g, t):
        with torch.no_grad():
            param.copy_(torch.as_tensor(np.reshape(x, 1), dtype=torch.float64))
        param.grad = torch.as_tensor(np.reshape(g, 1), dtype=torch.float64).clone()
        if lr_decay_sqrt:
            for group, lr0 in zip(optimizer.param_groups, base_lrs, strict=True):
                group["lr"] = lr0 / np.sqrt(t)
        optimizer.step()
        return param.detach().numpy().reshape(np.shape(x)).copy()

    return update


@dataclass(frozen=True)
class SparseRegression:
    """Least squares f(w) = 1/(2n) ‖X w − y‖² with rarely active but informative features.

    The first ``num_dense`` columns are standard normal; each of the other ``num_rare``
    columns is 1 with probability ``rare_prob`` and 0 otherwise. Every feature carries a
    standard normal true weight. The curvature along a rare feature is about ``rare_prob``
    while along a dense one it is about 1, so a single learning rate small enough for the
    dense features is far too small for the rare ones. Adagrad divides each coordinate's
    step by the root of that coordinate's accumulated squared gradients, which stays small
    for rare features, giving them a larger effective learning rate.
    """

    X: np.ndarray
    y: np.ndarray
    w_true: np.ndarray
    num_dense: int

    @property
    def feature_frequency(self) -> np.ndarray:
        """Fraction of examples in which each feature is non-zero."""
        return np.mean(self.X != 0, axis=0)

    def value(self, w) -> float:
        residual = self.X @ np.asarray(w, dtype=np.float64) - self.y
        return float(0.5 * np.mean(residual**2))

    def grad(self, w) -> np.ndarray:
        # Differentiated by torch's autograd, so this file shows no gradient formula.
        import torch

        w = torch.tensor(np.asarray(w, dtype=np.float64), requires_grad=True)
        residual = torch.from_numpy(self.X) @ w - torch.from_numpy(self.y)
        (0.5 * (residual**2).mean()).backward()
        return w.grad.numpy()


def make_sparse_regression(
    n: int = 500,
    num_dense: int = 5,
    num_rare: int = 45,
    rare_prob: float = 0.02,
    noise: float = 0.0,
    seed: int = 0,
) -> SparseRegression:
    """Draw a :class:`SparseRegression` problem; y = X w_true + noise · ε with ε ~ N(0, I)."""
    if int(n) != n or n < 1:
        raise ValueError(f"Invalid n: {n} (n must be an integer >= 1)")
    if num_dense < 0 or num_rare < 0 or num_dense + num_rare < 1:
        raise ValueError(
            f"Invalid feature counts: num_dense={num_dense}, num_rare={num_rare} "
            "(both must be >= 0 and their sum >= 1)"
        )
    if not 0.0 < rare_prob <= 1.0:
        raise ValueError(f"Invalid rare_prob: {rare_prob} (rare_prob must be in (0, 1])")
    if not noise >= 0.0:
        raise ValueError(f"Invalid noise: {noise} (noise must be >= 0)")
    rng = np.random.default_rng(seed)
    dense = rng.standard_normal((n, num_dense))
    rare = (rng.random((n, num_rare)) < rare_prob).astype(np.float64)
    X = np.hstack([dense, rare])
    w_true = rng.standard_normal(num_dense + num_rare)
    y = X @ w_true + noise * rng.standard_normal(n)
    return SparseRegression(X=X, y=y, w_true=w_true, num_dense=num_dense)


def make_linear_regression(n: int, d: int, noise: float = 0.1, seed: int = 0):
    """Synthetic linear regression data: X ~ N(0, I) of shape (n, d), w ~ N(0, I),
    y = X w + noise · ε with ε ~ N(0, I). Returns ``(X, y, w_true)``."""
    _check_shape(n, d)
    if not noise >= 0.0:
        raise ValueError(f"Invalid noise: {noise} (noise must be >= 0)")
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w_true = rng.standard_normal(d)
    y = X @ w_true + noise * rng.standard_normal(n)
    return X, y, w_true


def make_logistic_regression(n: int, d: int, seed: int = 0):
    """Synthetic logistic regression data: X ~ N(0, I) of shape (n, d), w ~ N(0, I),
    labels yᵢ ∈ {0, 1} drawn with P(yᵢ = 1) = σ(xᵢᵀ w). Returns ``(X, y, w_true)``."""
    _check_shape(n, d)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w_true = rng.standard_normal(d)
    p = 0.5 * (1.0 + np.tanh(0.5 * (X @ w_true)))
    y = (rng.random(n) < p).astype(np.float64)
    return X, y, w_true


def _check_shape(n, d) -> None:
    if int(n) != n or n < 1:
        raise ValueError(f"Invalid n: {n} (n must be an integer >= 1)")
    if int(d) != d or d < 1:
        raise ValueError(f"Invalid d: {d} (d must be an integer >= 1)")
