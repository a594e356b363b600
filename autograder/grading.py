"""Grading one notebook: run its code in a child process, then the hidden checks.

Pipeline for one notebook (each step one function below):

1. :func:`autograder.notebook.cells_to_run` picks the code cells to execute;
2. :class:`Student` executes them in a child process (:mod:`autograder.sandbox`), one
   request per cell, so a cell that raises, hangs or exits is recorded and skipped while
   the others still run;
3. :func:`run_checks` runs the assignment's hidden-check module with pytest in this
   (trusted) process; the ``student`` fixture asks the child for plain data and the
   checks compare it with ``course_utils``;
4. :func:`score_tasks` turns check outcomes into task scores: a task scores its points
   only when all its checks pass.
"""

import contextlib
import importlib
import importlib.util
import io
import re
import secrets
import time
import zlib
from collections import Counter
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pytest

from autograder import answer_rules
from autograder.check_files import CHECKS_DIR, checks_module, child_preload, grader_imports
from autograder.checking import CheckFailed
from autograder.notebook import CodeCell, cells_to_run, task_points
from autograder.sandbox.runner import (
    ChildDied,
    StudentCodeError,
    Zygote,
    default_sys_path,
)

CELL_TIMEOUT = 60.0
CHECK_TIMEOUT = 30.0
NOTEBOOK_BUDGET = 600.0


_WHAT = "\x00what\x00"  # stands for what the grader was doing, filled in on failure


class _BudgetSpent(Exception):
    """The notebook has used up its grading time."""


@dataclass
class CellResult:
    cell_id: str
    # "ok", "error", "timeout", "crashed", or a limit: "memory", "processes", "output", "cpu"
    status: str
    message: str = ""


@dataclass
class CheckResult:
    task: str
    name: str
    description: str
    passed: bool
    message: str = ""


@dataclass
class TaskResult:
    task: str
    points: float
    score: float
    checks: list = field(default_factory=list)


@dataclass
class NotebookResult:
    """Everything grading found out about one notebook; plain data (see :meth:`to_dict`)."""

    status: str  # "graded", or why it could not be: "missing-notebook", "invalid-notebook", ...
    message: str = ""
    seed: int | None = None
    cells: list = field(default_factory=list)
    tasks: dict = field(default_factory=dict)

    @property
    def score(self):
        return sum(t.score for t in self.tasks.values())

    @property
    def max_score(self):
        return sum(t.points for t in self.tasks.values())

    def to_dict(self):
        data = asdict(self)
        data["score"], data["max_score"] = self.score, self.max_score
        return data


