"""Grading a whole assignment in a course directory, and the reports made from it.

A course directory holds ``nbgrader_config.py``, ``source/<assignment>/`` and
``submitted/<student>/<assignment>/<notebook>.ipynb`` (nbgrader's layout); it can live
anywhere. Grading writes nbgrader's ``gradebook.db`` and ``autograded/`` there, and our
per-student result ``grading/<assignment>/<student>.json`` (kept out of nbgrader's
folders, which nbgrader copies into the feedback it hands out).

A submission that cannot be read (missing, renamed or broken notebook) gets a status and
zero points and never stops the batch; so does one whose grading fails in the grader
itself (status ``grader-error``, the traceback in ``grading/<assignment>/grader.log``).

Batches resume: each result records a content hash of everything its grade depends on
(:meth:`Course.inputs_hash`). A rerun skips a submission whose result, gradebook entry
and autograded notebook are there with the same hash, and grades the rest, so a batch
that was killed continues where it stopped; ``regrade=True`` grades everything again.
Results are written atomically, once per submission, after nbgrader's gradebook.
"""

import contextlib
import hashlib
import json
import os
import secrets
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from autograder import nbgrader_bridge
from autograder.grading import (
    CHECKS_DIR,
    NotebookResult,
    TaskResult,
    child_preload,
    grade_notebook,
)
from autograder.notebook import SubmissionError, read_notebook, task_points
from autograder.sandbox.runner import SandboxUnavailable, Zygote
from autograder.workers import DaskWorkers, GradingWorkers, environment_hash, hash_tree

# cell statuses that make the submission's status (the first one found)
BROKEN_CELL_STATUSES = ("timeout", "crashed", "memory", "processes", "output", "cpu")


def submission_status(notebook_results):
    """A graded submission's status: "graded", or the first cell that hung, crashed or hit
    a limit (``"timeout in cell 02_3-answer"``)."""
    for notebook in notebook_results:
        for cell in notebook.cells:
            if cell.status in BROKEN_CELL_STATUSES:
                return f"{cell.status} in cell {cell.cell_id}"
    return "graded"


@dataclass
class StudentResult:
    student: str
    assignment: str
    status: str
    message: str = ""
    notebooks: dict = field(default_factory=dict)  # name -> NotebookResult

    @property
    def score(self):
        return sum(n.score for n in self.notebooks.values())

    @property
    def max_score(self):
        return sum(n.max_score for n in self.notebooks.values())

    def tasks(self):
        return {t: r for n in self.notebooks.values() for t, r in n.tasks.items()}

    content_hash: str = ""

    def to_dict(self):
        return {
            "student": self.student,
            "assignment": self.assignment,
            "status": self.status,
            "message": self.message,
            "score": self.score,
            "max_score": self.max_score,
            "content_hash": self.content_hash,
            "notebooks": {name: n.to_dict() for name, n in self.notebooks.items()},
        }


@dataclass
class KeptResult:
    """A result of an earlier run, kept because nothing it depends on changed."""

    student: str
    assignment: str
    status: str
    score: float
    max_score: float
    kept: bool = True

    @classmethod
    def from_dict(cls, data):
        return cls(
            data["student"],
            data["assignment"],
            data["status"],
            float(data["score"]),
            float(data["max_score"]),
        )


@contextlib.contextmanager
def _environment_already_set(**values):
    """nbgrader's ``utils.setenv`` for threads: the values are set for the whole batch,
    so entering changes nothing and leaving removes nothing. (nbgrader's own deletes the
    variable on leaving, which breaks a second thread still inside it.)"""
    for key, value in values.items():
        if os.environ.get(key) != value:
            raise RuntimeError(f"{key} should be {value!r} while a batch grades in threads")
    yield


@contextlib.contextmanager
def _shared_process_state(root):
    """What nbgrader's autograde sets for the whole process while it runs, set once for
    all threads: its working directory (the course root) and ``NBGRADER_EXECUTION``.
    Each thread's nbgrader then finds and leaves the same state, instead of undoing
    another thread's while that one is waiting for its worker."""
    from nbgrader import utils as nbgrader_utils

    previous_dir, previous_env = os.getcwd(), os.environ.get("NBGRADER_EXECUTION")
    previous_setenv = nbgrader_utils.setenv
    os.chdir(root)
    os.environ["NBGRADER_EXECUTION"] = "autograde"
    nbgrader_utils.setenv = _environment_already_set
    try:
        yield
    finally:
        nbgrader_utils.setenv = previous_setenv
        os.chdir(previous_dir)
        if previous_env is None:
            os.environ.pop("NBGRADER_EXECUTION", None)
        else:
            os.environ["NBGRADER_EXECUTION"] = previous_env


