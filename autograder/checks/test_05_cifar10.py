"""Hidden checks of assignment 05 (training a CNN on CIFAR-10).

Everything runs on the CPU with small random tensors drawn from ``rng``. Networks are a
tiny CNN (convolution, BatchNorm with running statistics that are not the initial ones,
ReLU, max-pooling, linear layer) whose weights are made here and sent to the student's
process as arrays, so both sides run the same network. The reference values come from
``course_utils.cifar10`` (``evaluate``, ``WarmupLinearLR``), from ``torch.optim.SGD`` and
``torch.optim.Adam``, and from formulas worked out here. Augmentation is random, so its
checks test properties that any correct implementation has. The training-step check hands
the student's function torch's own SGD and ``LambdaLR``, so a wrong Task 05.5 or 05.7 does
not fail Task 05.4.

The rules the notebook states are checked too: Python floats where it says so (an
``expected_initial_loss`` may return any number or a 0-dim tensor; float32 results get
``rtol=1e-5``), a normalize that works on the images' device (the 'meta' device stands in
for a GPU), the dtype of the images kept, the model left in evaluation mode, forward
passes without autograd and in batches of ``batch_size`` (a forward pre-hook of the check
network records them), hyperparameter errors that name the parameter and its value, the
optimizers' memory in ``self.state`` (a run goes on in a new optimizer loaded from the
first one's ``state_dict()``), a ``LambdaLR`` from ``make_scheduler``, and the defaults.
"""

import math

import numpy as np
import torch
import torch.nn.functional as F

from autograder.checking import Drivers, expect_close, expect_equal, expect_true, fail, task
from course_utils.cifar10 import MEAN, STD, WarmupLinearLR, evaluate

REFERENCE_SETUP = "from course_utils.answers.cifar10 import *"
ANSWER_IMPORTS = ("math", "numpy", "torch")  # and the standard library: the notebook's rules
# imported by the grader while the zygote starts: the first torch.optim optimizer
# imports torch._dynamo on first use, 2 s of the self-check otherwise
GRADER_PRELOAD = ("torch._dynamo",)
# imported by the zygote before it forks a child: torch imports torch._dynamo on the
# first operation on the meta device (05.1's check), 2 s of every child otherwise
CHILD_PRELOAD = ("torch._dynamo",)

DRIVERS = Drivers(__file__)
_make_net = DRIVERS.load("make_check_net")  # the same definitions on the trusted side
_net = DRIVERS.load("check_net")

IMAGE_SHAPE = (3, 8, 8)


