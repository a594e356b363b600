"""A training loop assembled from your own functions of assignment 05.

:func:`fit` is the loop of the fast CIFAR-10 scripts (the data on the device, a new random
order every epoch, each batch gathered and augmented on the device, the schedule stepped
after every batch) with every piece passed in: your ``train_step``, your augmentation, your
optimizer and schedule, and your ``mean_loss`` and ``evaluate`` for the metrics. It holds
no part of any answer; with wrong pieces it trains wrongly.
"""

import time

import torch


def _seconds_since(start, device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start


def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"Invalid {name}: {value!r} ({name} must be an integer >= 1)")


def fit(
    model,
    optimizer,
    scheduler,
    train_images,
    train_labels,
    test_images,
    test_labels,
    *,
    train_step,
    mean_loss,
    evaluate,
    epochs,
    batch_size,
    augment=None,
    label_smoothing=0.0,
    tta=True,
    seed=0,
):
    """Train ``model`` for ``epochs`` epochs and return its metrics.

    Every epoch draws a random order of the training images from a ``torch.Generator``
    seeded with ``seed`` (on the images' device), splits it into batches of ``batch_size``,
    applies ``augment(images, generator)`` to each batch (when given) and calls
    ``train_step(model, optimizer, scheduler, images, labels, label_smoothing)``, which
    returns the batch's loss. After each epoch it measures ``mean_loss(model, images,
    labels)`` and ``evaluate(model, images, labels, tta=...)`` on the test images, and the
    accuracy on the (not augmented) training images without test-time augmentation.

    Returns ``{"epochs": [...], "train_time_s": seconds}``, one dict per epoch with
    ``epoch``, ``train_loss`` (the mean of the batch losses, as ``train_step`` computed
    them), ``train_accuracy``, ``test_loss``, ``test_accuracy``, ``lr`` (the rate of the
    first parameter group at the end of the epoch) and ``epoch_time_s`` (the training
    steps only).
    """
    _check_positive_int("epochs", epochs)
    _check_positive_int("batch_size", batch_size)
    if len(train_images) != len(train_labels) or len(test_images) != len(test_labels):
        raise ValueError(
            f"Invalid data: {len(train_images)} training images with {len(train_labels)} "
            f"labels, {len(test_images)} test images with {len(test_labels)} labels "
            "(each set needs one label per image)"
        )
    if len(train_images) == 0:
        raise ValueError("Invalid data: no training images")
    device = train_images.device
    generator = torch.Generator(device=device).manual_seed(seed)
    history = []
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        order = torch.randperm(len(train_images), device=device, generator=generator)
        losses = []
        for idx in order.split(batch_size):
            images = train_images[idx]
            if augment is not None:
                images = augment(images, generator)
            losses.append(
                float(
                    train_step(
                        model, optimizer, scheduler, images, train_labels[idx], label_smoothing
                    )
                )
            )
        seconds = _seconds_since(start, device)
        history.append(
            {
                "epoch": epoch,
                "train_loss": sum(losses) / len(losses),
                "train_accuracy": float(evaluate(model, train_images, train_labels, tta=False)),
                "test_loss": float(mean_loss(model, test_images, test_labels)),
                "test_accuracy": float(evaluate(model, test_images, test_labels, tta=tta)),
                "lr": optimizer.param_groups[0]["lr"],
                "epoch_time_s": seconds,
            }
        )
    return {"epochs": history, "train_time_s": sum(e["epoch_time_s"] for e in history)}
