"""Run one hostile request in a throwaway sandbox, confined so a sandbox regression cannot hurt the host.

Invoked by the tests as ``unshare --pid --fork --kill-child --mount-proc python hostile_runner.py`` with an
ExecRequest JSON on stdin. This process is PID 1 of its own PID namespace (everything dies with it) and puts
itself in a pids cgroup (512 tasks) and a memory cgroup (3 GiB) before starting the sandbox, so even a
broken sandbox cannot fork-bomb or exhaust the machine. Prints one JSON line: the result and the processes
left behind in the namespace after the run.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys


def _confine() -> list[str]:
    made = []
    for ctrl, knob, value in (("pids", "pids.max", "512"), ("memory", "memory.limit_in_bytes", str(3 << 30))):
        path = f"/sys/fs/cgroup/{ctrl}/cf-hostile-{os.getpid()}-{os.getppid()}-{id(made)}"
        try:
            os.makedirs(path, exist_ok=True)
            with open(os.path.join(path, knob), "w") as f:
                f.write(value)
            with open(os.path.join(path, "cgroup.procs"), "w") as f:
                f.write("0")
            made.append(path)
        except OSError:
            pass
    return made


def _procs() -> list[str]:
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            with contextlib.suppress(OSError), open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")[:80]
                out.append(f"{d}:{cmd}")
    return out


def main() -> None:
    from codefoundry.sandbox import ExecRequest, Sandbox, SandboxConfig

    cgroups = _confine()
    payload = json.loads(sys.stdin.read())
    req = ExecRequest.model_validate(payload["request"])
    follow = ExecRequest.model_validate(payload["follow"]) if payload.get("follow") else None
    sb = Sandbox(SandboxConfig(workers=1, tmpfs_mb=64))
    with sb:
        res = sb.run(req)
        during = _procs()
        follow_res = sb.run(follow) if follow else None
    after = _procs()
    print(
        json.dumps(
            {
                "result": res.model_dump(mode="json"),
                "follow": follow_res.model_dump(mode="json") if follow_res else None,
                "procs_during": during,
                "procs_after": after,
                "confined": cgroups,
            }
        )
    )
    for path in cgroups:
        with contextlib.suppress(OSError):
            with open(os.path.join(os.path.dirname(path), "cgroup.procs"), "w") as f:
                f.write("0")
            os.rmdir(path)


if __name__ == "__main__":
    main()