class Student:
    """The student's notebook as seen by the hidden checks.

    Holds the cells to execute and a child process that has executed them, forked from
    ``zygote`` (or from a zygote of its own, made with ``process_options``). When the
    child is stopped (a check timed out, student code exited), the next request starts a
    new child and replays the cells that worked the first time.

    Everything the student's code does for one notebook (its cells, the replays after a
    restart, the checks' requests) shares one wall-clock budget of ``notebook_budget``
    seconds, counted from :meth:`prepare`: each request may run for its own timeout or
    what is left of the budget, whichever is less. Once it is spent, cells not yet run
    get the status "timeout" and every later request fails its check with a message that
    says so, so one slow or restarting submission cannot hold up a batch.
    """

    def __init__(
        self,
        cells,
        *,
        cell_timeout=CELL_TIMEOUT,
        check_timeout=CHECK_TIMEOUT,
        notebook_budget=NOTEBOOK_BUDGET,
        process_options=None,
        zygote=None,
    ):
        self.cells = list(cells)
        self.cell_timeout = cell_timeout
        self.check_timeout = check_timeout
        self.notebook_budget = notebook_budget
        self._deadline = None
        self.cell_results = []
        self._process_options = dict(process_options or {})
        self._zygote = zygote
        self._own_zygote = None
        self._process = None

    def _limit(self, timeout):
        """``timeout`` or the budget left, whichever is less; raises _BudgetSpent at zero."""
        if self._deadline is None:
            self._deadline = time.monotonic() + self.notebook_budget
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise _BudgetSpent
        return min(timeout, left)

    def _budget_message(self):
        return (
            f"the notebook used up its grading time of {self.notebook_budget:g} s "
            "(cells, restarts and checks together)"
        )

    def prepare(self):
        """Execute every cell once, recording how each went; return the cell results."""
        self._start()  # the zygote's start-up is the grader's time, not the notebook's
        self._deadline = time.monotonic() + self.notebook_budget
        for cell in self.cells:
            self.cell_results.append(self._exec_first_time(cell))
        return self.cell_results

    def start_zygote(self):
        """Start this student's own zygote, if it has none yet; it imports in the
        background until the first child is needed."""
        if self._zygote is None and self._own_zygote is None:
            self._own_zygote = Zygote(**self._process_options)

    def _start(self):
        self.start_zygote()
        self._process = (self._zygote or self._own_zygote).spawn()

    def _exec_first_time(self, cell):
        timeout = self.cell_timeout
        try:
            if not self._process.alive:
                self._restart()
            timeout = self._limit(self.cell_timeout)
            self._process.exec_cell(cell.cell_id, cell.source, timeout=timeout)
            return CellResult(cell.cell_id, "ok")
        except _BudgetSpent:
            return CellResult(
                cell.cell_id,
                "timeout",
                f"cell {cell.cell_id} was not run: {self._budget_message()}",
            )
        except StudentCodeError as exc:
            if exc.limit:
                return CellResult(
                    cell.cell_id, exc.limit, f"cell {cell.cell_id} hit the {exc.limit} limit: {exc}"
                )
            return CellResult(cell.cell_id, "error", str(exc))
        except TimeoutError:
            if timeout < self.cell_timeout:
                message = f"cell {cell.cell_id} was stopped: {self._budget_message()}"
            else:
                message = (
                    f"cell {cell.cell_id} ran longer than {self.cell_timeout:g} s and was "
                    "stopped; later cells ran without it"
                )
            return CellResult(cell.cell_id, "timeout", message)
        except ChildDied as exc:
            status = exc.status if exc.status in ("output", "cpu", "memory") else "crashed"
            return CellResult(
                cell.cell_id,
                status,
                f"cell {cell.cell_id} ended the Python process ({exc}); later cells ran without it",
            )

    def _restart(self):
        """Start a fresh child and replay the cells that did not hang or crash.

        Raises _BudgetSpent when the budget runs out during the replay.
        """
        if self._process is not None:
            self._process.stop()
        self._limit(0.0)
        self._start()
        done = {r.cell_id for r in self.cell_results if r.status in ("ok", "error")}
        for cell in self.cells:
            if cell.cell_id in done:
                try:
                    self._process.exec_cell(
                        cell.cell_id, cell.source, timeout=self._limit(self.cell_timeout)
                    )
                except StudentCodeError:
                    pass
                except TimeoutError:
                    self._limit(0.0)
                    return  # a cell that worked once hung on replay: later requests fail
                except ChildDied:
                    return  # a cell that worked once broke on replay: later requests fail

    def _unfinished_cell_defining(self, error):
        """The id of a cell that raised NotImplementedError when first run and defines the
        name a NameError ``error`` is about, or None."""
        match = re.match(r"NameError: .*?'(\w+)'", error)
        if not match:
            return None
        name = re.escape(match[1])
        defines = re.compile(rf"^\s*(def|class)\s+{name}\b|^{name}\s*=", re.MULTILINE)
        unfinished = {
            r.cell_id for r in self.cell_results if r.message.startswith("NotImplementedError")
        }
        for cell in self.cells:
            if cell.cell_id in unfinished and defines.search(cell.source):
                return cell.cell_id
        return None

    def _request(self, send, what, timeout):
        limit = timeout
        try:
            return self._send(send, timeout, limit)
        except CheckFailed as exc:
            text = what() if callable(what) else what  # made only when a message needs it
            raise CheckFailed(str(exc).replace(_WHAT, text)) from None

    def _send(self, send, timeout, limit):
        what = _WHAT
        try:
            if self._process is None or not self._process.alive:
                self._restart()
            limit = self._limit(timeout)
            return send(limit)
        except _BudgetSpent:
            raise CheckFailed(f"not tested: {self._budget_message()}") from None
        except StudentCodeError as exc:
            if exc.error.startswith("NotImplementedError"):
                raise CheckFailed(
                    f"not done yet: the answer still raises NotImplementedError ({exc.where}) "
                    f"when the grader {what}; replace the `raise NotImplementedError()` line "
                    "with your code"
                ) from None
            blank = self._unfinished_cell_defining(exc.error)
            if blank:
                raise CheckFailed(
                    f"not done yet: {exc.error.removeprefix('NameError: ')} because the answer "
                    f"cell {blank} still raises NotImplementedError when the grader {what}; "
                    "replace the `raise NotImplementedError()` line with your code"
                ) from None
            raise CheckFailed(f"your code raised {exc} while the grader {what}") from None
        except TimeoutError:
            if limit < timeout:
                raise CheckFailed(
                    f"stopped while the grader {what}: {self._budget_message()}"
                ) from None
            raise CheckFailed(
                f"your code did not finish within {timeout:g} s while the grader "
                f"{what} (an infinite loop, or far too slow)"
            ) from None
        except ChildDied as exc:
            raise CheckFailed(
                f"your code ended the Python process ({exc}) while the grader {what}"
            ) from None

    def run(self, code, *, timeout=None, call_text=None, **inputs):
        """Run a driver snippet with ``inputs`` bound; return its ``result`` as plain data.

        ``call_text`` (e.g. ``"ran adam_steps(lr=0.01, ...)"``, or a function returning
        it, called only when a message needs it) is what messages say the grader was doing
        when the code raised, hung or crashed."""
        return self._request(
            lambda limit: self._process.run(code, timeout=limit, **inputs),
            call_text or "ran a test of your code",
            timeout or self.check_timeout,
        )

    def call(self, name, *args, timeout=None, **kwargs):
        """Call the student's function ``name``; return its result as plain data."""
        return self._request(
            lambda limit: self._process.call(name, *args, timeout=limit, **kwargs),
            f"called {name}()",
            timeout or self.check_timeout,
        )

    def has(self, name):
        return name in self._request(
            lambda limit: self._process.names(timeout=limit),
            "listed your definitions",
            self.check_timeout,
        )

    def close(self):
        if self._process is not None:
            self._process.stop()
            self._process = None
        if self._own_zygote is not None:
            self._own_zygote.close()
            self._own_zygote = None


