"""Operating-system isolation of one submission's process (Linux namespaces, no helper).

:func:`isolate` runs in a process the zygote has just forked, before any student code
exists. It needs only the standard library, so the zygote's already imported NumPy,
matplotlib and torch stay loaded (what makes a batch fast), and it turns the fork into
a sandbox of its own:

``supervisor`` (the fork, outside the new PID namespace)
    unshares a mount, PID, network, IPC, UTS and cgroup namespace (and, when it is not
    root, first a user namespace where only its own uid is mapped, as root); builds the new
    root file system from the allow-list; forks the sandboxed process; waits for it and
    reports how it ended on the status pipe; it never runs student code.

``init`` (PID 1 of its own PID namespace)
    mounts a /proc of its namespace, pivots into the new root and detaches the host's,
    makes the root read-only, switches off System V shared memory, and enters a user
    namespace of the student's own as SANDBOX_UID; then sets the resource limits, drops every
    capability (effective, permitted, inheritable, ambient and the bounding set), sets
    no_new_privs, forbids user namespaces inside its own (so no capability can be had
    again), and asks the kernel to kill it when the supervisor dies. It forks the
    student process (PID 2, so signals and limits act on it as on any process), reaps
    orphans until that one ends, and exits with its status; then the kernel kills
    everything left in the PID namespace.

The new root holds, read-only, only the directories in ``policy["expose"]`` (the Python
installation and the package directories student code imports from, the system
libraries), minus ``policy["mask"]`` (packages that must not be read, e.g. a non-editable
install of the reference solutions); a private /tmp of ``limits["scratch"]`` bytes (also
the home and working directory, and /dev/shm); /dev/null, zero, full, random, urandom;
a generated /etc/passwd. Nothing of the host's /tmp, home directories, course, checkout,
sockets or network is there.
"""

import ctypes
import os
import platform
import resource
import signal
import struct

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND = 32, 1024, 2048, 4096
MS_REC, MS_PRIVATE, MS_RELATIME = 16384, 1 << 18, 1 << 21
MNT_DETACH = 2

PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP = 1, 4, 24
PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 38, 47, 4
CAP_SYS_ADMIN = 21
_LINUX_CAPABILITY_VERSION_3 = 0x20080522

# syscall numbers of what glibc has no wrapper for
_SYSCALLS = {
    "x86_64": {"pivot_root": 155, "keyctl": 250},
    "aarch64": {"pivot_root": 41, "keyctl": 219},
}
KEYCTL_JOIN_SESSION_KEYRING = 1

SANDBOX_UID = 65534  # the uid student code runs as when the grader is root ("nobody")
SCRATCH = "/tmp"
SCRATCH_INODES = 20_000  # files and directories in /tmp (each costs kernel memory)
DEVICES = ("null", "zero", "full", "random", "urandom")

_libc = ctypes.CDLL(None, use_errno=True)


class SandboxSetupError(OSError):
    """A namespace, mount or limit could not be set up; says which step and why."""


def _check(result, what):
    if result != 0:
        errno = ctypes.get_errno()
        raise SandboxSetupError(errno, f"{what}: {os.strerror(errno)}")


def _unshare(flags, what):
    _check(_libc.unshare(ctypes.c_int(flags)), f"unshare({what})")


def _mount(source, target, fstype, flags, data=None, what=None):
    encode = lambda s: None if s is None else os.fsencode(s)  # noqa: E731
    result = _libc.mount(
        encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags), encode(data)
    )
    _check(result, what or f"mount {source} on {target}")


def _prctl(option, arg2=0, what="prctl"):
    _check(_libc.prctl(option, ctypes.c_ulong(arg2), 0, 0, 0), what)


def _syscall(name, *args):
    number = _SYSCALLS.get(platform.machine(), {}).get(name)
    if number is None:
        raise SandboxSetupError(0, f"{name}: unknown syscall number on {platform.machine()}")
    return _libc.syscall(number, *args)


