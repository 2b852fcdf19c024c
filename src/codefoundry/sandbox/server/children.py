"""One candidate run: fork an isolated child, watch its pipes, clocks and caps, reap it and its leftovers.

Everything recorded in a ``ChildOutcome`` is observed by the fork-server (exit status, signal, resource
usage, bytes read) or is what the child claimed on its result stream, size-capped and type-checked here. The
child's stream (fd 3) is newline-delimited JSON: ``{"e":"s","i":k}`` (test k starts), ``{"e":"r","i":k,
"st":...,"v":...,"err":...,"t":...}`` (test k ended), ``{"e":"x","st":...,"err":...}`` (the program as a
whole ended abnormally) and ``{"e":"iso","err":...}`` (isolation could not be applied); see ``harness.py``.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from codefoundry.sandbox import isolation
from codefoundry.sandbox.protocol import RunLimits, TestResult
from codefoundry.sandbox.server.framing import write_all
from codefoundry.sandbox.server.setup import Worker
from codefoundry.sandbox.status import CHILD_CLAIMS, Status

ISO_FAIL_RC = 121  # the exit code of a child whose isolation (or job set-up) failed

Job = Callable[[], None]  # what runs in the child once isolated; must not return into the server loop


@dataclass
class ChildOutcome:
    """What one child produced and how it ended (all observed by the fork-server, not claimed)."""

    results: dict[int, TestResult] = field(default_factory=dict)  # claimed on the result stream
    current: int | None = None  # the test the child is running now, for the per-test clock
    stdout: bytearray = field(default_factory=bytearray)
    stderr: bytearray = field(default_factory=bytearray)
    exit_code: int | None = None
    signal: int | None = None
    killed_for: str | None = None  # "timeout" | "output_limit" | "protocol" | "stopped"
    exit_claim: tuple[str, str] | None = None  # (status, error) from an "x" message
    maxrss_kb: int = 0
    cpu_s: float = 0.0
    wall_s: float = 0.0
    iso_error: str = ""


def child_env(scratch: str, extra: dict[str, str]) -> dict[str, str]:
    """The whole environment a candidate sees: nothing of the host's."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": scratch,
        "TMPDIR": scratch,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
    }
    env.update(extra)
    return env


def child_plan(
    worker: Worker, scratch: str, limits: RunLimits, lang: dict[str, Any], *, compile_step: bool = False
) -> isolation.ChildPlan:
    """The layers and rlimits of one child; a compile step gets the compiler's, not the candidate's."""
    mem_mb = limits.memory_mb
    as_mode = lang.get("as_mode", "limit")
    if compile_step:
        mem_mb = int(lang.get("compile_memory_mb", 2048))
        as_mode = lang.get("compile_as_mode", "limit")
    if as_mode == "inprocess":
        as_bytes = worker.base_vsz + mem_mb * 2**20
    elif as_mode == "limit":
        as_bytes = (mem_mb + int(lang.get("extra_mb", 0))) * 2**20
    else:
        as_bytes = None
    cpu = float(lang.get("compile_time_s", 60)) if compile_step else limits.cpu_s
    return isolation.ChildPlan(
        scratch=scratch,
        as_bytes=as_bytes,
        cpu_s=cpu,
        fsize=limits.file_size_mb * 2**20 if not compile_step else 512 * 2**20,
        nofile=limits.open_files if not compile_step else 1024,
        nproc=limits.processes if not compile_step else 256,
        drop_uid=not (compile_step and not lang.get("compile_drop_uid", True)),
        layers=worker.layers,
    )


def exec_job(argv: list[str], env: dict[str, str]) -> Job:
    """A job that replaces the child with a runtime or a built binary."""

    def job() -> None:
        os.execve(argv[0], argv, env)

    return job


