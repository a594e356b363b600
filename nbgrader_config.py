"""nbgrader configuration of the course. The repository root is the course root.

nbgrader reads this file from the current directory, so run nbgrader commands from the
repository root (or from a course directory holding a copy of this file).
"""

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

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
