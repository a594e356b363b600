"""Drawing of a computation graph recorded by a ``Var`` class (assignment 01).

The nodes to draw come in the order of your ``topological_order(output)`` (every node after
its parents); a node needs the attributes ``value``, ``grad``, ``parents``, ``op`` and
``name`` of the notebook's ``Var``.

Nodes are placed in layers by depth, the length of the longest path from an input:
inputs sit in layer 0 on the left and every node lies to the right of all its parents, so
edges point from inputs towards the output, the direction of the forward pass. The
backward pass walks the same edges right to left.
"""

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

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


def draw_graph(order, ax=None, show_grad=False):
    """Draw the graph whose nodes are ``order`` and return the Axes.

    ``order`` lists every node of the graph, each after its parents, ending with the
    output, as ``topological_order(output)`` returns them; the last node is highlighted.

    Each node is a box (one patch) labelled with one text: its op (or its name for an
    input, "const" for a constant), its value and, with ``show_grad=True``, its adjoint
    as left by the last ``backward()``. Each edge parent -> child is one arrow patch.
    """
    order = list(order)
    if not order:
        raise ValueError("Invalid order: no nodes (pass topological_order(output))")
    seen = set()
    for node in order:
        missing = [p for p in node.parents if p not in seen]
        if missing:
            raise ValueError(
                f"Invalid order: node {node!r} comes before its parent {missing[0]!r} "
                "(every node must come after its parents, as topological_order returns them)"
            )
        seen.add(node)
    output = order[-1]
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
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
