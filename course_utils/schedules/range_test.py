r"""The learning-rate range test (Smith, arXiv:1506.01186), as an exponential sweep.

Train for at most ``num_iters`` steps while the rate grows geometrically from
``start_lr`` to ``end_lr``,

.. math:: \alpha_i = \alpha_{\text{start}}
          \left(\alpha_{\text{end}} / \alpha_{\text{start}}\right)^{i / (n - 1)},
          \qquad i = 0, \dots, n - 1,

and record the training loss at each step. Where the loss falls fastest is a good
rate to train with; where it blows up is too large.
"""

import copy
import math
from dataclasses import dataclass

import numpy as np
import torch

from course_utils.schedules import _checks

SUGGESTIONS = ("steepest", "min/10")


@dataclass(frozen=True)
class LRRangeTestResult:
    """What :func:`lr_range_test` measured.

    ``lrs[i]`` is the rate of step ``i``; ``raw_losses[i]`` the loss of the batch of step
    ``i``, computed before that step's update (so it shows the effect of the rates
    ``lrs[:i]``); ``losses[i]`` its smoothed value. ``diverged`` tells whether the sweep
    stopped early on a blow-up; ``suggested_lr`` is the rate suggested.
    """

    lrs: np.ndarray
    losses: np.ndarray
    raw_losses: np.ndarray
    suggested_lr: float
    diverged: bool


def _batches(data):
    """Yield batches from ``data``, starting over when it runs out: a list or DataLoader
    is replayed, while a one-shot iterator (a generator) is then empty and ends it."""
    while True:
        empty = True
        for batch in data:
            empty = False
            yield batch
        if empty:
            return


def _suggest(lrs, losses, suggestion, skip_start, skip_end):
    window = slice(skip_start, len(losses) - skip_end)
    if len(losses[window]) >= 2:
        lrs, losses = lrs[window], losses[window]
    finite = np.isfinite(losses)
    lrs, losses = lrs[finite], losses[finite]
    if suggestion == "min/10":
        return float(lrs[int(np.argmin(losses))] / 10.0)
    if len(losses) < 2:
        return float(lrs[0])
    slopes = np.gradient(losses, np.log(lrs))
    return float(lrs[int(np.argmin(slopes))])


