"""Test order for pytest-xdist's ``--dist loadscope``: each module, or test class, runs
on one worker, and the Makefile keeps the order of this file's collection
(``--no-loadscope-reorder``; xdist would otherwise put the scopes with the most tests
first). The scopes below run longest, so they start first and none of them starts last,
while the other worker idles. The list only orders: a scope missing from it runs after
these, in file order."""

LONGEST_FIRST = (  # seconds each on the 2-core machine, two workers (2026-12-02)
    "tests/test_assignments.py::TestSamples_01_autodiff",  # 150
    "tests/test_assignments.py::TestSamples_05_cifar10",  # 125
    "tests/test_cli.py",  # 117
    "tests/test_isolation.py::TestHostileBatchAsUser",  # 99
    "tests/test_isolation.py::TestHostileBatchAsRoot",  # 97
    "tests/test_resume.py",  # 97
    "tests/test_grading.py",  # 92
    "tests/test_assignments.py::TestSamples_03_optimizers",  # 91
    "tests/test_jobs.py",  # 80
    "tests/test_student_release.py::TestAnsweredRelease_05_cifar10",  # 75
    "tests/test_cifar10.py",  # 64
    "tests/test_release.py",  # 58
    "tests/test_assignments.py::TestSamples_04_lr_schedules",  # 56
    "tests/test_assignments.py::TestSamples_02_batching",  # 54
    "tests/test_student_release.py::TestAnsweredRelease_04_lr_schedules",  # 49
    "tests/test_mutation.py",  # 49
)


def pytest_collection_modifyitems(items):
    rank = {scope: i for i, scope in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.rsplit("::", 1)[0], len(rank)))
