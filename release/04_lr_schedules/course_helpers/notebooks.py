"""Your answer to a task of an earlier assignment, taken from your own notebook.

Assignment 05 uses the range test you wrote in assignment 04. :func:`load_answer` finds
that notebook next to the current one (nbgrader's fetch and the course's releases put
every assignment in a folder of its own, side by side), runs the cells the grader would
run (every code cell except the visible tests and the cells marked as experiments) in a
fresh namespace, and returns the name you ask for.
"""

import json
from pathlib import Path


class AnswerNotAvailable(LookupError):
    """The earlier notebook is not there, cannot be read or run, or lacks the name."""


def _code_cells(notebook):
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        nbgrader = cell.get("metadata", {}).get("nbgrader", {})
        if nbgrader.get("grade") or str(nbgrader.get("grade_id", "")).endswith("-demo"):
            continue
        source = cell.get("source", "")
        yield (
            nbgrader.get("grade_id") or "(unnamed cell)",
            ("".join(source) if isinstance(source, list) else source),
        )


def _python(source):
    try:
        from IPython import get_ipython
    except ImportError:
        return source
    shell = get_ipython()
    return shell.transform_cell(source) if shell is not None else source


def find_notebook(assignment, start=None):
    """The notebook ``<assignment>/<assignment>.ipynb`` beside the folder ``start`` (the
    current folder by default), or in ``start`` itself."""
    start = Path.cwd() if start is None else Path(start)
    candidates = [
        start.parent / assignment / f"{assignment}.ipynb",
        start / assignment / f"{assignment}.ipynb",
        start / f"{assignment}.ipynb",
    ]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"Could not find your notebook of assignment {assignment}: looked for "
        + ", ".join(str(c) for c in candidates)
        + f". Put the folder {assignment}/ next to this assignment's folder, or pass "
        "path='.../<notebook>.ipynb'."
    )


def load_answer(assignment, name, path=None):
    """Run your notebook of ``assignment`` (found by :func:`find_notebook`, or ``path``)
    and return what it defines as ``name``. Raises :class:`AnswerNotAvailable`, saying
    why, when that is not possible."""
    try:
        notebook_path = Path(path) if path is not None else find_notebook(assignment)
        notebook = json.loads(notebook_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise AnswerNotAvailable(f"Could not read your notebook of {assignment}: {err}") from err
    namespace = {"__name__": f"answers_of_{assignment}"}
    for cell_id, source in _code_cells(notebook):
        try:
            exec(compile(_python(source), f"<{notebook_path.name}: {cell_id}>", "exec"), namespace)
        except Exception as err:
            raise AnswerNotAvailable(
                f"Your notebook {notebook_path} raised {type(err).__name__}: {err} in cell "
                f"{cell_id}; answer its tasks (or fix that cell) and run this again."
            ) from err
    if name not in namespace:
        raise AnswerNotAvailable(f"Your notebook {notebook_path} does not define {name!r}.")
    return namespace[name]
