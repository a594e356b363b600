"""The hidden check modules as files: where they are, and what the grader reads from
their text without importing them.

A check module may state, as top-level literals:

- ``ANSWER_IMPORTS``: the modules the notebook's answer cells may use
  (:mod:`autograder.answer_rules`);
- ``CHILD_PRELOAD``: modules the zygote imports before it forks the children that run
  student code, when the drivers would otherwise import them in every child;
- ``GRADER_PRELOAD``: modules the checks import on first use, which the grader imports
  while the zygote starts.

This module imports nothing heavy, so that the self-check can start the zygote before
it imports the grader (numpy, pytest).
"""

import ast
import functools
from pathlib import Path

from autograder.sandbox.runner import PRELOAD

CHECKS_DIR = Path(__file__).with_name("checks")


def checks_module(assignment, checks_dir=CHECKS_DIR):
    path = Path(checks_dir) / f"test_{assignment}.py"
    if not path.is_file():
        raise FileNotFoundError(f"no hidden checks for assignment {assignment!r} ({path})")
    return path


@functools.lru_cache(maxsize=32)
def _parsed_file(path, mtime_ns, size):
    return ast.parse(Path(path).read_text(encoding="utf-8"))


def module_tree(module_path):
    """The syntax tree of a Python file (read, never imported), parsed once while the
    file is unchanged: a batch reads its check module's literals for every submission."""
    path = Path(module_path).resolve()
    stat = path.stat()
    return _parsed_file(path, stat.st_mtime_ns, stat.st_size)


def module_literal(module_path, name):
    """The value of the top-level ``name = <literal>`` of a Python file (read, never
    imported), or None when the file does not assign it."""
    for node in module_tree(module_path).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return ast.literal_eval(node.value)
    return None


def child_preload(assignment, checks_dir=CHECKS_DIR):
    """Modules the zygote imports before forking the children that run ``assignment``:
    :data:`~autograder.sandbox.runner.PRELOAD` and the check module's ``CHILD_PRELOAD``
    (what its drivers would otherwise import in every child, e.g. ``torch._dynamo``,
    which torch imports on the first operation on the meta device: 2 s on 2 cores)."""
    extra = module_literal(checks_module(assignment, checks_dir), "CHILD_PRELOAD")
    return (*PRELOAD, *(extra or ()))


def grader_imports(assignment, checks_dir=CHECKS_DIR):
    """What the check module of ``assignment`` imports at its top (torch, the reference
    package) and the modules its ``GRADER_PRELOAD`` names."""
    path = checks_module(assignment, checks_dir)
    names = []
    for node in module_tree(path).body:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names + list(module_literal(path, "GRADER_PRELOAD") or ())
