"""The allowed-imports rule of answer cells (``ANSWER_IMPORTS`` in a check module)."""

import nbformat
import pytest

from autograder.answer_rules import allowed_imports, import_findings
from autograder.grading import CHECKS_DIR, grade_notebook
from autograder.samples.__main__ import sample_notebooks

ALLOWED = ("math", "numpy")


def cell(kind, source, grade_id=None):
    made = nbformat.v4.new_code_cell(source)
    if kind == "setup":
        made.metadata["nbgrader"] = {"grade_id": "setup", "locked": True}
    elif kind == "answer":
        made.metadata["nbgrader"] = {"grade_id": f"{grade_id}-answer", "solution": True}
    elif kind == "test":
        made.metadata["nbgrader"] = {"grade_id": grade_id, "grade": True, "points": 1}
    return made


def notebook(*cells):
    made = nbformat.v4.new_notebook()
    made.cells = [
        cell(
            "setup",
            "import math\nimport numpy as np\nimport torch\nimport matplotlib.pyplot as plt",
        ),
        *cells,
    ]
    return made


def findings(*cells):
    return import_findings(notebook(*cells), ALLOWED)


def test_every_check_module_states_its_rule():
    for path in sorted(CHECKS_DIR.glob("test_*.py")):
        allowed = allowed_imports(path)
        assert allowed and "numpy" in allowed, path.name
    assert "torch" in allowed_imports(CHECKS_DIR / "test_05_cifar10.py")
    assert "torch" not in allowed_imports(CHECKS_DIR / "test_03_optimizers.py")


@pytest.mark.parametrize(
    "source",
    [
        "def f(x):\n    return np.sqrt(x) + math.pi",
        "import numpy.linalg as la\nfrom collections import deque\nimport heapq\n"
        "def f(x):\n    return la.norm(x) + len(deque([1]))",
        "from numpy import zeros_like as zl\ndef f(x):\n    return zl(x)",
        "%timeit 1\n!ls\ndef f(x):\n    return x",
        "def f(x):\n    torch_like = np.asarray(x)\n    return torch_like",
    ],
)
def test_answers_with_allowed_modules_have_no_finding(source):
    assert findings(cell("answer", source, "03_2"), cell("test", "", "03_2")) == {}


@pytest.mark.parametrize(
    "source, text",
    [
        ("import torch\ndef f(x):\n    return torch.tensor(x)", "imports torch"),
        ("def f(x):\n    return torch.optim.SGD", "uses `torch` (the module torch)"),
        ("def f(x):\n    plt.plot(x)\n    return x", "uses `plt` (the module matplotlib)"),
        ("from torch.optim import SGD", "imports from torch.optim"),
        ("t = __import__('tor' + 'ch')", "imports a module by name (__import__())"),
        ("import importlib\nt = importlib.import_module('torch')", "by name (importlib)"),
        ("import sys\nt = sys.modules['torch']", "imports a module by name (sys.modules)"),
        ("import scipy.optimize", "imports scipy.optimize"),
    ],
)
def test_answers_reaching_other_modules_are_found_with_their_line(source, text):
    found = findings(cell("answer", source, "03_2"), cell("test", "", "03_2"))
    assert list(found) == ["03.2"]
    assert any(text in message for message in found["03.2"]), found
    assert all("answer cell 03_2-answer, line" in message for message in found["03.2"])


def test_a_helper_an_added_cell_defines_with_another_module_counts_as_it():
    helper = nbformat.v4.new_code_cell(
        "def helper(x):\n    return torch.sin(x)\n\ndef outer(x):\n    return helper(x)"
    )
    unused = nbformat.v4.new_code_cell("def torch_run(x):\n    return torch.ones(3)")
    found = findings(
        cell("answer", "def f(x):\n    return x", "03_1"),
        cell("test", "", "03_1"),
        helper,
        unused,
        cell("answer", "def g(x):\n    return outer(x)", "03_2"),
        cell("test", "", "03_2"),
    )
    assert list(found) == ["03.2"], found
    assert "answer cell 03_2-answer, line 2, uses `outer` (the module torch)" in found["03.2"][0]


def test_an_added_cell_may_explore_with_any_module_at_its_top_level():
    explore = nbformat.v4.new_code_cell(
        "import torch\nimport matplotlib.pyplot as plt\nplt.plot([1, 2]); plt.show()\n"
        "print(torch.autograd.grad)\nfor v in [1, 2]:\n    print(torch.tensor(v))"
    )
    answer = cell("answer", "def f(x):\n    return np.sqrt(x)", "03_2")
    assert findings(answer, explore, cell("test", "", "03_2")) == {}


def test_names_an_added_cell_binds_to_another_module_are_that_module():
    smuggle = nbformat.v4.new_code_cell("import torch.optim as o\n_SGD = o.SGD\nalias = _SGD")
    answer = cell("answer", "def f(p):\n    return alias([p], lr=0.1)", "03_2")
    found = findings(smuggle, answer, cell("test", "", "03_2"))
    assert "uses `alias` (the module torch)" in found["03.2"][0], found


def test_instructor_cells_may_import_anything():
    demo = cell("setup", "import torch\nfrom course_helpers import plots\nplots.x = torch.ones(1)")
    demo.metadata["nbgrader"]["grade_id"] = "03_2-demo"
    test = cell("test", "assert torch.allclose(torch.ones(1), torch.ones(1))", "03_2")
    assert findings(cell("answer", "def f(x):\n    return x", "03_2"), demo, test) == {}


def test_a_cell_that_is_not_python_is_left_to_the_checks():
    assert findings(cell("answer", "def f(:\n  torch", "03_2"), cell("test", "", "03_2")) == {}


def test_the_reference_solutions_keep_their_rules():
    for path in sorted(CHECKS_DIR.glob("test_*.py")):
        assignment = path.stem.removeprefix("test_")
        (_, reference), *_ = sample_notebooks(assignment)
        assert import_findings(reference, allowed_imports(path)) == {}, assignment


def test_grading_fails_only_the_task_whose_answer_breaks_the_rule():
    samples = dict((s.student, nb) for s, nb in sample_notebooks("03_optimizers"))
    submission = samples["reference"]
    answer = next(
        c
        for c in submission.cells
        if c.metadata.get("nbgrader", {}).get("grade_id") == "03_2-answer"
    )
    answer.source += "\n\n_unused = torch.optim.SGD  # the grader must notice this\n"
    result = grade_notebook(submission, "03_optimizers")
    lost = {t for t, r in result.tasks.items() if r.score < r.points}
    assert lost == {"03.2"}
    (rule,) = [c for c in result.tasks["03.2"].checks if c.name == "answer_imports"]
    assert not rule.passed and "uses `torch`" in rule.message
    assert "may use `math`, `numpy` and the standard library only" in rule.message