def _random_state(rng, num_classes):
    """Weights of the check network, with BatchNorm running statistics set at random."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(rng.integers(2**31)))
        net = _make_net(num_classes)
    state = {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}
    state["1.weight"] = rng.uniform(0.5, 2.0, 4).astype(np.float32)
    state["1.bias"] = rng.normal(0.0, 0.5, 4).astype(np.float32)
    state["1.running_mean"] = rng.normal(0.0, 0.5, 4).astype(np.float32)
    state["1.running_var"] = rng.uniform(0.3, 3.0, 4).astype(np.float32)
    state["1.num_batches_tracked"] = np.array(int(rng.integers(1, 100)), dtype=np.int64)
    return state


def _images(rng, n, dtype=np.float32):
    return rng.standard_normal((n, *IMAGE_SHAPE)).astype(dtype)


def _expect_python_float(kind, what, *, ints=False):
    """``kind`` (from the drivers' ``kind``) says a Python float (or, with ``ints``, an int)."""
    ok = kind.get("number") if ints else kind.get("float")
    expect_true(
        ok is True,
        f"{what} returned a {str(kind.get('type'))[:40]}; it should return a Python float"
        + (" (float(...) or .item() of a tensor)" if not ints else ""),
    )


def _expect_evaluation_passes(got, n, batch_size, passes, what):
    """Evaluation mode left on, no autograd, and batches of ``batch_size`` (the last one
    smaller), each image through the network ``passes`` times (TTA: image and mirror,
    in two passes or in one of the two concatenated)."""
    expect_true(
        got["training"] is False,
        f"{what} left the model in training mode; call "
        "model.eval() and leave the model in evaluation mode",
    )
    forwards = got["forwards"]
    if not forwards:  # the model's own hooks did not run (its layers called one by one)
        return
    recording = [i + 1 for i, (_, grad) in enumerate(forwards) if grad]
    expect_true(
        not recording,
        f"{what}: autograd was recording during forward pass {recording[:1]} of the model; "
        "run the forward passes under torch.no_grad()",
    )
    sizes = [size for size, _ in forwards]
    last = n % batch_size or batch_size
    separate = set(sizes) <= {batch_size, last}
    together = passes == 2 and set(sizes) <= {2 * batch_size, 2 * last}
    expect_true(
        sum(sizes) == passes * n and (separate or together),
        f"{what}: the model saw batches of {sorted(set(sizes))} images ({sum(sizes)} in all); "
        f"expected batches of {batch_size} images with a last one of {last}, "
        + ("each image and its mirror image once" if passes == 2 else "each image once"),
    )


def _expect_state_unchanged(got, sent, what):
    expect_true(isinstance(got, dict), f"{what}: could not read the model's state")
    for key, value in sent.items():
        expect_true(
            np.array_equal(np.asarray(got[key], dtype=np.float64), value.astype(np.float64)),
            f"{what} changed the model's {key!r} (BatchNorm statistics or weights); it must "
            "run the model in evaluation mode and leave it unchanged",
        )


# ----------------------------------------------------------------------------- 05.1


@task("05.1")
def test_normalize_matches_the_formula(student, rng):
    """normalize: float32 (x / 255 - mean_c) / std_c on random uint8 images of random sizes"""
    mean = np.array(MEAN).reshape(1, 3, 1, 1)
    std = np.array(STD).reshape(1, 3, 1, 1)
    for _ in range(3):
        shape = (int(rng.integers(1, 6)), 3, int(rng.integers(1, 13)), int(rng.integers(1, 13)))
        images = rng.integers(0, 256, shape).astype(np.uint8)
        images.flat[:2] = [0, 255]
        got = DRIVERS.run(student, "normalized", images=images)
        what = f"normalize of uint8 images of shape {shape}"
        expect_equal(got["dtype"], "torch.float32", what=f"{what}: dtype")
        expect_true(got["unchanged"], f"{what}: the input was modified")
        expected = (images / 255.0 - mean) / std
        expect_close(got["out"], expected, rtol=1e-5, atol=1e-5, what=what)


# The first operation on the meta device imports torch._dynamo (seconds), which the first
# torch.optim.Optimizer made in the student's process imports anyway (05.4 to 05.7).
@task("05.1")
def test_normalize_stays_on_the_images_device(student, rng):
    """normalize works on any device: on the 'meta' device, standing in for a GPU, too"""
    shape = [int(rng.integers(1, 6)), 3, int(rng.integers(1, 13)), int(rng.integers(1, 13))]
    got = DRIVERS.run(student, "normalized_on_meta", shape=shape)
    what = (
        f"normalize of uint8 images of shape {tuple(shape)} on the device 'meta' (tensors "
        "with a shape but no data, standing in for a GPU)"
    )
    if "error" in got:
        fail(
            f"{what} raised {str(got['error'])[:300]}; make every new tensor on the images' "
            "device (device=images.device), never assume the CPU"
        )
    expect_equal(got["device"], "meta", what=f"{what}: the result's device")
    expect_equal(got["dtype"], "torch.float32", what=f"{what}: dtype")
    expect_equal(got["shape"], shape, what=f"{what}: shape")


# ----------------------------------------------------------------------------- 05.2


def _crop_offsets(out, images, padding):
    """For each output image, its window offset (dy, dx) in the reflect-padded input, or -1."""
    n, _, h, w = images.shape
    padded = np.pad(images, ((0, 0), (0, 0), (padding, padding), (padding, padding)), "reflect")
    dy = np.full(n, -1)
    dx = np.full(n, -1)
    for oy in range(2 * padding + 1):
        for ox in range(2 * padding + 1):
            match = np.all(out == padded[:, :, oy : oy + h, ox : ox + w], axis=(1, 2, 3))
            dy[match], dx[match] = oy, ox
    return dy, dx


@task("05.2")
def test_random_crop_windows_offsets_and_seed(student, rng):
    """random_crop: windows of the reflect-padded image, every offset 0..2p, seeded by generator"""
    for dtype in (np.float32, np.float64):
        padding = int(rng.integers(1, 4))
        n = 400
        shape = (
            n,
            int(rng.integers(1, 4)),
            int(rng.integers(padding + 2, 11)),
            int(rng.integers(padding + 2, 11)),
        )
        images = rng.standard_normal(shape).astype(dtype)
        seeds = [int(s) for s in rng.integers(0, 2**31, 3)]
        got = DRIVERS.run(
            student,
            "cropped",
            images=images,
            padding=padding,
            seed=seeds[0],
            global_seeds=seeds[1:],
        )
        what = (
            f"random_crop({np.dtype(dtype).name} images of shape {shape}, padding={padding}, "
            "generator)"
        )
        out = np.asarray(got["out"])
        expect_equal(out.shape, shape, what=f"{what}: shape")
        expect_equal(got["dtype"], f"torch.{np.dtype(dtype).name}", what=f"{what}: dtype")
        expect_true(got["unchanged"], f"{what}: the input images were modified")
        dy, dx = _crop_offsets(out, images, padding)
        bad = np.flatnonzero(dy < 0)
        expect_true(
            bad.size == 0,
            f"{what}: {bad.size} of {n} outputs (e.g. image {bad[:1].tolist()}) are not an "
            f"{shape[2]} x {shape[3]} window of the image padded by reflection "
            "(F.pad(..., mode='reflect'))",
        )
        everything = set(range(2 * padding + 1))
        for name, offsets in (("vertical", dy), ("horizontal", dx)):
            seen = set(offsets.tolist())
            expect_true(
                seen == everything,
                f"{what}: over {n} images the {name} offsets were {sorted(seen)}; every offset "
                f"0..{2 * padding} should occur, drawn independently for each image",
            )
        expect_true(
            np.mean(dy == dx) < 0.6,
            f"{what}: the vertical and horizontal offsets are equal for {np.mean(dy == dx):.0%} "
            "of the images; draw them independently",
        )
        expect_true(
            np.array_equal(out, np.asarray(got["again"])),
            f"{what}: two generators with the same seed gave different crops (draw every random "
            "number from `generator`, not from the global random state)",
        )


@task("05.2")
def test_random_flip_mirrors_half_of_the_images(student, rng):
    """random_flip: each image or its left-right mirror, about half flipped, seeded by generator"""
    n = 400
    shape = (n, int(rng.integers(1, 4)), int(rng.integers(2, 9)), int(rng.integers(2, 9)))
    images = rng.standard_normal(shape)  # float64: the dtype is kept, whatever it is
    seeds = [int(s) for s in rng.integers(0, 2**30, 3)]
    got = DRIVERS.run(student, "flipped", images=images, seed=seeds[0], global_seeds=seeds[1:])
    what = f"random_flip(float64 images of shape {shape}, generator)"
    out = np.asarray(got["out"])
    expect_equal(out.shape, shape, what=f"{what}: shape")
    expect_equal(got["dtype"], "torch.float64", what=f"{what}: dtype")
    expect_true(got["unchanged"], f"{what}: the input images were modified")
    same = np.all(out == images, axis=(1, 2, 3))
    mirrored = np.all(out == images[..., ::-1], axis=(1, 2, 3))
    neither = np.flatnonzero(~(same | mirrored))
    expect_true(
        neither.size == 0,
        f"{what}: {neither.size} of {n} outputs are neither the image nor its left-right mirror "
        "image (reverse the last axis, the columns)",
    )
    count, bound = int(mirrored.sum()), 5 * math.sqrt(n) / 2
    expect_true(
        abs(count - n / 2) <= bound,
        f"{what}: {count} of {n} images were flipped; with probability 1/2 per image, between "
        f"{math.ceil(n / 2 - bound)} and {math.floor(n / 2 + bound)} were expected",
    )
    expect_true(
        np.array_equal(out, np.asarray(got["again"])),
        f"{what}: two generators with the same seed gave different flips (draw every random "
        "number from `generator`, not from the global random state)",
    )
    expect_true(
        np.array_equal(np.asarray(got["twice"]), images),
        f"{what}: flipping twice with generators of the same seed should give the images back",
    )


# ----------------------------------------------------------------------------- 05.3


@task("05.3")
def test_mean_loss_batches_in_evaluation_mode(student, rng):
    """mean_loss: mean cross-entropy in evaluation mode, a smaller last batch weighted right"""
    for case in range(3):
        num_classes = int(rng.integers(3, 11))
        batch_size = int(rng.integers(3, 10)) if case < 2 else None  # None: the default 512
        if batch_size is None:
            n = 512 + int(rng.integers(1, 40))
        else:
            n = batch_size * int(rng.integers(3, 7)) + int(rng.integers(1, batch_size))
        state = _random_state(rng, num_classes)
        images = _images(rng, n)
        labels = rng.integers(0, num_classes, n)
        got = DRIVERS.run(
            student,
            "mean_loss_of",
            state=state,
            num_classes=num_classes,
            images=images,
            labels=labels,
            batch_size=batch_size,
        )
        size = 512 if batch_size is None else batch_size
        what = f"mean_loss(model, {n} images, labels" + (
            ")" if batch_size is None else f", batch_size={batch_size})"
        )
        net = _net(state, num_classes, torch.float64)
        expected, _ = evaluate(
            net,
            torch.as_tensor(images, dtype=torch.float64),
            torch.as_tensor(labels),
            batch_size=size,
            tta=False,
        )
        _expect_python_float(got["kind"], what)
        expect_close(got["loss"], expected, rtol=1e-4, what=what)
        _expect_state_unchanged(got["state"], state, what)
        _expect_evaluation_passes(got, n, size, 1, what)


@task("05.3")
def test_expected_initial_loss_is_log_of_classes(student, rng):
    """expected_initial_loss(C) = ln C, the cross-entropy of a uniform prediction"""
    # any number or 0-dim tensor; float32 results are compared with rtol=1e-5, as the
    # notebook says, which still tells ln C from every other formula for it
    for num_classes in [10, *(int(c) for c in rng.integers(2, 1000, 3))]:
        got = student.call("expected_initial_loss", num_classes)
        expect_close(
            got, math.log(num_classes), rtol=1e-5, what=f"expected_initial_loss({num_classes})"
        )


# ----------------------------------------------------------------------------- 05.4


def _reference_steps(state, num_classes, batches, labels, *, lr, momentum, factors, smoothing):
    net = _net(state, num_classes, torch.float64)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum)
    losses, states, rates = [], [], []
    for k, (x, y) in enumerate(zip(batches, labels, strict=True)):
        if factors is not None:
            optimizer.param_groups[0]["lr"] = lr * factors[k]
        net.train()
        optimizer.zero_grad()
        loss = F.cross_entropy(
            net(torch.as_tensor(x)), torch.as_tensor(y), label_smoothing=smoothing
        )
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        states.append({key: v.detach().numpy().copy() for key, v in net.state_dict().items()})
        rates.append(lr * factors[k + 1] if factors is not None else lr)
    return losses, states, rates


