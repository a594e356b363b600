"""The text reports (feedback.txt, check's output, the gradebook table) print no control
sequences, whatever a result holds."""

from autograder import reports

ESCAPES = "\x1b]0;owned\x07\x1b[2J\x1b[31m\x9b1m\u202e\x08"


def test_feedback_and_table_hold_no_terminal_escapes():
    task = {
        "task": "02.1",
        "score": 0.0,
        "points": 2.0,
        "checks": [{"passed": False, "description": "the loss", "message": f"got {ESCAPES}red"}],
    }
    result = {
        "student": "eve",
        "assignment": "02_batching",
        "status": f"graded{ESCAPES}",
        "message": f"note {ESCAPES}here",
        "score": 0.0,
        "max_score": 2.0,
        "notebooks": {
            "nb": {
                "status": "graded",
                "seed": 1,
                "cells": [{"cell_id": "c1", "status": "error", "message": f"boom{ESCAPES}"}],
                "tasks": {"02.1": task},
            }
        },
    }
    rows = [
        {
            "student_id": f"eve{ESCAPES}",
            "02.1": 0.0,
            "score": 0.0,
            "max_score": 2.0,
            "status": f"graded{ESCAPES}",
        }
    ]
    for text in (
        reports.feedback_text(result),
        "\n".join(reports.task_lines(task)),
        reports.format_table(rows, ["02.1"]),
    ):
        assert not any(c in text for c in "\x1b\x07\x9b\u202e\x08"), repr(text)
    text = reports.feedback_text(result)
    for kept in ("got red", "note here", "boom", "Status: graded"):
        assert kept in text
