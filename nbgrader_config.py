"""nbgrader configuration of the course. The repository root is the course root.

nbgrader reads this file from the current directory, so run nbgrader commands from the
repository root (or from a course directory holding a copy of this file).
"""

import os
import sys

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

# nbgrader runs the `alembic` program of its own environment when it creates or migrates
# gradebook.db, from formgrader too. A Jupyter started without activating the environment
# (by make lab, a JupyterHub spawner, a conda environment's full path) has that folder
# missing from PATH: formgrader's pages then fail on a new course.
_scripts = os.path.dirname(sys.executable)
if _scripts not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _scripts + os.pathsep + os.environ.get("PATH", "")

c.CourseDirectory.course_id = "diffprog"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Plain `nbgrader autograde` (kept working for comparison) executes each notebook with
# this timeout; `python -m autograder grade` runs the hidden checks instead.
c.Execute.timeout = 120
