"""Command line of the grader: ``python -m autograder grade | report | feedback | watch |
check``."""

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from autograder import reports
from autograder.check_files import CHECKS_DIR, child_preload
from autograder.notebook import (
    SubmissionError,
    hand_graded_points,
    read_notebook,
    release_differences,
    task_points,
)
from autograder.sandbox.runner import MIB, NO_SANDBOX_WARNING, Limits, SandboxUnavailable, Zygote


def _limits(args):
    """The per-submission limits given on the command line."""
    if args.sandbox == "none":
        print(NO_SANDBOX_WARNING, file=sys.stderr)
    try:
        return Limits(
            memory=args.memory * MIB,
            processes=args.processes,
            scratch=args.scratch * MIB,
            cpu=args.cpu_time,
            output=args.output_limit * MIB,
        )
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from None


def _course(args):
    from autograder.course import Course  # imports nbgrader, which check does not need

    return Course(args.course_dir)


def _progress_display():
    """``(progress, close)``: a tqdm bar (count, rate, ETA) with a line per submission on
    a terminal, plain lines otherwise."""
    bar = None

    def line(result, seconds, done, total):
        kept = getattr(result, "kept", False)
        how = "unchanged since it was graded, kept" if kept else f"{seconds:.1f} s"
        return (
            f"  [{done}/{total}] {result.student:<24} {result.score:g}/{result.max_score:g}  "
            f"{result.status}  ({how})"
        )

    def progress(result, seconds, done, total):
        nonlocal bar
        if not sys.stdout.isatty():
            print(line(result, seconds, done, total), flush=True)
            return
        if bar is None:
            from tqdm import tqdm

            bar = tqdm(total=total, unit="submission", dynamic_ncols=True, leave=False)
        bar.write(line(result, seconds, done, total))
        bar.update(1)

    def close():
        if bar is not None:
            bar.close()

    return progress, close


def _grade(course, args, students, progress, regrade=False):
    """``course.grade`` with the options of the command line."""
    return course.grade(
        args.assignment,
        students,
        seed=args.seed,
        progress=progress,
        cell_timeout=args.cell_timeout,
        check_timeout=args.check_timeout,
        notebook_budget=args.notebook_budget,
        sandbox=args.sandbox,
        limits=_limits(args),
        regrade=regrade,
        jobs=args.jobs,
        dask=args.dask,
    )


def cmd_grade(args):
    course = _course(args)
    progress, close = _progress_display()
    print(f"Grading {args.assignment} in {course.root}", flush=True)
    try:
        results = _grade(course, args, args.student, progress, regrade=args.regrade)
    except ConnectionError as exc:
        raise SystemExit(f"error: {exc}") from None
    finally:
        close()
    kept = sum(1 for r in results if getattr(r, "kept", False))
    if kept:
        print(
            f"{kept} of {len(results)} submissions were kept from an earlier run: nothing they "
            "depend on changed (use --regrade to grade them again)"
        )
    if not results:
        print(f"No submissions of {args.assignment} in {course.root / 'submitted'}")
        return 0
    rows, tasks = reports.report_rows(course, args.assignment)
    print()
    print(reports.format_table(rows, tasks))
    print(f"\nResults: {course.root / 'grading' / args.assignment}/<student>.json")
    return 0


def cmd_report(args):
    course = _course(args)
    rows, tasks = reports.report_rows(course, args.assignment)
    reports.write_csv(rows, tasks, args.csv)
    print(reports.format_table(rows, tasks))
    print(f"\nWrote {args.csv} ({len(rows)} students)")
    return 0


def cmd_feedback(args):
    from autograder import nbgrader_bridge

    course = _course(args)
    html = nbgrader_bridge.generate_feedback(course.root, args.assignment)
    written = reports.write_feedback_files(course, args.assignment)
    for path in written:
        print(path)
    print(f"\nWrote feedback for {len(written)} students in {course.root / 'feedback'}")
    if not html["success"]:
        print("nbgrader could not make the HTML feedback:\n" + html.get("log", ""), file=sys.stderr)
    return 0


