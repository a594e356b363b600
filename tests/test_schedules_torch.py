"""The scheduler classes against torch.optim.lr_scheduler, step by step, and their pure functions.

Every comparison runs two copies of the same optimizer, one driven by torch's scheduler
and one by ours, and checks every param group's lr (and momentum / betas[0] where a
schedule cycles it) after construction and after every step, with rtol 1e-12.
"""

import math
import pickle
import warnings

import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from torch.optim import lr_scheduler as tls

import course_utils.schedules as cs

RTOL = 1e-12
SETTINGS = settings(max_examples=25, deadline=None)


class PlainSGD(torch.optim.Optimizer):
    """A bare subclass of torch.optim.Optimizer, as the course's own optimizers are."""

    def __init__(self, params, lr=0.01, momentum=0.0):
        super().__init__(params, {"lr": lr, "momentum": momentum})

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.add_(p.grad, alpha=-group["lr"])


class NoMomentum(torch.optim.Optimizer):
    def __init__(self, params, lr=0.01):
        super().__init__(params, {"lr": lr})

    def step(self, closure=None):
        return None


KINDS = ("sgd", "adam", "plain")


def make_optimizer(kind, lrs):
    groups = [{"params": [torch.zeros(2, requires_grad=True)], "lr": lr} for lr in lrs]
    if kind == "sgd":
        return torch.optim.SGD(groups, lr=0.1, momentum=0.9)
    if kind == "adam":
        return torch.optim.Adam(groups, betas=(0.9, 0.999))
    return PlainSGD(groups, momentum=0.9)


def close(a, b):
    return math.isclose(a, b, rel_tol=RTOL, abs_tol=0.0)


def assert_same_state(opt_torch, opt_ours, sched_torch, sched_ours, where):
    for i, (gt, go) in enumerate(zip(opt_torch.param_groups, opt_ours.param_groups, strict=True)):
        assert close(gt["lr"], go["lr"]), f"{where}, group {i}: lr {go['lr']} != {gt['lr']}"
        for key in ("momentum", "betas"):
            if key in gt:
                mt = gt[key][0] if key == "betas" else gt[key]
                mo = go[key][0] if key == "betas" else go[key]
                assert close(mt, mo), f"{where}, group {i}: {key} {mo} != {mt}"
    assert sched_ours.last_epoch == sched_torch.last_epoch, where
    last_t, last_o = sched_torch.get_last_lr(), sched_ours.get_last_lr()
    assert all(close(a, b) for a, b in zip(last_t, last_o, strict=True)), where


def run_pair(make_torch, make_ours, kind, lrs, steps, epochs=None):
    """Drive both schedulers ``steps`` times (or through ``epochs`` with step(epoch))."""
    opt_torch, opt_ours = make_optimizer(kind, lrs), make_optimizer(kind, lrs)
    sched_torch, sched_ours = make_torch(opt_torch), make_ours(opt_ours)
    assert_same_state(opt_torch, opt_ours, sched_torch, sched_ours, "after construction")
    schedule = [None] * steps if epochs is None else epochs
    for n, epoch in enumerate(schedule):
        opt_torch.step()
        opt_ours.step()
        if epoch is None:
            sched_torch.step()
            sched_ours.step()
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                sched_torch.step(epoch)
            sched_ours.step(epoch)
        assert_same_state(opt_torch, opt_ours, sched_torch, sched_ours, f"step {n} ({epoch})")
    return opt_ours, sched_ours


def lr_lists(min_size=1):
    return st.lists(st.floats(-4, 0).map(lambda e: 10.0**e), min_size=min_size, max_size=3)


kinds = st.sampled_from(KINDS)


@SETTINGS
@given(kinds, lr_lists(), st.integers(1, 10), st.floats(0.05, 1.5))
def test_step_lr(kind, lrs, step_size, gamma):
    run_pair(
        lambda o: tls.StepLR(o, step_size, gamma),
        lambda o: cs.StepLR(o, step_size, gamma),
        kind,
        lrs,
        4 * step_size + 3,
    )


