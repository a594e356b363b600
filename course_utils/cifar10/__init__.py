"""CIFAR-10 training with the whole dataset on the device (GPU when there is one).

- :mod:`~course_utils.cifar10.data`: :func:`download` (md5-checked, safe extraction),
  :func:`load_cifar10` (official python batches), :func:`normalize`,
  :func:`synthetic_cifar10` (a learnable stand-in for offline runs).
- :mod:`~course_utils.cifar10.augmentation`: random crop, flip and cutout of a whole batch.
- :mod:`~course_helpers.cifar10.models`: :class:`FastNet` (default) and :class:`ResNet18`.
- :mod:`~course_utils.cifar10.training`: :class:`TrainConfig`, :func:`train`,
  :func:`save_metrics`, and the optimizer and schedule registries.

Command line: ``python -m course_utils.cifar10 train --data-dir DIR`` and
``python -m course_utils.cifar10 download --data-dir DIR``.
"""

from course_helpers.cifar10.models import FastNet, ResNet18, build_model
from course_utils.cifar10.augmentation import augment, cutout, random_crop, random_flip
from course_utils.cifar10.data import (
    CIFAR10,
    MEAN,
    STD,
    DownloadError,
    download,
    load_cifar10,
    normalize,
    read_batch,
    safe_extract,
    synthetic_cifar10,
)
from course_utils.cifar10.training import (
    OPTIMIZERS,
    SCHEDULES,
    TrainConfig,
    WarmupLinearLR,
    evaluate,
    register_optimizer,
    register_schedule,
    save_metrics,
    train,
)

__all__ = [
    "CIFAR10",
    "MEAN",
    "STD",
    "OPTIMIZERS",
    "SCHEDULES",
    "DownloadError",
    "FastNet",
    "ResNet18",
    "TrainConfig",
    "WarmupLinearLR",
    "augment",
    "build_model",
    "cutout",
    "download",
    "evaluate",
    "load_cifar10",
    "normalize",
    "random_crop",
    "random_flip",
    "read_batch",
    "register_optimizer",
    "register_schedule",
    "safe_extract",
    "save_metrics",
    "synthetic_cifar10",
    "train",
]
