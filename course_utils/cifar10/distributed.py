"""Data-parallel training over several processes, started by ``torchrun``.

``torchrun --nproc_per_node=N -m course_utils.cifar10 train ...`` starts ``N`` processes
(ranks) and sets ``RANK``, ``LOCAL_RANK`` and ``WORLD_SIZE`` in their environments.
Every rank holds the whole dataset and draws the same permutation and the same
augmentation from the same seed, so all ranks see the same global batch of
``batch_size`` images; rank ``r`` computes the forward and backward pass of its own
contiguous shard of it (:func:`shard_bounds`).

DistributedDataParallel averages the ranks' gradients. For the result to equal one
process on the whole global batch of ``B`` images, rank ``r`` minimizes
``(world_size / B) * sum of its losses``: the average over ranks of these is the mean
loss of the global batch, however unevenly the last batch splits. BatchNorm would
otherwise normalize each shard with its own statistics, so the batch statistics are
summed over the ranks as well (:class:`GlobalBatchNorm2d` on the CPU with the gloo
backend, ``torch.nn.SyncBatchNorm`` on CUDA with NCCL).
"""

import itertools
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class Rank:
    """Where this process stands: ``rank`` of ``world_size``, ``local_rank`` on its node."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self):
        return self.rank == 0


def _env_int(name, default):
    value = os.environ.get(name, "")
    try:
        return int(value) if value else default
    except ValueError:
        raise ValueError(
            f"Invalid {name}={value!r} in the environment (expected an integer)"
        ) from None


def launched_by_torchrun():
    """True when ``WORLD_SIZE`` in the environment asks for more than one process."""
    return _env_int("WORLD_SIZE", 1) > 1


def init(device):
    """Join the process group when started by torchrun; returns ``(Rank, device)``.

    ``device`` is the resolved :class:`torch.device`. On CUDA each rank takes the GPU of
    its ``LOCAL_RANK`` and the backend is NCCL; on the CPU the backend is gloo. Without
    torchrun (or with one process) nothing is initialized and ``Rank()`` is returned.
    An already initialized default process group is used as it is.
    """
    if not (dist.is_initialized() or launched_by_torchrun()):
        return Rank(), device
    if not dist.is_available():
        raise RuntimeError("torch.distributed is not available in this build of torch")
    local_rank = _env_int("LOCAL_RANK", 0)
    if device.type == "cuda":
        if local_rank >= torch.cuda.device_count():
            raise ValueError(
                f"LOCAL_RANK {local_rank} has no GPU: this node has "
                f"{torch.cuda.device_count()}; start at most that many processes per node"
            )
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return Rank(dist.get_rank(), dist.get_world_size(), local_rank), device


def shutdown():
    """Leave the process group if one was joined."""
    if dist.is_initialized():
        dist.destroy_process_group()


def shard_bounds(batch_size, rank, world_size):
    """``(start, stop)`` of rank ``rank``'s contiguous shard of a batch of ``batch_size``.

    The first ``batch_size % world_size`` ranks get one image more than the others.
    """
    base, extra = divmod(batch_size, world_size)
    start = rank * base + min(rank, extra)
    return start, start + base + (rank < extra)


def all_reduce_sum(tensor, ctx):
    """Sum of ``tensor`` over the ranks (``tensor`` itself with one process)."""
    if ctx.world_size > 1:
        tensor = tensor.clone()
        dist.all_reduce(tensor)
    return tensor


def all_reduce_max(value, ctx):
    """Largest float ``value`` over the ranks."""
    if ctx.world_size == 1:
        return value
    tensor = torch.tensor([value], dtype=torch.float64)
    if dist.get_backend() == "nccl":
        tensor = tensor.cuda()
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return tensor.item()


class _SumOverRanks(torch.autograd.Function):
    """``y = sum over ranks of x``; its backward is the same sum of the output gradients
    (each rank's ``x`` reaches every rank's ``y``)."""

    @staticmethod
    def forward(ctx, x):
        y = x.clone()
        dist.all_reduce(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        grad = grad.clone()
        dist.all_reduce(grad)
        return grad


class GlobalBatchNorm2d(nn.BatchNorm2d):
    r"""BatchNorm2d whose training statistics are those of the global batch over all ranks.

    With :math:`n_r` values of channel :math:`c` on rank :math:`r` and :math:`N = \sum_r n_r`:

    .. math:: \mu = \frac1N \sum_r \sum_i x_{ri}, \qquad
              \sigma^2 = \frac1N \sum_r \sum_i (x_{ri} - \mu)^2

    computed with two differentiable all-reduces (the sum, then the squared deviations),
    so the backward pass also sums over the ranks. The running variance is updated with
    the unbiased :math:`\sigma^2 N / (N - 1)` as in ``nn.BatchNorm2d``. Outside training
    or without a process group it is ``nn.BatchNorm2d``.
    """

    def forward(self, x):
        if not (self.training and dist.is_initialized() and dist.get_world_size() > 1):
            return super().forward(x)
        dims = (0, 2, 3)
        xf = x.to(torch.promote_types(x.dtype, torch.float32))
        local = torch.tensor([xf.numel() / xf.shape[1]], dtype=xf.dtype, device=xf.device)
        count = _SumOverRanks.apply(local)
        mean = _SumOverRanks.apply(xf.sum(dims)) / count
        centered = xf - mean.view(1, -1, 1, 1)
        var = _SumOverRanks.apply(centered.square().sum(dims)) / count
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                momentum = self.momentum
                if momentum is None:
                    momentum = 1.0 / self.num_batches_tracked.item()
                unbiased = var * count / (count - 1).clamp(min=1)
                self.running_mean.lerp_(mean, momentum)
                self.running_var.lerp_(unbiased, momentum)
        y = centered * torch.rsqrt(var + self.eps).view(1, -1, 1, 1)
        if self.affine:
            y = y * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)
        return y.to(x.dtype)


def synchronize_batchnorm(model, device):
    """``model`` with every BatchNorm2d computing global-batch statistics (see module doc)."""
    if device.type == "cuda":
        return nn.SyncBatchNorm.convert_sync_batchnorm(model)
    return _swap_batchnorm(model)


def _swap_batchnorm(module):
    for name, child in module.named_children():
        if isinstance(child, nn.BatchNorm2d) and not isinstance(child, GlobalBatchNorm2d):
            swapped = GlobalBatchNorm2d(
                child.num_features,
                child.eps,
                child.momentum,
                child.affine,
                child.track_running_stats,
            )
            like = next(itertools.chain(child.parameters(), child.buffers()), None)
            if like is not None:
                swapped.to(like)
            swapped.load_state_dict(child.state_dict())
            setattr(module, name, swapped)
        else:
            _swap_batchnorm(child)
    return module


def data_parallel(model, ctx, device):
    """``model`` wrapped in DistributedDataParallel when there are several ranks.

    Call :func:`synchronize_batchnorm` first. With one process ``model`` is returned.
    """
    if ctx.world_size == 1:
        return model
    return nn.parallel.DistributedDataParallel(
        model,
        device_ids=[device.index] if device.type == "cuda" else None,
        forward_sync_buffers=False,
    )
