"""The grader's side of the processes that run student code.

There is one way to create one: a :class:`Zygote` (the only process this module
starts) imports numpy, matplotlib and torch once, before any student code exists, and
:meth:`Zygote.spawn` forks it into a :class:`StudentProcess` that holds one notebook's
namespace. Each fork isolates itself before it answers (see
:mod:`autograder.sandbox.isolate`): its own user, PID, mount, network, IPC and UTS
namespaces, an allow-listed read-only file system, a private /tmp, no capabilities,
and the :class:`Limits`. :func:`start_student` is a zygote with one child, for a single
notebook.

Requests go over a pair of pipes and answers are decoded as plain data; every text in
an answer is bounded and cleaned here (:func:`autograder.text.clean_text`). A request
that does not answer before its timeout, an answer over the output limit, or a child
that dies, ends that child; the caller decides whether to start a new one.
"""

import importlib.util
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from autograder.sandbox import codec
from autograder.text import clean_text

SANDBOX_DIR = os.path.dirname(os.path.abspath(__file__))
CHILD_SCRIPT = os.path.join(SANDBOX_DIR, "child.py")
SANDBOX_MODES = ("auto", "none")
NO_SANDBOX_WARNING = (
    "warning: --sandbox none: student code runs without isolation and can read the hidden "
    "checks, the reference solutions and other submissions, and reach the network"
)
BLOCKED_PACKAGES = ("course_utils", "autograder")
PRELOAD = (
    "numpy",
    "matplotlib",
    "matplotlib.pyplot",
    "torch",
    "IPython.core.inputtransformer2",
)
SYSTEM_LIBRARIES = ("/lib", "/lib64", "/usr/lib", "/usr/lib64")
OUTPUT_CHARS = 20_200  # printed output kept per request (the child keeps 20,000 and a note)
ERROR_CHARS = 2_000  # an error message kept per request
MIB = 1 << 20


class StudentCodeError(Exception):
    """Student code raised, or the child could not send its value as plain data."""

    def __init__(self, error, where="", output=""):
        super().__init__(error + (f" ({where})" if where else ""))
        self.error, self.where, self.output = error, where, output

    @property
    def limit(self):
        """The limit the error shows student code ran into ("memory", "processes"), or None."""
        if self.error.startswith("MemoryError"):
            return "memory"
        if self.error.startswith("BlockingIOError: [Errno 11]") or "new thread" in self.error:
            return "processes"
        return None


class ChildDied(Exception):
    """The child exited, was killed or broke the channel; ``status`` says how:
    ``crashed``, ``garbled``, ``output`` (an answer over the limit) or ``cpu``."""

    def __init__(self, status, detail):
        super().__init__(detail)
        self.status = status


class SandboxUnavailable(RuntimeError):
    """The kernel refused to create the sandbox; grading cannot start."""


@dataclass(frozen=True)
class Limits:
    """What one student process may use; each is enforced by the kernel (rlimits, a
    sized tmpfs) or by this side (``output``), never by a variable in the child.

    - ``memory``: bytes of private memory per process (RLIMIT_DATA), default 2 GiB;
    - ``processes``: processes and threads of the submission (RLIMIT_NPROC, counted in
      its own user namespace), default 64;
    - ``scratch``: bytes of /tmp, the only writable place, default 256 MiB;
    - ``cpu``: CPU seconds per process (RLIMIT_CPU), default 600;
    - ``output``: bytes of one answer the grader reads, default 16 MiB.
    """

    memory: int = 2048 * MIB
    processes: int = 64
    scratch: int = 256 * MIB
    cpu: int = 600
    output: int = 16 * MIB

    def __post_init__(self):
        for name, value in asdict(self).items():
            if type(value) is not int or value <= 0:
                raise ValueError(f"limit {name} must be a positive integer, got {value!r}")
        if self.processes < 4:
            raise ValueError(f"limit processes must be at least 4, got {self.processes}")


@dataclass
class Answer:
    value: object
    output: str = ""


STUDENT_PACKAGES = ("course_helpers",)


def default_sys_path():
    """Where student code may import packages from: the installed ones (not the course's
    own) and the folder of the students' helpers, which holds nothing else (``student/`` of
    a checkout; site-packages when the course is installed)."""
    paths = sysconfig.get_paths()
    entries = [paths["purelib"], paths["platlib"]]
    for package in STUDENT_PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.origin:
            entries.append(os.path.dirname(os.path.dirname(spec.origin)))
    return list(dict.fromkeys(entries))


