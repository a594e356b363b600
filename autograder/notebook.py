"""Reading notebooks for grading: which cells run, which cells are tasks.

The grader runs, in order, every code cell of a submission except

- test cells (nbgrader ``grade: true, solution: false``): their visible tests run in the
  student's own kernel; points are decided by the hidden checks instead;
- demo cells (locked cells whose ``grade_id`` ends in ``-demo``): plots, timings and
  experiments that grading does not need.

Cells are sent as written: their IPython syntax (magics, ``!shell``) is turned into
Python inside the sandbox, under the cell's timeout, so a cell built to make that
transformation slow costs only its own submission's time.

Reading is bounded: a notebook file over ``MAX_NOTEBOOK_BYTES``, with more than
``MAX_CELLS`` cells or a cell source over ``MAX_CELL_CHARS``, nested too deeply or with
numbers too long to read is refused with a status before nbgrader sees it.
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

MAX_NOTEBOOK_BYTES = 64 << 20
MAX_CELLS = 5_000
MAX_CELL_CHARS = 1 << 20
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


def source_text(cell):
    """A cell's source as one string (nbformat allows a list of lines)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


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
        size = path.stat().st_size
        if size > MAX_NOTEBOOK_BYTES:
            raise SubmissionError(
                "invalid-notebook",
                f"{path.name} is {size} bytes, over the limit of {MAX_NOTEBOOK_BYTES}; clear "
                "large outputs (Edit > Clear Outputs of All Cells), save and resubmit",
            )
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SubmissionError("unreadable-notebook", f"{path.name} cannot be read: {exc}") from None
    invalid = f"{path.name} is not valid notebook JSON"
    advice = "open it in JupyterLab, save it again and resubmit"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SubmissionError(
            "invalid-notebook", f"{invalid} ({exc.msg} at line {exc.lineno}); {advice}"
        ) from None
    except (RecursionError, ValueError) as exc:  # nesting too deep, a number too long
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)[:200]
        raise SubmissionError("invalid-notebook", f"{invalid} ({reason}); {advice}") from None
    if not isinstance(data, dict):
        raise SubmissionError("invalid-notebook", f"{path.name} is not a notebook object")
    try:
        if isinstance(data.get("cells"), list) and data.get("nbformat", 4) >= 4:
            notebook = nbformat.from_dict(data)
        elif isinstance(data.get("worksheets"), list):  # nbformat 3 and earlier
            notebook = nbformat.reads(text, as_version=4)
        else:
            raise SubmissionError("invalid-notebook", f"{path.name} has no list of cells")
        _check_cells(notebook, path.name)
        return notebook
    except SubmissionError:
        raise
    except Exception as exc:  # nbformat raises several unrelated types on bad input
        message = str(exc)[:500]
        raise SubmissionError(
            "invalid-notebook", f"{path.name} is not a notebook: {message}"
        ) from None


def _check_cells(notebook, name):
    cells = notebook.get("cells")
    if not isinstance(cells, list) or len(cells) > MAX_CELLS:
        count = len(cells) if isinstance(cells, list) else "no list of"
        raise SubmissionError(
            "invalid-notebook", f"{name} has {count} cells; at most {MAX_CELLS} are graded"
        )
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict) or not isinstance(cell.get("metadata", {}), dict):
            raise SubmissionError("invalid-notebook", f"{name}: cell {index + 1} is not a cell")
        source = cell.get("source", "")
        if isinstance(source, list):
            if not all(isinstance(line, str) for line in source):
                raise SubmissionError(
                    "invalid-notebook", f"{name}: cell {index + 1} has a source that is not text"
                )
            source = "".join(source)
        if not isinstance(source, str) or len(source) > MAX_CELL_CHARS:
            raise SubmissionError(
                "invalid-notebook",
                f"{name}: cell {index + 1} is not text of at most {MAX_CELL_CHARS} characters",
            )


def cells_to_run(notebook):
    """The code cells grading executes, in order, as written (IPython syntax included)."""
    cells = []
    for index, cell in enumerate(notebook.cells):
        if cell.get("cell_type") != "code" or is_test_cell(cell) or is_demo_cell(cell):
            continue
        source = source_text(cell)
        if not source.strip():
            continue
        cell_id = nbgrader_meta(cell).get("grade_id") or f"{index + 1}"
        cells.append(CodeCell(str(cell_id)[:100], source))
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


def hand_graded_points(notebook):
    """``{task_id: points}`` of the answers graded by hand (nbgrader ``grade`` and
    ``solution`` both set, e.g. a written answer), in notebook order."""
    tasks = {}
    for cell in notebook.cells:
        meta = nbgrader_meta(cell)
        if meta.get("grade") and meta.get("solution"):
            grade_id = str(meta.get("grade_id", ""))
            task = task_id_of(grade_id.split("-")[0]) or grade_id
            tasks[task] = float(meta.get("points", 0))
    return tasks


def strip_solution_markers(source):
    """Source notebook text with the ``### BEGIN/END SOLUTION`` lines removed."""
    lines = source.splitlines(keepends=True)
    return "".join(line for line in lines if line.strip() not in _MARKERS)


_MARKERS = {"### BEGIN SOLUTION", "### END SOLUTION"}


def _recorded(meta, cell_type):
    """A grade cell's nbgrader metadata as grading compares it. Its ``cell_type`` field is
    optional (nbgrader only checks it against the cell's type; JupyterLab's Create
    Assignment sidebar drops it from code cells): a missing one reads as the cell's own."""
    return {**meta, "cell_type": meta.get("cell_type", cell_type)}


def release_differences(notebook, release):
    """What ``nbgrader autograde`` would put back in ``notebook`` before grading it, as
    sentences (``[]``: nothing). ``release`` is the notebook as released, whose graded
    cells are those nbgrader recorded in the gradebook: it restores their cell types,
    ``locked`` flags, points and, for locked cells, their text; drops copies and cells
    with a grade_id it does not know; and adds back deleted grade cells.

    Sound rather than complete: when the list is empty, nbgrader's sanitizing changes
    nothing the grader reads (the cells, their order and their nbgrader metadata); a
    difference it would not act on may still be listed.
    """
    recorded = {}
    for cell in release.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id:
            recorded[grade_id] = cell
    found, differences = set(), []
    for index, cell in enumerate(notebook.cells):
        meta = cell.get("metadata", {}).get("nbgrader")
        if not meta:
            continue
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
        if grade_id not in recorded:
            differences.append(
                f"cell {index + 1} has nbgrader metadata the release does not have "
                f"(grade_id {str(grade_id)[:60]!r})"
            )
            continue
        if grade_id in found:
            differences.append(f"cell {grade_id} is there more than once (a copied cell)")
            continue
        found.add(grade_id)
        released = recorded[grade_id]
        if cell.get("cell_type") != released.cell_type:
            differences.append(f"cell {grade_id} was made a {cell.get('cell_type')} cell")
        elif _recorded(meta, released.cell_type) != _recorded(
            nbgrader_meta(released), released.cell_type
        ):
            differences.append(f"the nbgrader metadata of cell {grade_id} was changed")
        elif meta.get("locked") and source_text(cell) != source_text(released):
            differences.append(f"the read-only cell {grade_id} was edited")
    deleted = [grade_id for grade_id in recorded if grade_id not in found]
    differences += [f"cell {grade_id} was deleted" for grade_id in deleted]
    return differences
