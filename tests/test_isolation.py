"""The hostile corpus (tests/hostile.py) graded in one batch, as root and as a plain user.

Each batch holds a correct and a blank classmate and every attacker. It is graded by
the command line an instructor uses, in a separate process, on a course directory
outside this checkout. The attackers must gain nothing: the classmates get full marks
and zero, no attacker scores, the canary process lives, the host sockets were never
reached, no host file changed, no process of the batch survives it, and nothing of the
hidden checks or the reference solutions is in the results or the feedback.
"""

import csv
import hashlib
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import pytest
from course_fixtures import grade_command
from hostile import ASSIGNMENT, SPECIAL_FILES, Targets, attackers, build_corpus

from autograder import nbgrader_bridge
from autograder.demo import make_course
from autograder.grading import CHECKS_DIR
from autograder.samples import build_submission, load_samples
from autograder.sandbox.runner import CHILD_SCRIPT

pytestmark = pytest.mark.slow  # whole batches or notebooks: make test-fast skips it

REPO = Path(__file__).resolve().parents[1]
GRADER_USER = "course-grader-test"
BATCH_LIMIT_S = 900


class SolutionServer:
    """Host sockets (Unix, abstract, TCP) that hand a source notebook to whoever connects."""

    def __init__(self, base, payload):
        self.payload = payload.encode()
        self.connections = 0
        self.unix_path = str(base / "solutions.sock")
        self.abstract = f"course-solutions-{os.getpid()}"
        self.servers = []
        for family, address in (
            (socket.AF_UNIX, self.unix_path),
            (socket.AF_UNIX, "\0" + self.abstract),
            (socket.AF_INET, ("127.0.0.1", 0)),
        ):
            server = socket.socket(family, socket.SOCK_STREAM)
            server.bind(address)
            server.listen()
            server.settimeout(0.2)
            self.servers.append(server)
        os.chmod(self.unix_path, 0o777)
        self.tcp_port = self.servers[2].getsockname()[1]
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop:
            for server in self.servers:
                try:
                    connection, _ = server.accept()
                except OSError:
                    continue
                self.connections += 1
                with connection:
                    connection.sendall(self.payload)

    def close(self):
        self._stop = True
        self._thread.join()
        for server in self.servers:
            server.close()


def _digest(paths):
    return {p: hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in paths}


def _grader_user():
    try:
        return pwd.getpwnam(GRADER_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                GRADER_USER,
            ],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(GRADER_USER)


def _as_user(argv, user, home):
    """``argv`` run as ``user`` in a private mount namespace where the directories this
    test needs under /root (mode 700 here: the Python installation, maybe the checkout)
    are mounted back over an empty /root, so another user can reach them."""
    needed = sorted(
        {
            p
            for p in (os.path.realpath(sys.base_prefix), str(REPO.resolve()))
            if p == "/root" or p.startswith("/root/")
        }
    )
    lines = ["set -e", 'keep="$(mktemp -d)"']
    for i, path in enumerate(needed):
        lines += [f'mkdir "$keep/{i}"', f'mount --bind "{path}" "$keep/{i}"']
    if needed:
        lines.append("mount -t tmpfs -o mode=755 tmpfs /root")
    for i, path in enumerate(needed):
        lines += [f'mkdir -p "{path}"', f'mount --move "$keep/{i}" "{path}"']
    lines.append(
        f"exec setpriv --reuid={user.pw_uid} --regid={user.pw_gid} --clear-groups "
        f'env HOME="{home}" PATH="{os.path.dirname(sys.executable)}:/usr/bin:/bin" "$@"'
    )
    return ["unshare", "--mount", "sh", "-c", "\n".join(lines), "sh", *argv]


