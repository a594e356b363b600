r"""The three ways of writing heavy-ball momentum met in the lecture material.

Each function performs one step and returns ``(new_theta, new_velocity)``; inputs are
NumPy arrays, torch tensors or floats and are not modified. All start from a zero
velocity.

(a) PyTorch / lecture form, :func:`momentum_pytorch` (torch.optim.SGD with
    ``dampening=0``; the lecture's :math:`v_t = \beta v_{t-1} + g_t`):

    .. math:: v \leftarrow \beta v + g, \qquad \theta \leftarrow \theta - \eta v

(b) Goodfellow et al. (*Deep Learning*, algorithm 8.2), :func:`momentum_goodfellow`:

    .. math:: v \leftarrow \alpha v - \epsilon g, \qquad \theta \leftarrow \theta + v

    The lecture's :math:`V \leftarrow \beta V + \alpha\nabla,\ W \leftarrow W - V`
    (Sutskever et al.) is the same form with :math:`V = -v`.

(c) Exponential-moving-average form, :func:`momentum_ema`:

    .. math:: v \leftarrow \beta v + (1-\beta) g, \qquad \theta \leftarrow \theta - \eta v

Relations, for the same gradients and :math:`\alpha = \beta`:

- (b) equals (a) with :math:`v_b = -\eta\, v_a` and :math:`\epsilon = \eta` **while the
  learning rate is constant**: :math:`v_b' = \beta(-\eta v_a) - \eta g = -\eta v_a'`.
  If the learning rate changes from :math:`\eta` to :math:`\eta'` mid-run the forms
  differ: (b)'s velocity still holds gradients scaled by the old :math:`\eta`, so the
  change acts gradually, while (a) rescales the whole velocity at once.
- (c) equals (a) with :math:`v_c = (1-\beta)\, v_a` and :math:`\eta_c = \eta_a/(1-\beta)`:
  :math:`v_c' = \beta(1-\beta)v_a + (1-\beta)g = (1-\beta)v_a'` and
  :math:`\eta_c v_c' = \eta_a v_a'`. Neither velocity contains the learning rate, so this
  holds for any learning-rate schedule as long as :math:`\eta_c = \eta_a/(1-\beta)` at
  every step; it breaks if :math:`\beta` changes.

``lr`` must be a finite number >= 0 and ``beta`` / ``alpha`` lie in [0, 1]; anything else
raises ``ValueError``.
"""

from course_utils.optim._validation import check_nonnegative, check_unit_interval


def _check(lr, name, coefficient):
    check_nonnegative("lr", lr)
    check_unit_interval(name, coefficient, include_one=True)


def momentum_pytorch(theta, velocity, grad, *, lr, beta):
    r"""(a) :math:`v \leftarrow \beta v + g,\ \theta \leftarrow \theta - \eta v`."""
    _check(lr, "beta", beta)
    velocity = beta * velocity + grad
    return theta - lr * velocity, velocity


def momentum_goodfellow(theta, velocity, grad, *, lr, alpha):
    r"""(b) :math:`v \leftarrow \alpha v - \epsilon g,\ \theta \leftarrow \theta + v`
    with :math:`\epsilon` = ``lr``."""
    _check(lr, "alpha", alpha)
    velocity = alpha * velocity - lr * grad
    return theta + velocity, velocity


def momentum_ema(theta, velocity, grad, *, lr, beta):
    r"""(c) :math:`v \leftarrow \beta v + (1-\beta) g,\ \theta \leftarrow \theta - \eta v`."""
    _check(lr, "beta", beta)
    velocity = beta * velocity + (1 - beta) * grad
    return theta - lr * velocity, velocity