class _ChecksPlugin:
    """pytest plugin giving hidden checks their fixtures and collecting their outcomes."""

    def __init__(self, student, seed, tasks=None, on_result=None):
        self._student = student
        self._seed = seed
        self._tasks = None if tasks is None else set(tasks)
        self._on_result = on_result
        self._left = Counter()  # per task, the checks not yet run
        self.results = []
        self.collection_errors = []

    def pytest_configure(self, config):
        config.addinivalue_line("markers", "task(task_id): the task a hidden check belongs to")

    @pytest.fixture
    def student(self):
        return self._student

    @pytest.fixture
    def rng(self, request):
        return np.random.default_rng([self._seed, zlib.crc32(request.node.nodeid.encode())])

    @staticmethod
    def _task_of(item):
        marker = item.get_closest_marker("task")
        return marker.args[0] if marker else ""

    def pytest_collection_modifyitems(self, config, items):
        if self._tasks is not None:
            keep, drop = [], []
            for item in items:
                (keep if self._task_of(item) in self._tasks else drop).append(item)
            if drop:
                config.hook.pytest_deselected(items=drop)
                items[:] = keep
        self._left = Counter(self._task_of(item) for item in items)

    def pytest_collectreport(self, report):
        if report.failed:
            self.collection_errors.append(str(report.longrepr))

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        if report.when == "call" or (report.when == "setup" and report.failed):
            doc = (item.function.__doc__ or item.name).strip().splitlines()[0]
            message = ""
            if call.excinfo is not None:
                exc = call.excinfo.value
                if isinstance(exc, CheckFailed):
                    message = str(exc)
                else:
                    message = f"your answer had an unexpected form ({type(exc).__name__}: {exc})"
            result = CheckResult(
                task=self._task_of(item),
                name=item.name,
                description=doc,
                passed=report.passed,
                message=message,
            )
            self.results.append(result)
            self._left[result.task] -= 1
            if self._on_result is not None:
                self._on_result(result, self._left[result.task])