@task("05.4")
def test_train_step_matches_a_reference_loop(student, rng):
    """train_step: training mode, zero_grad, smoothed loss, backward, step, then scheduler"""
    for use_scheduler in (True, False):
        num_classes = int(rng.integers(3, 8))
        num_steps = int(rng.integers(3, 6))
        state = _random_state(rng, num_classes)
        batches = [_images(rng, int(rng.integers(6, 12)), np.float64) for _ in range(num_steps)]
        labels = [rng.integers(0, num_classes, len(x)) for x in batches]
        factors = rng.uniform(0.2, 1.5, num_steps + 1).tolist() if use_scheduler else None
        hyper = dict(
            lr=float(rng.uniform(0.05, 0.3)),
            momentum=float(rng.uniform(0.5, 0.95)),
            label_smoothing=float(rng.uniform(0.05, 0.3)) if use_scheduler else None,
        )
        got = DRIVERS.run(
            student,
            "train_steps",
            state=state,
            num_classes=num_classes,
            batches=batches,
            labels=labels,
            factors=factors,
            **hyper,
        )
        losses, states, rates = _reference_steps(
            state,
            num_classes,
            batches,
            labels,
            lr=hyper["lr"],
            momentum=hyper["momentum"],
            factors=factors,
            smoothing=hyper["label_smoothing"] or 0.0,
        )
        smoothing = (
            "label_smoothing left out (default 0)"
            if hyper["label_smoothing"] is None
            else f"label_smoothing={hyper['label_smoothing']:.3g}"
        )
        what = (
            f"{num_steps} train_step calls with SGD(lr={hyper['lr']:.3g}, "
            f"momentum={hyper['momentum']:.3g}), {smoothing}, "
            + ("a LambdaLR scheduler" if use_scheduler else "scheduler=None")
            + ", starting from evaluation mode"
        )
        for k, loss_kind in enumerate(got["kinds"]):
            _expect_python_float(loss_kind, f"{what}: step {k + 1}")
        expect_close(
            got["losses"], losses, rtol=1e-8, what=f"{what}: the returned losses of each step"
        )
        for k, (got_state, expected_state) in enumerate(zip(got["states"], states, strict=True)):
            for key, value in expected_state.items():
                expect_close(
                    got_state[key],
                    value,
                    rtol=1e-8,
                    atol=1e-10,
                    what=f"{what}: the model's {key!r} after step {k + 1}",
                )
        expect_close(
            got["rates"], rates, rtol=1e-12, what=f"{what}: the learning rate after each step"
        )


