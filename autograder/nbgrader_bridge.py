"""Running our grading inside nbgrader, so its gradebook, formgrader and export keep working.

``nbgrader autograde`` sanitizes a submission (restores locked and test cells from the
source), executes it in the student's kernel, and saves the grades it reads off the test
cells' outputs. :func:`autograde` runs the same converter with one change in its
pipeline: :class:`TrustedChecks` takes the place of ``Execute``. It grades the sanitized
notebook with the hidden checks and writes each task's verdict into the task's test cell
as an output that nbgrader reads: an error output for a failed task (0 points), a plain
output otherwise (full points). The pipeline after it is nbgrader's own.

Both pipelines are nbgrader's own (or those the course's ``nbgrader_config.py`` sets),
with one preprocessor replaced in each (:func:`replace_preprocessor`): sanitizing has
:class:`SanitizeGradeCells` in place of ``DeduplicateIds``, autograding has
:class:`TrustedChecks` and :class:`RemoveActiveContent` in place of ``Execute``
(nbgrader 0.9.6: ``TrustedChecks, RemoveActiveContent, IgnorePattern,
ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades, AssignLatePenalties,
CheckCellMetadata``).
"""

import functools
import json
import logging
import os
import shutil
import sys
import tempfile
import warnings
from dataclasses import asdict
from pathlib import Path

import jsonschema
import nbformat
import nbgrader.api
import nbgrader.nbgraderformat.common
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps import NbGraderAPI
from nbgrader.converters import Autograde
from nbgrader.coursedir import CourseDirectory
from nbgrader.dbutil import _temp_alembic_ini
from nbgrader.preprocessors import (
    DeduplicateIds,
    Execute,
    NbGraderPreprocessor,
)
from nbgrader.utils import capture_log, temp_attrs
from sqlalchemy.exc import SAWarning
from traitlets.config import Config, PyFileConfigLoader

from autograder import reports, safe_html
from autograder.notebook import is_test_cell, nbgrader_meta, task_id_of


class _SchemaCheckedOnce:
    """``jsonschema`` as nbgrader's cell-metadata validator uses it, with each schema
    checked against its meta-schema once per process. ``jsonschema.validate`` checks the
    schema on every call, and nbgrader calls it for every grade cell, twice per
    notebook: 0.1 s of each submission. The cell is validated as ``validate`` does."""

    def __init__(self):
        self._validators = {}

    def validate(self, instance, schema):
        key = json.dumps(schema, sort_keys=True)
        validator = self._validators.get(key)
        if validator is None:
            cls = jsonschema.validators.validator_for(schema)
            cls.check_schema(schema)
            validator = self._validators[key] = cls(schema)
        error = jsonschema.exceptions.best_match(validator.iter_errors(instance))
        if error is not None:
            raise error

    def __getattr__(self, name):
        return getattr(jsonschema, name)


nbgrader.nbgraderformat.common.jsonschema = _SchemaCheckedOnce()


@functools.cache
def alembic_head():
    """The revision ``alembic heads`` prints first for nbgrader's migration scripts, which
    nbgrader stamps a new gradebook with, read in this process. nbgrader runs the alembic
    command for it (``nbgrader.api.get_alembic_version``): 5.8 s of every new gradebook
    on 2 cores, for a constant of the installed nbgrader."""
    with _temp_alembic_ini("sqlite:////tmp/gradebook.db") as ini:
        heads = ScriptDirectory.from_config(AlembicConfig(ini)).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"nbgrader's migration scripts have {len(heads)} heads: {heads}")
    return heads[0]


nbgrader.api.get_alembic_version = alembic_head


def _put_environment_scripts_on_path():
    """nbgrader runs the ``alembic`` script of its environment for a gradebook's migrations
    (a new one gets its revision from :func:`alembic_head`); make sure it is found when
    Python was started without activating the environment."""
    scripts = os.path.dirname(sys.executable)
    path = os.environ.get("PATH", "")
    if scripts not in path.split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + path


def load_config(course_dir):
    """The course's nbgrader configuration, rooted at ``course_dir`` wherever it lives."""
    course_dir = Path(course_dir).resolve()
    config = Config()
    if (course_dir / "nbgrader_config.py").is_file():
        config = PyFileConfigLoader("nbgrader_config.py", path=str(course_dir)).load_config()
    config.CourseDirectory.root = str(course_dir)
    return config


def course_directory(course_dir):
    config = load_config(course_dir)
    return CourseDirectory(config=config), config


def verdict_outputs(task):
    """Outputs for a task's test cell: an error when it failed, a summary when it passed.
    The text is the task's feedback as ``check`` and feedback.txt show it."""
    text = "\n".join(reports.task_lines(asdict(task))) + "\n"
    if task.score >= task.points and task.checks:
        return [nbformat.v4.new_output("stream", name="stdout", text=text)]
    return [
        nbformat.v4.new_output(
            "error", ename=f"Task {task.task} failed", evalue=text, traceback=text.splitlines()
        )
    ]


