"""The command line an instructor and a self-study learner use, on a course copied elsewhere."""

import csv
import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import nbformat
import pytest
from course_fixtures import sample_course, samples_by_name, task_scores

from autograder import nbgrader_bridge, reports
from autograder.grading import CHECKS_DIR
from autograder.samples import build_submission

pytestmark = pytest.mark.slow  # whole batches or notebooks: make test-fast skips it

ASSIGNMENT = "02_batching"


def autograder(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "autograder", *args], cwd=cwd, capture_output=True, text=True
    )


REPO = Path(__file__).resolve().parents[1]


def tampered(sample):
    """``sample``'s notebook with what grading puts back changed: the read-only setup cell
    edited so that every answer fails (``np = None``), the points of 02.1 raised, and the
    test cell of 02.8 deleted."""
    release = nbformat.read(REPO / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    source = nbformat.read(REPO / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    notebook = build_submission(sample, release, source)
    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in notebook.cells}
    by_id["setup"].source += "\nnp = None  # edited by hand\n"
    by_id["02_1"].metadata.nbgrader["points"] = 20
    notebook.cells.remove(by_id["02_8"])
    return nbformat.writes(notebook)


def after_the_sidebar(sample):
    """``sample``'s notebook as JupyterLab saves it after the Create Assignment sidebar was
    opened: no ``cell_type`` in the nbgrader metadata of its code cells."""
    release = nbformat.read(REPO / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    source = nbformat.read(REPO / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    notebook = build_submission(sample, release, source)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.metadata.get("nbgrader", {}).pop("cell_type", None)
    return nbformat.writes(notebook)


MARK = "GIL-XSS"


def with_active_content(sample):
    """``sample``'s notebook with what would run in a browser that renders it: HTML and
    script links in a markdown cell, a raw HTML cell, JavaScript, HTML and SVG outputs
    written into its JSON, widget state, and a cell whose error holds terminal escapes."""
    release = nbformat.read(REPO / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    source = nbformat.read(REPO / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    notebook = build_submission(sample, release, source)
    script = f"alert('{MARK}')"
    shown = nbformat.v4.new_code_cell("print('hello')")
    shown.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={
                "application/javascript": script,
                "text/html": f"<b>{MARK} bold</b><script>{script}</script>",
                "image/svg+xml": f'<svg xmlns="http://www.w3.org/2000/svg" onload="{script}"/>',
                "text/plain": "hello",
            },
        )
    ]
    notebook.cells += [
        nbformat.v4.new_markdown_cell(
            f'<img src=x onerror="{script}"> <script>{script}</script>\n\n'
            f'[click](javascript:{script}) and <iframe src="javascript:{script}"></iframe>'
        ),
        nbformat.v4.new_raw_cell(f"<script>{script}</script>"),
        shown,
        nbformat.v4.new_code_cell('raise RuntimeError("\\x1b]0;owned\\x07\\x1b[2J\\x1b[31mred")'),
    ]
    notebook.metadata["widgets"] = {
        "application/vnd.jupyter.widget-state+json": {
            "state": {},
            "version_major": 2,
            "version_minor": 0,
        }
    }
    return nbformat.writes(notebook)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course directory outside the repository with five kinds of submission."""
    samples, bug = samples_by_name(ASSIGNMENT)
    submissions = {
        "ada": samples["reference"],
        "bob": bug,
        "cy": {f"{ASSIGNMENT}.ipynb": '{"cells": ['},
        "dee": {"Untitled.ipynb": "{}"},
        "eve": {},
        "fay": {f"{ASSIGNMENT}.ipynb": tampered(bug)},
        "gil": {f"{ASSIGNMENT}.ipynb": with_active_content(bug)},
        "hal": {f"{ASSIGNMENT}.ipynb": after_the_sidebar(bug)},
    }
    course = sample_course(tmp_path_factory.mktemp("course") / "elsewhere", ASSIGNMENT, submissions)
    result = autograder("grade", ASSIGNMENT, "--course-dir", str(course.root))
    assert result.returncode == 0, result.stderr
    return course, bug, result.stdout


@pytest.fixture(scope="module")
def feedback(course):
    """The course's feedback, written once for the tests that read it."""
    course_, _, _ = course
    result = autograder("feedback", ASSIGNMENT, "--course-dir", str(course_.root))
    assert result.returncode == 0, result.stderr
    return course_.root / "feedback"


def graded_seed(course_, student):
    result = json.loads((course_.root / "grading" / ASSIGNMENT / f"{student}.json").read_text())
    return result["notebooks"][ASSIGNMENT]["seed"]


@pytest.fixture(scope="module")
def bob_checked(course):
    """bob's self-check with the seed his notebook was graded with: as plain text and as
    JSON (run once for the tests that read them)."""
    course_, _, _ = course
    bad = course_.root / "submitted" / "bob" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    seed = str(graded_seed(course_, "bob"))
    return (
        int(seed),
        autograder("check", str(bad), "--seed", seed),
        autograder("check", str(bad), "--json", "--seed", seed),
    )


def test_grade_prints_the_gradebook_table(course):
    _, bug, output = course
    lines = {line.split()[0]: line for line in output.splitlines() if line.strip()}
    assert "invalid-notebook" in lines["cy"]
    assert "renamed-notebook" in lines["dee"]
    assert "missing-notebook" in lines["eve"]
    assert "graded" in lines["ada"] and "graded" in lines["bob"]


def test_report_csv_has_one_column_per_task(course, tmp_path):
    course_, bug, _ = course
    path = tmp_path / "grades.csv"
    result = autograder("report", ASSIGNMENT, "--course-dir", str(course_.root), "--csv", str(path))
    assert result.returncode == 0, result.stderr
    rows = {row["student_id"]: row for row in csv.DictReader(path.open())}
    header = next(csv.reader(path.open()))
    tasks = list(course_.task_points(ASSIGNMENT))
    assert header == ["student_id", "assignment", "score", "max_score", "status", *tasks]
    assert rows["ada"]["score"] == rows["ada"]["max_score"]
    for task in bug.breaks:
        assert float(rows["bob"][task]) == 0
    assert rows["cy"]["status"] == "invalid-notebook" and float(rows["cy"]["score"]) == 0
    assert rows["dee"]["status"] == "renamed-notebook"


def test_scores_land_in_nbgraders_gradebook(course):
    course_, bug, _ = course
    scripts = Path(sys.executable).parent
    env = dict(os.environ, PATH=f"{scripts}{os.pathsep}{os.environ['PATH']}")
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", "export", "--to", "exported.csv"],
        cwd=course_.root,
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    rows = {
        row["student_id"]: row for row in csv.DictReader((course_.root / "exported.csv").open())
    }
    points = sum(course_.task_points(ASSIGNMENT).values())
    assert float(rows["ada"]["raw_score"]) == points
    lost = sum(course_.task_points(ASSIGNMENT)[t] for t in bug.breaks)
    assert float(rows["bob"]["raw_score"]) == points - lost
    assert float(rows["cy"]["raw_score"]) == 0


def test_feedback_names_failing_tasks_without_showing_hidden_checks(course, feedback):
    course_, bug, _ = course
    folder = feedback / "bob" / ASSIGNMENT
    text = (folder / "feedback.txt").read_text()
    html = (folder / f"{ASSIGNMENT}.html").read_text()
    for task in bug.breaks:
        assert f"Task {task}: 0 of" in text
        assert f"Task {task}" in html
    hidden = (CHECKS_DIR / f"test_{ASSIGNMENT}.py").read_text()
    hidden_lines = [
        line.strip() for line in hidden.splitlines() if len(line.strip()) > 30 and '"""' not in line
    ]
    for line in hidden_lines:
        assert line not in text and line not in html, f"hidden check code leaked: {line}"
    cy = (feedback / "cy" / ASSIGNMENT / "feedback.txt").read_text()
    assert "not valid notebook JSON" in cy


def test_self_study_check(course, bob_checked):
    course_, bug, _ = course
    good = course_.root / "submitted" / "ada" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    result = autograder("check", str(good))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAILED" not in result.stdout
    _, result, _ = bob_checked
    assert result.returncode == 1
    assert f"Task {bug.breaks[0]}: 0 of" in result.stdout and "FAILED" in result.stdout


def test_check_shows_its_seed_and_json_output_is_json_only(bob_checked):
    seed, plain, as_json = bob_checked
    assert f"seed {seed}" in plain.stdout and f"--seed {seed}" in plain.stdout, plain.stdout
    summary = json.loads(as_json.stdout)  # nothing but the JSON on stdout
    assert summary["notebooks"]["notebook"]["seed"] == seed
    assert summary["score"] < summary["max_score"]
    # each task is printed once, as its checks finish, before the total; the same seed
    # gives the same result as the JSON's
    tasks = summary["notebooks"]["notebook"]["tasks"]
    after_heading = plain.stdout.split("\n", 1)[1]
    blocks = [b for b in after_heading.split("\n\n") if b.startswith("Task ")]
    printed = {block.split(":")[0].removeprefix("Task "): block for block in blocks}
    assert len(blocks) == len(printed) == len(tasks)
    for task_id, task in tasks.items():
        assert printed[task_id].startswith(
            f"Task {task_id}: {task['score']:g} of {task['points']:g} points"
        )
        assert printed[task_id].count("[passed]") + printed[task_id].count("[FAILED]") == len(
            task["checks"]
        )
    total = plain.stdout.index(f"Assignment {ASSIGNMENT}: {summary['score']:g} of")
    assert all(plain.stdout.index(block) < total for block in blocks)


def test_clear_errors_for_wrong_arguments(course, tmp_path):
    course_, _, _ = course
    result = autograder("grade", "99_nothing", "--course-dir", str(course_.root))
    assert result.returncode == 2 and "99_nothing" in result.stderr
    result = autograder("grade", ASSIGNMENT, "--course-dir", str(tmp_path))
    assert result.returncode == 2 and "not a course directory" in result.stderr
    broken = tmp_path / "broken.ipynb"
    broken.write_text("not json")
    result = autograder("check", str(broken))
    assert result.returncode == 2 and "invalid-notebook" in result.stderr


def test_check_of_a_blank_release_says_what_is_not_done_and_what_is_graded_by_hand():
    blank = Path(__file__).resolve().parents[1] / "release" / "05_cifar10" / "05_cifar10.ipynb"
    result = autograder("check", str(blank), "--json")
    assert result.returncode == 1, result.stderr
    summary = json.loads(result.stdout)
    shown = reports.feedback_text(summary)  # check prints this, with each task as it finishes
    assert "not done yet: the answer still raises NotImplementedError" in shown
    assert "your code raised NotImplementedError" not in shown
    hand = nbformat.read(blank, 4)
    written = [
        c.metadata["nbgrader"]
        for c in hand.cells
        if c.metadata.get("nbgrader", {}).get("grade") and c.metadata["nbgrader"].get("solution")
    ]
    assert written, "05 has a written answer graded by hand"
    points = written[0]["points"]
    assert f"Task 05.9: {points:g} points, graded by hand" in shown
    assert summary["hand_graded"] == {"05.9": points}


def _blocks(text):
    """``{task: its feedback}``: each "Task ..." line with the indented lines after it."""
    blocks, current = {}, None
    for line in text.splitlines():
        if line.startswith("Task "):
            current = blocks.setdefault(line.split(":")[0].removeprefix("Task "), [])
        elif not line.startswith(" "):
            current = None
        if current is not None:
            current.append(line)
    return {task: "\n".join(lines) for task, lines in blocks.items()}


def test_a_task_reads_the_same_in_the_notebook_feedback_txt_and_check(
    course, feedback, bob_checked
):
    """One formatter: the test cell's output in the autograded notebook, feedback.txt and
    the self-check with the same seed show each task's feedback alike."""
    course_, bug, _ = course
    text = (feedback / "bob" / ASSIGNMENT / "feedback.txt").read_text()
    in_feedback = _blocks(text)
    graded = nbformat.read(
        course_.root / "autograded" / "bob" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4
    )
    in_notebook = {}
    for cell in graded.cells:
        for output in cell.get("outputs", []):
            shown = output.get("text") or output.get("evalue") or ""
            in_notebook.update(_blocks(shown))
    assert set(in_notebook) == set(in_feedback) == set(course_.task_points(ASSIGNMENT))
    assert in_notebook == in_feedback
    for task in bug.breaks:
        assert f"Task {task}: 0 of" in in_feedback[task] and "[FAILED]" in in_feedback[task]
    _, checked, _ = bob_checked
    assert _blocks(checked.stdout) == in_feedback


def test_check_puts_back_what_grading_puts_back(course, feedback):
    """fay's notebook is bob's with its read-only setup cell edited (every answer fails
    if it runs), a test cell's points raised and another test cell deleted. Grading
    restores them from nbgrader's gradebook, so fay scores as bob does; the self-check
    does the same through nbgrader, says what it put back, and reads as her feedback."""
    course_, bug, _ = course
    results = {
        s: json.loads((course_.root / "grading" / ASSIGNMENT / f"{s}.json").read_text())
        for s in ("bob", "fay")
    }
    assert results["fay"]["score"] == results["bob"]["score"] > 0
    assert results["fay"]["max_score"] == results["bob"]["max_score"]
    notebook = course_.root / "submitted" / "fay" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    checked = autograder("check", str(notebook), "--seed", str(graded_seed(course_, "fay")))
    assert checked.returncode == 1, checked.stdout + checked.stderr
    for change in (
        "the read-only cell setup was edited",
        "the nbgrader metadata of cell 02_1 was changed",
        "cell 02_8 was deleted",
    ):
        assert f"  - {change}\n" in checked.stdout, checked.stdout
    text = (feedback / "fay" / ASSIGNMENT / "feedback.txt").read_text()
    assert _blocks(checked.stdout) == _blocks(text)
    assert set(_blocks(text)) == set(course_.task_points(ASSIGNMENT))
    total = f"Assignment {ASSIGNMENT}: {results['fay']['score']:g} of "
    assert total + f"{results['fay']['max_score']:g} points" in checked.stdout


def test_a_notebook_saved_after_the_create_assignment_sidebar_grades_as_before(course):
    course_, _, _ = course
    tasks = task_scores(course_.root, ASSIGNMENT, ["bob", "hal"])
    assert tasks["hal"] == tasks["bob"] and tasks["bob"][0] == "graded"
    assert nbgrader_bridge.gradebook_scores(
        course_.root, ASSIGNMENT, "hal"
    ) == nbgrader_bridge.gradebook_scores(course_.root, ASSIGNMENT, "bob")


def test_check_with_a_missing_release_is_a_clear_error(course, tmp_path):
    course_, bug, _ = course
    notebook = course_.root / "submitted" / "fay" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    missing = tmp_path / "nowhere.ipynb"
    result = autograder("check", str(notebook), "--release", str(missing))
    assert result.returncode == 2
    assert f"--release {missing}: no such file" in result.stderr


def test_pages_made_from_a_submission_run_none_of_its_content(course, feedback):
    """gil's notebook is bob's with HTML, links, outputs and widget state that would run
    script in a browser. Formgrader's page (in the instructor's session) and her HTML
    feedback run none of it and still show her text; feedback.txt holds no terminal
    escapes. She scores as bob does."""
    from nbconvert.exporters import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers
    from test_safe_html import active_content
    from traitlets.config import Config

    course_, _, _ = course
    results = {
        s: json.loads((course_.root / "grading" / ASSIGNMENT / f"{s}.json").read_text())
        for s in ("bob", "gil")
    }
    assert results["gil"]["score"] == results["bob"]["score"] > 0
    config = Config()
    config.HTMLExporter.template_name = "formgrade"  # as formgrader renders a submission
    config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    resources = dict.fromkeys(
        ("assignment_id", "notebook_id", "student", "last_name", "first_name", "base_url"), ""
    )
    resources.update(submission_id="x", index=0, total=1, notebook_path="x")

    def pages(student):
        graded = course_.root / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        formgrade, _ = HTMLExporter(config=config).from_filename(str(graded), resources=resources)
        return formgrade, (feedback / student / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()

    for page, bobs in zip(pages("gil"), pages("bob"), strict=True):
        assert MARK in page  # her text is shown, as text
        # the page's own scripts, styles and buttons are bob's too; nothing more runs
        assert Counter(active_content(page)) - Counter(active_content(bobs)) == Counter()
        scripts = re.findall(r"<script[^>]*>(.*?)</script>", page, flags=re.S | re.I)
        assert scripts and not [s for s in scripts if MARK in s]
        assert "widget-state" not in page
    text = (feedback / "gil" / ASSIGNMENT / "feedback.txt").read_text()
    assert "RuntimeError" in text and "red" in text
    assert "\x1b" not in text and "\x07" not in text
