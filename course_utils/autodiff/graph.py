"""Drawing of the computation graph recorded by ``Var``.

Nodes are placed in layers by depth, the length of the longest path from an input:
inputs sit in layer 0 on the left and every node lies to the right of all its parents, so
edges point from inputs towards the output, the direction of the forward pass. The
backward pass walks the same edges right to left.
"""

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from course_utils.autodiff.reverse import topological_order

_BOX_WIDTH = 0.7
_BOX_HEIGHT = 0.5


def _label(node, show_grad):
    if node.op:
        head = node.op
    elif node.name:
        head = node.name
    else:
        head = "const"
    label = f"{head}\n{node.value:.4g}"
    if show_grad:
        label += f"\ngrad {node.grad:.4g}"
    return label


def _layout(order):
    depth = {}
    for node in order:
        depth[node] = 1 + max((depth[p] for p in node.parents), default=-1)
    layers = {}
    positions = {}
    for node in order:
        row = layers.get(depth[node], 0)
        layers[depth[node]] = row + 1
        positions[node] = (float(depth[node]), -float(row))
    return positions


def draw_graph(output, ax=None, show_grad=False):
    """Draw the graph that ends in the ``Var`` ``output`` and return the Axes.

    Each node is a box (one patch) labelled with one text: its op (or its name for an
    input, "const" for a constant), its value and, with ``show_grad=True``, its adjoint
    as left by the last ``backward()``. Each edge parent -> child is one arrow patch.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    order = topological_order(output)
    positions = _layout(order)
    for node in order:
        x, y = positions[node]
        ax.add_patch(
            FancyBboxPatch(
                (x - _BOX_WIDTH / 2, y - _BOX_HEIGHT / 2),
                _BOX_WIDTH,
                _BOX_HEIGHT,
                boxstyle="round,pad=0.02",
                facecolor="lightyellow" if node is output else "white",
                edgecolor="black",
            )
        )
        ax.text(x, y, _label(node, show_grad), ha="center", va="center", fontsize=8)
        for parent in node.parents:
            px, py = positions[parent]
            ax.add_patch(
                FancyArrowPatch(
                    (px + _BOX_WIDTH / 2, py),
                    (x - _BOX_WIDTH / 2, y),
                    arrowstyle="-|>",
                    mutation_scale=10,
                    color="gray",
                )
            )
    xs = [x for x, _ in positions.values()]
    ys = [y for _, y in positions.values()]
    ax.set_xlim(min(xs) - _BOX_WIDTH, max(xs) + _BOX_WIDTH)
    ax.set_ylim(min(ys) - _BOX_HEIGHT, max(ys) + _BOX_HEIGHT)
    ax.set_axis_off()
    return ax
