"""The reference of task 05.1, :func:`normalize`; loading and downloading CIFAR-10 are the
students' helpers, :mod:`course_helpers.cifar10.data`, re-exported here."""

import torch

from course_helpers.cifar10.data import (  # noqa: F401
    ARCHIVE_NAME,
    CIFAR10,
    FOLDER,
    IMAGE_SHAPE,
    MD5,
    MEAN,
    META_FILE,
    NUM_CLASSES,
    STD,
    TEST_FILE,
    TRAIN_FILES,
    URL,
    DownloadError,
    batches_dir,
    download,
    load_cifar10,
    md5sum,
    read_batch,
    safe_extract,
    synthetic_cifar10,
)


def normalize(images, device=None):
    r"""uint8 ``N x 3 x H x W`` images to float32 :math:`(x/255 - \mu_c)/\sigma_c`, channels_last.

    Accepts a NumPy array or a tensor; the result lives on ``device`` (default: where the
    input is; NumPy input goes to the CPU).
    """
    x = torch.as_tensor(images, device=device)
    if x.dtype != torch.uint8 or x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(
            f"Invalid images: shape {tuple(x.shape)} and dtype {x.dtype} "
            "(images must be uint8 N x 3 x H x W)"
        )
    mean = torch.tensor(MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(STD, device=x.device).view(1, 3, 1, 1)
    x = (x.float() / 255.0 - mean) / std
    return x.contiguous(memory_format=torch.channels_last)
