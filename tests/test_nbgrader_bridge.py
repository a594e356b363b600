"""The autograde pipeline is nbgrader's own, with Execute (and DeduplicateIds) replaced."""

import copy
import subprocess
import sys
from pathlib import Path

import nbformat
import nbgrader.api
import pytest
from nbgrader.api import Gradebook
from nbgrader.converters import Autograde
from nbgrader.dbutil import _temp_alembic_ini
from nbgrader.preprocessors import DeduplicateIds, Execute, IgnorePattern

from autograder.demo import make_course
from autograder.nbgrader_bridge import (
    SanitizeGradeCells,
    TrustedChecks,
    alembic_head,
    autograde_from_release,
    generate_assignment,
    replace_preprocessor,
)
from autograder.notebook import (
    cells_to_run,
    hand_graded_points,
    release_differences,
    task_points,
)
from autograder.samples import build_submission, load_samples


def test_the_default_pipelines_are_nbgraders_with_one_replacement_each():
    autograde = Autograde.class_traits()["autograde_preprocessors"].default()
    sanitize = Autograde.class_traits()["sanitize_preprocessors"].default()
    checks = TrustedChecks(grade=None)
    ours = replace_preprocessor(autograde, Execute, checks)
    assert ours[autograde.index(Execute)] is checks
    assert [p for p in ours if p is not checks] == [p for p in autograde if p is not Execute]
    assert IgnorePattern in ours  # a hand-copied list once dropped it
    cleaner = SanitizeGradeCells(known_ids={"a"})
    ours = replace_preprocessor(sanitize, DeduplicateIds, cleaner)
    assert ours[sanitize.index(DeduplicateIds)] is cleaner and len(ours) == len(sanitize)


def test_a_configured_pipeline_is_kept_with_execute_named_by_its_path():
    configured = ["nbgrader.preprocessors.Execute", "nbgrader.preprocessors.LimitOutput"]
    checks = TrustedChecks(grade=None)
    assert replace_preprocessor(configured, Execute, checks) == [checks, configured[1]]


def test_a_pipeline_without_execute_is_a_clear_error():
    with pytest.raises(ValueError, match="should hold Execute once"):
        replace_preprocessor(["nbgrader.preprocessors.LimitOutput"], Execute, object())


def _grade_cell(**meta):
    from nbformat.v4 import new_code_cell

    nbgrader = {
        "schema_version": 3,
        "grade": True,
        "solution": False,
        "locked": True,
        "grade_id": "t1",
        "points": 1,
    }
    nbgrader.update(meta)
    return new_code_cell("pass", metadata={"nbgrader": nbgrader})


@pytest.mark.parametrize(
    "meta",
    [{"points": "many"}, {"grade": "yes"}, {"grade_id": 7}, {"locked": None}],
    ids=["points", "grade", "grade_id", "locked"],
)
def test_nbgraders_metadata_check_rejects_what_jsonschema_rejects(meta):
    """The schema is checked once, not per cell; the cell is judged as jsonschema does."""
    import jsonschema
    from nbgrader.nbgraderformat import MetadataValidator

    import autograder.nbgrader_bridge  # noqa: F401  (installs the once-checked schema)

    validator = MetadataValidator()
    cell = _grade_cell(**meta)
    with pytest.raises(jsonschema.ValidationError) as ours:
        validator.validate_cell(cell)
    with pytest.raises(jsonschema.ValidationError) as plain:
        jsonschema.validate(dict(cell.metadata["nbgrader"]), validator.schema)
    assert ours.value.message == plain.value.message
    validator.validate_cell(_grade_cell())  # a valid cell passes


def test_a_broken_schema_is_still_refused():
    import jsonschema

    from autograder.nbgrader_bridge import _SchemaCheckedOnce

    with pytest.raises(jsonschema.SchemaError):
        _SchemaCheckedOnce().validate({}, {"type": 12})


REPO = Path(__file__).resolve().parents[1]


def _released(assignment="02_batching"):
    path = REPO / "release" / assignment / f"{assignment}.ipynb"
    return path, nbformat.read(path, as_version=4)


def _cell(notebook, grade_id):
    return next(
        c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id
    )


