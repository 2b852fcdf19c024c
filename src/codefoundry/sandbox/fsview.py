"""The filesystem a worker and its candidates see: a root made only of what the runtimes need.

Built once per worker, in the fork-server's private mount namespace: a small tmpfs becomes the new root
(``pivot_root``), holding read-only bind mounts of the system directories (``/usr`` and the ``/lib``, ``/bin``
links), a short list of ``/etc`` files, a few device nodes, the interpreter's own prefix and site-packages,
codefoundry's package, each language's toolchain and the build-artefact cache; a fresh size-capped tmpfs is
its ``/tmp`` (the candidates' scratch) and a fresh ``/proc`` with ``hidepid`` its process view. The host's
``/tmp``, ``/home``, ``/root``, ``/srv``, ``/mnt``, ``/var``, the project checkout, run directories and task
files do not exist in it: not for the children, not for the fork-server, not through ``/proc/1/root``. The
old root is detached, so no path leads back. Nothing is created on the host: the mounts die with the worker.

Stdlib + ctypes only (the fork-server imports it).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import platform
import tempfile

from codefoundry.sandbox import isolation

SYSTEM_ROOTS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# What programs read from /etc at start-up (loader, alternatives, time zone, name lookups of the own uid,
# the JDK's config); nothing with secrets (no shadow, ssh, ssl private keys, pip/npm/git configs).
ETC_ENTRIES = (
    "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime", "timezone", "passwd", "group",
    "nsswitch.conf", "host.conf", "hosts", "protocols", "services", "mime.types", "os-release",
    "debian_version", "ssl/openssl.cnf",
)  # fmt: skip
ETC_PREFIXES = ("java-",)  # the JDK's /etc/java-<version>-openjdk, which its lib/ links into
DEVICES = ("null", "zero", "full", "random", "urandom")
DEVICE_LINKS = {"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1",
                "stderr": "/proc/self/fd/2"}  # fmt: skip
SCRATCH = "/tmp"  # where the scratch tmpfs sits in the view: the children's /tmp, their work dirs below it
# The build-artefact cache appears twice: read-only where children run binaries from, writable only under a
# root-only (0700) directory, where the fork-server stores what a compile produced.
BUILD_RUN = "/build"
BUILD_STORE = "/.build-store/build"
# The view is assembled on top of the host's /tmp (in the worker's mount namespace only), then pivoted into.
_ASSEMBLY = "/tmp"
_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}
_MS_RDONLY = 1
_MS_NOEXEC = 8
_MS_REMOUNT = 32


def etc_entries() -> list[str]:
    """The /etc paths the view holds (those that exist here)."""
    names = list(ETC_ENTRIES)
    with contextlib.suppress(OSError):
        names += [n for n in os.listdir("/etc") if n.startswith(ETC_PREFIXES)]
    return [os.path.join("/etc", n) for n in names if os.path.lexists(os.path.join("/etc", n))]


def interpreter_paths(package_dir: str) -> list[str]:
    """The Python the fork-server runs (its prefix, the environment's site-packages) and codefoundry itself.

    Only ``sys.path`` entries inside the interpreter's prefixes are kept, so a source checkout on the path
    (an editable install) is not visible: of it, only the ``codefoundry`` package directory is.
    """
    import sys

    prefixes = {os.path.realpath(p) for p in (sys.base_prefix, sys.prefix)}
    paths = [os.path.realpath(sys.base_prefix)]
    for entry in sys.path:
        real = os.path.realpath(entry) if entry else ""
        if real and os.path.isdir(real) and any(real.startswith(p + os.sep) for p in prefixes):
            paths.append(real)
    paths.append(os.path.realpath(package_dir))
    return paths


def minimal(paths: list[str]) -> list[str]:
    """Distinct absolute paths, without those already inside another one of the list."""
    out: list[str] = []
    for p in sorted({os.path.normpath(p) for p in paths if os.path.isabs(p)}):
        if not any(p == q or p.startswith(q.rstrip("/") + "/") for q in out):
            out.append(p)
    return out


def bound_paths(read_only: list[str]) -> list[str]:
    """The host paths the view binds read-only at their own place: the system, /etc's list, ``read_only``."""
    return minimal([*SYSTEM_ROOTS, *etc_entries(), *read_only])


def readable_paths(read_only: list[str], build_cache: str | None) -> list[str]:
    """What a child may read when there is no view (a Landlock allow-list): what the view would hold."""
    held = minimal([*bound_paths(read_only), *([build_cache] if build_cache else [])])
    return [*held, *(f"/dev/{d}" for d in DEVICES), "/proc"]


def build_view(
    read_only: list[str],
    build_cache: str | None,
    tmpfs_mb: int,
    notes: dict[str, tuple[bool, str]],
) -> bool:
    """Make the view and move this process into it. Returns False (and notes why) when it could not.

    Must run as root in a private mount namespace, after the worker's own PID namespace exists (the view's
    ``/proc`` shows that namespace) and before the seccomp filter (which forbids ``mount``).
    """
    machine = platform.machine()
    if machine not in _PIVOT_ROOT:
        notes["fs_view"] = (False, f"pivot_root number unknown on {machine}")
        return False
    entries = [p for p in bound_paths(read_only) if os.path.lexists(p)]
    sources = {}
    try:
        # Hold every source open first: once the view covers /tmp, sources under the host's /tmp are hidden.
        for path in [*entries, *([build_cache] if build_cache else []), *(f"/dev/{d}" for d in DEVICES)]:
            if os.path.lexists(path) and not os.path.islink(path):
                sources[path] = os.open(path, os.O_PATH | os.O_CLOEXEC)
        root = _ASSEMBLY
        flags = isolation.MS_NOSUID | isolation.MS_NODEV
        isolation._mount("cf-view", root, "tmpfs", flags, "size=8m,mode=0755")
        _parents(root + SCRATCH + "/x")  # first, so that a bound path under the host's /tmp stays visible
        isolation._mount("cf-scratch", root + SCRATCH, "tmpfs", flags, f"size={tmpfs_mb}m,mode=0711")
        for path in entries:
            if os.path.islink(path):
                _parents(root + path)
                os.symlink(os.readlink(path), root + path)
            elif path in sources:
                _bind(sources[path], root + path, read_only=True)
        if build_cache in sources:
            _bind(sources[build_cache], root + BUILD_RUN, read_only=True)
            _bind(sources[build_cache], root + BUILD_STORE, read_only=False)
            os.chmod(os.path.dirname(root + BUILD_STORE), 0o700)
        _parents(root + "/dev/x")
        for dev in DEVICES:
            if f"/dev/{dev}" in sources:
                _bind(sources[f"/dev/{dev}"], f"{root}/dev/{dev}", read_only=True, devices=True)
        for name, target in DEVICE_LINKS.items():
            os.symlink(target, f"{root}/dev/{name}")
        _parents(root + "/proc/x")
        isolation._mount("proc", root + "/proc", "proc", flags | _MS_NOEXEC, "hidepid=2")
        _pivot(root, machine)
    except OSError as e:
        notes["fs_view"] = (False, f"could not build the filesystem view: {e}")
        return False
    finally:
        for fd in sources.values():
            os.close(fd)
    etc = [p for p in entries if p.startswith("/etc/")]
    shown = ", ".join([p for p in entries if p not in etc] + [f"/etc ({len(etc)} entries)"])
    shown += f", the build cache at {BUILD_RUN}" if build_cache in sources else ""
    notes["fs_view"] = (
        True,
        f"own root: read-only {shown}, /dev/{{{','.join(DEVICES)}}}, a {tmpfs_mb} MiB tmpfs as /tmp, "
        "/proc with hidepid; nothing else of the host",
    )
    return True


def _parents(path: str) -> None:
    """Create the directories above ``path`` (world-traversable: the view's own skeleton)."""
    parent = os.path.dirname(path)
    missing = []
    while not os.path.exists(parent):
        missing.append(parent)
        parent = os.path.dirname(parent)
    for d in reversed(missing):
        os.mkdir(d)
        os.chmod(d, 0o755)


def _bind(source_fd: int, target: str, *, read_only: bool, devices: bool = False) -> None:
    """Bind the open ``source_fd`` at ``target`` (a new empty file or directory), read-only if asked."""
    _parents(target)
    if os.path.isdir(f"/proc/self/fd/{source_fd}"):
        os.mkdir(target)
    else:
        open(target, "w").close()  # noqa: SIM115 - an empty mount point
    isolation._mount(f"/proc/self/fd/{source_fd}", target, None, isolation.MS_BIND | isolation.MS_REC, None)
    flags = isolation.MS_BIND | _MS_REMOUNT | isolation.MS_NOSUID
    flags |= 0 if devices else isolation.MS_NODEV
    flags |= _MS_RDONLY if read_only else 0
    isolation._mount("none", target, None, flags, None)


def _pivot(root: str, machine: str) -> None:
    """Make ``root`` this mount namespace's root and detach the old one, so no path leads back to it."""
    old = root + "/.old-root"
    os.mkdir(old)
    if isolation._libc.syscall(_PIVOT_ROOT[machine], root.encode(), old.encode()) != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"pivot_root: {os.strerror(e)}")
    os.chdir("/")
    isolation._umount_detach("/.old-root")
    os.rmdir("/.old-root")


