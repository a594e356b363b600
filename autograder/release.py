"""``make release``: regenerate ``release/<assignment>/`` from ``source/`` with nbgrader.

Runs nbgrader's generate_assignment in a scratch copy of the course (so the repository
gets no gradebook), adds the students' helper package ``course_helpers`` (from
``student/``; it holds no reference solution), then replaces ``release/<assignment>/``
with the result. nbgrader's release and fetch copy the whole folder, helpers included.
"""

import shutil
import sys
import tempfile
from pathlib import Path

from autograder import nbgrader_bridge

REPO = Path(__file__).resolve().parents[1]
HELPERS = "course_helpers"


def generate_release(assignment, repo=REPO, scratch=None):
    """Generate ``assignment`` in a scratch course; return the generated release folder."""
    scratch = Path(scratch or tempfile.mkdtemp(prefix="release-"))
    shutil.copy(repo / "nbgrader_config.py", scratch / "nbgrader_config.py")
    shutil.copytree(repo / "source" / assignment, scratch / "source" / assignment)
    nbgrader_bridge.generate_assignment(scratch, assignment)
    release = scratch / "release" / assignment
    shutil.copytree(
        repo / "student" / HELPERS,
        release / HELPERS,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    return release


def main(argv=None):
    assignments = sys.argv[1:] if argv is None else argv
    for assignment in assignments:
        with tempfile.TemporaryDirectory(prefix="release-") as scratch:
            generated = generate_release(assignment, scratch=scratch)
            target = REPO / "release" / assignment
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(generated, target)
        print(f"release/{assignment}: regenerated from source/{assignment}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
