"""Grading submissions as they arrive: ``python -m autograder watch ASSIGNMENT``.

The watcher looks at ``submitted/<student>/<assignment>/`` every ``interval`` seconds
(where ``nbgrader collect`` or a JupyterHub service puts submissions). A submission whose
files (names, sizes, modification times) differ from those it last graded, and stayed
the same for one interval (so that a copy still being written is not graded half-way),
is graded with :meth:`Course.grade` and gets its feedback.

Nothing is lost: a submission's files are read before it is graded, so one that
changes or arrives while another is graded is seen at the next look. A restart grades
nothing twice: at its first look it hands every submission to :meth:`Course.grade`,
which keeps each result whose submission, checks and reference did not change.
"""

import time
from pathlib import Path


def files_signature(folder):
    """The names, sizes and modification times of the files under ``folder``."""
    signature = []
    for path in sorted(Path(folder).rglob("*")):
        try:
            info = path.stat()
        except OSError:  # removed while we looked: the next look sees the change
            continue
        if path.is_file():
            signature.append((str(path.relative_to(folder)), info.st_size, info.st_mtime_ns))
    return tuple(signature)


def look(course, assignment):
    """``{student: files_signature}`` of every submission of ``assignment``."""
    return {
        student: files_signature(course.submission_dir(student, assignment))
        for student in course.students(assignment)
    }


class Watcher:
    """Grades each submission of ``assignment`` that is new or changed.

    ``grade(students)`` grades the named students (and returns their results);
    ``log(text)`` reports what happens. :meth:`step` is one look; :meth:`run` looks
    every ``interval`` seconds until ``stop()`` returns True.
    """

    def __init__(self, course, assignment, grade, log=print, interval=5.0):
        self.course, self.assignment = course, assignment
        self.grade, self.log, self.interval = grade, log, interval
        self.graded = {}  # student -> the signature of the files last graded
        self.previous = None  # what the last look saw

    def ready(self, seen):
        """Students whose files changed since they were graded and since the last look."""
        return [
            student
            for student, signature in seen.items()
            if self.graded.get(student) != signature
            and (self.previous is None or self.previous.get(student) == signature)
        ]

    def step(self):
        seen = look(self.course, self.assignment)
        students = self.ready(seen)
        self.previous = seen
        if not students:
            return []
        results = self.grade(students)
        for student in students:
            self.graded[student] = seen[student]
        return results

    def run(self, stop=lambda: False, fatal=()):
        """Look every ``interval`` seconds until ``stop()``. A look whose grading fails is
        logged, and its submissions are graded at the next look; exceptions of the
        types ``fatal`` (the sandbox refused, the cluster gone) end the watch."""
        self.log(
            f"Watching {self.course.root / 'submitted'}/<student>/{self.assignment}/ every "
            f"{self.interval:g} s (stop with Ctrl-C)"
        )
        while not stop():
            started = time.monotonic()
            try:
                self.step()
            except fatal:
                raise
            except Exception as exc:
                self.log(f"grading failed ({type(exc).__name__}: {exc}); trying again")
            time.sleep(max(0.0, self.interval - (time.monotonic() - started)))
