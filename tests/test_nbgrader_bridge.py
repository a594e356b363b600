"""The autograde pipeline is nbgrader's own, with Execute (and DeduplicateIds) replaced."""

import pytest
from nbgrader.converters import Autograde
from nbgrader.preprocessors import DeduplicateIds, Execute, IgnorePattern

from autograder.nbgrader_bridge import SanitizeGradeCells, TrustedChecks, replace_preprocessor


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
