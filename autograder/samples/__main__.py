"""Grade bundled samples of one assignment and say whether each lost exactly its tasks.

    python -m autograder.samples 03_optimizers                 # every sample
    python -m autograder.samples 03_optimizers alt-loops bug-x # only these

Builds each sample from the committed ``release/`` and ``source/`` notebooks, grades it
in a sandbox like ``check`` does (every child forked from one zygote) and prints one
line per sample: the tasks it lost, the tasks it was declared to break, and ``ok`` or
``MISMATCH`` with the messages of the checks that decided it. Exits 1 when a sample
does not lose exactly its declared tasks.
"""

import argparse
import sys
from pathlib import Path

import nbformat

from autograder.samples import build_submission, grade_in_one_zygote, load_samples

REPO = Path(__file__).resolve().parents[2]


def sample_notebooks(assignment, repo=REPO):
    """``[(sample, notebook)]`` of every sample of ``assignment``, built from the repo."""
    source = nbformat.read(repo / "source" / assignment / f"{assignment}.ipynb", 4)
    release = nbformat.read(repo / "release" / assignment / f"{assignment}.ipynb", 4)
    return [(s, build_submission(s, release, source)) for s in load_samples(assignment)]


def lost_tasks(result):
    return sorted(t for t, r in result.tasks.items() if r.score < r.points)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder.samples", description=__doc__)
    parser.add_argument("assignment")
    parser.add_argument("students", nargs="*", help="sample names (default: all)")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    samples = sample_notebooks(args.assignment)
    known = {s.student for s, _ in samples}
    unknown = sorted(set(args.students) - known)
    if unknown:
        parser.error(f"no sample {', '.join(unknown)} in {args.assignment}; known: {sorted(known)}")
    failures = 0
    chosen = [(s, n) for s, n in samples if not args.students or s.student in args.students]
    for sample, result in grade_in_one_zygote(args.assignment, chosen, lambda _: args.seed):
        lost = lost_tasks(result)
        expected = sorted(result.tasks) if sample.blank else sorted(sample.breaks)
        ok = lost == expected
        failures += not ok
        print(
            f"{'ok      ' if ok else 'MISMATCH'} {sample.student}: lost {lost or 'nothing'}, "
            f"declared {expected or 'nothing'} (seed {result.seed})",
            flush=True,
        )
        if not ok:
            for task in sorted(set(lost) ^ set(expected)):
                for check in result.tasks[task].checks:
                    mark = "pass" if check.passed else "FAIL"
                    print(f"    {task} {mark} {check.name}: {check.message[:400]}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
