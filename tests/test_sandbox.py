"""The child process that runs student code: plain data only, failures contained."""

import base64
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from autograder.sandbox import codec, runner
from autograder.sandbox.runner import ChildDied, StudentCodeError, Zygote

REPO = Path(__file__).resolve().parents[1]


def _zygote_fixture(**options):
    """A module-wide zygote made with ``options``."""

    @pytest.fixture(scope="module")
    def zygote():
        with Zygote(**options) as made:
            yield made

    return zygote


def _child_fixture(zygote_name):
    """A fresh child of the zygote fixture ``zygote_name`` for each test."""

    @pytest.fixture
    def child(request):
        with request.getfixturevalue(zygote_name).spawn() as process:
            yield process

    return child


light_zygote = _zygote_fixture(preload=("numpy", "IPython.core.inputtransformer2"))
child = _child_fixture("light_zygote")


def test_calls_a_student_function_and_returns_an_array(child):
    child.exec_cell("t.1", "import numpy as np\ndef double(x):\n    return np.asarray(x) * 2\n")
    result = child.call("double", np.arange(3.0))
    assert type(result) is np.ndarray
    np.testing.assert_array_equal(result, [0.0, 2.0, 4.0])


def test_driver_snippet_sees_inputs_and_student_names(child):
    child.exec_cell("t.1", "def square(x):\n    return x * x\n")
    assert child.run("result = [square(v) for v in values]", values=[1, 2, 3]) == [1, 4, 9]


def test_printing_goes_to_the_answer_not_the_channel(child):
    source = "print('x' * 100_000)\nimport sys\nprint('warn', file=sys.stderr)"
    answer = child.exec_cell("t.1", source)
    assert answer.output.startswith("x" * 1000)
    assert "more characters of output not kept" in answer.output
    assert len(answer.output) < 20_300
    assert child.run("result = 1 + 1") == 2


def test_student_exception_names_cell_and_line(child):
    with pytest.raises(StudentCodeError) as info:
        child.exec_cell("02.3", "x = 1\nraise ValueError('bad shape')\n")
    assert info.value.error == "ValueError: bad shape"
    assert info.value.where == "cell 02.3, line 2"


def test_sys_exit_is_an_error_not_a_death(child):
    with pytest.raises(StudentCodeError, match="SystemExit"):
        child.exec_cell("t.1", "import sys\nsys.exit(0)")
    assert child.alive


def test_reference_solutions_cannot_be_imported(child):
    for package in ("course_utils", "course_utils.optim", "autograder"):
        with pytest.raises(StudentCodeError, match="not available while your notebook is graded"):
            child.exec_cell("t.1", f"import {package}")


def test_the_refusal_names_what_answers_may_import(child):
    with pytest.raises(StudentCodeError, match="may import the standard library, numpy"):
        child.exec_cell("t.1", "from course_utils.optim import functional")


def test_the_students_helpers_import_and_their_folder_holds_nothing_else(child):
    import course_helpers

    root = str(Path(course_helpers.__file__).resolve().parents[1])
    seen = child.run(
        "import os\n"
        "from course_helpers.problems import Rosenbrock\n"
        "from course_helpers.graph import draw_graph\n"
        "result = [Rosenbrock().value([1.0, 1.0]).tolist(), sorted(os.listdir(root))]",
        root=root,
    )
    assert seen == [0.0, ["course_helpers"]]


def test_objects_that_claim_equality_cannot_cross(child):
    child.exec_cell("t.1", "class Liar:\n    def __eq__(self, other):\n        return True\n")
    with pytest.raises(StudentCodeError, match="cannot send a value of type Liar"):
        child.run("result = Liar()")


def test_object_arrays_cannot_cross(child):
    child.exec_cell("t.1", "import numpy as np")
    with pytest.raises(StudentCodeError, match="arrays must be numeric"):
        child.run("result = np.array([object()])")


def test_float_subclass_crosses_as_its_value(child):
    child.exec_cell(
        "t.1", "class F(float):\n    def __eq__(self, other):\n        return True\nv = F(2.5)"
    )
    value = child.run("result = v")
    assert type(value) is float and value == 2.5