@SETTINGS
@given(
    kinds,
    lr_lists(),
    st.lists(st.integers(0, 40), min_size=1, max_size=5, unique=True),
    st.floats(0.05, 0.99),
)
def test_multistep_lr(kind, lrs, milestones, gamma):
    milestones = sorted(milestones)
    run_pair(
        lambda o: tls.MultiStepLR(o, milestones, gamma),
        lambda o: cs.MultiStepLR(o, milestones, gamma),
        kind,
        lrs,
        45,
    )


@SETTINGS
@given(kinds, lr_lists(), st.floats(0.5, 1.05))
def test_exponential_lr(kind, lrs, gamma):
    run_pair(
        lambda o: tls.ExponentialLR(o, gamma), lambda o: cs.ExponentialLR(o, gamma), kind, lrs, 150
    )


@SETTINGS
@given(kinds, lr_lists(), st.integers(1, 25), st.sampled_from([0.0, 1e-5, 1e-3]))
def test_cosine_annealing_lr_including_past_t_max(kind, lrs, T_max, eta_min):
    run_pair(
        lambda o: tls.CosineAnnealingLR(o, T_max, eta_min),
        lambda o: cs.CosineAnnealingLR(o, T_max, eta_min),
        kind,
        lrs,
        4 * T_max + 3,
    )


@SETTINGS
@given(kinds, lr_lists(), st.floats(0.01, 1.0), st.floats(0.0, 1.0), st.integers(1, 15))
def test_linear_lr(kind, lrs, start_factor, end_factor, total_iters):
    run_pair(
        lambda o: tls.LinearLR(o, start_factor, end_factor, total_iters),
        lambda o: cs.LinearLR(o, start_factor, end_factor, total_iters),
        kind,
        lrs,
        total_iters + 8,
    )


@SETTINGS
@given(
    kinds,
    lr_lists(),
    st.sampled_from(["triangular", "triangular2", "exp_range"]),
    st.integers(1, 8),
    st.one_of(st.none(), st.integers(1, 8)),
    st.floats(0.9, 1.0),
    st.booleans(),
    st.floats(0.0, 0.5),
    st.floats(0.5, 0.85),
)
def test_cyclic_lr_three_cycles(
    kind, max_lrs, mode, up, down, gamma, cycle_momentum, base_fraction, base_momentum
):
    base_lrs = [m * base_fraction for m in max_lrs]
    args = dict(
        base_lr=base_lrs,
        max_lr=max_lrs,
        step_size_up=up,
        step_size_down=down,
        mode=mode,
        gamma=gamma,
        cycle_momentum=cycle_momentum,
        base_momentum=base_momentum,
        max_momentum=0.95,
    )
    cycle = up + (up if down is None else down)
    run_pair(
        lambda o: tls.CyclicLR(o, **args),
        lambda o: cs.CyclicLR(o, **args),
        kind,
        max_lrs,
        3 * cycle + 2,
    )


@pytest.mark.parametrize("scale_mode", ["cycle", "iterations"])
def test_cyclic_lr_custom_scale_fn(scale_mode):
    args = dict(
        base_lr=0.01,
        max_lr=[0.1, 0.3],
        step_size_up=3,
        step_size_down=5,
        scale_fn=lambda x: 1.0 / (1.0 + 0.1 * x),
        scale_mode=scale_mode,
    )
    run_pair(
        lambda o: tls.CyclicLR(o, **args), lambda o: cs.CyclicLR(o, **args), "sgd", [0.1, 0.2], 30
    )


@SETTINGS
@given(kinds, lr_lists(), st.integers(1, 6), st.sampled_from([1, 2]), st.sampled_from([0.0, 1e-4]))
def test_cosine_warm_restarts_three_restarts(kind, lrs, T_0, T_mult, eta_min):
    steps = T_0 * (1 + T_mult + T_mult**2) + 2
    run_pair(
        lambda o: tls.CosineAnnealingWarmRestarts(o, T_0, T_mult, eta_min),
        lambda o: cs.CosineAnnealingWarmRestarts(o, T_0, T_mult, eta_min),
        kind,
        lrs,
        steps,
    )


