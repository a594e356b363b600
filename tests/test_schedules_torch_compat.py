"""The scheduler classes as drop-ins inside torch: composition, state dicts, warnings.

torch's own classes are the oracle throughout: the same construction is run once with
torch's schedulers and once with ours (or with ours inside torch's SequentialLR,
ChainedScheduler), and every param group's rate is compared after every step.
"""

import copy
import io
import math
import pickle
import warnings

import pytest
import torch
from torch.optim import lr_scheduler as tls

import course_utils.schedules as cs
from course_utils.cifar10 import WarmupLinearLR

RTOL = 1e-12


def make_optimizer(lrs=(0.1, 0.05), kind="sgd", tensor_lr=False):
    groups = [
        {
            "params": [torch.zeros(2, requires_grad=True)],
            "lr": torch.tensor(lr) if tensor_lr else lr,
        }
        for lr in lrs
    ]
    if kind == "adam":
        return torch.optim.Adam(groups, betas=(0.9, 0.999))
    return torch.optim.SGD(groups, lr=0.1, momentum=0.9)


def rates(optimizer):
    return [float(g["lr"]) for g in optimizer.param_groups]


def momenta(optimizer):
    return [
        float(g["betas"][0]) if "betas" in g else float(g.get("momentum", 0.0))
        for g in optimizer.param_groups
    ]


def assert_close(ours, theirs, where, rtol=RTOL):
    assert len(ours) == len(theirs), where
    for a, b in zip(ours, theirs, strict=True):
        assert math.isclose(a, b, rel_tol=rtol, abs_tol=1e-15), f"{where}: {ours} != {theirs}"


def drive(optimizer, scheduler, steps, metric=None):
    """optimizer.step() then scheduler.step(), ``steps`` times; the rates after each."""
    out = []
    for _ in range(steps):
        optimizer.step()
        scheduler.step()
        out.append((rates(optimizer), momenta(optimizer)))
    return out