_UNUSED_PYTEST_PLUGINS = (
    "cacheprovider",
    "unraisableexception",
    "threadexception",
    "faulthandler",
    "junitxml",
    "pastebin",
    "doctest",
    "logging",
    "legacypath",
    "tmpdir",
    "monkeypatch",
    "recwarn",
    "setuponly",
    "setupplan",
    "stepwise",
    "capture",
)


def run_checks(assignment, student, seed, checks_dir=CHECKS_DIR, tasks=None, on_result=None):
    """Run the hidden checks of ``assignment`` against ``student``; return CheckResults.

    ``tasks`` (task ids) runs only the checks of those tasks (mutation testing).
    ``on_result(check, left)`` is called as each check finishes, with the number of its
    task's checks still to run."""
    plugin = _ChecksPlugin(student, seed, tasks, on_result)
    args = [
        str(checks_module(assignment, checks_dir)),
        "-c",
        str(CHECKS_DIR / "pytest.ini"),
        "--rootdir",
        str(checks_dir),
        "--import-mode=importlib",
        "--assert=plain",
        # failures are reported from the exception; pytest's own traceback (statement
        # ranges parsed from the source) costs about 10 ms per failed check
        "--tb=native",
        "-q",
    ]
    # Plugins hidden checks do not need; unraisableexception alone costs two full garbage
    # collections per run, a third of the time of a typical check module.
    for plugin_name in _UNUSED_PYTEST_PLUGINS:
        args += ["-p", f"no:{plugin_name}"]
    sink = io.StringIO()
    with redirect_stdout(sink), redirect_stderr(sink):
        exit_code = pytest.main(args, plugins=[plugin])
    no_tests = exit_code == pytest.ExitCode.NO_TESTS_COLLECTED and tasks is not None
    if plugin.collection_errors or (exit_code not in (0, 1) and not no_tests):
        raise RuntimeError(
            f"the hidden checks of {assignment} could not run (pytest exit code {exit_code}):\n"
            + "\n".join(plugin.collection_errors)
            + sink.getvalue()[-3000:]
        )
    return plugin.results


def rule_checks(notebook, assignment, checks_dir=CHECKS_DIR):
    """Failed CheckResults of the rules the notebook states that are read from its text
    (the allowed imports of answer cells), one per task that breaks one."""
    allowed = answer_rules.allowed_imports(checks_module(assignment, checks_dir))
    if allowed is None:
        return []
    description = f"answer cells use only {answer_rules.describe(allowed)}"
    return [
        CheckResult(
            task,
            answer_rules.RULE_NAME,
            description,
            False,
            answer_rules.rule_message(messages, allowed),
        )
        for task, messages in answer_rules.import_findings(notebook, allowed).items()
    ]


def score_tasks(points, checks):
    """A task scores its points when it has checks and every one of them passed."""
    tasks = {}
    for task_id, task_points_value in points.items():
        mine = [c for c in checks if c.task == task_id]
        passed = bool(mine) and all(c.passed for c in mine)
        tasks[task_id] = TaskResult(
            task_id, task_points_value, task_points_value if passed else 0.0, mine
        )
    return tasks


