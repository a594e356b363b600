"""Where the notebooks of a batch are graded: worker processes here, or a Dask cluster.

Both kinds of worker get a notebook as nbgrader hands it to the checks, grade it in a
zygote of their own (so each submission runs in a sandbox of its own on the worker's
machine) and send back its :class:`~autograder.grading.NotebookResult`. They write
nothing of the course: the process that submitted the work runs nbgrader and writes
the gradebook and the results, once per submission.

On a Dask cluster a worker needs only the course environment (this package, the
hidden checks and ``course_utils``); the notebook travels with the task. Before
grading, a worker compares the hash of its own environment with the submitter's
(:func:`environment_hash`) and refuses to grade with other checks or another
reference. Dask runs the task of a worker that died on another worker (up to its
``distributed.scheduler.allowed-failures``, 3 by default); past that, the submission
is reported as a ``grader-error`` and is graded again by the next run.
"""

import atexit
import contextlib
import hashlib
import importlib.util
import multiprocessing
import os
import socket
import threading
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from autograder.grading import CHECKS_DIR, child_preload, grade_notebook
from autograder.sandbox.runner import PRELOAD, Zygote

# Folders of the grader left out of its hash: tools that take no part in grading, and
# the hidden checks (each assignment's own are hashed on their own).
_NOT_GRADING = ("mutation", "samples", "checks")


def hash_tree(digest, root, pattern="**/*", skip=()):
    """Add every file under ``root`` (path and bytes, in sorted order) to ``digest``."""
    root = Path(root)
    for path in sorted(root.glob(pattern)):
        relative = path.relative_to(root)
        if not path.is_file() or any(part in skip for part in relative.parts):
            continue
        if "__pycache__" in relative.parts or path.suffix == ".pyc":
            continue
        digest.update(str(relative).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())


def environment_hash(assignment, checks_dir=CHECKS_DIR):
    """Hash of the code that grades ``assignment``: its hidden checks and drivers, the
    reference package (course_utils) and the grader itself."""
    checks_dir = Path(checks_dir)
    digest = hashlib.sha256(b"grading-environment-1\0")
    for name in (
        f"test_{assignment}.py",
        f"drivers/{assignment}.py",
        "pytest.ini",
        "conftest.py",
    ):
        path = checks_dir / name
        digest.update(name.encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"(none)")
    reference = Path(importlib.util.find_spec("course_utils").origin).parent
    hash_tree(digest, reference, "**/*.py")
    hash_tree(digest, Path(__file__).parent, "**/*.py", skip=_NOT_GRADING)
    return digest.hexdigest()


# --- worker processes on this machine ---------------------------------------------------

_WORKER_ZYGOTE = None


def _start_worker(sandbox, limits, preload):
    global _WORKER_ZYGOTE
    _WORKER_ZYGOTE = Zygote(sandbox=sandbox, limits=limits, preload=preload)
    _WORKER_ZYGOTE.__enter__()
    atexit.register(_WORKER_ZYGOTE.__exit__, None, None, None)


def _grade_in_worker(notebook, assignment, options):
    return grade_notebook(notebook, assignment, zygote=_WORKER_ZYGOTE, **options)


def _fork_one_child():
    _WORKER_ZYGOTE.spawn().stop()


class GradingWorkers:
    """``count`` processes on this machine, each with a zygote (and so sandboxes) of its
    own."""

    def __init__(self, count, sandbox="auto", limits=None, preload=PRELOAD):
        self.slots = count
        self._executor = ProcessPoolExecutor(
            count,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(sandbox, limits, preload),
        )

    def start(self):
        """Start every worker at once (the pool would start them one per submission) and
        wait until each has forked a child: a sandbox the kernel refuses raises
        :class:`~autograder.sandbox.runner.SandboxUnavailable` here, before any grading."""
        for future in [self._executor.submit(_fork_one_child) for _ in range(self.slots)]:
            future.result()

    def grade(self, notebook, assignment, options):
        return self._executor.submit(_grade_in_worker, notebook, assignment, options).result()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._executor.shutdown(wait=True, cancel_futures=True)


# --- a Dask cluster ----------------------------------------------------------------------


class WorkerEnvironmentMismatch(RuntimeError):
    """A Dask worker's checks, reference or grader differ from the submitter's."""


