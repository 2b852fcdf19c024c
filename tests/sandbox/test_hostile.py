"""Hostile programs: each must be contained and get the right status.

Every test runs its program in a fresh sandbox inside its own PID namespace and cgroups (see
``hostile_runner.py``), and checks that no process is left behind. A follow-up request on the same sandbox
checks that the fork-server (the candidate's parent) survived.
"""

from __future__ import annotations

import os
import socket
import textwrap

import pytest

from codefoundry.sandbox import ExecRequest, Limits, TestInput

LIMITS = Limits(
    time_s=4, per_test_time_s=2, cpu_s=2, memory_mb=256, output_kb=64, file_size_mb=4, processes=32
)
FOLLOW = ExecRequest(
    code="def f():\n    return 42\n", entry_point="f", tests=[TestInput(args=[], expected=42)]
)


def req(
    code: str, expected: object = None, style: str = "function", stdin: str | None = None, **kw
) -> ExecRequest:
    test = TestInput(
        args=[] if style == "function" else None, stdin=stdin, expected=expected, has_expected=True
    )
    return ExecRequest(
        code=textwrap.dedent(code),
        entry_point="f",
        style=style,
        tests=[test],
        limits=kw.pop("limits", LIMITS),
        **kw,
    )


def verdict(report: dict) -> dict:
    return report["result"]["verdicts"][0]


def assert_parent_alive(report: dict) -> None:
    assert report["follow"] is not None and report["follow"]["status"] == "pass", report["follow"]


def test_fork_bomb(run_hostile):
    code = """
    import os
    def f():
        while True:
            try:
                os.fork()
            except OSError:
                pass
    """
    rep = run_hostile(req(code), follow=FOLLOW)
    assert verdict(rep)["status"] == "timeout"
    assert_parent_alive(rep)


def test_memory_bomb(run_hostile):
    code = """
    def f():
        hog = []
        while True:
            hog.append(bytearray(10_000_000))
    """
    rep = run_hostile(req(code), follow=FOLLOW)
    assert verdict(rep)["status"] == "memory_limit"
    assert_parent_alive(rep)


def test_busy_loop_ignoring_signals(run_hostile):
    code = """
    import signal
    def f():
        for s in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM, signal.SIGXCPU, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        while True:
            pass
    """
    rep = run_hostile(req(code), follow=FOLLOW)
    assert verdict(rep)["status"] == "timeout"
    assert rep["result"]["time_s"] < 6
    assert_parent_alive(rep)


def test_sleep_forever(run_hostile):
    code = """
    import time
    def f():
        time.sleep(10**6)
    """
    rep = run_hostile(req(code), follow=FOLLOW)
    assert verdict(rep)["status"] == "timeout"
    assert 1.5 <= rep["result"]["time_s"] < 6
    assert_parent_alive(rep)


@pytest.mark.parametrize("style", ["function", "stdio"])
def test_output_flood(run_hostile, style):
    code = """
    def f():
        while True:
            print("x" * 1000)
    if __name__ == "__main__":
        f()
    """
    rep = run_hostile(
        req(code, style=style, stdin="" if style == "stdio" else None, expected=None), follow=FOLLOW
    )
    assert verdict(rep)["status"] == "output_limit"
    assert len(rep["result"]["stderr"]) <= 70 * 1024
    assert_parent_alive(rep)


def test_disk_flood(run_hostile):
    code = """
    def f():
        i = 0
        while True:
            with open(f"junk{i}", "wb") as fh:
                for _ in range(64):
                    fh.write(b"x" * (1 << 20))
            i += 1
    """
    rep = run_hostile(req(code), follow=FOLLOW)
    assert verdict(rep)["status"] == "output_limit", verdict(rep)
    assert_parent_alive(rep)


def test_too_many_open_files(run_hostile):
    code = """
    def f():
        return len([open("/dev/null") for _ in range(100_000)])
    """
    rep = run_hostile(req(code), follow=FOLLOW)
    v = verdict(rep)
    assert v["status"] == "runtime_error" and "Too many open files" in v["error"], v


def test_tcp_and_udp_to_local_listener(run_hostile):
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind(("127.0.0.1", 0))
    tcp.listen(5)
    tcp.setblocking(False)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.setblocking(False)
    tport, uport = tcp.getsockname()[1], udp.getsockname()[1]
    code = f"""
    import socket, subprocess
    def f():
        errors = []
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.sendto(b"pwned", ("127.0.0.1", {uport}))
        except OSError as e:
            errors.append(str(e))
        subprocess.run(["sh", "-c", "exec 3<>/dev/tcp/127.0.0.1/{tport} && echo pwned >&3"], capture_output=True)
        c = socket.create_connection(("127.0.0.1", {tport}), timeout=1)
        c.sendall(b"pwned")
        return "connected"
    """
    try:
        rep = run_hostile(req(code, expected="connected"), follow=FOLLOW)
        v = verdict(rep)
        assert v["status"] == "runtime_error", v
        with pytest.raises(BlockingIOError):
            tcp.accept()
        with pytest.raises(BlockingIOError):
            udp.recvfrom(100)
    finally:
        tcp.close()
        udp.close()


