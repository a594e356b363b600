"""Plots under Agg: artists, labels, contour levels, animation frames without ffmpeg."""

import base64
import io
import re
import shutil

import matplotlib

matplotlib.use("Agg")

import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.contour import ContourSet

from course_helpers.plots import (
    animate_trajectories,
    plot_loss_curves,
    plot_schedules,
    plot_trajectories,
)
from course_utils.batching import linear_regression_loss_grad, minibatch_gd


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def rosenbrock(p):
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


def trajectories():
    steps = np.linspace(0.0, 1.0, 40)[:, None]
    return {
        "gd": np.hstack([-1.5 + 2.5 * steps, 2.0 - steps]),
        "momentum": np.hstack([-1.0 + 2.0 * steps**2, 1.0 + 0.0 * steps]),
        "adam": np.array([[0.0, 0.0], [0.5, 0.5], [1.0, 1.0]]),
    }


def contour_set(ax):
    sets = [c for c in ax.collections if isinstance(c, ContourSet)]
    assert len(sets) == 1
    return sets[0]


def test_plot_trajectories_artists_and_labels():
    paths = trajectories()
    ax = plot_trajectories(rosenbrock, paths, (-2.0, 2.0), (-1.0, 3.0), minimizer=(1.0, 1.0))
    lines = ax.get_lines()
    assert len(lines) == 3 * len(paths) + 1
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == [*paths, "minimum"]
    assert ax.get_xlabel() and ax.get_ylabel()
    assert ax.get_xlim() == (-2.0, 2.0) and ax.get_ylim() == (-1.0, 3.0)
    for name, points in paths.items():
        (path,) = [line for line in lines if line.get_label() == name]
        np.testing.assert_array_equal(np.column_stack(path.get_data()), points)
        same_colour = [line for line in lines if line.get_color() == path.get_color()]
        ends = [np.column_stack(line.get_data())[0] for line in same_colour if line is not path]
        assert len(ends) == 2
        np.testing.assert_array_equal(ends[0], points[0])
        np.testing.assert_array_equal(ends[1], points[-1])


def test_plot_trajectories_log_levels_are_geometric_above_the_grid_minimum():
    _, ax = plt.subplots()
    returned = plot_trajectories(
        rosenbrock, {"a": np.zeros((2, 2))}, (-2, 2), (-1, 3), ax=ax, levels=12, resolution=50
    )
    assert returned is ax
    X, Y = np.meshgrid(np.linspace(-2, 2, 50), np.linspace(-1, 3, 50))
    Z = (1 - X) ** 2 + 100 * (Y - X**2) ** 2
    levels = contour_set(ax).levels
    assert levels[0] == pytest.approx(Z.min())
    assert levels[-1] == pytest.approx(Z.max())
    ratios = np.diff(np.log(levels[1:] - Z.min()))
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-9)
    assert len(levels) == 13


def test_plot_trajectories_linear_and_explicit_levels():
    ax = plot_trajectories(
        rosenbrock, {"a": np.zeros((2, 2))}, (-2, 2), (-1, 3), levels=5, log_levels=False
    )
    np.testing.assert_allclose(np.diff(contour_set(ax).levels), np.diff(contour_set(ax).levels)[0])
    ax = plot_trajectories(rosenbrock, {"a": np.zeros((2, 2))}, (-2, 2), (-1, 3), levels=[1, 5, 50])
    np.testing.assert_array_equal(contour_set(ax).levels, [1, 5, 50])


@pytest.mark.parametrize("bad", [np.zeros((5, 3)), np.zeros(4), np.zeros((0, 2))])
def test_plot_trajectories_rejects_bad_shapes(bad):
    with pytest.raises(ValueError, match="Invalid trajectory 'bad'"):
        plot_trajectories(rosenbrock, {"bad": bad}, (-2, 2), (-1, 3))


def frames_of(html):
    encoded = re.findall(r'"data:image/png;base64,([^"]*)"', html)
    return [base64.b64decode(frame.replace("\\n", "")) for frame in encoded]