def compare(make_torch, make_ours, steps, rtol=RTOL, **optimizer_kwargs):
    opt_t, opt_o = make_optimizer(**optimizer_kwargs), make_optimizer(**optimizer_kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched_t, sched_o = make_torch(opt_t), make_ours(opt_o)
        assert_close(rates(opt_o), rates(opt_t), "after construction", rtol)
        for i, ((lo, mo), (lt, mt)) in enumerate(
            zip(drive(opt_o, sched_o, steps), drive(opt_t, sched_t, steps), strict=True)
        ):
            assert_close(lo, lt, f"lr after step {i + 1}", rtol)
            assert_close(mo, mt, f"momentum after step {i + 1}", rtol)
        assert_close(
            [float(x) for x in sched_o.get_last_lr()],
            [float(x) for x in sched_t.get_last_lr()],
            "get_last_lr",
            rtol,
        )
    return sched_t, sched_o


# One construction per class, as (torch class, ours, keyword arguments).
CLASSES = {
    "StepLR": (tls.StepLR, cs.StepLR, {"step_size": 3, "gamma": 0.5}),
    "MultiStepLR": (tls.MultiStepLR, cs.MultiStepLR, {"milestones": [2, 5, 9], "gamma": 0.5}),
    "ExponentialLR": (tls.ExponentialLR, cs.ExponentialLR, {"gamma": 0.9}),
    "CosineAnnealingLR": (tls.CosineAnnealingLR, cs.CosineAnnealingLR, {"T_max": 6}),
    "LinearLR": (tls.LinearLR, cs.LinearLR, {"start_factor": 0.25, "total_iters": 4}),
    "CyclicLR": (
        tls.CyclicLR,
        cs.CyclicLR,
        {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 3, "mode": "triangular2"},
    ),
    "CosineAnnealingWarmRestarts": (
        tls.CosineAnnealingWarmRestarts,
        cs.CosineAnnealingWarmRestarts,
        {"T_0": 3, "T_mult": 2},
    ),
    "OneCycleLR": (tls.OneCycleLR, cs.OneCycleLR, {"max_lr": 0.2, "total_steps": 40}),
}
CHAINABLE = ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR"]


def build(name, optimizer, library, **extra):
    torch_cls, ours_cls, kwargs = CLASSES[name]
    return (torch_cls if library == "torch" else ours_cls)(optimizer, **kwargs, **extra)


def all_ours(optimizer):
    return [
        cs.StepLR(optimizer, 3),
        cs.MultiStepLR(optimizer, [2]),
        cs.ExponentialLR(optimizer, 0.9),
        cs.CosineAnnealingLR(optimizer, 4),
        cs.LinearLR(optimizer),
        cs.CyclicLR(optimizer, 0.01, 0.1),
        cs.CosineAnnealingWarmRestarts(optimizer, 3),
        cs.OneCycleLR(optimizer, 0.1, 10),
        cs.WarmupCosineLR(optimizer, 2, 10),
        cs.ScheduleLR(optimizer, lambda lr: cs.exponential_schedule(lr, 0.5)),
        WarmupLinearLR(optimizer, 2, 10),
    ]


def test_every_scheduler_is_one_of_torchs():
    for scheduler in all_ours(make_optimizer()):
        assert isinstance(scheduler, tls.LRScheduler), type(scheduler).__name__
    plateau = cs.ReduceLROnPlateau(make_optimizer())
    assert isinstance(plateau, tls.ReduceLROnPlateau)
    assert isinstance(plateau, tls.LRScheduler)


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_each_class_steps_like_torch(name):
    compare(lambda o: build(name, o, "torch"), lambda o: build(name, o, "ours"), 30)


SEQUENCES = [
    # (classes with their arguments, milestones)
    ([("LinearLR", {"start_factor": 0.1, "total_iters": 4}), ("CosineAnnealingLR", {})], [4]),
    ([("StepLR", {}), ("ExponentialLR", {}), ("MultiStepLR", {})], [5, 11]),
    ([("ExponentialLR", {}), ("LinearLR", {})], [3]),
    ([("CosineAnnealingLR", {}), ("StepLR", {})], [6]),
    ([("MultiStepLR", {}), ("CosineAnnealingWarmRestarts", {})], [4]),
]


@pytest.mark.parametrize(("parts", "milestones"), SEQUENCES)
def test_inside_torchs_sequential_lr(parts, milestones):
    def make(library):
        def sequential(opt):
            schedulers = []
            for name, extra in parts:
                torch_cls, ours_cls, kwargs = CLASSES[name]
                cls = torch_cls if library == "torch" else ours_cls
                schedulers.append(cls(opt, **{**kwargs, **extra}))
            return tls.SequentialLR(opt, schedulers, milestones)

        return sequential

    compare(make("torch"), make("ours"), 25)


def test_sequential_lr_of_ours_equals_warmup_cosine():
    """torch's SequentialLR(LinearLR, CosineAnnealingLR) built from our classes is
    WarmupCosineLR, step for step (the documented equivalence)."""
    opt_a, opt_b = make_optimizer(), make_optimizer()
    seq = tls.SequentialLR(
        opt_a,
        [cs.LinearLR(opt_a, 0.2, 1.0, 5), cs.CosineAnnealingLR(opt_a, 15, eta_min=0.001)],
        [5],
    )
    warm = cs.WarmupCosineLR(opt_b, 5, 20, warmup_start_factor=0.2, eta_min=0.001)
    for t in range(21):
        assert_close(rates(opt_a), rates(opt_b), f"step {t}")
        opt_a.step(), opt_b.step()
        seq.step(), warm.step()


@pytest.mark.parametrize(
    "names", [("StepLR", "ExponentialLR"), ("MultiStepLR", "CosineAnnealingLR", "LinearLR")]
)
def test_inside_torchs_chained_scheduler(names):
    def make(library):
        return lambda opt: tls.ChainedScheduler([build(n, opt, library) for n in names])

    compare(make("torch"), make("ours"), 20)


def test_next_to_torchs_lambda_lr():
    """torch's LambdaLR chained with ours, and inside a SequentialLR with ours."""

    def make(library):
        def chain(opt):
            return tls.ChainedScheduler(
                [tls.LambdaLR(opt, lambda t: 1.0 / (1 + t)), build("StepLR", opt, library)]
            )

        return chain

    compare(make("torch"), make("ours"), 15)

    def make_seq(library):
        def seq(opt):
            return tls.SequentialLR(
                opt,
                [
                    tls.LambdaLR(opt, lambda t: 0.1 * (t + 1)),
                    build("CosineAnnealingLR", opt, library),
                ],
                [5],
            )

        return seq

    compare(make_seq("torch"), make_seq("ours"), 15)


@pytest.mark.parametrize("combinator", ["SequentialLR", "ChainedScheduler"])
def test_reduce_on_plateau_is_refused_at_construction_like_torch(combinator):
    for make_plateau in (tls.ReduceLROnPlateau, cs.ReduceLROnPlateau):
        opt = make_optimizer()
        schedulers = [cs.StepLR(opt, 3), make_plateau(opt)]
        with pytest.raises(ValueError, match="ReduceLROnPlateau"):
            if combinator == "SequentialLR":
                tls.SequentialLR(opt, schedulers, [2])
            else:
                tls.ChainedScheduler(schedulers)


def _mid_run_state(name, library, steps):
    opt = make_optimizer()
    sched = build(name, opt, library)
    for _ in range(steps):
        opt.step()
        sched.step()
    return opt, sched


@pytest.mark.parametrize("name", sorted(CLASSES))
@pytest.mark.parametrize("direction", ["torch->ours", "ours->torch"])
def test_state_dict_loads_across_mid_run(name, direction):
    """Save one library's scheduler after 7 steps (through torch.save), load it into the
    other's, and go on: the rates equal those of the scheduler that was not interrupted."""
    source, target = direction.split("->")
    opt_src, sched_src = _mid_run_state(name, source, 7)
    buffer = io.BytesIO()
    torch.save({"opt": opt_src.state_dict(), "sched": sched_src.state_dict()}, buffer)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=False)
    opt_new = make_optimizer()
    sched_new = build(name, opt_new, target)
    opt_new.load_state_dict(saved["opt"])
    sched_new.load_state_dict(saved["sched"])
    assert sched_new.last_epoch == sched_src.last_epoch
    for i in range(15):
        opt_src.step(), opt_new.step()
        sched_src.step(), sched_new.step()
        assert_close(rates(opt_new), rates(opt_src), f"{direction}: lr {i + 1} steps after")
        assert_close(momenta(opt_new), momenta(opt_src), f"{direction}: momentum {i + 1}")