@SETTINGS
@given(kinds, lr_lists(), st.integers(1, 5), st.sampled_from([1, 2]), st.integers(1, 5))
def test_cosine_warm_restarts_fractional_epochs(kind, lrs, T_0, T_mult, batches):
    epochs = [
        e + i / batches for e in range(T_0 * (1 + T_mult + T_mult**2) + 1) for i in range(batches)
    ]
    epochs += [None, None, 2.5, None, 0.25]
    run_pair(
        lambda o: tls.CosineAnnealingWarmRestarts(o, T_0, T_mult, 1e-4),
        lambda o: cs.CosineAnnealingWarmRestarts(o, T_0, T_mult, 1e-4),
        kind,
        lrs,
        0,
        epochs=epochs,
    )


def one_cycle_args(total_steps, pct_start, three_phase):
    phase_ends = [0.0, pct_start * total_steps - 1, total_steps - 1]
    if three_phase:
        phase_ends.insert(2, 2 * pct_start * total_steps - 2)
    return all(b != a for a, b in zip(phase_ends, phase_ends[1:], strict=False))


@SETTINGS
@given(
    kinds,
    lr_lists(),
    st.integers(5, 120),
    st.floats(0.05, 0.95),
    st.sampled_from(["cos", "linear"]),
    st.booleans(),
    st.booleans(),
    st.floats(2.0, 50.0),
    st.floats(10.0, 1e4),
)
def test_one_cycle_lr_to_the_end(
    kind,
    max_lrs,
    total_steps,
    pct_start,
    anneal,
    three_phase,
    cycle_momentum,
    div_factor,
    final_div_factor,
):
    assume(one_cycle_args(total_steps, pct_start, three_phase))
    args = dict(
        max_lr=max_lrs,
        total_steps=total_steps,
        pct_start=pct_start,
        anneal_strategy=anneal,
        three_phase=three_phase,
        cycle_momentum=cycle_momentum,
        div_factor=div_factor,
        final_div_factor=final_div_factor,
    )
    opt, sched = run_pair(
        lambda o: tls.OneCycleLR(o, **args),
        lambda o: cs.OneCycleLR(o, **args),
        kind,
        max_lrs,
        total_steps,
    )
    lrs_before = [g["lr"] for g in opt.param_groups]
    with pytest.raises(ValueError, match=f"total_steps={total_steps}") as info:
        sched.step()
    assert f"stepped to step {total_steps + 1}" in str(info.value)
    assert [g["lr"] for g in opt.param_groups] == lrs_before
    assert sched.last_epoch == total_steps


def test_one_cycle_past_the_end_raises_like_torch():
    opt_torch, opt_ours = make_optimizer("sgd", [0.1]), make_optimizer("sgd", [0.1])
    sched_torch = tls.OneCycleLR(opt_torch, 1.0, total_steps=4)
    sched_ours = cs.OneCycleLR(opt_ours, 1.0, total_steps=4)
    for _ in range(4):
        opt_torch.step()
        sched_torch.step()
        sched_ours.step()
    with pytest.raises(ValueError):
        sched_torch.step()
    with pytest.raises(ValueError, match="past the end") as info:
        sched_ours.step()
    message = str(info.value)
    assert "total_steps=4" in message and "step 5" in message and "scheduler.step()" in message


def test_one_cycle_epochs_times_steps_per_epoch():
    args = dict(max_lr=0.4, epochs=3, steps_per_epoch=7, three_phase=True)
    run_pair(
        lambda o: tls.OneCycleLR(o, **args),
        lambda o: cs.OneCycleLR(o, **args),
        "adam",
        [0.1, 0.2],
        21,
    )


