"""Grading time per notebook: the hidden checks now against those of an earlier commit.

For each assignment, grades the reference submission (built from this checkout's
``source/`` and ``release/``) with the hidden checks of this checkout and with those of
``--against`` (a git revision; its ``autograder/checks/`` is extracted to a scratch
folder), alternating the two, from one zygote per assignment, and prints the median
seconds of each and their ratio. The zygote's start-up is left out: it is the same for
both.

    python benchmarks/bench_checks.py --against d756c0b [--repeats 5] [01_autodiff ...]
"""

import argparse
import io
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from autograder.grading import CHECKS_DIR, grade_notebook  # noqa: E402
from autograder.samples.__main__ import sample_notebooks  # noqa: E402
from autograder.sandbox.runner import Zygote  # noqa: E402

ASSIGNMENTS = ("01_autodiff", "02_batching", "03_optimizers", "04_lr_schedules", "05_cifar10")


def checks_at(revision, folder):
    """Extract ``autograder/checks`` of ``revision`` into ``folder``; return its path."""
    archive = subprocess.run(
        ["git", "archive", revision, "autograder/checks"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return Path(folder) / "autograder" / "checks"


def timed(notebook, assignment, checks_dir, zygote):
    start = time.perf_counter()
    result = grade_notebook(notebook, assignment, seed=1, checks_dir=checks_dir, zygote=zygote)
    return time.perf_counter() - start, result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("assignments", nargs="*", default=list(ASSIGNMENTS))
    parser.add_argument("--against", required=True, help="git revision to compare with")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        old_dir = checks_at(args.against, scratch)
        for assignment in args.assignments:
            (_, reference), *_ = sample_notebooks(assignment)
            zygote = Zygote()
            try:
                times = {"now": [], "then": []}
                for _ in range(args.repeats):
                    for label, checks_dir in (("then", old_dir), ("now", CHECKS_DIR)):
                        seconds, result = timed(reference, assignment, checks_dir, zygote)
                        if result.score != result.max_score:
                            print(f"  {assignment} ({label}): reference scored {result.score}")
                        times[label].append(seconds)
            finally:
                zygote.close()
            then, now = (statistics.median(times[k]) for k in ("then", "now"))
            rows.append((assignment, then, now, now / then))
            print(
                f"{assignment}: {then:.2f} s with the checks of {args.against}, {now:.2f} s "
                f"now ({now / then:.2f}x; median of {args.repeats})",
                flush=True,
            )
    total_then = sum(r[1] for r in rows)
    total_now = sum(r[2] for r in rows)
    print(f"all: {total_then:.2f} s then, {total_now:.2f} s now ({total_now / total_then:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