# ----------------------------------------------------------------------------- 05.5, 05.6

# Runs the optimizer class NAME over `grads` (None: no gradient for that parameter at that
# step); at step `change_at` each group's rate is multiplied by its factor.


def _optimizer_case(rng, num_steps):
    shapes = [(int(rng.integers(1, 5)), int(rng.integers(1, 5))), (int(rng.integers(1, 6)),)]
    shapes.append((int(rng.integers(2, 4)), int(rng.integers(1, 4))))
    init = [rng.standard_normal(s) for s in shapes]
    grads = []
    for _ in range(num_steps):
        scale = float(np.exp(rng.uniform(np.log(1e-2), np.log(3.0))))
        grads.append(
            [None if rng.random() < 0.15 else scale * rng.standard_normal(s) for s in shapes]
        )
    return init, grads


def _torch_iterates(make_torch, init, grads, second_group, change_at, factors):
    params = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in init]
    groups = [{"params": params[:2]}, dict(second_group, params=params[2:])]
    optimizer = make_torch(groups)
    iterates = []
    for k, step_grads in enumerate(grads):
        for p, g in zip(params, step_grads, strict=True):
            p.grad = None if g is None else torch.tensor(g, dtype=torch.float64)
        if k == change_at:
            for group, factor in zip(optimizer.param_groups, factors, strict=True):
                group["lr"] *= factor
        optimizer.step()
        iterates.append([p.detach().numpy().copy() for p in params])
    return iterates


