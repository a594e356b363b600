"""The student releases work without the course package and give no reference away.

A *student environment* here is this interpreter started with ``-S`` and only the
installed third-party packages on its path (numpy, matplotlib, torch, tqdm, JupyterLab's
kernel): no editable finder, no checkout, so neither ``course_utils`` nor ``autograder`` can
be imported. In it:

- every release folder, its notebook answered with the source notebook's solutions, runs
  top to bottom from a course folder laid out as nbgrader's fetch leaves it (one folder per
  assignment, side by side), within the time budget of its issue;
- the reference that each hidden-check module runs (``REFERENCE_SETUP``) cannot be
  imported from a release folder;
- no file of any release defines a function whose code is that of a reference function
  (of ``course_utils``, of a source notebook's solution or of the hidden checks).
"""

import ast
import json
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import time
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager
from nbclient import NotebookClient

from autograder.grading import CHECKS_DIR
from autograder.release import HELPERS

pytestmark = pytest.mark.slow  # whole batches or notebooks: make test-fast skips it

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENTS = sorted(p.name for p in (REPO / "source").glob("[0-9][0-9]_*") if p.is_dir())
RUN_BUDGET_S = {"05_cifar10": 120}
SITE = list(dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]))
BOOT = f"import sys; sys.path[1:1] = {SITE!r}; "
NO_COURSE = (
    "import importlib.util\n"
    "leaked = [m for m in ('course_utils', 'autograder') if importlib.util.find_spec(m)]\n"
    "assert not leaked, f'the student environment can import {leaked}'\n"
)


def student_python(code, cwd):
    """Run ``code`` in the student environment with ``cwd`` as its folder."""
    return subprocess.run(
        [sys.executable, "-S", "-c", BOOT + code],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), "MPLBACKEND": "Agg"},
    )


def reference_setup(assignment):
    """The ``REFERENCE_SETUP`` code of the assignment's hidden-check module."""
    path = CHECKS_DIR / f"test_{assignment}.py"
    namespace = {"__file__": str(path)}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    return namespace["REFERENCE_SETUP"]


def answered(assignment):
    """The release notebook of ``assignment`` with each answer cell filled from the source."""
    release = nbformat.read(REPO / "release" / assignment / f"{assignment}.ipynb", as_version=4)
    source = nbformat.read(REPO / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    solutions = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in source.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    filled = 0
    for cell in release.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution") and grade_id in solutions:
            cell.source = solutions[grade_id]  # its markers are comments
            filled += 1
    assert filled == len(solutions), f"{assignment}: not every answer cell was filled"
    return release


@pytest.fixture(scope="module")
def student_course(tmp_path_factory):
    """A course folder as students have it after fetching every assignment and answering."""
    root = tmp_path_factory.mktemp("student-course")
    for assignment in ASSIGNMENTS:
        shutil.copytree(REPO / "release" / assignment, root / assignment)
        nbformat.write(answered(assignment), root / assignment / f"{assignment}.ipynb")
    kernels = root / ".jupyter" / "kernels" / "student"
    kernels.mkdir(parents=True)
    launch = BOOT + "from ipykernel.kernelapp import launch_new_instance; launch_new_instance()"
    (kernels / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-S", "-c", launch, "-f", "{connection_file}"],
                "display_name": "student environment",
                "language": "python",
            }
        )
    )
    return root


def test_the_student_environment_cannot_import_the_course(student_course):
    probe = student_python(NO_COURSE + "import numpy, matplotlib, torch, tqdm", student_course)
    assert probe.returncode == 0, probe.stderr


class AnsweredRelease:
    """One assignment's answered release run top to bottom; one subclass per assignment,
    so that pytest-xdist (``--dist loadscope``) spreads the runs over its workers."""

    assignment = None

    def test_runs_top_to_bottom_without_the_course_package(self, student_course, monkeypatch):
        assignment = self.assignment
        monkeypatch.setenv("JUPYTER_PATH", str(student_course / ".jupyter"))
        monkeypatch.delenv("PYTHONPATH", raising=False)
        notebook = answered(assignment)
        notebook.cells.insert(0, nbformat.v4.new_code_cell(NO_COURSE))
        budget = RUN_BUDGET_S.get(assignment, 60)
        client = NotebookClient(
            notebook,
            timeout=budget,
            kernel_name="student",
            resources={"metadata": {"path": str(student_course / assignment)}},
        )
        started = time.perf_counter()
        client.execute()
        elapsed = time.perf_counter() - started
        print(f"{assignment}: answered release executed in {elapsed:.1f} s")
        assert elapsed <= budget, f"{assignment} took {elapsed:.1f} s (limit {budget} s)"
        outputs = "\n".join(
            out.get("text", "") for cell in notebook.cells for out in cell.get("outputs", [])
        )
        if assignment == "05_cifar10":
            # the range test ran the student's own answer to Task 04.8, found beside it
            assert "range test: " in outputs and "range test skipped" not in outputs, outputs[
                -2000:
            ]