def _run_batch(base, mode):
    course = make_course(base / "course")
    nbgrader_bridge.generate_assignment(course.root, ASSIGNMENT)
    samples = {s.student: s for s in load_samples(ASSIGNMENT)}
    source_path = course.root / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    source = nbformat.read(source_path, as_version=4)
    release = nbformat.read(course.root / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    reference = build_submission(samples["reference"], release, source)
    blank = build_submission(samples["blank"], release, source)

    elsewhere = base / "elsewhere"
    shutil.copytree(REPO / "source", elsewhere / "source")
    shutil.copytree(REPO / "course_utils", elsewhere / "course_utils")
    host_files = base / "host-files"
    host_files.mkdir()
    (host_files / "notes.txt").write_text("instructor notes")
    markers = base / "markers"
    markers.mkdir(mode=0o777)
    os.chmod(markers, 0o777)
    unchanged = [
        str(host_files / "notes.txt"),
        str(source_path),
        str(course.root / "nbgrader_config.py"),
    ]
    writable = [*unchanged, str(course.root / "gradebook.db")]  # the grader writes the last
    user = _grader_user() if mode == "user" else None
    canary = subprocess.Popen(["sleep", "900"], user=user.pw_uid if user else None)
    server = SolutionServer(base, source_path.read_text())
    targets = Targets(
        sources=[
            str(source_path),
            str(REPO / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"),
            str(elsewhere / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"),
        ],
        checks=str(CHECKS_DIR / f"test_{ASSIGNMENT}.py"),
        packages=[str(elsewhere / "course_utils"), str(REPO / "course_utils")],
        writable=writable,
        marker_dir=str(markers),
        canary_pid=canary.pid,
        unix_socket=server.unix_path,
        abstract_socket=server.abstract,
        tcp_port=server.tcp_port,
    )
    students = build_corpus(course.root, targets, reference, blank, source_path.read_text())
    before = _digest(unchanged)

    argv = grade_command(
        course.root,
        ASSIGNMENT,
        "--seed",
        "7",
        "--notebook-budget",
        "60",
        "--cell-timeout",
        "20",
        "--check-timeout",
        "10",
    )
    if user is not None:
        home = base / "home"
        home.mkdir()
        for path in (base, *base.rglob("*")):
            os.lchown(path, user.pw_uid, user.pw_gid)
        argv = _as_user(argv, user, home)
    started = time.monotonic()
    try:
        graded = subprocess.run(
            argv, cwd=base, capture_output=True, text=True, timeout=BATCH_LIMIT_S
        )
        seconds = time.monotonic() - started
        time.sleep(3)  # what an escaped process would do after the batch, it does now
        canary_alive = canary.poll() is None
    finally:
        canary.kill()
        canary.wait()
        server.close()
    report = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograder",
            "report",
            ASSIGNMENT,
            "--course-dir",
            str(course.root),
            "--csv",
            str(base / "grades.csv"),
        ],
        capture_output=True,
        text=True,
    )
    feedback = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograder",
            "feedback",
            ASSIGNMENT,
            "--course-dir",
            str(course.root),
        ],
        capture_output=True,
        text=True,
    )
    with open(base / "grades.csv") as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f)}
    return {
        "course": course.root,
        "graded": graded,
        "report": report,
        "feedback": feedback,
        "rows": rows,
        "students": students,
        "seconds": seconds,
        "canary_alive": canary_alive,
        "connections": server.connections,
        "before": before,
        "after": _digest(unchanged),
        "markers": sorted(os.listdir(markers)),
        "source_text": source_path.read_text(),
        "release_text": (course.root / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text(),
    }


def test_every_attack_class_is_in_the_corpus():
    classes = {cls for cls, _ in attackers(Targets([], "", [], [], "", 0, "", "", 0)).values()}
    assert classes >= {
        "capabilities kept as root",
        "zygote takeover",
        "signals to the grader",
        "leftovers",
        "deny-list file system",
        "shared scratch",
        "no limits",
        "trusted-side work on untrusted input",
        "channels in the checks",
        "inconsistent status",
    }


def _ancestors(pid):
    chain = []
    while pid > 1:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            break
        pid = int(stat.rsplit(")", 1)[1].split()[1])
        chain.append(pid)
    return chain


class HostileBatch:
    """The tests of one hostile batch; one subclass per way of running the grader (as
    root, as an unprivileged user), so that pytest-xdist (``--dist loadscope``) runs the
    two batches on different workers."""

    mode = None

    @pytest.fixture(scope="class")
    @classmethod
    def batch(cls):
        if os.geteuid() != 0:
            pytest.skip("grading as root and as another user needs root to arrange")
        # not under pytest's tmp_path, whose parent is private to root
        base = Path(tempfile.mkdtemp(prefix=f"hostile-{cls.mode}-"))
        os.chmod(base, 0o755)
        try:
            yield _run_batch(base, cls.mode)
        finally:
            shutil.rmtree(base, ignore_errors=True)

    def test_the_batch_finishes_within_its_budget(self, batch):
        graded = batch["graded"]
        assert graded.returncode == 0, graded.stdout[-3000:] + graded.stderr[-3000:]
        assert batch["seconds"] < BATCH_LIMIT_S
        assert set(batch["rows"]) == set(batch["students"])

    def test_classmates_get_their_marks_and_attackers_nothing(self, batch):
        rows = batch["rows"]
        full = float(rows["classmate-correct"]["max_score"])
        assert full > 0
        assert float(rows["classmate-correct"]["score"]) == full, rows["classmate-correct"]
        assert float(rows["atk-10-scratch-writer"]["score"]) == full  # correct, and left answers
        assert float(rows["classmate-blank"]["score"]) == 0
        gained = {
            s: r["score"]
            for s, r in rows.items()
            if s.startswith("atk-") and s != "atk-10-scratch-writer" and float(r["score"]) > 0
        }
        assert not gained, gained

    def test_no_process_was_harmed_and_none_survives(self, batch):
        """A process of the grading code that is not one of this test run's own (a zygote of
        another test module) outlived the batch."""
        assert batch["canary_alive"], "an attacker killed a process of the grader's user"
        # this test run's own processes descend from it (from the controller under xdist)
        run_root = os.getppid() if os.environ.get("PYTEST_XDIST_WORKER") else os.getpid()
        survivors = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if CHILD_SCRIPT in cmdline and run_root not in _ancestors(int(pid)):
                survivors.append((pid, cmdline, _ancestors(int(pid))))
        assert not survivors, survivors

    def test_no_host_socket_was_reached_and_no_host_file_changed(self, batch):
        assert batch["connections"] == 0
        assert batch["after"] == batch["before"]
        assert batch["markers"] == []

    def test_results_and_feedback_hold_nothing_secret_and_stay_small(self, batch):
        checks = (CHECKS_DIR / f"test_{ASSIGNMENT}.py").read_text()
        secrets = [
            "def test_accumulated_gradient_equals_batch_gradient",
            "batching.accumulated_gradient(",
        ]
        solution_lines = [
            line.strip()
            for cell in json.loads(batch["source_text"])["cells"]
            if "### BEGIN SOLUTION" in "".join(cell["source"])
            for line in "".join(cell["source"]).split("### BEGIN SOLUTION")[1].splitlines()
            if len(line.strip()) > 30 and line.strip() not in batch["release_text"]
        ]
        assert all(s in checks for s in secrets) and solution_lines
        course = batch["course"]
        for folder in ("grading", "feedback"):
            for path in (course / folder).rglob("*"):
                if (
                    not path.is_file()
                    or "classmate-correct" in path.parts
                    or ("atk-10-scratch-writer" in path.parts)
                ):
                    continue
                assert path.stat().st_size < 2_000_000, path
                text = path.read_text(errors="replace")
                for secret in secrets + solution_lines:
                    assert secret not in text, (path, secret)
                assert "\x1b" not in text, path

    def test_statuses_agree_with_the_gradebook(self, batch):
        course = batch["course"]
        for student, row in batch["rows"].items():
            result = json.loads((course / "grading" / ASSIGNMENT / f"{student}.json").read_text())
            assert float(row["score"]) == pytest.approx(result["score"]), student
            assert row["status"] == result["status"], student
            if student in SPECIAL_FILES:
                assert result["status"] == "invalid-notebook", (student, result["message"])
            else:
                assert result["status"] != "grader-error", (student, result["message"])


class TestHostileBatchAsRoot(HostileBatch):
    mode = "root"


class TestHostileBatchAsUser(HostileBatch):
    mode = "user"
