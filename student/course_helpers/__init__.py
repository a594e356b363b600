"""Helpers that travel with the student release of every assignment.

``make release`` copies this package into each release folder, so a notebook runs from its
folder with only numpy, matplotlib, torch, tqdm and JupyterLab installed. Nothing here is
the answer to a graded task: the reference solutions stay in ``course_utils``, which is
the instructor's.

- :mod:`course_helpers.plots`: trajectories on contour plots, animations, schedules and
  loss curves.
- :mod:`course_helpers.problems`: test problems (Rosenbrock, Beale, Reddi et al., sparse
  and synthetic regression data).
- :mod:`course_helpers.graph`: drawing of a computation graph in your topological order.
- :mod:`course_helpers.cifar10`: CIFAR-10 loading (and a synthetic stand-in), the
  networks, and a training loop built from your own functions.
- :mod:`course_helpers.notebooks`: your answer to an earlier assignment, loaded from its
  notebook.
"""

__version__ = "0.1.0"
