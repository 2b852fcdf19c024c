"""The warm fork-server: one long-lived process per worker, forking one isolated child per candidate.

It is started by the supervisor with an empty environment, sets up the per-worker layers once (network and
mount namespaces, tmpfs scratch, pids cgroup, Landlock ruleset, seccomp program), pre-imports the stdlib
modules candidates commonly use, then serves requests over a length-prefixed JSON pipe. It never sees
expected outputs except, optionally, to stop early; the supervisor recomputes every verdict.

Each child is PID 1 of a fresh PID namespace: when it dies (or is killed on timeout) the kernel kills every
process it left behind, daemons included, before ``wait4`` returns. Stdlib only.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import importlib
import json
import os
import select
import shutil
import signal
import struct
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from codefoundry.sandbox import compare, harness, isolation, plaindata

PROTO_MAX = 1 << 30
ISO_FAIL_RC = 121


# ------------------------------------------------------------------------------------------ framing
def read_msg(fd: int) -> Any:
    head = _read_exact(fd, 4)
    if head is None:
        return None
    (n,) = struct.unpack("<I", head)
    body = _read_exact(fd, n)
    if body is None:
        return None
    return json.loads(body)


def write_msg(fd: int, obj: Any) -> None:
    data = json.dumps(obj, separators=(",", ":")).encode()
    data = struct.pack("<I", len(data)) + data
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _read_exact(fd: int, n: int) -> bytes | None:
    chunks, got = [], 0
    while got < n:
        c = os.read(fd, min(n - got, 1 << 20))
        if not c:
            return None
        chunks.append(c)
        got += len(c)
    return b"".join(chunks)


# ----------------------------------------------------------------------------------- child running
class ChildOutcome:
    """What one child produced and how it ended (all observed by the fork-server, not claimed)."""

    def __init__(self) -> None:
        self.results: dict[int, dict[str, Any]] = {}
        self.current: int | None = None
        self.stdout = bytearray()
        self.stderr = bytearray()
        self.exit_code: int | None = None
        self.signal: int | None = None
        self.killed_for: str | None = None  # "timeout" | "output_limit" | "protocol" | "stopped"
        self.exit_status: dict[str, Any] | None = None  # {"e":"x"} message
        self.maxrss_kb = 0
        self.cpu_s = 0.0
        self.wall_s = 0.0
        self.iso_error = ""


class ForkServer:
    """Holds the per-worker set-up and runs requests."""

    def __init__(self, cfg: dict[str, Any]) -> None:
        self.cfg = cfg
        self.layers = frozenset(cfg["layers"])
        self.notes: dict[str, tuple[bool, str]] = {}
        root = os.geteuid() == 0
        scratch_root = cfg["scratch_root"]
        if root and "namespaces" in self.layers:
            isolation.setup_worker_namespaces(scratch_root, cfg.get("tmpfs_mb", 512), self.notes)
            if self.notes.get("scratch_tmpfs", (False,))[0]:
                isolation.open_closed_home([sys.base_prefix, sys.prefix, *sys.path], self.notes)
        else:
            os.makedirs(scratch_root, exist_ok=True)
            if "namespaces" in self.layers:
                self.notes["netns"] = (False, "per-worker namespaces need root")
        uid = cfg.get("uid") if root and "uid" in self.layers else None
        if "uid" in self.layers and uid is None:
            self.notes["uid"] = (False, "not started as root: cannot switch uid")
        elif uid is not None:
            self.notes["uid"] = (True, f"children run as uid {uid}")
        cg = None
        if root and "cgroup" in self.layers:
            cg = isolation.setup_cgroup(cfg["cgroup_name"], self.notes)
        ll_fd, abi = (None, 0)
        if "landlock" in self.layers:
            ll_fd, abi = isolation.build_landlock(scratch_root, self.notes)
        server_prog, prog = isolation.build_seccomp(self.notes) if "seccomp" in self.layers else (None, None)
        self.setup = isolation.WorkerSetup(
            scratch_root=scratch_root,
            uid=uid,
            landlock_fd=ll_fd,
            landlock_abi=abi,
            seccomp_prog=prog,
            cgroup_dir=cg,
            userns="userns" in self.layers,
            notes=self.notes,
        )
        self.pidns = os.getpid() == 1
        self.notes["pidns"] = (
            (
                True,
                "fork-server is PID 1 of the worker's PID namespace; leftovers die with kill(-1) after each run",
            )
            if self.pidns
            else (False, "no PID namespace: leftovers are killed by process group and cgroup sweep")
        )
        if self.pidns and self.notes.get("scratch_tmpfs", (False,))[0]:
            try:
                isolation._mount("proc", "/proc", "proc", isolation.MS_NOSUID | isolation.MS_NODEV, None)
                self.notes["proc"] = (True, "private /proc: candidates see only their own PID namespace")
            except OSError as e:
                self.notes["proc"] = (False, f"could not mount a private /proc: {e}")
        self.null_fd = os.open("/dev/null", os.O_RDWR)
        self._pids_max = -1
        self.base_vsz = 0
        self.seq = 0
        for name in cfg.get("preimport", []):
            with contextlib.suppress(Exception):
                importlib.import_module(name)
        if cg:
            try:
                isolation.join_cgroup(cg)
            except OSError as e:
                self.notes["pids_cgroup"] = (False, f"could not join pids cgroup: {e}")
                self.setup.cgroup_dir = None
        if server_prog:
            try:
                isolation.seccomp_load(server_prog)
            except OSError as e:
                self.notes["seccomp"] = (False, f"could not load the server filter: {e}")
                self.setup.seccomp_prog = None
        # Freeze the warm heap: the children's garbage collector then never walks (and so never
        # copy-on-write faults) the pre-imported objects.
        gc.collect()
        gc.freeze()
        self.base_vsz = _vsz_bytes()

    # ---------------------------------------------------------------------------------------- helpers
    def _child_env(self, scratch: str, extra: dict[str, str]) -> dict[str, str]:
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": scratch,
            "TMPDIR": scratch,
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
        }
        env.update(extra)
        return env

    def _set_pids_max(self, n: int) -> None:
        """Cap the candidate's tasks (+1: the fork-server itself is in the cgroup)."""
        if self.setup.cgroup_dir and n != self._pids_max:
            with open(os.path.join(self.setup.cgroup_dir, "pids.max"), "w") as f:
                f.write(str(n + 1))
            self._pids_max = n

    def _cgroup_sweep(self) -> None:
        """Belt and braces: kill anything still in the worker's cgroup (should be empty already)."""
        d = self.setup.cgroup_dir
        if not d:
            return
        me = os.getpid()
        for _ in range(100):
            try:
                with open(os.path.join(d, "cgroup.procs")) as f:
                    pids = [int(x) for x in f.read().split() if int(x) not in (0, me)]
            except OSError:
                return
            if not pids:
                return
            for p in pids:
                with contextlib.suppress(OSError):
                    os.kill(p, signal.SIGKILL)
            time.sleep(0.005)

    def run_child(
        self,
        plan: isolation.ChildPlan,
        job: Callable[[], None],
        *,
        stdin_data: bytes | None,
        merge_stderr: bool,
        total_deadline: float,
        per_test_s: float,
        out_cap: int,
        msg_cap: int,
        on_result: Callable[[int, dict[str, Any]], bool] | None = None,
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
            os.write(in_fd, stdin_data) if len(stdin_data) < 65536 else _write_all(in_fd, stdin_data)
            os.lseek(in_fd, 0, os.SEEK_SET)
        t0 = time.monotonic()
        pid = os.fork()
        if pid == 0:  # ---------------------------------------------------------------- child
            try:
                os.dup2(in_fd if in_fd is not None else self.null_fd, 0)
                os.dup2(out_w, 1)
                os.dup2(err_w, 2)
                os.dup2(res_w, 3)
                isolation.apply_child_isolation(self.setup, plan)
                os.closerange(4, 1 << 16)
                job()
            except BaseException as e:  # noqa: BLE001 - must never return into the server loop
                with contextlib.suppress(BaseException):
                    os.write(3, (json.dumps({"e": "iso", "err": f"{type(e).__name__}: {e}"}) + "\n").encode())
            finally:
                os._exit(ISO_FAIL_RC)
        # ------------------------------------------------------------------------------ parent
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
        resbuf = bytearray()
        test_start = t0
        if first_test is not None:
            oc.current = first_test
        exited = False
        drain_until = None

        def kill(reason: str) -> None:
            if oc.killed_for is None:
                oc.killed_for = reason
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)

        while open_fds or not exited:
            now = time.monotonic()
            deadline = total_deadline
            if oc.current is not None and oc.current not in oc.results:
                deadline = min(deadline, test_start + per_test_s)
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
                    resbuf += chunk
                    if len(resbuf) > msg_cap:
                        kill("output_limit")
                        resbuf.clear()
                        continue
                    while True:
                        nl = resbuf.find(b"\n")
                        if nl < 0:
                            break
                        line = bytes(resbuf[:nl])
                        del resbuf[: nl + 1]
                        try:
                            msg = json.loads(line)
                            ev = msg["e"]
                        except Exception:
                            kill("protocol")
                            break
                        if ev == "s":
                            idx = msg.get("i")
                            if type(idx) is int:
                                oc.current = idx
                                test_start = now
                        elif ev == "r":
                            idx = msg.get("i")
                            if type(idx) is not int or idx in oc.results:
                                kill("protocol")
                                break
                            t_claim = msg.get("t")
                            r = {
                                "st": str(msg.get("st", "runtime_error")),
                                "out": msg.get("v") if type(msg.get("v")) is str else None,
                                "err": str(msg.get("err", ""))[:4000],
                                "t": round(
                                    t_claim if type(t_claim) is float and t_claim >= 0 else now - test_start,
                                    6,
                                ),
                                "m": 0,
                            }
                            if r["st"] not in ("ok", "runtime_error", "memory_limit", "output_limit"):
                                r["st"] = "runtime_error"
                            oc.results[idx] = r
                            oc.current = idx + 1
                            test_start = now
                            if on_result is not None and not on_result(idx, r):
                                kill("stopped")
                        elif ev == "x":
                            oc.exit_status = {
                                "st": str(msg.get("st", "")),
                                "err": str(msg.get("err", ""))[:4000],
                            }
                        elif ev == "iso":
                            oc.iso_error = str(msg.get("err", ""))[:2000]
                else:
                    buf = oc.stdout if fd == out_r else oc.stderr
                    cap = out_cap if fd == out_r else max(out_cap, 65536)
                    room = cap - len(buf)
                    if room > 0:
                        buf += chunk[:room]
                    if len(chunk) > room and fd == out_r:
                        kill("output_limit")
                        # stderr beyond the cap is dropped silently; it is only diagnostics
            if not exited and now >= deadline:
                kill("timeout")
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
        self._kill_leftovers(pid)
        return oc

    def _kill_leftovers(self, pid: int) -> None:
        """No process outlives its candidate: as PID 1 of the worker's PID namespace, kill(-1) reaches
        every other process in it atomically (no fork can race it); then reap the orphans."""
        if self.pidns:
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
            self._cgroup_sweep()

    # --------------------------------------------------------------------------------------- requests
    def handle(self, req: dict[str, Any]) -> dict[str, Any]:
        op = req.get("op")
        if op == "run":
            return self.run_request(req)
        if op == "probe":
            return self.probe()
        if op == "measure":
            return self.measure(int(req.get("n", 50)))
        if op == "ping":
            return {"ok": True}
        return {"sandbox_error": f"unknown op {op!r}"}

    def _plan(
        self, scratch: str, limits: dict[str, Any], lang: dict[str, Any], *, compile_step: bool = False
    ):
        mem_mb = int(limits["memory_mb"])
        as_mode = lang.get("as_mode", "limit")
        if compile_step:
            mem_mb = int(lang.get("compile_memory_mb", 2048))
            as_mode = lang.get("compile_as_mode", "limit")
        if as_mode == "inprocess":
            as_bytes = self.base_vsz + mem_mb * 2**20
        elif as_mode == "limit":
            as_bytes = (mem_mb + int(lang.get("extra_mb", 0))) * 2**20
        else:
            as_bytes = None
        cpu = float(lang.get("compile_time_s", 60)) if compile_step else float(limits["cpu_s"])
        return isolation.ChildPlan(
            scratch=scratch,
            as_bytes=as_bytes,
            cpu_s=cpu,
            fsize=int(limits["file_size_mb"]) * 2**20 if not compile_step else 512 * 2**20,
            nofile=int(limits["open_files"]) if not compile_step else 1024,
            nproc=int(limits["processes"]) if not compile_step else 256,
            drop_uid=not (compile_step and not lang.get("compile_drop_uid", True)),
            layers=self.layers,
        )

    def _exec_job(self, argv: list[str], env: dict[str, str]) -> Callable[[], None]:
        def job() -> None:
            os.execve(argv[0], argv, env)

        return job

    def _compile(self, req: dict[str, Any], scratch: str) -> tuple[str | None, str, bool]:
        """Compile once per (language, code) into the build cache; returns (artefact, log, ok)."""
        lang = req["lang"]
        key = hashlib.sha256(
            json.dumps([lang["name"], lang["compile"], lang.get("source"), req["code"]]).encode()
        ).hexdigest()[:32]
        cache_dir = req["build_cache"]
        final = os.path.join(cache_dir, key)
        if os.path.exists(os.path.join(final, ".ok")):
            return final, "", True
        src = os.path.join(scratch, lang["source"])
        outdir = os.path.join(scratch, "build")
        os.makedirs(outdir)
        if self.setup.uid is not None:
            os.chown(outdir, self.setup.uid, self.setup.uid)
        fmt = {"src": src, "out": outdir, "dir": scratch, "mem": req["limits"]["memory_mb"]}
        fmt["scratch_root"] = self.setup.scratch_root
        argv = [a.format(**fmt) for a in lang["compile"]]
        for d in lang.get("compile_dirs") or []:
            os.makedirs(d.format(**fmt), mode=0o700, exist_ok=True)
        env = self._child_env(scratch, {k: v.format(**fmt) for k, v in lang.get("compile_env", {}).items()})
        limits = req["limits"]
        plan = self._plan(scratch, limits, lang, compile_step=True)
        self._set_pids_max(256)
        ctime = float(lang.get("compile_time_s", 60))
        oc = self.run_child(
            plan,
            self._exec_job(argv, env),
            stdin_data=None,
            merge_stderr=True,
            total_deadline=time.monotonic() + ctime,
            per_test_s=ctime,
            out_cap=256 * 1024,
            msg_cap=65536,
        )
        log = oc.stdout.decode("utf-8", "replace")
        if oc.iso_error:
            return None, f"sandbox could not start the compiler: {oc.iso_error}", False
        if oc.killed_for == "timeout" or oc.signal in (signal.SIGXCPU, signal.SIGKILL):
            return None, log + f"\ncompilation exceeded {ctime:.0f}s", False
        if oc.exit_code != 0 or oc.signal is not None:
            return None, log or f"compiler exited with {oc.exit_code or oc.signal}", False
        os.makedirs(cache_dir, exist_ok=True)
        tmp = tempfile.mkdtemp(dir=cache_dir, prefix=".tmp-")
        try:
            shutil.copytree(outdir, tmp, dirs_exist_ok=True, symlinks=False)
            os.chmod(tmp, 0o755)
            with open(os.path.join(tmp, ".ok"), "w"):
                pass
            try:
                os.rename(tmp, final)
            except OSError:  # another worker won the race
                shutil.rmtree(tmp, ignore_errors=True)
        except OSError as e:
            shutil.rmtree(tmp, ignore_errors=True)
            return None, f"could not store build artefact: {e}", False
        return final, log, True

    def run_request(self, req: dict[str, Any]) -> dict[str, Any]:
        self.seq += 1
        lang = req["lang"]
        style = req["style"]
        tests: list[Any] = req["tests"]
        limits = req["limits"]
        n = len(tests)
        out_cap = int(limits["output_kb"]) * 1024
        scratch = os.path.join(self.setup.scratch_root, f"c{self.seq}")
        os.mkdir(scratch, 0o700)
        if self.setup.uid is not None:
            os.chown(scratch, self.setup.uid, self.setup.uid)
        resp: dict[str, Any] = {
            "tests": [None] * n,
            "log": "",
            "compile_output": "",
            "wall_s": 0.0,
            "mem_kb": 0,
        }
        try:
            return self._run_request(req, lang, style, tests, limits, n, out_cap, scratch, resp)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _run_request(self, req, lang, style, tests, limits, n, out_cap, scratch, resp):  # noqa: C901
        t_start = time.monotonic()
        art = None
        if lang.get("source"):
            src = os.path.join(scratch, lang["source"])
            with open(src, "w", encoding="utf-8") as f:
                f.write(req.get("program") or req["code"])
            if self.setup.uid is not None:
                os.chown(src, self.setup.uid, self.setup.uid)
        if lang.get("compile"):
            art, log, ok = self._compile(req, scratch)
            resp["compile_output"] = log[-65536:]
            if not ok:
                resp["compile_error"] = True
                return resp
        t_start = time.monotonic()
        total_deadline = t_start + float(limits["time_s"])
        per_test = float(limits["per_test_time_s"])
        self._set_pids_max(int(limits["processes"]))
        early = req.get("early")
        stop = bool(req.get("stop"))
        results: list[dict[str, Any] | None] = resp["tests"]
        failed = False
        logs: list[str] = []

        def judge_early(idx: int, r: dict[str, Any]) -> bool:
            nonlocal failed
            if r["st"] != "ok":
                failed = True
            elif early is not None:
                exp_text = early["expected"][idx]
                if exp_text is not None:
                    try:
                        exp = plaindata.loads_plain(exp_text) if style == "function" else exp_text
                        out = plaindata.loads_plain(r["out"]) if style == "function" else r["out"]
                        good = compare.outputs_equal(
                            style, out, exp, early["mode"], early["rel"], early["abs"]
                        )
                    except Exception:
                        good = False
                    failed = failed or not good
            return not (stop and failed)

        fmt = {"src": os.path.join(scratch, lang.get("source") or ""), "art": art or "", "dir": scratch}
        fmt.update(mem=int(limits["memory_mb"]), scratch_root=self.setup.scratch_root)
        env = self._child_env(scratch, {k: v.format(**fmt) for k, v in lang.get("env", {}).items()})
        i = 0
        maxrss = 0
        precise = False
        while i < n:
            if stop and failed:
                break
            if time.monotonic() >= total_deadline:
                for j in range(i, n):
                    results[j] = {
                        "st": "timeout",
                        "err": "not run: candidate wall-clock limit reached",
                        "t": 0.0,
                    }
                break
            plan = self._plan(scratch, limits, lang)
            if style == "function":
                chunk = list(range(i, n))
                if lang["mode"] == "python":
                    code, entry, texts = req["code"], req["entry_point"], tests[i:]

                    def job(code=code, entry=entry, texts=texts, first=i, precise=precise) -> None:
                        os.environ.clear()
                        os.environ.update(env)
                        tempfile.tempdir = scratch
                        if precise:
                            harness.FLUSH_EVERY_S = 0.0
                        harness.run_function(code, entry, texts, first, out_cap)

                    stdin_data = None
                else:
                    argv = [a.format(**fmt) for a in lang["run"]]
                    job = self._exec_job(argv, env)
                    stdin_data = json.dumps({"first": i, "tests": tests[i:], "cap": out_cap}).encode()
                merge = True
            else:
                chunk = [i]
                if lang["mode"] == "python":
                    code = req["code"]

                    def job(code=code) -> None:
                        os.environ.clear()
                        os.environ.update(env)
                        tempfile.tempdir = scratch
                        harness.run_stdio(code)

                else:
                    argv = [a.format(**fmt) for a in lang["run"]]
                    job = self._exec_job(argv, env)
                stdin_data = (tests[i] or "").encode()
                merge = False
            oc = self.run_child(
                plan,
                job,
                stdin_data=stdin_data,
                merge_stderr=merge,
                total_deadline=total_deadline,
                per_test_s=per_test,
                out_cap=out_cap,
                msg_cap=out_cap * len(chunk) + 4096 * len(chunk) + 65536,
                on_result=judge_early if style == "function" else None,
                # the Python function harness reports ("s") when loading is done: until then only the
                # whole run's limit applies, so slow imports are not charged to the first test
                first_test=None if style == "function" and lang["mode"] == "python" else i,
            )
            maxrss = max(maxrss, oc.maxrss_kb)
            if oc.iso_error:
                resp["sandbox_error"] = f"isolation failed in child: {oc.iso_error}"
                return resp
            if style == "function":
                logs.append(oc.stdout.decode("utf-8", "replace"))
                for idx, r in oc.results.items():
                    if i <= idx < n and results[idx] is None:
                        r["m"] = oc.maxrss_kb
                        results[idx] = r
                missing = [j for j in chunk if results[j] is None]
                if not missing:
                    i = n
                    continue
                j = missing[0]
                if oc.killed_for == "stopped":
                    break
                if not precise and lang["mode"] == "python":
                    # Results may have been coalesced and lost with the child: re-run from the first
                    # missing test, flushing every result, so the failure lands on the right test.
                    precise = True
                    i = j
                    continue
                results[j] = self._failure(oc, lang, limits, style)
                results[j]["m"] = oc.maxrss_kb
                judge_early(j, results[j])
                i = j + 1
            else:
                logs.append(oc.stderr.decode("utf-8", "replace"))
                stdout = oc.stdout.decode("utf-8", "replace")
                if (
                    oc.killed_for is None
                    and oc.signal is None
                    and oc.exit_code == 0
                    and oc.exit_status is None
                ):
                    r = {"st": "ok", "out": stdout, "err": "", "t": round(oc.wall_s, 6), "m": oc.maxrss_kb}
                else:
                    r = self._failure(oc, lang, limits, style)
                    r["out"] = stdout
                    r["t"] = round(oc.wall_s, 6)
                    r["m"] = oc.maxrss_kb
                r["rc"] = oc.exit_code if oc.exit_code is not None else -(oc.signal or 0)
                results[i] = r
                judge_early(i, r)
                i += 1
        for j in range(n):
            if results[j] is None:
                results[j] = {"st": "skipped", "err": "not run: an earlier test failed", "t": 0.0}
        cap = max(out_cap, 65536)
        resp["log"] = "".join(logs)[-cap:]
        resp["wall_s"] = round(time.monotonic() - t_start, 6)
        resp["mem_kb"] = maxrss
        return resp

    def _failure(
        self, oc: ChildOutcome, lang: dict[str, Any], limits: dict[str, Any], style: str
    ) -> dict[str, Any]:
        """Turn 'the child ended without a result' into a verdict, from what the fork-server observed."""
        err_text = (oc.stderr if style == "stdio" else oc.stdout)[-4000:].decode("utf-8", "replace")
        if oc.killed_for == "timeout":
            return {"st": "timeout", "err": "wall-clock limit exceeded", "t": 0.0}
        if oc.killed_for == "output_limit":
            return {"st": "output_limit", "err": "output exceeded the cap", "t": 0.0}
        if oc.killed_for == "protocol":
            return {"st": "runtime_error", "err": "malformed result stream", "t": 0.0}
        if oc.signal == signal.SIGXCPU or (
            oc.signal == signal.SIGKILL and oc.cpu_s >= float(limits["cpu_s"])
        ):
            return {"st": "timeout", "err": "CPU time limit exceeded", "t": 0.0}
        if oc.signal == signal.SIGXFSZ:
            return {"st": "output_limit", "err": "file size limit exceeded", "t": 0.0}
        if oc.exit_status is not None:
            st = oc.exit_status["st"]
            st = st if st in ("runtime_error", "memory_limit", "output_limit") else "runtime_error"
            return {"st": st, "err": oc.exit_status["err"], "t": 0.0}
        mem_markers = (
            "MemoryError",
            "std::bad_alloc",
            "out of memory",
            "OutOfMemoryError",
            "memory allocation",
        )
        if (
            any(m in err_text for m in mem_markers)
            or oc.maxrss_kb * 1024 >= 0.95 * int(limits["memory_mb"]) * 2**20
        ):
            return {"st": "memory_limit", "err": "memory limit exceeded", "t": 0.0}
        if oc.signal is not None:
            try:
                name = signal.Signals(oc.signal).name
            except ValueError:
                name = str(oc.signal)
            return {"st": "runtime_error", "err": f"killed by {name}", "t": 0.0}
        tail = err_text.strip().splitlines()[-1:] if err_text.strip() else []
        why = f"exited with code {oc.exit_code}" + (
            " before returning a result" if style == "function" else ""
        )
        return {"st": "runtime_error", "err": why + (f": {tail[0][:500]}" if tail else ""), "t": 0.0}

    # ------------------------------------------------------------------------------- probe / measure
    def probe(self) -> dict[str, Any]:
        """Fork one fully isolated child and check from inside that the layers actually bite."""
        scratch = os.path.join(self.setup.scratch_root, "probe")
        os.makedirs(scratch, exist_ok=True)
        if self.setup.uid is not None:
            os.chown(scratch, self.setup.uid, self.setup.uid)
        outside = tempfile.mkdtemp(prefix="cf-probe-")
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
            os.write(3, (json.dumps({"e": "r", "i": 0, "st": "ok", "v": json.dumps(checks)}) + "\n").encode())
            os._exit(0)

        limits = {"memory_mb": 512, "cpu_s": 5, "file_size_mb": 16, "open_files": 64, "processes": 32}
        plan = self._plan(scratch, limits, {"as_mode": "inprocess"})
        self._set_pids_max(32)
        try:
            oc = self.run_child(
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
        checks = json.loads(oc.results[0]["out"]) if 0 in oc.results else {}
        return {
            "notes": {k: list(v) for k, v in self.notes.items()},
            "checks": checks,
            "iso_error": oc.iso_error,
            "pidns": self.pidns,
            "server_pid": os.getpid(),
            "cgroup_dir": self.setup.cgroup_dir,
            "base_vsz_mb": round(self.base_vsz / 2**20, 1),
        }

    def measure(self, n: int) -> dict[str, Any]:
        """Median fork->reap time with progressively more layers (the per-candidate isolation cost).

        The variants are interleaved round-robin so that load from other processes drifts over all of
        them alike; the medians are then comparable even on a busy machine.
        """
        scratch = os.path.join(self.setup.scratch_root, "measure")
        os.makedirs(scratch, exist_ok=True)
        if self.setup.uid is not None:
            os.chown(scratch, self.setup.uid, self.setup.uid)
        order = ["session", "rlimits", "uid", "userns", "landlock", "seccomp"]
        limits = {"memory_mb": 512, "cpu_s": 5, "file_size_mb": 16, "open_files": 64, "processes": 32}
        variants = []
        for k in range(-1, len(order)):
            plan = self._plan(scratch, limits, {"as_mode": "inprocess"})
            plan.layers = frozenset(order[: k + 1]) & self.layers
            variants.append(("fork only" if k < 0 else "+" + order[k], plan))
        times: dict[str, list[float]] = {name: [] for name, _ in variants}
        try:
            for _ in range(n):
                for name, plan in variants:
                    t = time.perf_counter()
                    pid = os.fork()
                    if pid == 0:
                        try:
                            isolation.apply_child_isolation(self.setup, plan)
                        finally:
                            os._exit(0)
                    os.waitpid(pid, 0)
                    times[name].append(time.perf_counter() - t)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        out = {name: round(1000 * sorted(ts)[len(ts) // 2], 3) for name, ts in times.items()}
        return {"median_ms": out}


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _vsz_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _become_pid1(rfd: int, wfd: int) -> None:
    """Re-run the server as PID 1 of a new PID namespace; this outer process only waits for it.

    The inner server dies with the outer one (PDEATHSIG), and when it dies the kernel kills everything
    left in its namespace, so nothing a candidate starts can outlive the worker.
    """
    try:
        isolation.unshare(isolation.CLONE_NEWPID)
    except OSError:
        return
    pid = os.fork()
    if pid == 0:
        isolation._libc.prctl(isolation.PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        return
    os.close(rfd)
    os.close(wfd)
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
    os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


def main() -> None:
    """Entry point: ``python -c 'from codefoundry.sandbox.forkserver import main; main()' CFG_JSON``."""
    cfg = json.loads(sys.argv[1])
    rfd = os.dup(0)
    wfd = os.dup(1)
    null = os.open("/dev/null", os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.set_inheritable(rfd, False)
    os.set_inheritable(wfd, False)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if os.geteuid() == 0 and "pidns" in cfg["layers"]:
        _become_pid1(rfd, wfd)
    try:
        server = ForkServer(cfg)
    except Exception as e:
        write_msg(wfd, {"fatal": f"{type(e).__name__}: {e}"})
        return
    try:
        write_msg(wfd, {"hello": True, **server.probe()})
        while True:
            req = read_msg(rfd)
            if req is None:
                break
            try:
                resp = server.handle(req)
            except Exception as e:  # a bug in the server: report it loudly, keep serving
                import traceback

                resp = {"sandbox_error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()[-4000:]}
            write_msg(wfd, resp)
    finally:
        isolation.remove_cgroup(server.setup.cgroup_dir, leave=True)


if __name__ == "__main__":
    main()