# ------------------------------------------------------------------------ without a view: a closed home
def closed_ancestor(path: str) -> str | None:
    """The first directory above ``path`` that other users cannot traverse (e.g. a 0700 /root), if any."""
    current = "/"
    for part in [p for p in os.path.realpath(path).split("/") if p][:-1]:
        current = os.path.join(current, part)
        if not os.stat(current).st_mode & 0o001:
            return current
    return None


def open_closed_home(paths: list[str], notes: dict[str, tuple[bool, str]]) -> None:
    """Let children (another uid) reach the interpreter when it lives under a closed home such as /root.

    Only used when the view is off: inside the worker's own mount namespace, the closed directory is covered
    by a 0711 tmpfs and each of its entries is bind-mounted back, so every entry keeps its own permissions
    (a 0700 ~/.ssh stays closed) while world-readable toolchains under it (~/.pyenv, ~/.rustup) become
    reachable. Without this a child could import only what the fork-server had pre-imported.
    """
    closed = sorted({a for a in (closed_ancestor(p) for p in paths) if a is not None})
    for directory in closed:
        staging = tempfile.mkdtemp(prefix="cf-home-")
        try:
            isolation._mount(directory, staging, None, isolation.MS_BIND | isolation.MS_REC, None)
            flags = isolation.MS_NOSUID | isolation.MS_NODEV
            isolation._mount("cf-home", directory, "tmpfs", flags, "size=1m,mode=0711")
            for name in os.listdir(staging):
                source, target = os.path.join(staging, name), os.path.join(directory, name)
                if os.path.islink(source):
                    os.symlink(os.readlink(source), target)
                    continue
                if os.path.isdir(source):
                    os.mkdir(target)
                else:
                    open(target, "w").close()  # noqa: SIM115 - an empty mount point
                isolation._mount(source, target, None, isolation.MS_BIND | isolation.MS_REC, None)
            isolation._umount_detach(staging)
            notes["home"] = (
                True,
                f"{directory} traversable by children; its entries keep their own permissions",
            )
        except OSError as e:
            notes["home"] = (
                False,
                f"{directory} stays closed to children (only pre-imported modules load): {e}",
            )
        finally:
            with contextlib.suppress(OSError):
                os.rmdir(staging)
