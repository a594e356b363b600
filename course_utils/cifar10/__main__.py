"""Command line: ``python -m course_utils.cifar10 {train,download} --data-dir DIR``.

Under ``torchrun --nproc_per_node=N -m course_utils.cifar10 train ...`` the ranks train
together (see :mod:`course_utils.cifar10.distributed`) and rank 0 writes the outputs."""

import argparse
import os
import sys
from dataclasses import fields
from pathlib import Path

import torch

from course_helpers.cifar10.models import MODELS
from course_utils.cifar10 import distributed
from course_utils.cifar10.data import DownloadError, download, load_cifar10
from course_utils.cifar10.training import (
    DTYPES,
    OPTIMIZERS,
    SCHEDULES,
    TrainConfig,
    save_metrics,
    train,
)

DEFAULTS = {f.name: f.default for f in fields(TrainConfig)}


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m course_utils.cifar10", description="Train a CNN on CIFAR-10."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    fetch = commands.add_parser("download", help="download, verify and extract CIFAR-10")
    fetch.add_argument("--data-dir", required=True)
    run = commands.add_parser("train", help="train and write metrics.json and curves.png")
    run.add_argument("--data-dir", required=True)
    run.add_argument("--out", default="cifar10_run", help="output folder (default: %(default)s)")
    run.add_argument("--epochs", type=int, default=DEFAULTS["epochs"])
    run.add_argument("--batch-size", type=int, default=DEFAULTS["batch_size"])
    run.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default=DEFAULTS["optimizer"])
    run.add_argument("--lr", type=float, default=DEFAULTS["lr"])
    run.add_argument("--momentum", type=float, default=DEFAULTS["momentum"])
    run.add_argument("--weight-decay", type=float, default=DEFAULTS["weight_decay"])
    run.add_argument("--schedule", choices=sorted(SCHEDULES), default=DEFAULTS["schedule"])
    run.add_argument("--warmup-fraction", type=float, default=DEFAULTS["warmup_fraction"])
    run.add_argument("--label-smoothing", type=float, default=DEFAULTS["label_smoothing"])
    run.add_argument("--model", choices=sorted(MODELS), default=DEFAULTS["model"])
    run.add_argument("--width", type=int, default=DEFAULTS["width"])
    run.add_argument("--cutout", type=int, default=DEFAULTS["cutout"])
    run.add_argument("--no-tta", dest="tta", action="store_false")
    run.add_argument("--compile", action="store_true")
    run.add_argument("--device", choices=("auto", "cpu", "cuda"), default=DEFAULTS["device"])
    run.add_argument("--dtype", choices=sorted(DTYPES), default=DEFAULTS["dtype"])
    run.add_argument("--seed", type=int, default=DEFAULTS["seed"])
    run.add_argument("--limit-train", type=int, default=None)
    run.add_argument("--limit-test", type=int, default=None)
    run.add_argument(
        "--save-model", action="store_true", help="also write the trained weights to model.pt"
    )
    return parser


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        if args.command == "download":
            print(download(args.data_dir))
            return 0
        options = {k: v for k, v in vars(args).items() if k in DEFAULTS}
        config = TrainConfig(**options)
        data = load_cifar10(args.data_dir)
        metrics, model = train(config, data, progress=True, return_model=True)
    except (FileNotFoundError, ValueError, DownloadError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    finally:
        distributed.shutdown()
    if os.environ.get("RANK", "0") != "0":
        return 0
    json_path, plot_path = save_metrics(metrics, args.out)
    written = [json_path, plot_path]
    if args.save_model:
        written.append(Path(args.out) / "model.pt")
        torch.save(model.state_dict(), written[-1])
    processes = f" x {metrics['world_size']} processes" if metrics["world_size"] > 1 else ""
    print(
        f"test accuracy {metrics['final_test_accuracy']:.4f}, "
        f"{metrics['images_per_s']:.0f} images/s on {metrics['device']}{processes}"
    )
    print("wrote " + ", ".join(map(str, written)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