def test_release_differences_name_what_grading_puts_back():
    _, release = _released()
    assert release_differences(release, release) == []
    edited = copy.deepcopy(release)
    edited.cells.append(nbformat.v4.new_code_cell("print('mine')"))  # an added cell: kept
    _cell(edited, "02_1-answer").source = "def linreg_loss_grad(theta, X, y):\n    return 0\n"
    _cell(edited, "02_3-demo").outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="ran")
    ]
    assert release_differences(edited, release) == []  # answers and outputs are the student's
    _cell(edited, "setup").source += "\nnp = None\n"
    _cell(edited, "02_1").metadata.nbgrader["points"] = 20
    _cell(edited, "02_2").cell_type = "markdown"
    copied = copy.deepcopy(_cell(edited, "02_3-answer"))
    edited.cells.insert(0, copied)
    stray = nbformat.v4.new_code_cell("x = 1")
    stray.metadata["nbgrader"] = {"grade_id": "mine", "solution": True, "grade": False}
    edited.cells.append(stray)
    edited.cells.remove(_cell(edited, "02_8"))
    assert release_differences(edited, release) == [
        "the read-only cell setup was edited",
        "the nbgrader metadata of cell 02_1 was changed",
        "cell 02_2 was made a markdown cell",
        "cell 02_3-answer is there more than once (a copied cell)",
        f"cell {len(edited.cells)} has nbgrader metadata the release does not have "
        "(grade_id 'mine')",
        "cell 02_8 was deleted",
    ]


def _what_grading_reads(notebook):
    """The cells the grader runs, the tasks and the metadata it reads (the ``checksum``
    field it does not: nbgrader checks locked cells with it before grading)."""
    metadata = [
        {k: v for k, v in (c.metadata.get("nbgrader") or {}).items() if k != "checksum"}
        for c in notebook.cells
    ]
    return (
        cells_to_run(notebook),
        task_points(notebook),
        hand_graded_points(notebook),
        [c.cell_type for c in notebook.cells],
        metadata,
    )


@pytest.mark.slow
def test_a_notebook_without_differences_is_one_nbgraders_sanitizing_leaves_alone():
    """The check skips nbgrader when release_differences finds nothing; nbgrader itself
    (autograde on a gradebook made from the release) must then change nothing the grader
    reads, for a blank and for an answered notebook saved by JupyterLab, also after the
    Create Assignment sidebar dropped the ``cell_type`` of its code cells' metadata."""
    path, release = _released()
    answered = build_submission(
        next(s for s in load_samples("02_batching") if s.student == "reference"),
        release,
        nbformat.read(REPO / "source" / "02_batching" / "02_batching.ipynb", as_version=4),
    )
    for cell in answered.cells:
        if cell.cell_type == "code":
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="out\n")]
            cell.execution_count = 1
    sidebar = copy.deepcopy(answered)  # saved after opening the Create Assignment sidebar
    for cell in sidebar.cells:
        if cell.cell_type == "code":
            cell.metadata.get("nbgrader", {}).pop("cell_type", None)
    assert sidebar != answered
    for notebook in (release, answered, sidebar):
        assert release_differences(notebook, release) == []
        seen = []

        def grade(sanitized, *_, seen=seen):
            seen.append(copy.deepcopy(sanitized))
            raise RuntimeError("enough: only the sanitized notebook is wanted")

        autograde_from_release(path, "02_batching", copy.deepcopy(notebook), grade)
        assert len(seen) == 1
        assert _what_grading_reads(seen[0]) == _what_grading_reads(notebook)
        assert seen[0].cells and _what_grading_reads(seen[0]) != _what_grading_reads(
            nbformat.v4.new_notebook()
        )


@pytest.mark.slow
def test_generating_a_release_ignores_the_cell_type_field(tmp_path):
    """JupyterLab's Create Assignment sidebar drops ``cell_type`` from the nbgrader
    metadata of a source notebook's code cells: with or without it, generate_assignment
    writes the same release and records the same cells."""
    made = {}
    for name, keep in (("without", False), ("with", True)):
        course = make_course(tmp_path / name)
        path = course.root / "source" / "02_batching" / "02_batching.ipynb"
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            meta = cell.metadata.get("nbgrader")
            if meta is not None:
                meta.pop("cell_type", None)
                if keep:
                    meta["cell_type"] = cell.cell_type
        nbformat.write(notebook, path)
        generate_assignment(course.root, "02_batching")
        release = nbformat.read(
            course.root / "release" / "02_batching" / "02_batching.ipynb", as_version=4
        )
        with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}") as gradebook:
            recorded = sorted(
                (c.name, c.cell_type, c.locked, c.checksum, c.source)
                for c in gradebook.find_notebook("02_batching", "02_batching").source_cells
            )
        made[name] = ([(c.cell_type, c.source, c.metadata) for c in release.cells], recorded)
    assert made["with"] == made["without"]
    assert made["without"][1]


@pytest.mark.slow
def test_a_new_gradebook_gets_the_revision_the_alembic_command_prints():
    """nbgrader stamps a new gradebook with the first head ``alembic heads`` prints; the
    grader reads it in process instead of running the command."""
    with _temp_alembic_ini("sqlite:////tmp/gradebook.db") as ini:
        printed = subprocess.run(
            [str(Path(sys.executable).with_name("alembic")), "-c", ini, "heads"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    assert printed.split("\n")[0].split(" ")[0] == alembic_head()
    assert nbgrader.api.get_alembic_version() == alembic_head()
