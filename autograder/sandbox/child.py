"""The child process that runs untrusted student code for the grader.

Started by :mod:`autograder.sandbox.runner` as ``python -I -S child.py REQ_FD RESP_FD``
(or forked from a zygote started as ``child.py --zygote SOCKET_FD``, see :func:`zygote`):
isolated mode, no ``site`` (so no ``.pth`` file, editable install or user path is
active), and only this directory added to ``sys.path`` until the grader's ``init``
message says which package directories student code may import from.

It answers one request at a time on its own pipes, never on stdout or stderr, which are
captured (bounded) so that printing cannot corrupt the channel. It reports values and
errors only; every pass/fail decision is made by the grader.

Requests (dicts):

- ``{"op": "init", "sys_path": [...], "blocked": [...]}``: extend ``sys.path`` and refuse
  imports of the blocked top-level packages (the reference solutions, the grader);
- ``{"op": "exec", "cell_id": ID, "source": CODE}``: run one notebook cell in the
  student namespace;
- ``{"op": "call", "name": NAME, "args": [...], "kwargs": {...}}``: call a function the
  notebook defined and send back its result;
- ``{"op": "run", "code": CODE, "inputs": {...}}``: run a driver snippet in a copy of
  the namespace with ``inputs`` bound, and send back its variable ``result``;
- ``{"op": "names"}``: the names the notebook defined.

Answers: ``{"ok": true, "value": ..., "output": TEXT}`` or
``{"ok": false, "error": "Type: message", "where": "cell 01.2, line 3", "output": TEXT}``.
"""

import importlib.abc
import io
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import codec  # noqa: E402

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
        text = _printable("".join(self.parts))
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
            raise ImportError(f"{fullname} is not available while your notebook is graded")
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


def _printable(text):
    """Text that can be written as UTF-8 (a lone surrogate would break the notebook)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _describe(exc):
    try:
        message = _printable(f"{type(exc).__name__}: {exc}")
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
        if op == "init":
            sys.path.extend(request.get("sys_path", []))
            sys.meta_path.insert(0, BlockImports(request.get("blocked", [])))
            return None
        if op == "exec":
            code = compile(request["source"], f"<cell {request['cell_id']}>", "exec")
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
            codec.write_message(resp_fd, answer, already_plain=True)


def _quiet_standard_streams():
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.environ.setdefault("MPLBACKEND", "Agg")


def zygote(control_fd):
    """Serve fork requests: each fork becomes a fresh child for one notebook.

    The zygote imports the heavy modules once, before any student code exists, then
    forks a child per request. The request carries the child's two pipe ends (passed
    over the Unix socket) and its working directory; the answer is the child's pid.
    A child closes the control socket before it reads its first request.
    """
    import json
    import signal
    import socket

    _quiet_standard_streams()
    control = socket.socket(fileno=control_fd)
    setup = json.loads(control.recv(1 << 20).decode())
    Child().handle({"op": "init", **setup["init"]})
    for module in setup["preload"]:
        try:
            __import__(module)
        except ImportError:
            pass
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # forked children are reaped by the kernel
    control.sendall(b"ready\n")
    while True:
        message, fds, _, _ = socket.recv_fds(control, 1 << 16, 2)
        if not message:
            return
        workdir = json.loads(message.decode())["workdir"]
        pid = os.fork()
        if pid == 0:
            control.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            os.setsid()
            os.chdir(workdir)
            os.environ["HOME"] = workdir
            Child().serve(fds[0], fds[1])
            os._exit(0)
        for fd in fds:
            os.close(fd)
        control.sendall(json.dumps({"pid": pid}).encode() + b"\n")


def main():
    if sys.argv[1] == "--zygote":
        zygote(int(sys.argv[2]))
        return
    _quiet_standard_streams()
    Child().serve(int(sys.argv[1]), int(sys.argv[2]))


if __name__ == "__main__":
    main()
