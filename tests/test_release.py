"""release/ is exactly what nbgrader makes from source/, and gives nothing away."""

import filecmp
import re
from pathlib import Path

import nbformat
import pytest

from autograder.grading import CHECKS_DIR
from autograder.release import generate_release

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENTS = sorted(p.name for p in (REPO / "source").glob("[0-9][0-9]_*") if p.is_dir())
SOLUTION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.DOTALL)


def relative_files(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_is_what_nbgrader_generates(assignment, tmp_path):
    generated = generate_release(assignment, scratch=tmp_path)
    committed = REPO / "release" / assignment
    assert committed.is_dir(), f"release/{assignment} is missing: run make release"
    assert relative_files(generated) == relative_files(committed)
    for name in relative_files(generated):
        assert filecmp.cmp(generated / name, committed / name, shallow=False), (
            f"release/{assignment}/{name} differs from what nbgrader generates: run make release"
        )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_contains_no_solution_or_hidden_check_text(assignment):
    source = nbformat.read(REPO / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    release = "\n".join(
        cell.source
        for path in (REPO / "release" / assignment).glob("*.ipynb")
        for cell in nbformat.read(path, as_version=4).cells
    )
    assert "BEGIN SOLUTION" not in release and "BEGIN HIDDEN TESTS" not in release
    solution_lines, public = set(), []
    for cell in source.cells:
        for block in SOLUTION.findall(cell.source):
            solution_lines.update(line.strip() for line in block.splitlines())
        public.append(SOLUTION.sub("", cell.source))
    assert solution_lines, "the source notebook has no solution"
    public = "\n".join(public)  # text students are meant to see
    leaked = [
        line for line in solution_lines if len(line) > 25 and line in release and line not in public
    ]
    assert not leaked, f"solution lines found in the release: {leaked[:5]}"
    checks = (CHECKS_DIR / f"test_{assignment}.py").read_text()
    check_names = re.findall(r"^def (test_\w+)", checks, re.MULTILINE)
    assert check_names
    assert not [name for name in check_names if name in release]
    assert "REFERENCE_SETUP" not in release
