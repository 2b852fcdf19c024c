"""The pids cgroup of a worker: made, joined (its files held open) and removed; stale ones swept.

Once per worker: the fork-server joins its cgroup itself, so children inherit membership without a per-child
migration (which costs an RCU grace period), and ``pids.max`` caps processes and threads even for root.
Stdlib only (the fork-server imports it).
"""

from __future__ import annotations

import contextlib
import os


def setup_cgroup(name: str, notes: dict[str, tuple[bool, str]]) -> str | None:
    """A pids cgroup for this worker: caps processes+threads even for root, independent of uid."""
    base = "/sys/fs/cgroup/pids"
    if not os.path.isdir(base):
        base = "/sys/fs/cgroup"  # cgroup v2 unified
    # Nest under our own cgroup so limits the caller is under (e.g. a test runner's) still apply.
    own = ""
    with contextlib.suppress(OSError), open("/proc/self/cgroup") as f:
        for line in f:
            _, ctrls, cpath = line.rstrip("\n").split(":", 2)
            if "pids" in ctrls.split(",") or (ctrls == "" and base == "/sys/fs/cgroup"):
                own = cpath.lstrip("/")
    path = os.path.join(base, own, name)
    try:
        os.makedirs(path, exist_ok=True)
        with open(os.path.join(path, "pids.max"), "w") as f:
            f.write("max")
        notes["pids_cgroup"] = (True, f"pids cgroup {path}")
        return path
    except OSError as e:
        notes["pids_cgroup"] = (False, f"pids cgroup unavailable: {e}")
        return None


def remove_cgroup(path: str | None, leave: bool = False) -> None:
    """Remove a worker cgroup; with ``leave`` first move this process back to the parent cgroup."""
    if not path:
        return
    if leave:
        with (
            contextlib.suppress(OSError),
            open(os.path.join(os.path.dirname(path), "cgroup.procs"), "w") as f,
        ):
            f.write("0")
    with contextlib.suppress(OSError):
        os.rmdir(path)


def remove_stale_cgroups(parent: str, prefix: str = "codefoundry-") -> None:
    """Remove empty worker cgroups left by supervisors that were killed (rmdir fails on busy ones)."""
    with contextlib.suppress(OSError):
        for name in os.listdir(parent):
            if name.startswith(prefix):
                parts = name.split("-")
                if len(parts) >= 2 and parts[1].isdigit() and not os.path.exists(f"/proc/{parts[1]}"):
                    with contextlib.suppress(OSError):
                        os.rmdir(os.path.join(parent, name))


def join_cgroup(cgroup_dir: str) -> None:
    with open(os.path.join(cgroup_dir, "cgroup.procs"), "w") as f:
        f.write("0")


def open_cgroup_files(cgroup_dir: str) -> tuple[int, int]:
    """``pids.max`` (to write) and ``cgroup.procs`` (to read), held open for the worker's life."""
    return (
        os.open(os.path.join(cgroup_dir, "pids.max"), os.O_WRONLY | os.O_CLOEXEC),
        os.open(os.path.join(cgroup_dir, "cgroup.procs"), os.O_RDONLY | os.O_CLOEXEC),
    )
