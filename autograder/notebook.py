"""Reading notebooks for grading: which cells run, which cells are tasks.

The grader runs, in order, every code cell of a submission except

- test cells (nbgrader ``grade: true, solution: false``): their visible tests run in the
  student's own kernel; points are decided by the hidden checks instead;
- demo cells (locked cells whose ``grade_id`` ends in ``-demo``): plots, timings and
  experiments that grading does not need.

IPython syntax (magics, ``!shell``) is turned into plain Python here, on the trusted
side, so nothing the submission does can change how later cells are read.
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
from IPython.core.inputtransformer2 import TransformerManager

_TASK_GRADE_ID = re.compile(r"^(\d{2})_(\d+)$")


def task_id_of(grade_id):
    """The task id of a test cell's nbgrader ``grade_id`` (``01_3`` -> ``01.3``), or None.

    nbgrader's metadata schema allows only letters, digits, ``-`` and ``_`` in a grade_id,
    so the dot of a task id is written as an underscore there.
    """
    match = _TASK_GRADE_ID.match(str(grade_id or ""))
    return f"{match[1]}.{match[2]}" if match else None


def grade_id_of(task_id):
    """The nbgrader ``grade_id`` of a task's test cell (``01.3`` -> ``01_3``)."""
    return task_id.replace(".", "_")


class SubmissionError(Exception):
    """A submission that cannot be graded; ``status`` goes to the report."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class CodeCell:
    cell_id: str
    source: str


def nbgrader_meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def is_test_cell(cell):
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade")) and not meta.get("solution") and cell["cell_type"] == "code"


def is_demo_cell(cell):
    meta = nbgrader_meta(cell)
    return bool(meta.get("locked")) and str(meta.get("grade_id", "")).endswith("-demo")


def read_notebook(path):
    """Read a notebook file, or raise SubmissionError saying what is wrong with it."""
    path = Path(path)
    if not path.is_file():
        raise SubmissionError("missing-notebook", f"{path.name} was not found in the submission")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SubmissionError("unreadable-notebook", f"{path.name} cannot be read: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SubmissionError(
            "invalid-notebook",
            f"{path.name} is not valid notebook JSON ({exc.msg} at line {exc.lineno}); "
            "open it in JupyterLab, save it again and resubmit",
        ) from None
    if not isinstance(data, dict):
        raise SubmissionError("invalid-notebook", f"{path.name} is not a notebook object")
    try:
        if isinstance(data.get("cells"), list) and data.get("nbformat", 4) >= 4:
            return nbformat.from_dict(data)
        if isinstance(data.get("worksheets"), list):  # nbformat 3 and earlier
            return nbformat.reads(text, as_version=4)
    except Exception as exc:  # nbformat raises several unrelated types on bad input
        raise SubmissionError("invalid-notebook", f"{path.name} is not a notebook: {exc}") from None
    raise SubmissionError("invalid-notebook", f"{path.name} has no list of cells")


def cells_to_run(notebook):
    """The code cells grading executes, in order, as plain Python."""
    transformer = TransformerManager()
    cells = []
    for index, cell in enumerate(notebook.cells):
        if cell.get("cell_type") != "code" or is_test_cell(cell) or is_demo_cell(cell):
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(source)
        if not source.strip():
            continue
        cell_id = nbgrader_meta(cell).get("grade_id") or f"{index + 1}"
        cells.append(CodeCell(str(cell_id), transformer.transform_cell(source)))
    return cells


def task_points(notebook):
    """``{task_id: points}`` of the graded test cells, in notebook order."""
    tasks = {}
    for cell in notebook.cells:
        meta = nbgrader_meta(cell)
        task = task_id_of(meta.get("grade_id"))
        if is_test_cell(cell) and task:
            tasks[task] = float(meta.get("points", 0))
    return tasks


def strip_solution_markers(source):
    """Source notebook text with the ``### BEGIN/END SOLUTION`` lines removed."""
    lines = source.splitlines(keepends=True)
    return "".join(line for line in lines if line.strip() not in _MARKERS)


_MARKERS = {"### BEGIN SOLUTION", "### END SOLUTION"}
