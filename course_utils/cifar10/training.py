"""Training on CIFAR-10 with the whole dataset on the device.

The recipe of the fast CIFAR-10 scripts (airbench): the images are moved to the device
once and normalized once (channels_last); each batch is gathered from that tensor by a
random permutation and augmented on the device; the forward pass runs under bf16
autocast on CUDA; the loss is cross-entropy with label smoothing; the test accuracy uses
flip test-time augmentation (the logits of the image and of its mirror image are added).

Optimizers and schedules are the course's own (:mod:`course_utils.optim`,
:mod:`course_utils.schedules`), chosen by name from :data:`OPTIMIZERS` and
:data:`SCHEDULES`. Add your own with :func:`register_optimizer` and
:func:`register_schedule`. The default is SGD with Nesterov momentum 0.9 and a linear
warm-up followed by a linear decay to zero, stepped after every batch.

On the CPU with a seed, two runs give identical metrics: shuffling and augmentation draw
from a ``torch.Generator`` seeded from ``seed``, the model is initialized under a forked
global RNG seeded the same way, and deterministic algorithms are switched on for the run.
"""

import contextlib
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from course_helpers.cifar10.models import MODELS, build_model
from course_utils import optim, schedules
from course_utils.cifar10 import distributed
from course_utils.cifar10.augmentation import PAD_MODES, augment
from course_utils.cifar10.data import NUM_CLASSES, normalize


def _sgd(params, *, lr, momentum, weight_decay):
    return optim.SGD(
        params, lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=momentum > 0
    )


def _adam(params, *, lr, momentum, weight_decay):
    return optim.Adam(params, lr=lr, betas=(momentum, 0.999), weight_decay=weight_decay)


def _adamw(params, *, lr, momentum, weight_decay):
    return optim.AdamW(params, lr=lr, betas=(momentum, 0.999), weight_decay=weight_decay)


def _rmsprop(params, *, lr, momentum, weight_decay):
    return optim.RMSprop(params, lr=lr, momentum=momentum, weight_decay=weight_decay)


def _adagrad(params, *, lr, momentum, weight_decay):
    return optim.Adagrad(params, lr=lr, weight_decay=weight_decay)


def _swats(params, *, lr, momentum, weight_decay):
    return optim.SWATS(params, lr=lr, betas=(momentum, 0.999), weight_decay=weight_decay)


OPTIMIZERS = {
    "sgd": _sgd,
    "adam": _adam,
    "adamw": _adamw,
    "rmsprop": _rmsprop,
    "adagrad": _adagrad,
    "swats": _swats,
}
"""Optimizer factories ``f(params, *, lr, momentum, weight_decay) -> Optimizer``.

``momentum`` is SGD's and RMSprop's momentum (Nesterov for SGD when > 0) and Adam's
:math:`\\beta_1`; Adagrad ignores it."""


class WarmupLinearLR(schedules.ScheduleLR):
    r"""Linear warm-up from 0 to ``initial_lr`` over ``W`` steps, then linear decay to 0 at ``T``.

    .. math:: \alpha_t = \begin{cases} \alpha_0\, t / W & t < W \\
              \alpha_0 \left(1 - \min(t - W, T - W)/(T - W)\right) & t \ge W \end{cases}

    The schedule is :func:`course_utils.schedules.warmup_linear_schedule`: two linear
    pieces joined at ``W``.
    """

    def __init__(self, optimizer, warmup_steps, total_steps, last_epoch=-1):
        schedules.warmup_linear_schedule(0.0, warmup_steps, total_steps)
        self.warmup_steps = warmup_steps
        self.total_steps = total_steps
        super().__init__(optimizer, self._make, last_epoch)

    def _schedule_key(self):
        return (self.warmup_steps, self.total_steps)

    def _make(self, base):
        return schedules.warmup_linear_schedule(base, self.warmup_steps, self.total_steps)


def _warmup_linear(optimizer, *, total_steps, warmup_steps):
    return WarmupLinearLR(optimizer, warmup_steps, total_steps)


def _warmup_cosine(optimizer, *, total_steps, warmup_steps):
    return schedules.WarmupCosineLR(optimizer, warmup_steps, total_steps)


def _cosine(optimizer, *, total_steps, warmup_steps):
    return schedules.CosineAnnealingLR(optimizer, T_max=total_steps)


def _onecycle(optimizer, *, total_steps, warmup_steps):
    lr = optimizer.param_groups[0]["lr"]
    return schedules.OneCycleLR(optimizer, max_lr=lr, total_steps=total_steps, cycle_momentum=False)


