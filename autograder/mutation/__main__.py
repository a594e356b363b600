"""``make mutants``: grade every mutant of the reference answers and report per task.

    python -m autograder.mutation                    # every assignment
    python -m autograder.mutation 03_optimizers --task 03.6 --jobs 2
    python -m autograder.mutation 02_batching --sample 20 --seed 1

See :mod:`autograder.mutation` for what a mutant is and when it counts as killed.
"""

import argparse
import concurrent.futures
import json
import multiprocessing
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

from autograder.mutation import _zygote, grade_mutant, load_equivalent, mutants
from autograder.samples.__main__ import sample_notebooks

ASSIGNMENTS = ("01_autodiff", "02_batching", "03_optimizers", "04_lr_schedules", "05_cifar10")


def select(assignment, task=None, sample=None, seed=0):
    chosen = [m for m in mutants(assignment) if task is None or m.task == task]
    if sample is not None and sample < len(chosen):
        chosen = sorted(
            random.Random(f"{seed}-{assignment}").sample(chosen, sample), key=chosen.index
        )
    return chosen


def run(assignment, chosen, jobs=1, seed=12345, log=print):
    """Grade ``chosen`` mutants of ``assignment``; return ``{mutant id: (killed, how)}``."""
    (_, reference), *_ = sample_notebooks(assignment)
    outcomes = {}
    if jobs <= 1:
        for mutant in chosen:
            outcomes[mutant.id] = grade_mutant(mutant, reference, seed)
        return outcomes
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(
        jobs, mp_context=context, initializer=_zygote, initargs=(assignment,)
    ) as pool:
        futures = {pool.submit(grade_mutant, m, reference, seed): m for m in chosen}
        for future in concurrent.futures.as_completed(futures):
            outcomes[futures[future].id] = future.result()
    return outcomes


def report(assignment, chosen, outcomes, equivalent, log=print):
    """Print per-task counts and survivors; return (killed, non-equivalent total)."""
    by_task = defaultdict(list)
    for mutant in chosen:
        by_task[mutant.task].append(mutant)
    killed_all = counted_all = 0
    log(f"{assignment}: {len(chosen)} mutants")
    for task, group in by_task.items():
        listed = [m for m in group if m.id in equivalent]
        counted = [m for m in group if m.id not in equivalent]
        killed = [m for m in counted if outcomes[m.id][0]]
        killed_all += len(killed)
        counted_all += len(counted)
        share = f"{100 * len(killed) / len(counted):.0f}%" if counted else "-"
        log(
            f"  {task}: {len(killed)} of {len(counted)} killed ({share}); "
            f"{len(listed)} listed as equivalent"
        )
        for mutant in counted:
            if not outcomes[mutant.id][0]:
                log(f"    SURVIVED {mutant.id} {mutant.description}")
        for mutant in listed:
            if outcomes[mutant.id][0]:
                log(f"    listed as equivalent but killed: {mutant.id} {mutant.description}")
    share = 100 * killed_all / counted_all if counted_all else 100.0
    log(
        f"  {assignment}: {killed_all} of {counted_all} non-equivalent mutants killed "
        f"({share:.1f}%)"
    )
    return killed_all, counted_all


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder.mutation", description=__doc__)
    parser.add_argument("assignments", nargs="*", default=list(ASSIGNMENTS))
    parser.add_argument("--task", help="only the mutants of this task (e.g. 03.6)")
    parser.add_argument("--sample", type=int, help="grade this many mutants per assignment")
    parser.add_argument("--seed", type=int, default=0, help="which sample (with --sample)")
    parser.add_argument("--jobs", type=int, default=1, help="mutants graded at a time")
    parser.add_argument("--floor", type=float, default=95.0, help="percent killed required")
    parser.add_argument("--list", action="store_true", help="list the mutants, grade nothing")
    parser.add_argument(
        "--survivors",
        metavar="FILE",
        help="write the survivors as JSON entries of equivalent/<assignment>.json, each with "
        "an empty reason to fill in (or kill them with a new check)",
    )
    args = parser.parse_args(argv)
    equivalent = load_equivalent()
    below, survivors = [], []
    for assignment in args.assignments:
        chosen = select(assignment, args.task, args.sample, args.seed)
        if args.list:
            for mutant in chosen:
                print(f"{mutant.id} {mutant.task} {mutant.description}")
            continue
        known = {m.id for m in mutants(assignment)}
        for stale in sorted(set(equivalent.get(assignment, {})) - known):
            print(f"  equivalent/{assignment}.json lists {stale}, which is no longer a mutant")
        start = time.monotonic()
        outcomes = run(assignment, chosen, jobs=args.jobs)
        listed = equivalent.get(assignment, {})
        killed, counted = report(assignment, chosen, outcomes, listed)
        survivors += [
            {"id": m.id, "mutant": m.description, "reason": ""}
            for m in chosen
            if not outcomes[m.id][0] and m.id not in listed
        ]
        print(f"  ({time.monotonic() - start:.0f} s)", flush=True)
        if counted and 100 * killed / counted < args.floor:
            below.append(assignment)
    if args.survivors:
        Path(args.survivors).write_text(json.dumps(survivors, indent=1) + "\n")
    if below:
        print(f"below the floor of {args.floor:g}% killed: {', '.join(below)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
