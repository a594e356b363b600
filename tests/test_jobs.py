"""Grading N submissions at a time, here or on a Dask cluster, gives the scores of one at
a time, and one writer.

Real batches of the same course (the command line, the same seed): ``--jobs 1``,
``--jobs 2`` and ``--dask`` on a local cluster of two worker processes started by the
test; every task's score and every status must agree, and nbgrader's gradebook must
hold what the results say. A Dask worker killed while it grades loses nothing.
"""

import os
import signal
import subprocess
import threading
import time

import pytest
from course_fixtures import grade_command, run_grade, sample_course, samples_by_name, task_scores

from autograder import nbgrader_bridge

pytestmark = pytest.mark.slow  # whole batches or notebooks: make test-fast skips it

ASSIGNMENT = "02_batching"


def chosen_submissions():
    """The reference, two samples that break tasks, an alternative answer, a broken file."""
    samples, _ = samples_by_name(ASSIGNMENT)
    chosen = [samples["reference"]]
    chosen += [s for s in samples.values() if s.breaks][:2]
    chosen += [s for s in samples.values() if s.student.startswith("alt-")][:1]
    submissions = {f"s{i}-{s.student}"[:30]: s for i, s in enumerate(chosen)}
    submissions["zz-broken"] = {f"{ASSIGNMENT}.ipynb": '{"cells": ['}
    return submissions


def grade(root, *extra):
    return run_grade(root, ASSIGNMENT, *extra)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    submissions = chosen_submissions()
    course = sample_course(tmp_path_factory.mktemp("jobs") / "course", ASSIGNMENT, submissions)
    return course, list(submissions)


@pytest.fixture(scope="module")
def one_at_a_time(course):
    course_, students = course
    grade(course_.root, "--seed", "11", "--jobs", "1")
    return task_scores(course_.root, ASSIGNMENT, students)


def assert_gradebook_holds(root, scores):
    for student, (_, score, _) in scores.items():
        gradebook = nbgrader_bridge.gradebook_scores(root, ASSIGNMENT, student)
        assert sum(s for s, _ in gradebook.values()) == pytest.approx(score), student


def test_two_jobs_give_the_scores_of_one(course, one_at_a_time):
    course_, students = course
    one = one_at_a_time
    output = grade(course_.root, "--seed", "11", "--jobs", "2", "--regrade")
    two = task_scores(course_.root, ASSIGNMENT, students)
    assert two == one
    assert one[students[0]][1] > 0 and one["zz-broken"][0] == "invalid-notebook"
    assert len({score for _, score, _ in one.values()}) > 2  # the batch has distinct grades
    assert output.count("/5]") == 5
    assert_gradebook_holds(course_.root, two)


@pytest.fixture(scope="module")
def cluster():
    """A real Dask cluster on 127.0.0.1: a scheduler and two worker processes with one
    thread each, each under a nanny that restarts it if it dies."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        with distributed.Client(cluster) as client:
            yield cluster.scheduler_address, client


def test_a_dask_cluster_gives_the_scores_of_one_job(course, one_at_a_time, cluster):
    course_, students = course
    address, _ = cluster
    output = grade(course_.root, "--seed", "11", "--dask", address, "--regrade")
    assert task_scores(course_.root, ASSIGNMENT, students) == one_at_a_time
    assert output.count("/5]") == 5
    assert_gradebook_holds(course_.root, one_at_a_time)


def test_a_dask_worker_killed_while_grading_loses_and_duplicates_nothing(
    course, one_at_a_time, cluster
):
    course_, students = course
    address, client = cluster
    batch = subprocess.Popen(
        grade_command(course_.root, ASSIGNMENT, "--seed", "11", "--dask", address, "--regrade"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = []
    reader = threading.Thread(target=lambda: output.extend(batch.stdout))
    reader.start()
    killed = None
    deadline = time.monotonic() + 120
    while killed is None and time.monotonic() < deadline and batch.poll() is None:
        busy = [worker for worker, tasks in client.processing().items() if tasks]
        if busy:
            pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
            os.kill(pid, signal.SIGKILL)
            killed = pid
        time.sleep(0.05)
    assert batch.wait(timeout=600) == 0, "".join(output)
    reader.join()
    assert killed is not None, "no worker was ever seen grading"
    after = task_scores(course_.root, ASSIGNMENT, students)
    assert after == one_at_a_time, "".join(output)
    lines = [line.split()[1] for line in output if line.strip().startswith("[")]
    assert sorted(lines) == sorted(students), "".join(output)  # each reported once
    assert_gradebook_holds(course_.root, after)
    client.wait_for_workers(2, timeout=60)  # the nanny started a new worker


def test_no_dask_scheduler_is_a_clear_error(course):
    course_, _ = course
    result = subprocess.run(
        grade_command(course_.root, ASSIGNMENT, "--dask", "tcp://127.0.0.1:9"),
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "no Dask scheduler answered at tcp://127.0.0.1:9" in result.stderr


def test_bad_jobs_is_refused_with_a_clear_error(course):
    course_, _ = course
    result = subprocess.run(
        grade_command(course_.root, ASSIGNMENT, "--jobs", "0"), capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "Invalid jobs: 0" in result.stderr