def warm_imports(assignment, checks_dir=CHECKS_DIR):
    """Import what the checks of ``assignment`` import (:func:`grader_imports`: torch,
    the reference package, ``torch._dynamo``, which ``torch.func`` and ``torch.optim``
    import when first called, 2 s on 2 cores), so that the grader does it while a new
    zygote imports, not after. A module that cannot be imported is left to the checks
    to report."""
    for name in grader_imports(assignment, checks_dir):
        with contextlib.suppress(Exception):
            importlib.import_module(name)


def grade_notebook(
    notebook,
    assignment,
    *,
    seed=None,
    cell_timeout=CELL_TIMEOUT,
    check_timeout=CHECK_TIMEOUT,
    notebook_budget=NOTEBOOK_BUDGET,
    checks_dir=CHECKS_DIR,
    zygote=None,
    sandbox="auto",
    limits=None,
    tasks=None,
    on_task=None,
):
    """Grade a parsed notebook against the hidden checks of ``assignment``.

    ``zygote`` (a :class:`autograder.sandbox.runner.Zygote`) forks the children when a
    batch is graded; otherwise a zygote of its own is made with ``sandbox`` (``"auto"``
    or ``"none"``) and ``limits`` (:class:`autograder.sandbox.runner.Limits`).
    ``tasks`` (task ids) runs only those tasks' checks; the others score nothing.
    ``on_task(task_result)`` is called with each task's final result as soon as its last
    check has run (the self-check prints it), and for the tasks left at the end.
    """
    seed = secrets.randbits(63) if seed is None else seed
    student = Student(
        cells_to_run(notebook),
        cell_timeout=cell_timeout,
        check_timeout=check_timeout,
        notebook_budget=notebook_budget,
        process_options={
            "sandbox": sandbox,
            "limits": limits,
            "preload": child_preload(assignment, checks_dir),
        },
        zygote=zygote,
    )
    points = task_points(notebook)
    rules = rule_checks(notebook, assignment, checks_dir)  # read from the text: known first
    done, reported = [], set()

    def check_finished(check, left):
        done.append(check)
        if left == 0 and check.task in points and on_task is not None:
            mine = [c for c in done + rules if c.task == check.task]
            on_task(score_tasks({check.task: points[check.task]}, mine)[check.task])
            reported.add(check.task)

    try:
        student.start_zygote()
        warm_imports(assignment, checks_dir)
        cells = student.prepare()
        checks = run_checks(assignment, student, seed, checks_dir, tasks, check_finished)
    finally:
        student.close()
    scored = score_tasks(points, checks + rules)
    if on_task is not None:
        for task_id, task in scored.items():
            if task_id not in reported:
                on_task(task)
    return NotebookResult("graded", seed=seed, cells=cells, tasks=scored)


def reference_student(assignment, checks_dir=CHECKS_DIR):
    """A :class:`Student` whose names come from ``course_utils`` instead of a notebook.

    Runs the check module's ``REFERENCE_SETUP`` code in a child allowed to import the
    reference package, so the hidden checks can be run against ``course_utils`` itself.
    """
    spec = importlib.util.spec_from_file_location(
        f"_reference_{assignment}", checks_module(assignment, checks_dir)
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    project_root = str(Path(__file__).resolve().parents[1])
    options = {"blocked": (), "sys_path": [project_root, *default_sys_path()], "sandbox": "none"}
    return Student([CodeCell("reference", module.REFERENCE_SETUP)], process_options=options)


__all__ = [
    "CellResult",
    "CheckResult",
    "NotebookResult",
    "Student",
    "TaskResult",
    "child_preload",
    "grade_notebook",
    "reference_student",
    "run_checks",
    "score_tasks",
]