@pytest.mark.parametrize("direction", ["torch->ours", "ours->torch"])
def test_plateau_state_dict_loads_across(direction):
    metrics = [5, 4, 4, 4, 4, 3.9, 3.9, 3.9, 3.9, 3.9, 3.0, 3.0, 3.0, 3.0]
    make = {"torch": tls.ReduceLROnPlateau, "ours": cs.ReduceLROnPlateau}
    source, target = direction.split("->")
    opt_ref = make_optimizer()
    ref = make[source](opt_ref, patience=1, cooldown=1, mode="min", threshold=0.05)
    for m in metrics[:6]:
        ref.step(m)
    opt_new = make_optimizer()
    new = make[target](opt_new, patience=1, cooldown=1, mode="min", threshold=0.05)
    opt_new.load_state_dict(opt_ref.state_dict())
    new.load_state_dict(pickle.loads(pickle.dumps(ref.state_dict())))
    for m in metrics[6:]:
        ref.step(m), new.step(m)
        assert_close(rates(opt_new), rates(opt_ref), direction)
        assert (new.best, new.num_bad_epochs, new.cooldown_counter) == (
            ref.best,
            ref.num_bad_epochs,
            ref.cooldown_counter,
        )


class Halving:
    """A callable scale_fn object: torch saves its __dict__ in the state dict."""

    def __init__(self):
        self.base = 0.5

    def __call__(self, x):
        return self.base ** (x - 1)


@pytest.mark.parametrize("direction", ["torch->ours", "ours->torch"])
def test_cyclic_state_dict_with_a_custom_scale_object_loads_across(direction):
    make = {"torch": tls.CyclicLR, "ours": cs.CyclicLR}
    source, target = direction.split("->")
    opt_a, fn_a = make_optimizer(), Halving()
    a = make[source](opt_a, 0.01, 0.1, step_size_up=2, scale_fn=fn_a)
    fn_a.base = 0.7  # changed after construction: the state dict must carry it
    for _ in range(5):
        opt_a.step(), a.step()
    state = a.state_dict()
    pickle.dumps(state)
    opt_b, fn_b = make_optimizer(), Halving()
    b = make[target](opt_b, 0.01, 0.1, step_size_up=2, scale_fn=fn_b)
    opt_b.load_state_dict(opt_a.state_dict())
    b.load_state_dict(state)
    assert fn_b.base == 0.7
    for _ in range(10):
        opt_a.step(), opt_b.step()
        a.step(), b.step()
        assert_close(rates(opt_b), rates(opt_a), direction)


def test_state_dict_is_a_copy_and_picklable():
    for scheduler in all_ours(make_optimizer()):
        state = scheduler.state_dict()
        pickle.dumps(state)
        before = copy.deepcopy(state)
        scheduler.optimizer.step()
        scheduler.step()
        assert state.keys() == before.keys()
        assert state["last_epoch"] == before["last_epoch"], type(scheduler).__name__


