"""course_utils.optim classes against torch.optim, step by step.

The oracle is torch.optim 2.13 run on copies of the same parameters with the same
gradients. Tolerances: float64 rtol 1e-10, float32 rtol 1e-5, each with an absolute
floor of rtol times the largest magnitude of the compared tensor (a coordinate crossing
zero has no meaningful relative error).
"""

import io
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import course_utils.optim as ours

CLASSES = ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW"]
RTOL = {torch.float32: 1e-5, torch.float64: 1e-10}
STEPS = 50
RELOAD_STEP = 25


def maybe_zero(strategy):
    return st.one_of(st.just(0.0), strategy)


@st.composite
def sgd_options(draw):
    momentum = draw(maybe_zero(st.floats(0.05, 0.99)))
    nesterov = momentum > 0 and draw(st.booleans())
    dampening = 0.0 if nesterov else draw(maybe_zero(st.floats(0.0, 1.0)))
    return {
        "lr": draw(st.floats(1e-4, 0.3)),
        "momentum": momentum,
        "dampening": dampening,
        "nesterov": nesterov,
        "weight_decay": draw(maybe_zero(st.floats(1e-4, 0.1))),
        "maximize": draw(st.booleans()),
    }


@st.composite
def adagrad_options(draw):
    return {
        "lr": draw(st.floats(1e-4, 0.3)),
        "lr_decay": draw(maybe_zero(st.floats(1e-4, 0.1))),
        "weight_decay": draw(maybe_zero(st.floats(1e-4, 0.1))),
        "initial_accumulator_value": draw(maybe_zero(st.floats(1e-3, 1.0))),
        "eps": draw(st.sampled_from([1e-10, 1e-8, 1e-3])),
        "maximize": draw(st.booleans()),
    }


@st.composite
def rmsprop_options(draw):
    return {
        "lr": draw(st.floats(1e-4, 0.05)),
        "alpha": draw(st.floats(0.5, 0.999)),
        "eps": draw(st.sampled_from([1e-8, 1e-6, 1e-3])),
        "weight_decay": draw(maybe_zero(st.floats(1e-4, 0.1))),
        "momentum": draw(maybe_zero(st.floats(0.05, 0.95))),
        "centered": draw(st.booleans()),
        "maximize": draw(st.booleans()),
    }


@st.composite
def adam_options(draw, decoupled_flag=True):
    options = {
        "lr": draw(st.floats(1e-4, 0.05)),
        "betas": (draw(st.floats(0.0, 0.99)), draw(st.floats(0.5, 0.9999))),
        "eps": draw(st.sampled_from([1e-8, 1e-6, 1e-3])),
        "weight_decay": draw(maybe_zero(st.floats(1e-4, 0.1))),
        "amsgrad": draw(st.booleans()),
        "maximize": draw(st.booleans()),
    }
    if decoupled_flag:
        options["decoupled_weight_decay"] = draw(st.booleans())
    return options


OPTIONS = {
    "SGD": sgd_options(),
    "Adagrad": adagrad_options(),
    "RMSprop": rmsprop_options(),
    "Adam": adam_options(),
    "AdamW": adam_options(decoupled_flag=False),
}

shape_strategy = st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple)
dtype_strategy = st.sampled_from([torch.float32, torch.float64])


SGD_MOMENTUM_KEYS = {"momentum", "nesterov", "dampening"}


@st.composite
def group_options(draw, name):
    """Options of one param group: a random subset of a full draw (the rest come from the
    constructor); SGD's momentum, nesterov and dampening stay together so that they agree."""
    options = draw(OPTIONS[name])
    kept = {key for key in options if draw(st.booleans())}
    if name == "SGD" and kept & SGD_MOMENTUM_KEYS:
        kept |= SGD_MOMENTUM_KEYS
    if name == "Adagrad":
        # torch.optim.Adagrad takes the accumulator's start value from the constructor only.
        kept.discard("initial_accumulator_value")
    return {key: value for key, value in options.items() if key in kept}


