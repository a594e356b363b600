"""Bundled sample submissions: the reference, the blank release and plausible bugs.

Each assignment has ``autograder/samples/<assignment>.json`` listing bugs as edits of the
reference solution::

    {"assignment": "01_autodiff",
     "samples": [{"student": "bug-sin-sign",
                  "description": "forward mode: derivative of sin with the wrong sign",
                  "edits": [{"cell": "01_2-answer", "replace": "...", "with": "..."}],
                  "breaks": ["01.2"]}]}

A sample submission is the release notebook with every answer cell filled in from the
source notebook's solution, then the edits applied; each ``replace`` text must occur
exactly once in its cell, so a sample cannot silently stop matching the solution.
``breaks`` lists the tasks the bug must fail; every other task must pass. A sample whose
``breaks`` is empty (named ``alt-...``) is a correct answer written another way, which
must score full marks, so a false fail breaks the build. Two samples
are implied: ``reference`` (full marks) and ``blank`` (the release as handed out).
Cells are named by ``grade_id``; the task-id spelling ``01.2-answer`` is accepted too.
"""

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.notebook import nbgrader_meta, source_text, strip_solution_markers

SAMPLES_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Sample:
    student: str
    description: str
    edits: list = field(default_factory=list)
    breaks: tuple = ()
    blank: bool = False


def load_samples(assignment):
    """The samples of ``assignment``: reference, blank, then the listed bugs."""
    path = SAMPLES_DIR / f"{assignment}.json"
    listed = json.loads(path.read_text())["samples"] if path.is_file() else []
    samples = [
        Sample("reference", "the reference solution"),
        Sample("blank", "the release as handed out, nothing filled in", blank=True),
    ]
    for entry in listed:
        samples.append(
            Sample(
                entry["student"],
                entry["description"],
                list(entry.get("edits", [])),
                tuple(entry["breaks"]),
            )
        )
    return samples


def reference_notebook(release_notebook, source_notebook):
    """The release notebook with each answer cell holding the source's solution."""
    solutions = {
        nbgrader_meta(c).get("grade_id"): strip_solution_markers(source_text(c))
        for c in source_notebook.cells
        if nbgrader_meta(c).get("solution")
    }
    filled = copy.deepcopy(release_notebook)
    for cell in filled.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if nbgrader_meta(cell).get("solution") and grade_id in solutions:
            cell.source = solutions[grade_id]
    return filled


def apply_edits(notebook, edits, label):
    edited = copy.deepcopy(notebook)
    cells = {nbgrader_meta(c).get("grade_id"): c for c in edited.cells}
    for edit in edits:
        name = edit["cell"].replace(".", "_")
        if name not in cells:
            raise ValueError(f"sample {label}: no cell with grade_id {name!r}")
        text = source_text(cells[name])
        count = text.count(edit["replace"])
        if count != 1:
            raise ValueError(
                f"sample {label}: the text to replace occurs {count} times in cell {name} "
                f"(it must occur exactly once): {edit['replace']!r}"
            )
        cells[name].source = text.replace(edit["replace"], edit["with"])
    return edited


def build_submission(sample, release_notebook, source_notebook):
    """The notebook a sample student hands in."""
    if sample.blank:
        return copy.deepcopy(release_notebook)
    reference = reference_notebook(release_notebook, source_notebook)
    return apply_edits(reference, sample.edits, sample.student)


def write_submissions(course_root, assignment, samples=None):
    """Write every sample into ``submitted/<student>/<assignment>/`` of a course directory."""
    course_root = Path(course_root)
    samples = load_samples(assignment) if samples is None else samples
    for source_path in sorted((course_root / "source" / assignment).glob("*.ipynb")):
        source = nbformat.read(source_path, as_version=4)
        release = nbformat.read(
            course_root / "release" / assignment / source_path.name, as_version=4
        )
        for sample in samples:
            folder = course_root / "submitted" / sample.student / assignment
            folder.mkdir(parents=True, exist_ok=True)
            nbformat.write(build_submission(sample, release, source), folder / source_path.name)
    return samples


def grade_in_one_zygote(assignment, notebooks, seed=lambda key: None, **timeouts):
    """Yield ``(key, NotebookResult)`` for each ``(key, notebook)`` of ``notebooks``,
    graded by the hidden checks alone (as ``check`` grades), every child forked from one
    zygote. ``seed(key)`` is the seed of each (None: a fresh one); ``timeouts`` are
    :func:`~autograder.grading.grade_notebook`'s (``cell_timeout=5``)."""
    from autograder.check_files import child_preload
    from autograder.grading import grade_notebook
    from autograder.sandbox.runner import Zygote

    with Zygote(preload=child_preload(assignment)) as zygote:
        for key, notebook in notebooks:
            yield (
                key,
                grade_notebook(notebook, assignment, zygote=zygote, seed=seed(key), **timeouts),
            )
