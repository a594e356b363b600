"""Drivers of assignment 05's hidden checks, run in the student's process.

The free names are the notebook's own (``normalize``, ``random_crop``, ``random_flip``,
``mean_loss``, ``train_step``, ``warmup_linear``, ``make_scheduler``, ``evaluate``, and the
optimizer classes looked up by name). Networks cross as state dicts of arrays and are
rebuilt with :func:`check_net`, which the checks also use on the trusted side.
"""

import torch


def make_check_net(num_classes):
    """The network of the checks: a convolution with BatchNorm, pooling and a linear layer."""
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3, padding=1),
        torch.nn.BatchNorm2d(4),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(64, num_classes),
    )


def check_net(state, num_classes, dtype):
    """The check network with the weights and statistics of ``state``, in ``dtype``."""
    net = make_check_net(num_classes)
    net.load_state_dict({k: torch.as_tensor(v) for k, v in state.items()})
    return net.to(dtype)


def watch(net):
    """A list that gets, for every forward pass of ``net``, its batch size and whether
    autograd was recording; and the hook's handle (``.remove()`` ends it)."""
    seen = []

    def record(module, args):
        seen.append([int(args[0].shape[0]) if args else -1, torch.is_grad_enabled()])

    return seen, net.register_forward_pre_hook(record)


def kind(value):
    """Whether ``value`` is a Python number (float, or int but not bool), and its type."""
    number = isinstance(value, float | int) and not isinstance(value, bool)
    return {"number": number, "float": isinstance(value, float), "type": type(value).__name__}


def normalized(images):
    """normalize of the images, its dtype, and whether the input was left unchanged."""
    x = torch.as_tensor(images)
    copy = x.clone()
    out = normalize(x)
    return {"out": out, "dtype": str(out.dtype), "unchanged": bool(torch.equal(x, copy))}


def normalized_on_meta(shape):
    """normalize of uint8 images on the 'meta' device (tensors with a shape and a dtype but
    no data), standing in for a GPU: the result's device, dtype and shape, or the error."""
    x = torch.empty(shape, dtype=torch.uint8, device="meta")
    try:
        out = normalize(x)
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"device": str(out.device), "dtype": str(out.dtype), "shape": list(out.shape)}


def cropped(images, padding, seed, global_seeds):
    """random_crop twice with generators of the same seed under different global seeds."""
    x = torch.as_tensor(images)
    copy = x.clone()
    torch.manual_seed(global_seeds[0])
    out = random_crop(x, padding, torch.Generator().manual_seed(seed))
    torch.manual_seed(global_seeds[1])
    again = random_crop(x, padding, torch.Generator().manual_seed(seed))
    return {
        "out": out,
        "again": again,
        "dtype": str(out.dtype),
        "unchanged": bool(torch.equal(x, copy)),
    }


def flipped(images, seed, global_seeds):
    """random_flip twice with generators of the same seed, and flipped twice over."""
    x = torch.as_tensor(images)
    copy = x.clone()
    torch.manual_seed(global_seeds[0])
    out = random_flip(x, torch.Generator().manual_seed(seed))
    torch.manual_seed(global_seeds[1])
    again = random_flip(x, torch.Generator().manual_seed(seed))
    twice = random_flip(
        random_flip(x, torch.Generator().manual_seed(seed + 1)),
        torch.Generator().manual_seed(seed + 1),
    )
    return {
        "out": out,
        "again": again,
        "twice": twice,
        "dtype": str(out.dtype),
        "unchanged": bool(torch.equal(x, copy)),
    }


def mean_loss_of(state, num_classes, images, labels, batch_size):
    """mean_loss of the check network, left in training mode before the call (batch_size
    None: the default): the loss, its kind, the forward passes, the mode and state after."""
    net = check_net(state, num_classes, torch.float32)
    forwards, _ = watch(net)
    net.train()
    options = {} if batch_size is None else {"batch_size": batch_size}
    loss = mean_loss(net, torch.as_tensor(images), torch.as_tensor(labels), **options)
    return {
        "loss": loss,
        "kind": kind(loss),
        "forwards": forwards,
        "training": net.training,
        "state": dict(net.state_dict()),
    }


