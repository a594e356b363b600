"""Pure update rules (NumPy and torch inputs) against torch.optim, and input validation."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import course_utils.optim as ours
from course_utils.optim import functional, momentum

STEPS = 50

RULES = {
    "SGD": functional.sgd_update,
    "Adagrad": functional.adagrad_update,
    "RMSprop": functional.rmsprop_update,
    "Adam": functional.adam_update,
}


@st.composite
def rule_options(draw, name):
    """Hyperparameters of one rule, drawn over the flags that change the algorithm."""
    lr = draw(st.floats(1e-4, 0.05))
    maximize = draw(st.booleans())
    weight_decay = draw(st.sampled_from([0.0, 0.05]))
    if name == "SGD":
        mom = draw(st.sampled_from([0.0, 0.9]))
        nesterov = mom > 0 and draw(st.booleans())
        dampening = 0.0 if nesterov else draw(st.sampled_from([0.0, 0.3]))
        return {
            "lr": lr,
            "momentum": mom,
            "dampening": dampening,
            "nesterov": nesterov,
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
    if name == "Adagrad":
        return {
            "lr": lr,
            "lr_decay": draw(st.sampled_from([0.0, 0.02])),
            "initial_accumulator_value": draw(st.sampled_from([0.0, 0.3])),
            "eps": 1e-10,
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
    if name == "RMSprop":
        return {
            "lr": lr,
            "alpha": draw(st.floats(0.8, 0.99)),
            "momentum": draw(st.sampled_from([0.0, 0.7])),
            "centered": draw(st.booleans()),
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
    return {
        "lr": lr,
        "betas": (draw(st.floats(0.0, 0.95)), draw(st.floats(0.9, 0.999))),
        "amsgrad": draw(st.booleans()),
        "weight_decay": weight_decay,
        "decoupled_weight_decay": draw(st.booleans()),
        "maximize": maximize,
    }


def torch_reference(name, param, options):
    if name == "Adam" and options.get("decoupled_weight_decay"):
        options = {k: v for k, v in options.items() if k != "decoupled_weight_decay"}
        return torch.optim.AdamW([param], foreach=False, **options)
    return getattr(torch.optim, name)([param], foreach=False, **options)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("name", list(RULES))
@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_pure_rule_matches_torch_optim(name, backend, data):
    options = data.draw(rule_options(name))
    seed = data.draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    initial = rng.standard_normal((3, 4))
    reference_param = torch.tensor(initial)
    reference = torch_reference(name, reference_param, options)
    param = initial.copy() if backend == "numpy" else torch.tensor(initial)
    state = None
    for _ in range(STEPS):
        grad_np = rng.standard_normal((3, 4))
        grad = grad_np if backend == "numpy" else torch.tensor(grad_np)
        reference_param.grad = torch.tensor(grad_np)
        reference.step()
        param, state = RULES[name](param, grad, state, **options)
        assert type(param) is type(grad)
        np.testing.assert_allclose(
            np.asarray(param), reference_param.numpy(), rtol=1e-10, atol=1e-12
        )


@pytest.mark.parametrize("name", list(RULES))
def test_pure_rule_does_not_modify_or_alias_its_inputs(name):
    options = {"lr": 0.1}
    options.update(
        {
            "SGD": {"momentum": 0.9},
            "RMSprop": {"momentum": 0.5, "centered": True},
            "Adam": {"amsgrad": True},
        }.get(name, {})
    )
    rng = np.random.default_rng(0)
    param, grad = rng.standard_normal(5), rng.standard_normal(5)
    state = None
    for _ in range(2):
        saved_param, saved_grad = param.copy(), grad.copy()
        saved_state = {k: np.copy(v) for k, v in (state or {}).items()}
        new_param, new_state = RULES[name](param, grad, state, **options)
        np.testing.assert_array_equal(param, saved_param)
        np.testing.assert_array_equal(grad, saved_grad)
        for key, value in saved_state.items():
            np.testing.assert_array_equal(state[key], value)
        for value in [new_param, *new_state.values()]:
            if isinstance(value, np.ndarray):
                assert not np.shares_memory(value, grad)
                assert not np.shares_memory(value, param)
        param, state = new_param, new_state


def test_pure_rules_keep_float32():
    param, grad = np.ones(3, dtype=np.float32), np.ones(3, dtype=np.float32)
    for name, rule in RULES.items():
        new_param, state = rule(param, grad, None, lr=0.1)
        assert new_param.dtype == np.float32, name
        for key, value in state.items():
            if isinstance(value, np.ndarray):
                assert value.dtype == np.float32, (name, key)


def test_sgd_first_step_is_undamped_and_worked_by_hand():
    """b_1 = g, then b_2 = mu b_1 + (1 - tau) g_2; theta moves by -lr b."""
    param, state = functional.sgd_update(
        np.array([1.0]), np.array([2.0]), None, lr=0.1, momentum=0.9, dampening=0.5
    )
    np.testing.assert_allclose(state["momentum_buffer"], [2.0])
    np.testing.assert_allclose(param, [1.0 - 0.1 * 2.0])
    param, state = functional.sgd_update(
        param, np.array([4.0]), state, lr=0.1, momentum=0.9, dampening=0.5
    )
    np.testing.assert_allclose(state["momentum_buffer"], [0.9 * 2.0 + 0.5 * 4.0])
    np.testing.assert_allclose(param, [0.8 - 0.1 * 3.8])


def test_adam_first_step_worked_by_hand():
    """At t = 1 the bias corrections cancel: theta -= lr * g / (|g| + eps)."""
    g = np.array([0.5, -3.0])
    param, state = functional.adam_update(np.zeros(2), g, None, lr=0.1, eps=1e-3)
    np.testing.assert_allclose(param, -0.1 * g / (np.abs(g) + 1e-3), rtol=1e-12)
    assert state["step"] == 1


def test_adagrad_lr_decay_uses_step_before_increment():
    """clr = lr / (1 + (t - 1) lr_decay): undecayed at t = 1, lr / (1 + lr_decay) at t = 2."""
    g = np.array([2.0])
    p1, state = functional.adagrad_update(np.zeros(1), g, None, lr=1.0, lr_decay=0.5, eps=0.0)
    np.testing.assert_allclose(p1, [-1.0])
    p2, _ = functional.adagrad_update(p1, g, state, lr=1.0, lr_decay=0.5, eps=0.0)
    np.testing.assert_allclose(p2, [-1.0 - (1.0 / 1.5) * 2.0 / math.sqrt(8.0)])


@pytest.mark.parametrize("bad", [math.nan, math.inf])
@pytest.mark.parametrize("name", list(RULES))
def test_pure_rule_propagates_non_finite_gradients(name, bad):
    options = {"lr": 0.1}
    options.update({"Adam": {"amsgrad": True}, "SGD": {"momentum": 0.9}}.get(name, {}))
    param, state = np.ones(2), None
    grads = [[1.0, 0.5]] * 3 + [[bad, 0.5], [1.0, 0.5]]
    with np.errstate(invalid="ignore"):
        for grad in grads:
            param, state = RULES[name](param, np.array(grad), state, **options)
    assert not np.isfinite(param[0])
    assert np.isfinite(param[1])
    for key, value in state.items():
        if isinstance(value, np.ndarray):
            assert not np.isfinite(value[0]), f"{key} masks the non-finite gradient"


BAD_CONSTRUCTOR_ARGUMENTS = [
    ("SGD", {"lr": -0.1}, "lr"),
    ("SGD", {"lr": math.nan}, "lr"),
    ("SGD", {"lr": "0.1"}, "lr"),
    ("SGD", {"momentum": -0.5}, "momentum"),
    ("SGD", {"dampening": 1.5}, "dampening"),
    ("SGD", {"weight_decay": -1e-4}, "weight_decay"),
    ("SGD", {"nesterov": True}, "nesterov"),
    ("SGD", {"nesterov": True, "momentum": 0.9, "dampening": 0.1}, "nesterov"),
    ("SGD", {"fused": True}, "fused"),
    ("SGD", {"differentiable": True}, "differentiable"),
    ("SGD", {"foreach": "yes"}, "foreach"),
    ("Adagrad", {"lr": -1.0}, "lr"),
    ("Adagrad", {"lr_decay": -0.1}, "lr_decay"),
    ("Adagrad", {"weight_decay": -0.1}, "weight_decay"),
    ("Adagrad", {"initial_accumulator_value": -0.1}, "initial_accumulator_value"),
    ("Adagrad", {"eps": -1e-10}, "eps"),
    ("RMSprop", {"lr": -1e-2}, "lr"),
    ("RMSprop", {"alpha": -0.1}, "alpha"),
    ("RMSprop", {"alpha": 1.5}, "alpha"),
    ("RMSprop", {"eps": -1.0}, "eps"),
    ("RMSprop", {"momentum": -0.9}, "momentum"),
    ("RMSprop", {"weight_decay": math.inf}, "weight_decay"),
    ("RMSprop", {"capturable": True}, "capturable"),
    ("Adam", {"lr": -1e-3}, "lr"),
    ("Adam", {"betas": (1.0, 0.999)}, r"betas\[0\]"),
    ("Adam", {"betas": (-0.1, 0.999)}, r"betas\[0\]"),
    ("Adam", {"betas": (0.9, 1.0)}, r"betas\[1\]"),
    ("Adam", {"betas": (0.9,)}, "betas"),
    ("Adam", {"eps": -1e-8}, "eps"),
    ("Adam", {"weight_decay": -0.01}, "weight_decay"),
    ("Adam", {"lr": torch.tensor([0.1, 0.2])}, "lr"),
    ("AdamW", {"weight_decay": -0.01}, "weight_decay"),
    ("AdamW", {"betas": (0.9, 1.5)}, r"betas\[1\]"),
    ("SWATS", {"lr": -1e-3}, "lr"),
    ("SWATS", {"betas": (0.9, 1.0)}, r"betas\[1\]"),
    ("SWATS", {"switch_tol": -1e-9}, "switch_tol"),
]


@pytest.mark.parametrize(("name", "kwargs", "pattern"), BAD_CONSTRUCTOR_ARGUMENTS)
def test_bad_hyperparameter_raises_value_error_naming_it(name, kwargs, pattern):
    with pytest.raises(ValueError, match=pattern) as info:
        getattr(ours, name)([torch.zeros(2)], **kwargs)
    value = next(iter(kwargs.values())) if len(kwargs) == 1 else None
    if isinstance(value, float) and math.isfinite(value):
        assert repr(value) in str(info.value)


def test_bad_hyperparameter_in_a_param_group_raises():
    with pytest.raises(ValueError, match="momentum"):
        ours.SGD([{"params": [torch.zeros(2)], "momentum": -1.0}], lr=0.1)


@pytest.mark.parametrize(
    ("rule", "kwargs", "pattern"),
    [
        (functional.sgd_update, {"lr": -0.1}, "lr"),
        (functional.sgd_update, {"lr": 0.1, "nesterov": True}, "nesterov"),
        (functional.adagrad_update, {"lr": 0.1, "lr_decay": -1.0}, "lr_decay"),
        (functional.rmsprop_update, {"lr": 0.1, "alpha": 2.0}, "alpha"),
        (functional.adam_update, {"lr": 0.1, "betas": (0.9, 1.0)}, r"betas\[1\]"),
        (functional.adam_update, {"lr": 0.1, "eps": -1.0}, "eps"),
    ],
)
def test_pure_rule_validates_hyperparameters(rule, kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        rule(np.zeros(2), np.zeros(2), None, **kwargs)


@pytest.mark.parametrize(
    ("step", "kwargs", "pattern"),
    [
        (momentum.momentum_pytorch, {"lr": -0.1, "beta": 0.9}, "lr"),
        (momentum.momentum_pytorch, {"lr": 0.1, "beta": 1.5}, "beta"),
        (momentum.momentum_goodfellow, {"lr": 0.1, "alpha": -0.1}, "alpha"),
        (momentum.momentum_ema, {"lr": math.nan, "beta": 0.9}, "lr"),
    ],
)
def test_momentum_forms_validate_hyperparameters(step, kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        step(np.zeros(2), np.zeros(2), np.ones(2), **kwargs)
