"""Once per worker: the isolation the fork-server sets up for itself and every child it will fork.

Namespaces, the scratch tmpfs, the pids cgroup, a Landlock ruleset and seccomp programs are made here, once,
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

from codefoundry.sandbox import isolation
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

    def set_pids_max(self, n: int) -> None:
        """Cap the candidate's tasks (+1: the fork-server itself is in the cgroup)."""
        if self.setup.cgroup_dir and n != self.pids_max:
            with open(os.path.join(self.setup.cgroup_dir, "pids.max"), "w") as f:
                f.write(str(n + 1))
            self.pids_max = n


def set_up_worker(cfg: ServerConfig) -> Worker:
    """Apply the per-worker layers ``cfg`` enables, pre-import, and freeze the warm heap."""
    layers = frozenset(cfg.layers)
    notes: Notes = {}
    root = os.geteuid() == 0
    scratch_root = cfg.scratch_root
    if root and "namespaces" in layers:
        isolation.setup_worker_namespaces(scratch_root, cfg.tmpfs_mb, notes)
        if notes.get("scratch_tmpfs", (False,))[0]:
            isolation.open_closed_home([sys.base_prefix, sys.prefix, *sys.path], notes)
    else:
        os.makedirs(scratch_root, exist_ok=True)
        if "namespaces" in layers:
            notes["netns"] = (False, "per-worker namespaces need root")
    uid = cfg.uid if root and "uid" in layers else None
    if "uid" in layers and uid is None:
        notes["uid"] = (False, "not started as root: cannot switch uid")
    elif uid is not None:
        notes["uid"] = (True, f"children run as uid {uid}")
    cg = None
    if root and "cgroup" in layers:
        cg = isolation.setup_cgroup(cfg.cgroup_name, notes)
    ll_fd, abi = (None, 0)
    if "landlock" in layers:
        ll_fd, abi = isolation.build_landlock(scratch_root, notes)
    server_prog, prog = isolation.build_seccomp(notes) if "seccomp" in layers else (None, None)
    setup = isolation.WorkerSetup(
        scratch_root=scratch_root,
        uid=uid,
        landlock_fd=ll_fd,
        landlock_abi=abi,
        seccomp_prog=prog,
        cgroup_dir=cg,
        userns="userns" in layers,
        notes=notes,
    )
    pidns = os.getpid() == 1
    notes["pidns"] = (
        (
            True,
            "fork-server is PID 1 of the worker's PID namespace; leftovers die with kill(-1) after each run",
        )
        if pidns
        else (False, "no PID namespace: leftovers are killed by process group and cgroup sweep")
    )
    if pidns and notes.get("scratch_tmpfs", (False,))[0]:
        try:
            isolation._mount("proc", "/proc", "proc", isolation.MS_NOSUID | isolation.MS_NODEV, None)
            notes["proc"] = (True, "private /proc: candidates see only their own PID namespace")
        except OSError as e:
            notes["proc"] = (False, f"could not mount a private /proc: {e}")
    worker = Worker(
        setup=setup, layers=layers, notes=notes, pidns=pidns, null_fd=os.open("/dev/null", os.O_RDWR)
    )
    for name in cfg.preimport:
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    if cg:
        try:
            isolation.join_cgroup(cg)
        except OSError as e:
            notes["pids_cgroup"] = (False, f"could not join pids cgroup: {e}")
            setup.cgroup_dir = None
    if server_prog:
        try:
            isolation.seccomp_load(server_prog)
        except OSError as e:
            notes["seccomp"] = (False, f"could not load the server filter: {e}")
            setup.seccomp_prog = None
    # Freeze the warm heap: the children's garbage collector then never walks (and so never
    # copy-on-write faults) the pre-imported objects.
    gc.collect()
    gc.freeze()
    worker.base_vsz = _vsz_bytes()
    return worker


def _vsz_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