def lr_range_test(
    model,
    loss_fn,
    data,
    optimizer,
    start_lr=1e-7,
    end_lr=10.0,
    num_iters=100,
    smooth=0.05,
    diverge_threshold=4.0,
    suggestion="steepest",
    skip_start=10,
    skip_end=5,
):
    r"""Sweep the learning rate exponentially and record the training loss.

    Args:
        model: a ``torch.nn.Module``; it is trained in training mode during the sweep.
        loss_fn: ``loss_fn(model(X), y)`` gives a scalar tensor.
        data: batches ``(X, y)``: a list or DataLoader (restarted when it runs out) or an
            iterator (the sweep stops when it runs out).
        optimizer: a torch optimizer over ``model``'s parameters (any
            ``torch.optim.Optimizer`` subclass that steps without a closure; LBFGS is not
            supported), or a factory ``optimizer(model.parameters())`` making one. Every
            param group gets the same swept rate.
        start_lr, end_lr: the first and last rate, ``0 < start_lr < end_lr``.
        num_iters: the number of steps (rates) in the sweep, at least 2.
        smooth: weight :math:`s \in (0, 1]` of the newest loss in the exponential moving
            average :math:`m_i = (1 - s) m_{i-1} + s\,\ell_i`, :math:`m_{-1} = 0`; the
            recorded loss is bias-corrected, :math:`m_i / (1 - (1 - s)^{i+1})`
            (``smooth=1`` records the raw losses).
        diverge_threshold: the sweep stops (after recording the step) when the smoothed
            loss exceeds ``diverge_threshold`` times the best smoothed loss so far, or
            the loss is not finite.
        suggestion: ``'steepest'`` suggests the rate where the smoothed loss falls
            fastest against :math:`\log\alpha` (the most negative ``numpy.gradient`` of
            ``losses`` over ``log(lrs)``); ``'min/10'`` suggests a tenth of the rate with
            the lowest smoothed loss.
        skip_start, skip_end: the suggestion ignores the first ``skip_start`` recorded
            steps (the average of only a few losses is still noisy) and the last
            ``skip_end`` (the blow-up), as fastai and torch-lr-finder do, unless fewer
            than two steps would be left; steps with a non-finite loss are ignored.

    Returns:
        :class:`LRRangeTestResult`.

    The model's parameters and buffers (its ``state_dict``), the parameters' ``.grad``,
    its training mode and, when an optimizer object is passed, the optimizer's
    ``state_dict`` (its state and each group's rate) are restored afterwards, also when
    the sweep raises. Random number generators are not restored.
    """
    _checks.positive("start_lr", start_lr)
    _checks.positive("end_lr", end_lr)
    if end_lr <= start_lr:
        raise ValueError(f"Invalid end_lr: {end_lr!r} (end_lr must be > start_lr = {start_lr})")
    num_iters = _checks.positive_int("num_iters", num_iters)
    if num_iters < 2:
        raise ValueError(f"Invalid num_iters: {num_iters!r} (num_iters must be >= 2)")
    _checks.in_interval("smooth", smooth, 0.0, 1.0, low_open=True)
    if not (_checks.is_real(diverge_threshold) and diverge_threshold > 1):
        raise ValueError(
            f"Invalid diverge_threshold: {diverge_threshold!r} (diverge_threshold must be > 1)"
        )
    _checks.choice("suggestion", suggestion, SUGGESTIONS)
    _checks.nonnegative_int("skip_start", skip_start)
    _checks.nonnegative_int("skip_end", skip_end)

    given_optimizer = hasattr(optimizer, "param_groups")
    if not (given_optimizer or callable(optimizer)):
        raise TypeError(
            f"optimizer must be a torch optimizer or a factory taking the model's parameters, "
            f"not {type(optimizer).__name__}"
        )
    saved_model = copy.deepcopy(model.state_dict())
    saved_grads = [None if p.grad is None else p.grad.clone() for p in model.parameters()]
    was_training = model.training
    saved_optimizer = copy.deepcopy(optimizer.state_dict()) if given_optimizer else None
    opt = optimizer if given_optimizer else optimizer(model.parameters())
    try:
        model.train()
        lrs, raw, smoothed = [], [], []
        average, best, diverged = 0.0, math.inf, False
        ratio = end_lr / start_lr
        for i, (X, y) in zip(range(num_iters), _batches(data), strict=False):
            lr = start_lr * ratio ** (i / (num_iters - 1))
            for group in opt.param_groups:
                group["lr"] = lr
            opt.zero_grad()
            loss = loss_fn(model(X), y)
            loss.backward()
            opt.step()
            value = float(loss.detach())
            average = (1.0 - smooth) * average + smooth * value
            smooth_value = average / (1.0 - (1.0 - smooth) ** (i + 1))
            lrs.append(lr)
            raw.append(value)
            smoothed.append(smooth_value)
            best = min(best, smooth_value)
            if not math.isfinite(smooth_value) or smooth_value > diverge_threshold * best:
                diverged = True
                break
    finally:
        model.load_state_dict(saved_model)
        with torch.no_grad():
            for p, grad in zip(model.parameters(), saved_grads, strict=True):
                p.grad = grad
        model.train(was_training)
        if given_optimizer:
            optimizer.load_state_dict(saved_optimizer)
    if not lrs:
        raise ValueError("Invalid data: it gave no batches")
    lrs, smoothed = np.asarray(lrs), np.asarray(smoothed)
    return LRRangeTestResult(
        lrs=lrs,
        losses=smoothed,
        raw_losses=np.asarray(raw),
        suggested_lr=_suggest(lrs, smoothed, suggestion, skip_start, skip_end),
        diverged=diverged,
    )
