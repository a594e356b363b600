"""The answers of assignment 04_lr_schedules under the notebook's names and signatures."""

import torch

from course_utils import schedules as _schedules


def step_lr(t, base_lr, step_size, gamma=0.1):
    return _schedules.step_lr(t, base_lr, step_size, gamma)


def multistep_lr(t, base_lr, milestones, gamma=0.1):
    return _schedules.multistep_lr(t, base_lr, milestones, gamma)


def cosine_lr(t, base_lr, T_max, eta_min=0.0):
    return _schedules.cosine_annealing_lr(t, base_lr, T_max, eta_min)


def linear_warmup_cosine(
    t, base_lr, warmup_steps, total_steps, warmup_start_factor=0.0, eta_min=0.0
):
    return _schedules.warmup_cosine_lr(
        t, base_lr, warmup_steps, total_steps, warmup_start_factor, eta_min
    )


class _Groups:
    def __init__(self, lr):
        self.param_groups = [{"lr": lr}]


class ReduceOnPlateau:
    def __init__(
        self, lr, factor=0.1, patience=10, threshold=1e-4, cooldown=0, min_lr=0.0, eps=1e-8
    ):
        self._optimizer = _Groups(lr)
        self._scheduler = _schedules.ReduceLROnPlateau(
            self._optimizer,
            factor=factor,
            patience=patience,
            threshold=threshold,
            cooldown=cooldown,
            min_lr=min_lr,
            eps=eps,
        )
        self.lr = lr

    def step(self, metric):
        self._scheduler.step(metric)
        self.lr = self._optimizer.param_groups[0]["lr"]
        return self.lr


def cyclic_lr(t, base_lr, max_lr, step_size_up, step_size_down=None, mode="triangular"):
    return _schedules.cyclic_lr(t, base_lr, max_lr, step_size_up, step_size_down, mode)


def sgdr(t, base_lr, T_0, T_mult=1, eta_min=0.0):
    return _schedules.cosine_warm_restarts_lr(t, base_lr, T_0, T_mult, eta_min)


def one_cycle(t, max_lr, total_steps, pct_start=0.3, div_factor=25.0, final_div_factor=1e4):
    return _schedules.one_cycle_lr(
        t, max_lr, total_steps, pct_start, "cos", div_factor, final_div_factor
    )


def lr_range_test(
    train_step,
    start_lr=1e-7,
    end_lr=10.0,
    num_iters=100,
    smooth=0.05,
    diverge_threshold=4.0,
    skip_start=10,
    skip_end=5,
):
    model = torch.nn.Linear(1, 1, dtype=torch.float64)
    optimizer = torch.optim.SGD(model.parameters(), lr=start_lr)

    def loss_fn(output, target):
        return output.sum() * 0.0 + float(train_step(optimizer.param_groups[0]["lr"]))

    data = [(torch.zeros(1, 1, dtype=torch.float64), torch.zeros(1, dtype=torch.float64))]
    out = _schedules.lr_range_test(
        model,
        loss_fn,
        data,
        optimizer,
        start_lr=start_lr,
        end_lr=end_lr,
        num_iters=num_iters,
        smooth=smooth,
        diverge_threshold=diverge_threshold,
        suggestion="steepest",
        skip_start=skip_start,
        skip_end=skip_end,
    )
    return {"lrs": out.lrs, "losses": out.losses, "suggested_lr": out.suggested_lr}


__all__ = [
    "step_lr",
    "multistep_lr",
    "cosine_lr",
    "linear_warmup_cosine",
    "ReduceOnPlateau",
    "cyclic_lr",
    "sgdr",
    "one_cycle",
    "lr_range_test",
]