def resolve_sandbox(mode):
    """``"auto"`` (the namespace sandbox) or ``"none"`` (no isolation, with a warning)."""
    if mode not in SANDBOX_MODES:
        raise ValueError(f"Invalid sandbox: {mode!r} (sandbox must be one of {SANDBOX_MODES})")
    return mode


UNAVAILABLE_HELP = (
    "the sandbox for student code could not be created: {error}. It needs Linux user "
    "namespaces (or a grader running as root): enable them with "
    "`sysctl -w kernel.unprivileged_userns_clone=1` (Debian), "
    "`sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` (Ubuntu 24.04) or "
    "`sysctl -w user.max_user_namespaces=15000`; in a container allow unshare and mount "
    "(e.g. docker run --security-opt seccomp=unconfined --cap-add SYS_ADMIN). To grade "
    "without any isolation, pass --sandbox none"
)


def sandbox_policy(sys_path, blocked, root, limits):
    """What a sandboxed child may see: the Python installation, the import path, this
    package's sandbox code and the system libraries, read-only, minus the blocked
    packages where an import path holds them; ``root`` is the empty mount point."""
    stdlib = sysconfig.get_paths(vars={"base": sys.base_prefix, "platbase": sys.base_prefix})
    expose = [stdlib["stdlib"], stdlib["platstdlib"], *sys_path, SANDBOX_DIR]
    if os.path.realpath(sys.base_prefix) not in ("/", "/usr"):
        expose.append(sys.base_prefix)
    expose += [os.path.join(sys.base_prefix, "lib"), *SYSTEM_LIBRARIES]
    mask = [
        os.path.join(entry, package)
        for entry in sys_path
        for package in blocked
        if os.path.isdir(os.path.join(entry, package))
    ]
    existing = [p for p in dict.fromkeys(expose) if os.path.isdir(p)]
    return {"root": root, "expose": existing, "mask": mask, "limits": asdict(limits)}


def memory_cgroup_parent():
    """The cgroup-v1 memory directory of this process when sub-cgroups can be made there
    (normally only as root), else None: then memory is limited per process only."""
    if os.geteuid() != 0:
        return None
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
        mounts = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return None
    own = [line.split(":", 2)[2] for line in lines if "memory" in line.split(":")[1].split(",")]
    for line in mounts:
        fields = line.split()
        tail = fields[fields.index("-") + 1 :]
        if own and tail[0] == "cgroup" and "memory" in tail[2].split(","):
            root, point = fields[3], fields[4]
            if not own[0].startswith(root):
                continue
            parent = os.path.join(point, own[0][len(root) :].lstrip("/"))
            probe = os.path.join(parent, f"grade-probe-{os.getpid()}")
            try:
                os.mkdir(probe)
                os.rmdir(probe)
            except OSError:
                return None
            return parent
    return None


def _remove_cgroup(path, timeout=2.0):
    """Remove a submission's cgroup once its last process is gone."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            if time.monotonic() > deadline:
                return
            time.sleep(0.01)


def child_environment(home):
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": home,
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": os.path.join(home, "mpl"),
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "LANG": "C.UTF-8",
    }


def _kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _kill_tree(pid):
    """Kill ``pid`` and its children: the supervisor and the init of the sandbox's PID
    namespace, which takes everything in the namespace with it, whatever the student did
    to the init's parent-death signal."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    for child in children:
        _kill(int(child))
    _kill(pid)