def cell_outputs(cell_result):
    return [
        nbformat.v4.new_output(
            "error",
            ename=f"Cell {cell_result.status}",
            evalue=cell_result.message,
            traceback=[cell_result.message],
        )
    ]


def annotate(notebook, result):
    """Write the grading result into the notebook's cells (test cells and broken cells)."""
    broken = {c.cell_id: c for c in result.cells if c.status != "ok"}
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        grade_id = nbgrader_meta(cell).get("grade_id")
        task = task_id_of(grade_id)
        if is_test_cell(cell) and task in result.tasks:
            cell.outputs = verdict_outputs(result.tasks[task])
        elif grade_id in broken:
            cell.outputs = cell_outputs(broken[grade_id])


class SanitizeGradeCells(DeduplicateIds):
    """nbgrader's DeduplicateIds, also dropping grade cells the source does not have.

    A cell copied in JupyterLab keeps its nbgrader metadata, so the notebook holds two
    cells with one grade_id; a cell's metadata can also be edited by hand. nbgrader keeps
    the last copy and empties the metadata of the others, and empties that of cells
    unknown to the source, which its own OverwriteCells then fails on (KeyError
    'grade_id'), so the whole submission would score 0. Here such cells lose the
    ``nbgrader`` key and become ordinary cells: their code still runs, and every grade
    cell of the source is graded once. ``known_ids`` are the grade_ids of the source.
    """

    def __init__(self, known_ids, **kwargs):
        super().__init__(**kwargs)
        self.known_ids = frozenset(known_ids)

    def preprocess_cell(self, cell, resources, cell_index):
        meta = cell.metadata.get("nbgrader")
        if not meta:
            cell.metadata.pop("nbgrader", None)
            return cell, resources
        grade_id = meta.get("grade_id")
        if grade_id in self.grade_ids:
            self.log.warning("Cell with id '%s' exists multiple times!", grade_id)
            del cell.metadata["nbgrader"]
        elif grade_id not in self.known_ids:
            self.log.warning("Cell with id '%s' is not in the source notebook", grade_id)
            del cell.metadata["nbgrader"]
        else:
            self.grade_ids.add(grade_id)
        return cell, resources


