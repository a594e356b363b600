"""Optimizers: pure per-tensor update rules and drop-in replacements for torch.optim.

- :mod:`course_utils.optim.functional`: ``sgd_update``, ``adagrad_update``,
  ``rmsprop_update``, ``adam_update`` (NumPy or torch, explicit state dicts).
- :class:`SGD`, :class:`Adagrad`, :class:`RMSprop`, :class:`Adam`, :class:`AdamW`:
  ``torch.optim.Optimizer`` subclasses with torch.optim's arguments, defaults and values.
- :class:`SWATS`: Adam, then SGD with momentum once a stable SGD learning rate is found.
- :mod:`course_utils.optim.momentum`: the three momentum conventions and their relations.
"""

from course_utils.optim.adagrad import Adagrad
from course_utils.optim.adam import Adam, AdamW
from course_utils.optim.functional import adagrad_update, adam_update, rmsprop_update, sgd_update
from course_utils.optim.momentum import momentum_ema, momentum_goodfellow, momentum_pytorch
from course_utils.optim.rmsprop import RMSprop
from course_utils.optim.sgd import SGD
from course_utils.optim.swats import SWATS

__all__ = [
    "SGD",
    "Adagrad",
    "RMSprop",
    "Adam",
    "AdamW",
    "SWATS",
    "sgd_update",
    "adagrad_update",
    "rmsprop_update",
    "adam_update",
    "momentum_pytorch",
    "momentum_goodfellow",
    "momentum_ema",
]