def cmd_watch(args):
    import signal
    import time

    from autograder import nbgrader_bridge
    from autograder.watch import Watcher

    course = _course(args)
    course.source_notebooks(args.assignment)  # an unknown assignment is an error now

    def log(text):
        print(f"{time.strftime('%H:%M:%S')} {text}", flush=True)

    def grade(students):
        progress, close = _progress_display()
        try:
            results = _grade(course, args, students, progress)
        finally:
            close()
        graded = [r.student for r in results if not getattr(r, "kept", False)]
        for student in graded:  # nbgrader empties the student's feedback folder first
            html = nbgrader_bridge.generate_feedback(course.root, args.assignment, student)
            if not html["success"]:
                log(f"nbgrader could not make {student}'s HTML feedback: {html.get('log', '')}")
            reports.write_feedback_files(course, args.assignment, [student])
        if graded:
            log(f"graded {len(graded)}, feedback in {course.root / 'feedback'}: {graded}")
        return results

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)  # a service manager's stop, as Ctrl-C
    watcher = Watcher(course, args.assignment, grade, log=log, interval=args.interval)
    try:
        watcher.run(fatal=(SandboxUnavailable, ConnectionError))
    except KeyboardInterrupt:
        log("stopped; a submission that was being graded is graded at the next start")
    except ConnectionError as exc:
        raise SystemExit(f"error: {exc}") from None
    return 0


def assignment_of(notebook, path):
    """The assignment a notebook belongs to, from its task ids (``01.3`` -> ``01_...``)."""
    prefixes = {task.split(".")[0] for task in task_points(notebook)}
    candidates = [p.stem[len("test_") :] for p in sorted(CHECKS_DIR.glob("test_*.py"))]
    matches = [c for c in candidates if c.split("_")[0] in prefixes] or [
        c for c in candidates if c == Path(path).stem
    ]
    if len(matches) != 1:
        raise SubmissionError(
            "unknown-assignment",
            f"cannot tell which assignment {Path(path).name} belongs to (its task cells "
            f"carry ids {sorted(prefixes) or 'none'}); known assignments: {', '.join(candidates)}",
        )
    return matches[0]


RELEASE_DIR = Path(__file__).resolve().parents[1] / "release"


def release_notebook(args, assignment):
    """The released notebook of ``assignment`` that ``check`` compares with: ``--release``,
    else the one in the course's release/ folder, else None (with a warning)."""
    path = Path(args.release) if args.release else RELEASE_DIR / assignment / f"{assignment}.ipynb"
    if path.is_file():
        return path
    if args.release:
        raise SubmissionError("missing-release", f"--release {args.release}: no such file")
    print(
        f"warning: no release notebook at {path}: the notebook is checked as it is, while "
        "grading first puts back its read-only and test cells (give the released notebook "
        "with --release PATH)",
        file=sys.stderr,
    )
    return None


