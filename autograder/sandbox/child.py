"""The process that runs untrusted student code for the grader.

Started by :class:`autograder.sandbox.runner.Zygote` as ``python -I -S child.py
SOCKET_FD``: isolated mode, no ``site`` (so no ``.pth`` file, editable install or user
path is active), and only this directory on ``sys.path`` until the setup message says
which package directories student code may import from. That process is the zygote
(see :func:`zygote`): it imports the heavy modules once, before any student code
exists, and forks one child per notebook, which isolates itself
(:func:`isolate.isolate`) before it says it is ready.

A child answers one request at a time on its own pipes, never on stdout or stderr,
which are captured (bounded) so that printing cannot corrupt the channel. It reports
values and errors only; every pass/fail decision is made by the grader, which also
bounds and cleans every text it receives.

Requests (dicts):

- ``{"op": "exec", "cell_id": ID, "source": CODE}``: turn one notebook cell's IPython
  syntax into Python (here, inside the sandbox and under the cell's timeout) and run it
  in the student namespace;
- ``{"op": "call", "name": NAME, "args": [...], "kwargs": {...}}``: call a function the
  notebook defined and send back its result;
- ``{"op": "run", "code": CODE, "inputs": {...}}``: run a driver snippet in a copy of
  the namespace with ``inputs`` bound, and send back its variable ``result``. Driver
  snippets are public by design: student code can read them, so they hold only calls
  of the student's functions on the inputs, never an expected value or a verdict;
- ``{"op": "names"}``: the names the notebook defined.

Answers: ``{"ok": true, "value": ..., "output": TEXT, "id": ID}`` or
``{"ok": false, "error": "Type: message", "where": "cell 01.2, line 3", "output": TEXT,
"id": ID}``, where ID is the request's own random id: an answer written ahead of time
for a later request cannot carry the right one.
A forked child first sends ``{"ok": true, "value": "ready"}``, or an error when its
sandbox could not be set up.
"""

import importlib.abc
import io
import json
import os
import signal
import socket
import sys
import tempfile
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import codec  # noqa: E402
import isolate  # noqa: E402

OUTPUT_LIMIT = 20_000
MESSAGE_LIMIT = 2_000


class BoundedOutput:
    """A text stream that keeps the first OUTPUT_LIMIT characters and counts the rest."""

    def __init__(self):
        self.parts = []
        self.size = 0
        self.dropped = 0

    def write(self, text):
        text = str(text)
        room = OUTPUT_LIMIT - self.size
        if room > 0:
            self.parts.append(text[:room])
        self.size += min(len(text), max(room, 0))
        self.dropped += max(len(text) - max(room, 0), 0)
        return len(text)

    encoding = "utf-8"
    errors = "backslashreplace"

    def flush(self):
        pass

    def close(self):
        pass

    def isatty(self):
        return False

    def writable(self):
        return True

    def readable(self):
        return False

    def fileno(self):
        raise io.UnsupportedOperation("grading output has no file descriptor")

    def take(self):
        text = "".join(self.parts)
        if self.dropped:
            text += f"\n[... {self.dropped} more characters of output not kept]"
        self.parts, self.size, self.dropped = [], 0, 0
        return text


class BlockImports(importlib.abc.MetaPathFinder):
    """Refuse imports of the reference solutions and the grader from student code."""

    def __init__(self, blocked):
        self.blocked = frozenset(blocked)

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in self.blocked:
            raise ImportError(
                f"{fullname} is not available while your notebook is graded: it holds the "
                "reference solutions, not part of the notebook. Answer cells may import the "
                "standard library, numpy, and where the notebook's rules say so torch and "
                "matplotlib; experiment cells may also use course_helpers, which comes with "
                "the notebook."
            )
        return None


class _IPythonStandIn:
    """What ``get_ipython()`` returns in the grader: magics and shell commands do nothing.

    Cell magics that only time or capture their body (``%%time``, ``%%capture``, ...)
    still run the body, so definitions inside them are graded, and so does the line
    magic ``%time``: ``%time x = f()`` assigns ``x`` and ``y = %time f()`` gets the value,
    as in IPython.
    """

    BODY_MAGICS = {"time", "timeit", "capture", "prun"}

    def __init__(self, namespace):
        self.namespace = namespace
        self.user_ns = namespace

    def run_line_magic(self, name, line, *args, **kwargs):
        if name != "time" or not line.strip():
            return None
        try:
            code = compile(line, "<line magic>", "eval")
        except SyntaxError:
            exec(compile(line, "<line magic>", "exec"), self.namespace)
            return None
        return eval(code, self.namespace)

    def run_cell_magic(self, name, line, body):
        if name in self.BODY_MAGICS:
            exec(compile(body, "<cell magic>", "exec"), self.namespace)
        return None

    def system(self, *args, **kwargs):
        return None

    getoutput = system

    def __getattr__(self, name):
        raise AttributeError(f"get_ipython().{name} is not available while grading")


def _display(*objects, **kwargs):
    """Jupyter's ``display`` built-in: shows nothing while grading."""
    return None


