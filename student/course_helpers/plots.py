"""Plots for the optimization notebooks: trajectories on contour plots, animations,
learning-rate schedules and loss curves (matplotlib).

Every function draws into the ``ax`` (or ``axes``) it is given, or into a new figure, and
returns the axes it drew on (``ax.figure`` is the figure). Nothing here selects a backend,
so the functions work under the inline notebook backend and under Agg alike.

A surface ``f`` is evaluated on a grid as ``f(np.stack([X, Y]))``: the coordinates run along
axis 0, so both the problems of :mod:`course_helpers.problems` and plain functions written as
``lambda p: p[0] ** 2 + 10 * p[1] ** 2`` work.
"""

from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import BoundaryNorm
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle


def _as_trajectory(name: str, points) -> np.ndarray:
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) == 0:
        raise ValueError(
            f"Invalid trajectory {name!r} with shape {points.shape} (expected (T, 2) with T >= 1)"
        )
    return points


def _contour_levels(Z: np.ndarray, levels, log_levels: bool) -> np.ndarray:
    if not isinstance(levels, int):
        return np.asarray(levels, dtype=np.float64)
    if levels < 2:
        raise ValueError(f"Invalid levels: {levels} (levels must be >= 2)")
    finite = Z[np.isfinite(Z)]
    low, high = float(finite.min()), float(finite.max())
    if high <= low:
        return np.array([low - 1.0, low, low + 1.0])
    if log_levels:
        return np.concatenate([[low], low + np.geomspace((high - low) * 1e-4, high - low, levels)])
    return np.linspace(low, high, levels)


def _draw_contours(
    f, xlim, ylim, ax: Axes, levels, log_levels: bool, resolution: int, filled: bool
) -> None:
    xs = np.linspace(*xlim, resolution)
    ys = np.linspace(*ylim, resolution)
    X, Y = np.meshgrid(xs, ys)
    Z = np.asarray(f(np.stack([X, Y])), dtype=np.float64)
    bounds = _contour_levels(Z, levels, log_levels)
    norm = BoundaryNorm(bounds, ncolors=256)
    if filled:
        ax.contourf(X, Y, Z, levels=bounds, cmap="Blues_r", norm=norm, alpha=0.8)
    else:
        ax.contour(X, Y, Z, levels=bounds, cmap="viridis", norm=norm, linewidths=0.7)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")


def plot_trajectories(
    f: Callable[[np.ndarray], np.ndarray],
    trajectories: Mapping[str, np.ndarray],
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    ax: Axes | None = None,
    *,
    levels: int | Sequence[float] = 30,
    log_levels: bool = True,
    resolution: int = 200,
    minimizer: Sequence[float] | None = None,
) -> Axes:
    """Draw several optimizers' iterates on one contour plot of ``f``.

    ``trajectories`` maps a name to an array of shape (T, 2) of iterates. Each trajectory
    is one labelled line plus an unlabelled start marker (circle) and end marker (square)
    in the same colour; ``minimizer``, if given, adds a star labelled "minimum". With an
    integer ``levels`` and ``log_levels`` the contour levels lie at the grid minimum m and
    at m + r·q^k, spaced geometrically from 10⁻⁴ of the value range r up to the maximum,
    which resolves narrow valleys such as Rosenbrock's; without ``log_levels`` they are
    evenly spaced; a sequence of ``levels`` is used as given.
    """
    paths = {name: _as_trajectory(name, points) for name, points in trajectories.items()}
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5))
    _draw_contours(f, xlim, ylim, ax, levels, log_levels, resolution, filled=False)
    for name, points in paths.items():
        (line,) = ax.plot(points[:, 0], points[:, 1], "-", lw=1.5, label=name)
        color = line.get_color()
        ax.plot(*points[0], "o", color=color, ms=6)
        ax.plot(*points[-1], "s", color=color, ms=6)
    if minimizer is not None:
        ax.plot(*minimizer, "*", color="black", ms=12, label="minimum")
    if paths or minimizer is not None:
        ax.legend(loc="best")
    return ax


def _frame_indices(length: int, max_frames: int) -> np.ndarray:
    return np.unique(np.linspace(0, length - 1, min(max_frames, length)).round().astype(int))