def source_grade_ids(coursedir, assignment):
    """The grade_ids of every cell of the assignment's source notebooks."""
    ids = set()
    folder = Path(coursedir.format_path(coursedir.source_directory, ".", assignment))
    for path in sorted(folder.glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            grade_id = nbgrader_meta(cell).get("grade_id")
            if grade_id:
                ids.add(grade_id)
    return ids


class TrustedChecks(NbGraderPreprocessor):
    """Grades a sanitized notebook with the hidden checks instead of executing it."""

    def __init__(self, grade, **kwargs):
        super().__init__(**kwargs)
        self.grade = grade

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        result = self.grade(nb, info["assignment"], info["student"], info["notebook"])
        annotate(nb, result)
        return nb, resources


class RemoveActiveContent(NbGraderPreprocessor):
    """Makes the autograded notebook, which formgrader shows the instructor and the HTML
    feedback shows the student, safe to render (:mod:`autograder.safe_html`)."""

    def preprocess(self, nb, resources):
        return safe_html.sanitize_notebook(nb), resources


def replace_preprocessor(pipeline, old, *new):
    """``pipeline`` (nbgrader's own list, or the course's configured one) with the
    preprocessors ``new`` in place of ``old``; ``old`` may be given there as the class,
    an instance or its import path. Everything else stays as nbgrader (or the instructor)
    set it."""

    def is_old(entry):
        if isinstance(entry, str):
            return entry.rsplit(".", 1)[-1] == old.__name__
        return entry is old or isinstance(entry, old)

    found = [i for i, entry in enumerate(pipeline) if is_old(entry)]
    if len(found) != 1:
        raise ValueError(
            f"nbgrader's pipeline should hold {old.__name__} once, which the grader "
            f"replaces; the course's nbgrader_config.py sets it to {list(pipeline)!r}"
        )
    return [*pipeline[: found[0]], *new, *pipeline[found[0] + 1 :]]


def autograde(course_dir, assignment, student, grade):
    """Run nbgrader's autograde converter for one student with :class:`TrustedChecks`.

    ``grade(notebook, assignment, student, notebook_name)`` returns a NotebookResult.
    Returns nbgrader's ``{"success": bool, "log": str, "error": str}``.
    """
    coursedir, config = course_directory(course_dir)
    config.Autograde.create_student = True
    # a test cell the student deleted comes back from the source, so its task is graded
    config.OverwriteCells.add_missing_cells = True
    with temp_attrs(coursedir, assignment_id=assignment, student_id=student):
        converter = Autograde(coursedir=coursedir, config=config)
        converter.force = True
        converter.sanitize_preprocessors = replace_preprocessor(
            converter.sanitize_preprocessors,
            DeduplicateIds,
            SanitizeGradeCells(source_grade_ids(coursedir, assignment)),
        )
        converter.autograde_preprocessors = replace_preprocessor(
            converter.autograde_preprocessors, Execute, TrustedChecks(grade), RemoveActiveContent()
        )
        converter.log.setLevel(logging.WARNING)
        with warnings.catch_warnings():
            # nbgrader's session handling warns about objects it adds itself
            warnings.simplefilter("ignore", SAWarning)
            return capture_log(converter)


def autograde_from_release(release_notebook, assignment, notebook, grade):
    """:func:`autograde` of one ``notebook`` in a throwaway course whose gradebook nbgrader
    makes from ``release_notebook`` (the self-check of a notebook that grading would
    sanitize, see :func:`autograder.notebook.release_differences`). nbgrader records the
    release's graded cells as they are in the source's gradebook (its solutions are
    stubs there already), so the notebook ``grade`` receives is sanitized as grading
    sanitizes it. Returns nbgrader's ``{"success", "log", "error"}``."""
    release_notebook = Path(release_notebook)
    with tempfile.TemporaryDirectory(prefix="autograder-check-") as root:
        source = Path(root) / "source" / assignment
        source.mkdir(parents=True)
        shutil.copyfile(release_notebook, source / release_notebook.name)
        generate_assignment(root, assignment)
        submitted = Path(root) / "submitted" / "you" / assignment
        submitted.mkdir(parents=True)
        with warnings.catch_warnings():  # a notebook made outside JupyterLab has no cell ids
            warnings.simplefilter("ignore", nbformat.validator.MissingIDFieldWarning)
            nbformat.write(notebook, submitted / release_notebook.name)
        return autograde(root, assignment, "you", grade)


def generate_assignment(course_dir, assignment):
    """``nbgrader generate_assignment``: write release/ and record the assignment's cells."""
    _put_environment_scripts_on_path()
    coursedir, config = course_directory(course_dir)
    config.GenerateAssignment.create_assignment = True
    api = NbGraderAPI(coursedir=coursedir, config=config)
    api.log.setLevel(logging.WARNING)
    result = api.generate_assignment(assignment, force=True, create=True)
    if not result["success"]:
        raise RuntimeError(f"nbgrader could not generate {assignment}:\n{result.get('log', '')}")
    return result


def assignment_in_gradebook(course_dir, assignment):
    coursedir, _ = course_directory(course_dir)
    if not os.path.exists(Path(course_dir) / "gradebook.db"):
        return False
    with Gradebook(coursedir.db_url, coursedir.course_id) as gradebook:
        try:
            return bool(gradebook.find_assignment(assignment).notebooks)
        except MissingEntry:
            return False


def record_ungradable(course_dir, assignment, student, zero=False):
    """Enter a submission nbgrader could not read, so export shows it (with 0 points).

    With ``zero``, automatic scores an earlier or partial run left are set to 0, so the
    gradebook agrees with the submission's status; scores entered by hand are kept.
    """
    coursedir, _ = course_directory(course_dir)
    with Gradebook(coursedir.db_url, coursedir.course_id) as gradebook, warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        gradebook.update_or_create_student(student)
        submission = gradebook.update_or_create_submission(assignment, student)
        if zero:
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    if grade.auto_score is not None:
                        grade.auto_score = 0.0
            gradebook.db.commit()


def gradebook_scores(course_dir, assignment, student):
    """``{task id or grade_id: (score, max_score)}`` of one submission, or None."""
    return assignment_scores(course_dir, assignment, [student])[student]


def assignment_scores(course_dir, assignment, students):
    """:func:`gradebook_scores` of each of ``students``, read in one gradebook session."""
    if not students:
        return {}  # opening the gradebook would create it
    coursedir, _ = course_directory(course_dir)
    found = {}
    with Gradebook(coursedir.db_url, coursedir.course_id) as gradebook:
        for student in students:
            try:
                submission = gradebook.find_submission(assignment, student)
            except MissingEntry:
                found[student] = None
                continue
            scores = found[student] = {}
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    name = task_id_of(grade.name) or grade.name
                    scores[name] = (float(grade.score or 0.0), float(grade.max_score))
    return found


def generate_feedback(course_dir, assignment, student=None):
    """``nbgrader generate_feedback``: HTML of each autograded notebook (of ``student``,
    or of everyone) in feedback/."""
    coursedir, config = course_directory(course_dir)
    config.HTMLExporter.template_name = "feedback"
    # the autograded notebook is safe already (RemoveActiveContent); outputs are cleaned
    # once more by nbconvert's own sanitizer, which nbgrader leaves off
    config.HTMLExporter.sanitize_html = True
    api = NbGraderAPI(coursedir=coursedir, config=config)
    api.log.setLevel(logging.WARNING)
    return api.generate_feedback(assignment, student_id=student, force=True)
