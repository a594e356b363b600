"""``course_utils.answers``: one module per assignment with the notebook's own names and
signatures, and the hidden checks' reference imports exactly that module."""

import ast
import importlib
import inspect
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

from course_utils.answers import MODULES

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENTS = sorted(p.name for p in (REPO / "source").glob("[0-9][0-9]_*") if p.is_dir())


def notebook_signatures(assignment):
    """``{name: signature}`` of what the notebook's answer cells define at top level; for a
    class, the signature of its ``__init__`` without ``self``."""
    notebook = nbformat.read(REPO / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    found = {}
    for cell in notebook.cells:
        if cell.cell_type != "code" or not cell.metadata.get("nbgrader", {}).get("solution"):
            continue
        for node in ast.parse(TransformerManager().transform_cell(cell.source)).body:
            if isinstance(node, ast.FunctionDef):
                found[node.name] = _signature(node.args)
            elif isinstance(node, ast.ClassDef):
                init = [
                    n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"
                ]
                found[node.name] = _signature(init[0].args, method=True) if init else None
    return found


def _signature(arguments, method=False):
    namespace = {}
    exec(f"def f({ast.unparse(arguments)}): pass", namespace)
    signature = inspect.signature(namespace["f"])
    if method:
        signature = signature.replace(parameters=list(signature.parameters.values())[1:])
    return str(signature)


def _bare(signature):
    return str(
        signature.replace(
            parameters=[p.replace(annotation=p.empty) for p in signature.parameters.values()],
            return_annotation=inspect.Signature.empty,
        )
    )


def test_every_assignment_has_an_answers_module():
    assert sorted(MODULES) == ASSIGNMENTS


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_answers_module_speaks_the_notebooks_vocabulary(assignment):
    module = importlib.import_module(MODULES[assignment])
    expected = notebook_signatures(assignment)
    assert expected, "the notebook has no answer"
    assert set(expected) <= set(module.__all__)
    for name, signature in expected.items():
        value = getattr(module, name)
        if inspect.isclass(value):
            if signature is None:
                continue
            got = inspect.signature(value.__init__)
            got = got.replace(parameters=list(got.parameters.values())[1:])
        else:
            got = inspect.signature(value)
        assert _bare(got) == signature, (
            f"{assignment}: {name}{_bare(got)} is {name}{signature} in the notebook"
        )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_hidden_checks_reference_is_the_answers_module(assignment):
    path = REPO / "autograder" / "checks" / f"test_{assignment}.py"
    namespace = {"__file__": str(path)}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    assert namespace["REFERENCE_SETUP"].strip() == f"from {MODULES[assignment]} import *"
