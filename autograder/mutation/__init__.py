"""Mutation testing of the hidden checks: do they catch small bugs in a correct answer?

A *mutant* is the reference solution of one task with one small change, made on its
syntax tree inside the ``### BEGIN/END SOLUTION`` region of the source notebook's answer
cell (the function signatures and docstrings around it stay as written):

- operator: ``+``/``-``, ``*``/``/``, ``**`` to ``*``, ``//`` to ``/``, ``@`` to ``*``, in
  expressions and augmented assignments (and ``x += e`` to ``x = e``);
- comparison: ``<``/``<=``, ``>``/``>=``, ``==``/``!=``, ``is``/``is not``, ``in``/``not in``;
  ``and``/``or``; dropping a ``not`` or a unary minus;
- constant: an int ``n`` to ``n + 1``, a float ``x`` to ``2 x`` (``0.0`` to ``1.0``),
  ``True``/``False`` swapped;
- call: ``f(a, ...)`` replaced by its first argument ``a``;
- statement deletion: an assignment, expression, ``return``, ``raise``, ``if``, ``break``
  or ``continue`` replaced by ``pass``.

Each mutant is graded like a submission (the reference notebook with that one cell
changed), running the checks of the mutated task only; it is *killed* when a check of
that task fails (a raise, a timeout or a crash count: the student would lose the task).
A mutant that survives either shows a missing check or is *equivalent*: it computes the
same thing (``x * 2.0`` for ``x + x``), or changes only what the notebook says is not
graded. Equivalent mutants are listed with a reason in ``equivalent/<assignment>.json``
next to this file, by id (``<cell>:<hash of the mutated cell>``)::

    [{"id": "02_4-answer:1cf3de9968",
      "mutant": "line 23: statement `elapsed += time.perf_counter() - start` deleted",
      "reason": "the wall time is reported for the demo only; no task grades it"}]

and the report leaves them out.

``python -m autograder.mutation [ASSIGNMENT ...]`` (``make mutants``) prints, per task,
how many mutants were killed, and every survivor; it exits 1 when an assignment kills
less than ``--floor`` (95 %) of its non-equivalent mutants.
"""

import ast
import copy
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder.notebook import nbgrader_meta, task_id_of

HERE = Path(__file__).resolve().parent
EQUIVALENT_DIR = HERE / "equivalent"
REPO = HERE.parents[1]

BINARY_SWAPS = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.Pow: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.MatMult: ast.Mult,
    ast.Mod: ast.FloorDiv,
}
COMPARE_SWAPS = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
SYMBOLS = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.Pow: "**",
    ast.FloorDiv: "//",
    ast.MatMult: "@",
    ast.Mod: "%",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.And: "and",
    ast.Or: "or",
}
DELETABLE = (
    ast.Assign,
    ast.AugAssign,
    ast.AnnAssign,
    ast.Expr,
    ast.Return,
    ast.Raise,
    ast.If,
    ast.Break,
    ast.Continue,
)


@dataclass(frozen=True)
class Mutant:
    id: str
    assignment: str
    task: str
    cell: str
    line: int
    description: str
    source: str  # the whole mutated answer cell


def _solution_lines(marked_source):
    """The cell text without the markers, and the set of its line numbers (1-based) that
    lay between ``### BEGIN SOLUTION`` and ``### END SOLUTION``."""
    kept, inside, lines = [], False, set()
    for line in marked_source.splitlines(keepends=True):
        stripped = line.strip()
        if stripped == "### BEGIN SOLUTION":
            inside = True
            continue
        if stripped == "### END SOLUTION":
            inside = False
            continue
        kept.append(line)
        if inside:
            lines.add(len(kept))
    return "".join(kept), lines


def _is_docstring(node, parents):
    parent = parents.get(node)
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        and isinstance(parent, ast.FunctionDef | ast.ClassDef | ast.Module)
        and parent.body
        and parent.body[0] is node
    )


