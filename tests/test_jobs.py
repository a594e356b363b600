"""Grading N submissions at a time gives the scores of one at a time, and one writer.

Two real batches of the same course (the command line, the same seed): ``--jobs 1`` and
``--jobs 2``; every task's score and every status must agree, and nbgrader's gradebook
must hold what the results say.
"""

import json
import subprocess
import sys

import nbformat
import pytest

from autograder import nbgrader_bridge
from autograder.demo import make_course
from autograder.samples import build_submission, load_samples

ASSIGNMENT = "02_batching"


def grade(root, *extra):
    result = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", ASSIGNMENT, "--course-dir", str(root)]
        + list(extra),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def task_scores(root, students):
    out = {}
    for student in students:
        data = json.loads((root / "grading" / ASSIGNMENT / f"{student}.json").read_text())
        tasks = {
            task: score["score"]
            for notebook in data["notebooks"].values()
            for task, score in notebook["tasks"].items()
        }
        out[student] = (data["status"], data["score"], tasks)
    return out


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = make_course(tmp_path_factory.mktemp("jobs") / "course")
    nbgrader_bridge.generate_assignment(course.root, ASSIGNMENT)
    samples = load_samples(ASSIGNMENT)
    source = nbformat.read(course.root / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    release = nbformat.read(course.root / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    chosen = [s for s in samples if s.student == "reference"]
    chosen += [s for s in samples if s.breaks][:2]
    chosen += [s for s in samples if s.student.startswith("alt-")][:1]
    students = []
    for i, sample in enumerate(chosen):
        student = f"s{i}-{sample.student}"[:30]
        folder = course.root / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(build_submission(sample, release, source), folder / f"{ASSIGNMENT}.ipynb")
        students.append(student)
    broken = course.root / "submitted" / "zz-broken" / ASSIGNMENT
    broken.mkdir(parents=True)
    (broken / f"{ASSIGNMENT}.ipynb").write_text('{"cells": [')
    students.append("zz-broken")
    return course, students


def test_two_jobs_give_the_scores_of_one(course):
    course_, students = course
    grade(course_.root, "--seed", "11", "--jobs", "1")
    one = task_scores(course_.root, students)
    output = grade(course_.root, "--seed", "11", "--jobs", "2", "--regrade")
    two = task_scores(course_.root, students)
    assert two == one
    assert one[students[0]][1] > 0 and one["zz-broken"][0] == "invalid-notebook"
    assert len({score for _, score, _ in one.values()}) > 2  # the batch has distinct grades
    assert output.count("/5]") == 5
    for student, (_, score, _) in two.items():
        gradebook = nbgrader_bridge.gradebook_scores(course_.root, ASSIGNMENT, student)
        assert sum(s for s, _ in gradebook.values()) == pytest.approx(score), student


def test_bad_jobs_is_refused_with_a_clear_error(course):
    course_, _ = course
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograder",
            "grade",
            ASSIGNMENT,
            "--course-dir",
            str(course_.root),
            "--jobs",
            "0",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "Invalid jobs: 0" in result.stderr