def _describe(options):
    return ", ".join(
        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v!r}" for k, v in options.items()
    )


def _check_optimizer(student, rng, name, torch_name, make_torch, defaults, second_group):
    """Run the student's optimizer and torch's (made by ``make_torch(groups)``) side by side."""
    num_steps = int(rng.integers(15, 26))
    init, grads = _optimizer_case(rng, num_steps)
    change_at = int(rng.integers(2, num_steps - 2))
    factors = rng.uniform(0.2, 2.0, 2).tolist()
    got = DRIVERS.run(
        student,
        "optimizer_run",
        name=name,
        init=init,
        grads=grads,
        defaults=defaults,
        second_group=second_group,
        change_at=change_at,
        factors=factors,
    )
    expected = _torch_iterates(make_torch, init, grads, second_group, change_at, factors)
    what = (
        f"{name}(params, {_describe(defaults)}) with a second param group "
        f"{{{_describe(second_group)}}}, rates changed before step {change_at + 1}, and from "
        f"step {change_at + 2} on a new {name} loaded from the first one's state_dict()"
    )
    expect_equal(len(got["iterates"]), num_steps, what=f"{what}: number of steps")
    for k, (mine, theirs) in enumerate(zip(got["iterates"], expected, strict=True)):
        for i, (p, q) in enumerate(zip(mine, theirs, strict=True)):
            skipped = " (its gradient was None at this step)" if grads[k][i] is None else ""
            expect_close(
                p,
                q,
                rtol=1e-10,
                atol=1e-12,
                what=f"{what}: parameter {i} after step {k + 1}{skipped}, compared with "
                f"{torch_name}",
            )
    expect_true(not got["grad_modified"], f"{what}: step() modified p.grad in place")


