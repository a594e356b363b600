"""Grading one notebook: cells run in a child, checks decide in the trusted process."""

import textwrap
import time

import nbformat
import pytest

from autograder.grading import grade_notebook, reference_student, run_checks
from autograder.notebook import SubmissionError, cells_to_run, read_notebook

TOY_CHECKS = '''
import numpy as np
from autograder.checking import expect_close, task

REFERENCE_SETUP = "from course_utils.schedules import cosine_annealing_lr as lr_at"


@task("99.1")
def test_square(student, rng):
    """square(x) returns x * x elementwise"""
    x = rng.normal(size=4)
    expect_close(student.call("square", x), x * x, what="square(x)")


@task("99.2")
def test_cosine(student, rng):
    """lr_at(t, ...) follows the cosine schedule"""
    t = int(rng.integers(0, 10))
    got = student.run("result = lr_at(t, 1.0, 10)", t=t)
    expect_close(got, 0.5 * (1 + np.cos(np.pi * t / 10)), what="lr_at(t, 1.0, 10)")
'''


def cell(source, **nbgrader):
    c = nbformat.v4.new_code_cell(textwrap.dedent(source))
    if nbgrader:
        defaults = {"grade": False, "solution": False, "locked": False}
        c.metadata["nbgrader"] = {"schema_version": 3, **defaults, **nbgrader}
    return c


def toy_notebook(square="x * x", extra_cells=()):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        cell("import numpy as np\nimport math", grade_id="setup", locked=True),
        cell(f"def square(x):\n    return {square}\n", grade_id="99_1-answer", solution=True),
        cell(
            "assert False, 'visible tests never run in grading'",
            grade_id="99_1",
            grade=True,
            points=2,
        ),
        cell(
            "def lr_at(t, base, T):\n    return 0.5 * base * (1 + math.cos(math.pi * t / T))\n",
            grade_id="99_2-answer",
            solution=True,
        ),
        cell("assert True", grade_id="99_2", grade=True, locked=True, points=3),
        cell("import time\ntime.sleep(100)", grade_id="99_2-demo", locked=True),
        *extra_cells,
    ]
    return nb


@pytest.fixture
def checks_dir(tmp_path):
    (tmp_path / "test_99_toy.py").write_text(TOY_CHECKS)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    return tmp_path


def grade(nb, checks_dir, **kwargs):
    return grade_notebook(nb, "99_toy", seed=1, checks_dir=checks_dir, **kwargs)


def test_correct_notebook_scores_full_marks(checks_dir):
    result = grade(toy_notebook(), checks_dir)
    assert result.status == "graded"
    assert {t: r.score for t, r in result.tasks.items()} == {"99.1": 2.0, "99.2": 3.0}
    assert result.score == result.max_score == 5.0


def test_wrong_answer_loses_only_its_task_with_a_message(checks_dir):
    result = grade(toy_notebook(square="x * 2"), checks_dir)
    assert result.tasks["99.1"].score == 0 and result.tasks["99.2"].score == 3
    [check] = result.tasks["99.1"].checks
    assert check.description == "square(x) returns x * x elementwise"
    assert check.message.startswith("square(x): expected array of shape (4,)")


def test_demo_and_test_cells_are_not_executed(checks_dir):
    ran = [c.cell_id for c in cells_to_run(toy_notebook())]
    assert ran == ["setup", "99_1-answer", "99_2-answer"]


def test_printing_plotting_stderr_and_extra_cells_cost_nothing(checks_dir):
    noisy = cell(
        """
        import sys, warnings
        import matplotlib.pyplot as plt
        print("debug output")
        print("a warning", file=sys.stderr)
        warnings.warn("careful")
        plt.plot([1, 2, 3]); plt.show()
        def helper(v):
            return v
        %matplotlib inline
        """
    )
    result = grade(toy_notebook(extra_cells=[noisy]), checks_dir)
    assert result.score == 5.0
    assert [c.status for c in result.cells] == ["ok"] * 4


def test_definitions_inside_time_magics_are_kept(checks_dir):
    nb = toy_notebook()
    nb.cells[1].source = "%%time\ndef square(x):\n    return x * x\n"
    nb.cells[3].source = (
        "%time half = 0.5\n"
        "one = %time math.cos(0.0)\n"
        "%timeit -n 1 one + 1\n"
        "lr_at = lambda t, base, T: half * base * (one + math.cos(math.pi * t / T))\n"
    )
    result = grade(nb, checks_dir)
    assert [c.status for c in result.cells] == ["ok"] * 3, [c.message for c in result.cells]
    assert result.score == 5.0


