"""ReduceLROnPlateau against torch's, on random metric sequences, and the lecture's rule by hand."""

import math
import pickle
import random

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.optim import lr_scheduler as tls

import course_utils.schedules as cs


class PlainSGD(torch.optim.Optimizer):
    """A bare subclass of torch.optim.Optimizer, as the course's own optimizers are."""

    def __init__(self, params, lr=0.01):
        super().__init__(params, {"lr": lr})

    def step(self, closure=None):
        return None


def make_optimizer(kind, lrs):
    groups = [{"params": [torch.zeros(2, requires_grad=True)], "lr": lr} for lr in lrs]
    if kind == "sgd":
        return torch.optim.SGD(groups, lr=0.1, momentum=0.9)
    if kind == "adam":
        return torch.optim.Adam(groups)
    return PlainSGD(groups)


def metric_sequence(seed, mode, threshold, threshold_mode, length=80):
    """A metric with improvements, exact ties with the best value, changes just inside the
    threshold, setbacks and jumps (the best value is tracked without the threshold)."""
    rng = random.Random(seed)
    sign = 1.0 if mode == "min" else -1.0
    best = rng.uniform(-6.0, 6.0)
    values = [best]
    for _ in range(length - 1):
        move = rng.choice(["better", "tie", "within", "worse", "worse", "jump"])
        if move == "better":
            value = best - sign * rng.uniform(0.05, 1.0)
        elif move == "tie":
            value = best
        elif move == "within":
            margin = abs(best) * threshold if threshold_mode == "rel" else threshold
            value = best - sign * margin * rng.uniform(0.0, 0.99)
        elif move == "worse":
            value = best + sign * rng.uniform(0.0, 2.0)
        else:
            value = rng.uniform(-6.0, 6.0)
        best = min(best, value) if mode == "min" else max(best, value)
        values.append(value)
    return values


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.sampled_from(["min", "max"]),
    st.sampled_from(["rel", "abs"]),
    st.sampled_from([0.0, 1e-4, 0.01, 0.1]),
    st.integers(0, 4),
    st.integers(0, 3),
    st.floats(0.05, 0.9),
    st.sampled_from(["scalar", "list"]),
    st.sampled_from(["sgd", "adam", "plain"]),
    st.sampled_from([0.0, 1e-8, 1e-3]),
)
def test_matches_torch_step_by_step(
    seed, mode, threshold_mode, threshold, patience, cooldown, factor, min_lr_kind, kind, eps
):
    lrs = [0.1, 0.03, 1.0]
    min_lr = 1e-3 if min_lr_kind == "scalar" else [1e-3, 0.0, 0.05]
    args = dict(
        mode=mode,
        factor=factor,
        patience=patience,
        threshold=threshold,
        threshold_mode=threshold_mode,
        cooldown=cooldown,
        min_lr=min_lr,
        eps=eps,
    )
    opt_torch, opt_ours = make_optimizer(kind, lrs), make_optimizer(kind, lrs)
    sched_torch = tls.ReduceLROnPlateau(opt_torch, **args)
    sched_ours = cs.ReduceLROnPlateau(opt_ours, **args)
    for n, value in enumerate(metric_sequence(seed, mode, threshold, threshold_mode)):
        metric = torch.tensor(value) if n % 2 else value
        sched_torch.step(metric)
        sched_ours.step(metric)
        where = f"step {n}, metric {value}"
        lrs_ours = [g["lr"] for g in opt_ours.param_groups]
        assert lrs_ours == [g["lr"] for g in opt_torch.param_groups], where
        assert sched_ours.get_last_lr() == sched_torch.get_last_lr(), where
        assert sched_ours.num_bad_epochs == sched_torch.num_bad_epochs, where
        assert sched_ours.cooldown_counter == sched_torch.cooldown_counter, where
        assert sched_ours.best == sched_torch.best, where
        assert sched_ours.last_epoch == sched_torch.last_epoch, where
        assert sched_ours.in_cooldown == sched_torch.in_cooldown, where


