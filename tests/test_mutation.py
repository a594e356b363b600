"""Mutation testing of the hidden checks: the mutant generator and the kill floor."""

import ast

import pytest

from autograder.mutation import (
    EQUIVALENT_DIR,
    Mutant,
    _solution_lines,
    load_equivalent,
    mutant_notebook,
    mutants,
    mutate_source,
)
from autograder.mutation.__main__ import ASSIGNMENTS, report, run, select
from autograder.samples.__main__ import sample_notebooks


def texts(source, lines=None):
    return {text for _, _, text in mutate_source(source, lines)}


def unparsed(source):
    return ast.unparse(ast.parse(source))


@pytest.mark.parametrize(
    "source, expected",
    [
        ("y = a + b", "y = a - b"),
        ("y = a * b", "y = a / b"),
        ("y = a ** 2", "y = a * 2"),
        ("y = a @ b", "y = a * b"),
        ("y += a", "y -= a"),
        ("y += a", "y = a"),
        ("ok = a < b", "ok = a <= b"),
        ("ok = a >= b", "ok = a > b"),
        ("ok = a is None", "ok = a is not None"),
        ("ok = a and b", "ok = a or b"),
        ("ok = not a", "ok = a"),
        ("y = -a", "y = a"),
        ("y = 1", "y = 2"),
        ("y = 0.5", "y = 1.0"),
        ("y = 0.0", "y = 1.0"),
        ("flag = True", "flag = False"),
        ("y = np.sqrt(x)", "y = x"),
        ("y = 1\nz = 2", "pass\nz = 2"),
        (
            "def f(x):\n    if x:\n        raise ValueError('x')\n    return x",
            "def f(x):\n    pass\n    return x",
        ),
    ],
)
def test_each_kind_of_mutation_is_made(source, expected):
    assert unparsed(expected) in texts(source)


def test_no_mutant_equals_the_original_or_another():
    found = mutate_source("y = a + b * 2\nz = y")
    assert len({text for *_, text in found}) == len(found)
    assert unparsed("y = a + b * 2\nz = y") not in {text for *_, text in found}


def test_only_the_solution_region_is_mutated():
    cell = (
        "def f(x, lr=0.5):\n"
        '    """Docstring with 3 numbers."""\n'
        "    ### BEGIN SOLUTION\n"
        "    return x * lr\n"
        "    ### END SOLUTION\n"
    )
    text, lines = _solution_lines(cell)
    assert lines == {3} and "BEGIN" not in text
    found = texts(text, lines)
    assert (
        unparsed("def f(x, lr=0.5):\n    '''Docstring with 3 numbers.'''\n    return x / lr")
        in found
    )
    assert all("lr=0.5" in t and "3 numbers" in t for t in found)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_answer_cell_has_mutants_that_compile(assignment):
    found = mutants(assignment)
    (_, reference), *_ = sample_notebooks(assignment)
    cells = {
        c.metadata["nbgrader"]["grade_id"]
        for c in reference.cells
        if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"
    }
    assert {m.cell for m in found} == cells
    assert len({m.id for m in found}) == len(found)
    for mutant in found:
        compile(mutant.source, mutant.id, "exec")
    assert mutant_notebook(found[0], reference).cells != reference.cells


def test_equivalent_mutants_are_listed_with_a_reason_and_still_exist():
    listed = load_equivalent()
    assert EQUIVALENT_DIR.is_dir()
    for assignment, entries in listed.items():
        ids = {m.id for m in mutants(assignment)}
        assert set(entries) <= ids, f"stale entries in {assignment}.json: {set(entries) - ids}"
        assert all(len(reason) > 15 for reason in entries.values())


def test_the_report_counts_survivors_and_leaves_out_equivalent_ones():
    made = [
        Mutant(f"c:{i}", "99_toy", "99.1", "c", 1, f"line 1: change {i}", "pass") for i in range(4)
    ]
    outcomes = {"c:0": (True, "x"), "c:1": (True, "x"), "c:2": (False, ""), "c:3": (False, "")}
    lines = []
    killed, counted = report("99_toy", made, outcomes, {"c:3": "same value"}, log=lines.append)
    assert (killed, counted) == (2, 3)
    assert any("SURVIVED c:2" in line for line in lines)
    assert not any("SURVIVED c:3" in line for line in lines)


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_a_sample_of_mutants_is_killed_by_the_hidden_checks(assignment):
    """Every non-equivalent mutant is killed (`make mutants` grades all of them); a
    sample of each assignment's mutants is graded here within the CI budget."""
    equivalent = load_equivalent().get(assignment, {})
    chosen = [m for m in select(assignment, sample=6, seed=2026) if m.id not in equivalent]
    outcomes = run(assignment, chosen)
    survivors = [m.description for m in chosen if not outcomes[m.id][0]]
    assert not survivors, f"{assignment}: mutants no check kills: {survivors}"