def default_jobs():
    """Submissions graded at a time by default: one per core this process may use, and
    at most one per 2 GiB of memory (a worker and its zygote each import torch, and the
    student's children need room of their own)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return max(1, cores or 1)
    return max(1, min(cores or 1, memory // (2 * 1024**3)))


def student_seed(batch_seed, student):
    """Each student's checks get inputs of their own, reproducible from the batch seed."""
    digest = hashlib.sha256(f"{batch_seed}:{student}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


class Course:
    def __init__(self, root, checks_dir=CHECKS_DIR):
        self.root = Path(root).resolve()
        self.checks_dir = Path(checks_dir)
        if not (self.root / "source").is_dir():
            raise FileNotFoundError(
                f"{self.root} is not a course directory: it has no source/ folder "
                "(pass --course-dir, or run from the course root)"
            )

    def source_notebooks(self, assignment):
        folder = self.root / "source" / assignment
        notebooks = sorted(folder.glob("*.ipynb"))
        if not notebooks:
            known = ", ".join(
                sorted(p.name for p in (self.root / "source").iterdir() if p.is_dir())
            )
            raise FileNotFoundError(
                f"assignment {assignment!r} has no notebook in {folder}; known: {known}"
            )
        return {p.stem: p for p in notebooks}

    def task_points(self, assignment):
        points = {}
        for path in self.source_notebooks(assignment).values():
            points.update(task_points(read_notebook(path)))
        return points

    def students(self, assignment):
        submitted = self.root / "submitted"
        if not submitted.is_dir():
            return []
        return sorted(p.name for p in submitted.iterdir() if (p / assignment).is_dir())

    def submission_dir(self, student, assignment):
        return self.root / "submitted" / student / assignment

    def results_path(self, student, assignment):
        return self.root / "grading" / assignment / f"{student}.json"

    def grader_hash(self, assignment, options):
        """Hash of what every grade of ``assignment`` depends on besides the submission:
        the source notebooks, the hidden checks and their drivers, the reference package
        (course_utils), the grader itself and the grading ``options`` (timeouts, limits,
        sandbox, an explicit seed)."""
        digest = hashlib.sha256(b"grader-inputs-2\0")
        hash_tree(digest, self.root / "source" / assignment)
        digest.update(environment_hash(assignment, self.checks_dir).encode())
        digest.update(json.dumps(options, sort_keys=True, default=repr).encode())
        return digest.hexdigest()

    def inputs_hash(self, assignment, student, grader_hash):
        """Hash of everything ``student``'s grade depends on: their submitted files and
        :meth:`grader_hash`."""
        digest = hashlib.sha256(grader_hash.encode() + b"\0")
        hash_tree(digest, self.submission_dir(student, assignment))
        return digest.hexdigest()

    def kept_result(self, assignment, student, content_hash):
        """The earlier result of ``student``, if it can stand: same content hash, not a
        grader error, and nbgrader's gradebook entry and autograded notebook are there."""
        try:
            data = json.loads(self.results_path(student, assignment).read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("content_hash") != content_hash:
            return None
        if data.get("status") == "grader-error":
            return None
        went_through_nbgrader = "(submission)" not in data.get("notebooks", {})
        if went_through_nbgrader and not (self.root / "autograded" / student / assignment).is_dir():
            return None
        try:
            if nbgrader_bridge.gradebook_scores(self.root, assignment, student) is None:
                return None
            return KeptResult.from_dict(data)
        except Exception:
            return None

    def ensure_generated(self, assignment):
        """Record the assignment in the gradebook (nbgrader generate_assignment) if needed."""
        if not nbgrader_bridge.assignment_in_gradebook(self.root, assignment):
            nbgrader_bridge.generate_assignment(self.root, assignment)

    def _precheck(self, student, assignment):
        """Read every expected notebook; return (notebooks, failure) where failure is an error."""
        folder = self.submission_dir(student, assignment)
        notebooks, failures = {}, []
        for name in self.source_notebooks(assignment):
            path = folder / f"{name}.ipynb"
            try:
                notebooks[name] = read_notebook(path)
            except SubmissionError as exc:
                others = sorted(p.name for p in folder.glob("*.ipynb"))
                if exc.status == "missing-notebook" and others:
                    exc = SubmissionError(
                        "renamed-notebook",
                        f"{name}.ipynb was not found; the submission has {', '.join(others)}. "
                        f"Rename your notebook to {name}.ipynb and submit again",
                    )
                failures.append(exc)
        return notebooks, failures

    def _blank_result(self, assignment, status, message):
        points = self.task_points(assignment)
        tasks = {t: TaskResult(t, p, 0.0) for t, p in points.items()}
        return NotebookResult(status, message=message, tasks=tasks)

    def grade_student(
        self,
        assignment,
        student,
        *,
        seed=None,
        zygote=None,
        content_hash="",
        workers=None,
        gradebook_lock=None,
        **timeouts,
    ):
        """Grade one submission through nbgrader's autograde and save its result.

        With ``workers`` (a :class:`GradingWorkers`) the notebooks are graded there, and
        ``gradebook_lock`` (held by the caller) is let go while they are: nbgrader's own
        work, gradebook writes included, runs only under the lock.
        """
        _, failures = self._precheck(student, assignment)
        if failures:
            first = failures[0]
            nbgrader_bridge.record_ungradable(self.root, assignment, student)
            result = StudentResult(
                student, assignment, first.status, first.message, content_hash=content_hash
            )
            result.notebooks["(submission)"] = self._blank_result(
                assignment, first.status, first.message
            )
            return self._save(result)

        graded, refused, worker_failures = {}, [], []

        def grade(notebook, assignment_id, student_id, notebook_name):
            options = dict(seed=seed, checks_dir=self.checks_dir, **timeouts)
            try:
                if workers is None:
                    graded[notebook_name] = grade_notebook(
                        notebook, assignment_id, zygote=zygote, **options
                    )
                else:
                    gradebook_lock.release()
                    try:
                        graded[notebook_name] = workers.grade(notebook, assignment_id, options)
                    except (SandboxUnavailable, KeyboardInterrupt):
                        raise
                    except Exception as exc:
                        worker_failures.append(exc)  # the grader's failure, not the student's
                        raise
                    finally:
                        gradebook_lock.acquire()
            except SandboxUnavailable as exc:
                refused.append(exc)  # nbgrader would report it as this submission's error
                raise
            return graded[notebook_name]

        outcome = nbgrader_bridge.autograde(self.root, assignment, student, grade)
        if refused:
            raise refused[0]
        if worker_failures:
            raise worker_failures[0]
        if not outcome["success"]:
            log = (outcome.get("log") or "") + (outcome.get("error") or "")
            message = "nbgrader could not autograde this submission: " + log.strip()[-2000:]
            nbgrader_bridge.record_ungradable(self.root, assignment, student, zero=True)
            result = StudentResult(
                student, assignment, "nbgrader-error", message, content_hash=content_hash
            )
            result.notebooks["(submission)"] = self._blank_result(
                assignment, "nbgrader-error", message
            )
            return self._save(result)
        return self._save(
            StudentResult(
                student,
                assignment,
                submission_status(graded.values()),
                notebooks=graded,
                content_hash=content_hash,
            )
        )

    def _grade_guarded(self, assignment, student, **options):
        """:meth:`grade_student`, with any failure of the grader itself recorded as this
        submission's ``grader-error`` (traceback in the log) so the batch goes on."""
        try:
            return self.grade_student(assignment, student, **options)
        except (SandboxUnavailable, KeyboardInterrupt):
            raise
        except Exception as exc:
            log = self.root / "grading" / assignment / "grader.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            with log.open("a") as f:
                f.write(f"--- {student} ({time.strftime('%Y-%m-%d %H:%M:%S')})\n")
                f.write(traceback.format_exc())
            message = (
                f"the grader failed on this submission ({type(exc).__name__}); the traceback "
                f"is in {log}. Grade it again after fixing the cause"
            )
            try:
                nbgrader_bridge.record_ungradable(self.root, assignment, student, zero=True)
            except Exception:
                with log.open("a") as f:
                    f.write(traceback.format_exc())
            result = StudentResult(student, assignment, "grader-error", message)
            result.notebooks["(submission)"] = self._blank_result(
                assignment, "grader-error", message
            )
            return self._save(result)

    def _save(self, result):
        path = self.results_path(result.student, result.assignment)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")
        partial.write_text(json.dumps(result.to_dict(), indent=1))
        os.replace(partial, path)  # a killed batch leaves the old result or the new one
        return result

    def grade(
        self,
        assignment,
        students=None,
        *,
        seed=None,
        progress=None,
        sandbox="auto",
        limits=None,
        regrade=False,
        jobs=1,
        dask=None,
        **timeouts,
    ):
        """Grade every (or the named) student's submission; return their results.

        ``jobs`` submissions are graded at a time, each notebook in a worker process of
        its own with its own zygote (:class:`~autograder.workers.GradingWorkers`), or,
        with ``dask`` (a scheduler's address), on the workers of that Dask cluster
        (:class:`~autograder.workers.DaskWorkers`; ``jobs=None`` then means one
        submission per worker thread). This process alone runs nbgrader and writes the
        gradebook and the results, one submission at a time. The scores are those of
        ``jobs=1``: each student's checks get the same inputs wherever they run.

        Student code runs in children of a :class:`Zygote`, each in a sandbox of its
        own with ``limits`` (see :mod:`autograder.sandbox.isolate`) unless ``sandbox`` is
        ``"none"``. A submission whose earlier result still stands
        (:meth:`kept_result`) is not graded again unless ``regrade``; its result is a
        :class:`KeptResult`. ``progress(result, seconds, done, total)`` is called after
        each submission, first for the results that stand (no worker starts for them).
        """
        self.source_notebooks(assignment)  # fails early, naming the known assignments
        students = list(students) if students else self.students(assignment)
        if not (jobs is None or (isinstance(jobs, int) and jobs >= 1)):
            raise ValueError(f"Invalid jobs: {jobs!r} (jobs must be an integer >= 1)")
        if jobs is None and dask is None:
            jobs = default_jobs()
        for student in students:
            if not self.submission_dir(student, assignment).is_dir():
                raise FileNotFoundError(
                    f"no submission of {assignment} for student {student!r} in "
                    f"{self.root / 'submitted'}"
                )
        self.ensure_generated(assignment)
        options = {
            "seed": seed,
            "sandbox": sandbox,
            "limits": limits,
            "timeouts": timeouts,
        }
        seed = secrets.randbits(63) if seed is None else seed
        grader_hash = self.grader_hash(assignment, options)
        total, done = len(students), 0
        report_lock = threading.Lock()
        results = {}

        def report(result, started):
            nonlocal done
            with report_lock:
                results[result.student] = result
                done += 1
                if progress:
                    progress(result, time.perf_counter() - started, done, total)

        # the results that still stand are reported first; no worker starts for them
        pending = {}
        for student in students:
            started = time.perf_counter()
            content_hash = self.inputs_hash(assignment, student, grader_hash)
            kept = None if regrade else self.kept_result(assignment, student, content_hash)
            if kept is None:
                pending[student] = content_hash
            else:
                report(kept, started)

        def grade_one(student, **where):
            started = time.perf_counter()
            result = self._grade_guarded(
                assignment,
                student,
                seed=student_seed(seed, student),
                content_hash=pending[student],
                **where,
                **timeouts,
            )
            report(result, started)

        def in_order():
            return [results[student] for student in students]

        if not pending:
            return in_order()
        if dask is None:
            preload = child_preload(assignment, self.checks_dir)
            if jobs == 1 or len(pending) == 1:
                with Zygote(sandbox=sandbox, limits=limits, preload=preload) as zygote:
                    zygote.spawn().stop()  # a sandbox the kernel refuses stops the batch here
                    for student in pending:
                        grade_one(student, zygote=zygote)
                return in_order()
            workers = GradingWorkers(min(jobs, len(pending)), sandbox, limits, preload)
        else:
            workers = DaskWorkers(dask, assignment, self.checks_dir, sandbox, limits)
        gradebook_lock = threading.Lock()

        def grade_locked(student):
            with gradebook_lock:
                grade_one(student, workers=workers, gradebook_lock=gradebook_lock)

        with workers, _shared_process_state(self.root):
            workers.start()  # a sandbox the kernel refuses stops the batch here too
            with ThreadPoolExecutor(max(1, min(jobs or workers.slots, len(pending)))) as threads:
                list(threads.map(grade_locked, pending))
        return in_order()

    def load_results(self, assignment, students=None):
        results = []
        for student in self.students(assignment) if students is None else students:
            path = self.results_path(student, assignment)
            if path.is_file():
                results.append(json.loads(path.read_text()))
        return results