def _pivot_root(new_root, put_old):
    _check(_syscall("pivot_root", os.fsencode(new_root), os.fsencode(put_old)), "pivot_root")


def _new_session_keyring():
    """Leave the grader's session keyring (keyrings are not namespaced)."""
    if _syscall("keyctl", KEYCTL_JOIN_SESSION_KEYRING, None) < 0:
        _check(-1, "join a new session keyring")


def has_cap_sys_admin():
    """True when this process holds CAP_SYS_ADMIN in its own user namespace."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) >> CAP_SYS_ADMIN & 1)
    return False


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def _map_ids(inside, uid, gid):
    """In a new user namespace: map ``inside`` to the uid and gid we had outside (read
    before the unshare: inside they show as the overflow id until mapped), nothing else."""
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{inside} {uid} 1\n")
    _write("/proc/self/gid_map", f"{inside} {gid} 1\n")


_PRESERVED_FLAGS = (
    (os.ST_NOSUID, MS_NOSUID),
    (os.ST_NODEV, MS_NODEV),
    (os.ST_NOEXEC, MS_NOEXEC),
    (os.ST_NOATIME, MS_NOATIME),
    (os.ST_NODIRATIME, MS_NODIRATIME),
    (os.ST_RELATIME, MS_RELATIME),
)


def _remount_read_only(target):
    """Make the bind mount at ``target`` and every mount below it read-only, keeping the
    flags a user namespace may not clear (nosuid, nodev, noexec, atime)."""
    targets = [target]
    with open("/proc/self/mountinfo") as mountinfo:
        for line in mountinfo:
            point = line.split()[4].encode().decode("unicode_escape")
            if point.startswith(target.rstrip("/") + "/"):
                targets.append(point)
    for point in targets:
        flags = os.statvfs(point).f_flag
        kept = MS_NOSUID | MS_NODEV
        for st_flag, ms_flag in _PRESERVED_FLAGS:
            if flags & st_flag:
                kept |= ms_flag
        _mount(None, point, None, MS_BIND | MS_REMOUNT | MS_RDONLY | kept, what=f"remount {point}")


def _place(root, path, directory=True):
    """Create ``path`` inside ``root`` (a directory, or an empty file for a device)."""
    target = root + path
    if directory:
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if not os.path.exists(target):
            open(target, "w").close()
    return target


def _expose(root, path, exposed):
    """Bind ``path`` read-only at the same place under ``root`` unless a directory above
    it is already exposed; a symbolic link (such as /lib -> usr/lib) is recreated as a
    link to the exposed real directory."""
    real = os.path.realpath(path)
    if not os.path.isdir(real):
        return
    if not any(real == done or real.startswith(done.rstrip("/") + "/") for done in exposed):
        target = _place(root, real)
        _mount(real, target, None, MS_BIND | MS_REC, what=f"bind {real}")
        _remount_read_only(target)
        exposed.append(real)
    if real != path and not os.path.lexists(root + path):
        os.makedirs(os.path.dirname(root + path), exist_ok=True)
        os.symlink(real, root + path)


def join_memory_cgroup(parent, limit):
    """Root grader with a writable cgroup-v1 memory hierarchy: put this process (and so
    everything the submission starts) in a cgroup of its own, ``parent/grade-<pid>``,
    that may hold ``limit`` bytes in all (processes, tmpfs files, page cache together)."""
    path = os.path.join(parent, f"grade-{os.getpid()}")
    try:
        os.mkdir(path)
        _write(os.path.join(path, "memory.limit_in_bytes"), f"{int(limit)}\n")
        swap = os.path.join(path, "memory.memsw.limit_in_bytes")
        if os.path.exists(swap):
            _write(swap, f"{int(limit)}\n")
        _write(os.path.join(path, "cgroup.procs"), f"{os.getpid()}\n")
    except OSError as exc:
        raise SandboxSetupError(exc.errno or 0, f"memory cgroup {path}: {exc}") from None


def build_root(root, policy):
    """Mount the sandbox's file system at ``root`` (an empty directory)."""
    limits = policy["limits"]
    _mount(None, "/", None, MS_REC | MS_PRIVATE, what="make mounts private")
    _mount(
        "tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m,nr_inodes=4096", "new root"
    )
    # the scratch first: an exposed directory under /tmp (a virtual environment there)
    # is then mounted on top of it instead of being hidden by it
    scratch = _place(root, SCRATCH)
    _mount(
        "tmpfs",
        scratch,
        "tmpfs",
        MS_NOSUID | MS_NODEV,
        f"mode=1777,size={int(limits['scratch'])},nr_inodes={SCRATCH_INODES}",
        "mount scratch",
    )
    exposed = []
    for path in sorted(policy["expose"], key=lambda p: len(os.path.realpath(p))):
        _expose(root, path, exposed)
    for path in policy.get("mask", ()):
        if os.path.isdir(root + path):
            _mount("tmpfs", root + path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k")
    for name in DEVICES:
        target = _place(root, f"/dev/{name}", directory=False)
        _mount(f"/dev/{name}", target, None, MS_BIND, what=f"bind /dev/{name}")
    os.symlink(SCRATCH, root + "/dev/shm")
    _place(root, "/proc")
    _place(root, "/etc")
    _write(
        root + "/etc/passwd",
        f"student:x:{SANDBOX_UID}:{SANDBOX_UID}:student:{SCRATCH}:/nonexistent\n",
    )
    _write(root + "/etc/group", f"student:x:{SANDBOX_UID}:\n")
    _write(root + "/etc/hostname", "sandbox\n")
    for name in ("ld.so.cache", "localtime"):
        if os.path.isfile(f"/etc/{name}"):
            target = _place(root, f"/etc/{name}", directory=False)
            _mount(os.path.realpath(f"/etc/{name}"), target, None, MS_BIND, what=f"/etc/{name}")
            _remount_read_only(target)


def _enter_root(root):
    """In the new PID namespace: a /proc of our own, pivot into ``root``, drop the host."""
    _mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, what="mount /proc")
    os.chdir(root)
    _pivot_root(".", ".")
    _check(_libc.umount2(b".", MNT_DETACH), "detach the host's file system")
    os.chdir("/")
    _mount(None, "/", None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, what="ro /")


