"""course_utils.optim and torch.optim exchange state: checkpoints, old state dicts, counters.

torch.optim 2.13 is the oracle throughout: a state dict saved by one library mid-run is
loaded by the other and both go on step by step; a state dict from an older torch (param
groups without the keys added since, Python numbers as step counters) loads into both
with the same result; ``state["step"]`` has torch's type, dtype and device; the state
dict of SGD without momentum has torch's structure; Adam's checks of tensor
hyperparameters raise torch's exception types. Values are compared in float64 with rtol
1e-10 and an absolute floor of rtol times the largest magnitude of the tensor.
"""

import copy
import io
import pickle

import pytest
import torch

import course_utils.optim as ours

RTOL = 1e-10
STEPS_BEFORE = 6
STEPS_AFTER = 8
SHAPES = [(3, 2), (4,), ()]

CONFIGS = {
    "SGD": ("SGD", {"lr": 0.1}),
    "SGD momentum": ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.2, "weight_decay": 0.01}),
    "SGD nesterov": ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True}),
    "Adagrad": (
        "Adagrad",
        {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1, "weight_decay": 0.01},
    ),
    "RMSprop": ("RMSprop", {"lr": 0.01}),
    "RMSprop centered momentum": (
        "RMSprop",
        {"lr": 0.01, "momentum": 0.5, "centered": True, "weight_decay": 0.01},
    ),
    "Adam": ("Adam", {"lr": 0.02, "weight_decay": 0.01}),
    "Adam amsgrad": ("Adam", {"lr": 0.02, "amsgrad": True}),
    "AdamW": ("AdamW", {"lr": 0.02, "weight_decay": 0.1}),
    "AdamW amsgrad": ("AdamW", {"lr": 0.02, "weight_decay": 0.1, "amsgrad": True}),
}

# Flags away from their defaults, so that a group key filled with the wrong default
# changes the values.
LEGACY_CONFIGS = {
    "SGD": ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "maximize": True}),
    "Adagrad": ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "maximize": True}),
    "RMSprop": (
        "RMSprop",
        {"lr": 0.01, "momentum": 0.5, "centered": True, "maximize": True},
    ),
    "Adam": (
        "Adam",
        {
            "lr": 0.02,
            "amsgrad": True,
            "maximize": True,
            "weight_decay": 0.1,
            "decoupled_weight_decay": True,
        },
    ),
    "AdamW": ("AdamW", {"lr": 0.02, "amsgrad": True, "maximize": True, "weight_decay": 0.1}),
}

# Group keys that torch.optim added after its first versions and fills in when an old
# state dict lacks them; the test finds all such keys by asking torch, these must be among.
NEWER_KEYS = {
    "SGD": {"nesterov", "maximize", "foreach", "differentiable", "fused"},
    "Adagrad": {"foreach", "maximize", "differentiable", "fused", "initial_accumulator_value"},
    "RMSprop": {"momentum", "centered", "foreach", "maximize", "differentiable", "capturable"},
    "Adam": {"amsgrad", "maximize", "foreach", "capturable", "decoupled_weight_decay"},
    "AdamW": {"amsgrad", "maximize", "foreach", "capturable", "decoupled_weight_decay"},
}


def make_params(seed):
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(shape, generator=generator, dtype=torch.float64) for shape in SHAPES]


def clones(tensors):
    return [t.detach().clone() for t in tensors]


def gradient_sequence(seed, num_steps):
    """Random gradients; after the first step each one is missing (None) with chance 1/5."""
    generator = torch.Generator().manual_seed(seed)
    steps = []
    for k in range(num_steps):
        grads = []
        for shape in SHAPES:
            skip = k > 0 and torch.rand((), generator=generator).item() < 0.2
            grad = torch.randn(shape, generator=generator, dtype=torch.float64)
            grads.append(None if skip else grad)
        steps.append(grads)
    return steps