def _constant(optimizer, *, total_steps, warmup_steps):
    return schedules.LinearLR(optimizer, start_factor=1.0, end_factor=1.0, total_iters=1)


SCHEDULES = {
    "warmup_linear": _warmup_linear,
    "warmup_cosine": _warmup_cosine,
    "cosine": _cosine,
    "onecycle": _onecycle,
    "constant": _constant,
}
"""Schedule factories ``f(optimizer, *, total_steps, warmup_steps) -> scheduler``; the
scheduler's ``step()`` is called after every batch. ``onecycle`` peaks at the ``lr``
given and keeps the momentum fixed."""


def _register(registry, kind, name, factory, overwrite):
    if not (isinstance(name, str) and name):
        raise ValueError(f"Invalid name: {name!r} (name must be a non-empty string)")
    if not callable(factory):
        raise ValueError(f"Invalid factory: {factory!r} (factory must be callable)")
    if name in registry and not overwrite:
        raise ValueError(
            f"Invalid name: {name!r} (a {kind} of that name exists; pass "
            "overwrite=True to replace it)"
        )
    registry[name] = factory


def register_optimizer(name, factory, *, overwrite=False):
    """Make ``factory(params, *, lr, momentum, weight_decay)`` selectable as ``name``."""
    _register(OPTIMIZERS, "optimizer", name, factory, overwrite)


def register_schedule(name, factory, *, overwrite=False):
    """Make ``factory(optimizer, *, total_steps, warmup_steps)`` selectable as ``name``."""
    _register(SCHEDULES, "schedule", name, factory, overwrite)


DTYPES = {"float32": torch.float32, "float64": torch.float64}
"""Parameter and activation dtypes. float64 is for exact comparisons on the CPU (the
float32 rounding of a forward pass can flip which input a max-pooling window picks, so
two float32 runs that sum in different orders can drift apart); on CUDA the forward pass
runs under bf16 autocast either way."""


@dataclass
class TrainConfig:
    """Hyperparameters of one run. ``batch_size`` counts images per optimizer step."""

    epochs: int = 10
    batch_size: int = 512
    optimizer: str = "sgd"
    lr: float = 0.2
    momentum: float = 0.9
    weight_decay: float = 5e-4
    schedule: str = "warmup_linear"
    warmup_fraction: float = 0.2
    label_smoothing: float = 0.2
    model: str = "fastnet"
    width: int = 64
    crop_padding: int = 4
    pad_mode: str = "reflect"
    flip: bool = True
    cutout: int = 0
    tta: bool = True
    compile: bool = False
    device: str = "auto"
    dtype: str = "float32"
    seed: int = 0
    limit_train: int | None = None
    limit_test: int | None = None
    eval_batch_size: int = 1024

    def __post_init__(self):
        for name in ("epochs", "batch_size", "width", "eval_batch_size"):
            _check_int(name, getattr(self, name), 1)
        for name in ("crop_padding", "cutout", "seed"):
            _check_int(name, getattr(self, name), 0)
        for name in ("limit_train", "limit_test"):
            if getattr(self, name) is not None:
                _check_int(name, getattr(self, name), 1)
        _check_range("lr", self.lr, 0.0, math.inf)
        _check_range("momentum", self.momentum, 0.0, 1.0, high_open=True)
        _check_range("weight_decay", self.weight_decay, 0.0, math.inf)
        _check_range("warmup_fraction", self.warmup_fraction, 0.0, 1.0, high_open=True)
        _check_range("label_smoothing", self.label_smoothing, 0.0, 1.0, high_open=True)
        _check_choice("optimizer", self.optimizer, OPTIMIZERS)
        _check_choice("schedule", self.schedule, SCHEDULES)
        _check_choice("model", self.model, MODELS)
        _check_choice("pad_mode", self.pad_mode, PAD_MODES)
        _check_choice("device", self.device, ("auto", "cpu", "cuda"))
        _check_choice("dtype", self.dtype, DTYPES)


def _check_int(name, value, low):
    if not (isinstance(value, int) and not isinstance(value, bool) and value >= low):
        raise ValueError(f"Invalid {name}: {value!r} ({name} must be an integer >= {low})")


def _check_range(name, value, low, high, high_open=False):
    ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= low
    ok = ok and (value < high if high_open else value <= high) and math.isfinite(value)
    if not ok:
        bracket = ")" if high_open else "]"
        raise ValueError(f"Invalid {name}: {value!r} ({name} must be in [{low}, {high}{bracket})")


