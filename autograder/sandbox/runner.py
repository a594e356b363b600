"""The grader's side of the child process that runs student code.

:class:`StudentProcess` starts ``child.py`` in a fresh interpreter, sends it requests
over a pair of pipes and decodes its answers as plain data. A request that does not
answer before its timeout, or a child that dies, ends that child; the caller decides
whether to start a new one (see :meth:`StudentProcess.restart`).
"""

import os
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograder.sandbox import codec

CHILD_SCRIPT = Path(__file__).with_name("child.py")
BLOCKED_PACKAGES = ("course_utils", "autograder")


class StudentCodeError(Exception):
    """Student code raised, or the child could not send its value as plain data."""

    def __init__(self, error, where="", output=""):
        super().__init__(error + (f" ({where})" if where else ""))
        self.error, self.where, self.output = error, where, output


class ChildDied(Exception):
    """The child exited (os._exit, a crash) while answering; its status says how."""

    def __init__(self, status, detail):
        super().__init__(detail)
        self.status = status


@dataclass
class Answer:
    value: object
    output: str = ""


@dataclass
class StudentProcess:
    """A child interpreter that holds one student's notebook namespace."""

    sys_path: list = field(default_factory=lambda: [sysconfig.get_paths()["purelib"]])
    blocked: tuple = BLOCKED_PACKAGES
    env: dict | None = None

    def __post_init__(self):
        self._proc = None
        self._workdir = None

    def start(self):
        self._workdir = tempfile.TemporaryDirectory(prefix="grade-")
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": self._workdir.name,
            "MPLBACKEND": "Agg",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "LANG": "C.UTF-8",
        }
        env.update(self.env or {})
        self._proc = subprocess.Popen(
            [sys.executable, "-I", "-S", str(CHILD_SCRIPT), str(req_r), str(resp_w)],
            pass_fds=(req_r, resp_w),
            cwd=self._workdir.name,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        os.close(req_r)
        os.close(resp_w)
        self._req, self._resp = req_w, resp_r
        self.request({"op": "init", "sys_path": self.sys_path, "blocked": list(self.blocked)})
        return self

    @property
    def alive(self):
        return self._proc is not None and self._proc.poll() is None

    def request(self, message, timeout=30.0):
        """Send one request and return its :class:`Answer`.

        Raises StudentCodeError when student code raised, TimeoutError when no answer
        came in ``timeout`` seconds (the child is then stopped), and ChildDied when the
        child exited.
        """
        if not self.alive:
            raise ChildDied("not-running", "the student process is not running")
        deadline = time.monotonic() + timeout
        try:
            codec.write_message(self._req, message)
            answer = codec.read_message(self._resp, deadline)
        except TimeoutError:
            self.stop()
            raise TimeoutError(f"no answer within {timeout:g} s") from None
        except (EOFError, BrokenPipeError):
            code = self._proc.wait(timeout=5)
            self.stop()
            raise ChildDied("crashed", f"the student process exited with code {code}") from None
        except codec.CodecError as exc:
            self.stop()
            raise ChildDied("garbled", f"the student process sent garbage: {exc}") from None
        if not isinstance(answer, dict) or not isinstance(answer.get("ok"), bool):
            self.stop()
            raise ChildDied("garbled", "the student process sent an answer of the wrong form")
        output = answer.get("output") if isinstance(answer.get("output"), str) else ""
        if not answer["ok"]:
            raise StudentCodeError(str(answer.get("error")), str(answer.get("where", "")), output)
        return Answer(answer.get("value"), output)

    def exec_cell(self, cell_id, source, timeout=30.0):
        return self.request({"op": "exec", "cell_id": cell_id, "source": source}, timeout)

    def call(self, name, *args, timeout=30.0, **kwargs):
        message = {"op": "call", "name": name, "args": list(args), "kwargs": kwargs}
        return self.request(message, timeout).value

    def run(self, code, timeout=30.0, **inputs):
        return self.request({"op": "run", "code": code, "inputs": inputs}, timeout).value

    def names(self):
        return self.request({"op": "names"}).value

    def stop(self):
        if self._proc is not None:
            if self._proc.poll() is None:
                try:
                    os.killpg(self._proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self._proc.wait()
            for fd in (self._req, self._resp):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self._proc = None
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()
