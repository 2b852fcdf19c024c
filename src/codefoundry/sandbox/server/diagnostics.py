"""Checks from inside: the start-up probe (do the layers really bite?) and the per-layer fork cost.

The probe is what ``Sandbox.layers()`` and ``codefoundry sandbox doctor`` report, so a layer that was set up
but does not hold (a kernel without Landlock, a seccomp filter that did not load) is seen as missing rather
than assumed present.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from typing import Any

from codefoundry.sandbox import isolation
from codefoundry.sandbox.protocol import MeasureReply, ProbeReport, RunLimits
from codefoundry.sandbox.server.children import child_plan, run_child
from codefoundry.sandbox.server.setup import Worker

# Limits of the probe and measuring children; only memory, CPU, files and processes are applied.
_LIMITS = RunLimits(
    time_s=10.0,
    per_test_time_s=10.0,
    cpu_s=5.0,
    memory_mb=512,
    output_kb=64,
    file_size_mb=16,
    open_files=64,
    processes=32,
)
_IN_PROCESS = {"as_mode": "inprocess"}


def probe(worker: Worker) -> ProbeReport:
    """Fork one fully isolated child and check from inside that the layers actually bite."""
    scratch = os.path.join(worker.setup.scratch_root, "probe")
    os.makedirs(scratch, exist_ok=True)
    if worker.setup.uid is not None:
        os.chown(scratch, worker.setup.uid, worker.setup.uid)
    # A world-writable directory outside scratch, so that only Landlock can stop the child writing there
    # (in the view, "/" is the view's own root, writable by the fork-server only).
    outside = tempfile.mkdtemp(prefix="cf-probe-", dir="/" if worker.view else None)
    os.chmod(outside, 0o777)

    def job() -> None:
        import socket

        checks: dict[str, Any] = {"uid": os.getuid(), "pid": os.getpid()}
        try:
            socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
            checks["inet_socket"] = "allowed"
        except OSError as e:
            checks["inet_socket"] = f"blocked ({e.strerror})"
        try:
            fd = os.open(os.path.join(outside, "x"), os.O_WRONLY | os.O_CREAT, 0o644)
            os.close(fd)
            checks["write_outside"] = "allowed"
        except OSError as e:
            checks["write_outside"] = f"blocked ({e.strerror})"
        try:
            fd = os.open(os.path.join(scratch, "x"), os.O_WRONLY | os.O_CREAT, 0o644)
            os.close(fd)
            checks["write_scratch"] = "allowed"
        except OSError as e:
            checks["write_scratch"] = f"blocked ({e.strerror})"
        try:
            isolation.unshare(isolation.CLONE_NEWNS)
            checks["unshare"] = "allowed"
        except OSError as e:
            checks["unshare"] = f"blocked ({e.strerror})"
        try:
            with open("/proc/self/status") as f:
                checks["seccomp_mode"] = [x.split()[1] for x in f if x.startswith("Seccomp:")][0]
                checks["no_new_privs"] = True
        except Exception:
            pass
        try:
            with open("/proc/net/dev") as f:
                checks["netifs"] = sorted(x.split(":")[0].strip() for x in f.readlines()[2:])
        except OSError:
            checks["netifs"] = ["?"]
        checks["visible_pids"] = len([d for d in os.listdir("/proc") if d.isdigit()])
        try:
            checks["root_entries"] = sorted(os.listdir("/"))
        except OSError as e:
            checks["root_entries"] = f"blocked ({e.strerror})"
        for name, path in (("server_root", "/proc/1/root/"), ("home", "/home")):
            try:
                checks[name] = f"visible ({len(os.listdir(path))} entries)"
            except OSError as e:
                checks[name] = f"blocked ({e.strerror})"
        os.write(3, (json.dumps({"e": "r", "i": 0, "st": "ok", "v": json.dumps(checks)}) + "\n").encode())
        os._exit(0)

    plan = child_plan(worker, scratch, _LIMITS, _IN_PROCESS)
    worker.set_pids_max(32)
    try:
        oc = run_child(
            worker,
            plan,
            job,
            stdin_data=None,
            merge_stderr=True,
            total_deadline=time.monotonic() + 10,
            per_test_s=10,
            out_cap=65536,
            msg_cap=65536,
            first_test=0,
        )
    finally:
        shutil.rmtree(outside, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)
    checks = json.loads(oc.results[0].output or "") if 0 in oc.results else {}
    return ProbeReport(
        notes=dict(worker.notes),
        checks=checks,
        iso_error=oc.iso_error,
        pidns=worker.pidns,
        server_pid=os.getpid(),
        cgroup_dir=worker.setup.cgroup_dir,
        base_vsz_mb=round(worker.base_vsz / 2**20, 1),
    )


def measure(worker: Worker, n: int) -> MeasureReply:
    """Median fork->reap time with progressively more layers (the per-candidate isolation cost).

    The variants are interleaved round-robin so that load from other processes drifts over all of
    them alike; the medians are then comparable even on a busy machine.
    """
    scratch = os.path.join(worker.setup.scratch_root, "measure")
    os.makedirs(scratch, exist_ok=True)
    if worker.setup.uid is not None:
        os.chown(scratch, worker.setup.uid, worker.setup.uid)
    order = ["session", "rlimits", "uid", "landlock"]
    variants = []
    for k in range(-1, len(order)):
        plan = child_plan(worker, scratch, _LIMITS, _IN_PROCESS)
        plan.layers = frozenset(order[: k + 1]) & worker.layers
        variants.append(("fork only" if k < 0 else "+" + order[k], plan))
    times: dict[str, list[float]] = {name: [] for name, _ in variants}
    try:
        for _ in range(n):
            for name, plan in variants:
                t = time.perf_counter()
                pid = os.fork()
                if pid == 0:
                    try:
                        isolation.apply_child_isolation(worker.setup, plan)
                    finally:
                        os._exit(0)
                os.waitpid(pid, 0)
                times[name].append(time.perf_counter() - t)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return MeasureReply(
        median_ms={name: round(1000 * sorted(ts)[len(ts) // 2], 3) for name, ts in times.items()}
    )