@SETTINGS
@given(
    lr_lists(),
    st.integers(1, 10),
    st.integers(1, 30),
    st.floats(0.01, 1.0),
    st.sampled_from([0.0, 1e-4]),
)
def test_warmup_cosine_equals_sequential_linear_then_cosine(
    lrs, warmup, cosine_steps, factor, eta_min
):
    total = warmup + cosine_steps

    def torch_twin(o):
        return tls.SequentialLR(
            o,
            [tls.LinearLR(o, factor, 1.0, warmup), tls.CosineAnnealingLR(o, cosine_steps, eta_min)],
            [warmup],
        )

    run_pair(
        torch_twin,
        lambda o: cs.WarmupCosineLR(o, warmup, total, factor, eta_min),
        "sgd",
        lrs,
        total,
    )


def test_warmup_cosine_stays_at_eta_min_after_total_steps():
    opt = make_optimizer("sgd", [0.1, 0.4])
    sched = cs.WarmupCosineLR(opt, 2, 6, 0.0, 1e-3)
    for _ in range(10):
        sched.step()
    assert [g["lr"] for g in opt.param_groups] == [1e-3, 1e-3]


# The classes evaluate their pure function: lr at last_epoch t == function(t, initial lr).
PURE_TWINS = {
    "StepLR": (lambda o: cs.StepLR(o, 3, 0.5), lambda t, b: cs.step_lr(t, b, 3, 0.5)),
    "MultiStepLR": (
        lambda o: cs.MultiStepLR(o, [2, 5, 9], 0.3),
        lambda t, b: cs.multistep_lr(t, b, [2, 5, 9], 0.3),
    ),
    "ExponentialLR": (
        lambda o: cs.ExponentialLR(o, 0.9),
        lambda t, b: cs.exponential_lr(t, b, 0.9),
    ),
    "CosineAnnealingLR": (
        lambda o: cs.CosineAnnealingLR(o, 7, 1e-3),
        lambda t, b: cs.cosine_annealing_lr(t, b, 7, 1e-3),
    ),
    "LinearLR": (
        lambda o: cs.LinearLR(o, 0.25, 0.75, 6),
        lambda t, b: cs.linear_lr(t, b, 0.25, 0.75, 6),
    ),
    "WarmupCosineLR": (
        lambda o: cs.WarmupCosineLR(o, 3, 12, 0.1, 1e-4),
        lambda t, b: cs.warmup_cosine_lr(t, b, 3, 12, 0.1, 1e-4),
    ),
    "CyclicLR": (
        lambda o: cs.CyclicLR(o, 0.01, 0.2, 3, 4, "triangular2"),
        lambda t, b: cs.cyclic_lr(t, 0.01, 0.2, 3, 4, "triangular2"),
    ),
    "CosineAnnealingWarmRestarts": (
        lambda o: cs.CosineAnnealingWarmRestarts(o, 2, 2, 1e-3),
        lambda t, b: cs.cosine_warm_restarts_lr(t, b, 2, 2, 1e-3),
    ),
    "OneCycleLR": (
        lambda o: cs.OneCycleLR(o, 0.5, 20, three_phase=True),
        lambda t, b: cs.one_cycle_lr(t, 0.5, 20, three_phase=True),
    ),
}


@pytest.mark.parametrize("name", sorted(PURE_TWINS))
def test_class_is_its_pure_function(name):
    make, pure = PURE_TWINS[name]
    opt = make_optimizer("sgd", [0.1, 0.02])
    sched = make(opt)
    for t in range(20):
        assert sched.last_epoch == t
        for group, base in zip(opt.param_groups, sched.base_lrs, strict=True):
            assert close(group["lr"], pure(t, base)), (t, group["lr"], pure(t, base))
        sched.step()


def test_one_cycle_momentum_is_its_pure_function():
    opt = make_optimizer("adam", [0.1])
    sched = cs.OneCycleLR(opt, 0.5, 20, base_momentum=0.8, max_momentum=0.9)
    for t in range(21):
        expected = cs.one_cycle_momentum(t, 20, base_momentum=0.8, max_momentum=0.9)
        assert close(opt.param_groups[0]["betas"][0], expected)
        if t < 20:
            sched.step()


