"""The hidden checks' drivers: linted files of functions that run in the student's process."""

import ast
import importlib
import re
from pathlib import Path

import nbformat
import pytest

from autograder.checking import Drivers
from autograder.grading import CHECKS_DIR
from course_utils.answers import MODULES

ASSIGNMENTS = sorted(MODULES)
REPO = Path(__file__).resolve().parents[1]
SOLUTION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.DOTALL)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_a_drivers_file_only_imports_and_defines(assignment):
    drivers = Drivers(CHECKS_DIR / f"test_{assignment}.py")
    tree = ast.parse(drivers.text)
    body = tree.body[1:] if ast.get_docstring(tree) else tree.body
    kinds = {type(node).__name__ for node in body}
    assert kinds <= {"Import", "ImportFrom", "FunctionDef"}, kinds
    assert drivers.names


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_driver_shadows_a_name_of_the_notebook(assignment):
    drivers = Drivers(CHECKS_DIR / f"test_{assignment}.py")
    notebook_names = set(importlib.import_module(MODULES[assignment]).__all__)
    assert not drivers.names & notebook_names


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_driver_a_check_names_exists(assignment):
    checks = (CHECKS_DIR / f"test_{assignment}.py").read_text()
    used = set()
    for node in ast.walk(ast.parse(checks)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("run", "load")
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "DRIVERS"
        ):
            name = node.args[1 if node.func.attr == "run" else 0]
            assert isinstance(name, ast.Constant), ast.unparse(node)
            used.add(name.value)
    drivers = Drivers(CHECKS_DIR / f"test_{assignment}.py")
    assert used and used <= drivers.names, used - drivers.names


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_drivers_file_holds_a_line_of_the_solution(assignment):
    # driver text is public (student code can read what it is sent), so it must not hold
    # the reference answers, not even as a substring of a line
    notebook = nbformat.read(REPO / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    solution_lines = {
        line.strip()
        for cell in notebook.cells
        if "### BEGIN SOLUTION" in cell.source
        for block in SOLUTION.findall(cell.source)
        for line in block.splitlines()
        if len(line.strip()) > 25
    }
    assert solution_lines
    text = Drivers(CHECKS_DIR / f"test_{assignment}.py").text
    assert not [line for line in solution_lines if line in text]


def test_a_call_sends_only_the_driver_and_what_it_uses(tmp_path):
    (tmp_path / "drivers").mkdir()
    (tmp_path / "drivers" / "99_demo.py").write_text(
        "import math\n\n\ndef double(x):\n    return 2 * x\n\n\n"
        "def twice(x):\n    return double(x)\n\n\ndef unrelated():\n    return 'secret'\n"
    )
    drivers = Drivers(tmp_path / "test_99_demo.py")
    code = drivers.code("twice", {"x": 21})
    assert "secret" not in code and "import math" in code and "def double" in code
    namespace = {"x": 21}
    exec(code, namespace)
    assert namespace["result"] == 42
    assert drivers.load("twice")(4) == 8
    with pytest.raises(KeyError, match="defines no driver 'thrice'"):
        drivers.code("thrice", {})


def test_drivers_are_not_importable_modules():
    assert all(not p.stem.isidentifier() for p in (CHECKS_DIR / "drivers").glob("*.py"))
    assert Path(CHECKS_DIR / "drivers").is_dir()