for _assignment in ASSIGNMENTS:
    _name = f"TestAnsweredRelease_{_assignment}"
    globals()[_name] = type(_name, (AnsweredRelease,), {"assignment": _assignment})


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_reference_of_the_hidden_checks_cannot_be_imported_from_a_release(
    assignment, student_course
):
    setup = reference_setup(assignment)
    attempt = student_python(
        f"exec({setup!r})\nprint('the reference was imported')", student_course / assignment
    )
    assert attempt.returncode != 0 and "the reference was imported" not in attempt.stdout
    assert "ModuleNotFoundError: No module named 'course_utils" in attempt.stderr, attempt.stderr
    for package in ("course_utils", "autograder"):
        attempt = student_python(f"import {package}", student_course / assignment)
        assert f"No module named '{package}'" in attempt.stderr, attempt.stderr


# --- no reference code in a release ------------------------------------------------------

MIN_NODES = 25  # smaller functions (a property, a one-line forward) say nothing of an answer


def _python_of_cell(source):
    return TransformerManager().transform_cell(source)


def _fingerprints(code, where):
    """``{fingerprint: name}`` of every function (and method) defined in ``code``; the
    fingerprint is the dump of its arguments and body, without its name and docstring."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return {}
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                body = body[1:]
            if sum(1 for part in body for _ in ast.walk(part)) < MIN_NODES:
                continue
            dump = ast.dump(ast.Module(body=body, type_ignores=[])) + ast.dump(node.args)
            found[dump] = f"{where}: {node.name}"
    return found


def _notebook_code(path, answers_only=False):
    for cell in nbformat.read(path, as_version=4).cells:
        is_answer = cell.metadata.get("nbgrader", {}).get("solution", False)
        if cell.cell_type == "code" and (is_answer or not answers_only):
            yield _python_of_cell(cell.source)


def reference_functions():
    found = {}
    for path in sorted((REPO / "course_utils").rglob("*.py")):
        found.update(_fingerprints(path.read_text(), path.relative_to(REPO)))
    for assignment in ASSIGNMENTS:
        path = REPO / "source" / assignment / f"{assignment}.ipynb"
        for code in _notebook_code(path):
            if "### BEGIN SOLUTION" in code:
                found.update(_fingerprints(code, f"solution of {assignment}"))
        found.update(_fingerprints(reference_setup(assignment), f"REFERENCE_SETUP {assignment}"))
    # The scaffolding that answer cells hand out (a given __init__, say) is public by design.
    for path in (REPO / "release").glob("*/*.ipynb"):
        for code in _notebook_code(path, answers_only=True):
            for fingerprint in _fingerprints(code, ""):
                found.pop(fingerprint, None)
    return found


def release_functions(release_root):
    found = {}
    for path in sorted(release_root.rglob("*")):
        if path.suffix == ".py":
            found.update(_fingerprints(path.read_text(), path.relative_to(release_root)))
        elif path.suffix == ".ipynb":
            for code in _notebook_code(path):
                found.update(_fingerprints(code, path.relative_to(release_root)))
    return found


def copied_references(release_root):
    references, released = reference_functions(), release_functions(release_root)
    return sorted(f"{released[k]} is {references[k]}" for k in released.keys() & references)


def test_no_release_file_defines_a_reference_function():
    assert len(reference_functions()) > 100  # the detector sees the references
    assert copied_references(REPO / "release") == []


def test_the_copy_detector_finds_a_renamed_reference_function(tmp_path):
    shutil.copytree(REPO / "release" / "04_lr_schedules", tmp_path / "04_lr_schedules")
    reference = (REPO / "course_utils" / "schedules" / "functional.py").read_text()
    tree = ast.parse(reference)
    function = next(
        n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "restart_position"
    )
    copied = ast.get_source_segment(reference, function).replace(
        "def restart_position", "def my_cosine"
    )
    helper = tmp_path / "04_lr_schedules" / HELPERS / "extra.py"
    helper.write_text("import math\n\n\n" + textwrap.dedent(copied) + "\n")
    assert any("my_cosine is" in line for line in copied_references(tmp_path))