@pytest.mark.parametrize(("length", "max_frames", "expected"), [(7, 100, 7), (250, 9, 9)])
def test_animation_is_jshtml_without_ffmpeg(monkeypatch, length, max_frames, expected):
    monkeypatch.setitem(matplotlib.rcParams, "animation.ffmpeg_path", "/nonexistent/ffmpeg")
    monkeypatch.setattr(shutil, "which", lambda *args, **kwargs: None)
    t = np.linspace(0.0, 1.0, length)[:, None]
    paths = {"a": np.hstack([-1.5 + 2.5 * t, 2.0 - t]), "b": np.hstack([t, t])[: length // 2 + 1]}
    html = animate_trajectories(rosenbrock, paths, (-2, 2), (-1, 3), max_frames=max_frames)
    text = html.data
    assert "<script" in text
    assert re.search(r"new Array\((\d+)\)", text).group(1) == str(expected)
    frames = frames_of(text)
    assert len(frames) == expected
    assert len(text) < 60_000 * expected
    images = [mpimg.imread(io.BytesIO(frame), format="png") for frame in (frames[0], frames[-1])]
    assert images[0].shape == images[1].shape
    assert images[0].shape[:2] == (288, 360)
    assert not np.array_equal(images[0], images[1])


def test_animation_rejects_bad_input():
    with pytest.raises(ValueError, match="Invalid max_frames"):
        animate_trajectories(rosenbrock, trajectories(), (-2, 2), (-1, 3), max_frames=0)
    with pytest.raises(ValueError, match="Invalid trajectories"):
        animate_trajectories(rosenbrock, {}, (-2, 2), (-1, 3))


def test_plot_schedules():
    curves = {"step": [0.1] * 5 + [0.01] * 5, "cosine": 0.05 * (1 + np.cos(np.arange(10) / 3))}
    ax = plot_schedules(curves, log=True)
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == list(curves)
    for line, values in zip(lines, curves.values(), strict=True):
        np.testing.assert_array_equal(line.get_xdata(), np.arange(10))
        np.testing.assert_array_equal(line.get_ydata(), values)
    assert ax.get_yscale() == "log"
    assert ax.get_xlabel() == "step" and ax.get_ylabel() == "learning rate"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(curves)
    _, given = plt.subplots()
    assert plot_schedules(curves, ax=given).get_yscale() == "linear"
    with pytest.raises(ValueError, match="Invalid schedule"):
        plot_schedules({"bad": np.ones((2, 2))})


def test_plot_loss_curves_from_minibatch_histories():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    y = X @ np.array([1.0, -2.0, 0.5])
    histories = {}
    for batch_size in (1, 10, 60):
        _, histories[f"b={batch_size}"] = minibatch_gd(
            linear_regression_loss_grad,
            np.zeros(3),
            X,
            y,
            lr=0.05,
            batch_size=batch_size,
            num_epochs=4,
            loss_fn=lambda theta, Xa, ya: linear_regression_loss_grad(theta, Xa, ya)[0],
        )
    ax_epoch, ax_time = plot_loss_curves(histories)
    assert ax_epoch.get_xlabel() == "epoch"
    assert "time" in ax_time.get_xlabel()
    assert ax_epoch.get_yscale() == ax_time.get_yscale() == "log"
    for ax in (ax_epoch, ax_time):
        assert [line.get_label() for line in ax.get_lines()] == list(histories)
        assert ax.get_ylabel() == "loss"
    for line_e, line_t, history in zip(
        ax_epoch.get_lines(), ax_time.get_lines(), histories.values(), strict=True
    ):
        np.testing.assert_array_equal(line_e.get_xdata(), np.arange(5))
        np.testing.assert_array_equal(line_e.get_ydata(), history["loss"])
        np.testing.assert_array_equal(line_t.get_xdata(), history["time"])


def test_plot_loss_curves_uses_given_axes_and_checks_input():
    fig, axes = plt.subplots(2, 1)
    returned = plot_loss_curves({"a": {"loss": [1.0, 0.5], "time": [0.0, 0.1]}}, axes, log=False)
    assert returned[0] is axes[0] and returned[1] is axes[1]
    assert axes[0].get_yscale() == "linear"
    with pytest.raises(ValueError, match="Invalid history 'a'"):
        plot_loss_curves({"a": {"loss": [1.0, 0.5], "time": [0.0]}})
    with pytest.raises(ValueError, match="Invalid history 'a'"):
        plot_loss_curves({"a": {"loss": [1.0]}})
    with pytest.raises(ValueError, match="Invalid axes"):
        plot_loss_curves({}, axes=[axes[0]])
