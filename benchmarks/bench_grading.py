"""Grading speed: ``python -m autograder grade`` against plain ``nbgrader autograde``.

Builds three identical scratch courses holding N submissions of one assignment (the
bundled samples, cycled: the reference and the plausible bugs), grades them from the
command line with our grader (each submission in its own sandbox, the default), with
our grader and ``--sandbox none`` (the cost of the isolation), and with nbgrader, and
prints wall times, the ratios and whether the scores agree. Every run includes its
start-up, as an instructor would see it.

    python benchmarks/bench_grading.py [--assignment 02_batching] [--submissions 20]

nbgrader's own scores come from the notebooks' visible tests; ours from the hidden
checks. They agree on correct submissions; on a buggy one they may differ where the
visible tests do not catch the bug (that is what hidden checks are for), so the table
lists both.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from autograder import nbgrader_bridge  # noqa: E402
from autograder.demo import make_course  # noqa: E402
from autograder.samples import build_submission, load_samples  # noqa: E402


def build(course_dir, assignment, count):
    import nbformat

    course = make_course(course_dir)
    nbgrader_bridge.generate_assignment(course.root, assignment)
    samples = [s for s in load_samples(assignment) if not s.blank]
    students = []
    for source_path in sorted((course.root / "source" / assignment).glob("*.ipynb")):
        source = nbformat.read(source_path, as_version=4)
        release = nbformat.read(
            course.root / "release" / assignment / source_path.name, as_version=4
        )
        for i in range(count):
            sample = samples[i % len(samples)]
            student = f"s{i:02d}-{sample.student}"
            folder = course.root / "submitted" / student / assignment
            folder.mkdir(parents=True, exist_ok=True)
            nbformat.write(build_submission(sample, release, source), folder / source_path.name)
            students.append(student)
    return course, students


def scores(course_dir, assignment, students):
    return {
        s: sum(
            v[0]
            for v in (nbgrader_bridge.gradebook_scores(course_dir, assignment, s) or {}).values()
        )
        for s in students
    }


def timed(command, cwd):
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        print(result.stdout[-3000:], result.stderr[-3000:], file=sys.stderr)
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="02_batching")
    parser.add_argument("--submissions", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as scratch:
        ours_dir, theirs_dir = Path(scratch) / "ours", Path(scratch) / "nbgrader"
        bare_dir = Path(scratch) / "unsandboxed"
        _, students = build(ours_dir, args.assignment, args.submissions)
        build(theirs_dir, args.assignment, args.submissions)
        build(bare_dir, args.assignment, args.submissions)
        print(f"{args.submissions} submissions of {args.assignment}, {os.cpu_count()} CPU cores")
        grade = [sys.executable, "-m", "autograder", "grade", args.assignment, "--course-dir"]
        ours = timed([*grade, str(ours_dir)], REPO)
        print(f"python -m autograder grade: {ours:7.1f} s ({ours / args.submissions:.2f} s each)")
        bare = timed([*grade, str(bare_dir), "--sandbox", "none"], REPO)
        print(
            f"  ... with --sandbox none:  {bare:7.1f} s ({bare / args.submissions:.2f} s each); "
            f"the isolation costs {(ours - bare) / args.submissions * 1000:+.0f} ms per "
            f"submission ({ours / bare:.2f}x)"
        )
        theirs = timed(
            [sys.executable, "-m", "nbgrader", "autograde", args.assignment, "--force"], theirs_dir
        )
        print(
            f"nbgrader autograde:         {theirs:7.1f} s ({theirs / args.submissions:.2f} s each)"
        )
        print(f"speed-up: {theirs / ours:.1f}x")
        ours_scores = scores(ours_dir, args.assignment, students)
        bare_scores = scores(bare_dir, args.assignment, students)
        print(f"sandboxed and unsandboxed scores identical: {ours_scores == bare_scores}")
        theirs_scores = scores(theirs_dir, args.assignment, students)
        print(f"\n{'student':<40} {'ours':>6} {'nbgrader':>9}")
        for student in students:
            print(f"{student:<40} {ours_scores[student]:>6g} {theirs_scores[student]:>9g}")
        honest = [s for s in students if s.endswith("-reference")]
        same = all(ours_scores[s] == theirs_scores[s] for s in honest)
        print(f"\nscores identical on the {len(honest)} correct submissions: {same}")


if __name__ == "__main__":
    main()