def _warning_texts(run):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run()
    return [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


def _order_warning(texts):
    return any("optimizer.step()" in t and "before" in t for t in texts)


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_order_warning_like_torch(name):
    """scheduler.step() before the first optimizer.step() warns exactly when torch's does."""
    for optimizer_first in (False, True):
        outcome = {}
        for library in ("torch", "ours"):

            def run(library=library, optimizer_first=optimizer_first):
                opt = make_optimizer()
                sched = build(name, opt, library)
                if optimizer_first:
                    opt.step()
                sched.step()
                opt.step()
                sched.step()

            outcome[library] = _order_warning(_warning_texts(run))
        assert outcome["ours"] == outcome["torch"], (name, optimizer_first, outcome)
    assert outcome == {"torch": False, "ours": False} or name == "CosineAnnealingWarmRestarts"


def test_order_warning_is_given_by_a_chainable_class():
    opt = make_optimizer()
    sched = cs.StepLR(opt, 3)
    texts = _warning_texts(lambda: sched.step())
    assert _order_warning(texts), texts
    assert "how-to-adjust-learning-rate" in texts[0]


def test_replaced_optimizer_step_warns_like_torch():
    for library in ("torch", "ours"):
        opt = make_optimizer()
        sched = build("StepLR", opt, library)
        opt.step = lambda closure=None: None  # replaced after the scheduler was made
        texts = _warning_texts(lambda sched=sched: sched.step())
        assert texts and "optimizer.step()" in texts[0], (library, texts)


@pytest.mark.parametrize("name", CHAINABLE + ["CyclicLR", "OneCycleLR"])
def test_step_with_an_epoch_gives_torchs_deprecation_warning(name):
    for library in ("torch", "ours"):
        opt = make_optimizer()
        sched = build(name, opt, library)
        opt.step()
        texts = _warning_texts(lambda sched=sched: sched.step(3))
        assert any("epoch parameter" in t and "deprecated" in t for t in texts), (library, texts)
    opt_t, opt_o = make_optimizer(), make_optimizer()
    st, so = build(name, opt_t, "torch"), build(name, opt_o, "ours")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in (3, 7, 2):
            opt_t.step(), opt_o.step()
            st.step(epoch), so.step(epoch)
            assert_close(rates(opt_o), rates(opt_t), f"step({epoch})")


def test_plateau_step_with_an_epoch_warns_like_torch():
    for make in (tls.ReduceLROnPlateau, cs.ReduceLROnPlateau):
        sched = make(make_optimizer())
        texts = _warning_texts(lambda sched=sched: sched.step(1.0, 4))
        assert any("epoch parameter" in t for t in texts)
        assert sched.last_epoch == 4


def test_no_warning_when_the_order_is_right():
    for scheduler in all_ours(make_optimizer()):
        opt = scheduler.optimizer
        texts = []
        for _ in range(3):
            opt.step()
            texts += _warning_texts(scheduler.step)
        assert texts == [], (type(scheduler).__name__, texts)


def test_get_lr_outside_step_warns_like_torch():
    for library in ("torch", "ours"):
        sched = build("StepLR", make_optimizer(), library)
        texts = _warning_texts(sched.get_lr)
        assert any("get_last_lr()" in t for t in texts), (library, texts)


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 3}),
        ("CyclicLR", {"base_lr": [0.01, 0.02], "max_lr": [0.1, 0.3], "step_size_up": 2}),
        ("OneCycleLR", {"max_lr": 0.2, "total_steps": 20}),
        ("OneCycleLR", {"max_lr": [0.2, 0.4], "total_steps": 20, "three_phase": True}),
    ],
)
def test_tensor_rates_are_accepted_like_torch(name, kwargs):
    def tensors(value):
        if isinstance(value, list):
            return [torch.tensor(v) for v in value]
        return torch.tensor(value)

    args = {k: tensors(v) if k in ("base_lr", "max_lr") else v for k, v in kwargs.items()}
    torch_cls, ours_cls, _ = CLASSES[name]
    # torch computes in the tensors' float32, ours in float64 rounded once to float32
    _, sched = compare(
        lambda o: torch_cls(o, **args),
        lambda o: ours_cls(o, **args),
        15,
        rtol=1e-6,
        tensor_lr=True,
    )
    for group in sched.optimizer.param_groups:
        assert isinstance(group["lr"], torch.Tensor)


