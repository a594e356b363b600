"""Every assignment: its notebook, its hidden checks and its bundled samples agree.

- the source notebook is stored cleared (its answered release runs top to bottom within
  its time budget in ``test_student_release.py``);
- every task has a heading, points and at least one hidden check, and every check
  belongs to a task of the notebook;
- the hidden checks pass when run against the reference package ``course_utils``;
- graded through the whole pipeline (nbgrader's autograde with our checks), the reference
  solution scores full marks and the blank release fails every hidden check; graded by
  the checks, each bundled bug loses exactly the points of the tasks it declares and
  each correct answer written another way scores full marks;
- submissions that tamper with the grader gain nothing, and one that exits or hangs
  loses only the tasks it broke.
"""

import importlib.util
import json
import re
from pathlib import Path

import nbformat
import pytest

from autograder.course import Course, StudentResult, student_seed, submission_status
from autograder.demo import make_course
from autograder.grading import CHECKS_DIR, reference_student, run_checks
from autograder.notebook import task_points
from autograder.samples import (
    build_submission,
    grade_in_one_zygote,
    load_samples,
    write_submissions,
)
from course_utils.answers import MODULES as ANSWER_MODULES

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENTS = sorted(p.name for p in (REPO / "source").glob("[0-9][0-9]_*") if p.is_dir())


def source_notebook(assignment):
    return nbformat.read(REPO / "source" / assignment / f"{assignment}.ipynb", as_version=4)


