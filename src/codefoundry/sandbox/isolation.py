"""Isolation layers applied to a freshly forked child, plus the once-per-worker set-up they rely on.

Stdlib + ctypes only (pyseccomp is used once, in the fork-server, to *build* the seccomp program), so the
fork-server stays light and every child inherits ready-made objects: a Landlock ruleset fd, a compiled BPF
program, a per-worker network/mount namespace and pids cgroup. What is left per child is a handful of
syscalls, which is why the per-candidate overhead stays around a millisecond or two.
"""

from __future__ import annotations

import ctypes
import errno
import os
import resource
import struct
from dataclasses import dataclass, field

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_libc.prctl.restype = ctypes.c_int

# x86_64 / aarch64 share the landlock numbers (added after the syscall tables were unified).
SYS_landlock_create_ruleset = 444
SYS_landlock_add_rule = 445
SYS_landlock_restrict_self = 446

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWTIME = 0x00000080
NS_FLAGS = (
    CLONE_NEWNS,
    CLONE_NEWUTS,
    CLONE_NEWIPC,
    CLONE_NEWUSER,
    CLONE_NEWPID,
    CLONE_NEWNET,
    CLONE_NEWCGROUP,
    CLONE_NEWTIME,
)

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
PR_SET_PDEATHSIG = 1

MS_BIND = 4096
MS_REC = 16384
MNT_DETACH = 2
MS_PRIVATE = 1 << 18
MS_NOSUID = 2
MS_NODEV = 4

# Landlock access bits (see linux/landlock.h).
LL_FS_EXECUTE = 1 << 0
LL_FS_WRITE_FILE = 1 << 1
LL_FS_READ_FILE = 1 << 2
LL_FS_READ_DIR = 1 << 3
LL_FS_REMOVE_DIR = 1 << 4
LL_FS_REMOVE_FILE = 1 << 5
LL_FS_MAKE_CHAR = 1 << 6
LL_FS_MAKE_DIR = 1 << 7
LL_FS_MAKE_REG = 1 << 8
LL_FS_MAKE_SOCK = 1 << 9
LL_FS_MAKE_FIFO = 1 << 10
LL_FS_MAKE_BLOCK = 1 << 11
LL_FS_MAKE_SYM = 1 << 12
LL_FS_REFER = 1 << 13  # ABI 2
LL_FS_TRUNCATE = 1 << 14  # ABI 3
LL_NET_BIND_TCP = 1 << 0  # ABI 4
LL_NET_CONNECT_TCP = 1 << 1
LL_SCOPE_ABSTRACT_UNIX = 1 << 0  # ABI 6
LL_SCOPE_SIGNAL = 1 << 1
LL_RULE_PATH_BENEATH = 1
LL_CREATE_RULESET_VERSION = 1

# Syscalls a candidate never needs and that are the usual escape or abuse routes.
DENIED_SYSCALLS = (
    "ptrace", "process_vm_readv", "process_vm_writev", "mount", "umount2", "pivot_root", "chroot",
    "bpf", "perf_event_open", "keyctl", "add_key", "request_key", "kexec_load", "kexec_file_load",
    "reboot", "init_module", "finit_module", "delete_module", "unshare", "setns", "swapon", "swapoff",
    "acct", "open_by_handle_at", "name_to_handle_at", "fanotify_init", "syslog", "settimeofday",
    "clock_settime", "clock_adjtime", "adjtimex", "quotactl", "lookup_dcookie", "vhangup", "iopl",
    "ioperm", "uselib", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
    "fsopen", "fsmount", "fsconfig", "fspick", "move_mount", "open_tree", "mount_setattr",
    "sethostname", "setdomainname", "personality", "kcmp", "pidfd_getfd",
)  # fmt: skip
AF_UNIX = 1
TIOCSTI = 0x5412


@dataclass
class WorkerSetup:
    """Objects made once per worker (in the fork-server) and inherited by every child.

    The fork-server itself sits in the pids cgroup (children inherit membership without a per-child
    migration, which costs an RCU grace period) and runs under the server seccomp program.
    """

    scratch_root: str
    uid: int | None = None
    landlock_fd: int | None = None
    landlock_abi: int = 0
    cgroup_dir: str | None = None
    pids_max_fd: int | None = None  # held open: the filesystem view has no /sys
    cgroup_procs_fd: int | None = None
    notes: dict[str, tuple[bool, str]] = field(default_factory=dict)


