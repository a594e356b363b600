"""``make demo``: generate the releases, grade the bundled samples, print the gradebook.

Builds a throw-away course directory (``demo/`` by default) from this repository's
``source/`` and ``nbgrader_config.py``, writes the sample submissions of every
assignment that has them (see :mod:`autograder.samples`), grades them with the same
code as ``python -m autograder grade``, and writes the CSV report and the feedback.
"""

import argparse
import shutil
import sys
import time
from pathlib import Path

from autograder import nbgrader_bridge, reports
from autograder.course import Course
from autograder.samples import SAMPLES_DIR, load_samples, write_submissions

REPO = Path(__file__).resolve().parents[1]


def demo_assignments():
    return sorted(p.stem for p in SAMPLES_DIR.glob("*.json") if (REPO / "source" / p.stem).is_dir())


def make_course(course_dir):
    course_dir = Path(course_dir)
    if course_dir.exists():
        shutil.rmtree(course_dir)
    course_dir.mkdir(parents=True)
    shutil.copy(REPO / "nbgrader_config.py", course_dir / "nbgrader_config.py")
    shutil.copytree(REPO / "source", course_dir / "source")
    return Course(course_dir)


def run(course_dir, assignments, seed=None):
    started = time.perf_counter()
    course = make_course(course_dir)
    for assignment in assignments:
        print(f"\n== {assignment} ==")
        nbgrader_bridge.generate_assignment(course.root, assignment)
        samples = write_submissions(course.root, assignment)
        descriptions = {s.student: s.description for s in samples}
        course.grade(assignment, seed=seed)
        rows, tasks = reports.report_rows(course, assignment)
        print(reports.format_table(rows, tasks))
        print()
        for row in rows:
            print(f"  {row['student_id']}: {descriptions.get(row['student_id'], '')}")
        csv_path = course.root / f"grades-{assignment}.csv"
        reports.write_csv(rows, tasks, csv_path)
        reports.write_feedback_files(course, assignment)
        print(f"\n  CSV:      {csv_path}")
        print(f"  Feedback: {course.root / 'feedback'}/<student>/{assignment}/feedback.txt")
    print(
        f"\nDemo finished in {time.perf_counter() - started:.0f} s; course directory: {course.root}"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder.demo", description=__doc__)
    parser.add_argument("--course-dir", default=str(REPO / "demo"))
    parser.add_argument("--assignment", action="append", help="only this assignment")
    parser.add_argument("--seed", type=int)
    args = parser.parse_args(argv)
    assignments = args.assignment or demo_assignments()
    if not assignments:
        print("No assignment has bundled samples.", file=sys.stderr)
        return 1
    for assignment in assignments:
        load_samples(assignment)
    run(args.course_dir, assignments, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