CLASSES = {
    **{name: make for name, (make, _) in PURE_TWINS.items()},
    "CyclicLR-exp_range-momentum": lambda o: cs.CyclicLR(
        o, 0.01, [0.2, 0.3], 2, 5, "exp_range", 0.97
    ),
}


@pytest.mark.parametrize("name", sorted(CLASSES))
@pytest.mark.parametrize("kind", KINDS)
def test_state_dict_round_trip_continues_identically(name, kind):
    make = CLASSES[name]
    opt = make_optimizer(kind, [0.1, 0.02])
    sched = make(opt)
    for _ in range(7):
        sched.step()
    saved_opt = pickle.dumps(opt.state_dict())
    saved_sched = pickle.dumps(sched.state_dict())
    expected = []
    for _ in range(12):
        sched.step()
        expected.append([(g["lr"], g.get("momentum"), g.get("betas")) for g in opt.param_groups])

    fresh_opt = make_optimizer(kind, [0.5, 0.5])
    fresh = make(fresh_opt)
    fresh_opt.load_state_dict(pickle.loads(saved_opt))
    fresh.load_state_dict(pickle.loads(saved_sched))
    assert fresh.last_epoch == 7
    got = []
    for _ in range(12):
        fresh.step()
        got.append([(g["lr"], g.get("momentum"), g.get("betas")) for g in fresh_opt.param_groups])
    assert got == expected


CHAINABLE = {
    "StepLR": (lambda o: tls.StepLR(o, 3, 0.5), lambda o: cs.StepLR(o, 3, 0.5)),
    "MultiStepLR": (
        lambda o: tls.MultiStepLR(o, [2, 6], 0.2),
        lambda o: cs.MultiStepLR(o, [2, 6], 0.2),
    ),
    "ExponentialLR": (lambda o: tls.ExponentialLR(o, 0.9), lambda o: cs.ExponentialLR(o, 0.9)),
    "CosineAnnealingLR": (
        lambda o: tls.CosineAnnealingLR(o, 5, 1e-3),
        lambda o: cs.CosineAnnealingLR(o, 5, 1e-3),
    ),
    "LinearLR": (lambda o: tls.LinearLR(o, 0.2, 0.9, 8), lambda o: cs.LinearLR(o, 0.2, 0.9, 8)),
}


@pytest.mark.parametrize("name", sorted(CHAINABLE))
def test_chainable_classes_carry_an_outside_lr_change_like_torch(name):
    make_torch, make_ours = CHAINABLE[name]
    opt_torch, opt_ours = make_optimizer("sgd", [0.1, 0.3]), make_optimizer("sgd", [0.1, 0.3])
    sched_torch, sched_ours = make_torch(opt_torch), make_ours(opt_ours)
    for n in range(25):
        if n == 4:
            for group in (*opt_torch.param_groups, *opt_ours.param_groups):
                group["lr"] *= 0.5
        opt_torch.step()
        sched_torch.step()
        sched_ours.step()
        assert_same_state(opt_torch, opt_ours, sched_torch, sched_ours, f"step {n}")


def test_inside_torchs_chained_scheduler():
    opt_torch, opt_ours = make_optimizer("adam", [0.1, 0.3]), make_optimizer("adam", [0.1, 0.3])
    chain_torch = tls.ChainedScheduler(
        [tls.ExponentialLR(opt_torch, 0.95), tls.CosineAnnealingLR(opt_torch, 6)]
    )
    chain_ours = tls.ChainedScheduler(
        [cs.ExponentialLR(opt_ours, 0.95), cs.CosineAnnealingLR(opt_ours, 6)]
    )
    for n in range(20):
        opt_torch.step()
        chain_torch.step()
        chain_ours.step()
        for gt, go in zip(opt_torch.param_groups, opt_ours.param_groups, strict=True):
            assert close(gt["lr"], go["lr"]), n


@pytest.mark.parametrize("name", sorted(CHAINABLE))
def test_step_with_epoch_uses_the_closed_form_like_torch(name):
    make_torch, make_ours = CHAINABLE[name]
    epochs = [None, None, 9, None, 4, 13, None, 0, None]
    run_pair(make_torch, make_ours, "sgd", [0.1, 0.3], 0, epochs=epochs)


