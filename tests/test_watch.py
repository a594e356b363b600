"""``python -m autograder watch``: each submission graded as it arrives or changes."""

from pathlib import Path

import pytest

from autograder.course import Course
from autograder.watch import Watcher

ASSIGNMENT = "02_batching"


def submit(root, student, text, name=f"{ASSIGNMENT}.ipynb"):
    folder = Path(root) / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)


class Recorder:
    """A grade function that records whom it was asked to grade and what their files
    held; ``during`` runs while it grades (a submission arriving meanwhile)."""

    def __init__(self, root):
        self.root, self.calls, self.during = Path(root), [], None

    def __call__(self, students):
        self.calls.append(
            {
                s: (self.root / "submitted" / s / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text()
                for s in students
            }
        )
        if self.during:
            self.during, during = None, self.during
            during()
        return []


@pytest.fixture
def watched(tmp_path):
    (tmp_path / "source" / ASSIGNMENT).mkdir(parents=True)
    grade = Recorder(tmp_path)
    return tmp_path, grade, Watcher(Course(tmp_path), ASSIGNMENT, grade, log=lambda _: None)


def test_the_first_look_hands_every_submission_to_grade(watched):
    root, grade, watcher = watched
    submit(root, "ada", "a1")
    submit(root, "bob", "b1")
    watcher.step()
    assert grade.calls == [{"ada": "a1", "bob": "b1"}]
    watcher.step()
    assert len(grade.calls) == 1  # nothing changed


def test_a_submission_is_graded_once_it_stayed_the_same_for_one_look(watched):
    root, grade, watcher = watched
    watcher.step()  # nothing yet
    submit(root, "ada", "a1")
    watcher.step()  # seen for the first time: it may still be being copied
    assert grade.calls == []
    submit(root, "ada", "a1 and more")  # the copy goes on
    watcher.step()
    assert grade.calls == []
    watcher.step()
    assert grade.calls == [{"ada": "a1 and more"}]
    watcher.step()
    assert len(grade.calls) == 1


def test_a_submission_arriving_or_changing_while_others_are_graded_is_not_lost(watched):
    root, grade, watcher = watched
    submit(root, "ada", "a1")
    grade.during = lambda: (submit(root, "bob", "b1"), submit(root, "ada", "a2 resubmitted"))
    watcher.step()
    assert grade.calls == [{"ada": "a1"}]
    watcher.step()
    watcher.step()
    assert grade.calls[1:] == [{"ada": "a2 resubmitted", "bob": "b1"}]


def test_a_failed_grading_is_tried_again_and_fatal_errors_end_the_watch(watched):
    root, grade, watcher = watched
    submit(root, "ada", "a1")
    failures = []

    def failing(students):
        failures.append(students)
        if len(failures) == 1:
            raise RuntimeError("gradebook locked")
        raise ConnectionError("scheduler gone")

    watcher.grade = failing
    watcher.interval = 0
    with pytest.raises(ConnectionError):
        submit(root, "bob", "b1")
        watcher.run(fatal=(ConnectionError,))
    assert failures == [["ada", "bob"], ["ada", "bob"]]  # the failed look is tried again