def _check_invalid(student, name, cases):
    """Each case is ``(kwargs, parameter, value, spellings of the parameter's name)``: the
    constructor raises a ValueError whose message names the parameter and its value."""
    got = DRIVERS.run(student, "refusals", name=name, cases=[kwargs for kwargs, *_ in cases])
    for (kwargs, parameter, value, names), (outcome, message) in zip(cases, got, strict=True):
        call = f"{name}(params, {_describe(kwargs)})"
        expect_equal(outcome, "ValueError", what=f"{call}: what happened")
        text = str(message)
        expect_true(
            any(spelling in text.lower() for spelling in names) and f"{value:g}" in text,
            f"{call} raised ValueError({text[:200]!r}); the message should name the parameter "
            f"({parameter}) and its value ({value:g}), e.g. 'Invalid {parameter}: {value:g}'",
        )


@task("05.5")
def test_nesterov_sgd_matches_torch_sgd(student, rng):
    """NesterovSGD equals torch.optim.SGD step by step: two param groups, None gradients"""
    cases = [
        (dict(lr=float(rng.uniform(0.01, 0.3))), dict(lr=float(rng.uniform(0.01, 0.3)))),
        (
            dict(
                lr=float(rng.uniform(0.01, 0.3)),
                momentum=float(rng.uniform(0.5, 0.99)),
                weight_decay=float(rng.uniform(1e-3, 0.1)),
            ),
            dict(momentum=0.0, nesterov=False, weight_decay=0.0),
        ),
        (
            dict(
                lr=float(rng.uniform(0.01, 0.3)),
                momentum=float(rng.uniform(0.5, 0.99)),
                nesterov=False,
            ),
            dict(lr=float(rng.uniform(0.01, 0.3)), weight_decay=float(rng.uniform(1e-3, 0.1))),
        ),
        # the boundaries torch accepts: lr = 0 and momentum = 0 (constructor), momentum and
        # weight_decay of exactly 1 (a group)
        (
            dict(lr=0.0, momentum=0.0, nesterov=False),
            dict(lr=float(rng.uniform(0.01, 0.1)), momentum=1.0, weight_decay=1.0, nesterov=True),
        ),
    ]
    for defaults, second_group in cases:
        torch_defaults = {"momentum": 0.9, "nesterov": True, **defaults}
        _check_optimizer(
            student,
            rng,
            "NesterovSGD",
            "torch.optim.SGD",
            lambda groups, d=torch_defaults: torch.optim.SGD(groups, foreach=False, **d),
            defaults,
            second_group,
        )


# Values that print the same in every usual format ({v}, {v:g}, {v:.2f}, ...).
SHORT_NEGATIVES = [-0.1, -0.25, -0.3, -0.5, -0.75, -1.5, -2.5]
LR_NAMES = ("lr", "learning rate", "learning_rate", "alpha", "α")


@task("05.5")
def test_nesterov_sgd_rejects_invalid_hyperparameters(student, rng):
    """NesterovSGD raises ValueError naming the parameter and its value: lr, momentum, decay < 0"""
    lr, momentum, decay = (float(v) for v in rng.choice(SHORT_NEGATIVES, 3))
    cases = [
        (dict(lr=lr), "lr", lr, LR_NAMES),
        (dict(lr=0.1, momentum=momentum), "momentum", momentum, ("momentum", "μ")),
        (dict(lr=0.1, weight_decay=decay), "weight_decay", decay, ("decay", "λ")),
    ]
    _check_invalid(student, "NesterovSGD", cases)