def build(library, name, params, options, foreach=None):
    """Two param groups: the first two tensors, and the last one at half the rate."""
    groups = [{"params": params[:2]}, {"params": params[2:], "lr": options["lr"] / 2}]
    return getattr(library, name)(groups, foreach=foreach, **options)


def set_grads(params, grads):
    for p, g in zip(params, grads, strict=True):
        p.grad = None if g is None else g.clone()


def assert_close(actual, expected, what):
    scale = max(1.0, expected.abs().max().item()) if expected.numel() else 1.0
    torch.testing.assert_close(
        actual, expected, rtol=RTOL, atol=RTOL * scale, msg=lambda m: f"{what}: {m}"
    )


def side_by_side(mine, my_params, theirs, their_params, grads, what):
    """Step both optimizers over ``grads``, comparing the parameters after every step."""
    for k, step_grads in enumerate(grads, start=1):
        set_grads(my_params, step_grads)
        set_grads(their_params, step_grads)
        mine.step()
        theirs.step()
        for i, (p, q) in enumerate(zip(my_params, their_params, strict=True)):
            assert_close(p, q, f"{what}: parameter {i} after step {k}")


def assert_step_like_torch(actual, expected, what):
    assert type(actual) is type(expected), f"{what}: {type(actual)} where torch has {expected!r}"
    assert (actual.dtype, actual.device, actual.shape) == (
        expected.dtype,
        expected.device,
        expected.shape,
    ), f"{what}: {actual!r} where torch has {expected!r}"
    assert actual.item() == expected.item(), f"{what}: {actual!r} where torch has {expected!r}"


def assert_same_state(mine, my_params, theirs, their_params, what):
    """Same per-tensor state as torch: which tensors have one, its keys and values."""
    for i, (p, q) in enumerate(zip(my_params, their_params, strict=True)):
        assert (p in mine.state) == (q in theirs.state), f"{what}: tensor {i} has state or not"
        if q not in theirs.state:
            continue
        got, expected = mine.state[p], theirs.state[q]
        assert set(got) == set(expected), f"{what}: state keys of tensor {i}"
        for key, value in expected.items():
            if key == "step":
                assert_step_like_torch(got[key], value, f"{what}: state['step'] of tensor {i}")
            else:
                assert_close(got[key], value, f"{what}: state[{key!r}] of tensor {i}")


def group_options(optimizer):
    return [{k: v for k, v in group.items() if k != "params"} for group in optimizer.param_groups]


