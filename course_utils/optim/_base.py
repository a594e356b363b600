"""Skeleton shared by the optimizer classes: closure, gradient collection, path choice.

A subclass defines two methods:

- ``_check_hyperparameters(hyperparameters)`` raises ``ValueError`` for a bad value; it
  runs on the constructor defaults and on every param group added.
- ``_update(group, params, grads, states, foreach)`` updates ``params`` (the tensors of
  ``group`` that have a gradient) and their ``states`` in place. With ``foreach=True``
  all tensors share one device and dtype, so that ``torch._foreach_*`` ops apply.

An optimizer whose step couples the tensors of a group (SWATS) overrides
``_step_group(group, params)`` instead of ``_update``. An optimizer that keeps no
per-tensor state for some groups (SGD without momentum) overrides ``_keeps_state(group)``,
so that ``state`` stays empty for them as in torch.optim.

``LEGACY_GROUP_DEFAULTS`` lists the param-group keys that torch.optim added over its
versions, with the values torch.optim's ``__setstate__`` gives them when a state dict
saved by an older version lacks them; loading such a state dict fills them the same way.
"""

import torch

from course_utils.optim import _validation

FOREACH_DEVICE_TYPES = ("cuda",)
_ONE = torch.tensor(1.0)


def default_foreach(params):
    """The path used when ``foreach=None``: multi-tensor iff every tensor is on CUDA.

    This is torch.optim's choice, and measurements agree on the CPU: on ResNet-18-sized
    parameters (``benchmarks/bench_optim.py``) the per-tensor loop is as fast as the
    multi-tensor path for SGD, Adagrad and RMSprop and faster for Adam (about 30 ms
    against 39 ms per step on two cores). torch's CPU ``_foreach_*`` ops loop over the
    tensors in C++ one operation at a time, so they save Python overhead but stream the
    whole parameter set through memory once per operation, while the loop applies every
    operation to one tensor before the next. On CUDA the foreach ops fuse many tensors
    per kernel launch, which is what matters there.
    """
    return all(p.device.type in FOREACH_DEVICE_TYPES for p in params)


def device_dtype_buckets(params):
    """Indices of ``params`` grouped by (device, dtype), in first-seen order."""
    buckets = {}
    for i, p in enumerate(params):
        buckets.setdefault((p.device, p.dtype), []).append(i)
    return list(buckets.values())


def effective_grad(param, grad, *, weight_decay, maximize):
    """g = (−∇ if maximize else ∇) + λθ for one tensor; ``grad`` itself is never modified."""
    if maximize:
        g = torch.neg(grad)
        return g.add_(param, alpha=weight_decay) if weight_decay != 0 else g
    return grad.add(param, alpha=weight_decay) if weight_decay != 0 else grad


def foreach_effective_grads(params, grads, *, weight_decay, maximize):
    """``effective_grad`` for a list of tensors, allocating at most one new list."""
    if maximize:
        g = torch._foreach_neg(grads)
        if weight_decay != 0:
            torch._foreach_add_(g, params, alpha=weight_decay)
        return g
    if weight_decay != 0:
        return torch._foreach_add(grads, params, alpha=weight_decay)
    return grads


def step_dtype():
    """dtype of a ``state["step"]`` counter: torch.optim's (float64 if it is the default
    floating dtype, else float32)."""
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32


def step_tensor(count=0):
    """A ``state["step"]`` counter as torch.optim keeps it without ``capturable``/``fused``:
    a 0-d float tensor on the CPU, whatever the parameter's device (reading it costs no
    device synchronisation)."""
    return torch.tensor(float(count), dtype=step_dtype(), device="cpu")


def init_step(state):
    """Give ``state`` a step counter at 0 unless it has one."""
    if "step" not in state:
        state["step"] = step_tensor()


def _step_counter(state):
    step = state["step"]
    if not isinstance(step, torch.Tensor):
        step = state["step"] = step_tensor(step)
    return step