def cmd_check(args):
    notice = sys.stderr if args.json else sys.stdout  # --json: stdout holds the JSON only
    try:
        notebook = read_notebook(args.notebook)
        assignment = args.assignment or assignment_of(notebook, args.notebook)
        release = release_notebook(args, assignment)
        differences = release and release_differences(notebook, read_notebook(release))
    except SubmissionError as exc:
        print(f"{exc.status}: {exc.message}", file=sys.stderr)
        return 2
    print(f"Checking {args.notebook} against the hidden checks of {assignment} ...", file=notice)
    if differences:
        print(
            "Grading puts back what differs from the released notebook, and so does this "
            "check (through nbgrader, as grading does):\n"
            + "".join(f"  - {difference}\n" for difference in differences),
            file=notice,
        )
    notice.flush()
    out = sys.stdout  # the checks run with stdout captured

    def print_task(task):
        print("\n".join(reports.task_lines(asdict(task))) + "\n", file=out, flush=True)

    # The zygote imports torch while this process imports the grader (numpy, pytest)
    # and the checks' own imports: on 2 cores the two take about as long.
    zygote = Zygote(sandbox=args.sandbox, limits=_limits(args), preload=child_preload(assignment))
    with zygote:
        from autograder.grading import grade_notebook

        graded, failed = [], []

        def grade(notebook, *_):  # receives the notebook as grading sanitized it
            try:
                result = grade_notebook(
                    notebook,
                    assignment,
                    on_task=None if args.json else print_task,
                    seed=args.seed,
                    cell_timeout=args.cell_timeout,
                    check_timeout=args.check_timeout,
                    notebook_budget=args.notebook_budget,
                    zygote=zygote,
                )
            except BaseException as exc:  # nbgrader would take it for the notebook's error
                failed.append(exc)
                raise
            graded.append((notebook, result))
            return result

        if differences:
            from autograder import nbgrader_bridge  # 1.7 s of imports: only when needed

            outcome = nbgrader_bridge.autograde_from_release(release, assignment, notebook, grade)
            if failed:
                raise failed[0]
            if not outcome["success"] or not graded:
                log = (outcome.get("log") or "") + (outcome.get("error") or "")
                print(f"nbgrader could not autograde this notebook: {log.strip()[-2000:]}")
                return 2
        else:
            grade(notebook)
    notebook, result = graded[-1]
    summary = {
        "student": "you",
        "assignment": assignment,
        "status": result.status,
        "message": result.message,
        "score": result.score,
        "max_score": result.max_score,
        "notebooks": {"notebook": result.to_dict()},
        "hand_graded": hand_graded_points(notebook),
    }
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        print(reports.feedback_text(summary, tasks=False))
    return 0 if result.score == result.max_score else 1


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m autograder",
        description="Grade notebooks with hidden checks run outside the student's process.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def timeouts(sub):
        sub.add_argument("--seed", type=int, help="seed of the randomized checks (default: fresh)")
        sub.add_argument(
            "--cell-timeout",
            type=float,
            default=60.0,
            metavar="S",
            help="seconds one notebook cell may run (default 60)",
        )
        sub.add_argument(
            "--check-timeout",
            type=float,
            default=30.0,
            metavar="S",
            help="seconds student code may run for one check (default 30)",
        )
        sub.add_argument(
            "--notebook-budget",
            type=float,
            default=600.0,
            metavar="S",
            help="seconds all student code of one notebook may run: cells, restarts and "
            "checks together (default 600)",
        )
        sub.add_argument(
            "--sandbox",
            choices=("auto", "none"),
            default="auto",
            help="auto (default): each submission in Linux namespaces of its own, seeing only "
            "the Python installation; none: no isolation (prints a warning)",
        )
        defaults = Limits()
        for flag, value, unit, text in (
            ("--memory", defaults.memory // MIB, "MIB", "private memory per process"),
            ("--processes", defaults.processes, "N", "processes and threads per submission"),
            ("--scratch", defaults.scratch // MIB, "MIB", "size of the writable /tmp"),
            ("--cpu-time", defaults.cpu, "S", "CPU seconds per process"),
            ("--output-limit", defaults.output // MIB, "MIB", "bytes of one answer read back"),
        ):
            sub.add_argument(
                flag, type=int, default=value, metavar=unit, help=f"{text} (default {value})"
            )

    def course_dir(sub):
        sub.add_argument("--course-dir", default=".", help="course root (default: current)")

    grade = commands.add_parser("grade", help="grade submitted/<student>/ASSIGNMENT/")
    grade.add_argument("assignment")
    course_dir(grade)
    grade.add_argument("--student", action="append", help="grade only this student (repeatable)")
    grade.add_argument(
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help="grade N submissions at a time, each in a worker process and sandbox of its "
        "own (default: one per core, or with --dask one per worker thread); scores are the "
        "same for every N",
    )
    grade.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="grade on the workers of a running Dask cluster (e.g. tcp://10.0.0.5:8786, "
        "from `dask scheduler`); gradebook and results are still written here",
    )
    grade.add_argument(
        "--regrade",
        action="store_true",
        help="grade every submission again, also those whose notebook, checks and reference "
        "did not change since they were graded (which a rerun otherwise keeps)",
    )
    timeouts(grade)
    grade.set_defaults(run=cmd_grade)

    report = commands.add_parser("report", help="write the gradebook of ASSIGNMENT as CSV")
    report.add_argument("assignment")
    course_dir(report)
    report.add_argument("--csv", required=True, help="path of the CSV file to write")
    report.set_defaults(run=cmd_report)

    feedback = commands.add_parser("feedback", help="write feedback files for ASSIGNMENT")
    feedback.add_argument("assignment")
    course_dir(feedback)
    feedback.set_defaults(run=cmd_feedback)

    watch = commands.add_parser(
        "watch", help="grade each submission of ASSIGNMENT as it arrives or changes"
    )
    watch.add_argument("assignment")
    course_dir(watch)
    watch.add_argument(
        "--interval",
        type=float,
        default=5.0,
        metavar="S",
        help="seconds between two looks at submitted/ (default 5); a submission is graded "
        "once its files stayed the same from one look to the next",
    )
    watch.add_argument("--jobs", type=int, default=None, metavar="N", help="as for grade")
    watch.add_argument("--dask", metavar="ADDRESS", help="as for grade")
    timeouts(watch)
    watch.set_defaults(run=cmd_watch)

    check = commands.add_parser("check", help="self-study: check one notebook, print feedback")
    check.add_argument("notebook")
    check.add_argument("--assignment", help="assignment id (default: from the task ids)")
    check.add_argument("--json", action="store_true", help="print the result as JSON")
    check.add_argument(
        "--release",
        metavar="NOTEBOOK",
        help="the released notebook, whose read-only and test cells grading puts back "
        "(default: release/ASSIGNMENT/ASSIGNMENT.ipynb of this course)",
    )
    timeouts(check)
    check.set_defaults(run=cmd_check)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (FileNotFoundError, SandboxUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