def animate_trajectories(
    f: Callable[[np.ndarray], np.ndarray],
    trajectories: Mapping[str, np.ndarray],
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    *,
    max_frames: int = 60,
    interval: int = 80,
    levels: int | Sequence[float] = 30,
    log_levels: bool = True,
    resolution: int = 150,
    figsize: tuple[float, float] = (5.0, 4.0),
    dpi: int = 72,
):
    """Animate the trajectories of :func:`plot_trajectories` as an HTML/JavaScript player.

    Frame k shows every trajectory up to iterate ``i_k``, where the ``i_k`` are at most
    ``max_frames`` iterate indices spread evenly from the first to the last iterate of the
    longest trajectory (shorter trajectories stop at their end). The frames are rendered
    with ``FuncAnimation.to_jshtml``, which embeds PNG images in the page, so no ffmpeg or
    other video encoder is needed; ``max_frames`` bounds the page size (about 40 kB per
    frame at the default size). Returns an ``IPython.display.HTML`` object whose ``data``
    is the HTML string.

    The static part (filled contours, axes, legend, start markers) is rendered once into
    an image; each frame draws only that image and the growing paths, mapped to its pixel
    coordinates, which makes rendering several times faster than redrawing the axes.
    """
    from IPython.display import HTML

    if isinstance(max_frames, bool) or int(max_frames) != max_frames or max_frames < 1:
        raise ValueError(f"Invalid max_frames: {max_frames} (max_frames must be an integer >= 1)")
    paths = {name: _as_trajectory(name, points) for name, points in trajectories.items()}
    if not paths:
        raise ValueError("Invalid trajectories: empty (give at least one trajectory)")
    frames = _frame_indices(max(len(p) for p in paths.values()), int(max_frames))

    background = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(background)
    ax = background.add_subplot()
    _draw_contours(f, xlim, ylim, ax, levels, log_levels, resolution, filled=True)
    colors = {}
    for name, points in paths.items():
        (legend_entry,) = ax.plot([], [], "-", lw=1.5, label=name)
        colors[name] = legend_entry.get_color()
        ax.plot(*points[0], "o", color=colors[name], ms=5)
    ax.legend(loc="best")
    background.canvas.draw()
    image = np.asarray(background.canvas.buffer_rgba()).copy()
    pixels = {name: ax.transData.transform(points) for name, points in paths.items()}

    fig = Figure(figsize=figsize, dpi=dpi)
    screen = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    screen.set_axis_off()
    height, width = image.shape[:2]
    screen.imshow(image, extent=(0, width, 0, height), interpolation="none")
    screen.set_xlim(0, width)
    screen.set_ylim(0, height)
    window = Rectangle(ax.bbox.p0, ax.bbox.width, ax.bbox.height, transform=screen.transData)
    lines = {}
    heads = {}
    for name in paths:
        (lines[name],) = screen.plot([], [], "-", lw=1.5, color=colors[name], clip_path=window)
        (heads[name],) = screen.plot([], [], "s", ms=5, color=colors[name], clip_path=window)
    title = screen.text(width / 2, height - 8, "", ha="center", va="top")

    def draw(i):
        for name, points in pixels.items():
            shown = points[: i + 1]
            lines[name].set_data(shown[:, 0], shown[:, 1])
            heads[name].set_data(shown[-1:, 0], shown[-1:, 1])
        title.set_text(f"iteration {i}")

    animation = FuncAnimation(fig, draw, frames=frames, interval=interval)
    return HTML(animation.to_jshtml(default_mode="once"))


def plot_schedules(
    curves: Mapping[str, Sequence[float]],
    ax: Axes | None = None,
    *,
    log: bool = False,
    xlabel: str = "step",
) -> Axes:
    """Plot learning-rate schedules: one line per name, learning rate against step index
    (``log`` puts the learning rate on a logarithmic axis)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    for name, lrs in curves.items():
        lrs = np.asarray(lrs, dtype=np.float64)
        if lrs.ndim != 1:
            raise ValueError(f"Invalid schedule {name!r} with shape {lrs.shape} (expected 1-D)")
        ax.plot(np.arange(len(lrs)), lrs, label=name)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("learning rate")
    if curves:
        ax.legend(loc="best")
    return ax


def plot_loss_curves(
    histories: Mapping[str, Mapping[str, Sequence[float]]],
    axes: Sequence[Axes] | None = None,
    *,
    log: bool = True,
) -> Sequence[Axes]:
    """Plot training loss against epochs (left panel) and against wall time (right panel).

    Each history holds ``"loss"`` and ``"time"`` with one entry per epoch boundary, the
    first usually epoch 0 before training (the format returned by
    ``minibatch_gd`` of assignment 02); ``time`` is cumulative seconds. The right
    panel shows that the method with the fastest epochs is not always the fastest to a given
    loss. ``log`` puts the loss on a logarithmic axis. Returns the two axes.
    """
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    if len(axes) != 2:
        raise ValueError(f"Invalid axes: {len(axes)} given (expected 2)")
    ax_epoch, ax_time = axes
    for name, history in histories.items():
        if "loss" not in history or "time" not in history:
            raise ValueError(f"Invalid history {name!r}: needs the keys 'loss' and 'time'")
        loss = np.asarray(history["loss"], dtype=np.float64)
        seconds = np.asarray(history["time"], dtype=np.float64)
        if loss.shape != seconds.shape or loss.ndim != 1:
            raise ValueError(
                f"Invalid history {name!r}: loss has shape {loss.shape} and time {seconds.shape}"
                " (expected equal 1-D shapes)"
            )
        ax_epoch.plot(np.arange(len(loss)), loss, marker=".", label=name)
        ax_time.plot(seconds, loss, marker=".", label=name)
    ax_epoch.set_xlabel("epoch")
    ax_time.set_xlabel("wall time [s]")
    for ax in axes:
        ax.set_ylabel("loss")
        if log:
            ax.set_yscale("log")
        if histories:
            ax.legend(loc="best")
    return axes
