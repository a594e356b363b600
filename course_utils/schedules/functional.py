r"""Learning-rate schedules as pure functions of the step count.

Every function here takes the step count ``t`` (``t = 0`` is the first step) and the
hyperparameters and returns the learning rate for that step; nothing is stored between
calls. Training loops evaluate ``lr = schedule(t, ...)`` before step ``t``. The classes
in :mod:`course_utils.schedules.schedulers` apply these functions to the parameter
groups of a torch optimizer, with the conventions of ``torch.optim.lr_scheduler``.

``t`` may be any finite real number ``>= 0``; integer steps are the usual case, and
:func:`cosine_warm_restarts_lr` is meant to be evaluated at fractional epochs.
"""

import math
from bisect import bisect_right

from course_utils.schedules import _checks

CYCLIC_MODES = ("triangular", "triangular2", "exp_range")
ANNEAL_STRATEGIES = ("cos", "linear")


def _cosine_between(start, end, fraction):
    r"""Half a cosine wave from ``start`` (fraction 0) to ``end`` (fraction 1).

    .. math:: v = e + \tfrac12 (s - e)\,(1 + \cos(\pi f))

    Outside ``[0, 1]`` the cosine simply continues (period 2).
    """
    return end + (start - end) * (1.0 + math.cos(math.pi * fraction)) / 2.0


def _linear_between(start, end, fraction):
    """The straight line from ``start`` (fraction 0) to ``end`` (fraction 1)."""
    return (end - start) * fraction + start


