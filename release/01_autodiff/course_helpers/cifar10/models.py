"""Networks for CIFAR-10: a fast ResNet-9-style net (the default) and ResNet-18.

``FastNet`` follows the shape of the fastest published CIFAR-10 training scripts
(Page's DAWNBench ResNet-9, airbench): conv-BN-ReLU blocks, max-pooling to halve the
resolution, two residual blocks, a global max-pool and a linear layer whose output is
scaled down. With ``width=64`` the channel counts are 64-128-256-512 (about 6.6 M
parameters); the width scales all of them.

``ResNet18`` is He et al.'s ResNet-18 (arXiv:1512.03385) in its CIFAR form: a 3x3 stem
without max-pooling, four stages of two basic blocks, 11.2 M parameters at ``width=64``.
"""

import torch
from torch import nn


def conv_bn(in_channels, out_channels, stride=1):
    """3x3 convolution (no bias: BatchNorm adds one), BatchNorm, ReLU."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class Residual(nn.Module):
    """``x + f(x)`` with ``f`` two conv-BN-ReLU blocks of the same width."""

    def __init__(self, channels):
        super().__init__()
        self.body = nn.Sequential(conv_bn(channels, channels), conv_bn(channels, channels))

    def forward(self, x):
        return x + self.body(x)


def _check_width(width):
    if not (isinstance(width, int) and width > 0):
        raise ValueError(f"Invalid width: {width!r} (width must be a positive integer)")


class FastNet(nn.Module):
    """prep -> [conv, pool, residual] -> [conv, pool] -> [conv, pool, residual] -> head.

    The logits are multiplied by ``scale`` (0.125), which keeps the initial softmax
    soft without a special initialization of the last layer.
    """

    def __init__(self, num_classes=10, width=64, scale=0.125):
        super().__init__()
        _check_width(width)
        w1, w2, w3, w4 = width, 2 * width, 4 * width, 8 * width
        self.features = nn.Sequential(
            conv_bn(3, w1),
            conv_bn(w1, w2),
            nn.MaxPool2d(2),
            Residual(w2),
            conv_bn(w2, w3),
            nn.MaxPool2d(2),
            conv_bn(w3, w4),
            nn.MaxPool2d(2),
            Residual(w4),
            nn.AdaptiveMaxPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Linear(w4, num_classes, bias=False)
        self.scale = scale

    def forward(self, x):
        return self.head(self.features(x)) * self.scale


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a shortcut (1x1 convolution when the shape changes)."""

    def __init__(self, in_channels, out_channels, stride):
        super().__init__()
        self.body = nn.Sequential(
            conv_bn(in_channels, out_channels, stride),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
        )
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )

    def forward(self, x):
        return torch.relu(self.body(x) + self.shortcut(x))


class ResNet18(nn.Module):
    """ResNet-18 for 32x32 inputs; stage widths ``width * (1, 2, 4, 8)``."""

    def __init__(self, num_classes=10, width=64):
        super().__init__()
        _check_width(width)
        layers = [conv_bn(3, width)]
        in_channels = width
        for stage, stride in enumerate((1, 2, 2, 2)):
            out_channels = width * 2**stage
            layers += [
                BasicBlock(in_channels, out_channels, stride),
                BasicBlock(out_channels, out_channels, 1),
            ]
            in_channels = out_channels
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(in_channels, num_classes)

    def forward(self, x):
        return self.head(self.features(x))


MODELS = {"fastnet": FastNet, "resnet18": ResNet18}


def build_model(name="fastnet", num_classes=10, width=64):
    """A model from :data:`MODELS` by name, in channels_last memory format."""
    if name not in MODELS:
        raise ValueError(f"Invalid model: {name!r} (model must be one of {sorted(MODELS)})")
    return MODELS[name](num_classes=num_classes, width=width).to(memory_format=torch.channels_last)