# ----------------------------------------------------------------------------------------------- probes
def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 when absent or disabled."""
    r = _libc.syscall(SYS_landlock_create_ruleset, None, ctypes.c_size_t(0), LL_CREATE_RULESET_VERSION)
    return int(r) if r > 0 else 0


def unshare(flags: int) -> None:
    """ctypes unshare(2) (os.unshare only arrives in Python 3.12)."""
    if _libc.unshare(ctypes.c_int(flags)) != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"unshare({flags:#x}): {os.strerror(e)}")


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    r = _libc.mount(
        source.encode(),
        target.encode(),
        fstype.encode() if fstype else None,
        ctypes.c_ulong(flags),
        data.encode() if data else None,
    )
    if r != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"mount {target}: {os.strerror(e)}")


# ------------------------------------------------------------------------------------- worker set-up
def setup_worker_namespaces(notes: dict[str, tuple[bool, str]]) -> bool:
    """Give this fork-server its own network, IPC, UTS and mount namespaces (root only).

    Done once per worker, so no child pays for it: children inherit a network namespace with only a
    downed loopback (no route anywhere). Returns whether the private mount namespace exists, in which
    the worker then builds its filesystem view (``fsview.py``) or at least its scratch tmpfs.
    """
    try:
        unshare(CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)
        notes["netns"] = (True, "per-worker network namespace (no interfaces up), IPC and UTS namespaces")
    except OSError as e:
        notes["netns"] = (False, f"network namespace unavailable: {e}")
    try:
        unshare(CLONE_NEWNS)
        _mount("none", "/", None, MS_REC | MS_PRIVATE, None)
        return True
    except OSError as e:
        notes["scratch_tmpfs"] = (False, f"no private mount namespace, scratch on host disk: {e}")
        return False


def mount_scratch(scratch_root: str, tmpfs_mb: int, notes: dict[str, tuple[bool, str]]) -> None:
    """A private, size-capped tmpfs for scratch files at ``scratch_root`` (when there is no view).

    Disk floods end in ENOSPC inside RAM the worker owns, and the mount vanishes with the fork-server.
    """
    os.makedirs(scratch_root, exist_ok=True)
    try:
        _mount("cf-scratch", scratch_root, "tmpfs", MS_NOSUID | MS_NODEV, f"size={tmpfs_mb}m,mode=0711")
        notes["scratch_tmpfs"] = (True, f"private {tmpfs_mb} MiB tmpfs at {scratch_root}")
    except OSError as e:
        notes["scratch_tmpfs"] = (False, f"private tmpfs unavailable, scratch on host disk: {e}")


def _umount_detach(target: str) -> None:
    if _libc.umount2(target.encode(), ctypes.c_int(MNT_DETACH)) != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"umount {target}: {os.strerror(e)}")


def build_landlock(
    scratch_root: str, notes: dict[str, tuple[bool, str]], readable: list[str] | None = None
) -> tuple[int | None, int]:
    """Build (but do not apply) a ruleset: read+execute ``readable`` (default: all of /, which is the
    worker's filesystem view when it has one), write only under scratch, no TCP."""
    abi = landlock_abi()
    if abi <= 0:
        notes["landlock"] = (False, "Landlock not available in this kernel")
        return None, 0
    fs_all = (1 << 13) - 1
    if abi >= 2:
        fs_all |= LL_FS_REFER
    if abi >= 3:
        fs_all |= LL_FS_TRUNCATE
    net = (LL_NET_BIND_TCP | LL_NET_CONNECT_TCP) if abi >= 4 else 0
    scoped = (LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL) if abi >= 6 else 0
    if abi >= 6:
        attr = struct.pack("QQQ", fs_all, net, scoped)
    elif abi >= 4:
        attr = struct.pack("QQ", fs_all, net)
    else:
        attr = struct.pack("Q", fs_all)
    buf = ctypes.create_string_buffer(attr, len(attr))
    fd = _libc.syscall(SYS_landlock_create_ruleset, buf, ctypes.c_size_t(len(attr)), 0)
    if fd < 0:
        notes["landlock"] = (False, f"landlock_create_ruleset failed: {os.strerror(ctypes.get_errno())}")
        return None, 0
    fd = int(fd)
    read_x = LL_FS_EXECUTE | LL_FS_READ_FILE | LL_FS_READ_DIR
    file_rw = LL_FS_READ_FILE | LL_FS_WRITE_FILE | (LL_FS_TRUNCATE if abi >= 3 else 0)
    read_file = LL_FS_EXECUTE | LL_FS_READ_FILE
    rules = [(p, read_x if os.path.isdir(p) else read_file) for p in readable or ["/"] if os.path.exists(p)]
    rules += [(scratch_root, fs_all), ("/dev/null", file_rw)]
    for path, access in rules:
        pfd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        try:
            rule = ctypes.create_string_buffer(struct.pack("=Qi", access, pfd), 12)
            if _libc.syscall(SYS_landlock_add_rule, fd, LL_RULE_PATH_BENEATH, rule, 0) != 0:
                e = ctypes.get_errno()
                os.close(fd)
                notes["landlock"] = (False, f"landlock_add_rule({path}) failed: {os.strerror(e)}")
                return None, 0
        finally:
            os.close(pfd)
    os.set_inheritable(fd, True)
    extra = ", no TCP bind/connect" if net else " (no network rules: ABI < 4)"
    extra += ", signals and abstract sockets scoped" if scoped else ""
    reads = f"read-only allow-list of {len(readable)} paths" if readable else "read-only /"
    notes["landlock"] = (True, f"ABI {abi}: {reads}, writable scratch{extra}")
    return fd, abi


def _export(f: object) -> bytes:
    r, w = os.pipe()
    try:
        with os.fdopen(w, "wb", closefd=False) as wf:
            f.export_bpf(wf)  # type: ignore[attr-defined]
        os.close(w)
        w = -1
        chunks = []
        while True:
            c = os.read(r, 65536)
            if not c:
                break
            chunks.append(c)
        return b"".join(chunks)
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)