def _segment(node):
    try:
        text = ast.unparse(node)
    except Exception:  # noqa: BLE001 - a description only
        text = type(node).__name__
    text = " ".join(text.split())
    return text if len(text) <= 70 else text[:67] + "..."


def _changes(node, parents):
    """``[(description, apply)]``: each mutation of ``node``; ``apply(copy)`` changes the
    copy of the node in place or returns a replacement node."""
    changes = []
    if isinstance(node, ast.BinOp | ast.AugAssign) and type(node.op) in BINARY_SWAPS:
        new = BINARY_SWAPS[type(node.op)]
        label = f"`{SYMBOLS[type(node.op)]}` to `{SYMBOLS[new]}` in `{_segment(node)}`"
        changes.append((label, lambda n, new=new: setattr(n, "op", new())))
    if isinstance(node, ast.AugAssign):
        changes.append(
            (
                f"`{SYMBOLS.get(type(node.op), '?')}=` to `=` in `{_segment(node)}`",
                lambda n: ast.Assign(targets=[n.target], value=n.value, lineno=n.lineno),
            )
        )
    if isinstance(node, ast.Compare):
        for index, op in enumerate(node.ops):
            if type(op) in COMPARE_SWAPS:
                new = COMPARE_SWAPS[type(op)]
                label = f"`{SYMBOLS[type(op)]}` to `{SYMBOLS[new]}` in `{_segment(node)}`"
                changes.append((label, lambda n, i=index, new=new: n.ops.__setitem__(i, new())))
    if isinstance(node, ast.BoolOp):
        new = ast.Or if isinstance(node.op, ast.And) else ast.And
        label = f"`{SYMBOLS[type(node.op)]}` to `{SYMBOLS[new]}` in `{_segment(node)}`"
        changes.append((label, lambda n, new=new: setattr(n, "op", new())))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.Not):
        word = "not" if isinstance(node.op, ast.Not) else "unary -"
        changes.append((f"`{word}` dropped in `{_segment(node)}`", lambda n: n.operand))
    if isinstance(node, ast.Constant) and not _is_docstring(parents.get(node), parents):
        value = node.value
        if isinstance(value, bool):
            changes.append(
                (f"`{value}` to `{not value}`", lambda n: setattr(n, "value", not n.value))
            )
        elif isinstance(value, int):
            changes.append(
                (f"`{value}` to `{value + 1}`", lambda n: setattr(n, "value", n.value + 1))
            )
        elif isinstance(value, float):
            new = value * 2 if value else 1.0
            changes.append(
                (f"`{value!r}` to `{new!r}`", lambda n, new=new: setattr(n, "value", new))
            )
    if isinstance(node, ast.Call) and node.args and not isinstance(node.args[0], ast.Starred):
        changes.append(
            (f"call `{_segment(node)}` replaced by its first argument", lambda n: n.args[0])
        )
    if isinstance(node, DELETABLE) and not _is_docstring(node, parents):
        changes.append(
            (
                f"statement `{_segment(node)}` deleted",
                lambda n: ast.Pass(lineno=n.lineno, col_offset=n.col_offset),
            )
        )
    return changes


def mutate_source(source, lines=None):
    """``[(line, description, mutated source)]`` for ``source`` (Python text), mutating
    only nodes that start on ``lines`` (all lines when None). Mutants whose text equals
    the original's (after unparsing) are dropped, and duplicates are kept once."""
    tree = ast.parse(source)
    original = ast.unparse(tree)
    parents = {}
    for parent in ast.walk(tree):
        for child in ast.iter_child_nodes(parent):
            parents[child] = parent
    nodes = list(ast.walk(tree))
    found, seen = [], {original}
    for index, node in enumerate(nodes):
        line = getattr(node, "lineno", None)
        if line is None or (lines is not None and line not in lines):
            continue
        for description, apply in _changes(node, parents):
            mutated_tree = copy.deepcopy(tree)
            target = list(ast.walk(mutated_tree))[index]
            replacement = apply(target)
            if replacement is not None and replacement is not target:
                if not _replace(mutated_tree, target, replacement):
                    continue
            ast.fix_missing_locations(mutated_tree)
            try:
                text = ast.unparse(mutated_tree)
                compile(text, "<mutant>", "exec")
            except (SyntaxError, ValueError, TypeError):
                continue
            if text in seen:
                continue
            seen.add(text)
            found.append((line, description, text))
    return found


