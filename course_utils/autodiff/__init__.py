"""Automatic differentiation from scratch: the reference the course's first assignment
asks students to rebuild.

- ``Dual``, ``derivative``: forward mode with dual numbers (``forward``).
- ``Var``: reverse mode on scalars with a recorded graph (``reverse``).
- ``Tensor``, ``softmax_cross_entropy``: reverse mode on numpy arrays (``tensor``),
  and ``MLP`` / ``train_mlp``, a small network trained with it (``mlp``).
- ``sin cos exp log tanh sigmoid relu``: one set of functions for floats, ``Dual``,
  ``Var`` and ``Tensor`` (``functions``).
- ``jacobian_forward``, ``jacobian_reverse``: Jacobians by n or m passes (``jacobian``).
- ``numerical_gradient``, ``gradient_check``: central differences (``gradcheck``).

The drawing of a ``Var`` graph is a student helper: ``course_helpers.graph.draw_graph``.
"""

from course_utils.autodiff.forward import Dual, derivative
from course_utils.autodiff.functions import cos, exp, log, relu, sigmoid, sin, tanh
from course_utils.autodiff.gradcheck import gradient_check, numerical_gradient
from course_utils.autodiff.jacobian import jacobian_forward, jacobian_reverse
from course_utils.autodiff.mlp import MLP, train_mlp
from course_utils.autodiff.reverse import Var, topological_order
from course_utils.autodiff.tensor import Tensor, softmax_cross_entropy, unbroadcast

__all__ = [
    "MLP",
    "Dual",
    "Tensor",
    "Var",
    "cos",
    "derivative",
    "exp",
    "gradient_check",
    "jacobian_forward",
    "jacobian_reverse",
    "log",
    "numerical_gradient",
    "relu",
    "sigmoid",
    "sin",
    "softmax_cross_entropy",
    "tanh",
    "topological_order",
    "train_mlp",
    "unbroadcast",
]