def train_steps(state, num_classes, batches, labels, factors, lr, momentum, label_smoothing):
    """train_step over the batches with SGD (and a LambdaLR of the factors, when given),
    starting in evaluation mode (label_smoothing None: the default): the losses and their
    kinds, the states and the rates after every step."""
    net = check_net(state, num_classes, torch.float64)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum)
    scheduler = None
    if factors is not None:
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda t: factors[t])
    net.eval()
    options = {} if label_smoothing is None else {"label_smoothing": label_smoothing}
    losses, kinds, states, rates = [], [], [], []
    for x, y in zip(batches, labels, strict=True):
        loss = train_step(
            net, optimizer, scheduler, torch.as_tensor(x), torch.as_tensor(y), **options
        )
        losses.append(loss)
        kinds.append(kind(loss))
        states.append({k: v.detach().clone() for k, v in net.state_dict().items()})
        rates.append(optimizer.param_groups[0]["lr"])
    return {"losses": losses, "kinds": kinds, "states": states, "rates": rates}


def optimizer_run(name, init, grads, defaults, second_group, change_at, factors):
    """The optimizer class ``name`` on two parameter groups, the rates scaled by ``factors``
    at step ``change_at``, and after that step a new optimizer of the class continuing from
    ``state_dict()`` (a checkpoint): the iterates, and whether step() modified a .grad."""
    params = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in init]

    def make():
        groups = [{"params": params[:2]}, dict(second_group, params=params[2:])]
        return globals()[name](groups, **defaults)

    optimizer = make()
    iterates, grad_modified = [], False
    for k, step_grads in enumerate(grads):
        for p, g in zip(params, step_grads, strict=True):
            p.grad = None if g is None else torch.tensor(g, dtype=torch.float64)
        given = [None if p.grad is None else p.grad.clone() for p in params]
        if k == change_at:
            for group, factor in zip(optimizer.param_groups, factors, strict=True):
                group["lr"] *= factor
        optimizer.step()
        for p, g in zip(params, given, strict=True):
            if g is not None and not torch.equal(p.grad, g):
                grad_modified = True
        iterates.append([p.detach().clone() for p in params])
        if k == change_at:
            checkpoint = optimizer.state_dict()
            optimizer = make()
            optimizer.load_state_dict(checkpoint)
    return {"iterates": iterates, "grad_modified": grad_modified}


def refusals(name, cases):
    """What constructing the optimizer class ``name`` with each of the keyword sets does:
    ``[outcome, message]``."""
    outcomes = []
    for kwargs in cases:
        try:
            globals()[name]([torch.zeros(2, requires_grad=True)], **kwargs)
            outcomes.append(["accepted", ""])
        except ValueError as exc:
            outcomes.append(["ValueError", str(exc)[:300]])
        except Exception as exc:
            outcomes.append([type(exc).__name__, str(exc)[:300]])
    return outcomes


def multipliers(warmup_steps, total_steps, steps):
    """warmup_linear at each step, and the kind of each result."""
    values = [warmup_linear(t, warmup_steps, total_steps) for t in steps]
    return {"values": [float(v) for v in values], "kinds": [kind(v) for v in values]}


def scheduled_rates(lrs, warmup_steps, total_steps, num_steps):
    """The rate of every group before each step, under make_scheduler's scheduler."""
    params = [torch.zeros(1, requires_grad=True) for _ in lrs]
    optimizer = torch.optim.SGD(
        [{"params": [p], "lr": lr} for p, lr in zip(params, lrs, strict=True)], lr=1.0
    )
    scheduler = make_scheduler(optimizer, warmup_steps, total_steps)
    lambda_lr = isinstance(scheduler, torch.optim.lr_scheduler.LambdaLR)
    rates = []
    for _ in range(num_steps):
        rates.append([float(group["lr"]) for group in optimizer.param_groups])
        optimizer.step()
        scheduler.step()
    return {"rates": rates, "lambda_lr": lambda_lr, "type": type(scheduler).__name__}


def evaluated(state, num_classes, images, labels, options):
    """evaluate with each keyword set of ``options``, each time called on a model in
    training mode: the accuracy, its kind, the forward passes and the mode after."""
    net = check_net(state, num_classes, torch.float64)
    x, y = torch.as_tensor(images), torch.as_tensor(labels)
    runs = []
    for kwargs in options:
        forwards, hook = watch(net)
        net.train()
        accuracy = evaluate(net, x, y, **kwargs)
        hook.remove()
        runs.append(
            {
                "accuracy": accuracy,
                "kind": kind(accuracy),
                "forwards": forwards,
                "training": net.training,
            }
        )
    return {"runs": runs, "state": dict(net.state_dict())}
