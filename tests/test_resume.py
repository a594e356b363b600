"""Resumable batches: a rerun keeps what still stands and grades the rest, exactly once.

The batch is the real command line on a course outside the repository, killed with
SIGKILL in the middle; nbgrader's gradebook and our results are then compared.
"""

import json
import os
import shutil
import signal
import subprocess

import nbformat
import pytest
from course_fixtures import (
    assert_gradebook_agrees,
    grade_command,
    progress_lines,
    run_grade,
    sample_course,
    samples_by_name,
)

from autograder import cli
from autograder.course import Course
from autograder.grading import CHECKS_DIR
from autograder.sandbox import runner

pytestmark = pytest.mark.slow  # whole batches or notebooks: make test-fast skips it

ASSIGNMENT = "02_batching"
STUDENTS = ("ada", "bob", "cy")


def grade(root, *extra):
    return run_grade(root, ASSIGNMENT, *extra)


def results(root):
    folder = root / "grading" / ASSIGNMENT
    return {s: json.loads((folder / f"{s}.json").read_text()) for s in STUDENTS}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    samples, bug = samples_by_name(ASSIGNMENT)
    submissions = {
        "ada": samples["reference"],
        "bob": bug,
        "cy": {f"{ASSIGNMENT}.ipynb": '{"cells": ['},
    }
    course = sample_course(tmp_path_factory.mktemp("resume") / "course", ASSIGNMENT, submissions)
    first = grade(course.root)
    return course, first


def test_a_rerun_keeps_every_unchanged_submission(course):
    course_, first = course
    assert all("kept" not in line for line in progress_lines(first).values())
    before = {
        s: (course_.root / "grading" / ASSIGNMENT / f"{s}.json").read_bytes() for s in STUDENTS
    }
    again = grade(course_.root)
    lines = progress_lines(again)
    assert set(lines) == set(STUDENTS)
    assert all("kept" in line for line in lines.values()), again
    assert "3 of 3 submissions were kept" in again
    after = {
        s: (course_.root / "grading" / ASSIGNMENT / f"{s}.json").read_bytes() for s in STUDENTS
    }
    assert after == before
    assert_gradebook_agrees(course_.root, ASSIGNMENT, results(course_.root))


def test_a_changed_submission_is_graded_again_and_only_it(course):
    course_, _ = course
    path = course_.root / "submitted" / "bob" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    notebook = nbformat.read(path, 4)
    notebook.cells.append(nbformat.v4.new_markdown_cell("A note added after the deadline."))
    nbformat.write(notebook, path)
    lines = progress_lines(grade(course_.root))
    assert "kept" in lines["ada"] and "kept" in lines["cy"]
    assert "kept" not in lines["bob"] and "graded" in lines["bob"]
    assert_gradebook_agrees(course_.root, ASSIGNMENT, results(course_.root))


def test_regrade_grades_everything(course):
    course_, _ = course
    lines = progress_lines(grade(course_.root, "--regrade"))
    assert set(lines) == set(STUDENTS)
    assert not any("kept" in line for line in lines.values())


def test_a_killed_batch_resumes_where_it_stopped(course):
    course_, _ = course
    for student in STUDENTS:
        (course_.root / "grading" / ASSIGNMENT / f"{student}.json").unlink()
    batch = subprocess.Popen(
        grade_command(course_.root, ASSIGNMENT, "--jobs", "1"),  # ada is done before bob starts
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        for line in batch.stdout:
            if line.split()[:2] == ["[1/3]", "ada"]:
                break
        os.killpg(batch.pid, signal.SIGKILL)
    finally:
        batch.wait(timeout=60)
    folder = course_.root / "grading" / ASSIGNMENT
    assert (folder / "ada.json").is_file()
    assert not (folder / "bob.json").exists()
    lines = progress_lines(grade(course_.root))
    assert "kept" in lines["ada"]
    assert "kept" not in lines["bob"] and "kept" not in lines["cy"]
    assert_gradebook_agrees(course_.root, ASSIGNMENT, results(course_.root))
    final = results(course_.root)
    assert final["ada"]["score"] == final["ada"]["max_score"]
    assert final["cy"]["status"] == "invalid-notebook"


def test_the_hash_follows_checks_reference_options_and_submission(course, tmp_path):
    course_, _ = course
    options = {"seed": None, "sandbox": "auto", "limits": None, "timeouts": {}}
    base = course_.grader_hash(ASSIGNMENT, options)
    assert course_.grader_hash(ASSIGNMENT, options) == base
    assert course_.grader_hash(ASSIGNMENT, {**options, "seed": 7}) != base
    assert course_.grader_hash(ASSIGNMENT, {**options, "timeouts": {"cell_timeout": 5}}) != base
    checks = tmp_path / "checks"
    shutil.copytree(CHECKS_DIR, checks)
    copy = Course(course_.root, checks_dir=checks)
    assert copy.grader_hash(ASSIGNMENT, options) == base
    module = checks / f"test_{ASSIGNMENT}.py"
    module.write_text(module.read_text() + "\n# one more line\n")
    assert copy.grader_hash(ASSIGNMENT, options) != base
    drivers = checks / "drivers" / f"{ASSIGNMENT}.py"
    module.write_text(module.read_text().removesuffix("\n# one more line\n"))
    drivers.write_text(drivers.read_text() + "\n")
    assert copy.grader_hash(ASSIGNMENT, options) != base
    submission = course_.inputs_hash(ASSIGNMENT, "ada", base)
    assert course_.inputs_hash(ASSIGNMENT, "bob", base) != submission
    assert course_.inputs_hash(ASSIGNMENT, "ada", base + "x") != submission


def test_a_result_without_its_gradebook_entry_is_not_kept(course):
    course_, _ = course
    shutil.rmtree(course_.root / "autograded" / "bob")
    lines = progress_lines(grade(course_.root))
    assert "kept" not in lines["bob"] and "kept" in lines["ada"]


def test_a_rerun_that_keeps_everything_starts_no_sandbox(course, monkeypatch, capsys):
    """The results that stand are reported before any zygote or worker starts: with the
    sandbox refused, a rerun that keeps every submission still succeeds, while one that
    has to grade stops with the sandbox's error."""
    course_, _ = course
    argv = ["grade", ASSIGNMENT, "--course-dir", str(course_.root)]
    assert cli.main(argv) == 0  # whatever the tests before left to grade
    real_policy = runner.sandbox_policy
    monkeypatch.setattr(
        runner,
        "sandbox_policy",
        lambda *args: {**real_policy(*args), "root": "/nonexistent/sandbox-root"},
    )
    capsys.readouterr()
    argv += ["--jobs", "1"]  # the sandbox of this process (workers would make their own)
    assert cli.main(argv) == 0
    assert "3 of 3 submissions were kept" in capsys.readouterr().out
    assert cli.main([*argv, "--regrade"]) == 2
    assert "pass --sandbox none" in capsys.readouterr().err
