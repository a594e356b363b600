"""A two-layer perceptron trained by full-batch gradient descent on ``Tensor``.

The model maps a batch X of shape (N, D) to class scores

    logits = tanh(X W1 + b1) W2 + b2,

and training minimizes the mean softmax cross-entropy L with plain gradient descent,
one step per epoch on the whole dataset:

    theta <- theta - lr * dL/dtheta    for theta in (W1, b1, W2, b2).
"""

import numbers

import numpy as np

from course_utils.autodiff.tensor import Tensor, softmax_cross_entropy


class MLP:
    """tanh(X W1 + b1) W2 + b2 with weights drawn from N(0, 1/fan_in) and zero biases."""

    def __init__(self, num_inputs, num_hidden, num_outputs, seed=0):
        rng = np.random.default_rng(seed)
        self.W1 = Tensor(rng.normal(0.0, num_inputs**-0.5, (num_inputs, num_hidden)))
        self.b1 = Tensor(np.zeros(num_hidden))
        self.W2 = Tensor(rng.normal(0.0, num_hidden**-0.5, (num_hidden, num_outputs)))
        self.b2 = Tensor(np.zeros(num_outputs))

    def parameters(self):
        return [self.W1, self.b1, self.W2, self.b2]

    def __call__(self, X):
        hidden = (X @ self.W1 + self.b1).tanh()
        return hidden @ self.W2 + self.b2

    def predict(self, X):
        """Index of the largest logit for every row of X."""
        return np.argmax(self(X).data, axis=1)


def train_mlp(X, y, num_hidden=16, lr=0.5, num_epochs=200, seed=0):
    """Train an ``MLP`` on (X, y) and return ``(model, losses)``, one loss per epoch.

    ``X`` has shape (N, D); ``y`` holds integer labels 0..C-1 with C = max(y) + 1. Each
    loss is the value before that epoch's update.
    """
    if not isinstance(num_hidden, numbers.Integral) or num_hidden < 1:
        raise ValueError(f"Invalid hidden width: {num_hidden!r} (num_hidden must be >= 1)")
    if not lr >= 0:
        raise ValueError(f"Invalid learning rate: {lr!r} (lr must be >= 0)")
    if not isinstance(num_epochs, numbers.Integral) or num_epochs < 0:
        raise ValueError(f"Invalid number of epochs: {num_epochs!r} (num_epochs must be >= 0)")
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"X must have shape (N, D) and y shape (N,), got {X.shape} and {y.shape}")
    model = MLP(X.shape[1], num_hidden, int(y.max()) + 1, seed)
    losses = []
    for _ in range(num_epochs):
        loss = softmax_cross_entropy(model(X), y)
        loss.backward()
        for param in model.parameters():
            param.data -= lr * param.grad
        losses.append(loss.item())
    return model, losses