def test_infinite_loop_times_out_and_stops_the_child(child):
    with pytest.raises(TimeoutError):
        child.exec_cell("t.1", "while True:\n    pass\n", timeout=1)
    assert not child.alive


def test_os_exit_is_reported_as_a_crash(child):
    with pytest.raises(ChildDied) as info:
        child.exec_cell("t.1", "import os\nos._exit(0)")
    assert info.value.status == "crashed"


def test_numpy_scalars_keep_their_shape(child):
    child.exec_cell("t.1", "import numpy as np")
    value = child.run("result = [np.float64(2.5), np.array(3.0), np.int64(4)]")
    assert [np.shape(v) for v in value] == [(), (), ()]
    assert [float(v) for v in value] == [2.5, 3.0, 4.0]


def test_codec_round_trip_of_tagged_values():
    value = {"a": (1, 2.5), "b": [float("nan"), float("-inf")], "c": np.eye(2, dtype=np.float32)}
    fd_r, fd_w = os.pipe()
    codec.write_message(fd_w, value)
    back = codec.read_message(fd_r)
    assert back["a"] == (1, 2.5)
    assert np.isnan(back["b"][0]) and back["b"][1] == float("-inf")
    assert back["c"].dtype == np.float32
    np.testing.assert_array_equal(back["c"], np.eye(2))


def test_decoder_refuses_pickled_arrays():
    buffer = io.BytesIO()
    np.save(buffer, np.array([object()], dtype=object), allow_pickle=True)
    tagged = json.dumps({"__ndarray__": base64.b64encode(buffer.getvalue()).decode()})
    with pytest.raises(ValueError):
        codec.from_plain_json(tagged)


@pytest.fixture(scope="module")
def zygote():
    with Zygote(preload=("numpy",)) as z:
        yield z


def test_zygote_children_are_independent(zygote):
    first, second = zygote.spawn(), zygote.spawn()
    try:
        first.exec_cell("t.1", "import numpy as np\nsecret = np.arange(3)")
        with pytest.raises(StudentCodeError, match="NameError"):
            second.run("result = secret")
        np.testing.assert_array_equal(first.run("result = secret"), [0, 1, 2])
    finally:
        first.stop()
        second.stop()


def test_zygote_children_refuse_reference_imports(zygote):
    child = zygote.spawn()
    try:
        with pytest.raises(StudentCodeError, match="not available while your notebook is graded"):
            child.exec_cell("t.1", "import course_utils.optim")
    finally:
        child.stop()


def test_zygote_children_contain_exits_and_hangs(zygote):
    child = zygote.spawn()
    with pytest.raises(ChildDied):
        child.exec_cell("t.1", "import os\nos._exit(3)")
    assert not child.alive
    child = zygote.spawn()
    with pytest.raises(TimeoutError):
        child.exec_cell("t.1", "while True:\n    pass", timeout=1)
    assert not child.alive
    healthy = zygote.spawn()
    try:
        assert healthy.run("result = 6 * 7") == 42
    finally:
        healthy.stop()


def test_a_child_that_stops_reading_cannot_block_the_grader(child):
    child.exec_cell(
        "t.1",
        "import sys, time\nsys.modules['codec'].read_message = lambda *a, **k: time.sleep(1000)",
    )
    # from now on the child reads nothing: writing a large request must not block forever
    with pytest.raises(TimeoutError):
        child.run("result = 0", timeout=2, big=np.zeros(200_000))
    assert not child.alive


def test_a_forged_array_header_is_garbage_not_a_huge_allocation(child):
    source = (
        "import base64, io, json, os, struct, sys\n"
        "import numpy as np\n"
        "buffer = io.BytesIO()\n"
        "np.lib.format.write_array_header_1_0(buffer, {'descr': '<f8', 'fortran_order': False,"
        " 'shape': (10**13,)})\n"
        "tag = base64.b64encode(buffer.getvalue() + bytes(8)).decode()\n"
        "body = json.dumps({'ok': True, 'value': {'__ndarray__': tag}}).encode()\n"
        "frame = sys._getframe()\n"
        "while frame.f_code.co_name != 'serve':\n"
        "    frame = frame.f_back\n"
        "os.write(frame.f_locals['resp_fd'], struct.pack('>Q', len(body)) + body)\n"
    )
    with pytest.raises(ChildDied) as info:
        child.exec_cell("t.1", source)
    assert info.value.status == "garbled"