def through_torch_save(state_dict):
    buffer = io.BytesIO()
    torch.save(state_dict, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


# --------------------------------------------------------------------- across libraries


@pytest.mark.parametrize("foreach", [False, True])
@pytest.mark.parametrize("direction", ["torch_to_ours", "ours_to_torch"])
@pytest.mark.parametrize("label", CONFIGS)
def test_state_dict_saved_mid_run_continues_in_the_other_library(label, direction, foreach):
    name, options = CONFIGS[label]
    first_lib, second_lib = (
        (torch.optim, ours) if direction == "torch_to_ours" else (ours, torch.optim)
    )
    initial = make_params(3)
    grads = gradient_sequence(4, STEPS_BEFORE + STEPS_AFTER)
    params, reference_params = clones(initial), clones(initial)
    first = build(first_lib, name, params, options, foreach)
    reference = build(torch.optim, name, reference_params, options, foreach)
    side_by_side(first, params, reference, reference_params, grads[:STEPS_BEFORE], label)

    second = build(second_lib, name, params, options, foreach)
    second.load_state_dict(through_torch_save(first.state_dict()))
    assert_same_state(second, params, reference, reference_params, f"{label}, loaded")
    assert group_options(second) == group_options(reference)
    side_by_side(second, params, reference, reference_params, grads[STEPS_BEFORE:], label)
    assert_same_state(second, params, reference, reference_params, f"{label}, at the end")


@pytest.mark.parametrize("label", CONFIGS)
def test_state_dict_has_torchs_structure(label):
    """Same param groups, same tensors with state and same keys (SGD without momentum:
    no per-tensor state at all)."""
    name, options = CONFIGS[label]
    initial = make_params(5)
    params, reference_params = clones(initial), clones(initial)
    mine = build(ours, name, params, options)
    theirs = build(torch.optim, name, reference_params, options)
    side_by_side(mine, params, theirs, reference_params, gradient_sequence(6, 3), label)
    got, expected = mine.state_dict(), theirs.state_dict()
    assert got["param_groups"] == expected["param_groups"]
    assert sorted(got["state"]) == sorted(expected["state"])
    for index, state in expected["state"].items():
        assert sorted(got["state"][index]) == sorted(state)


@pytest.mark.parametrize("foreach", [False, True])
def test_sgd_without_momentum_keeps_no_state(foreach):
    params = [torch.ones(3, requires_grad=True), torch.ones(2, requires_grad=True)]
    twins = [p.detach().clone().requires_grad_() for p in params]
    mine = ours.SGD(params, lr=0.1, foreach=foreach)
    theirs = torch.optim.SGD(twins, lr=0.1, foreach=foreach)
    for optimizer, tensors in ((mine, params), (theirs, twins)):
        tensors[0].grad = torch.ones(3)
        optimizer.step()
    assert theirs.state_dict()["state"] == {}
    assert mine.state_dict()["state"] == {}
    assert len(mine.state) == 0


def test_sgd_keeps_a_buffer_set_before_momentum_was_switched_off():
    """torch.optim ignores a momentum buffer while momentum is 0 and uses it again after."""
    p, q = torch.ones(2), torch.ones(2)
    mine, theirs = ours.SGD([p], lr=0.1, momentum=0.9), torch.optim.SGD([q], lr=0.1, momentum=0.9)
    for momentum in (0.9, 0.0, 0.0, 0.9):
        for optimizer, tensor in ((mine, p), (theirs, q)):
            optimizer.param_groups[0]["momentum"] = momentum
            tensor.grad = torch.tensor([1.0, -2.0])
            optimizer.step()
        assert_close(p, q, f"momentum {momentum}")
        assert_close(mine.state[p]["momentum_buffer"], theirs.state[q]["momentum_buffer"], "buf")


# --------------------------------------------------------------------- older state dicts


def without_keys(state_dict, keys):
    old = copy.deepcopy(state_dict)
    for group in old["param_groups"]:
        for key in keys:
            group.pop(key, None)
    return old


def with_number_steps(state_dict):
    """The state dict as torch < 1.12 saved it: Python numbers as step counters."""
    old = copy.deepcopy(state_dict)
    for state in old["state"].values():
        if "step" in state:
            state["step"] = int(state["step"].item())
    return old


def torch_steps_after_loading(name, options, params, state_dict):
    """Whether torch.optim loads ``state_dict`` and takes a step from it."""
    probe_params = clones(params)
    probe = build(torch.optim, name, probe_params, options)
    try:
        probe.load_state_dict(copy.deepcopy(state_dict))
        set_grads(probe_params, [torch.ones(shape, dtype=torch.float64) for shape in SHAPES])
        probe.step()
    except KeyError:
        return False
    return True


def assert_loads_like_torch(name, options, params, state_dict, grads, what):
    my_params, their_params = clones(params), clones(params)
    mine = build(ours, name, my_params, options)
    theirs = build(torch.optim, name, their_params, options)
    mine.load_state_dict(copy.deepcopy(state_dict))
    theirs.load_state_dict(copy.deepcopy(state_dict))
    assert group_options(mine) == group_options(theirs), f"{what}: param groups after loading"
    assert_same_state(mine, my_params, theirs, their_params, f"{what}, loaded")
    side_by_side(mine, my_params, theirs, their_params, grads, what)
    assert_same_state(mine, my_params, theirs, their_params, f"{what}, at the end")


def saved_by_torch(name, options):
    """A torch.optim state dict after a few steps, and the parameters it belongs to."""
    params = make_params(7)
    saver = build(torch.optim, name, params, options, foreach=True)
    for grads in gradient_sequence(8, STEPS_BEFORE):
        set_grads(params, grads)
        saver.step()
    return params, saver.state_dict()


@pytest.mark.parametrize("label", LEGACY_CONFIGS)
def test_state_dict_without_newer_group_keys_steps_like_torch(label):
    """Each group key whose absence torch.optim tolerates, removed alone and all together:
    ours fills it with torch's value, and both step alike."""
    name, options = LEGACY_CONFIGS[label]
    params, saved = saved_by_torch(name, options)
    grads = gradient_sequence(9, STEPS_AFTER)
    keys = [key for key in saved["param_groups"][0] if key != "params"]
    tolerated = [
        key
        for key in keys
        if torch_steps_after_loading(name, options, params, without_keys(saved, [key]))
    ]
    assert NEWER_KEYS[name] <= set(tolerated)
    for key in tolerated:
        old = without_keys(saved, [key])
        assert_loads_like_torch(name, options, params, old, grads, f"{label} without {key!r}")
    old = with_number_steps(without_keys(saved, tolerated))
    assert_loads_like_torch(name, options, params, old, grads, f"{label} without {tolerated}")


def test_swats_state_dict_without_its_flags_steps_like_the_full_one():
    """SWATS has no torch twin: the oracle is SWATS loaded from the complete state dict."""
    a = torch.tensor([1.0, -2.0], dtype=torch.float64)
    saver = ours.SWATS([a], lr=0.01)
    c = torch.tensor([3.0, -1.0], dtype=torch.float64)
    for _ in range(3):
        a.grad = c.clone()
        saver.step()
    assert saver.switched == [True]
    saved = with_number_steps(saver.state_dict())
    old = without_keys(saved, ["maximize", "switch_tol"])
    full_params, old_params = [a.clone()], [a.clone()]
    full, loaded = ours.SWATS(full_params, lr=0.01), ours.SWATS(old_params, lr=0.01)
    full.load_state_dict(saved)
    loaded.load_state_dict(old)
    assert group_options(loaded) == group_options(full)
    # two Adam steps before the switch at k = 2, then SGD steps, which do not count
    assert_step_like_torch(loaded.state[old_params[0]]["step"], torch.tensor(2.0), "SWATS")
    grads = [[c * (k + 1)] for k in range(4)]
    side_by_side(loaded, old_params, full, full_params, grads, "SWATS")


@pytest.mark.parametrize("label", CONFIGS)
def test_state_dict_with_number_steps_loads_like_torch(label):
    name, options = CONFIGS[label]
    params, saved = saved_by_torch(name, options)
    old = with_number_steps(saved)
    grads = gradient_sequence(10, STEPS_AFTER)
    assert_loads_like_torch(name, options, params, old, grads, f"{label}, int steps")


def test_adagrad_group_without_initial_accumulator_value_takes_the_constructors():
    """torch.optim never reads the key after its constructor, which makes every sum; ours
    makes a sum at a tensor's first step, from the constructor's value when the group has
    none (the group is left as loaded, like torch's)."""
    a, b = torch.ones(2), torch.ones(2)
    saver = ours.Adagrad([a, b], lr=0.1, initial_accumulator_value=0.5)
    a.grad = torch.ones(2)
    saver.step()
    old = without_keys(saver.state_dict(), ["initial_accumulator_value"])
    loaded = ours.Adagrad([a, b], lr=0.1, initial_accumulator_value=0.5)
    loaded.load_state_dict(old)
    assert "initial_accumulator_value" not in loaded.param_groups[0]
    b.grad = torch.ones(2)
    loaded.step()
    torch.testing.assert_close(loaded.state[b]["sum"], torch.full((2,), 1.5))


# --------------------------------------------------------------------- state["step"]


@pytest.mark.parametrize("default_dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("foreach", [False, True])
@pytest.mark.parametrize("name", ["Adagrad", "RMSprop", "Adam", "AdamW"])
def test_step_counter_is_torchs(name, foreach, default_dtype):
    previous = torch.get_default_dtype()
    torch.set_default_dtype(default_dtype)
    try:
        p, q = torch.ones(3, requires_grad=True), torch.ones(3, requires_grad=True)
        mine = getattr(ours, name)([p], foreach=foreach)
        theirs = getattr(torch.optim, name)([q], foreach=foreach)
        for _ in range(3):
            p.grad, q.grad = torch.ones(3), torch.ones(3)
            mine.step()
            theirs.step()
    finally:
        torch.set_default_dtype(previous)
    assert_step_like_torch(mine.state[p]["step"], theirs.state[q]["step"], name)
    assert mine.state[p]["step"].item() == 3.0


def test_swats_counts_steps_like_torch_adam():
    p, q = torch.ones(3), torch.ones(3)
    mine, theirs = ours.SWATS([p], lr=0.01), torch.optim.Adam([q], lr=0.01)
    for _ in range(2):
        p.grad, q.grad = torch.tensor([1.0, -1.0, 2.0]), torch.tensor([1.0, -1.0, 2.0])
        mine.step()
        theirs.step()
    assert_step_like_torch(mine.state[p]["step"], theirs.state[q]["step"], "SWATS")
    assert mine.param_groups[0]["step"] == 2


def test_a_counter_set_by_hand_as_a_number_keeps_counting():
    p, q = torch.ones(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64)
    mine, theirs = ours.Adam([p], lr=0.1), torch.optim.Adam([q], lr=0.1)
    for optimizer, tensor in ((mine, p), (theirs, q)):
        tensor.grad = torch.ones(2, dtype=torch.float64)
        optimizer.step()
    mine.state[p]["step"] = 5
    theirs.state[q]["step"] = torch.tensor(5.0)
    for optimizer, tensor in ((mine, p), (theirs, q)):
        tensor.grad = torch.tensor([1.0, 3.0], dtype=torch.float64)
        optimizer.step()
    assert_step_like_torch(mine.state[p]["step"], theirs.state[q]["step"], "after 5")
    assert_close(p, q, "param")


@pytest.mark.parametrize("name", ["Adagrad", "RMSprop", "Adam"])
def test_functional_rules_keep_python_int_steps(name):
    rule = {
        "Adagrad": ours.adagrad_update,
        "RMSprop": ours.rmsprop_update,
        "Adam": ours.adam_update,
    }[name]
    param, state = torch.ones(2, dtype=torch.float64), None
    for _ in range(2):
        param, state = rule(param, torch.ones(2, dtype=torch.float64), state, lr=0.1)
    assert type(state["step"]) is int and state["step"] == 2
    _, state = rule(
        param, torch.ones(2, dtype=torch.float64), {**state, "step": torch.tensor(2.0)}, lr=0.1
    )
    assert type(state["step"]) is int and state["step"] == 3


@pytest.mark.parametrize("label", ["Adam amsgrad", "RMSprop centered momentum", "SGD momentum"])
def test_deepcopy_and_pickle_continue_like_the_original(label):
    name, options = CONFIGS[label]
    params = make_params(11)
    original = build(ours, name, params, options)
    grads = gradient_sequence(12, 6)
    for step_grads in grads[:3]:
        set_grads(params, step_grads)
        original.step()
    for copied in (copy.deepcopy(original), pickle.loads(pickle.dumps(original))):
        copied_params = [p for group in copied.param_groups for p in group["params"]]
        reference = copy.deepcopy(original)
        reference_params = [p for group in reference.param_groups for p in group["params"]]
        side_by_side(copied, copied_params, reference, reference_params, grads[3:], label)


# --------------------------------------------------------------------- argument checks

REFUSED_BY_TORCH = {
    "tensor lr, foreach=True": {"lr": torch.tensor(0.01), "foreach": True},
    "1-element tensor lr, foreach=True": {"lr": torch.tensor([0.01]), "foreach": True},
    "tensor lr of 2 elements": {"lr": torch.tensor([0.01, 0.02])},
    "tensor betas[0], float betas[1]": {"betas": (torch.tensor(0.9), 0.999)},
    "float betas[0], tensor betas[1]": {"betas": (0.9, torch.tensor(0.999))},
    "tensor betas, foreach=True": {
        "betas": (torch.tensor(0.9), torch.tensor(0.999)),
        "foreach": True,
    },
}
NAMED = {
    "tensor lr, foreach=True": "lr",
    "1-element tensor lr, foreach=True": "lr",
    "tensor lr of 2 elements": "lr",
    "tensor betas[0], float betas[1]": "betas",
    "float betas[0], tensor betas[1]": "betas",
    "tensor betas, foreach=True": "betas[0]",
}


def torch_error(name, kwargs):
    try:
        getattr(torch.optim, name)([torch.zeros(2)], **kwargs)
    except Exception as error:  # noqa: BLE001 - the oracle's exception type is the point
        return error
    return None


@pytest.mark.parametrize("case", REFUSED_BY_TORCH)
@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_tensor_hyperparameters_refused_like_torch(name, case):
    kwargs = REFUSED_BY_TORCH[case]
    expected = torch_error(name, kwargs)
    assert expected is not None, f"torch.optim.{name} accepts {case}"
    with pytest.raises(type(expected)) as raised:
        getattr(ours, name)([torch.zeros(2)], **kwargs)
    assert f"Invalid {NAMED[case]}" in str(raised.value)


@pytest.mark.parametrize("which", [0, 1])
@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_tensor_beta_of_two_elements_is_a_value_error(name, which):
    """torch.optim's own check raises ValueError("Tensor betas[i] must be 1-element"), but its
    range check runs first and raises RuntimeError (bool of a 2-element tensor); ours says
    ValueError, the type of every refused hyperparameter here."""
    betas = [torch.tensor(0.9), torch.tensor(0.999)]
    betas[which] = torch.tensor([0.9, 0.8])
    assert torch_error(name, {"betas": tuple(betas)}) is not None
    with pytest.raises(ValueError, match=rf"Invalid betas\[{which}\]: tensor of shape \(2,\)"):
        getattr(ours, name)([torch.zeros(2)], betas=tuple(betas))


def test_tensor_lr_with_foreach_is_refused_in_a_param_group_too():
    optimizer = ours.Adam([torch.zeros(2)], lr=0.01, foreach=True)
    with pytest.raises(ValueError, match="Invalid lr: a tensor with foreach=True"):
        optimizer.add_param_group({"params": [torch.zeros(2)], "lr": torch.tensor(0.01)})


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_tensor_betas_without_foreach_are_stored_and_used_like_torch(name):
    betas = (torch.tensor([0.8]), torch.tensor([[0.99]]))
    p, q = torch.ones(3), torch.ones(3)
    mine = getattr(ours, name)([p], lr=torch.tensor(0.01), betas=betas, foreach=False)
    theirs = getattr(torch.optim, name)([q], lr=torch.tensor(0.01), betas=betas, foreach=False)
    stored, expected = mine.param_groups[0]["betas"], theirs.param_groups[0]["betas"]
    assert type(stored) is type(expected)
    assert [b.shape for b in stored] == [b.shape for b in expected]
    for _ in range(5):
        p.grad, q.grad = torch.tensor([1.0, -2.0, 0.5]), torch.tensor([1.0, -2.0, 0.5])
        mine.step()
        theirs.step()
    torch.testing.assert_close(p, q)