def _become_sandbox_user(privileged):
    """A user namespace of the student's own, where it is SANDBOX_UID: not root, so no
    capability comes back on exec, and process counts are per submission. A root grader
    first switches to SANDBOX_UID on the host; otherwise SANDBOX_UID maps to the
    grader's own uid (root in the outer sandbox namespace)."""
    if privileged:
        os.setgroups([])
        os.setresgid(SANDBOX_UID, SANDBOX_UID, SANDBOX_UID)
        os.setresuid(SANDBOX_UID, SANDBOX_UID, SANDBOX_UID)
        _prctl(PR_SET_DUMPABLE, 1, "dumpable")  # a uid change makes /proc/self root's
    uid, gid = os.getuid(), os.getgid()
    _unshare(CLONE_NEWUSER, "user")
    _map_ids(SANDBOX_UID, uid, gid)


def set_limits(limits, unshared=True):
    """Hard resource limits the process cannot raise again. The process count is per
    user namespace, so it is set only in one (``unshared``); elsewhere it would count
    every process of the grader's user."""

    def cap(kind, value):
        value = int(value)
        resource.setrlimit(kind, (value, value))

    cap(resource.RLIMIT_DATA, limits["memory"])
    # shared mappings escape RLIMIT_DATA: bound the address space too, above what the
    # preloaded libraries already map
    cap(resource.RLIMIT_AS, _address_space() + limits["memory"])
    if unshared:
        cap(resource.RLIMIT_NPROC, limits["processes"])
    cap(resource.RLIMIT_FSIZE, limits["scratch"])
    cap(resource.RLIMIT_CORE, 0)
    cap(resource.RLIMIT_NOFILE, 1024)
    cpu = int(limits["cpu"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))