def step_lr(t, base_lr, step_size, gamma=0.1):
    r"""Step decay: multiply by ``gamma`` every ``step_size`` steps.

    .. math:: \alpha_t = \alpha_0\,\gamma^{\lfloor t / \text{step\_size} \rfloor}

    The lecture's ResNet rule ("multiply by 0.1 after epochs 30, 60 and 90") is
    ``step_lr(t, base_lr, 30, 0.1)`` for ``t < 120``, and
    ``multistep_lr(t, base_lr, [30, 60, 90], 0.1)`` for every ``t``.
    """
    _checks.step_count(t)
    _checks.nonnegative("base_lr", base_lr)
    _checks.positive_int("step_size", step_size)
    _checks.positive("gamma", gamma)
    return base_lr * gamma ** (t // step_size)


def multistep_lr(t, base_lr, milestones, gamma=0.1):
    r"""Multiply by ``gamma`` at each milestone.

    .. math:: \alpha_t = \alpha_0\,\gamma^{\#\{m \in \text{milestones} : m \le t\}}

    ``milestones`` must be strictly increasing integers ``>= 0``.
    """
    _checks.step_count(t)
    _checks.nonnegative("base_lr", base_lr)
    milestones = _checks.increasing_ints("milestones", milestones)
    _checks.positive("gamma", gamma)
    return base_lr * gamma ** bisect_right(milestones, t)


def exponential_lr(t, base_lr, gamma):
    r"""Exponential decay: :math:`\alpha_t = \alpha_0\,\gamma^t`."""
    _checks.step_count(t)
    _checks.nonnegative("base_lr", base_lr)
    _checks.positive("gamma", gamma)
    return base_lr * gamma**t


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
    _checks.nonnegative("base_lr", base_lr)
    _checks.positive_int("T_max", T_max)
    _checks.nonnegative("eta_min", eta_min)
    return _cosine_between(base_lr, eta_min, t / T_max)


def linear_lr(t, base_lr, start_factor=1.0 / 3, end_factor=1.0, total_iters=5):
    r"""Linear change of the factor from ``start_factor`` to ``end_factor``, then constant.

    .. math:: \alpha_t = \alpha_0 \left(s + (e - s)\,\frac{\min(t, T)}{T}\right)

    The lecture's linear decay :math:`\alpha_t = \alpha_0 (1 - t/T)` is
    ``linear_lr(t, base_lr, start_factor=1.0, end_factor=0.0, total_iters=T)``
    (and the rate stays 0 after ``T``).
    """
    _checks.step_count(t)
    _checks.nonnegative("base_lr", base_lr)
    _checks.nonnegative("start_factor", start_factor)
    _checks.nonnegative("end_factor", end_factor)
    _checks.positive_int("total_iters", total_iters)
    fraction = min(t, total_iters) / total_iters
    return base_lr * (start_factor + (end_factor - start_factor) * fraction)


def _warmup_cosine_checks(warmup_steps, total_steps, warmup_start_factor, eta_min):
    _checks.nonnegative_int("warmup_steps", warmup_steps)
    _checks.positive_int("total_steps", total_steps)
    if total_steps <= warmup_steps:
        raise ValueError(
            f"Invalid total_steps: {total_steps!r} (total_steps must be > warmup_steps "
            f"= {warmup_steps})"
        )
    _checks.in_interval("warmup_start_factor", warmup_start_factor, 0.0, 1.0)
    _checks.nonnegative("eta_min", eta_min)


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
    _checks.nonnegative("base_lr", base_lr)
    _warmup_cosine_checks(warmup_steps, total_steps, warmup_start_factor, eta_min)
    if t < warmup_steps:
        return base_lr * _linear_between(warmup_start_factor, 1.0, t / warmup_steps)
    if t > total_steps:
        return eta_min
    return _cosine_between(base_lr, eta_min, (t - warmup_steps) / (total_steps - warmup_steps))


def _cyclic_scale(mode, gamma, cycle, t):
    if mode == "triangular":
        return 1.0
    if mode == "triangular2":
        return 0.5 ** (cycle - 1)
    return gamma**t


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
    _checks.nonnegative("base_lr", base_lr)
    _checks.nonnegative("max_lr", max_lr)
    _checks.positive("step_size_up", step_size_up)
    if step_size_down is None:
        step_size_down = step_size_up
    _checks.positive("step_size_down", step_size_down)
    if scale_fn is None:
        _checks.choice("mode", mode, CYCLIC_MODES)
        _checks.positive("gamma", gamma)
    else:
        _checks.choice("scale_mode", scale_mode, ("cycle", "iterations"))
    cycle_length = float(step_size_up) + float(step_size_down)
    rising = step_size_up / cycle_length
    cycle = math.floor(1 + t / cycle_length)
    x = 1.0 + t / cycle_length - cycle
    height = x / rising if x <= rising else (x - 1) / (rising - 1)
    if scale_fn is None:
        scale = _cyclic_scale(mode, gamma, cycle, t)
    else:
        scale = scale_fn(cycle if scale_mode == "cycle" else t)
    return base_lr + (max_lr - base_lr) * height * scale


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


def _restart_position(t, T_0, T_mult):
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
    _checks.nonnegative("base_lr", base_lr)
    _checks.positive_int("T_0", T_0)
    _checks.positive_int("T_mult", T_mult)
    _checks.nonnegative("eta_min", eta_min)
    T_cur, T_i = _restart_position(t, T_0, T_mult)
    return _cosine_between(base_lr, eta_min, T_cur / T_i)


def _one_cycle_checks(t, total_steps, pct_start, anneal_strategy):
    _checks.step_count(t)
    _checks.positive_int("total_steps", total_steps)
    _checks.in_interval("pct_start", pct_start, 0.0, 1.0)
    _checks.choice("anneal_strategy", anneal_strategy, ANNEAL_STRATEGIES)
    if t > total_steps:
        raise ValueError(
            f"Invalid t: {t!r} (the one-cycle schedule is defined for steps 0 to "
            f"total_steps = {total_steps})"
        )


def _one_cycle_value(t, total_steps, pct_start, anneal_strategy, start, peak, end, three_phase):
    r"""The 1cycle curve through ``start -> peak -> end`` (phases as in torch's OneCycleLR).

    Two phases: ``start -> peak`` ending at step :math:`pT - 1`, then ``peak -> end``
    ending at step :math:`T - 1` (:math:`p` = ``pct_start``, :math:`T` = ``total_steps``).
    Three phases: ``start -> peak`` to :math:`pT - 1`, ``peak -> start`` to
    :math:`2pT - 2`, ``start -> end`` to :math:`T - 1`. Within a phase from step
    :math:`a` to :math:`b` the fraction is :math:`(t - a)/(b - a)`; the last phase
    extends past its end. A phase of zero length gives its end value.
    """
    up_end = pct_start * total_steps - 1
    if three_phase:
        phases = [
            (up_end, start, peak),
            (2 * pct_start * total_steps - 2, peak, start),
            (total_steps - 1, start, end),
        ]
    else:
        phases = [(up_end, start, peak), (total_steps - 1, peak, end)]
    anneal = _cosine_between if anneal_strategy == "cos" else _linear_between
    phase_start, phase = 0.0, phases[-1]
    for candidate in phases[:-1]:
        if t <= candidate[0]:
            phase = candidate
            break
        phase_start = candidate[0]
    phase_end, a, b = phase
    if phase_end == phase_start:
        return b
    return anneal(a, b, (t - phase_start) / (phase_end - phase_start))


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
    current phase (see ``_one_cycle_value`` for the phase boundaries, which are
    torch's). Steps ``0 .. total_steps`` are defined (torch tolerates one step past the
    last, ``total_steps - 1``); a later ``t`` raises ValueError.
    """
    _one_cycle_checks(t, total_steps, pct_start, anneal_strategy)
    _checks.nonnegative("max_lr", max_lr)
    _checks.positive("div_factor", div_factor)
    _checks.positive("final_div_factor", final_div_factor)
    initial_lr = max_lr / div_factor
    min_lr = initial_lr / final_div_factor
    return _one_cycle_value(
        t, total_steps, pct_start, anneal_strategy, initial_lr, max_lr, min_lr, three_phase
    )


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
    _one_cycle_checks(t, total_steps, pct_start, anneal_strategy)
    _checks.nonnegative("base_momentum", base_momentum)
    _checks.nonnegative("max_momentum", max_momentum)
    return _one_cycle_value(
        t,
        total_steps,
        pct_start,
        anneal_strategy,
        max_momentum,
        base_momentum,
        max_momentum,
        three_phase,
    )
