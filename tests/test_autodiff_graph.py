"""Drawing of a Var graph with the Agg backend."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from course_helpers.graph import draw_graph as draw_order  # noqa: E402
from course_utils.autodiff import Var, sin, topological_order  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def draw_graph(output, **options):
    return draw_order(topological_order(output), **options)


def lecture_graph():
    x, y = Var(0.5, name="x"), Var(2.0, name="y")
    return x, y, x * y + sin(x)


def test_one_box_and_label_per_node_one_arrow_per_edge():
    _, _, z = lecture_graph()
    ax = draw_graph(z)
    # nodes x, y, x*y, sin x, + ; edges x->*, y->*, x->sin, *->+, sin->+
    assert len(ax.texts) == 5
    assert len(ax.patches) == 5 + 5
    labels = sorted(text.get_text().split("\n")[0] for text in ax.texts)
    assert labels == sorted(["x", "y", "*", "sin", "+"])


def test_layers_follow_depth():
    _, _, z = lecture_graph()
    ax = draw_graph(z)
    column = {text.get_text().split("\n")[0]: text.get_position()[0] for text in ax.texts}
    assert column["x"] == column["y"] < column["*"] == column["sin"] < column["+"]


def test_labels_show_values_and_adjoints_after_backward():
    x, y, z = lecture_graph()
    z.backward()
    ax = draw_graph(z, show_grad=True)
    label = {text.get_text().split("\n")[0]: text.get_text() for text in ax.texts}
    assert label["y"] == "y\n2\ngrad 0.5"
    assert label["+"].startswith(f"+\n{0.5 * 2.0 + math.sin(0.5):.4g}\n")
    assert all("grad" not in text.get_text() for text in draw_graph(z).texts)


def test_draws_into_given_axes_and_marks_constants():
    fig, ax = plt.subplots()
    x = Var(1.5, name="x")
    returned = draw_graph(x * 2.0, ax=ax)
    assert returned is ax
    fig.canvas.draw()
    assert sorted(t.get_text().split("\n")[0] for t in ax.texts) == ["*", "const", "x"]
    assert len(ax.patches) == 3 + 2


def test_refuses_an_order_with_a_node_before_its_parent():
    x, y, z = lecture_graph()
    with pytest.raises(ValueError, match="comes before its parent"):
        draw_order(list(reversed(topological_order(z))))
    with pytest.raises(ValueError, match="no nodes"):
        draw_order([])
