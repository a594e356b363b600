"""The reference answers of each assignment under the notebook's own names and signatures.

One module per assignment; each defines exactly the names its notebook asks for (listed in
its ``__all__``), with the notebook's signatures, on top of the one implementation of each
algorithm in the rest of ``course_utils``. The hidden checks run against these modules (the
``REFERENCE_SETUP`` of a check module imports one), so the same checks grade a notebook
and the reference.
"""

MODULES = {
    "01_autodiff": "course_utils.answers.autodiff",
    "02_batching": "course_utils.answers.batching",
    "03_optimizers": "course_utils.answers.optimizers",
    "04_lr_schedules": "course_utils.answers.lr_schedules",
    "05_cifar10": "course_utils.answers.cifar10",
}
