"""The students' helpers: the CIFAR-10 loop of the student's own functions, and answers
taken from an earlier notebook."""

import json

import pytest
import torch
import torch.nn.functional as F

from course_helpers.cifar10 import fit
from course_helpers.notebooks import AnswerNotAvailable, load_answer
from course_utils.answers.cifar10 import train_step as _step


def _mean_loss(model, images, labels):
    model.eval()
    with torch.no_grad():
        return F.cross_entropy(model(images), labels).item()


def _accuracy(model, images, labels, tta=False):
    model.eval()
    with torch.no_grad():
        logits = model(images)
        if tta:
            logits = logits + model(images.flip(-1))
        return (logits.argmax(1) == labels).double().mean().item()


def _problem():
    torch.manual_seed(0)
    x = torch.randn(37, 3, 4, 4, dtype=torch.float64)
    y = torch.randint(0, 3, (37,))
    return x, y, x[:11], y[:11]


def _model():
    torch.manual_seed(1)
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(48, 3)).double()


def _flip_half(images, generator):
    keep = torch.rand(len(images), generator=generator) < 0.5
    return torch.where(keep.view(-1, 1, 1, 1), images, images.flip(-1))


def test_fit_is_the_loop_written_out_by_hand():
    x, y, tx, ty = _problem()
    model = _model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)
    metrics = fit(
        model,
        optimizer,
        scheduler,
        x,
        y,
        tx,
        ty,
        train_step=_step,
        mean_loss=_mean_loss,
        evaluate=_accuracy,
        epochs=3,
        batch_size=8,
        augment=_flip_half,
        label_smoothing=0.1,
        tta=True,
        seed=5,
    )
    # the same loop, by hand
    by_hand = _model()
    opt = torch.optim.SGD(by_hand.parameters(), lr=0.1, momentum=0.9)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    generator = torch.Generator().manual_seed(5)
    expected = []
    for _ in range(3):
        order = torch.randperm(37, generator=generator)
        losses = [
            _step(by_hand, opt, sched, _flip_half(x[i], generator), y[i], 0.1)
            for i in order.split(8)
        ]
        expected.append(
            (
                sum(losses) / len(losses),
                _accuracy(by_hand, x, y),
                _mean_loss(by_hand, tx, ty),
                _accuracy(by_hand, tx, ty, tta=True),
                opt.param_groups[0]["lr"],
            )
        )
    for p, q in zip(model.parameters(), by_hand.parameters(), strict=True):
        assert torch.equal(p, q)
    got = [
        (e["train_loss"], e["train_accuracy"], e["test_loss"], e["test_accuracy"], e["lr"])
        for e in metrics["epochs"]
    ]
    assert got == expected
    assert [e["epoch"] for e in metrics["epochs"]] == [1, 2, 3]
    assert metrics["train_time_s"] == pytest.approx(
        sum(e["epoch_time_s"] for e in metrics["epochs"])
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"epochs": 0}, "epochs must be an integer >= 1"),
        ({"batch_size": 2.5}, "batch_size must be an integer >= 1"),
        ({"train_labels": torch.zeros(3, dtype=torch.long)}, "one label per image"),
    ],
)
def test_fit_refuses_bad_arguments_with_what_to_do(change, message):
    x, y, tx, ty = _problem()
    model = _model()
    arguments = dict(train_labels=y, epochs=1, batch_size=8)
    arguments.update(change)
    with pytest.raises(ValueError, match=message):
        fit(
            model,
            torch.optim.SGD(model.parameters(), lr=0.1),
            None,
            x,
            arguments.pop("train_labels"),
            tx,
            ty,
            train_step=_step,
            mean_loss=_mean_loss,
            evaluate=_accuracy,
            **arguments,
        )


def _cell(source, grade_id, **nbgrader):
    return {
        "cell_type": "code",
        "metadata": {"nbgrader": {"grade_id": grade_id, **nbgrader}},
        "source": source,
        "outputs": [],
        "execution_count": None,
    }


def _course(tmp_path, cells):
    earlier = tmp_path / "04_lr_schedules"
    earlier.mkdir()
    (earlier / "04_lr_schedules.ipynb").write_text(
        json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    )
    current = tmp_path / "05_cifar10"
    current.mkdir()
    return current


def test_load_answer_runs_what_the_grader_runs_and_returns_the_name(tmp_path, monkeypatch):
    current = _course(
        tmp_path,
        [
            _cell("import math\nSCALE = 3", "setup"),
            _cell(["def triple(x):\n", "    return SCALE * x\n"], "04_1-answer", solution=True),
            _cell("raise AssertionError('visible tests are not run')", "04_1", grade=True),
            _cell("raise AssertionError('experiments are not run')", "04_1-demo"),
        ],
    )
    monkeypatch.chdir(current)
    assert load_answer("04_lr_schedules", "triple")(2) == 6


def test_load_answer_says_why_it_cannot(tmp_path, monkeypatch):
    current = _course(
        tmp_path,
        [
            _cell("def broken(:\n    pass", "04_1-answer", solution=True),
        ],
    )
    monkeypatch.chdir(current)
    with pytest.raises(AnswerNotAvailable, match="SyntaxError.*04_1-answer"):
        load_answer("04_lr_schedules", "broken")
    with pytest.raises(AnswerNotAvailable, match="next to this assignment's folder"):
        load_answer("03_optimizers", "adam_step")
    (tmp_path / "04_lr_schedules" / "04_lr_schedules.ipynb").write_text(
        json.dumps({"cells": [_cell("x = 1", "setup")]})
    )
    with pytest.raises(AnswerNotAvailable, match="does not define 'lr_range_test'"):
        load_answer("04_lr_schedules", "lr_range_test")
    (tmp_path / "04_lr_schedules" / "04_lr_schedules.ipynb").write_text("{not json")
    with pytest.raises(AnswerNotAvailable, match="Could not read"):
        load_answer("04_lr_schedules", "lr_range_test")