RESUMABLE = {
    "StepLR": (tls.StepLR, cs.StepLR, (3, 0.5)),
    "MultiStepLR": (tls.MultiStepLR, cs.MultiStepLR, ([2, 7, 9], 0.2)),
    "ExponentialLR": (tls.ExponentialLR, cs.ExponentialLR, (0.9,)),
    "CosineAnnealingLR": (tls.CosineAnnealingLR, cs.CosineAnnealingLR, (5, 1e-3)),
    "LinearLR": (tls.LinearLR, cs.LinearLR, (0.2, 0.9, 8)),
    "CyclicLR": (tls.CyclicLR, cs.CyclicLR, (0.01, 0.1, 3)),
    "CosineAnnealingWarmRestarts": (
        tls.CosineAnnealingWarmRestarts,
        cs.CosineAnnealingWarmRestarts,
        (3, 1),
    ),
    "OneCycleLR": (tls.OneCycleLR, cs.OneCycleLR, (0.5, 30)),
}


@pytest.mark.parametrize("name", sorted(RESUMABLE))
def test_resuming_with_last_epoch_like_torch(name):
    torch_class, our_class, args = RESUMABLE[name]
    opt = make_optimizer("sgd", [0.1, 0.3])
    sched = torch_class(opt, *args)
    for _ in range(6):
        opt.step()
        sched.step()
    saved = pickle.dumps(opt.state_dict())

    def resumed(scheduler_class):
        def build(o):
            o.load_state_dict(pickle.loads(saved))
            return scheduler_class(o, *args, last_epoch=6)

        return build

    run_pair(resumed(torch_class), resumed(our_class), "sgd", [0.7, 0.7], 10)


def test_resuming_without_initial_lr_is_refused():
    with pytest.raises(KeyError, match="initial_lr"):
        cs.StepLR(make_optimizer("sgd", [0.1]), 3, last_epoch=4)


def test_tensor_learning_rates_are_filled_in_place():
    def make():
        return torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=torch.tensor(0.1))

    opt_torch, opt_ours = make(), make()
    sched_torch, sched_ours = tls.StepLR(opt_torch, 2, 0.5), cs.StepLR(opt_ours, 2, 0.5)
    lr_tensor = opt_ours.param_groups[0]["lr"]
    for _ in range(5):
        opt_torch.step()
        sched_torch.step()
        sched_ours.step()
    assert opt_ours.param_groups[0]["lr"] is lr_tensor
    assert float(lr_tensor) == float(opt_torch.param_groups[0]["lr"]) == float(torch.tensor(0.025))


def test_cycle_momentum_needs_momentum_or_betas_like_torch():
    params = [torch.zeros(1, requires_grad=True)]
    with pytest.raises(ValueError):
        tls.CyclicLR(NoMomentum(params), 0.01, 0.1)
    for make in (lambda o: cs.CyclicLR(o, 0.01, 0.1), lambda o: cs.OneCycleLR(o, 0.1, 10)):
        with pytest.raises(ValueError, match="cycle_momentum"):
            make(NoMomentum(params))
    cs.CyclicLR(NoMomentum(params), 0.01, 0.1, cycle_momentum=False)
    cs.OneCycleLR(NoMomentum(params), 0.1, 10, cycle_momentum=False)


def test_not_an_optimizer_is_a_type_error():
    with pytest.raises(TypeError, match="param_groups"):
        cs.StepLR([torch.zeros(1)], 3)


