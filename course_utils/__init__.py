"""Reference solutions and helpers for the differentiable-programming course.

Subpackages and modules:

- ``course_utils.autodiff``: forward mode (dual numbers), reverse mode (recorded graph),
  Jacobians, gradient checks and computation-graph drawings.
- ``course_utils.batching``: full-batch, stochastic and mini-batch gradient descent as one
  loop, gradient accumulation, gradient-variance estimates.
- ``course_utils.optim``: optimizers as pure update rules and torch.optim drop-ins.
- ``course_utils.schedules``: learning-rate schedules as pure functions and
  torch.optim.lr_scheduler drop-ins, and the LR range test.
- ``course_utils.problems``: test problems (Rosenbrock, Beale, Reddi et al., ...).
- ``course_utils.plots``: trajectory, animation, schedule and loss-curve plots.
"""

__version__ = "0.1.0"