@st.composite
def problems(draw, name):
    """Constructor options, 2-3 param groups (own options, 1-3 tensors each), a seed."""
    groups = []
    for _ in range(draw(st.integers(2, 3))):
        options = draw(group_options(name))
        tensors = [
            (draw(shape_strategy), draw(dtype_strategy)) for _ in range(draw(st.integers(1, 3)))
        ]
        groups.append((tensors, options))
    return {
        "defaults": draw(OPTIONS[name]),
        "groups": groups,
        "seed": draw(st.integers(0, 2**32 - 1)),
        "skip_probability": draw(st.sampled_from([0.0, 0.2])),
        "reload": draw(st.booleans()),
    }


def make_params(groups, seed):
    generator = torch.Generator().manual_seed(seed)
    return [
        [torch.randn(shape, generator=generator, dtype=dtype) for shape, dtype in tensors]
        for tensors, _ in groups
    ]


def build(module, name, params, groups, defaults, foreach):
    param_groups = [
        {"params": tensors, **options} for tensors, (_, options) in zip(params, groups, strict=True)
    ]
    return getattr(module, name)(param_groups, foreach=foreach, **defaults)


def assert_close(actual, expected, what=""):
    rtol = RTOL[expected.dtype]
    scale = max(1.0, expected.abs().max().item()) if expected.numel() else 1.0
    torch.testing.assert_close(
        actual, expected, rtol=rtol, atol=rtol * scale, equal_nan=True, msg=lambda m: f"{what}: {m}"
    )


def reload(optimizer, name, params, groups, defaults, foreach):
    """Save the state dict through torch.save, build a fresh optimizer and load it."""
    buffer = io.BytesIO()
    torch.save(optimizer.state_dict(), buffer)
    buffer.seek(0)
    fresh = build(ours, name, params, groups, defaults, foreach)
    fresh.load_state_dict(torch.load(buffer, weights_only=True))
    return fresh


def set_grads(ours_params, torch_params, generator, skip_probability):
    for mine, theirs in zip(ours_params, torch_params, strict=True):
        if skip_probability and torch.rand((), generator=generator).item() < skip_probability:
            mine.grad = theirs.grad = None
            continue
        scale = [1e-3, 1.0, 30.0][int(torch.randint(3, (), generator=generator))]
        grad = scale * torch.randn(mine.shape, generator=generator, dtype=mine.dtype)
        mine.grad, theirs.grad = grad.clone(), grad.clone()


def compare_states(optimizer, reference, ours_params, torch_params):
    for mine, theirs in zip(ours_params, torch_params, strict=True):
        if not optimizer.state[mine]:
            continue
        expected = reference.state[theirs]
        assert set(optimizer.state[mine]) == set(expected)
        for key, value in expected.items():
            if key == "step":
                step = optimizer.state[mine]["step"]
                assert type(step) is type(value) and step.dtype == value.dtype
                assert step.item() == value.item()
            else:
                assert_close(optimizer.state[mine][key], value, key)


@pytest.mark.parametrize("foreach", [False, True])
@pytest.mark.parametrize("name", CLASSES)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_matches_torch_step_by_step(name, foreach, data):
    problem = data.draw(problems(name))
    groups, defaults = problem["groups"], problem["defaults"]
    initial = make_params(groups, problem["seed"])
    mine = [[p.clone() for p in tensors] for tensors in initial]
    theirs = [[p.clone() for p in tensors] for tensors in initial]
    optimizer = build(ours, name, mine, groups, defaults, foreach)
    reference = build(torch.optim, name, theirs, groups, defaults, foreach)
    flat_mine = [p for tensors in mine for p in tensors]
    flat_theirs = [p for tensors in theirs for p in tensors]
    generator = torch.Generator().manual_seed(problem["seed"])
    for step in range(1, STEPS + 1):
        set_grads(flat_mine, flat_theirs, generator, problem["skip_probability"])
        optimizer.step()
        reference.step()
        for i, (p, q) in enumerate(zip(flat_mine, flat_theirs, strict=True)):
            assert_close(p, q, f"step {step}, tensor {i}")
        if problem["reload"] and step == RELOAD_STEP:
            optimizer = reload(optimizer, name, mine, groups, defaults, foreach)
    compare_states(optimizer, reference, flat_mine, flat_theirs)


