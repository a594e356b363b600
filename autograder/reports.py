"""Reports made from grading results: the gradebook table, the CSV and student feedback.

Scores come from nbgrader's gradebook (so manual grades and overrides entered in
formgrader count); statuses and check messages come from our grading results.
"""

import csv

from autograder.text import printable


def report_rows(course, assignment):
    """One dict per student: student_id, assignment, score, max_score, status, task ids."""
    from autograder import nbgrader_bridge  # nbgrader takes seconds to import; check needs none

    tasks = course.task_points(assignment)
    rows = []
    results = course.load_results(assignment)
    gradebook = nbgrader_bridge.assignment_scores(
        course.root, assignment, [result["student"] for result in results]
    )
    for result in results:
        scores = gradebook[result["student"]] or {}
        row = {
            "student_id": result["student"],
            "assignment": assignment,
            "status": result["status"],
        }
        total = maximum = 0.0
        for task, points in tasks.items():
            score = scores.get(task, (0.0, points))[0]
            row[task] = score
            total += score
            maximum += points
        for name, (score, max_score) in scores.items():
            if name not in tasks:  # manually graded answers
                total += score
                maximum += max_score
        row["score"], row["max_score"] = total, maximum
        rows.append(row)
    return rows, list(tasks)


def write_csv(rows, task_ids, path):
    columns = ["student_id", "assignment", "score", "max_score", "status", *task_ids]
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (f"{v:g}" if isinstance(v, float) else v) for k, v in row.items()})


def format_table(rows, task_ids):
    """The gradebook as a fixed-width text table, student × task."""
    header = ["student", *task_ids, "score", "status"]
    body = [
        [
            printable(row["student_id"]),
            *(f"{row[t]:g}" for t in task_ids),
            f"{row['score']:g}/{row['max_score']:g}",
            printable(row["status"]),
        ]
        for row in rows
    ]
    widths = [max(len(str(r[i])) for r in [header, *body]) for i in range(len(header))]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in [header, *body]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def task_lines(task, graded=True):
    """The feedback of one task (a TaskResult's dict): its points, each check, and what
    differed. The one formatter of a task: ``check`` prints it, feedback.txt holds it,
    and the task's test cell in the autograded notebook shows it."""
    lines = [f"Task {task['task']}: {task['score']:g} of {task['points']:g} points"]
    for check in task["checks"]:
        mark = "passed" if check["passed"] else "FAILED"
        lines.append(f"  [{mark}] {check['description']}")
        if check["message"]:
            lines.append(f"      {check['message']}")
    if not task["checks"] and graded:
        lines.append("  no hidden check covers this task; ask your instructor")
    return [printable(line) for line in lines]


def feedback_text(result, tasks=True):
    """Feedback for one student: per task, the points, what was checked and what differed.

    ``tasks=False`` leaves the tasks out (the self-check has printed them as they ran)."""
    lines = [
        f"Assignment {result['assignment']}: {result['score']:g} of {result['max_score']:g} points",
    ]
    if result["status"] != "graded":
        lines.append(f"Status: {result['status']}")
    if result.get("message"):
        lines.append(result["message"])
    seeds = sorted({n["seed"] for n in result["notebooks"].values() if n.get("seed") is not None})
    if seeds:
        lines.append(
            f"Random inputs from seed {', '.join(map(str, seeds))}: "
            f"`python -m autograder check NOTEBOOK --seed {seeds[0]}` draws the same ones."
        )
    for notebook in result["notebooks"].values():
        for cell in notebook.get("cells", []):
            if cell["status"] != "ok":
                lines.append(f"Cell {cell['cell_id']} ({cell['status']}): {cell['message']}")
        for task in notebook["tasks"].values() if tasks else ():
            lines.append("")
            lines.extend(task_lines(task, notebook["status"] == "graded"))
    hand = result.get("hand_graded") or {}
    if hand:
        lines.append("")
        for task, points in hand.items():
            lines.append(
                f"Task {task}: {points:g} points, graded by hand (not part of the "
                f"{result['max_score']:g} points above)"
            )
    return printable("\n".join(lines) + "\n")


def write_feedback_files(course, assignment, students=None):
    """Write ``feedback/<student>/<assignment>/feedback.txt`` for every graded student (or
    those of ``students``)."""
    written = []
    for result in course.load_results(assignment, students):
        folder = course.root / "feedback" / result["student"] / assignment
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "feedback.txt"
        path.write_text(feedback_text(result))
        written.append(path)
    return written
