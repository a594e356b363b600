"""Course directories with sample submissions, and the grade command run on them.

Shared by the tests that grade whole batches through the command line: a course made
outside the repository (``autograder.demo.make_course``), the assignment recorded in
nbgrader's gradebook, and submissions built from the bundled samples.
"""

import json
import subprocess
import sys

import nbformat

from autograder import nbgrader_bridge
from autograder.demo import make_course
from autograder.samples import build_submission, load_samples


def sample_course(base, assignment, submissions):
    """A course at ``base`` whose ``submitted/`` holds ``submissions``.

    ``submissions`` maps a student to what they hand in: a
    :class:`~autograder.samples.Sample`, or ``{file name: text}`` written as is (a broken
    or renamed notebook; an empty dict is an empty folder).
    """
    course = make_course(base)
    nbgrader_bridge.generate_assignment(course.root, assignment)
    source = nbformat.read(course.root / "source" / assignment / f"{assignment}.ipynb", 4)
    release = nbformat.read(course.root / "release" / assignment / f"{assignment}.ipynb", 4)
    for student, handed_in in submissions.items():
        folder = course.root / "submitted" / student / assignment
        folder.mkdir(parents=True)
        if isinstance(handed_in, dict):
            for name, text in handed_in.items():
                (folder / name).write_text(text)
        else:
            notebook = build_submission(handed_in, release, source)
            nbformat.write(notebook, folder / f"{assignment}.ipynb")
    return course


def samples_by_name(assignment):
    """The bundled samples of ``assignment``, by student name, and the first one that
    breaks a task."""
    samples = {s.student: s for s in load_samples(assignment)}
    return samples, next(s for s in samples.values() if s.breaks)


def grade_command(root, assignment, *extra):
    return [
        sys.executable,
        "-m",
        "autograder",
        "grade",
        assignment,
        "--course-dir",
        str(root),
        *extra,
    ]


def run_grade(root, assignment, *extra):
    """Run the grade command; it must succeed. Returns its standard output."""
    result = subprocess.run(grade_command(root, assignment, *extra), capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def task_scores(root, assignment, students):
    """``{student: (status, score, {task: score})}`` from the results of a batch."""
    out = {}
    for student in students:
        data = json.loads((root / "grading" / assignment / f"{student}.json").read_text())
        tasks = {
            task: score["score"]
            for notebook in data["notebooks"].values()
            for task, score in notebook["tasks"].items()
        }
        out[student] = (data["status"], data["score"], tasks)
    return out


def progress_lines(output):
    """``{student: line}`` of the per-submission lines of a grade run."""
    lines = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) > 1 and parts[0].startswith("[") and "/" in parts[0]:
            lines[parts[1]] = line
    return lines


def assert_gradebook_agrees(root, assignment, results):
    """nbgrader's gradebook holds each result's score (``results``: {student: dict})."""
    for student, result in results.items():
        scores = nbgrader_bridge.gradebook_scores(root, assignment, student)
        assert scores is not None, student
        total = sum(score for score, _ in scores.values())
        assert abs(total - result["score"]) < 1e-9, (student, scores, result["score"])