@pytest.mark.parametrize("milestones", [[25, 32, 58, 17, 17], [3, 3, 3], [9, 1, 4]])
def test_multistep_takes_unsorted_and_repeated_milestones_like_torch(milestones):
    def make(cls):
        return lambda o: cls(o, milestones=milestones, gamma=0.5)

    sched_t, sched_o = compare(make(tls.MultiStepLR), make(cs.MultiStepLR), 60)
    assert sched_o.milestones == sched_t.milestones
    opt_t, opt_o = make_optimizer(), make_optimizer()
    st, so = make(tls.MultiStepLR)(opt_t), make(cs.MultiStepLR)(opt_o)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in (20, 17, 40, 59, 0):
            st.step(epoch), so.step(epoch)
            assert_close(rates(opt_o), rates(opt_t), f"step({epoch})")


def test_gamma_zero_is_accepted_like_torch():
    compare(lambda o: tls.StepLR(o, 2, gamma=0.0), lambda o: cs.StepLR(o, 2, gamma=0.0), 6)
    compare(lambda o: tls.ExponentialLR(o, 0.0), lambda o: cs.ExponentialLR(o, 0.0), 4)


def test_plateau_list_min_lr_after_add_param_group_is_a_runtime_error_like_torch():
    for make in (tls.ReduceLROnPlateau, cs.ReduceLROnPlateau):
        opt = make_optimizer()
        sched = make(opt, patience=0, min_lr=[0.0, 0.0])
        opt.add_param_group({"params": [torch.zeros(1, requires_grad=True)], "lr": 0.3})
        sched.step(1.0)
        with pytest.raises(RuntimeError, match="min_lrs"):
            sched.step(2.0)


def test_plateau_factor_zero_is_accepted_like_torch():
    for make in (tls.ReduceLROnPlateau, cs.ReduceLROnPlateau):
        opt = make_optimizer()
        sched = make(opt, factor=0.0, patience=0, min_lr=0.001)
        sched.step(1.0), sched.step(2.0)
        assert rates(opt) == [0.001, 0.001]


def test_resuming_without_initial_lr_is_torchs_key_error():
    for library in ("torch", "ours"):
        with pytest.raises(KeyError, match="param 'initial_lr' is not specified"):
            build("StepLR", make_optimizer(), library, last_epoch=3)


def test_torch_scheduler_after_ours_wraps_the_optimizer_once():
    opt = make_optimizer()
    ours = cs.StepLR(opt, 3)
    theirs = tls.ExponentialLR(opt, 0.9)
    assert getattr(opt.step, "_wrapped_by_lr_sched", False)
    opt.step()
    assert opt._opt_called
    texts = _warning_texts(lambda: (ours.step(), theirs.step()))
    assert texts == []


# ------------------------------------------------------------------------ factories


def test_factories_check_their_arguments_once_when_made():
    with pytest.raises(ValueError, match="Invalid step_size: 0"):
        cs.step_schedule(0.1, 0)
    with pytest.raises(ValueError, match="Invalid T_max: 2.5"):
        cs.cosine_schedule(0.1, 2.5)
    schedule = cs.step_schedule(0.1, 3, 0.5)
    assert schedule(7) == 0.1 * 0.5**2
    with pytest.raises(ValueError, match="Invalid t: -1"):
        schedule(-1)
    assert "step_schedule(base_lr=0.1, step_size=3, gamma=0.5)" == repr(schedule)


def test_join_schedules_by_hand():
    joined = cs.join_schedules(
        [cs.constant_schedule(1.0), lambda s: 10.0 + s, cs.exponential_schedule(8.0, 0.5)],
        [3, 5],
    )
    # steps 0-2: 1; steps 3-4: 10 + (t - 3); from step 5: 8 * 0.5 ** (t - 5)
    assert [joined(t) for t in range(8)] == [1.0, 1.0, 1.0, 10.0, 11.0, 8.0, 4.0, 2.0]
    assert joined(4.5) == 11.5
    with pytest.raises(ValueError, match="Invalid boundaries"):
        cs.join_schedules([cs.constant_schedule(1.0)], [3])
    with pytest.raises(ValueError, match="must not decrease"):
        cs.join_schedules([cs.constant_schedule(1.0)] * 3, [5, 3])
    with pytest.raises(TypeError, match="not a schedule"):
        cs.join_schedules([cs.constant_schedule(1.0), 2.0], [3])


