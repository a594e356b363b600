"""The answers of assignment 05_cifar10 under the notebook's names and signatures."""

import functools
import math

import torch
import torch.nn.functional as F

from course_utils import optim as _optim
from course_utils.cifar10 import evaluate as _evaluate
from course_utils.cifar10 import normalize as _normalize
from course_utils.cifar10 import random_crop as _random_crop
from course_utils.cifar10 import random_flip as _random_flip
from course_utils.schedules import linear_lr as _linear_lr


def normalize(images):
    return _normalize(images).contiguous()


def random_crop(images, padding, generator):
    return _random_crop(images, padding, "reflect", generator)


def random_flip(images, generator):
    return _random_flip(images, generator)


def expected_initial_loss(num_classes):
    return math.log(num_classes)


def mean_loss(model, images, labels, batch_size=512):
    return _evaluate(model, images, labels, batch_size=batch_size, tta=False)[0]


def train_step(model, optimizer, scheduler, images, labels, label_smoothing=0.0):
    model.train()
    optimizer.zero_grad()
    loss = F.cross_entropy(model(images), labels, label_smoothing=label_smoothing)
    loss.backward()
    optimizer.step()
    if scheduler is not None:
        scheduler.step()
    return loss.item()


class NesterovSGD(_optim.SGD):
    def __init__(self, params, lr, momentum=0.9, weight_decay=0.0, nesterov=True):
        super().__init__(
            params, lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=nesterov
        )


class Adam(_optim.Adam):
    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.0):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)


def warmup_linear(step, warmup_steps, total_steps):
    if step < warmup_steps:
        return _linear_lr(step, 1.0, 0.0, 1.0, warmup_steps)
    return _linear_lr(step - warmup_steps, 1.0, 1.0, 0.0, total_steps - warmup_steps)


def make_scheduler(optimizer, warmup_steps, total_steps):
    multiplier = functools.partial(
        warmup_linear, warmup_steps=warmup_steps, total_steps=total_steps
    )
    return torch.optim.lr_scheduler.LambdaLR(optimizer, multiplier)


def evaluate(model, images, labels, batch_size=1024, tta=True):
    return _evaluate(model, images, labels, batch_size=batch_size, tta=tta)[1]


__all__ = [
    "normalize",
    "random_crop",
    "random_flip",
    "expected_initial_loss",
    "mean_loss",
    "train_step",
    "NesterovSGD",
    "Adam",
    "warmup_linear",
    "make_scheduler",
    "evaluate",
]
