"""The grader's side of the child process that runs student code.

:class:`StudentProcess` is one child interpreter holding one notebook's namespace. It
is started fresh (``StudentProcess(...).start()``) or forked by a :class:`Zygote` that
has already imported numpy, matplotlib and torch, which makes grading a batch several
times faster. Requests go over a pair of pipes and answers are decoded as plain data. A
request that does not answer before its timeout, or a child that dies, ends that child;
the caller decides whether to start a new one.
"""

import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass

from autograder.sandbox import codec

SANDBOX_DIR = os.path.dirname(os.path.abspath(__file__))
CHILD_SCRIPT = os.path.join(SANDBOX_DIR, "child.py")
CHECKOUT = os.path.dirname(os.path.dirname(SANDBOX_DIR))
SANDBOX_MODES = ("auto", "bwrap", "none")
BLOCKED_PACKAGES = ("course_utils", "autograder")
PRELOAD = ("numpy", "matplotlib", "matplotlib.pyplot", "torch")


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


def default_sys_path():
    """Where student code may import installed packages from (not the course's own)."""
    return [sysconfig.get_paths()["purelib"]]


@functools.cache
def bwrap_works():
    """True when bubblewrap is installed and can make a mount namespace here."""
    exe = shutil.which("bwrap")
    if exe is None:
        return False
    try:
        probe = [exe, "--ro-bind", "/", "/", "--unshare-net", "--die-with-parent", "true"]
        return subprocess.run(probe, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def resolve_sandbox(mode):
    """``"auto"`` is ``"bwrap"`` where bubblewrap works, else ``"none"``."""
    if mode not in SANDBOX_MODES:
        raise ValueError(f"Invalid sandbox: {mode!r} (sandbox must be one of {SANDBOX_MODES})")
    if mode == "auto":
        return "bwrap" if bwrap_works() else "none"
    if mode == "bwrap" and not bwrap_works():
        raise RuntimeError(
            "sandbox 'bwrap' was asked for but bubblewrap is not installed or cannot run here: "
            "install it (Debian/Ubuntu: apt-get install bubblewrap) or pass --sandbox none"
        )
    return mode


def hidden_paths(extra=()):
    """What student code must not see: this checkout (hidden checks, reference solutions,
    samples), the home directory, the temporary directory and ``extra`` (the course
    directory with its submissions and gradebook). Only existing directories."""
    paths = [CHECKOUT, os.path.expanduser("~"), tempfile.gettempdir(), *map(str, extra)]
    found = []
    for path in paths:
        path = os.path.realpath(path)
        if os.path.isdir(path) and path != "/" and path not in found:
            found.append(path)
    return found


def command(argv, *, mode, sys_path, workspace, hidden=()):
    """``argv`` (``[python, ...]``) as run in ``mode``: unchanged, or inside bubblewrap.

    Under bubblewrap the file system is the host's, read-only, with :func:`hidden_paths`
    replaced by empty directories; the Python installation, ``sys_path``, this package's
    sandbox code and the writable ``workspace`` (the child's home and working directories)
    are mounted back. There is no network (a new network namespace) and no shared IPC.
    """
    if mode == "none":
        return argv
    python = os.path.realpath(argv[0])
    cmd = ["bwrap", "--die-with-parent", "--unshare-net", "--unshare-ipc"]
    cmd += ["--ro-bind", "/", "/", "--dev", "/dev"]
    for path in hidden_paths(hidden):
        cmd += ["--tmpfs", path]
    exposed = [sys.base_prefix, os.path.dirname(python), *sys_path, SANDBOX_DIR]
    for path in dict.fromkeys(os.path.realpath(p) for p in exposed if os.path.exists(p)):
        cmd += ["--ro-bind", path, path]
    cmd += ["--bind", workspace, workspace]
    return cmd + [python, *argv[1:]]


def child_environment(home, extra=None):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": home,
        "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "LANG": "C.UTF-8",
    }
    env.update(extra or {})
    return env


