"""Grading speed: ``python -m autograder grade`` against plain ``nbgrader autograde``,
and the self-check's latency against importing the libraries it needs.

Builds identical scratch courses holding N submissions of one assignment (the bundled
samples, cycled: the reference and the plausible bugs) and grades them from the command
line: with nbgrader; with our grader and ``--jobs 1``, ``--jobs 2`` and ``--dask`` on a
local cluster of two single-thread worker processes (started before the clock starts,
as an existing cluster would be); and with ``--jobs 1 --sandbox none`` (the cost of the
isolation). Each prints as seconds per submission and as a ratio against nbgrader, and
the scores of every configuration are compared. Every run includes its start-up, as an
instructor would see it.

Then ``python -m autograder check`` of a correct notebook (the reference sample) of every
assignment against ``python -c "import torch, numpy, matplotlib.pyplot"``, alternated,
median of ``--repeats`` runs of each.

    python benchmarks/bench_grading.py [--assignment 02_batching] [--submissions 20]
    python benchmarks/bench_grading.py --check-only     # the check latency alone

nbgrader's own scores come from the notebooks' visible tests; ours from the hidden
checks. They agree on correct submissions; on a buggy one they may differ where the
visible tests do not catch the bug (that is what hidden checks are for), so the table
lists both.
"""

import argparse
import os
import statistics
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
    if result.returncode not in (0, 1):  # check exits 1 when a task lost points
        print(result.stdout[-3000:], result.stderr[-3000:], file=sys.stderr)
    return elapsed


def check_latency(assignment, notebook, repeats):
    """Median seconds of ``autograder check`` and of importing its libraries."""
    check = [sys.executable, "-m", "autograder", "check", str(notebook)]
    imports = [sys.executable, "-c", "import torch, numpy, matplotlib.pyplot"]
    checks, baseline = [], []
    for _ in range(repeats):
        baseline.append(timed(imports, REPO))
        checks.append(timed(check, REPO))
    return statistics.median(checks), statistics.median(baseline)


def correct_notebook(folder, assignment):
    """The reference sample of ``assignment`` as a student's notebook, written in ``folder``."""
    import nbformat

    source = nbformat.read(REPO / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    release = nbformat.read(REPO / "release" / assignment / f"{assignment}.ipynb", as_version=4)
    reference = next(s for s in load_samples(assignment) if s.student == "reference")
    path = Path(folder) / f"{assignment}.ipynb"
    nbformat.write(build_submission(reference, release, source), path)
    return path


def print_check_latency(scratch, repeats):
    assignments = sorted(p.name for p in (REPO / "source").glob("[0-9][0-9]_*") if p.is_dir())
    print(f"\nautograder check of a correct notebook, median of {repeats} (goal <= 2x, 1.5x):")
    for assignment in assignments:
        check, imports = check_latency(assignment, correct_notebook(scratch, assignment), repeats)
        print(
            f"  {assignment:<16} check {check:5.2f} s; python -c 'import torch, numpy, "
            f"matplotlib.pyplot' {imports:5.2f} s; ratio {check / imports:.2f}x"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="02_batching")
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5, help="runs of each latency probe")
    parser.add_argument("--check-only", action="store_true", help="only the check latency")
    args = parser.parse_args()
    n = args.submissions
    if args.check_only:
        with tempfile.TemporaryDirectory(prefix="bench-check-") as scratch:
            print_check_latency(scratch, args.repeats)
        return
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as scratch:
        scratch = Path(scratch)
        print(f"{n} submissions of {args.assignment}, {os.cpu_count()} CPU cores")
        theirs_dir = scratch / "nbgrader"
        _, students = build(theirs_dir, args.assignment, n)
        theirs = timed(
            [sys.executable, "-m", "nbgrader", "autograde", args.assignment, "--force"], theirs_dir
        )
        print(f"{'nbgrader autograde':<34} {theirs:7.1f} s  {theirs / n:5.2f} s each")
        grade = [sys.executable, "-m", "autograder", "grade", args.assignment, "--course-dir"]
        runs = {
            "--jobs 1": ["--jobs", "1"],
            "--jobs 2": ["--jobs", "2"],
            "--dask (local, 2 workers)": None,
            "--jobs 1 --sandbox none": ["--jobs", "1", "--sandbox", "none"],
        }
        all_scores, times = {"nbgrader": scores(theirs_dir, args.assignment, students)}, {}
        for name, extra in runs.items():
            course_dir = scratch / f"ours-{len(times)}"
            build(course_dir, args.assignment, n)
            if extra is None:
                from distributed import LocalCluster

                with LocalCluster(
                    n_workers=2,
                    threads_per_worker=1,
                    host="127.0.0.1",
                    dashboard_address=None,
                ) as cluster:
                    seconds = timed(
                        [*grade, str(course_dir), "--dask", cluster.scheduler_address], REPO
                    )
            else:
                seconds = timed([*grade, str(course_dir), *extra], REPO)
            times[name] = seconds
            all_scores[name] = scores(course_dir, args.assignment, students)
            print(
                f"{'autograder grade ' + name:<34} {seconds:7.1f} s  {seconds / n:5.2f} s each  "
                f"{theirs / seconds:5.1f}x faster than nbgrader"
            )
        isolation = times["--jobs 1"] - times["--jobs 1 --sandbox none"]
        print(f"the isolation costs {isolation / n * 1000:+.0f} ms per submission (--jobs 1)")
        ours = {k: v for k, v in all_scores.items() if k != "nbgrader"}
        agree = len({repr(v) for v in ours.values()}) == 1
        print(f"our scores identical in every configuration: {agree}")
        print(f"\n{'student':<40} {'ours':>6} {'nbgrader':>9}")
        for student in students:
            print(
                f"{student:<40} {ours['--jobs 1'][student]:>6g} "
                f"{all_scores['nbgrader'][student]:>9g}"
            )
        honest = [s for s in students if s.endswith("-reference")]
        same = all(ours["--jobs 1"][s] == all_scores["nbgrader"][s] for s in honest)
        print(f"\nscores identical to nbgrader's on the {len(honest)} correct submissions: {same}")

        print_check_latency(scratch, args.repeats)


if __name__ == "__main__":
    main()