def test_text_from_student_code_is_cleaned_and_bounded():
    from autograder.text import clean_text

    text = "ok\x1b[2J\x1b]0;title\x07 \u202eevil\u200b\ud800 done\n" + "z" * 100
    cleaned = clean_text(text, 40)
    assert cleaned.startswith("ok evil\\ud800 done\nzzz")
    assert "more characters not kept" in cleaned
    cleaned.encode("utf-8")


def test_garbage_on_the_channel_is_a_status_not_a_grader_error(child):
    source = (
        "import os, struct, sys\n"
        "frame = sys._getframe()\n"
        "while frame.f_code.co_name != 'serve':\n"
        "    frame = frame.f_back\n"
        "os.write(frame.f_locals['resp_fd'], struct.pack('>Q', 4) + b'\\xff\\xfe\\xfd\\xfc')\n"
    )
    with pytest.raises(ChildDied) as info:
        child.exec_cell("t.1", source)
    assert info.value.status == "garbled"


def test_messages_with_lone_surrogates_are_made_printable(child):
    with pytest.raises(StudentCodeError) as info:
        child.exec_cell("t.1", "raise ValueError('bad \\ud800 value')")
    info.value.error.encode("utf-8")  # would raise on a lone surrogate
    assert "\\ud800" in info.value.error


def test_a_killed_zygote_is_replaced_and_the_grader_survives():
    with Zygote(preload=()) as zygote:
        first = zygote.spawn()
        with pytest.raises(ChildDied):
            first.exec_cell(
                "t.1", "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nos._exit(0)"
            )
        second = zygote.spawn()
        try:
            assert second.run("result = 2 + 2") == 4
        finally:
            second.stop()


def test_jupyter_display_and_stream_attributes_work(child):
    child.exec_cell(
        "t.1",
        "import sys\ndisplay('shown in Jupyter')\nenc = sys.stdout.encoding\n"
        "try:\n    sys.stdout.fileno()\nexcept OSError:\n    no_fd = True\nsys.stdout.close()",
    )
    assert child.run("result = [enc, no_fd]") == ["utf-8", True]
    assert child.run("print('still printing')\nresult = 1") == 1


# --- the sandbox of each child ------------------------------------------------------------

SMALL = runner.Limits(memory=512 * runner.MIB, processes=16, scratch=8 * runner.MIB, cpu=3)


limited_zygote = _zygote_fixture(preload=("numpy",), limits=SMALL)
limited = _child_fixture("limited_zygote")


def test_a_child_sees_only_its_own_processes_and_no_capability(child):
    seen = child.run(
        "import os\n"
        "status = open('/proc/self/status').read()\n"
        "caps = {l.split(':')[0]: int(l.split()[1], 16) for l in status.splitlines()"
        " if l.startswith('Cap')}\n"
        "result = [sorted(int(p) for p in os.listdir('/proc') if p.isdigit()), caps,"
        " os.getuid(), os.getppid(), os.getpid()]"
    )
    pids, caps, uid, ppid, pid = seen
    assert pids == [1, pid] and ppid == 1  # init of its own namespace, and itself
    assert caps == {"CapInh": 0, "CapPrm": 0, "CapEff": 0, "CapBnd": 0, "CapAmb": 0}
    assert uid != 0