def quadratic_closure(optimizer, params, target):
    def closure():
        optimizer.zero_grad()
        loss = sum(
            ((p - t) ** 2 * (1 + p.sin() ** 2)).sum() for p, t in zip(params, target, strict=True)
        )
        loss.backward()
        return loss

    return closure


CLOSURE_OPTIONS = {
    "SGD": {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
    "Adagrad": {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1},
    "RMSprop": {"lr": 0.01, "momentum": 0.5, "centered": True},
    "Adam": {"lr": 0.05, "amsgrad": True, "weight_decay": 0.01},
    "AdamW": {"lr": 0.05, "weight_decay": 0.1},
}


@pytest.mark.parametrize("foreach", [False, True])
@pytest.mark.parametrize("name", CLASSES)
def test_closure_loss_and_values_match_torch(name, foreach):
    generator = torch.Generator().manual_seed(1)
    initial = [torch.randn(3, 2, generator=generator, dtype=torch.float64) for _ in range(2)]
    target = [torch.randn(3, 2, generator=generator, dtype=torch.float64) for _ in range(2)]
    mine = [p.clone().requires_grad_() for p in initial]
    theirs = [p.clone().requires_grad_() for p in initial]
    options = CLOSURE_OPTIONS[name]
    optimizer = getattr(ours, name)(mine, foreach=foreach, **options)
    reference = getattr(torch.optim, name)(theirs, foreach=foreach, **options)
    my_closure = quadratic_closure(optimizer, mine, target)
    their_closure = quadratic_closure(reference, theirs, target)
    first_loss = None
    for _ in range(STEPS):
        loss = optimizer.step(my_closure)
        expected = reference.step(their_closure)
        assert isinstance(loss, torch.Tensor)
        assert_close(loss.detach(), expected.detach(), "loss")
        for p, q in zip(mine, theirs, strict=True):
            assert_close(p.detach(), q.detach(), "param")
        first_loss = first_loss if first_loss is not None else loss.item()
    assert loss.item() < first_loss


def test_step_without_closure_returns_none():
    p = torch.zeros(2, requires_grad=True)
    p.grad = torch.ones(2)
    assert ours.SGD([p], lr=0.1).step() is None


SCHEDULED = {
    "SGD": {"lr": 0.1, "momentum": 0.9},
    "Adagrad": {"lr": 0.1},
    "RMSprop": {"lr": 0.01, "momentum": 0.9},
    "Adam": {"lr": 0.01},
    "AdamW": {"lr": 0.01},
}


@pytest.mark.parametrize("name", CLASSES)
def test_torch_lr_schedulers_drive_our_optimizers(name):
    """OneCycleLR changes lr and momentum/betas every step; the values must follow torch's."""
    generator = torch.Generator().manual_seed(2)
    initial = torch.randn(4, 3, generator=generator, dtype=torch.float64)
    mine, theirs = initial.clone(), initial.clone()
    optimizer = getattr(ours, name)([mine], **SCHEDULED[name])
    reference = getattr(torch.optim, name)([theirs], **SCHEDULED[name])
    cycle_momentum = name != "Adagrad"

    def scheduler(o):
        return torch.optim.lr_scheduler.OneCycleLR(
            o, max_lr=0.05, total_steps=STEPS, cycle_momentum=cycle_momentum
        )

    my_scheduler, their_scheduler = scheduler(optimizer), scheduler(reference)
    for _ in range(STEPS):
        grad = torch.randn(4, 3, generator=generator, dtype=torch.float64)
        mine.grad, theirs.grad = grad.clone(), grad.clone()
        optimizer.step()
        reference.step()
        my_scheduler.step()
        their_scheduler.step()
        assert optimizer.param_groups[0]["lr"] == reference.param_groups[0]["lr"]
        assert_close(mine, theirs, "param")


@pytest.mark.parametrize("direction", ["torch_to_ours", "ours_to_torch"])
@pytest.mark.parametrize("name", CLASSES)
def test_state_dicts_load_across_libraries(name, direction):
    generator = torch.Generator().manual_seed(3)
    initial = [torch.randn(5, generator=generator, dtype=torch.float64) for _ in range(2)]
    options = CLOSURE_OPTIONS[name]
    libraries = (torch.optim, ours) if direction == "torch_to_ours" else (ours, torch.optim)
    first_lib, second_lib = libraries
    mine = [p.clone() for p in initial]
    theirs = [p.clone() for p in initial]
    first = getattr(first_lib, name)(mine, **options)
    reference = getattr(torch.optim, name)(theirs, **options)
    grads = [
        [torch.randn(5, generator=generator, dtype=torch.float64) for _ in initial]
        for _ in range(20)
    ]
    for k in range(10):
        for p, q, g in zip(mine, theirs, grads[k], strict=True):
            p.grad, q.grad = g.clone(), g.clone()
        first.step()
        reference.step()
    second = getattr(second_lib, name)(mine, **options)
    second.load_state_dict(first.state_dict())
    for k in range(10, 20):
        for p, q, g in zip(mine, theirs, grads[k], strict=True):
            p.grad, q.grad = g.clone(), g.clone()
        second.step()
        reference.step()
    for p, q in zip(mine, theirs, strict=True):
        assert_close(p, q, "param")


@pytest.mark.parametrize("foreach", [False, True])
@pytest.mark.parametrize("name", CLASSES)
@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_gradient_is_not_masked(name, foreach, bad):
    options = {"Adam": {"amsgrad": True}, "AdamW": {"amsgrad": True}}.get(name, {})
    if name in ("SGD", "RMSprop"):
        options = {"momentum": 0.9}
    p = torch.ones(3, dtype=torch.float64)
    optimizer = getattr(ours, name)([p], lr=0.1, foreach=foreach, **options)
    for _ in range(3):
        p.grad = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
        optimizer.step()
    p.grad = torch.tensor([1.0, bad, 0.5], dtype=torch.float64)
    optimizer.step()
    assert not torch.isfinite(p[1])
    p.grad = torch.tensor([1.0, 1.0, 0.5], dtype=torch.float64)
    optimizer.step()
    assert not torch.isfinite(p[1]), "a later finite gradient must not hide the earlier NaN/inf"
    assert torch.isfinite(p[[0, 2]]).all()
    for key, value in optimizer.state[p].items():
        if key != "step":
            assert not torch.isfinite(value[1]), f"{key} masks the non-finite gradient"


@pytest.mark.parametrize("name", CLASSES)
def test_sparse_gradient_raises(name):
    p = torch.zeros(3)
    optimizer = getattr(ours, name)([p], lr=0.1)
    p.grad = torch.zeros(3).to_sparse()
    with pytest.raises(RuntimeError, match="sparse"):
        optimizer.step()


def test_add_param_group_is_validated_and_used():
    a, b = torch.ones(2), torch.ones(2)
    optimizer = ours.SGD([a], lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        optimizer.add_param_group({"params": [b], "lr": -1.0})
    assert len(optimizer.param_groups) == 1
    optimizer.add_param_group({"params": [b], "lr": 0.5})
    a.grad, b.grad = torch.ones(2), torch.ones(2)
    optimizer.step()
    torch.testing.assert_close(a, torch.full((2,), 0.9))
    torch.testing.assert_close(b, torch.full((2,), 0.5))


def test_one_element_tensor_lr_is_accepted_like_torch():
    p, q = torch.ones(3), torch.ones(3)
    mine = ours.Adam([p], lr=torch.tensor(0.01), foreach=False)
    theirs = torch.optim.Adam([q], lr=torch.tensor(0.01), foreach=False)
    for _ in range(5):
        p.grad, q.grad = torch.arange(3.0), torch.arange(3.0)
        mine.step()
        theirs.step()
    assert_close(p, q)