def _where(exc):
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith("<")]
    if not frames:
        return ""
    frame = frames[-1]
    return f"{frame.filename.strip('<>')}, line {frame.lineno}"


def _describe(exc):
    try:
        message = f"{type(exc).__name__}: {exc}"
    except Exception:  # an exception whose __str__ raises
        message = f"{type(exc).__name__} (its message could not be shown)"
    if len(message) > MESSAGE_LIMIT:
        message = message[:MESSAGE_LIMIT] + " [...]"
    return message


class Child:
    def __init__(self):
        self.namespace = {"__name__": "__main__", "__builtins__": __builtins__}
        self.namespace["get_ipython"] = lambda: _IPythonStandIn(self.namespace)
        self.namespace["display"] = _display
        self.output = BoundedOutput()

    def handle(self, request):
        op = request.get("op")
        if op == "exec":
            source = _python_of(request["source"])
            code = compile(source, f"<cell {request['cell_id']}>", "exec")
            exec(code, self.namespace)
            return None
        if op == "call":
            function = self.namespace.get(request["name"])
            if function is None:
                raise NameError(f"your notebook does not define {request['name']!r}")
            return function(*request.get("args", []), **request.get("kwargs", {}))
        if op == "run":
            scope = dict(self.namespace)
            scope.update(request.get("inputs", {}))
            exec(compile(request["code"], "<grader driver>", "exec"), scope)
            return scope.get("result")
        if op == "names":
            return sorted(k for k in self.namespace if not k.startswith("_"))
        raise ValueError(f"unknown request {op!r}")

    def serve(self, req_fd, resp_fd):
        while True:
            try:
                request = codec.read_message(req_fd)
            except EOFError:
                return
            sys.stdout = sys.stderr = self.output
            try:
                value = self.handle(request)
                answer = {"ok": True, "value": codec.to_plain(value)}
            except BaseException as exc:  # student code may raise anything, SystemExit too
                answer = {"ok": False, "error": _describe(exc), "where": _where(exc)}
            finally:
                sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
            answer["output"] = self.output.take()
            answer["id"] = request.get("id")
            codec.write_message(resp_fd, answer, already_plain=True)


def _python_of(source):
    """A cell's IPython syntax (magics, ``!shell``) as plain Python."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:
        return source
    return TransformerManager().transform_cell(source)


def _quiet_standard_streams():
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)


def _close_other_fds(keep):
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def _receive_setup(control):
    data = b""
    while not data.endswith(b"\n"):
        chunk = control.recv(1 << 16)
        if not chunk:
            raise EOFError("the grader closed the control socket")
        data += chunk
    return json.loads(data.decode())


def _start_child(control, fds, setup):
    """In a freshly forked child: isolate, say ready, serve one notebook, exit."""
    control.close()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.setsid()
    req_fd, resp_fd, status_fd = fds
    _close_other_fds({req_fd, resp_fd, status_fd})
    try:
        if setup["policy"] is not None:
            isolate.isolate(setup["policy"], status_fd)
        else:
            os.close(status_fd)
            isolate._prctl(isolate.PR_SET_PDEATHSIG, signal.SIGKILL, "parent-death signal")
            isolate.set_limits(setup["limits"], unshared=False)
            os.chdir(tempfile.mkdtemp(prefix="child-", dir=os.getcwd()))
    except Exception as exc:
        failure = {"ok": False, "error": f"{type(exc).__name__}: {exc}", "setup": True}
        codec.write_message(resp_fd, failure, already_plain=True)
        os._exit(70)
    codec.write_message(resp_fd, {"ok": True, "value": "ready"}, already_plain=True)
    Child().serve(req_fd, resp_fd)
    os._exit(0)


def zygote(control_fd):
    """Serve fork requests: each fork becomes a fresh, isolated child for one notebook.

    The setup message (one JSON line) gives the import path, the blocked packages, the
    modules to preload, the sandbox policy (None without a sandbox) and the limits. Each
    request carries the child's three pipe ends (request, answer, status), passed over
    the Unix socket; the answer is the child's pid. The zygote runs no student code.
    """
    _quiet_standard_streams()
    isolate._prctl(isolate.PR_SET_PDEATHSIG, signal.SIGKILL, "parent-death signal")
    control = socket.socket(fileno=control_fd)
    setup = _receive_setup(control)
    sys.path.extend(setup["sys_path"])
    sys.meta_path.insert(0, BlockImports(setup["blocked"]))
    os.environ.setdefault("MPLBACKEND", "Agg")
    for module in setup["preload"]:
        try:
            __import__(module)
        except ImportError:
            pass
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # forked children are reaped by the kernel
    control.sendall(b"ready\n")
    while True:
        message, fds, _, _ = socket.recv_fds(control, 1 << 16, 3)
        if not message or len(fds) != 3:
            return
        pid = os.fork()
        if pid == 0:
            _start_child(control, fds, setup)
        for fd in fds:
            os.close(fd)
        control.sendall(json.dumps({"pid": pid}).encode() + b"\n")


if __name__ == "__main__":
    zygote(int(sys.argv[1]))
