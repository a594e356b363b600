"""Data augmentation of a whole batch at once, on the batch's own device.

Every function takes a float batch ``N x C x H x W`` and a ``torch.Generator`` on the same
device, draws one random choice per image, and returns a new batch; nothing loops over
images in Python and no DataLoader worker is involved.
"""

import torch
import torch.nn.functional as F

PAD_MODES = ("reflect", "zeros")


def pad(images, padding, mode="reflect"):
    """Pad height and width by ``padding`` on each side (``"reflect"`` or ``"zeros"``)."""
    if mode not in PAD_MODES:
        raise ValueError(f"Invalid mode: {mode!r} (mode must be one of {PAD_MODES})")
    if padding == 0:
        return images
    return F.pad(images, (padding,) * 4, mode="reflect" if mode == "reflect" else "constant")


def random_crop(images, padding=4, mode="reflect", generator=None):
    r"""Pad by ``padding`` then cut an ``H x W`` window at a random offset per image.

    With :math:`P` the padded batch and offsets :math:`d_y, d_x \in \{0, \dots, 2p\}` drawn
    uniformly per image, the output is :math:`y_{n,c,i,j} = P_{n,c,\,i + d_y,\,j + d_x}`:
    a translation by up to ``padding`` pixels in each direction. The window is gathered
    with one advanced-indexing operation for the whole batch.
    """
    if not (isinstance(padding, int) and padding >= 0):
        raise ValueError(f"Invalid padding: {padding!r} (padding must be an integer >= 0)")
    if padding == 0:
        return images
    n, c, h, w = images.shape
    padded = pad(images, padding, mode)
    device = images.device
    dy = torch.randint(0, 2 * padding + 1, (n,), device=device, generator=generator)
    dx = torch.randint(0, 2 * padding + 1, (n,), device=device, generator=generator)
    rows = (dy[:, None] + torch.arange(h, device=device))[:, None, :, None]
    cols = (dx[:, None] + torch.arange(w, device=device))[:, None, None, :]
    batch = torch.arange(n, device=device)[:, None, None, None]
    channel = torch.arange(c, device=device)[None, :, None, None]
    return padded[batch, channel, rows, cols]


def random_flip(images, generator=None):
    """Mirror each image left-right with probability 1/2."""
    flip = torch.rand(images.shape[0], device=images.device, generator=generator) < 0.5
    return torch.where(flip[:, None, None, None], images.flip(-1), images)


def cutout(images, size, generator=None):
    """Zero a ``size x size`` square (clipped at the border) centred at a random pixel.

    DeVries & Taylor, arXiv:1708.04552. The centre is uniform over the image, so the
    square may hang over the edge. ``size=0`` returns the batch unchanged.
    """
    if not (isinstance(size, int) and size >= 0):
        raise ValueError(f"Invalid size: {size!r} (size must be an integer >= 0)")
    if size == 0:
        return images
    n, _, h, w = images.shape
    device = images.device
    cy = torch.randint(0, h, (n, 1), device=device, generator=generator)
    cx = torch.randint(0, w, (n, 1), device=device, generator=generator)
    top, left = cy - size // 2, cx - size // 2
    ys = torch.arange(h, device=device)[None, :]
    xs = torch.arange(w, device=device)[None, :]
    in_rows = (ys >= top) & (ys < top + size)
    in_cols = (xs >= left) & (xs < left + size)
    mask = in_rows[:, :, None] & in_cols[:, None, :]
    return images.masked_fill(mask[:, None], 0.0)


def augment(
    images, *, crop_padding=4, pad_mode="reflect", flip=True, cutout_size=0, generator=None
):
    """Random crop, then flip, then cutout; returns a channels_last batch."""
    images = random_crop(images, crop_padding, pad_mode, generator)
    if flip:
        images = random_flip(images, generator)
    images = cutout(images, cutout_size, generator)
    return images.contiguous(memory_format=torch.channels_last)