@task("05.6")
def test_adam_matches_torch_adam(student, rng):
    """Adam equals torch.optim.Adam step by step: two param groups, None gradients, weight decay"""
    cases = [
        (dict(lr=float(10 ** rng.uniform(-3, -1.5))), dict(lr=float(10 ** rng.uniform(-3, -1.5)))),
        (
            dict(
                lr=float(10 ** rng.uniform(-3, -1.5)),
                betas=(float(rng.uniform(0.5, 0.95)), float(rng.uniform(0.9, 0.999))),
                eps=float(10 ** rng.uniform(-8, -3)),
                weight_decay=float(rng.uniform(1e-3, 0.1)),
            ),
            dict(
                betas=(float(rng.uniform(0.5, 0.95)), float(rng.uniform(0.9, 0.999))),
                weight_decay=0.0,
            ),
        ),
        # the boundaries torch accepts: lr = 0 and beta1 = 0 (constructor), weight_decay of
        # exactly 1 (a group)
        (
            dict(lr=0.0, betas=(0.0, float(rng.uniform(0.9, 0.999)))),
            dict(lr=float(10 ** rng.uniform(-3, -1.5)), weight_decay=1.0),
        ),
    ]
    for defaults, second_group in cases:
        _check_optimizer(
            student,
            rng,
            "Adam",
            "torch.optim.Adam",
            lambda groups, d=defaults: torch.optim.Adam(groups, foreach=False, **d),
            defaults,
            second_group,
        )


@task("05.6")
def test_adam_rejects_invalid_hyperparameters(student, rng):
    """Adam raises ValueError naming the parameter and its value: lr < 0, a beta outside [0, 1)"""
    lr, low = (float(v) for v in rng.choice(SHORT_NEGATIVES, 2))
    high = float(rng.choice([1.25, 1.5, 2.5]))
    beta = ("beta", "β")
    cases = [
        (dict(lr=lr), "lr", lr, LR_NAMES),
        (dict(betas=(1.0, 0.999)), "betas[0]", 1.0, beta),
        (dict(betas=(0.9, high)), "betas[1]", high, beta),
        (dict(betas=(low, 0.999)), "betas[0]", low, beta),
    ]
    _check_invalid(student, "Adam", cases)


# ----------------------------------------------------------------------------- 05.7


def _reference_rates(lrs, warmup_steps, total_steps, num_steps):
    """Rates of each param group of WarmupLinearLR before each of num_steps steps."""
    groups = [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs]
    optimizer = torch.optim.SGD(groups, lr=1.0)
    scheduler = WarmupLinearLR(optimizer, warmup_steps, total_steps)
    rates = []
    for _ in range(num_steps):
        rates.append([group["lr"] for group in optimizer.param_groups])
        optimizer.step()
        scheduler.step()
    return np.array(rates)


def _warmup_cases(rng):
    warmup = int(rng.integers(1, 20))
    return [
        (warmup, warmup + int(rng.integers(1, 60))),
        (0, int(rng.integers(1, 40))),
        (1, int(rng.integers(2, 30))),
    ]


@task("05.7")
def test_warmup_linear_multiplier(student, rng):
    """warmup_linear: t / W during the warm-up, then linearly to 0 at T, 0 after T"""
    for warmup_steps, total_steps in _warmup_cases(rng):
        steps = list(range(total_steps + 4))
        got = DRIVERS.run(
            student, "multipliers", warmup_steps=warmup_steps, total_steps=total_steps, steps=steps
        )
        expected = _reference_rates([1.0], warmup_steps, total_steps, len(steps))[:, 0]
        for t, value_kind in zip(steps, got["kinds"], strict=True):
            _expect_python_float(
                value_kind, f"warmup_linear({t}, {warmup_steps}, {total_steps})", ints=True
            )
        expect_close(
            got["values"],
            expected,
            rtol=1e-10,
            atol=1e-12,
            what=f"warmup_linear(t, {warmup_steps}, {total_steps}) for t = 0..{steps[-1]}",
        )