# per worker process: one zygote per (thread, sandbox, limits), since a zygote serves
# one caller at a time and a Dask worker may run several tasks in threads
_DASK_ZYGOTES = {}
_DASK_ENVIRONMENT = {}
_DASK_LOCK = threading.Lock()


def _close_dask_zygotes():
    for zygote in list(_DASK_ZYGOTES.values()):
        with contextlib.suppress(Exception):
            zygote.__exit__(None, None, None)


def _dask_zygote(sandbox, limits, preload):
    key = (threading.get_ident(), sandbox, repr(limits), preload)
    with _DASK_LOCK:
        zygote = _DASK_ZYGOTES.get(key)
        if zygote is None:
            if not _DASK_ZYGOTES:
                atexit.register(_close_dask_zygotes)
            zygote = Zygote(sandbox=sandbox, limits=limits, preload=preload)
            _DASK_ZYGOTES[key] = zygote.__enter__()
    return zygote


def _worker_environment(assignment, checks_dir):
    """The environment hash of this worker, computed once per process: the code a
    long-running worker imported is the code of its first task, even if the files
    changed since."""
    key = (assignment, str(checks_dir))
    with _DASK_LOCK:
        if key not in _DASK_ENVIRONMENT:
            _DASK_ENVIRONMENT[key] = environment_hash(assignment, checks_dir)
        return _DASK_ENVIRONMENT[key]


def grade_on_dask_worker(notebook, assignment, options, sandbox, limits, expected_environment):
    """The task a Dask worker runs for one notebook."""
    options = dict(options)
    checks_dir = options.pop("checks_dir", None) or CHECKS_DIR
    found = _worker_environment(assignment, checks_dir)
    if found != expected_environment:
        raise WorkerEnvironmentMismatch(
            f"the Dask worker on {socket.gethostname()} (pid {os.getpid()}) has other "
            f"hidden checks, reference package or grader for {assignment} than the machine "
            "that submitted the batch: install the same course version on every worker "
            "and restart the workers (a running worker keeps the code it imported)"
        )
    zygote = _dask_zygote(sandbox, limits, child_preload(assignment, checks_dir))
    return grade_notebook(notebook, assignment, zygote=zygote, checks_dir=checks_dir, **options)


class DaskWorkers:
    """The workers of an existing Dask cluster (``dask scheduler`` and ``dask worker``,
    or dask-jobqueue), reached at ``address``: as many notebooks are graded at once as
    the cluster has worker threads."""

    CONNECT_TIMEOUT = "10s"

    def __init__(self, address, assignment, checks_dir=CHECKS_DIR, sandbox="auto", limits=None):
        try:
            from distributed import Client
        except ImportError as exc:
            raise SystemExit(
                "error: --dask needs the distributed package: pip install distributed"
            ) from exc
        try:
            self._client = Client(address, timeout=self.CONNECT_TIMEOUT, set_as_default=False)
        except OSError as exc:
            raise ConnectionError(
                f"no Dask scheduler answered at {address} ({exc}); start one with "
                f"`dask scheduler` and workers with `dask worker {address}`, or check the "
                "address"
            ) from None
        threads = self._client.nthreads()
        if not threads:
            self._client.close()
            raise ConnectionError(
                f"the Dask cluster at {address} has no workers; start some with "
                f"`dask worker {address}`"
            )
        self.slots = sum(threads.values())
        self._sandbox, self._limits = sandbox, limits
        self._default_checks = Path(checks_dir).resolve() == Path(CHECKS_DIR).resolve()
        self._environment = environment_hash(assignment, checks_dir)

    def start(self):
        """Nothing to start: the cluster's workers are running; each starts its zygotes
        when its first notebook arrives."""

    def grade(self, notebook, assignment, options):
        options = dict(options)
        if self._default_checks:
            options.pop("checks_dir", None)  # each worker uses its own installed checks
        else:
            options["checks_dir"] = str(options["checks_dir"])  # the same path on workers
        future = self._client.submit(
            grade_on_dask_worker,
            notebook,
            assignment,
            options,
            self._sandbox,
            self._limits,
            self._environment,
            pure=False,
        )
        try:
            return future.result()
        finally:
            future.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._client.close()