def _gone(pid, timeout=5.0):
    """Wait until ``pid`` (reaped by the kernel) no longer exists."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        time.sleep(0.005)
    return False


class StudentProcess:
    """One notebook's child process (made by :meth:`Zygote.spawn`)."""

    def __init__(self, pid, req_fd, resp_fd, status_fd, limits, owner=None, cgroup=None):
        self._pid, self._req, self._resp, self._status = pid, req_fd, resp_fd, status_fd
        self.limits = limits
        self._owner = owner  # a zygote this child alone uses, closed with it
        self._cgroup_parent = cgroup  # where the child makes its memory cgroup, if anywhere

    @property
    def _cgroup(self):
        if self._cgroup_parent is None or self._pid is None:
            return None
        return os.path.join(self._cgroup_parent, f"grade-{self._pid}")

    def _out_of_memory(self):
        """True when the kernel killed a process of the submission for its memory cgroup."""
        if self._cgroup is None:
            return False
        try:
            control = Path(self._cgroup, "memory.oom_control").read_text()
        except OSError:
            return False
        counts = dict(line.split() for line in control.splitlines() if len(line.split()) == 2)
        return int(counts.get("oom_kill", 0)) > 0

    @property
    def alive(self):
        if self._pid is None:
            return False
        try:  # forked by a zygote, which lets the kernel reap it
            os.kill(self._pid, 0)
            return True
        except ProcessLookupError:
            return False

    def _ending(self):
        """How the child ended, as the supervisor reported it ("signal 24", "exit 0")."""
        if self._status is None:
            return ""
        deadline = time.monotonic() + 2.0
        try:
            return codec.read_line(self._status, deadline, limit=64)
        except (TimeoutError, EOFError, codec.CodecError, OSError):
            return ""

    def _died(self):
        ending = self._ending()
        out_of_memory = self._out_of_memory()
        self.stop()
        if out_of_memory:
            memory = self.limits.memory // MIB
            return ChildDied("memory", f"the submission used more than its {memory} MiB of memory")
        if ending == f"signal {int(signal.SIGXCPU)}":
            return ChildDied("cpu", f"the student process used its {self.limits.cpu} s of CPU")
        detail = "the student process exited"
        if ending.startswith("signal "):
            detail = f"the student process was killed by signal {ending.split()[1]}"
        elif ending.startswith("exit "):
            detail = f"the student process exited with code {ending.split()[1]}"
        return ChildDied("crashed", detail)

    def read_answer(self, deadline, request_id=None):
        """Read one answer, bounded by the output limit, that answers ``request_id``;
        raises as :meth:`request`."""
        try:
            answer = codec.read_message(self._resp, deadline, limit=self.limits.output)
        except TimeoutError:
            self.stop()
            raise
        except EOFError:
            raise self._died() from None
        except codec.TooLarge as exc:
            self.stop()
            raise ChildDied("output", f"the student process sent {exc}") from None
        except codec.CodecError as exc:
            self.stop()
            raise ChildDied("garbled", f"the student process sent garbage: {exc}") from None
        if not isinstance(answer, dict) or not isinstance(answer.get("ok"), bool):
            self.stop()
            raise ChildDied("garbled", "the student process sent an answer of the wrong form")
        if request_id is not None and answer.get("id") != request_id:
            self.stop()
            raise ChildDied("garbled", "the student process sent an answer to another request")
        return answer

    def request(self, message, timeout=30.0):
        """Send one request and return its :class:`Answer`.

        Raises StudentCodeError when student code raised, TimeoutError when no answer
        came in ``timeout`` seconds (the child is then stopped), and ChildDied when the
        child exited or broke the channel.
        """
        if not self.alive:
            raise ChildDied("not-running", "the student process is not running")
        deadline = time.monotonic() + timeout
        request_id = secrets.token_hex(16)
        message = {**message, "id": request_id}
        try:
            codec.write_message(self._req, message, deadline=deadline)
        except TimeoutError:
            self.stop()
            raise TimeoutError(f"no answer within {timeout:g} s") from None
        except BrokenPipeError:
            raise self._died() from None
        try:
            answer = self.read_answer(deadline, request_id)
        except TimeoutError:
            raise TimeoutError(f"no answer within {timeout:g} s") from None
        output = clean_text(answer.get("output"), OUTPUT_CHARS)
        if not answer["ok"]:
            raise StudentCodeError(
                clean_text(answer.get("error"), ERROR_CHARS),
                clean_text(answer.get("where"), 200),
                output,
            )
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
        """Kill the child; with it goes everything in its PID namespace."""
        if self._pid is not None:
            cgroup = self._cgroup
            _kill_tree(self._pid)
            _gone(self._pid)
            if cgroup is not None:
                _remove_cgroup(cgroup)
            self._pid = None
        for fd in (self._req, self._resp, self._status):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._req = self._resp = self._status = None
        if self._owner is not None:
            self._owner.close()
            self._owner = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()


