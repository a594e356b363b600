r"""Learning-rate schedules as functions of the step count.

Two forms of every schedule:

- A **factory** (``step_schedule``, ``cosine_schedule``, ...) checks its hyperparameters
  once and returns a :class:`Schedule`: ``schedule(t)`` is the rate at step ``t``.
  :func:`join_schedules` runs schedules one after another, each from its own step 0;
  warm-up + cosine, warm-up + linear decay and the 1cycle policy are built with it.
  The scheduler classes of :mod:`course_utils.schedules.schedulers` evaluate these.
- A **pure function** (``step_lr(t, base_lr, ...)``, ...) takes the step count and all
  hyperparameters and returns the rate; nothing is stored between calls. These are the
  notebooks' functions: training loops evaluate ``lr = schedule(t, ...)`` before step
  ``t``. A pure function checks its arguments on every call, sometimes more strictly
  than its factory (stated in its docstring), and returns ``factory(...)(t)``.

``t`` (``t = 0`` is the first step) may be any finite real number ``>= 0``; integer
steps are the usual case, and :func:`cosine_warm_restarts_lr` is meant to be evaluated
at fractional epochs.
"""

import math
from bisect import bisect_right

from course_utils.schedules import _checks

CYCLIC_MODES = ("triangular", "triangular2", "exp_range")
ANNEAL_STRATEGIES = ("cos", "linear")


class Schedule:
    """A schedule made by a factory of this module: ``schedule(t)`` is the rate at step ``t``.

    The hyperparameters were checked when it was made; a call checks only ``t`` (a
    finite number ``>= 0``).
    """

    __slots__ = ("_rate", "_text")

    def __init__(self, rate, text):
        self._rate = rate
        self._text = text

    def __call__(self, t):
        return self._rate(_checks.step_count(t))

    def __repr__(self):
        return self._text


def _args_text(name, **arguments):
    return f"{name}({', '.join(f'{k}={v!r}' for k, v in arguments.items())})"


def cosine_between(start, end, fraction):
    r"""Half a cosine wave from ``start`` (fraction 0) to ``end`` (fraction 1).

    .. math:: v = e + \tfrac12 (s - e)\,(1 + \cos(\pi f))

    Outside ``[0, 1]`` the cosine simply continues (period 2).
    """
    return end + (start - end) * (1.0 + math.cos(math.pi * fraction)) / 2.0


def linear_between(start, end, fraction):
    """The straight line from ``start`` (fraction 0) to ``end`` (fraction 1)."""
    return (end - start) * fraction + start


# ---------------------------------------------------------------------------- factories


def constant_schedule(value):
    """The same rate at every step."""
    value = _checks.nonnegative("value", value)
    return Schedule(lambda t: value, _args_text("constant_schedule", value=value))