def _replace(tree, old, new):
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, field, new)
                return True
            if isinstance(value, list) and any(v is old for v in value):
                value[[i for i, v in enumerate(value) if v is old][0]] = new
                return True
    return False


def mutant_id(cell, source):
    return f"{cell}:{hashlib.sha256(source.encode()).hexdigest()[:10]}"


def source_notebook(assignment, repo=REPO):
    return nbformat.read(repo / "source" / assignment / f"{assignment}.ipynb", as_version=4)


def mutants(assignment, repo=REPO):
    """Every mutant of every answer cell of ``assignment``'s source notebook."""
    found = []
    for cell in source_notebook(assignment, repo).cells:
        meta = nbgrader_meta(cell)
        grade_id = str(meta.get("grade_id", ""))
        if cell.cell_type != "code" or not meta.get("solution"):
            continue
        task = task_id_of(grade_id.split("-")[0])
        text, lines = _solution_lines(cell.source)
        for line, description, source in mutate_source(text, lines):
            found.append(
                Mutant(
                    mutant_id(grade_id, source),
                    assignment,
                    task,
                    grade_id,
                    line,
                    f"line {line}: {description}",
                    source,
                )
            )
    return found


def load_equivalent(folder=EQUIVALENT_DIR):
    """``{assignment: {mutant id: reason}}`` from the equivalent-mutant files."""
    listed = {}
    for path in sorted(Path(folder).glob("*.json")):
        for entry in json.loads(path.read_text()):
            if not str(entry.get("reason", "")).strip():
                raise ValueError(f"{path}: {entry.get('id')} is listed without a reason")
            listed.setdefault(path.stem, {})[entry["id"]] = entry["reason"]
    return listed


def mutant_notebook(mutant, reference):
    """The reference submission with the mutant's answer cell in place."""
    notebook = copy.deepcopy(reference)
    for cell in notebook.cells:
        if nbgrader_meta(cell).get("grade_id") == mutant.cell:
            cell.source = mutant.source
            return notebook
    raise ValueError(f"the release has no answer cell {mutant.cell}")


# Grading, in this process or in a worker of a process pool (functions a pool can find
# by module name, so they live here and not in __main__).
TIMEOUTS = {"cell_timeout": 10.0, "check_timeout": 10.0, "notebook_budget": 60.0}

_worker = {}


def _zygote(assignment):
    """This worker's zygote for ``assignment`` (one per set of preloaded modules)."""
    from autograder.grading import child_preload
    from autograder.sandbox.runner import Zygote

    preload = child_preload(assignment)
    if preload not in _worker:
        _worker[preload] = Zygote(preload=preload)
    return _worker[preload]


def grade_mutant(mutant, reference, seed):
    """``(killed, how)`` for one mutant: how = the first failing check's message."""
    from autograder.grading import grade_notebook

    result = grade_notebook(
        mutant_notebook(mutant, reference),
        mutant.assignment,
        seed=seed,
        zygote=_zygote(mutant.assignment),
        tasks=[mutant.task],
        **TIMEOUTS,
    )
    task = result.tasks[mutant.task]
    failed = [c for c in task.checks if not c.passed]
    if failed:
        return True, f"{failed[0].name}: {failed[0].message[:160]}"
    if not task.checks:
        return False, "no check of the task ran"
    return False, ""