def build_seccomp(notes: dict[str, tuple[bool, str]]) -> bytes | None:
    """Compile the seccomp program once with pyseccomp (libseccomp); return its raw BPF bytes.

    It is loaded into the fork-server itself once set-up is done, so every child inherits it for free:
    nothing is loaded per child.
    """
    try:
        import pyseccomp as sc
    except Exception as e:  # pragma: no cover - depends on the environment
        notes["seccomp"] = (False, f"pyseccomp/libseccomp unavailable: {e}")
        return None
    try:
        f = sc.SyscallFilter(sc.ALLOW)
        skipped = []
        for name in DENIED_SYSCALLS:
            try:
                f.add_rule(sc.ERRNO(errno.EPERM), name)
            except Exception:
                skipped.append(name)
        f.add_rule(sc.ERRNO(errno.EAFNOSUPPORT), "socket", sc.Arg(0, sc.NE, AF_UNIX))
        f.add_rule(sc.ERRNO(errno.EAFNOSUPPORT), "socketpair", sc.Arg(0, sc.NE, AF_UNIX))
        for flag in NS_FLAGS:
            f.add_rule(sc.ERRNO(errno.EPERM), "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
        f.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")  # its flags live in memory; libc falls back to clone
        f.add_rule(sc.ERRNO(errno.EPERM), "ioctl", sc.Arg(1, sc.MASKED_EQ, 0xFFFFFFFF, TIOCSTI))
        program = _export(f)
        note = (
            f"{len(program) // 8} BPF instructions: no inet/netlink/raw sockets, ptrace, "
            "mount, bpf, keyctl, namespaces, io_uring, ..."
        )
        if skipped:
            note += f" (unknown here: {', '.join(skipped)})"
        notes["seccomp"] = (True, note)
        return program
    except Exception as e:
        notes["seccomp"] = (False, f"seccomp filter could not be built: {e}")
        return None


# ------------------------------------------------------------------------------------ per-child layers
def set_rlimits(as_bytes: int | None, cpu_s: float, fsize: int, nofile: int, nproc: int | None) -> None:
    """Resource limits; AS is optional because JIT runtimes (JVM, V8) reserve huge virtual ranges."""
    if as_bytes is not None:
        resource.setrlimit(resource.RLIMIT_AS, (as_bytes, as_bytes))
    cpu = max(1, int(cpu_s + 0.999))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if nproc is not None:
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))


def drop_privileges(uid: int) -> None:
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


def no_new_privs() -> None:
    if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS")


def landlock_restrict(fd: int) -> None:
    if _libc.syscall(SYS_landlock_restrict_self, fd, 0) != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"landlock_restrict_self: {os.strerror(e)}")


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


SYS_seccomp = 317
SECCOMP_SET_MODE_FILTER = 1
SECCOMP_FILTER_FLAG_SPEC_ALLOW = 4


def seccomp_load(prog: bytes) -> None:
    """Install a BPF program. SPEC_ALLOW skips the forced speculative-store-bypass mitigation, which
    costs a fraction of a millisecond per process and guards against reading one's own memory."""
    buf = ctypes.create_string_buffer(prog, len(prog))
    fprog = _SockFprog(len(prog) // 8, ctypes.cast(buf, ctypes.c_void_p))
    r = _libc.syscall(
        SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_SPEC_ALLOW, ctypes.byref(fprog)
    )
    if r != 0:
        r = _libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0)
    if r != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"seccomp load: {os.strerror(e)}")


@dataclass
class ChildPlan:
    """Which layers this particular child gets, and its limits."""

    scratch: str
    as_bytes: int | None
    cpu_s: float
    fsize: int
    nofile: int
    nproc: int
    drop_uid: bool = True
    layers: frozenset[str] = frozenset({"session", "rlimits", "uid", "landlock", "seccomp"})


def apply_child_isolation(setup: WorkerSetup, plan: ChildPlan) -> None:
    """Apply every enabled layer, in order, inside the just-forked child. Raises on any failure.

    Order matters: rlimits need root, so they come before the uid drop; Landlock comes last because it
    needs ``no_new_privs`` once capabilities are gone. The seccomp filter is already there: the child
    inherits the fork-server's.
    """
    layers = plan.layers
    if "session" in layers:
        os.setsid()
    os.chdir(plan.scratch)
    if "rlimits" in layers:
        uid_limited = "uid" in layers and setup.uid is not None and plan.drop_uid
        set_rlimits(plan.as_bytes, plan.cpu_s, plan.fsize, plan.nofile, plan.nproc if uid_limited else None)
    if "uid" in layers and setup.uid is not None and plan.drop_uid:
        drop_privileges(setup.uid)
    if "landlock" in layers and setup.landlock_fd is not None:
        no_new_privs()
        landlock_restrict(setup.landlock_fd)