def test_a_child_sees_only_the_allow_listed_file_system(child, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("host file")
    found = child.run(
        "import os\n"
        "def probe(p):\n"
        "    try:\n"
        "        open(p).read(10)\n"
        "        return 'read'\n"
        "    except OSError as exc:\n"
        "        return type(exc).__name__\n"
        "result = {p: probe(p) for p in paths}",
        paths=[
            str(secret),
            str(REPO / "autograder" / "checks" / "test_01_autodiff.py"),
            str(REPO / "course_utils" / "batching.py"),
            str(REPO / "source" / "02_batching" / "02_batching.ipynb"),
            "/etc/shadow",
            os.path.expanduser("~/.bashrc"),
        ],
    )
    assert set(found.values()) == {"FileNotFoundError"}, found
    listing = child.run("import os\nresult = sorted(os.listdir('/'))")
    # the top folders of the Python installation and of this checkout (CI clones it
    # under another top folder), besides the system's own
    installed = {Path(p).resolve().parts[1] for p in (sys.prefix, sys.base_prefix, REPO)}
    assert set(listing) <= installed | {
        "dev",
        "etc",
        "lib",
        "lib32",
        "lib64",
        "libx32",
        "proc",
        "root",
        "tmp",
        "usr",
        "work",
        "opt",
        "home",
        "srv",
        "var",
    }, listing
    with pytest.raises(StudentCodeError, match="Read-only file system|Permission denied"):
        child.exec_cell("w", f"open({str(REPO / 'README.md')!r}, 'a').write('x')")


def test_scratch_is_private_to_each_child(light_zygote):
    with light_zygote.spawn() as first:
        first.exec_cell(
            "w", "open('/tmp/left.txt', 'w').write('mine')\nimport os\nhome = os.getcwd()"
        )
        assert first.run("result = open('/tmp/left.txt').read()") == "mine"
    with light_zygote.spawn() as second:
        listing = second.run("import os\nresult = os.listdir('/tmp')")
        assert "left.txt" not in listing
        # all it may hold are the mount points of exposed directories under /tmp
        assert all(os.path.isdir(os.path.join("/tmp", name)) for name in listing), listing


def test_memory_limit_gives_memory_error(limited):
    with pytest.raises(StudentCodeError) as info:
        limited.exec_cell("m", "block = bytearray(1 << 30)")
    assert info.value.limit == "memory"
    assert limited.run("result = len(bytearray(1 << 20))") == 1 << 20


def test_process_limit_holds(limited):
    forked = limited.run(
        "import os, time\n"
        "count = 0\n"
        "try:\n"
        "    for _ in range(100):\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(30)\n"
        "            os._exit(0)\n"
        "        count += 1\n"
        "except BlockingIOError:\n"
        "    pass\n"
        "result = count"
    )
    assert 0 < forked < SMALL.processes


def test_scratch_limit_holds(limited):
    with pytest.raises(StudentCodeError, match="No space left|File too large"):
        limited.exec_cell(
            "f",
            "with open('/tmp/big', 'wb') as f:\n"
            "    for _ in range(64):\n"
            "        f.write(bytes(1 << 20))",
        )


def test_cpu_limit_ends_the_child_with_a_status(limited):
    with pytest.raises(ChildDied) as info:
        limited.exec_cell("c", "while True:\n    pass", timeout=30)
    assert info.value.status == "cpu"


def test_an_answer_over_the_output_limit_is_a_status():
    limits = runner.Limits(output=1 * runner.MIB)
    with Zygote(preload=(), limits=limits) as zygote, zygote.spawn() as process:
        with pytest.raises(ChildDied) as info:
            process.run("result = 'x' * (2 << 20)")
    assert info.value.status == "output"


def test_nothing_a_child_started_outlives_it(light_zygote):
    process = light_zygote.spawn()
    pid = process._pid
    process.exec_cell(
        "d",
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        time.sleep(600)\n"
        "    os._exit(0)\n",
    )
    before = _processes_in_namespace_of(pid)
    assert len(before) >= 2  # the child and its detached grandchild
    process.stop()
    deadline = time.monotonic() + 5
    while _alive(before) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(before)


def _processes_in_namespace_of(supervisor):
    """Host pids of the processes in the PID namespace of ``supervisor``'s child."""
    children = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
    namespace = os.readlink(f"/proc/{children[0]}/ns/pid")
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.readlink(f"/proc/{pid}/ns/pid") == namespace:
                found.append(int(pid))
        except OSError:
            pass
    return found


def _alive(pids):
    """The pids still running (a zombie has ended: it only waits to be reaped)."""
    alive = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.append(pid)
    return alive


def test_limits_are_validated():
    with pytest.raises(ValueError, match="limit memory must be a positive integer"):
        runner.Limits(memory=0)
    with pytest.raises(ValueError, match="processes must be at least 4"):
        runner.Limits(processes=2)


def test_a_child_can_make_no_namespace_mount_or_chroot(child):
    results = child.run(
        "import ctypes, os\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "def errno_of(call):\n"
        "    return 0 if call() == 0 else ctypes.get_errno()\n"
        "def chroot():\n"
        "    try:\n"
        "        os.chroot('/tmp')\n"
        "        return 0\n"
        "    except OSError as exc:\n"
        "        return exc.errno\n"
        "result = {\n"
        "    'user': errno_of(lambda: libc.unshare(0x10000000)),\n"
        "    'mount ns': errno_of(lambda: libc.unshare(0x00020000)),\n"
        "    'net ns': errno_of(lambda: libc.unshare(0x40000000)),\n"
        "    'mount': errno_of(lambda: libc.mount(b'none', b'/tmp', b'tmpfs', 0, None)),\n"
        "    'chroot': chroot(),\n"
        "}"
    )
    assert all(code != 0 for code in results.values()), results


def test_sandbox_modes():
    with pytest.raises(ValueError, match="sandbox must be one of"):
        runner.resolve_sandbox("bwrap")
    assert runner.resolve_sandbox("none") == "none"


def test_a_refused_sandbox_stops_grading_with_advice(monkeypatch):
    """Where the kernel refuses a step (here: the mount point is missing), spawning says
    what failed and how to go on, instead of running student code unisolated."""

    def unusable(*args):
        policy = real_policy(*args)
        policy["root"] = "/nonexistent/sandbox-root"
        return policy

    real_policy = runner.sandbox_policy
    monkeypatch.setattr(runner, "sandbox_policy", unusable)
    with Zygote(preload=()) as zygote:
        with pytest.raises(runner.SandboxUnavailable, match="pass --sandbox none") as info:
            zygote.spawn()
    assert "new root" in str(info.value)


def test_without_a_sandbox_the_command_line_warns():
    notebook = REPO / "release" / "02_batching" / "02_batching.ipynb"
    result = subprocess.run(
        [sys.executable, "-m", "autograder", "check", str(notebook), "--sandbox", "none"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert result.returncode == 1  # a blank notebook does not get full marks
    assert "student code runs without isolation" in result.stderr


def test_shared_memory_counts_against_the_memory_limit(limited):
    outcome = limited.run(
        "import ctypes, mmap\n"
        "def grab():\n"
        "    try:\n"
        "        block = mmap.mmap(-1, 1 << 30)\n"
        "        return 'mapped'\n"
        "    except (OSError, MemoryError) as exc:\n"
        "        return type(exc).__name__\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "segment = libc.shmget(0, 64 << 20, 0o1600)\n"  # IPC_PRIVATE | IPC_CREAT
        "result = [grab(), segment]"
    )
    assert outcome[0] != "mapped" and outcome[1] == -1, outcome


def test_init_cannot_be_ptraced_and_the_graders_keyring_is_not_shared(child):
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    # a key in this process's session keyring, which the child would inherit
    libc.syscall(250, 1, b"grader-test-session")  # KEYCTL_JOIN_SESSION_KEYRING
    key = libc.syscall(248, b"user", b"grader-secret", b"s3cret", 6, -3)  # add_key to @s
    assert key > 0
    with Zygote(preload=()) as zygote, zygote.spawn() as process:
        found = process.run(
            "import ctypes\n"
            "libc = ctypes.CDLL(None, use_errno=True)\n"
            "libc.syscall.restype = ctypes.c_long\n"
            "attach = libc.syscall(101, 16, 1, 0, 0)\n"  # ptrace(PTRACE_ATTACH, 1)
            "search = libc.syscall(250, 10, -3, b'user', b'grader-secret', 0)\n"  # KEYCTL_SEARCH
            "result = [attach, search]"
        )
    assert found == [-1, -1], found


def test_a_refused_sandbox_stops_the_batch_instead_of_failing_every_student(monkeypatch, tmp_path):
    from autograder.course import Course
    from autograder.demo import make_course

    course = make_course(tmp_path / "course")
    (course.root / "submitted" / "ada" / "02_batching").mkdir(parents=True)
    notebook = REPO / "release" / "02_batching" / "02_batching.ipynb"
    (course.root / "submitted" / "ada" / "02_batching" / notebook.name).write_text(
        notebook.read_text()
    )
    real_policy = runner.sandbox_policy
    monkeypatch.setattr(
        runner,
        "sandbox_policy",
        lambda *args: {**real_policy(*args), "root": "/nonexistent/sandbox-root"},
    )
    with pytest.raises(runner.SandboxUnavailable, match="pass --sandbox none"):
        Course(course.root).grade("02_batching")
    assert not (course.root / "grading" / "02_batching" / "ada.json").exists()


@pytest.mark.skipif(
    runner.memory_cgroup_parent() is None,
    reason="needs root and a writable cgroup-v1 memory hierarchy",
)
def test_memory_is_limited_for_the_whole_submission_where_a_cgroup_can_be_made():
    limits = runner.Limits(memory=512 * runner.MIB)
    with Zygote(preload=("numpy",), limits=limits) as zygote, zygote.spawn() as process:
        cgroup = process._cgroup
        ended = process.run(
            "import os, time\n"
            "pids = []\n"
            "for _ in range(3):\n"  # each under the per-process limit, together over it
            "    pid = os.fork()\n"
            "    if pid == 0:\n"
            "        block = b'\\x01' * (300 << 20)\n"
            "        time.sleep(30)\n"
            "        os._exit(0)\n"
            "    pids.append(pid)\n"
            "time.sleep(5)\n"
            "result = [os.waitpid(p, os.WNOHANG)[1] for p in pids]"
        )
        assert os.path.isdir(cgroup)
    assert ended.count(9) >= 1, ended  # SIGKILL from the cgroup's OOM killer
    assert not os.path.exists(cgroup)  # removed with the submission


def test_an_answer_written_ahead_for_a_later_request_is_refused(child):
    source = (
        "import json, os, struct, sys\n"
        "frame = sys._getframe()\n"
        "while frame.f_code.co_name != 'serve':\n"
        "    frame = frame.f_back\n"
        "body = json.dumps({'ok': True, 'value': 42, 'output': ''}).encode()\n"
        "os.write(frame.f_locals['resp_fd'], struct.pack('>Q', len(body)) + body)\n"
    )
    with pytest.raises(ChildDied) as info:
        child.exec_cell("t.1", source)
    assert info.value.status == "garbled"


def test_packages_under_tmp_stay_importable(tmp_path):
    """A virtual environment (or a clone of the course) under /tmp is exposed over the
    sandbox's private /tmp, not hidden by it."""
    packages = Path(tempfile.mkdtemp(prefix="site-", dir="/tmp"))
    try:
        (packages / "tmp_module_probe").mkdir()
        (packages / "tmp_module_probe" / "__init__.py").write_text("VALUE = 7\n")
        os.chmod(packages, 0o755)
        options = {"preload": (), "sys_path": [*runner.default_sys_path(), str(packages)]}
        with Zygote(**options) as zygote, zygote.spawn() as process:
            assert process.run("import tmp_module_probe\nresult = tmp_module_probe.VALUE") == 7
            process.exec_cell("w", "open('/tmp/mine.txt', 'w').write('scratch still works')")
            with pytest.raises(StudentCodeError, match="Read-only file system|Permission denied"):
                process.exec_cell("x", f"open({str(packages / 'x.py')!r}, 'w').write('no')")
    finally:
        shutil.rmtree(packages)