def step_schedule(base_lr, step_size, gamma=0.1):
    r"""Step decay: :math:`\alpha_t = \alpha_0\,\gamma^{\lfloor t / \text{step\_size} \rfloor}`.

    ``gamma`` may be any finite number ``>= 0`` (``gamma > 1`` grows the rate).
    """
    base_lr = _checks.nonnegative("base_lr", base_lr)
    step_size = _checks.positive_int("step_size", step_size)
    gamma = _checks.nonnegative("gamma", gamma)
    return Schedule(
        lambda t: base_lr * gamma ** (t // step_size),
        _args_text("step_schedule", base_lr=base_lr, step_size=step_size, gamma=gamma),
    )


def multistep_schedule(base_lr, milestones, gamma=0.1):
    r"""Multiply by ``gamma`` at each milestone.

    .. math:: \alpha_t = \alpha_0\,\gamma^{\#\{m \in \text{milestones} : m \le t\}}

    ``milestones`` are integers ``>= 0`` in any order; a milestone listed ``k`` times
    multiplies by :math:`\gamma^k` (torch's ``MultiStepLR`` rule).
    """
    base_lr = _checks.nonnegative("base_lr", base_lr)
    milestones = sorted(_checks.nonnegative_ints("milestones", milestones))
    gamma = _checks.nonnegative("gamma", gamma)
    return Schedule(
        lambda t: base_lr * gamma ** bisect_right(milestones, t),
        _args_text("multistep_schedule", base_lr=base_lr, milestones=milestones, gamma=gamma),
    )


def exponential_schedule(base_lr, gamma):
    r"""Exponential decay: :math:`\alpha_t = \alpha_0\,\gamma^t` (``gamma >= 0``)."""
    base_lr = _checks.nonnegative("base_lr", base_lr)
    gamma = _checks.nonnegative("gamma", gamma)
    return Schedule(
        lambda t: base_lr * gamma**t,
        _args_text("exponential_schedule", base_lr=base_lr, gamma=gamma),
    )


def cosine_schedule(base_lr, T_max, eta_min=0.0):
    r"""Cosine annealing from ``base_lr`` to ``eta_min`` over ``T_max`` steps.

    .. math:: \alpha_t = \eta_{\min} + \tfrac12 (\alpha_0 - \eta_{\min})
              \left(1 + \cos\frac{t\pi}{T_{\max}}\right)

    Past ``T_max`` the cosine goes on (back to ``base_lr`` at ``2 T_max``); see
    :func:`cosine_annealing_lr`.
    """
    base_lr = _checks.nonnegative("base_lr", base_lr)
    T_max = _checks.positive_int("T_max", T_max)
    eta_min = _checks.nonnegative("eta_min", eta_min)
    return Schedule(
        lambda t: cosine_between(base_lr, eta_min, t / T_max),
        _args_text("cosine_schedule", base_lr=base_lr, T_max=T_max, eta_min=eta_min),
    )


def linear_schedule(base_lr, start_factor=1.0 / 3, end_factor=1.0, total_iters=5):
    r"""Linear change of the factor from ``start_factor`` to ``end_factor``, then constant.

    .. math:: \alpha_t = \alpha_0 \left(s + (e - s)\,\frac{\min(t, T)}{T}\right)
    """
    base_lr = _checks.nonnegative("base_lr", base_lr)
    start_factor = _checks.nonnegative("start_factor", start_factor)
    end_factor = _checks.nonnegative("end_factor", end_factor)
    total_iters = _checks.positive_int("total_iters", total_iters)

    def rate(t):
        fraction = min(t, total_iters) / total_iters
        return base_lr * (start_factor + (end_factor - start_factor) * fraction)

    return Schedule(
        rate,
        _args_text(
            "linear_schedule",
            base_lr=base_lr,
            start_factor=start_factor,
            end_factor=end_factor,
            total_iters=total_iters,
        ),
    )


def anneal_schedule(start, end, steps, strategy="cos"):
    r"""One phase from ``start`` (step 0) to ``end`` (step ``steps``), the 1cycle policy's piece.

    ``strategy='cos'`` follows half a cosine, ``'linear'`` a straight line, at fraction
    :math:`t/\text{steps}`; past ``steps`` the curve goes on. ``steps`` may be
    fractional; a phase of ``steps = 0`` gives ``end`` everywhere.
    """
    start = _checks.finite("start", start)
    end = _checks.finite("end", end)
    steps = _checks.nonnegative("steps", steps)
    _checks.choice("strategy", strategy, ANNEAL_STRATEGIES)
    curve = cosine_between if strategy == "cos" else linear_between
    text = _args_text("anneal_schedule", start=start, end=end, steps=steps, strategy=strategy)
    if steps == 0:
        return Schedule(lambda t: end, text)
    return Schedule(lambda t: curve(start, end, t / steps), text)


def join_schedules(schedules, boundaries):
    r"""Run ``schedules`` one after another, switching at ``boundaries`` (after optax's
    ``join_schedules``).

    With boundaries :math:`b_1 \le \dots \le b_{n-1}` and :math:`b_0 = 0`, step ``t``
    with :math:`b_k \le t < b_{k+1}` gets ``schedules[k](t - b_k)``: each schedule
    starts from its own step 0, and a step equal to a boundary belongs to the schedule
    that starts there. Boundaries may be fractional, and a boundary below 0 skips the
    schedule before it. Each schedule is a :class:`Schedule` or any function of the
    step.
    """
    schedules = list(schedules)
    boundaries = [float(_checks.finite("boundaries", b)) for b in boundaries]
    if not schedules or len(boundaries) != len(schedules) - 1:
        raise ValueError(
            f"Invalid boundaries: {boundaries!r} (give one boundary fewer than schedules: "
            f"{len(schedules)} schedules need {max(len(schedules) - 1, 0)} boundaries)"
        )
    if any(b < a for a, b in zip(boundaries, boundaries[1:], strict=False)):
        raise ValueError(f"Invalid boundaries: {boundaries!r} (boundaries must not decrease)")
    for i, schedule in enumerate(schedules):
        if not callable(schedule):
            raise TypeError(f"schedules[{i}] is a {type(schedule).__name__}, not a schedule")
    pieces = [s._rate if isinstance(s, Schedule) else s for s in schedules]
    starts = [0.0, *boundaries]

    def rate(t):
        k = bisect_right(boundaries, t)
        return pieces[k](t - starts[k] if k else t)

    return Schedule(rate, f"join_schedules({schedules!r}, {boundaries!r})")


def warmup_cosine_schedule(
    base_lr, warmup_steps, total_steps, warmup_start_factor=0.0, eta_min=0.0
):
    """Linear warm-up to ``base_lr``, cosine to ``eta_min`` at ``total_steps``, then
    ``eta_min``: a join of three schedules (formula at :func:`warmup_cosine_lr`)."""
    base_lr = _checks.nonnegative("base_lr", base_lr)
    _warmup_checks(warmup_steps, total_steps)
    f = _checks.in_interval("warmup_start_factor", warmup_start_factor, 0.0, 1.0)
    eta_min = _checks.nonnegative("eta_min", eta_min)
    W, T = warmup_steps, total_steps
    return join_schedules(
        [
            lambda s: base_lr * linear_between(f, 1.0, s / W),
            lambda s: cosine_between(base_lr, eta_min, s / (T - W)),
            lambda s: eta_min,
        ],
        [W, T],
    )


def warmup_linear_schedule(base_lr, warmup_steps, total_steps, warmup_start_factor=0.0):
    r"""Linear warm-up from ``warmup_start_factor * base_lr`` to ``base_lr`` over
    ``warmup_steps``, then a linear decay to 0 at ``total_steps``, then 0.

    .. math:: \alpha_t = \begin{cases} \alpha_0 (f + (1 - f)\, t / W) & t < W \\
              \alpha_0 \left(1 - \min(t - W, T - W)/(T - W)\right) & t \ge W \end{cases}

    Both pieces are :func:`linear_schedule`, joined at ``warmup_steps``.
    """
    base_lr = _checks.nonnegative("base_lr", base_lr)
    _warmup_checks(warmup_steps, total_steps)
    f = _checks.in_interval("warmup_start_factor", warmup_start_factor, 0.0, 1.0)
    W, T = warmup_steps, total_steps
    decay = linear_schedule(base_lr, 1.0, 0.0, T - W)
    if W == 0:
        return join_schedules([decay], [])
    return join_schedules([linear_schedule(base_lr, f, 1.0, W), decay], [W])


def cyclic_schedule(
    base_lr,
    max_lr,
    step_size_up=2000,
    step_size_down=None,
    mode="triangular",
    gamma=1.0,
    scale_fn=None,
    scale_mode="cycle",
):
    """The cyclical learning rate of :func:`cyclic_lr` (formula there)."""
    base_lr = _checks.nonnegative("base_lr", base_lr)
    max_lr = _checks.nonnegative("max_lr", max_lr)
    step_size_up = _checks.positive("step_size_up", step_size_up)
    step_size_down = (
        step_size_up
        if step_size_down is None
        else _checks.positive("step_size_down", step_size_down)
    )
    total_size = step_size_up + step_size_down
    return cycle_schedule(
        base_lr,
        max_lr,
        total_size,
        step_size_up / total_size,
        cyclic_scale(mode, gamma, scale_fn, scale_mode),
    )


def cyclic_scale(mode="triangular", gamma=1.0, scale_fn=None, scale_mode="cycle"):
    """The amplitude scale of a cycle as ``(function, argument)``: argument ``'cycle'``
    (the 1-based cycle number) or ``'iterations'`` (the step)."""
    if scale_fn is not None:
        if not callable(scale_fn):
            raise TypeError(f"scale_fn is a {type(scale_fn).__name__}, not a function")
        return scale_fn, _checks.choice("scale_mode", scale_mode, ("cycle", "iterations"))
    _checks.choice("mode", mode, CYCLIC_MODES)
    if mode == "triangular":
        return (lambda cycle: 1.0), "cycle"
    if mode == "triangular2":
        return (lambda cycle: 0.5 ** (cycle - 1)), "cycle"
    gamma = _checks.positive("gamma", gamma)
    return (lambda t: gamma**t), "iterations"


def cycle_schedule(low, high, total_size, step_ratio, scale):
    r"""A triangle wave between ``low`` and ``high`` (the core of :func:`cyclic_lr`).

    Each cycle lasts ``total_size`` steps and rises for the fraction ``step_ratio`` of
    them; ``scale`` is a :func:`cyclic_scale` pair. These are the quantities torch's
    ``CyclicLR`` keeps (``total_size``, ``step_ratio``); ``high < low`` inverts the
    wave (the momentum cycle).
    """
    scale_fn, scale_mode = scale
    by_cycle = scale_mode == "cycle"

    def rate(t):
        cycle = math.floor(1 + t / total_size)
        x = 1.0 + t / total_size - cycle
        height = x / step_ratio if x <= step_ratio else (x - 1) / (step_ratio - 1)
        return low + (high - low) * height * scale_fn(cycle if by_cycle else t)

    return Schedule(
        rate,
        _args_text(
            "cycle_schedule", low=low, high=high, total_size=total_size, step_ratio=step_ratio
        ),
    )


def restart_position(t, T_0, T_mult):
    r"""Where step ``t`` falls in SGDR's cycles: ``(T_cur, T_i)``.

    Cycle :math:`i` (from 0) has length :math:`T_i = T_0 T_{\text{mult}}^i` and starts
    at :math:`T_0 (T_{\text{mult}}^i - 1)/(T_{\text{mult}} - 1)`; :math:`T_{cur}` is ``t``
    minus that start. The cycle is found by walking the integer cycle boundaries, so a
    ``t`` that is exactly a restart always lands at :math:`T_{cur} = 0`.
    """
    if T_mult == 1:
        return t % T_0, T_0
    start, length = 0, T_0
    while t >= start + length:
        start += length
        length *= T_mult
    return t - start, length


def warm_restarts_schedule(base_lr, T_0, T_mult=1, eta_min=0.0):
    """Cosine annealing with warm restarts (SGDR): formula at :func:`cosine_warm_restarts_lr`."""
    base_lr = _checks.nonnegative("base_lr", base_lr)
    T_0 = _checks.positive_int("T_0", T_0)
    T_mult = _checks.positive_int("T_mult", T_mult)
    eta_min = _checks.nonnegative("eta_min", eta_min)

    def rate(t):
        T_cur, T_i = restart_position(t, T_0, T_mult)
        return cosine_between(base_lr, eta_min, T_cur / T_i)

    return Schedule(
        rate,
        _args_text(
            "warm_restarts_schedule", base_lr=base_lr, T_0=T_0, T_mult=T_mult, eta_min=eta_min
        ),
    )


def one_cycle_phase_ends(total_steps, pct_start, three_phase):
    """The last step of each 1cycle phase, as torch's ``OneCycleLR`` places them.

    Two phases end at :math:`pT - 1` and :math:`T - 1`; three at :math:`pT - 1`,
    :math:`2pT - 2` and :math:`T - 1` (:math:`p` = ``pct_start``, :math:`T` =
    ``total_steps``).
    """
    up_end = float(pct_start * total_steps) - 1
    if three_phase:
        return [up_end, float(2 * pct_start * total_steps) - 2, total_steps - 1]
    return [up_end, total_steps - 1]


def _shifted(schedule, shift):
    return lambda s: schedule._rate(s + shift)


def phases_schedule(values, phase_ends, anneal_strategy="cos"):
    r"""Anneal through ``values[0] -> values[1] -> ...``, phase ``k`` ending at step
    ``phase_ends[k]``: a join of :func:`anneal_schedule` pieces at the phase ends.

    Phase ``k`` runs from the end of phase ``k - 1`` (step 0 for the first) to its own
    end; the last phase goes on past its end, and a phase of zero (or negative) length
    gives its end value. A phase that ends before an earlier one is never reached
    (torch's ``OneCycleLR`` rule: a step belongs to the first phase that ends at or
    after it), though its end is still where the next phase starts.
    """
    if len(values) != len(phase_ends) + 1:
        raise ValueError(
            f"Invalid values: {list(values)!r} (give one value more than phase ends: "
            f"{len(phase_ends)} phases go through {len(phase_ends) + 1} values)"
        )
    starts = [0.0, *phase_ends[:-1]]
    switches = [max(phase_ends[: k + 1]) for k in range(len(phase_ends) - 1)]
    pieces = []
    for k, (a, b, start, end) in enumerate(
        zip(values[:-1], values[1:], starts, phase_ends, strict=True)
    ):
        piece = anneal_schedule(a, b, max(end - start, 0.0), anneal_strategy)
        shift = switches[k - 1] - start if k else 0.0
        pieces.append(_shifted(piece, shift) if shift else piece)
    return join_schedules(pieces, switches)


def _one_cycle_checks(total_steps, pct_start, anneal_strategy):
    total_steps = _checks.positive_int("total_steps", total_steps)
    pct_start = _checks.in_interval("pct_start", pct_start, 0.0, 1.0)
    _checks.choice("anneal_strategy", anneal_strategy, ANNEAL_STRATEGIES)
    return total_steps, pct_start


def _up_to(total_steps, schedule):
    """``schedule`` on steps ``0 .. total_steps`` only."""

    def rate(t):
        if t > total_steps:
            raise ValueError(
                f"Invalid t: {t!r} (the one-cycle schedule is defined for steps 0 to "
                f"total_steps = {total_steps})"
            )
        return schedule._rate(t)

    return Schedule(rate, repr(schedule))


def one_cycle_schedule(
    max_lr,
    total_steps,
    pct_start=0.3,
    anneal_strategy="cos",
    div_factor=25.0,
    final_div_factor=1e4,
    three_phase=False,
):
    """The 1cycle rate (formula at :func:`one_cycle_lr`), defined for steps ``0 .. total_steps``."""
    total_steps, pct_start = _one_cycle_checks(total_steps, pct_start, anneal_strategy)
    max_lr = _checks.nonnegative("max_lr", max_lr)
    div_factor = _checks.positive("div_factor", div_factor)
    final_div_factor = _checks.positive("final_div_factor", final_div_factor)
    initial_lr = max_lr / div_factor
    min_lr = initial_lr / final_div_factor
    values = (
        [initial_lr, max_lr, initial_lr, min_lr] if three_phase else [initial_lr, max_lr, min_lr]
    )
    ends = one_cycle_phase_ends(total_steps, pct_start, three_phase)
    return _up_to(total_steps, phases_schedule(values, ends, anneal_strategy))


def one_cycle_momentum_schedule(
    total_steps,
    pct_start=0.3,
    anneal_strategy="cos",
    base_momentum=0.85,
    max_momentum=0.95,
    three_phase=False,
):
    """The momentum that goes with :func:`one_cycle_schedule` (see :func:`one_cycle_momentum`)."""
    total_steps, pct_start = _one_cycle_checks(total_steps, pct_start, anneal_strategy)
    low = _checks.nonnegative("base_momentum", base_momentum)
    high = _checks.nonnegative("max_momentum", max_momentum)
    values = [high, low, high, high] if three_phase else [high, low, high]
    ends = one_cycle_phase_ends(total_steps, pct_start, three_phase)
    return _up_to(total_steps, phases_schedule(values, ends, anneal_strategy))


def _warmup_checks(warmup_steps, total_steps):
    _checks.nonnegative_int("warmup_steps", warmup_steps)
    _checks.positive_int("total_steps", total_steps)
    if total_steps <= warmup_steps:
        raise ValueError(
            f"Invalid total_steps: {total_steps!r} (total_steps must be > warmup_steps "
            f"= {warmup_steps})"
        )


# ------------------------------------------------------------------------ pure functions


def step_lr(t, base_lr, step_size, gamma=0.1):
    r"""Step decay: multiply by ``gamma`` every ``step_size`` steps.

    .. math:: \alpha_t = \alpha_0\,\gamma^{\lfloor t / \text{step\_size} \rfloor}

    The lecture's ResNet rule ("multiply by 0.1 after epochs 30, 60 and 90") is
    ``step_lr(t, base_lr, 30, 0.1)`` for ``t < 120``, and
    ``multistep_lr(t, base_lr, [30, 60, 90], 0.1)`` for every ``t``. ``gamma`` must be
    ``> 0``.
    """
    _checks.step_count(t)
    _checks.positive("gamma", gamma)
    return step_schedule(base_lr, step_size, gamma)(t)


def multistep_lr(t, base_lr, milestones, gamma=0.1):
    r"""Multiply by ``gamma`` at each milestone.

    .. math:: \alpha_t = \alpha_0\,\gamma^{\#\{m \in \text{milestones} : m \le t\}}

    ``milestones`` must be strictly increasing integers ``>= 0`` and ``gamma > 0``
    (:func:`multistep_schedule` also takes unsorted and repeated milestones).
    """
    _checks.step_count(t)
    _checks.increasing_ints("milestones", milestones)
    _checks.positive("gamma", gamma)
    return multistep_schedule(base_lr, milestones, gamma)(t)


def exponential_lr(t, base_lr, gamma):
    r"""Exponential decay: :math:`\alpha_t = \alpha_0\,\gamma^t` (``gamma > 0``)."""
    _checks.step_count(t)
    _checks.positive("gamma", gamma)
    return exponential_schedule(base_lr, gamma)(t)


def cosine_annealing_lr(t, base_lr, T_max, eta_min=0.0):
    r"""Cosine annealing from ``base_lr`` to ``eta_min`` over ``T_max`` steps.

    .. math:: \alpha_t = \eta_{\min} + \tfrac12 (\alpha_0 - \eta_{\min})
              \left(1 + \cos\frac{t\pi}{T_{\max}}\right)

    With ``eta_min = 0`` this is the lecture's :math:`\tfrac12\alpha_0(1 + \cos(t\pi/T))`.

    Past ``T_max`` the formula keeps going: the rate climbs back to ``base_lr`` at
    ``2 * T_max`` and repeats with period ``2 * T_max``. torch's ``CosineAnnealingLR``
    class follows the same curve past ``T_max`` (its recursive update steps off
    ``eta_min`` at ``T_max + 1`` and continues the cosine), and so does
    :class:`~course_utils.schedules.CosineAnnealingLR`. To stay at ``eta_min`` after
    ``T_max``, evaluate at ``min(t, T_max)``.
    """
    _checks.step_count(t)
    return cosine_schedule(base_lr, T_max, eta_min)(t)


def linear_lr(t, base_lr, start_factor=1.0 / 3, end_factor=1.0, total_iters=5):
    r"""Linear change of the factor from ``start_factor`` to ``end_factor``, then constant.

    .. math:: \alpha_t = \alpha_0 \left(s + (e - s)\,\frac{\min(t, T)}{T}\right)

    The lecture's linear decay :math:`\alpha_t = \alpha_0 (1 - t/T)` is
    ``linear_lr(t, base_lr, start_factor=1.0, end_factor=0.0, total_iters=T)``
    (and the rate stays 0 after ``T``).
    """
    _checks.step_count(t)
    return linear_schedule(base_lr, start_factor, end_factor, total_iters)(t)


def warmup_cosine_lr(t, base_lr, warmup_steps, total_steps, warmup_start_factor=0.0, eta_min=0.0):
    r"""Linear warm-up for ``warmup_steps`` steps, then cosine annealing to ``total_steps``.

    With :math:`W` = ``warmup_steps``, :math:`T` = ``total_steps`` and :math:`f` =
    ``warmup_start_factor``:

    .. math::
        \alpha_t = \begin{cases}
            \alpha_0 \left(f + (1 - f)\,t / W\right) & t < W \\
            \eta_{\min} + \tfrac12 (\alpha_0 - \eta_{\min})
                \left(1 + \cos\frac{(t - W)\pi}{T - W}\right) & W \le t \le T \\
            \eta_{\min} & t > T
        \end{cases}

    The rate reaches ``base_lr`` at step ``W`` and ``eta_min`` at step ``T`` and stays
    there. For ``t <= T`` and ``f > 0`` this equals torch's
    ``SequentialLR([LinearLR(start_factor=f, end_factor=1, total_iters=W),
    CosineAnnealingLR(T_max=T - W, eta_min=eta_min)], milestones=[W])``.
    """
    _checks.step_count(t)
    return warmup_cosine_schedule(base_lr, warmup_steps, total_steps, warmup_start_factor, eta_min)(
        t
    )


def cyclic_lr(
    t,
    base_lr,
    max_lr,
    step_size_up=2000,
    step_size_down=None,
    mode="triangular",
    gamma=1.0,
    scale_fn=None,
    scale_mode="cycle",
):
    r"""Cyclical learning rate (Smith, "Cyclical Learning Rates for Training Neural
    Networks", arXiv:1506.01186).

    A cycle has ``step_size_up`` steps rising from ``base_lr`` to ``max_lr`` and
    ``step_size_down`` steps (default: ``step_size_up``) falling back. With cycle length
    :math:`C = u + d`, cycle number :math:`c = \lfloor 1 + t/C \rfloor` (1-based),
    position :math:`x = 1 + t/C - c \in [0, 1)` and rising fraction :math:`r = u/C`:

    .. math::
        h = \begin{cases} x / r & x \le r \\ (1 - x)/(1 - r) & x > r \end{cases}
        \qquad
        \alpha_t = \alpha_{\text{base}} + (\alpha_{\max} - \alpha_{\text{base}})\,h\,s

    The amplitude scale :math:`s` is 1 (``'triangular'``), :math:`2^{-(c-1)}`
    (``'triangular2'``: halved every cycle) or :math:`\gamma^t` (``'exp_range'``).
    A custom ``scale_fn`` replaces ``mode``; it is called with :math:`c` when
    ``scale_mode='cycle'`` and with :math:`t` when ``scale_mode='iterations'``.
    ``max_lr`` may be below ``base_lr`` (the cycle is then inverted, as momentum is).
    """
    _checks.step_count(t)
    return cyclic_schedule(
        base_lr, max_lr, step_size_up, step_size_down, mode, gamma, scale_fn, scale_mode
    )(t)


def cyclic_momentum(
    t,
    base_momentum,
    max_momentum,
    step_size_up=2000,
    step_size_down=None,
    mode="triangular",
    gamma=1.0,
    scale_fn=None,
    scale_mode="cycle",
):
    r"""The momentum cycle that goes with :func:`cyclic_lr`: inverse to the rate.

    It starts each cycle at ``max_momentum`` and dips towards ``base_momentum`` while
    the rate peaks: ``cyclic_lr(t, max_momentum, base_momentum, ...)``.
    """
    return cyclic_lr(
        t,
        max_momentum,
        base_momentum,
        step_size_up,
        step_size_down,
        mode,
        gamma,
        scale_fn,
        scale_mode,
    )


def cosine_warm_restarts_lr(t, base_lr, T_0, T_mult=1, eta_min=0.0):
    r"""Cosine annealing with warm restarts (SGDR; Loshchilov & Hutter, ICLR 2017).

    .. math:: \alpha_t = \eta_{\min} + \tfrac12 (\alpha_0 - \eta_{\min})
              \left(1 + \cos\frac{T_{cur}\,\pi}{T_i}\right)

    The first cycle lasts ``T_0`` steps and each next one ``T_mult`` times longer;
    :math:`T_{cur}` counts the steps since the last restart, where the rate jumps back
    to ``base_lr``. ``t`` may be fractional (SGDR updates the rate every batch, at
    epoch ``e + i / batches_per_epoch``).
    """
    _checks.step_count(t)
    return warm_restarts_schedule(base_lr, T_0, T_mult, eta_min)(t)


def one_cycle_lr(
    t,
    max_lr,
    total_steps,
    pct_start=0.3,
    anneal_strategy="cos",
    div_factor=25.0,
    final_div_factor=1e4,
    three_phase=False,
):
    r"""The 1cycle policy (Smith & Topin, "Super-Convergence", arXiv:1708.07120).

    The rate rises from ``initial = max_lr / div_factor`` to ``max_lr`` during the first
    ``pct_start`` of the ``total_steps`` steps, then anneals to
    ``min = initial / final_div_factor``. With ``three_phase=True`` it first falls back
    symmetrically to ``initial`` and anneals to ``min`` in a third phase (the paper's
    form). ``anneal_strategy`` is ``'cos'`` (:math:`v = e + \tfrac12(s-e)(1+\cos\pi f)`)
    or ``'linear'`` (:math:`v = s + (e - s) f`), where :math:`f` is the fraction of the
    current phase (:func:`one_cycle_phase_ends` gives the phase boundaries, which are
    torch's). Steps ``0 .. total_steps`` are defined (torch tolerates one step past the
    last, ``total_steps - 1``); a later ``t`` raises ValueError.
    """
    _checks.step_count(t)
    return one_cycle_schedule(
        max_lr, total_steps, pct_start, anneal_strategy, div_factor, final_div_factor, three_phase
    )(t)


def one_cycle_momentum(
    t,
    total_steps,
    pct_start=0.3,
    anneal_strategy="cos",
    base_momentum=0.85,
    max_momentum=0.95,
    three_phase=False,
):
    """The momentum that goes with :func:`one_cycle_lr`: inverse to the rate.

    It goes ``max_momentum -> base_momentum -> max_momentum`` (three phases:
    ``max -> base -> max``, then stays at ``max_momentum``) on the same phases.
    """
    _checks.step_count(t)
    return one_cycle_momentum_schedule(
        total_steps, pct_start, anneal_strategy, base_momentum, max_momentum, three_phase
    )(t)
