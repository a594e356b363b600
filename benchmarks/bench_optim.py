"""Step time of course_utils.optim against torch.optim on ResNet-18-sized parameters.

Prints, for each optimizer, device and ``foreach`` setting (default, False, True), the
median milliseconds per ``step()`` of torch.optim and of ours, and the ratio ours/torch.
The parameter list has the shapes of torchvision's ResNet-18 (62 tensors, 11,689,512
float32 values); gradients are fixed random tensors. The variants are timed in
interleaved rounds so that a load change on the machine hits them all alike.

    python benchmarks/bench_optim.py [--repeats 30] [--warmup 5] [--device cpu|cuda|all]
                                     [--threads N]

On a machine shared with other jobs, ``--threads 1`` gives steadier CPU figures: with
several intra-op threads a single descheduled thread stalls every parallel kernel.
"""

import argparse
import math
import statistics
import time

import torch

import course_utils.optim as ours

CONFIGS = {
    "SGD(momentum=0.9)": ("SGD", {"lr": 0.1, "momentum": 0.9}),
    "Adam": ("Adam", {"lr": 1e-3}),
    "AdamW": ("AdamW", {"lr": 1e-3}),
    "Adagrad": ("Adagrad", {"lr": 1e-2}),
    "RMSprop": ("RMSprop", {"lr": 1e-2}),
}
FOREACH_SETTINGS = {"default": None, "foreach=False": False, "foreach=True": True}


def resnet18_shapes(num_classes=1000):
    """Shapes of the 62 parameter tensors of ResNet-18 (conv, batch-norm, fc), in order."""
    shapes = [(64, 3, 7, 7), (64,), (64,)]
    in_channels = 64
    for out_channels, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
        for block in range(2):
            block_in = in_channels if block == 0 else out_channels
            shapes += [(out_channels, block_in, 3, 3), (out_channels,), (out_channels,)]
            shapes += [(out_channels, out_channels, 3, 3), (out_channels,), (out_channels,)]
            if block == 0 and (stride != 1 or block_in != out_channels):
                shapes += [(out_channels, block_in, 1, 1), (out_channels,), (out_channels,)]
        in_channels = out_channels
    shapes += [(num_classes, 512), (num_classes,)]
    return shapes


def make_params(device, seed=0):
    generator = torch.Generator().manual_seed(seed)
    params = []
    for shape in resnet18_shapes():
        p = torch.randn(shape, generator=generator).to(device).requires_grad_()
        p.grad = torch.randn(shape, generator=generator).to(device)
        params.append(p)
    return params


def time_step(optimizer, device):
    """Milliseconds taken by one ``optimizer.step()``."""
    if device.type == "cuda":
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        torch.cuda.synchronize(device)
        start.record()
        optimizer.step()
        end.record()
        torch.cuda.synchronize(device)
        return start.elapsed_time(end)
    begin = time.perf_counter()
    optimizer.step()
    return (time.perf_counter() - begin) * 1e3


def bench_config(class_name, kwargs, device, *, repeats, warmup):
    """Median ms/step of every (library, foreach setting) variant of one optimizer."""
    optimizers = {}
    for library, module in (("torch", torch.optim), ("ours", ours)):
        for setting, foreach in FOREACH_SETTINGS.items():
            optimizer_class = getattr(module, class_name)
            optimizers[library, setting] = optimizer_class(
                make_params(device), foreach=foreach, **kwargs
            )
    for optimizer in optimizers.values():
        for _ in range(warmup):
            optimizer.step()
    times = {key: [] for key in optimizers}
    for _ in range(repeats):
        for key, optimizer in optimizers.items():
            times[key].append(time_step(optimizer, device))
    return {key: statistics.median(values) for key, values in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--device", choices=["cpu", "cuda", "all"], default="all")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    devices = []
    if args.device in ("cpu", "all"):
        devices.append(torch.device("cpu"))
    if args.device in ("cuda", "all") and torch.cuda.is_available():
        devices.append(torch.device("cuda"))
    numel = sum(math.prod(shape) for shape in resnet18_shapes())
    print(
        f"{len(resnet18_shapes())} tensors, {numel:,} float32 parameters; "
        f"median of {args.repeats} steps after {args.warmup} warm-up steps; "
        f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads"
    )
    header = f"{'optimizer':<18} {'device':<6} {'foreach':<14} {'torch ms':>9} {'ours ms':>9} "
    header += f"{'ours/torch':>10}"
    print(header)
    print("-" * len(header))
    for device in devices:
        for label, (class_name, kwargs) in CONFIGS.items():
            medians = bench_config(
                class_name, kwargs, device, repeats=args.repeats, warmup=args.warmup
            )
            for setting in FOREACH_SETTINGS:
                theirs, mine = medians["torch", setting], medians["ours", setting]
                print(
                    f"{label:<18} {device.type:<6} {setting:<14} {theirs:>9.2f} {mine:>9.2f} "
                    f"{mine / theirs:>9.2f}x",
                    flush=True,
                )
    print("default: torch.optim picks foreach on CUDA and the per-tensor loop on the CPU;")
    print("course_utils.optim makes the same choice (course_utils/optim/_base.py).")


if __name__ == "__main__":
    main()