def check_tasks(assignment):
    """``{check name: task id}`` of the assignment's hidden-check module."""
    spec = importlib.util.spec_from_file_location(
        f"_checks_{assignment}", CHECKS_DIR / f"test_{assignment}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    tasks = {}
    for name, function in vars(module).items():
        if name.startswith("test_") and callable(function):
            marks = [m for m in getattr(function, "pytestmark", []) if m.name == "task"]
            tasks[name] = marks[0].args[0] if marks else None
    return tasks


def test_there_are_assignments():
    assert "01_autodiff" in ASSIGNMENTS and "02_batching" in ASSIGNMENTS


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_notebook_is_stored_cleared(assignment):
    data = json.loads((REPO / "source" / assignment / f"{assignment}.ipynb").read_text())
    for cell in data["cells"]:
        assert not cell.get("outputs") and not cell.get("execution_count"), cell["source"][:80]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_task_has_a_heading_points_and_checks(assignment):
    notebook = source_notebook(assignment)
    points = task_points(notebook)
    assert points, "the notebook has no graded task"
    markdown = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    checks = check_tasks(assignment)
    assert all(checks.values()), f"checks without a task marker: {checks}"
    for task, value in points.items():
        assert value > 0, f"task {task} has no points"
        assert re.search(rf"^#+ Task {re.escape(task)} ", markdown, re.MULTILINE), (
            f"no heading 'Task {task} ...' in the notebook"
        )
        assert task in checks.values(), f"task {task} has no hidden check"
    assert set(checks.values()) <= set(points), "a check belongs to no task of the notebook"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_hidden_checks_pass_against_the_reference_package(assignment):
    student = reference_student(assignment)
    try:
        student.prepare()
        assert [c.status for c in student.cell_results] == ["ok"], student.cell_results
        results = run_checks(assignment, student, seed=20261121)
    finally:
        student.close()
    failed = [(r.name, r.message) for r in results if not r.passed]
    assert results and not failed


TAMPERING = """
import numpy as np
np.allclose = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
np.testing.assert_array_equal = lambda *args, **kwargs: None
class AlwaysEqual:
    def __eq__(self, other):
        return True
    __hash__ = object.__hash__
for _name in [n for n in dir() if not n.startswith("_") and callable(globals()[n])]:
    globals()[_name] = lambda *args, _value=AlwaysEqual(), **kwargs: _value
get_ipython().input_transformers_cleanup.append(lambda lines: ["pass\\n"])
"""


def with_extra_cell(notebook, source, position=None):
    edited = nbformat.from_dict(json.loads(nbformat.writes(notebook)))
    cell = nbformat.v4.new_code_cell(source)
    edited.cells.insert(len(edited.cells) if position is None else position, cell)
    return edited


def without_first_test_cell(notebook):
    edited = nbformat.from_dict(json.loads(nbformat.writes(notebook)))
    first_test = next(
        i
        for i, c in enumerate(edited.cells)
        if c.metadata.get("nbgrader", {}).get("grade") and not c.metadata["nbgrader"]["solution"]
    )
    del edited.cells[first_test]
    return edited


def with_copied_grade_cells(notebook):
    """As when a student copies and pastes cells in JupyterLab: the copies keep their
    nbgrader metadata (the setup cell, the first answer and test cells), and one more
    cell has nbgrader metadata the source does not know."""
    edited = nbformat.from_dict(json.loads(nbformat.writes(notebook)))
    first = {}
    for i, c in enumerate(edited.cells):
        meta = c.metadata.get("nbgrader", {})
        kind = "setup" if meta.get("grade_id") == "setup" else None
        kind = kind or ("answer" if meta.get("solution") and c.cell_type == "code" else None)
        kind = kind or ("test" if meta.get("grade") and not meta.get("solution") else None)
        if kind:
            first.setdefault(kind, i)
    for number, i in enumerate(sorted(first.values(), reverse=True)):
        copy = nbformat.from_dict(json.loads(json.dumps(edited.cells[i])))
        copy["id"] = f"pasted-{number}"
        edited.cells.insert(i + 1, copy)
    stray = nbformat.v4.new_code_cell("stray_value = 1")
    stray.metadata["nbgrader"] = {
        "grade": False,
        "solution": True,
        "locked": False,
        "grade_id": "my-own-cell",
        "schema_version": 3,
    }
    edited.cells.append(stray)
    return edited


def last_answer_index(notebook):
    return max(
        i
        for i, c in enumerate(notebook.cells)
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")
    )


def grade_directly(assignment, notebooks, seed):
    """``{student: StudentResult}`` of notebooks graded by the hidden checks alone, in one
    zygote, without nbgrader's pipeline around them: for what tests the checks and the
    grader (a bug loses its tasks, another style keeps them, tampering gains nothing), not
    nbgrader's sanitizing."""
    graded = grade_in_one_zygote(
        assignment,
        notebooks.items(),
        lambda student: student_seed(seed, student),
        cell_timeout=5,
    )
    return {
        student: StudentResult(
            student, assignment, submission_status([result]), notebooks={assignment: result}
        )
        for student, result in graded
    }


# graded through nbgrader's autograde: what its sanitizing decides
WHOLE_PIPELINE = ("reference", "blank", "deleted-test-cell", "copied-grade-cells")


def grade_samples(assignment, tmp_path_factory):
    """The assignment's samples plus adversarial submissions. The reference, the blank
    release and the submissions nbgrader sanitizes (a deleted test cell, copied grade
    cells) are graded in one batch through the whole pipeline (nbgrader's autograde with
    our checks); the others by the checks alone."""
    course = make_course(tmp_path_factory.mktemp(assignment))
    from autograder import nbgrader_bridge

    nbgrader_bridge.generate_assignment(course.root, assignment)
    samples = load_samples(assignment)
    whole_pipeline = [s for s in samples if s.student in ("reference", "blank")]
    write_submissions(course.root, assignment, whole_pipeline)
    source = nbformat.read(course.root / "source" / assignment / f"{assignment}.ipynb", 4)
    release = nbformat.read(course.root / "release" / assignment / f"{assignment}.ipynb", 4)
    named = {s.student: s for s in whole_pipeline}
    reference = build_submission(named["reference"], release, source)
    blank = build_submission(named["blank"], release, source)
    first_answer = next(
        i for i, c in enumerate(reference.cells) if c.metadata.get("nbgrader", {}).get("solution")
    )
    extra = {
        "tamper-blank": with_extra_cell(blank, TAMPERING),
        "tamper-reference": with_extra_cell(reference, TAMPERING),
        "exit-at-start": with_extra_cell(reference, "import os\nos._exit(0)", first_answer),
        "hang-at-start": with_extra_cell(reference, "while True:\n    pass", first_answer),
        "deleted-test-cell": without_first_test_cell(reference),
        "copied-grade-cells": with_copied_grade_cells(reference),
        "noisy-reference": with_extra_cell(
            reference,
            "import sys, warnings\nimport matplotlib.pyplot as plt\nprint('hello')\n"
            "print('to stderr', file=sys.stderr)\nwarnings.warn('careful')\n"
            "plt.plot([1, 2]); plt.show()\ndef my_helper(v):\n    return v\n",
        ),
    }
    imports = nbformat.from_dict(json.loads(nbformat.writes(reference)))
    imports.cells[
        last_answer_index(imports)
    ].source = (
        f"from {ANSWER_MODULES[assignment]} import *  # the reference, refused while grading\n"
    )
    extra["imports-reference"] = imports
    for student in WHOLE_PIPELINE:
        if student in extra:
            folder = course.root / "submitted" / student / assignment
            folder.mkdir(parents=True)
            nbformat.write(extra[student], folder / f"{assignment}.ipynb")
    results = {r.student: r for r in Course(course.root).grade(assignment, cell_timeout=5)}
    others = {s.student: build_submission(s, release, source) for s in samples}
    others.update(extra)
    others = {student: nb for student, nb in others.items() if student not in WHOLE_PIPELINE}
    results.update(grade_directly(assignment, others, seed=20261202))
    assert set(results) == {s.student for s in samples} | set(extra)
    return assignment, samples, results


def scores(result):
    return {task: r.score for task, r in result.tasks().items()}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_task_has_two_correct_answers_written_another_way(assignment):
    from autograder.samples import load_samples

    samples = load_samples(assignment)
    others = [s for s in samples if not s.breaks and s.student not in ("reference", "blank")]
    styles = {}
    for sample in others:
        assert sample.student.startswith("alt-"), sample.student
        for edit in sample.edits:
            task = edit["cell"].replace("_", ".").split("-")[0]
            styles.setdefault(task, set()).add(sample.student)
    for task in task_points(source_notebook(assignment)):
        assert len(styles.get(task, ())) >= 2, (
            f"task {task} has {sorted(styles.get(task, ()))} as correct answers in other styles"
        )


class SampleBatch:
    """The tests of one assignment's batch of samples; one subclass per assignment, so
    that pytest-xdist (``--dist loadscope``) grades each batch once, on one worker, and
    different assignments' batches on different workers."""

    assignment = None
    pytestmark = pytest.mark.slow

    @pytest.fixture(scope="class")
    @classmethod
    def graded_course(cls, tmp_path_factory):
        return grade_samples(cls.assignment, tmp_path_factory)

    def test_reference_scores_full_marks(self, graded_course):
        _, _, results = graded_course
        for student in ("reference", "noisy-reference", "deleted-test-cell", "copied-grade-cells"):
            result = results[student]
            assert result.status == "graded"
            assert result.score == result.max_score > 0, scores(result)

    def test_correct_answers_written_another_way_score_full_marks(self, graded_course):
        assignment, samples, results = graded_course
        others = [s for s in samples if not s.breaks and s.student not in ("reference", "blank")]
        assert others, f"{assignment} declares correct answers in other styles"
        for sample in others:
            result = results[sample.student]
            assert result.score == result.max_score > 0, (sample.student, scores(result))

    def test_each_student_gets_inputs_of_their_own(self, graded_course):
        _, _, results = graded_course
        seeds = {
            student: [n.seed for n in result.notebooks.values()]
            for student, result in results.items()
            if result.status == "graded"
        }
        assert seeds["reference"] != seeds["noisy-reference"]

    def test_blank_release_fails_every_hidden_check(self, graded_course):
        _, _, results = graded_course
        for student in ("blank", "tamper-blank"):
            result = results[student]
            assert result.score == 0
            checks = [c for t in result.tasks().values() for c in t.checks]
            assert checks and not any(c.passed for c in checks), [
                c.name for c in checks if c.passed
            ]

    def test_each_bug_loses_exactly_its_tasks(self, graded_course):
        _, samples, results = graded_course
        bugs = [s for s in samples if s.breaks]
        assert len(bugs) >= 3
        for sample in bugs:
            result = results[sample.student]
            tasks = result.tasks()
            assert set(sample.breaks) <= set(tasks), sample.breaks
            lost = {t for t, r in tasks.items() if r.score < r.points}
            assert lost == set(sample.breaks), f"{sample.student}: lost {sorted(lost)}"

    def test_tampering_with_a_correct_notebook_gains_nothing_and_breaks_its_own_answers(
        self, graded_course
    ):
        _, _, results = graded_course
        assert results["tamper-reference"].score < results["reference"].score

    def test_exit_and_hang_lose_only_what_they_broke(self, graded_course):
        _, _, results = graded_course
        for student, status in (("exit-at-start", "crashed"), ("hang-at-start", "timeout")):
            result = results[student]
            assert result.status.startswith(status), result.status
            assert result.score == results["reference"].score, scores(result)

    def test_an_answer_importing_the_reference_loses_its_task_with_a_message_and_grading_goes_on(
        self, graded_course
    ):
        assignment, _, results = graded_course
        result, reference = results["imports-reference"], results["reference"]
        assert result.status == "graded"
        source = source_notebook(assignment)
        grade_id = source.cells[last_answer_index(source)].metadata["nbgrader"]["grade_id"]
        task = grade_id.split("-")[0].replace("_", ".")
        ours, full = result.tasks(), reference.tasks()
        assert {t for t in full if ours[t].score < full[t].score} == {task}, scores(result)
        messages = [c.message for n in result.notebooks.values() for c in n.cells]
        assert any("may import the standard library, numpy" in m for m in messages), messages


for _assignment in ASSIGNMENTS:
    _name = f"TestSamples_{_assignment}"
    globals()[_name] = type(_name, (SampleBatch,), {"assignment": _assignment})
