"""CIFAR-10 for assignment 05: the data, the networks and a training loop of your functions.

- :mod:`~course_helpers.cifar10.data`: :func:`download` (md5-checked, safe extraction),
  :func:`load_cifar10` (the official python batches) and :func:`synthetic_cifar10` (a
  learnable stand-in for offline runs).
- :mod:`~course_helpers.cifar10.models`: :class:`FastNet` (default) and :class:`ResNet18`.
- :mod:`~course_helpers.cifar10.loop`: :func:`fit`, epochs of your ``train_step`` with your
  augmentation, optimizer and schedule, measured with your ``mean_loss`` and ``evaluate``.

Command line: ``python -m course_helpers.cifar10 download --data-dir DIR``.
"""

from course_helpers.cifar10.data import (
    CIFAR10,
    MEAN,
    NUM_CLASSES,
    STD,
    DownloadError,
    download,
    load_cifar10,
    read_batch,
    safe_extract,
    synthetic_cifar10,
)
from course_helpers.cifar10.loop import fit
from course_helpers.cifar10.models import MODELS, FastNet, ResNet18, build_model

__all__ = [
    "CIFAR10",
    "MEAN",
    "MODELS",
    "NUM_CLASSES",
    "STD",
    "DownloadError",
    "FastNet",
    "ResNet18",
    "build_model",
    "download",
    "fit",
    "load_cifar10",
    "read_batch",
    "safe_extract",
    "synthetic_cifar10",
]
