"""JupyterLab and formgrader as ``make lab`` starts them, on a course that has no gradebook yet."""

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from autograder.demo import make_course
from autograder.nbgrader_bridge import alembic_head

pytestmark = pytest.mark.slow

TOKEN = "course-test-token"
SCRIPTS = Path(sys.executable).parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, timeout=60):
    request = urllib.request.Request(url, headers={"Authorization": f"token {TOKEN}"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status, response.read().decode()


def start_lab(root, tmp):
    """``jupyter lab`` as make lab runs it (the environment's own program, not activated:
    its bin/ is not on PATH), serving ``root``. Returns ``(process, base url)``."""
    port = free_port()
    env = dict(
        os.environ,
        PATH=os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if Path(p) != SCRIPTS),
        HOME=str(tmp),
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
        JUPYTER_CONFIG_DIR=str(tmp / "config"),
    )
    assert shutil.which("alembic", path=env["PATH"]) is None  # what make lab's PATH lacks
    log = (tmp / "lab.log").open("w")
    process = subprocess.Popen(
        [
            str(SCRIPTS / "jupyter"),
            "lab",
            "--no-browser",
            "--allow-root",
            "--ip=127.0.0.1",
            f"--port={port}",
            f"--IdentityProvider.token={TOKEN}",
            "--ServerApp.disable_check_xsrf=False",
        ],
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("jupyter lab exited:\n" + (tmp / "lab.log").read_text())
        try:
            get(f"{base}/api/status", timeout=5)
            return process, base
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    process.kill()
    raise RuntimeError("jupyter lab did not answer:\n" + (tmp / "lab.log").read_text())


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lab")
    course = make_course(tmp / "course")
    assert not (course.root / "gradebook.db").exists()
    process, base = start_lab(course.root, tmp)
    yield course, base, tmp
    os.killpg(process.pid, 15)
    process.wait(timeout=30)


def test_formgrader_works_on_a_new_course(lab):
    """Manage Students is formgrader's first page to open the gradebook: nbgrader creates
    gradebook.db there and stamps it with the output of the ``alembic`` program."""
    course, base, tmp = lab
    status, body = get(f"{base}/formgrader/api/students")
    assert status == 200 and json.loads(body) == [], body
    status, page = get(f"{base}/formgrader/manage_students")
    assert status == 200 and "Manage Students" in page
    with sqlite3.connect(course.root / "gradebook.db") as db:
        (version,) = db.execute("SELECT version_num FROM alembic_version").fetchone()
    assert version == alembic_head()
    assert "Traceback" not in (tmp / "lab.log").read_text()
