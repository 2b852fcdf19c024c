"""Once per worker: the isolation the fork-server sets up for itself and every child it will fork.

Namespaces, the filesystem view, the pids cgroup and a Landlock ruleset are made here, once, and the seccomp
program the supervisor compiled is loaded,
so that what is left per child is a handful of syscalls. The pre-imports and the frozen heap are also done
here: children inherit them instead of importing again.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
import sys
from dataclasses import dataclass

from codefoundry.sandbox import cgroups, fsview, isolation
from codefoundry.sandbox.protocol import ServerConfig

Notes = dict[str, tuple[bool, str]]  # layer -> (active, detail), reported at start-up


@dataclass
class Worker:
    """What the set-up produced, shared by every request this fork-server serves."""

    setup: isolation.WorkerSetup
    layers: frozenset[str]
    notes: Notes
    pidns: bool  # the fork-server is PID 1 of the worker's own PID namespace
    null_fd: int  # /dev/null, a child's stdin when it has none
    base_vsz: int = 0  # the warm fork-server's address-space size, which in-process children start from
    pids_max: int = -1
    seq: int = 0  # requests served: names each request's scratch dir
    view: bool = False  # the worker lives in its own filesystem view (fsview.py)

    def build_dirs(self, build_cache: str) -> tuple[str, str]:
        """Where compiled artefacts are stored (by the fork-server) and run from (by children)."""
        return (fsview.BUILD_STORE, fsview.BUILD_RUN) if self.view else (build_cache, build_cache)

    def set_pids_max(self, n: int) -> None:
        """Cap the candidate's tasks (+1: the fork-server itself is in the cgroup)."""
        if self.setup.pids_max_fd is not None and n != self.pids_max:
            os.lseek(self.setup.pids_max_fd, 0, os.SEEK_SET)
            os.write(self.setup.pids_max_fd, str(n + 1).encode())
            self.pids_max = n


def set_up_worker(cfg: ServerConfig) -> Worker:
    """Apply the per-worker layers ``cfg`` enables, pre-import, and freeze the warm heap.

    The order matters: the cgroup is joined (and its files held open) before the filesystem view hides
    ``/sys``; the view is built after the PID namespace exists and before seccomp forbids ``mount``.
    """
    layers = frozenset(cfg.layers)
    notes: Notes = {}
    root = os.geteuid() == 0
    pidns = os.getpid() == 1
    uid = cfg.uid if root and "uid" in layers else None
    if "uid" in layers and uid is None:
        notes["uid"] = (False, "not started as root: cannot switch uid")
    elif uid is not None:
        notes["uid"] = (True, f"children run as uid {uid}")
    cg, cg_fds = None, (None, None)
    if root and "cgroup" in layers:
        cg = cgroups.setup_cgroup(cfg.cgroup_name, notes)
    if cg:
        try:
            cgroups.join_cgroup(cg)
            cg_fds = cgroups.open_cgroup_files(cg)
        except OSError as e:
            notes["pids_cgroup"] = (False, f"could not join pids cgroup: {e}")
            cg = None
    scratch_root = _set_up_filesystem(cfg, layers, root, pidns, notes)
    in_view = notes.get("fs_view", (False,))[0]
    ll_fd, abi = (None, 0)
    if "landlock" in layers:
        # In the view, all of / is the view; without one, Landlock alone narrows reads to what it would hold.
        readable = None if in_view else fsview.readable_paths(_read_only(cfg), cfg.build_cache)
        ll_fd, abi = isolation.build_landlock(scratch_root, notes, readable)
    seccomp_program = (
        bytes.fromhex(cfg.seccomp_program) if "seccomp" in layers and cfg.seccomp_program else None
    )
    if "seccomp" in layers:
        notes["seccomp"] = (seccomp_program is not None, cfg.seccomp_note or "no program was compiled")
    setup = isolation.WorkerSetup(
        scratch_root=scratch_root,
        uid=uid,
        landlock_fd=ll_fd,
        landlock_abi=abi,
        cgroup_dir=cg,
        pids_max_fd=cg_fds[0],
        cgroup_procs_fd=cg_fds[1],
        notes=notes,
    )
    notes["pidns"] = (
        (
            True,
            "fork-server is PID 1 of the worker's PID namespace; leftovers die with kill(-1) after each run",
        )
        if pidns
        else (False, "no PID namespace: leftovers are killed by process group and cgroup sweep")
    )
    worker = Worker(
        setup=setup,
        layers=layers,
        notes=notes,
        pidns=pidns,
        null_fd=os.open("/dev/null", os.O_RDWR),
        view=in_view,
    )
    for name in cfg.preimport:
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    if seccomp_program:
        try:
            isolation.seccomp_load(seccomp_program)
        except OSError as e:
            notes["seccomp"] = (False, f"could not load the filter: {e}")
    # Freeze the warm heap: the children's garbage collector then never walks (and so never
    # copy-on-write faults) the pre-imported objects.
    gc.collect()
    gc.freeze()
    worker.base_vsz = _vsz_bytes()
    return worker


def _set_up_filesystem(
    cfg: ServerConfig, layers: frozenset[str], root: bool, pidns: bool, notes: Notes
) -> str:
    """The worker's filesystem: its own view (scratch at /tmp), or a scratch tmpfs on the host; the scratch root."""
    if not (root and "namespaces" in layers):
        os.makedirs(cfg.scratch_root, exist_ok=True)
        if "namespaces" in layers:
            notes["netns"] = (False, "per-worker namespaces need root")
        if "fs_view" in layers:
            notes["fs_view"] = (False, "a filesystem view needs root and a mount namespace")
        return cfg.scratch_root
    if not isolation.setup_worker_namespaces(notes):
        os.makedirs(cfg.scratch_root, exist_ok=True)
        return cfg.scratch_root
    if "fs_view" in layers:
        if fsview.build_view(_read_only(cfg), cfg.build_cache, cfg.tmpfs_mb, notes):
            notes["scratch_tmpfs"] = (True, f"private {cfg.tmpfs_mb} MiB tmpfs, the view's {fsview.SCRATCH}")
            notes["proc"] = (True, "private /proc (hidepid): candidates see only their own processes")
            return fsview.SCRATCH
    else:
        notes["fs_view"] = (False, "disabled in SandboxConfig.layers")
    isolation.mount_scratch(cfg.scratch_root, cfg.tmpfs_mb, notes)
    if notes.get("scratch_tmpfs", (False,))[0]:
        fsview.open_closed_home([sys.base_prefix, sys.prefix, *sys.path], notes)
        if pidns:
            try:
                isolation._mount("proc", "/proc", "proc", isolation.MS_NOSUID | isolation.MS_NODEV, None)
                notes["proc"] = (True, "private /proc: candidates see only their own PID namespace")
            except OSError as e:
                notes["proc"] = (False, f"could not mount a private /proc: {e}")
    return cfg.scratch_root


def _read_only(cfg: ServerConfig) -> list[str]:
    """What children read besides the system: the interpreter, codefoundry's package, the toolchains."""
    import codefoundry

    package = os.path.dirname(os.path.abspath(codefoundry.__file__))
    return [*fsview.interpreter_paths(package), *cfg.view_paths]


def _vsz_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