@task("05.7")
def test_make_scheduler_rates_of_each_group(student, rng):
    """make_scheduler: the rate of each of two param groups after every scheduler.step()"""
    for warmup_steps, total_steps in _warmup_cases(rng):
        lrs = [float(10 ** rng.uniform(-3, 0)) for _ in range(2)]
        num_steps = total_steps + 3
        got = DRIVERS.run(
            student,
            "scheduled_rates",
            lrs=lrs,
            warmup_steps=warmup_steps,
            total_steps=total_steps,
            num_steps=num_steps,
        )
        expected = _reference_rates(lrs, warmup_steps, total_steps, num_steps)
        expect_true(
            got["lambda_lr"] is True,
            f"make_scheduler(optimizer, {warmup_steps}, {total_steps}) returned a "
            f"{str(got['type'])[:40]}; it should return a torch.optim.lr_scheduler.LambdaLR "
            "built on warmup_linear",
        )
        expect_close(
            got["rates"],
            expected,
            rtol=1e-10,
            atol=1e-12,
            what=f"rates of two groups (initial rates {lrs[0]:.4g}, {lrs[1]:.4g}) under "
            f"make_scheduler(optimizer, {warmup_steps}, {total_steps}), one row per step",
        )


# ----------------------------------------------------------------------------- 05.8


def _evaluation_case(rng, n=None):
    """A network, images and labels for which the accuracy with and without TTA differ."""
    for _ in range(20):
        num_classes = int(rng.integers(3, 8))
        state = _random_state(rng, num_classes)
        n = int(rng.integers(40, 90)) if n is None else n
        images = _images(rng, n, np.float64)
        net = _net(state, num_classes, torch.float64).eval()
        with torch.no_grad():
            x = torch.as_tensor(images)
            logits = net(x)
            plain = logits.argmax(1).numpy()
            tta = (logits + net(x.flip(-1))).argmax(1).numpy()
        labels = rng.integers(0, num_classes, n)
        agree_with_tta = rng.random(n) < 0.5
        labels[agree_with_tta] = tta[agree_with_tta]
        if np.mean(labels == tta) != np.mean(labels == plain):
            return state, num_classes, images, labels
    raise RuntimeError("could not draw a network for which TTA changes the accuracy")


@task("05.8")
def test_evaluate_with_and_without_tta(student, rng):
    """evaluate: accuracy in evaluation mode, with flip TTA and without, batch by batch"""
    for _ in range(2):
        state, num_classes, images, labels = _evaluation_case(rng)
        n = len(images)
        batch_size = int(rng.integers(4, 17))
        if n % batch_size == 0:
            batch_size += 1
        options = [dict(batch_size=batch_size, tta=True), dict(batch_size=batch_size, tta=False)]
        _check_evaluate(student, state, num_classes, images, labels, options)


@task("05.8")
def test_evaluate_defaults(student, rng):
    """evaluate(model, images, labels): the defaults, batches of 1024 and flip TTA"""
    state, num_classes, images, labels = _evaluation_case(rng, 1024 + int(rng.integers(1, 40)))
    _check_evaluate(student, state, num_classes, images, labels, [{}])


def _check_evaluate(student, state, num_classes, images, labels, options):
    got = DRIVERS.run(
        student,
        "evaluated",
        state=state,
        num_classes=num_classes,
        images=images,
        labels=labels,
        options=options,
    )
    n = len(images)
    net = _net(state, num_classes, torch.float64)
    x, y = torch.as_tensor(images), torch.as_tensor(labels)
    for kwargs, run in zip(options, got["runs"], strict=True):
        batch_size, tta = kwargs.get("batch_size", 1024), kwargs.get("tta", True)
        what = (
            f"evaluate(model, {n} images, labels{''.join(f', {k}={v}' for k, v in kwargs.items())})"
        )
        _expect_python_float(run["kind"], what)
        expected = evaluate(net, x, y, batch_size=batch_size, tta=tta)[1]
        # an accuracy is k / n: rtol 1e-5 (float32 results, as the notebook says) still
        # tells apart counts that differ by one image for n < 100000
        expect_close(run["accuracy"], expected, rtol=1e-5, atol=1e-12, what=what)
        _expect_evaluation_passes(run, n, batch_size, 2 if tta else 1, what)
    _expect_state_unchanged(got["state"], state, f"evaluate over {n} images")