def _check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"Invalid {name}: {value!r} ({name} must be one of {sorted(choices)})")


def resolve_device(name):
    """``"auto"`` is CUDA when available, else the CPU; ``"cuda"`` without CUDA raises."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("Invalid device: 'cuda' (no CUDA device is available)")
    return torch.device(name)


class Timer:
    """Elapsed seconds between :meth:`start` and :meth:`stop`.

    On CUDA two CUDA events are recorded in the stream and their difference is read after
    synchronizing (so queued kernels are counted); on the CPU ``time.perf_counter``.
    """

    def __init__(self, device):
        self.cuda = device.type == "cuda"
        if self.cuda:
            self._begin = torch.cuda.Event(enable_timing=True)
            self._end = torch.cuda.Event(enable_timing=True)

    def start(self):
        if self.cuda:
            self._begin.record()
        else:
            self._t0 = time.perf_counter()

    def stop(self):
        if self.cuda:
            self._end.record()
            self._end.synchronize()
            return self._begin.elapsed_time(self._end) / 1000.0
        return time.perf_counter() - self._t0


@contextlib.contextmanager
def _deterministic(enabled):
    previous = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(enabled or previous)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous)


def _at_least_float32(x):
    """bf16 logits (autocast) to float32; float32 and float64 unchanged."""
    return x.to(torch.promote_types(x.dtype, torch.float32))


def _autocast(device):
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")


def _evaluate_sums(model, images, labels, batch_size, tta):
    model.eval()
    total_loss = torch.zeros((), dtype=torch.float64, device=images.device)
    correct = torch.zeros((), dtype=torch.float64, device=images.device)
    with torch.no_grad(), _autocast(images.device):
        for i in range(0, len(images), batch_size):
            x, y = images[i : i + batch_size], labels[i : i + batch_size]
            logits = _at_least_float32(model(x))
            if tta:
                logits = logits + _at_least_float32(model(x.flip(-1)))
            total_loss += F.cross_entropy(logits, y, reduction="sum").double()
            correct += (logits.argmax(1) == y).sum()
    return torch.stack([total_loss, correct])


def evaluate(model, images, labels, *, batch_size=1024, tta=True):
    """Mean cross-entropy and accuracy of ``model`` on normalized ``images``.

    With ``tta`` the logits are those of the image plus those of its mirror image.
    """
    total_loss, correct = _evaluate_sums(model, images, labels, batch_size, tta).tolist()
    return total_loss / len(images), correct / len(images)


def train(config, data, *, progress=False, return_model=False):
    """Train ``config.model`` on ``data`` (a :class:`~course_utils.cifar10.data.CIFAR10`).

    Returns the metrics as a dict: the config, the device, the number of parameters, the
    number of processes, one entry per epoch (``train_loss``, ``train_accuracy``,
    ``test_loss``, ``test_accuracy``, ``lr``, ``epoch_time_s``, ``images_per_s``; the
    time counts the training steps only, the slowest rank's), the final test accuracy, the
    total training time and the mean images per second. With ``return_model`` it returns
    ``(metrics, model)``.

    Started by ``torchrun`` with several processes, each rank computes its shard of every
    global batch of ``config.batch_size`` images and the result equals one process on the
    same global batches up to rounding (see :mod:`course_utils.cifar10.distributed`); the
    test set is split between the ranks too.
    """
    ctx, device = distributed.init(resolve_device(config.device))
    dtype = DTYPES[config.dtype]
    train_x = normalize(data.train_images[: config.limit_train], device).to(dtype)
    train_y = torch.as_tensor(data.train_labels[: config.limit_train], device=device)
    test_size = len(data.test_images[: config.limit_test])
    test_start, test_stop = distributed.shard_bounds(test_size, ctx.rank, ctx.world_size)
    test_x = normalize(data.test_images[test_start:test_stop], device).to(dtype)
    test_y = torch.as_tensor(data.test_labels[test_start:test_stop], device=device)
    n = len(train_x)
    steps_per_epoch = math.ceil(n / config.batch_size)
    total_steps = config.epochs * steps_per_epoch
    warmup_steps = min(round(config.warmup_fraction * total_steps), total_steps - 1)

    with _deterministic(device.type == "cpu"), torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = build_model(config.model, NUM_CLASSES, config.width).to(device, dtype)
        if ctx.world_size > 1:
            model = distributed.synchronize_batchnorm(model, device)
        forward = distributed.data_parallel(model, ctx, device)
        generator = torch.Generator(device=device).manual_seed(config.seed)
        optimizer = OPTIMIZERS[config.optimizer](
            model.parameters(),
            lr=config.lr,
            momentum=config.momentum,
            weight_decay=config.weight_decay,
        )
        scheduler = SCHEDULES[config.schedule](
            optimizer, total_steps=total_steps, warmup_steps=warmup_steps
        )
        if config.compile:
            forward = torch.compile(forward)
        timer = Timer(device)
        epochs = []
        from tqdm import tqdm

        with tqdm(total=total_steps, disable=not (progress and ctx.is_main), unit="step") as bar:
            for epoch in range(config.epochs):
                model.train()
                sums = torch.zeros(2, device=device, dtype=torch.float64)
                timer.start()
                order = torch.randperm(n, device=device, generator=generator)
                for i in range(0, n, config.batch_size):
                    idx = order[i : i + config.batch_size]
                    x = augment(
                        train_x[idx],
                        crop_padding=config.crop_padding,
                        pad_mode=config.pad_mode,
                        flip=config.flip,
                        cutout_size=config.cutout,
                        generator=generator,
                    )
                    start, stop = distributed.shard_bounds(len(idx), ctx.rank, ctx.world_size)
                    x, y = x[start:stop], train_y[idx[start:stop]]
                    with _autocast(device):
                        logits = forward(x)
                    loss_sum = F.cross_entropy(
                        _at_least_float32(logits),
                        y,
                        label_smoothing=config.label_smoothing,
                        reduction="sum",
                    )
                    optimizer.zero_grad(set_to_none=True)
                    (loss_sum * (ctx.world_size / len(idx))).backward()
                    optimizer.step()
                    scheduler.step()
                    sums[0] += loss_sum.detach()
                    sums[1] += (logits.detach().argmax(1) == y).sum()
                    bar.update(1)
                seconds = distributed.all_reduce_max(timer.stop(), ctx)
                train_loss, train_correct = distributed.all_reduce_sum(sums, ctx).tolist()
                test_sums = _evaluate_sums(
                    model, test_x, test_y, config.eval_batch_size, config.tta
                )
                test_loss, test_correct = distributed.all_reduce_sum(test_sums, ctx).tolist()
                epochs.append(
                    {
                        "epoch": epoch + 1,
                        "train_loss": train_loss / n,
                        "train_accuracy": train_correct / n,
                        "test_loss": test_loss / test_size,
                        "test_accuracy": test_correct / test_size,
                        "lr": optimizer.param_groups[0]["lr"],
                        "epoch_time_s": seconds,
                        "images_per_s": n / seconds,
                    }
                )
                bar.set_postfix(
                    loss=f"{epochs[-1]['train_loss']:.3f}",
                    test_acc=f"{epochs[-1]['test_accuracy']:.3f}",
                )
    total_time = sum(e["epoch_time_s"] for e in epochs)
    metrics = {
        "config": asdict(config),
        "device": str(device),
        "world_size": ctx.world_size,
        "num_params": sum(p.numel() for p in model.parameters()),
        "train_size": n,
        "test_size": test_size,
        "epochs": epochs,
        "final_test_accuracy": epochs[-1]["test_accuracy"],
        "train_time_s": total_time,
        "images_per_s": n * config.epochs / total_time,
    }
    return (metrics, model) if return_model else metrics


def save_metrics(metrics, out_dir):
    """Write ``metrics.json`` and ``curves.png`` (loss and accuracy per epoch) to ``out_dir``.

    Returns the two paths.
    """
    from matplotlib.figure import Figure

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "metrics.json"
    json_path.write_text(json.dumps(metrics, indent=2) + "\n")
    epochs = [e["epoch"] for e in metrics["epochs"]]
    fig = Figure(figsize=(10, 4))
    ax_loss, ax_acc = fig.subplots(1, 2)
    ax_loss.plot(epochs, [e["train_loss"] for e in metrics["epochs"]], "o-", label="train")
    ax_loss.plot(epochs, [e["test_loss"] for e in metrics["epochs"]], "o-", label="test")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title="loss")
    ax_acc.plot(epochs, [e["train_accuracy"] for e in metrics["epochs"]], "o-", label="train")
    ax_acc.plot(epochs, [e["test_accuracy"] for e in metrics["epochs"]], "o-", label="test")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy", ylim=(0, 1))
    for ax in (ax_loss, ax_acc):
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    plot_path = out_dir / "curves.png"
    fig.savefig(plot_path, dpi=100)
    return json_path, plot_path