def test_lecture_rule_drop_by_10_after_k_epochs_without_improvement():
    # k = 3 epochs without improvement -> patience = k - 1 = 2, factor 0.1
    opt = make_optimizer("plain", [0.1])
    sched = cs.ReduceLROnPlateau(opt, factor=0.1, patience=2)
    losses = [1.0, 0.8, 0.8, 0.9, 0.85, 0.7, 0.75, 0.7, 0.71, 0.69]
    # epoch:  1    2    3    4    5     6    7     8    9     10
    # 0.8 (tie) at 3, then 4 and 5 do not improve on 0.8: third bad epoch -> 0.01.
    # 6 improves (0.7); 7, 8 (tie), 9 are bad -> 0.001 at epoch 9; 10 improves.
    expected = [0.1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.01, 0.001, 0.001]
    got = []
    for loss in losses:
        sched.step(loss)
        got.append(opt.param_groups[0]["lr"])
    assert got == pytest.approx(expected, rel=1e-12)


def test_cooldown_and_min_lr_by_hand():
    opt = make_optimizer("sgd", [1.0, 0.5])
    sched = cs.ReduceLROnPlateau(
        opt,
        mode="max",
        factor=0.5,
        patience=0,
        cooldown=2,
        min_lr=[0.3, 0.2],
        threshold=0.1,
        threshold_mode="abs",
    )
    accuracies = [0.5, 0.55, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
    # 0.55 is within the absolute threshold 0.1 of 0.5: bad epoch -> drop (patience 0);
    # two cooldown epochs; then a drop every epoch until min_lr.
    expected = [
        (1.0, 0.5),
        (0.5, 0.25),
        (0.5, 0.25),
        (0.5, 0.25),
        (0.3, 0.2),
        (0.3, 0.2),
        (0.3, 0.2),
        (0.3, 0.2),
        (0.3, 0.2),
    ]
    got = []
    for accuracy in accuracies:
        sched.step(accuracy)
        got.append(tuple(g["lr"] for g in opt.param_groups))
    assert got == expected


def test_state_dict_round_trip_continues_identically():
    values = metric_sequence(7, "min", 0.01, "rel", length=40)
    opt = make_optimizer("adam", [0.1, 0.2])
    sched = cs.ReduceLROnPlateau(opt, patience=1, cooldown=1, threshold=0.01)
    for value in values[:15]:
        sched.step(value)
    saved_opt, saved = pickle.dumps(opt.state_dict()), pickle.dumps(sched.state_dict())
    expected = []
    for value in values[15:]:
        sched.step(value)
        expected.append([g["lr"] for g in opt.param_groups])
    fresh_opt = make_optimizer("adam", [0.1, 0.2])
    fresh = cs.ReduceLROnPlateau(fresh_opt, patience=1, cooldown=1, threshold=0.01)
    fresh_opt.load_state_dict(pickle.loads(saved_opt))
    fresh.load_state_dict(pickle.loads(saved))
    got = []
    for value in values[15:]:
        fresh.step(value)
        got.append([g["lr"] for g in fresh_opt.param_groups])
    assert got == expected
    assert fresh.best == sched.best and fresh.num_bad_epochs == sched.num_bad_epochs


def test_scalar_min_lr_covers_groups_added_later():
    opt = make_optimizer("sgd", [0.1])
    sched = cs.ReduceLROnPlateau(opt, patience=0, min_lr=0.05)
    opt.add_param_group({"params": [torch.zeros(1, requires_grad=True)], "lr": 0.2})
    sched.step(1.0)
    sched.step(2.0)
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.05, 0.05])


@pytest.mark.parametrize(
    ("kwargs", "name", "value"),
    [
        ({"factor": 1.0}, "factor", "1.0"),
        ({"factor": 10}, "factor", "10"),
        ({"factor": -0.5}, "factor", "-0.5"),
        ({"mode": "lowest"}, "mode", "lowest"),
        ({"threshold_mode": "relative"}, "threshold_mode", "relative"),
        ({"patience": -1}, "patience", "-1"),
        ({"cooldown": 1.5}, "cooldown", "1.5"),
        ({"threshold": -0.1}, "threshold", "-0.1"),
        ({"min_lr": -1e-3}, "min_lr", "-0.001"),
        ({"min_lr": [0.1, 0.2, 0.3]}, "min_lr", "[0.1, 0.2, 0.3]"),
        ({"eps": math.nan}, "eps", "nan"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(kwargs, name, value):
    with pytest.raises(ValueError, match=f"Invalid {name}: ") as info:
        cs.ReduceLROnPlateau(make_optimizer("sgd", [0.1, 0.2]), **kwargs)
    assert value in str(info.value)
