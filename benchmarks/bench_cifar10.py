"""Epoch time, images per second and achieved TFLOP/s of CIFAR-10 training.

Runs :func:`course_utils.cifar10.train` for a few epochs and prints, per epoch, the
training time (CUDA events on a GPU) and images per second; then the model's FLOPs per
training image (forward and backward, counted with ``torch.utils.flop_counter``) and the
achieved TFLOP/s of the fastest epoch against the device's dense bf16 peak where known.
Without the real dataset in ``--data-dir`` it trains on random CIFAR-shaped data and says
so (the timings are the same; the accuracy is meaningless).

    python benchmarks/bench_cifar10.py [--data-dir DIR] [--epochs 3] [--batch-size 512]
                                       [--model fastnet] [--width 64] [--device auto]
                                       [--compile] [--limit-train N] [--seeds N]
"""

import argparse
from dataclasses import replace

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from course_utils.cifar10 import CIFAR10, TrainConfig, build_model, load_cifar10, train
from course_utils.cifar10.training import resolve_device

PEAK_BF16_DENSE_TFLOPS = {
    "H200": 989.0,
    "H100 SXM": 989.0,
    "H100 80GB HBM3": 989.0,
    "H100 PCIe": 756.0,
    "A100": 312.0,
}
"""Dense bf16 tensor-core peaks from NVIDIA's data sheets (TFLOP/s, without sparsity)."""


def peak_tflops(device):
    """The known dense bf16 peak of ``device``, or None."""
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    for key, peak in PEAK_BF16_DENSE_TFLOPS.items():
        if key in name:
            return peak
    return None


def training_flops_per_image(model_name, width, batch_size, device):
    """FLOPs of one forward and backward pass, divided by the batch size."""
    model = build_model(model_name, 10, width).to(device)
    x = torch.randn(batch_size, 3, 32, 32, device=device).contiguous(
        memory_format=torch.channels_last
    )
    y = torch.randint(0, 10, (batch_size,), device=device)
    with FlopCounterMode(display=False) as counter:
        F.cross_entropy(model(x), y).backward()
    return counter.get_total_flops() / batch_size


def random_data(n_train, n_test, seed=0):
    rng = np.random.default_rng(seed)
    return CIFAR10(
        rng.integers(0, 256, (n_train, 3, 32, 32), dtype=np.uint8),
        rng.integers(0, 10, n_train),
        rng.integers(0, 256, (n_test, 3, 32, 32), dtype=np.uint8),
        rng.integers(0, 10, n_test),
        tuple(str(i) for i in range(10)),
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--model", default="fastnet")
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--limit-train", type=int, default=None)
    parser.add_argument(
        "--seeds", type=int, default=1, help="repeat with seeds 0..N-1; print mean and spread"
    )
    args = parser.parse_args()

    try:
        data = load_cifar10(args.data_dir)
        source = f"CIFAR-10 from {args.data_dir}"
    except FileNotFoundError:
        data = random_data(args.limit_train or 50_000, 10_000)
        source = f"random CIFAR-shaped data (no CIFAR-10 in {args.data_dir})"
    config = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        model=args.model,
        width=args.width,
        device=args.device,
        compile=args.compile,
        limit_train=args.limit_train,
    )
    device = resolve_device(config.device)
    print(f"data: {source}")
    print(f"device: {torch.cuda.get_device_name(device) if device.type == 'cuda' else 'cpu'}")
    runs = [train(replace(config, seed=seed), data) for seed in range(args.seeds)]
    metrics = runs[0]
    print(f"{'epoch':>5} {'time (s)':>9} {'images/s':>10} {'test acc':>9}")
    for e in metrics["epochs"]:
        print(
            f"{e['epoch']:>5} {e['epoch_time_s']:>9.3f} {e['images_per_s']:>10.0f} "
            f"{e['test_accuracy']:>9.4f}"
        )
    flops = training_flops_per_image(config.model, config.width, 64, device)
    best = max(e["images_per_s"] for e in metrics["epochs"])
    achieved = flops * best / 1e12
    print(
        f"model: {config.model} width {config.width}, {metrics['num_params']:,} parameters, "
        f"{flops / 1e9:.3f} GFLOP per training image (forward + backward)"
    )
    if len(runs) > 1:
        accuracy = np.array([m["final_test_accuracy"] for m in runs])
        seconds = np.array([m["train_time_s"] for m in runs])
        print(
            f"over {len(runs)} seeds: test accuracy {accuracy.mean():.4f} "
            f"(std {accuracy.std(ddof=1):.4f}, min {accuracy.min():.4f}), "
            f"training time {seconds.mean():.2f} s (std {seconds.std(ddof=1):.2f} s)"
        )
    peak = peak_tflops(device)
    if peak is None:
        print(f"achieved {achieved:.3f} TFLOP/s (best epoch); peak unknown")
    else:
        print(
            f"achieved {achieved:.1f} TFLOP/s (best epoch) of {peak:.0f} TFLOP/s bf16 dense "
            f"peak: {100 * achieved / peak:.1f}% MFU"
        )


if __name__ == "__main__":
    main()