def run_child(
    worker: Worker,
    plan: isolation.ChildPlan,
    job: Job,
    *,
    stdin_data: bytes | None,
    merge_stderr: bool,
    total_deadline: float,
    per_test_s: float,
    out_cap: int,
    msg_cap: int,
    on_result: Callable[[int, TestResult], bool] | None = None,
    first_test: int | None = None,
) -> ChildOutcome:
    """Fork one isolated child running ``job``; watch its pipes, deadlines and caps; reap it."""
    oc = ChildOutcome()
    res_r, res_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = (out_r, out_w) if merge_stderr else os.pipe()
    in_fd = None
    if stdin_data is not None:
        in_fd = os.memfd_create("stdin", 0)
        write_all(in_fd, stdin_data)
        os.lseek(in_fd, 0, os.SEEK_SET)
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:  # ---------------------------------------------------------------- child
        try:
            os.dup2(in_fd if in_fd is not None else worker.null_fd, 0)
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            os.dup2(res_w, 3)
            isolation.apply_child_isolation(worker.setup, plan)
            os.closerange(4, 1 << 16)
            job()
        except BaseException as e:  # noqa: BLE001 - must never return into the server loop
            with contextlib.suppress(BaseException):
                os.write(3, (json.dumps({"e": "iso", "err": f"{type(e).__name__}: {e}"}) + "\n").encode())
        finally:
            os._exit(ISO_FAIL_RC)
    # ---------------------------------------------------------------------------------- parent
    for fd in {res_w, out_w, err_w}:
        os.close(fd)
    if in_fd is not None:
        os.close(in_fd)
    pidfd = os.pidfd_open(pid)
    poller = select.poll()
    open_fds = {res_r, out_r, err_r}
    for fd in open_fds:
        poller.register(fd, select.POLLIN)
    poller.register(pidfd, select.POLLIN)
    stream = _ResultStream(pid, oc, t0, msg_cap, on_result)
    if first_test is not None:
        oc.current = first_test
    exited = False
    drain_until = None
    while open_fds or not exited:
        now = time.monotonic()
        deadline = total_deadline
        if oc.current is not None and oc.current not in oc.results:
            deadline = min(deadline, stream.test_start + per_test_s)
        if exited:
            if drain_until is None:
                drain_until = now + 0.5
            deadline = drain_until
        wait_ms = max(0, int((deadline - now) * 1000) + 1)
        events = poller.poll(wait_ms)
        now = time.monotonic()
        for fd, _ev in events:
            if fd == pidfd:
                exited = True
                poller.unregister(pidfd)
                continue
            try:
                chunk = os.read(fd, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                poller.unregister(fd)
                open_fds.discard(fd)
                continue
            if fd == res_r:
                stream.feed(chunk, now)
            else:
                buf = oc.stdout if fd == out_r else oc.stderr
                cap = out_cap if fd == out_r else max(out_cap, 65536)
                room = cap - len(buf)
                if room > 0:
                    buf += chunk[:room]
                if len(chunk) > room and fd == out_r:
                    stream.kill("output_limit")
                    # stderr beyond the cap is dropped silently; it is only diagnostics
        if not exited and now >= deadline:
            stream.kill("timeout")
        if exited and drain_until is not None and now >= drain_until:
            break
    for fd in (res_r, out_r, err_r):
        with contextlib.suppress(OSError):
            os.close(fd)
    os.close(pidfd)
    _, status, ru = os.wait4(pid, 0)
    oc.wall_s = time.monotonic() - t0
    oc.maxrss_kb = ru.ru_maxrss
    oc.cpu_s = ru.ru_utime + ru.ru_stime
    if os.WIFSIGNALED(status):
        oc.signal = os.WTERMSIG(status)
    else:
        oc.exit_code = os.WEXITSTATUS(status)
    kill_leftovers(worker, pid)
    return oc


class _ResultStream:
    """The parent's reading of one child's result stream, its per-test clock, and the kill switch."""

    def __init__(
        self,
        pid: int,
        oc: ChildOutcome,
        t0: float,
        msg_cap: int,
        on_result: Callable[[int, TestResult], bool] | None,
    ) -> None:
        self.pid = pid
        self.oc = oc
        self.test_start = t0  # when the current test started, as far as the stream tells
        self.msg_cap = msg_cap
        self.on_result = on_result
        self.buf = bytearray()

    def kill(self, reason: str) -> None:
        """SIGKILL the child (and its process group); the first reason given is the one kept."""
        if self.oc.killed_for is None:
            self.oc.killed_for = reason
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.killpg(self.pid, signal.SIGKILL)

    def feed(self, chunk: bytes, now: float) -> None:
        """Take the complete lines read so far; a malformed one or an oversized stream kills the child."""
        self.buf += chunk
        if len(self.buf) > self.msg_cap:
            self.kill("output_limit")
            self.buf.clear()
            return
        oc = self.oc
        while True:
            nl = self.buf.find(b"\n")
            if nl < 0:
                break
            line = bytes(self.buf[:nl])
            del self.buf[: nl + 1]
            try:
                msg = json.loads(line)
                ev = msg["e"]
            except Exception:
                self.kill("protocol")
                break
            if ev == "s":
                idx = msg.get("i")
                if type(idx) is int:
                    oc.current = idx
                    self.test_start = now
            elif ev == "r":
                idx = msg.get("i")
                if type(idx) is not int or idx in oc.results:
                    self.kill("protocol")
                    break
                r = claimed_result(msg, now - self.test_start)
                oc.results[idx] = r
                oc.current = idx + 1
                self.test_start = now
                if self.on_result is not None and not self.on_result(idx, r):
                    self.kill("stopped")
            elif ev == "x":
                oc.exit_claim = (str(msg.get("st", "")), str(msg.get("err", ""))[:4000])
            elif ev == "iso":
                oc.iso_error = str(msg.get("err", ""))[:2000]


def claimed_result(msg: dict[str, Any], elapsed: float) -> TestResult:
    """A child's "r" message as a result: a status from the child's own vocabulary, string output only,
    a capped error, and the child's timing only when it is a plausible float."""
    status = str(msg.get("st", Status.RUNTIME_ERROR))
    output = msg.get("v")
    t_claim = msg.get("t")
    return TestResult(
        status=status if status in CHILD_CLAIMS else Status.RUNTIME_ERROR,
        output=output if type(output) is str else None,
        error=str(msg.get("err", ""))[:4000],
        time_s=round(t_claim if type(t_claim) is float and t_claim >= 0 else elapsed, 6),
    )


def kill_leftovers(worker: Worker, pid: int) -> None:
    """No process outlives its candidate: as PID 1 of the worker's PID namespace, kill(-1) reaches
    every other process in it atomically (no fork can race it); then reap the orphans."""
    if worker.pidns:
        with contextlib.suppress(OSError):
            os.kill(-1, signal.SIGKILL)
        while True:
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                break
            except InterruptedError:
                continue
    else:
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
        _cgroup_sweep(worker.setup.cgroup_procs_fd)


def _cgroup_sweep(procs_fd: int | None) -> None:
    """Belt and braces: kill anything still in the worker's cgroup (should be empty already)."""
    if procs_fd is None:
        return
    me = os.getpid()
    for _ in range(100):
        try:
            os.lseek(procs_fd, 0, os.SEEK_SET)
            pids = [int(x) for x in os.read(procs_fd, 1 << 20).split() if int(x) not in (0, me)]
        except OSError:
            return
        if not pids:
            return
        for p in pids:
            with contextlib.suppress(OSError):
                os.kill(p, signal.SIGKILL)
        time.sleep(0.005)