class Zygote:
    """A preloaded interpreter that forks a fresh, isolated child for each notebook.

    Grading a batch would otherwise spend most of each notebook's time starting Python
    and importing numpy, matplotlib and torch. The zygote imports them once and runs no
    student code; each :meth:`spawn` forks it, and the fork isolates itself in
    namespaces of its own, so a child can see or signal neither the zygote, nor the
    grader, nor another submission. A zygote that stopped answering is replaced.

    ``sandbox="none"`` forks children without isolation (only memory, CPU and file-size
    limits): for the reference solutions, and for machines where namespaces are refused
    (the command line warns).
    """

    SPAWN_TIMEOUT = 20.0
    START_TIMEOUT = 120.0

    def __init__(
        self,
        preload=PRELOAD,
        sys_path=None,
        blocked=BLOCKED_PACKAGES,
        sandbox="auto",
        limits=None,
    ):
        self.preload = tuple(preload)
        self.sys_path = default_sys_path() if sys_path is None else list(sys_path)
        self.blocked = tuple(blocked)
        self.sandbox = resolve_sandbox(sandbox)
        self.limits = limits if limits is not None else Limits()
        self._home = tempfile.TemporaryDirectory(prefix="grade-zygote-")
        root = os.path.join(self._home.name, "root")
        os.mkdir(root)
        self._policy = None
        if self.sandbox == "auto":
            self._policy = sandbox_policy(self.sys_path, self.blocked, root, self.limits)
            self._policy["cgroup"] = memory_cgroup_parent()
        self._popen = self._control = None
        self._launch()

    def _launch(self):
        self._control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self._popen = subprocess.Popen(
            [sys.executable, "-I", "-S", CHILD_SCRIPT, str(theirs.fileno())],
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
            "sys_path": self.sys_path,
            "blocked": list(self.blocked),
            "preload": list(self.preload),
            "policy": self._policy,
            "limits": asdict(self.limits),
        }
        self._control.sendall(json.dumps(setup).encode() + b"\n")
        self._ready = False

    def _kill(self):
        if self._control is not None:
            self._control.close()
            self._control = None
        if self._popen is not None:
            _kill(self._popen.pid)
            self._popen.wait()
            self._popen = None

    def _read_line(self, timeout):
        self._control.settimeout(timeout)
        data = b""
        while not data.endswith(b"\n"):
            chunk = self._control.recv(4096)
            if not chunk:
                raise ChildDied("crashed", "the zygote process exited")
            data += chunk
            if len(data) > 4096:
                raise ChildDied("garbled", "the zygote sent too much")
        return data.decode()

    def _fork(self):
        if not self._ready:
            if self._read_line(self.START_TIMEOUT).strip() != "ready":
                raise ChildDied("garbled", "the zygote did not start")
            self._ready = True
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        status_r, status_w = os.pipe()
        os.set_blocking(req_w, False)
        cgroup = self._policy.get("cgroup") if self._policy else None
        child = StudentProcess(None, req_w, resp_r, status_r, self.limits, cgroup=cgroup)
        try:
            socket.send_fds(self._control, [b"fork"], [req_r, resp_w, status_w])
            child._pid = int(json.loads(self._read_line(self.SPAWN_TIMEOUT))["pid"])
        except BaseException:
            child.stop()
            raise
        finally:
            for fd in (req_r, resp_w, status_w):
                os.close(fd)
        return child

    def _await_ready(self, child):
        try:
            answer = child.read_answer(time.monotonic() + self.SPAWN_TIMEOUT)
        except (TimeoutError, ChildDied) as exc:
            child.stop()
            raise ChildDied("crashed", f"the student process did not start: {exc}") from None
        if not answer["ok"]:
            child.stop()
            error = clean_text(answer.get("error"), ERROR_CHARS)
            raise SandboxUnavailable(UNAVAILABLE_HELP.format(error=error))
        return child

    def spawn(self):
        """A new child forked from the zygote, isolated and ready for ``exec_cell``.

        Raises SandboxUnavailable when the kernel refuses the sandbox.
        """
        try:
            child = self._fork()
        except (OSError, ValueError, KeyError, ChildDied):
            self._kill()  # killed, stopped or confused: start afresh
            self._launch()
            try:
                child = self._fork()
            except (OSError, ValueError, KeyError) as exc:
                raise ChildDied("crashed", f"the zygote could not fork a child: {exc}") from None
        return self._await_ready(child)

    def close(self):
        self._kill()
        self._home.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def start_student(**options):
    """A child of its own zygote (``options`` as for :class:`Zygote`), for one notebook;
    stopping the child closes the zygote."""
    zygote = Zygote(**options)
    try:
        child = zygote.spawn()
    except BaseException:
        zygote.close()
        raise
    child._owner = zygote
    return child