BAD_ARGUMENTS = [
    (lambda o: cs.StepLR(o, -1), "step_size", "-1"),
    (lambda o: cs.StepLR(o, 0), "step_size", "0"),
    (lambda o: cs.StepLR(o, 2.5), "step_size", "2.5"),
    (lambda o: cs.StepLR(o, 3, gamma=-0.5), "gamma", "-0.5"),
    (lambda o: cs.MultiStepLR(o, [-1, 3]), "milestones", "[-1, 3]"),
    (lambda o: cs.ExponentialLR(o, -0.5), "gamma", "-0.5"),
    (lambda o: cs.CosineAnnealingLR(o, 0), "T_max", "0"),
    (lambda o: cs.CosineAnnealingLR(o, 5, eta_min=-1e-3), "eta_min", "-0.001"),
    (lambda o: cs.LinearLR(o, start_factor=0.0), "start_factor", "0.0"),
    (lambda o: cs.LinearLR(o, start_factor=1.5), "start_factor", "1.5"),
    (lambda o: cs.LinearLR(o, end_factor=-0.1), "end_factor", "-0.1"),
    (lambda o: cs.LinearLR(o, total_iters=0), "total_iters", "0"),
    (lambda o: cs.CyclicLR(o, 0.01, 0.1, mode="sawtooth"), "mode", "sawtooth"),
    (lambda o: cs.CyclicLR(o, 0.01, 0.1, step_size_up=0), "step_size_up", "0"),
    (lambda o: cs.CyclicLR(o, 0.01, 0.1, step_size_down=-2), "step_size_down", "-2"),
    (lambda o: cs.CyclicLR(o, -0.01, 0.1), "base_lr", "-0.01"),
    (lambda o: cs.CyclicLR(o, 0.01, [0.1, 0.2, 0.3]), "max_lr", "[0.1, 0.2, 0.3]"),
    (lambda o: cs.CyclicLR(o, 0.01, 0.1, mode="exp_range", gamma=0.0), "gamma", "0.0"),
    (
        lambda o: cs.CyclicLR(o, 0.01, 0.1, scale_fn=abs, scale_mode="epochs"),
        "scale_mode",
        "epochs",
    ),
    (lambda o: cs.CosineAnnealingWarmRestarts(o, 0), "T_0", "0"),
    (lambda o: cs.CosineAnnealingWarmRestarts(o, -3), "T_0", "-3"),
    (lambda o: cs.CosineAnnealingWarmRestarts(o, 3, T_mult=0), "T_mult", "0"),
    (lambda o: cs.CosineAnnealingWarmRestarts(o, 3, T_mult=1.5), "T_mult", "1.5"),
    (lambda o: cs.OneCycleLR(o, 0.1), "total_steps", "None"),
    (lambda o: cs.OneCycleLR(o, 0.1, total_steps=0), "total_steps", "0"),
    (lambda o: cs.OneCycleLR(o, 0.1, epochs=0, steps_per_epoch=4), "epochs", "0"),
    (lambda o: cs.OneCycleLR(o, 0.1, 10, pct_start=1.2), "pct_start", "1.2"),
    (lambda o: cs.OneCycleLR(o, 0.1, 10, anneal_strategy="exp"), "anneal_strategy", "exp"),
    (lambda o: cs.OneCycleLR(o, 0.1, 10, div_factor=0), "div_factor", "0"),
    (lambda o: cs.WarmupCosineLR(o, 10, 10), "total_steps", "10"),
    (lambda o: cs.WarmupCosineLR(o, -1, 10), "warmup_steps", "-1"),
    (lambda o: cs.WarmupCosineLR(o, 2, 10, warmup_start_factor=2.0), "warmup_start_factor", "2.0"),
    (lambda o: cs.StepLR(o, 3, last_epoch=-2), "last_epoch", "-2"),
]


@pytest.mark.parametrize(("make", "name", "value"), BAD_ARGUMENTS)
def test_bad_arguments_raise_value_error_naming_them(make, name, value):
    with pytest.raises(ValueError, match=f"Invalid {name}: ") as info:
        make(make_optimizer("sgd", [0.1, 0.2]))
    assert value in str(info.value)


def test_bad_epoch_in_step():
    sched = cs.StepLR(make_optimizer("sgd", [0.1]), 3)
    with pytest.raises(ValueError, match="Invalid epoch: -2"):
        sched.step(-2)
    with pytest.raises(ValueError, match="Invalid epoch: -1"):
        cs.CosineAnnealingWarmRestarts(make_optimizer("sgd", [0.1]), 3).step(-1)
