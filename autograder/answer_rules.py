"""The allowed-imports rule: which modules a notebook's answer cells may use.

A check module states the rule of its notebook with a literal tuple of top-level module
names (the standard library is always allowed)::

    ANSWER_IMPORTS = ("math", "numpy")

Answer cells are the nbgrader solution cells. Instructor cells (setup, demos) may import
anything. Cells the student added (no nbgrader metadata) may use any module (to plot, to compare
with torch, a copy of a test cell), but a name they bind to another module, to a value
made with one, or to a function or class that uses one, counts as that module when an
answer cell uses it. In an answer cell, the rule finds

- ``import x`` / ``from x import ...`` of a module outside the rule;
- the use of a name that a cell which runs bound to such a module (the setup's
  ``import torch`` binds ``torch``, ``import matplotlib.pyplot as plt`` binds ``plt``);
- imports by name (``__import__``, ``importlib``, ``sys.modules``), which the rule cannot
  follow.

The rule is read from the check module's text (never imported here) and applied to the
notebook's text in the grader, before and independently of the student's process: a
finding fails one extra check of the task whose answer it is (for an added cell, the
task of the next test cell), with a message that names the module, the line and what
is allowed.
"""

import ast
import re
import sys

from autograder.check_files import module_literal
from autograder.notebook import is_test_cell, nbgrader_meta, source_text, task_id_of

STANDARD_LIBRARY = frozenset(sys.stdlib_module_names) - {"importlib", "builtins"}
_MAGIC = re.compile(r"^\s*[%!]")
DYNAMIC = {"__import__": "__import__()", "importlib": "importlib", "modules": "sys.modules"}
RULE_NAME = "answer_imports"


def allowed_imports(check_module_path):
    """The ``ANSWER_IMPORTS`` tuple of a check module, or None when it states no rule."""
    allowed = module_literal(check_module_path, "ANSWER_IMPORTS")
    return None if allowed is None else tuple(allowed)


def describe(allowed):
    names = [f"`{name}`" for name in allowed] + ["the standard library"]
    return ", ".join(names[:-1]) + " and " + names[-1]


def _parse(source):
    """The cell's syntax tree, IPython magics and shell lines blanked; None if invalid."""
    text = "\n".join("" if _MAGIC.match(line) else line for line in source.splitlines())
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _top(module_name):
    return (module_name or "").split(".")[0]


def _bound_modules(tree):
    """``{name: top-level module}`` of the names a cell's imports bind."""
    bound = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                name = alias.asname or alias.name.split(".")[0]
                bound[name] = _top(alias.name)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            for alias in node.names:
                bound[alias.asname or alias.name] = _top(node.module)
    return bound


def _findings(tree, ok, foreign):
    """``[(line, text)]`` of what breaks the rule in one answer cell's tree."""
    found = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Import):
            found += [(line, f"imports {a.name}") for a in node.names if not ok(_top(a.name))]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and not ok(_top(node.module)):
                found.append((line, f"imports from {node.module}"))
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            if node.id in foreign:
                found.append((line, f"uses `{node.id}` (the module {foreign[node.id]})"))
            elif node.id in ("__import__", "importlib"):
                found.append((line, f"imports a module by name ({DYNAMIC[node.id]})"))
        elif isinstance(node, ast.Attribute) and node.attr == "modules":
            if isinstance(node.value, ast.Name) and node.value.id == "sys":
                found.append((line, "imports a module by name (sys.modules)"))
    return sorted(set(found))


def _is_answer_cell(cell):
    return bool(nbgrader_meta(cell).get("solution"))


def _is_added_cell(cell):
    return not nbgrader_meta(cell)


def _tainted(tree, foreign, ok):
    """``{name: module}`` a student-added cell binds at top level to another module: by
    import, or by assigning an expression that uses such a name."""
    bound = {n: m for n, m in _bound_modules(tree).items() if not ok(m)}
    known = {**foreign, **bound}
    changed = True
    while changed:  # a helper that calls a tainted helper is tainted too
        changed = False
        for node in tree.body:
            if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
                source = node.value
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                source, names = node, [node.name]
            else:
                continue
            used = {n.id for n in ast.walk(source) if isinstance(n, ast.Name)} if source else set()
            modules = [known[n] for n in sorted(used & set(known))]
            for name in names:
                if modules and name not in bound:
                    known[name] = bound[name] = modules[0]
                    changed = True
    return bound


def import_findings(notebook, allowed):
    """``{task id: [message]}`` for the answer cells of ``notebook`` that break the rule."""
    allowed_set = set(allowed)

    def ok(top):
        return top in allowed_set or top in STANDARD_LIBRARY

    code = [c for c in notebook.cells if c.get("cell_type") == "code"]
    trees = [_parse(source_text(c)) for c in code]
    foreign = {}
    for cell, tree in zip(code, trees, strict=True):
        if tree is not None and not _is_answer_cell(cell) and not _is_added_cell(cell):
            foreign.update({n: m for n, m in _bound_modules(tree).items() if not ok(m)})
    for cell, tree in zip(code, trees, strict=True):
        if tree is not None and _is_added_cell(cell):
            foreign.update(_tainted(tree, foreign, ok))
    findings, pending = {}, []
    for index, (cell, tree) in enumerate(zip(code, trees, strict=True)):
        task = None
        if is_test_cell(cell):
            task = task_id_of(nbgrader_meta(cell).get("grade_id"))
        elif _is_answer_cell(cell) and tree is not None:
            grade_id = str(nbgrader_meta(cell).get("grade_id") or "")
            label = f"the answer cell {grade_id}" if grade_id else f"code cell {index + 1}"
            for line, text in _findings(tree, ok, {**foreign}):
                pending.append(f"{label}, line {line}, {text}")
            task = task_id_of(grade_id.split("-")[0]) if grade_id else None
        if task and pending:
            findings.setdefault(task, []).extend(pending)
            pending = []
    if pending and findings:
        findings[list(findings)[-1]].extend(pending)
    elif pending:
        last = [task_id_of(nbgrader_meta(c).get("grade_id")) for c in code if is_test_cell(c)]
        last = [t for t in last if t]
        if last:
            findings.setdefault(last[-1], []).extend(pending)
    return findings


def rule_message(messages, allowed):
    shown = "; ".join(messages[:5]) + (
        f"; and {len(messages) - 5} more" if len(messages) > 5 else ""
    )
    return (
        f"{shown}. Answer cells of this notebook may use {describe(allowed)} only (see the "
        "notebook's rules): write the computation with those, and keep other modules in "
        "the experiment cells"
    )