def test_hanging_and_exiting_cells_are_contained(checks_dir):
    hang = cell("while True:\n    pass\n")
    leave = cell("import os\nos._exit(1)\n")
    result = grade(toy_notebook(extra_cells=[hang, leave]), checks_dir, cell_timeout=2)
    assert [c.status for c in result.cells][-2:] == ["timeout", "crashed"]
    assert result.score == 5.0


def test_exit_inside_a_function_fails_only_that_task(checks_dir):
    bad = toy_notebook(square="__import__('os')._exit(0)")
    result = grade(bad, checks_dir)
    assert result.tasks["99.1"].score == 0
    assert "ended the Python process" in result.tasks["99.1"].checks[0].message
    assert result.tasks["99.2"].score == 3


def test_infinite_loop_in_a_function_times_out(checks_dir):
    bad = toy_notebook(square="[0 for _ in iter(int, 1)]")
    result = grade(bad, checks_dir, check_timeout=2)
    assert result.tasks["99.1"].score == 0
    assert "did not finish within 2 s" in result.tasks["99.1"].checks[0].message
    assert result.tasks["99.2"].score == 3


def test_slow_cells_share_one_budget_per_notebook(checks_dir):
    """Cells that each stay under the cell timeout cannot together outlast the budget."""
    slow = [cell("import time\ntime.sleep(1.5)") for _ in range(4)]
    started = time.monotonic()
    result = grade(toy_notebook(extra_cells=slow), checks_dir, cell_timeout=10, notebook_budget=3)
    assert time.monotonic() - started < 10
    statuses = [c.status for c in result.cells]
    assert statuses[:3] == ["ok"] * 3 and statuses[-2:] == ["timeout", "timeout"]
    assert "used up its grading time of 3 s" in result.cells[-1].message
    for task_result in result.tasks.values():
        assert task_result.score == 0
        assert "not tested: the notebook used up its grading time" in (
            task_result.checks[0].message
        )


def test_restarts_after_crashing_checks_count_against_the_budget(checks_dir):
    """A function that kills its process makes every check restart and replay the cells:
    the replays are paid from the same budget."""
    slow_then_exit = toy_notebook(
        square="__import__('os')._exit(0)", extra_cells=[cell("import time\ntime.sleep(1)")]
    )
    result = grade(slow_then_exit, checks_dir, notebook_budget=60)
    assert result.tasks["99.2"].score == 3
    tight = grade(slow_then_exit, checks_dir, notebook_budget=1.5)
    assert tight.tasks["99.2"].score == 0
    assert "used up its grading time" in tight.tasks["99.2"].checks[0].message


def test_tampering_with_numpy_testing_gains_nothing(checks_dir):
    tamper = cell(
        """
        import numpy as np
        np.allclose = lambda *a, **k: True
        np.testing.assert_allclose = lambda *a, **k: None
        class Liar(float):
            def __eq__(self, other):
                return True
        def square(x):
            return Liar(0.0)
        get_ipython().input_transformers_cleanup.append(lambda lines: ["pass\\n"])
        """
    )
    result = grade(toy_notebook(extra_cells=[tamper]), checks_dir)
    assert result.tasks["99.1"].score == 0


def test_task_without_checks_scores_nothing(checks_dir):
    nb = toy_notebook()
    nb.cells.append(cell("pass", grade_id="99_3", grade=True, points=1))
    result = grade(nb, checks_dir)
    assert result.tasks["99.3"].score == 0 and result.tasks["99.3"].checks == []


def test_checks_run_against_the_reference_package(checks_dir):
    student = reference_student("99_toy", checks_dir)
    try:
        student.prepare()
        results = run_checks("99_toy", student, seed=3, checks_dir=checks_dir)
    finally:
        student.close()
    assert {r.name: r.passed for r in results} == {"test_square": False, "test_cosine": True}


def test_invalid_and_missing_notebooks_get_a_status(tmp_path):
    broken = tmp_path / "broken.ipynb"
    broken.write_text('{"cells": [')
    with pytest.raises(SubmissionError) as info:
        read_notebook(broken)
    assert info.value.status == "invalid-notebook"
    with pytest.raises(SubmissionError) as info:
        read_notebook(tmp_path / "absent.ipynb")
    assert info.value.status == "missing-notebook"