def _kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class StudentProcess:
    """A child interpreter that holds one student's notebook namespace."""

    def __init__(
        self, sys_path=None, blocked=BLOCKED_PACKAGES, env=None, sandbox="auto", hidden=()
    ):
        self.sys_path = default_sys_path() if sys_path is None else list(sys_path)
        self.blocked = tuple(blocked)
        self.env = env
        self.sandbox = resolve_sandbox(sandbox)
        self.hidden = tuple(hidden)
        self._popen = None
        self._pid = None
        self._workdir = None
        self._req = self._resp = None

    def start(self):
        """Start a fresh interpreter for this child."""
        self._workdir = tempfile.TemporaryDirectory(prefix="grade-")
        req_r, self._req = os.pipe()
        self._resp, resp_w = os.pipe()
        argv = [sys.executable, "-I", "-S", CHILD_SCRIPT, str(req_r), str(resp_w)]
        self._popen = subprocess.Popen(
            command(
                argv,
                mode=self.sandbox,
                sys_path=self.sys_path,
                workspace=self._workdir.name,
                hidden=self.hidden,
            ),
            pass_fds=(req_r, resp_w),
            cwd=self._workdir.name,
            env=child_environment(self._workdir.name, self.env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._pid = self._popen.pid
        os.close(req_r)
        os.close(resp_w)
        os.set_blocking(self._req, False)
        self.request({"op": "init", "sys_path": self.sys_path, "blocked": list(self.blocked)})
        return self

    @property
    def alive(self):
        if self._pid is None:
            return False
        if self._popen is not None:
            return self._popen.poll() is None
        try:  # forked by a zygote, which lets the kernel reap it
            os.kill(self._pid, 0)
            return True
        except ProcessLookupError:
            return False

    def _exit_detail(self):
        if self._popen is not None:
            try:
                return f"the student process exited with code {self._popen.wait(timeout=5)}"
            except subprocess.TimeoutExpired:
                pass
        return "the student process exited"

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
            codec.write_message(self._req, message, deadline=deadline)
            answer = codec.read_message(self._resp, deadline)
        except TimeoutError:
            self.stop()
            raise TimeoutError(f"no answer within {timeout:g} s") from None
        except (EOFError, BrokenPipeError):
            detail = self._exit_detail()
            self.stop()
            raise ChildDied("crashed", detail) from None
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

    def names(self, timeout=30.0):
        return self.request({"op": "names"}, timeout).value

    def stop(self):
        if self._pid is not None:
            _kill_group(self._pid)
            if self._popen is not None:
                self._popen.wait()
            self._pid = self._popen = None
        for fd in (self._req, self._resp):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._req = self._resp = None
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


class Zygote:
    """A preloaded interpreter that forks a fresh child for each notebook.

    Grading a batch would otherwise spend most of each notebook's time starting Python
    and importing numpy, matplotlib and torch. The zygote imports them once, before any
    student code exists; each :meth:`spawn` forks it, so every notebook still gets a
    child of its own with nothing from another submission in it. Children are the
    zygote's, never the grader's; a zygote that a submission killed or stopped is
    replaced by a new one.
    """

    SPAWN_TIMEOUT = 10.0
    START_TIMEOUT = 120.0

    def __init__(
        self, preload=PRELOAD, sys_path=None, blocked=BLOCKED_PACKAGES, sandbox="auto", hidden=()
    ):
        self.preload = tuple(preload)
        self.sys_path = default_sys_path() if sys_path is None else list(sys_path)
        self.blocked = tuple(blocked)
        self.sandbox = resolve_sandbox(sandbox)
        self.hidden = tuple(hidden)
        self._home = tempfile.TemporaryDirectory(prefix="grade-zygote-")
        self._workspace = os.path.join(self._home.name, "work")
        os.mkdir(self._workspace)
        self._popen = self._control = None
        self._launch()

    def _launch(self):
        self._control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        argv = [sys.executable, "-I", "-S", CHILD_SCRIPT, "--zygote", str(theirs.fileno())]
        self._popen = subprocess.Popen(
            command(
                argv,
                mode=self.sandbox,
                sys_path=self.sys_path,
                workspace=self._home.name,
                hidden=self.hidden,
            ),
            pass_fds=(theirs.fileno(),),
            cwd=self._home.name,
            env=child_environment(self._home.name),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        theirs.close()
        setup = {
            "init": {"sys_path": self.sys_path, "blocked": list(self.blocked)},
            "preload": list(self.preload),
        }
        self._control.sendall(json.dumps(setup).encode())
        self._ready = False

    def _kill(self):
        if self._control is not None:
            self._control.close()
        if self._popen is not None:
            _kill_group(self._popen.pid)
            self._popen.wait()

    def _read_line(self, timeout):
        self._control.settimeout(timeout)
        data = b""
        while not data.endswith(b"\n"):
            chunk = self._control.recv(4096)
            if not chunk:
                raise ChildDied("crashed", "the zygote process exited")
            data += chunk
        return data.decode()

    def _fork(self):
        if not self._ready:
            if self._read_line(self.START_TIMEOUT).strip() != "ready":
                raise ChildDied("garbled", "the zygote did not start")
            self._ready = True
        child = StudentProcess(self.sys_path, self.blocked, sandbox="none")
        child._workdir = tempfile.TemporaryDirectory(prefix="grade-", dir=self._workspace)
        req_r, child._req = os.pipe()
        child._resp, resp_w = os.pipe()
        os.set_blocking(child._req, False)
        try:
            message = json.dumps({"workdir": child._workdir.name}).encode()
            socket.send_fds(self._control, [message], [req_r, resp_w])
            child._pid = int(json.loads(self._read_line(self.SPAWN_TIMEOUT))["pid"])
        except BaseException:
            child.stop()
            raise
        finally:
            os.close(req_r)
            os.close(resp_w)
        return child

    def spawn(self):
        """A new child forked from the zygote, ready for ``exec_cell``."""
        try:
            return self._fork()
        except (OSError, ValueError, KeyError, ChildDied):
            self._kill()  # killed, stopped or confused by a submission: start afresh
            self._launch()
            return self._fork()

    def close(self):
        self._kill()
        self._home.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