def test_warmup_schedules_are_joins_equal_to_their_formulas():
    base, W, T, f, eta = 0.4, 5, 25, 0.1, 0.01
    cosine = cs.warmup_cosine_schedule(base, W, T, f, eta)
    linear = cs.warmup_linear_schedule(base, W, T)
    for t in range(T + 5):
        if t < W:
            want_cos = base * (f + (1 - f) * t / W)
            want_lin = base * t / W
        else:
            want_cos = (
                eta + (base - eta) * (1 + math.cos(math.pi * min(t - W, T - W) / (T - W))) / 2
            )
            want_lin = base * (1 - min(t - W, T - W) / (T - W))
        assert math.isclose(cosine(t), want_cos, rel_tol=1e-12, abs_tol=1e-15), t
        assert math.isclose(linear(t), want_lin, rel_tol=1e-12, abs_tol=1e-15), t
        assert cosine(t) == cs.warmup_cosine_lr(t, base, W, T, f, eta)


def test_schedule_lr_of_a_join_equals_torchs_sequential_lr():
    """ScheduleLR applies any join; warm-up + cosine as a join equals torch's SequentialLR."""

    def ours(opt):
        return cs.ScheduleLR(
            opt,
            lambda lr: cs.join_schedules(
                [cs.linear_schedule(lr, 0.25, 1.0, 4), cs.cosine_schedule(lr, 10, 0.0)], [4]
            ),
        )

    def theirs(opt):
        return tls.SequentialLR(
            opt, [tls.LinearLR(opt, 0.25, 1.0, 4), tls.CosineAnnealingLR(opt, 10)], [4]
        )

    compare(theirs, ours, 14)


def test_one_cycle_schedule_is_torchs_one_cycle():
    for three_phase in (False, True):
        for strategy in ("cos", "linear"):
            opt = make_optimizer([0.1])
            sched = tls.OneCycleLR(
                opt, 0.3, total_steps=50, anneal_strategy=strategy, three_phase=three_phase
            )
            ours = cs.one_cycle_schedule(0.3, 50, anneal_strategy=strategy, three_phase=three_phase)
            for t in range(50):
                assert math.isclose(ours(t), rates(opt)[0], rel_tol=1e-12), (t, strategy)
                opt.step()
                sched.step()


def test_cyclic_keeps_its_scale_function_out_of_the_state_dict_like_torch():
    for library in ("torch", "ours"):
        opt = make_optimizer()
        sched = build("CyclicLR", opt, library)
        assert callable(sched._scale_fn_ref)
        state = sched.state_dict()
        assert "_scale_fn_ref" not in state and state["_scale_fn_custom"] is None
        assert sched.scale_fn(3) == 0.25  # triangular2 halves the amplitude every cycle
        cls = tls.CyclicLR if library == "torch" else cs.CyclicLR
        fresh = cls(make_optimizer(), 0.01, 0.1, step_size_up=3, mode="triangular")
        fresh.load_state_dict(pickle.loads(pickle.dumps(state)))
        assert fresh.mode == "triangular2" and fresh.scale_fn(3) == 0.25, library


def test_one_cycle_loads_a_state_dict_of_older_torch_that_names_the_anneal_function():
    """torch before 2.2 saved the anneal function (``anneal_func``), not its name."""
    for strategy in ("cos", "linear"):
        opt_ref = make_optimizer()
        ref = tls.OneCycleLR(opt_ref, 0.2, total_steps=30, anneal_strategy=strategy)
        opt = make_optimizer()
        ours = cs.OneCycleLR(opt, 0.2, total_steps=30)
        state = ours.state_dict()
        del state["_anneal_func_type"]
        del ours._anneal_func_type
        state["anneal_func"] = getattr(cs.OneCycleLR, f"_annealing_{strategy}")
        ours.load_state_dict(state)
        for t in range(30):
            assert_close(rates(opt), rates(opt_ref), f"{strategy}, step {t}")
            opt.step(), opt_ref.step()
            ours.step(), ref.step()


def test_messages_carry_the_phrases_torch_users_match():
    opt = make_optimizer()
    sched = cs.StepLR(opt, 3)
    opt.step = lambda closure=None: None
    assert "`optimizer.step()` has been overridden" in _warning_texts(sched.step)[0]
    opt = make_optimizer()
    plateau = cs.ReduceLROnPlateau(opt, patience=0, min_lr=[0.0, 0.0])
    opt.add_param_group({"params": [torch.zeros(1, requires_grad=True)], "lr": 0.3})
    plateau.step(1.0)
    with pytest.raises(RuntimeError, match="The number of param groups in the `optimizer`"):
        plateau.step(2.0)