def test_old_format_notebooks_are_read(tmp_path):
    path = tmp_path / "old.ipynb"
    path.write_text(nbformat.writes(toy_notebook(), version=3))
    notebook = read_notebook(path)
    assert "def square" in "".join(c.source for c in notebook.cells)


class _BrokenZygote:
    """A zygote whose first child dies at once and which then cannot fork again."""

    def __init__(self, first):
        self.first = first
        self.calls = 0

    def spawn(self):
        from autograder.sandbox.runner import ChildDied

        self.calls += 1
        if self.calls == 1:
            return self.first
        raise ChildDied("crashed", "the zygote could not fork a child: timed out")


def test_a_zygote_that_cannot_fork_again_gives_statuses_not_grader_errors():
    from autograder.grading import Student
    from autograder.notebook import CodeCell
    from autograder.sandbox.runner import start_student

    first = start_student(preload=())
    student = Student(
        [CodeCell("a", "import os\nos._exit(3)"), CodeCell("b", "x = 1")],
        zygote=_BrokenZygote(first),
    )
    try:
        cells = student.prepare()
        assert [c.status for c in cells] == ["crashed", "crashed"], cells
        with pytest.raises(AssertionError, match="ended the Python process"):
            student.call("anything")
    finally:
        student.close()
        first.stop()


DRIVER_CHECKS = '''
import numpy as np
from autograder.checking import Drivers, expect_close, task

DRIVERS = Drivers(__file__)


@task("99.1")
def test_square(student, rng):
    """square(x) returns x * x elementwise"""
    x = rng.normal(size=3)
    got = DRIVERS.run(student, "squares", xs=x, scale=2.5)
    expect_close(got, 2.5 * x * x, what="2.5 * square(x)")


@task("99.2")
def test_cosine(student, rng):
    """lr_at(5, 1.0, 10) is one half"""
    expect_close(student.call("lr_at", 5, 1.0, 10), 0.5, what="lr_at(5, 1.0, 10)")
'''


@pytest.fixture
def driver_checks_dir(tmp_path):
    (tmp_path / "test_98_drivers.py").write_text(DRIVER_CHECKS)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "drivers").mkdir()
    (tmp_path / "drivers" / "98_drivers.py").write_text(
        "def squares(xs, scale):\n    return [scale * square(x) for x in xs]\n"
    )
    return tmp_path


def grade_drivers(nb, checks_dir, **kwargs):
    """Grade against the driver checks (a module name of their own: pytest keeps the
    modules it imported, and the toy checks' module is another)."""
    return grade_notebook(nb, "98_drivers", seed=1, checks_dir=checks_dir, **kwargs)


@pytest.mark.parametrize(
    "body, expected",
    [
        ("float('bad x')", "your code raised ValueError: could not convert string to float"),
        ("[0 for _ in iter(int, 1)]", "your code did not finish within 2 s while the grader"),
        (
            "(_ for _ in ()).throw(NotImplementedError())",
            "not done yet: the answer still raises NotImplementedError (cell 99_1-answer, line",
        ),
    ],
)
def test_messages_name_the_call_and_its_inputs(driver_checks_dir, body, expected):
    result = grade_drivers(toy_notebook(square=body), driver_checks_dir, check_timeout=2)
    [check] = result.tasks["99.1"].checks
    assert expected in check.message, check.message
    assert "ran squares(xs=array of shape (3,): [" in check.message, check.message
    assert "scale=2.5)" in check.message
    assert result.tasks["99.2"].score == 3


def test_a_scalar_mismatch_prints_numbers_with_all_their_digits(driver_checks_dir):
    notebook = toy_notebook()
    notebook.cells[3].source = "def lr_at(t, base, T):\n    return 0.5 + 1e-7\n"
    [check] = grade_drivers(notebook, driver_checks_dir).tasks["99.2"].checks
    assert check.message == (
        "lr_at(5, 1.0, 10): expected 0.5, got 0.5000001 (tolerance rtol=1e-08, atol=0)"
    )


def test_a_cell_left_blank_says_the_task_is_not_done(driver_checks_dir):
    notebook = toy_notebook()
    notebook.cells[
        1
    ].source = "# YOUR CODE HERE\nraise NotImplementedError()\ndef square(x):\n  pass"
    [check] = grade_drivers(notebook, driver_checks_dir).tasks["99.1"].checks
    assert check.message.startswith(
        "not done yet: name 'square' is not defined because the answer cell 99_1-answer "
        "still raises NotImplementedError when the grader ran squares("
    ), check.message