def _address_space():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _no_sysv_shared_memory():
    """In the new IPC namespace: no System V shared memory (it would escape the memory
    limit, since a segment outlives the process that filled it)."""
    _write("/proc/sys/kernel/shmmni", "0\n")
    _write("/proc/sys/kernel/shmall", "0\n")


def _drop_capabilities():
    _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, "clear ambient capabilities")
    for cap in range(64):
        if _libc.prctl(PR_CAPBSET_DROP, ctypes.c_ulong(cap), 0, 0, 0) != 0:
            break  # past the last capability this kernel knows
    header = struct.pack("=Ii", _LINUX_CAPABILITY_VERSION_3, 0)
    data = bytes(24)  # effective, permitted, inheritable: all zero, twice 32 bits
    _check(_libc.capset(header, data), "capset")
    _prctl(PR_SET_NO_NEW_PRIVS, 1, "no_new_privs")


def _wait_for(pid):
    """Reap children until ``pid`` ends; its raw wait status (None if it was not ours)."""
    while True:
        try:
            done, status = os.waitpid(-1, 0)
        except ChildProcessError:
            return None
        if done == pid:
            return status


def _supervise(pid):
    """Wait for the namespace's init, and end with it."""
    _wait_for(pid)
    os._exit(0)


def _init(student, status_fd):
    """PID 1: reap every process until the student's ends; report how it ended (its raw
    wait status, which the student cannot fake); then end, and the namespace with it."""
    status = _wait_for(student)
    if status is not None and status_fd is not None:
        if os.WIFSIGNALED(status):
            report = f"signal {os.WTERMSIG(status)}\n"
        else:
            report = f"exit {os.waitstatus_to_exitcode(status)}\n"
        try:
            os.write(status_fd, report.encode())
        except OSError:
            pass
    os._exit(0)


def isolate(policy, status_fd=None):
    """Make this freshly forked, single-threaded process a sandbox (see the module text).

    Returns in the student process only; the supervisor and init never return. Raises
    SandboxSetupError, naming the step, when the kernel refuses one.
    """
    root_dir = policy["root"]
    privileged = os.geteuid() == 0
    if privileged and not has_cap_sys_admin():
        # student code would run as uid 0 without capabilities, which may still write
        # root's files under /proc (sysrq-trigger): refuse instead
        raise SandboxSetupError(
            0, "the grader runs as root without CAP_SYS_ADMIN; run it as another user"
        )
    if privileged and policy.get("cgroup"):
        join_memory_cgroup(policy["cgroup"], policy["limits"]["memory"])
    others = (
        CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP
    )
    if privileged:
        _unshare(others, "mount, pid, net, ipc, uts, cgroup")
    else:
        uid, gid = os.getuid(), os.getgid()
        _unshare(CLONE_NEWUSER | others, "user, mount, pid, net, ipc, uts, cgroup")
        _map_ids(0, uid, gid)
    build_root(root_dir, policy)
    pid = os.fork()
    if pid != 0:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL, "parent-death signal")  # dies with the zygote
        if status_fd is not None:
            os.close(status_fd)
        _supervise(pid)
    _enter_root(root_dir)
    _no_sysv_shared_memory()
    _libc.sethostname(b"sandbox", 7)
    _become_sandbox_user(privileged)
    # no user namespace inside this one: without it no capability can be had again,
    # so no nested mount, PID or network namespace either
    _write("/proc/sys/user/max_user_namespaces", "0\n")
    set_limits(policy["limits"])
    _new_session_keyring()
    _drop_capabilities()
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL, "parent-death signal")
    os.chdir(SCRATCH)
    os.environ["HOME"] = SCRATCH
    os.environ["MPLCONFIGDIR"] = SCRATCH
    student = os.fork()
    if student != 0:
        # not dumpable: the student (same uid) can neither ptrace init nor read its memory
        _prctl(PR_SET_DUMPABLE, 0, "not dumpable")
        _init(student, status_fd)
    if status_fd is not None:
        os.close(status_fd)
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL, "parent-death signal")