def increment_step(state):
    """Add one to ``state["step"]`` in place and return the new count as a Python float,
    for the scalar arithmetic of the update; a number set by hand becomes a tensor.

    ``fill_`` with the count read once takes about half the time of torch.optim's
    ``step += 1`` (which wraps the 1 in a new tensor) and stores the same value, rounding
    included (a float32 counter stops at 2**24 in both)."""
    step = _step_counter(state)
    step.fill_(step.item() + 1)
    return step.item()


def increment_steps(states):
    """``increment_step`` for a list of states in one ``_foreach_add_`` of a CPU tensor,
    torch.optim's multi-tensor way (four to five times faster than a loop of ``+= 1``);
    returns the new counts."""
    steps = [_step_counter(state) for state in states]
    torch._foreach_add_(steps, _ONE, alpha=1.0)
    return [step.item() for step in steps]


class CourseOptimizer(torch.optim.Optimizer):
    """A ``torch.optim.Optimizer`` whose update rule is written in this package.

    ``step(closure=None)`` evaluates the closure (with gradients enabled) if one is given,
    then, without recording gradients, updates every parameter that has a ``.grad`` and
    returns the closure's loss. Sparse and complex gradients are refused with a
    ``RuntimeError``. The ``"step"`` counters in ``state`` are what torch.optim keeps (see
    :func:`step_tensor`), so state dicts go both ways between torch.optim and this
    package; a state dict with Python numbers as counters (older torch) loads too.
    """

    LEGACY_GROUP_DEFAULTS = {}

    def __init__(self, params, defaults):
        self._check_hyperparameters(defaults)
        super().__init__(params, defaults)

    def _check_hyperparameters(self, hyperparameters):
        raise NotImplementedError

    def _update(self, group, params, grads, states, foreach):
        raise NotImplementedError

    def add_param_group(self, param_group):
        if isinstance(param_group, dict):
            options = {k: v for k, v in param_group.items() if k != "params"}
            self._check_hyperparameters({**self.defaults, **options})
        super().add_param_group(param_group)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            for key, value in self.LEGACY_GROUP_DEFAULTS.items():
                group.setdefault(key, value)
        for param_state in self.state.values():
            if not isinstance(param_state, dict) or "step" not in param_state:
                continue
            step = param_state["step"]
            if not (isinstance(step, torch.Tensor) and step.device.type == "cpu"):
                # a Python number (older torch) or a capturable/fused counter on the device
                param_state["step"] = step_tensor(float(step))

    def _keeps_state(self, group):
        """Whether a step of ``group`` reads or writes per-tensor state."""
        return True

    def step(self, closure=None):
        """Perform one optimization step and return ``closure()``'s loss (or ``None``)."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        with torch.no_grad():
            for group in self.param_groups:
                params = [p for p in group["params"] if p.grad is not None]
                if params:
                    self._check_supported(params)
                    self._step_group(group, params)
        return loss

    def _check_supported(self, params):
        for p in params:
            if p.grad.is_sparse:
                raise RuntimeError(f"{type(self).__name__} does not support sparse gradients")
            if p.is_complex():
                raise RuntimeError(f"{type(self).__name__} does not support complex parameters")

    def _step_group(self, group, params):
        grads = [p.grad for p in params]
        if self._keeps_state(group):
            states = [self.state[p] for p in params]
        else:
            states = [None] * len(params)
        foreach = group["foreach"]
        if foreach is None:
            foreach = default_foreach(params)
        if not foreach:
            self._update(group, params, grads, states, foreach=False)
            return
        for bucket in device_dtype_buckets(params):
            self._update(
                group,
                [params[i] for i in bucket],
                [grads[i] for i in bucket],
                [states[i] for i in bucket],
                foreach=True,
            )


def group_float(group, name):
    """A group's hyperparameter as a Python float (accepts a 1-element tensor ``lr``)."""
    return _validation.as_float(name, group[name])