def test_environment_and_proc_environ_hold_no_secret(run_hostile):
    secret = "cf-secret-7f3a9b1c2d"
    code = """
    import os
    def f():
        seen = {"env": dict(os.environ)}
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    with open(f"/proc/{pid}/environ", "rb") as fh:
                        seen[pid] = fh.read().decode(errors="replace")
                except OSError as e:
                    seen[pid] = repr(e)
        for p in ("/proc/1/environ", "/proc/self/environ"):
            try:
                seen[p] = open(p, "rb").read().decode(errors="replace")
            except OSError as e:
                seen[p] = repr(e)
        print(seen)
        return seen
    """
    rep = run_hostile(req(code), follow=FOLLOW, env={"CF_API_KEY": secret, "OPENAI_API_KEY": secret})
    assert rep["result"]["status"] in ("wrong_answer", "pass", "ok"), rep["result"]
    assert secret not in str(rep["result"]), "secret leaked into the sandbox"
    assert "CF_API_KEY" not in str(rep["result"])


def test_write_and_delete_host_file(run_hostile, tmp_path):
    os.chmod(tmp_path, 0o777)  # only the sandbox, not file permissions, stands in the way
    victim = tmp_path / "victim.txt"
    victim.write_text("original")
    os.chmod(victim, 0o666)
    code = f"""
    import os
    def f():
        with open({str(victim)!r}, "w") as fh:
            fh.write("pwned")
    """
    rep = run_hostile(req(code), follow=FOLLOW)
    assert verdict(rep)["status"] == "runtime_error"
    assert "Permission" in verdict(rep)["error"] or "No such file" in verdict(rep)["error"]  # view: not there
    rep = run_hostile(req(f"import os\ndef f():\n    os.remove({str(victim)!r})\n"))
    assert verdict(rep)["status"] == "runtime_error"
    rep = run_hostile(req(f"def f():\n    open({str(tmp_path / 'new.txt')!r}, 'w').write('x')\n"))
    assert verdict(rep)["status"] == "runtime_error"
    assert victim.read_text() == "original"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["victim.txt"]


def test_os_system_subprocess_and_ctypes_system_are_contained(run_hostile, tmp_path):
    os.chmod(tmp_path, 0o777)
    a, b, c = (tmp_path / n for n in ("a", "b", "c"))
    code = f"""
    import os, subprocess, ctypes
    def f():
        r1 = os.system("echo pwned > {a}")
        r2 = subprocess.run(["sh", "-c", "echo pwned > {b}"]).returncode
        r3 = ctypes.CDLL(None).system(b"echo pwned > {c}")
        r4 = os.system("echo fine > inside.txt && cat inside.txt")
        return [r1 != 0, r2 != 0, r3 != 0, r4]
    """
    rep = run_hostile(req(code, expected=[True, True, True, 0]), follow=FOLLOW)
    assert verdict(rep)["status"] == "pass", verdict(rep)
    assert not a.exists() and not b.exists() and not c.exists()


def test_kill_parent_and_kill_minus_one(run_hostile):
    code = """
    import os, signal
    def f():
        for pid in (os.getppid(), 1):
            for sig in (signal.SIGKILL, signal.SIGTERM):
                try:
                    os.kill(pid, sig)
                except OSError:
                    pass
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass
        return "still here"
    """
    rep = run_hostile(req(code, expected="still here"), follow=FOLLOW)
    assert verdict(rep)["status"] == "pass"
    assert_parent_alive(rep)


def test_daemon_does_not_outlive_the_candidate(run_hostile):
    code = """
    import os, time
    def f():
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                while True:
                    time.sleep(0.05)
            os._exit(0)
        time.sleep(0.1)
        return 1
    """
    rep = run_hostile(req(code, expected=1), follow=FOLLOW)
    assert verdict(rep)["status"] == "pass"
    # run_hostile already asserted that only the runner and the fork-server pair were alive after the run


def test_ptrace_is_denied(run_hostile):
    code = """
    import ctypes, os
    def f():
        libc = ctypes.CDLL(None, use_errno=True)
        r1 = libc.ptrace(16, os.getppid(), 0, 0)  # PTRACE_ATTACH
        e1 = ctypes.get_errno()
        r2 = libc.ptrace(0, 0, 0, 0)  # PTRACE_TRACEME
        return [r1, e1, r2]
    """
    rep = run_hostile(req(code, expected=[-1, 1, -1]), follow=FOLLOW)
    assert verdict(rep)["status"] == "pass", verdict(rep)


@pytest.mark.parametrize("limit", [None, 10**8])
def test_deep_recursion(run_hostile, limit):
    setlimit = f"sys.setrecursionlimit({limit})" if limit else ""
    code = f"""
    import sys
    def g(n):
        return g(n + 1) + 1
    def f():
        {setlimit}
        return g(0)
    """
    rep = run_hostile(req(code), follow=FOLLOW)
    v = verdict(rep)
    if limit is None:
        assert v["status"] == "runtime_error" and v["error"].startswith("RecursionError"), v
    else:  # millions of frames: ends in MemoryError/SystemError, or runs out of time unwinding
        assert v["status"] in ("runtime_error", "memory_limit", "timeout"), v
    assert_parent_alive(rep)
