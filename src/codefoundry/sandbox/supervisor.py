"""The supervisor: the trusted side. It owns the fork-servers, holds expected outputs and decides verdicts.

It never runs candidate code. From each fork-server it receives, per test, a status and either plain-data
JSON text (function style) or captured stdout (stdio style); it re-parses that text itself (only plain types
survive) and compares it with the expected output. A missing result is a failure.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import pathlib
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pydantic import BaseModel, ConfigDict

from codefoundry.sandbox import compare, isolation, plaindata
from codefoundry.sandbox.api import ExecRequest, ExecResult, Limits, TestInput, TestVerdict
from codefoundry.sandbox.cache import ResultCache, request_key
from codefoundry.sandbox.config import ALL_LAYERS, LayerReport, SandboxConfig
from codefoundry.sandbox.forkserver import read_msg, write_msg
from codefoundry.sandbox.languages import get_language, registry

log = logging.getLogger("codefoundry.sandbox")

_SRC_DIR = str(pathlib.Path(__file__).resolve().parents[2])
_BOOT = "import sys; sys.path.insert(0, {src!r}); from codefoundry.sandbox.forkserver import main; main()"
_FAIL = (
    "wrong_answer",
    "runtime_error",
    "timeout",
    "memory_limit",
    "output_limit",
    "compile_error",
    "sandbox_error",
)


class ProgramRun(BaseModel):
    """One plain program run (no expected output): what ``codefoundry sandbox run`` prints."""

    model_config = ConfigDict(extra="forbid")
    status: str
    exit_code: int | None
    stdout: str
    stderr: str
    time_s: float
    peak_memory_mb: float
    error: str = ""


class SandboxError(RuntimeError):
    """The sandbox could not start or lost a worker (never the candidate's fault)."""


class _Pool:
    """The free workers; ``get`` takes any of them, or waits for one worker in particular."""

    def __init__(self) -> None:
        self._free: list[_Worker] = []
        self._changed = threading.Condition()

    def put(self, worker: _Worker) -> None:
        with self._changed:
            self._free.append(worker)
            self._changed.notify_all()

    def get(self, index: int | None = None) -> _Worker:
        with self._changed:
            while True:
                for position, worker in enumerate(self._free):
                    if index is None or worker.index == index:
                        return self._free.pop(position)
                self._changed.wait()


class _Worker:
    """One fork-server process and the pipe pair to it."""

    def __init__(self, index: int, cfg: SandboxConfig, scratch_parent: str) -> None:
        self.index = index
        self.scratch_root = os.path.join(scratch_parent, f"w{index}")
        os.makedirs(self.scratch_root, exist_ok=True)
        uid = cfg.uid_base + (os.getpid() % 100_000) * 64 + index
        self.server_cfg = {
            "scratch_root": self.scratch_root,
            "layers": [x for x in cfg.layers if x in ALL_LAYERS],
            "uid": uid,
            "tmpfs_mb": cfg.tmpfs_mb,
            "cgroup_name": f"codefoundry-{os.getpid()}-w{index}-{time.monotonic_ns() % 10**9}",
            "preimport": list(dict.fromkeys([*cfg.preimport, *cfg.preimport_extra])),
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.hello: dict[str, Any] = {}
        self.start()

    def start(self) -> None:
        # each worker has its own fixed string-hash seed: runs are reproducible, and a request pinned to
        # another worker (ExecRequest.worker) sees another set iteration order. -s -P instead of -I, which
        # would ignore PYTHONHASHSEED; the environment is built here and holds nothing else of Python's.
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "PYTHONHASHSEED": str(self.index + 1),
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-s", "-P", "-c", _BOOT.format(src=_SRC_DIR), json.dumps(self.server_cfg)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            close_fds=True,
        )
        hello = self._read(timeout=60.0)
        if hello is None or "fatal" in hello or not hello.get("hello"):
            self.kill()
            why = (hello or {}).get("fatal", "no hello from fork-server")
            raise SandboxError(f"fork-server {self.index} failed to start: {why}")
        self.hello = hello

    def _read(self, timeout: float) -> dict[str, Any] | None:
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        r, _, _ = select.select([fd], [], [], timeout)
        if not r:
            return None
        try:
            return read_msg(fd)
        except (OSError, ValueError):
            return None

    def call(self, req: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one request; if the server dies or hangs, restart it and report a sandbox error."""
        assert self.proc is not None and self.proc.stdin is not None
        try:
            write_msg(self.proc.stdin.fileno(), req)
            resp = self._read(timeout)
        except OSError as e:
            resp = None
            log.error("sandbox worker %d pipe error: %s", self.index, e)
        if resp is None:
            log.error("sandbox worker %d hung or died; restarting it", self.index)
            self.kill()
            self.start()
            return {"sandbox_error": "fork-server hung or died during the request"}
        return resp

    def _remove_cgroup(self) -> None:
        """The server is gone, so its cgroup is empty: remove it even if the server was SIGKILLed."""
        isolation.remove_cgroup(self.hello.get("cgroup_dir"))

    def kill(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(OSError):
            self.proc.kill()
        with contextlib.suppress(Exception):
            self.proc.wait(timeout=10)
        for f in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(Exception):
                f.close()  # type: ignore[union-attr]
        self.proc = None
        self._remove_cgroup()

    def close(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(Exception):
            self.proc.stdin.close()  # type: ignore[union-attr]  # EOF: the server exits and cleans up
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
        with contextlib.suppress(Exception):
            self.proc.stdout.close()  # type: ignore[union-attr]
        self.proc = None
        self._remove_cgroup()


class Sandbox:
    """The single entry point for running untrusted code.

    Use as a context manager (starts the warm fork-servers) or call ``close()``. ``run_many`` spreads
    requests over the workers and returns results in input order.
    """

    def __init__(self, config: SandboxConfig | None = None, cache_path: pathlib.Path | None = None) -> None:
        self.config = config or SandboxConfig()
        self._cache = ResultCache(cache_path) if cache_path is not None else None
        self._workers: list[_Worker] = []
        self._free = _Pool()
        self._start_lock = threading.Lock()
        self._layers: dict[str, LayerReport] = {}
        self._scratch_parent: str | None = None
        n = self.config.workers or os.cpu_count() or 1
        self._n_workers = n
        self._build_cache = self.config.build_cache or _default_build_cache()

    # ------------------------------------------------------------------------------------ lifecycle
    def __enter__(self) -> Sandbox:
        self._ensure_started()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _ensure_started(self) -> None:
        with self._start_lock:
            if self._workers:
                return
            isolation.remove_stale_cgroups("/sys/fs/cgroup/pids")
            base = self.config.scratch_root or tempfile.gettempdir()
            os.makedirs(base, exist_ok=True)
            self._scratch_parent = tempfile.mkdtemp(prefix="codefoundry-sandbox-", dir=base)
            os.chmod(self._scratch_parent, 0o711)
            try:
                for i in range(self._n_workers):
                    w = _Worker(i, self.config, self._scratch_parent)
                    self._workers.append(w)
                    self._free.put(w)
            except BaseException:
                self._close_workers()
                raise
            # Stop the servers and remove scratch even if the caller never calls close().
            self._finalizer = weakref.finalize(self, _shutdown, list(self._workers), self._scratch_parent)
            self._layers = self._report(self._workers[0].hello)
            missing = [k for k, v in self._layers.items() if not v.active and not k.startswith("lang:")]
            for k in missing:
                log.warning("sandbox isolation layer %r is NOT active: %s", k, self._layers[k].detail)
            if missing and self.config.require_isolation:
                self._close_workers()
                raise SandboxError(f"require_isolation is set but layers are missing: {', '.join(missing)}")

    def _report(self, hello: dict[str, Any]) -> dict[str, LayerReport]:
        """Merge what the fork-server set up with what the probe child observed from inside."""
        enabled = set(self.config.layers)
        notes = {k: tuple(v) for k, v in hello.get("notes", {}).items()}
        checks = hello.get("checks", {})
        rep: dict[str, LayerReport] = {}

        def add(name: str, active: bool, detail: str) -> None:
            if name not in enabled and name in ALL_LAYERS:
                rep[name] = LayerReport(active=False, detail="disabled in SandboxConfig.layers")
            else:
                rep[name] = LayerReport(active=active, detail=detail)

        iso_err = hello.get("iso_error", "")
        add("session", not iso_err, "own session and process group per candidate")
        add("rlimits", not iso_err, "address space, CPU, file size, open files, core=0, nproc")
        ns_ok, ns_note = notes.get("netns", (False, "not attempted"))
        add("namespaces", ns_ok and checks.get("netifs", ["?"]) in ([], ["lo"]), ns_note)
        tmp_ok, tmp_note = notes.get("scratch_tmpfs", (False, "not attempted"))
        rep["scratch_tmpfs"] = LayerReport(active=tmp_ok, detail=tmp_note)
        pid_ok, pid_note = notes.get("pidns", (False, "not attempted"))
        add("pidns", pid_ok and bool(hello.get("pidns")) and hello.get("server_pid") == 1, pid_note)
        proc_ok, proc_note = notes.get("proc", (False, "no private /proc"))
        rep["private_proc"] = LayerReport(active=proc_ok, detail=proc_note)
        cg_ok, cg_note = notes.get("pids_cgroup", (False, "not attempted"))
        add("cgroup", cg_ok, cg_note)
        uid_ok, uid_note = notes.get("uid", (False, "not attempted"))
        add("uid", uid_ok and checks.get("uid", 0) != 0, uid_note)
        add(
            "userns",
            "userns" in enabled and uid_ok and not iso_err,
            "unprivileged user namespace per candidate",
        )
        ll_ok, ll_note = notes.get("landlock", (False, "not attempted"))
        add("landlock", ll_ok and str(checks.get("write_outside", "")).startswith("blocked"), ll_note)
        sc_ok, sc_note = notes.get("seccomp", (False, "not attempted"))
        add("seccomp", sc_ok and checks.get("seccomp_mode") == "2", sc_note)
        net_blocked = str(checks.get("inet_socket", "")).startswith("blocked")
        rep["network"] = LayerReport(
            active=net_blocked, detail=f"AF_INET socket from a child: {checks.get('inet_socket', '?')}"
        )
        if iso_err:
            rep["probe"] = LayerReport(active=False, detail=f"isolation failed in the probe child: {iso_err}")
        for name, lang in registry().items():
            ok, detail = lang.available()
            rep[f"lang:{name}"] = LayerReport(active=ok, detail=f"{detail}; styles: {'/'.join(lang.styles)}")
        return rep

    def layers(self) -> dict[str, LayerReport]:
        """What the start-up probe found, per isolation layer (and ``lang:<name>`` per language)."""
        self._ensure_started()
        return dict(self._layers)

    def measure_overhead(self, n: int = 100) -> dict[str, float]:
        """Median fork-to-reap milliseconds with progressively more layers (for doctor and the bench)."""
        self._ensure_started()
        w = self._free.get()
        try:
            resp = w.call({"op": "measure", "n": n}, timeout=120)
        finally:
            self._free.put(w)
        return dict(resp.get("median_ms", {}))

    def _close_workers(self) -> None:
        for w in self._workers:
            w.close()
        self._workers = []
        self._free = _Pool()
        if self._scratch_parent:
            shutil.rmtree(self._scratch_parent, ignore_errors=True)
            self._scratch_parent = None

    def close(self) -> None:
        """Stop the fork-servers (they clean their scratch mounts and cgroups) and close the cache."""
        with self._start_lock:
            self._close_workers()
        if self._cache is not None:
            self._cache.close()
            self._cache = None

    # ------------------------------------------------------------------------------------------ runs
    def run(self, request: ExecRequest) -> ExecResult:
        """Run one candidate against its tests and return the supervisor's verdicts."""
        key = request_key(request) if self._cache is not None else None
        if self._cache is not None and key is not None:
            hit = self._cache.get(key)
            if hit is not None:
                return hit
        result = self._execute(request)
        if self._cache is not None and key is not None and result.status != "sandbox_error":
            self._cache.put(key, result)
        return result

    def run_many(
        self, requests: list[ExecRequest], on_done: Callable[[int], None] | None = None
    ) -> list[ExecResult]:
        """Run requests in parallel over the workers; results come back in input order."""
        if not requests:
            return []
        self._ensure_started()
        results: list[ExecResult | None] = [None] * len(requests)
        groups: dict[str, list[int]] = {}
        order: list[int] = []
        for i, r in enumerate(requests):
            k = request_key(r) if self.config.dedup else str(i)
            if k not in groups:
                groups[k] = []
                order.append(i)
            groups[k].append(i)
        keys = {i: (request_key(requests[i]) if self.config.dedup else str(i)) for i in order}

        def task(i: int) -> None:
            res = self.run(requests[i])
            for j in groups[keys[i]]:
                results[j] = res if j == i else res.model_copy(deep=True)
                if on_done is not None:
                    on_done(j)

        with ThreadPoolExecutor(max_workers=len(self._workers)) as pool:
            for f in [pool.submit(task, i) for i in order]:
                f.result()
        return [r for r in results if r is not None]

    def run_program(
        self, code: str, language: str, stdin: str = "", limits: Limits | None = None
    ) -> ProgramRun:
        """Run one stdio program once (the ``sandbox run`` command): status, exit code, capped output."""
        req = ExecRequest(
            language=language,
            style="stdio",
            code=code,
            tests=[TestInput(stdin=stdin)],
            limits=limits or Limits(),
            mode="collect",
        )
        raw: dict[str, Any] = {}
        res = self._execute(req, raw_out=raw)
        v = res.verdicts[0]
        tests = raw.get("tests") or [{}]
        first = tests[0] if isinstance(tests[0], dict) else {}
        rc = first.get("rc")
        return ProgramRun(
            status=v.status,
            exit_code=rc if isinstance(rc, int) else None,
            stdout=v.output if isinstance(v.output, str) else "",
            stderr=res.stderr or res.compile_output,
            time_s=v.time_s,
            peak_memory_mb=v.peak_memory_mb,
            error=v.error,
        )

    def _execute(self, request: ExecRequest, raw_out: dict[str, Any] | None = None) -> ExecResult:
        lang = get_language(request.language)
        n = len(request.tests)
        if lang is None:
            return _all(request, "compile_error", f"unknown language {request.language!r}")
        ok, why = lang.available()
        if not ok:
            return _all(request, "compile_error", why, compile_output=why)
        if request.style not in lang.styles:
            return _all(request, "compile_error", f"{lang.name} does not support {request.style} style here")
        self._ensure_started()
        judge = request.mode == "judge"
        expected: list[Any] = []
        expected_text: list[str | None] = []  # function style: the expected value's JSON, encoded once
        for t in request.tests:
            has = t.has_expected or t.expected is not None
            if not (judge and has):
                expected.append(_NO_EXPECTED)
                expected_text.append(None)
            elif request.style == "function":
                text = plaindata.dumps_plain(t.expected)
                expected.append(plaindata.loads_plain(text))
                expected_text.append(text)
            else:
                expected.append(t.expected if isinstance(t.expected, str) else str(t.expected))
                expected_text.append(expected[-1])
        if request.style == "function":
            tests_payload = [plaindata.dumps_plain(list(t.args or [])) for t in request.tests]
        else:
            tests_payload = [t.stdin or "" for t in request.tests]
        early = None
        if judge and request.stop_on_first_failure and request.compare.mode != "checker":
            early = {
                "expected": expected_text,
                "mode": request.compare.mode,
                "rel": request.compare.float_rel_tol,
                "abs": request.compare.float_abs_tol,
            }
        req = {
            "op": "run",
            "lang": lang.spec(),
            "style": request.style,
            "code": request.code,
            "program": lang.program(request),
            "entry_point": request.entry_point,
            "tests": tests_payload,
            "limits": request.limits.model_dump(),
            "stop": request.stop_on_first_failure,
            "early": early,
            "build_cache": self._build_cache,
        }
        budget = (
            request.limits.time_s + (lang.compile_time_s if lang.compile else 0) + self.config.server_grace_s
        )
        w = self._free.get(None if request.worker is None else request.worker % len(self._workers))
        try:
            resp = w.call(req, timeout=budget)
        finally:
            self._free.put(w)
        if raw_out is not None:
            raw_out.update(resp)
        return self._verdicts(request, resp, expected, n)

    def _verdicts(
        self, request: ExecRequest, resp: dict[str, Any], expected: list[Any], n: int
    ) -> ExecResult:
        if resp.get("sandbox_error"):
            log.error("sandbox error: %s", resp["sandbox_error"])
            return _all(request, "sandbox_error", str(resp["sandbox_error"]))
        if resp.get("compile_error"):
            out = str(resp.get("compile_output", ""))
            return _all(request, "compile_error", out[-2000:] or "compilation failed", compile_output=out)
        cap = request.limits.output_kb * 1024
        judge = request.mode == "judge"
        checker_jobs: list[int] = []
        verdicts: list[TestVerdict] = []
        outputs: list[Any] = []
        for i, r in enumerate(resp.get("tests") or [None] * n):
            if not isinstance(r, dict):
                verdicts.append(TestVerdict(status="runtime_error", error="no result"))
                outputs.append(None)
                continue
            st = r.get("st")
            err = str(r.get("err", ""))
            t = float(r.get("t") or 0.0)
            mem = round(float(r.get("m") or 0) / 1024, 2)
            out: Any = None
            if st == "ok":
                if request.style == "function":
                    text = r.get("out")
                    try:
                        if not isinstance(text, str) or len(text) > cap:
                            raise ValueError("missing or oversized result")
                        out = plaindata.loads_plain(text)
                    except (ValueError, RecursionError) as e:
                        st, err = "runtime_error", f"malformed result: {e}"
                else:
                    out = str(r.get("out") or "")
            elif request.style == "stdio":
                out = str(r.get("out") or "")[:cap]
            if st == "ok" and judge and expected[i] is not _NO_EXPECTED:
                if request.compare.mode == "checker":
                    checker_jobs.append(i)
                    st = "pass"  # provisional, decided below
                else:
                    good = compare.outputs_equal(
                        request.style,
                        out,
                        expected[i],
                        request.compare.mode,
                        request.compare.float_rel_tol,
                        request.compare.float_abs_tol,
                    )
                    st = "pass" if good else "wrong_answer"
            if st not in (
                "ok",
                "pass",
                "wrong_answer",
                "runtime_error",
                "timeout",
                "memory_limit",
                "output_limit",
                "skipped",
            ):
                st, err = "runtime_error", f"unexpected status {st!r}"
            verdicts.append(TestVerdict(status=st, output=out, error=err, time_s=t, peak_memory_mb=mem))
            outputs.append(out)
        if checker_jobs:
            self._run_checker(request, checker_jobs, outputs, expected, verdicts)
        if request.stop_on_first_failure:
            seen_fail = False
            for v in verdicts:
                if seen_fail:
                    v.status, v.output, v.error = "skipped", None, "not run: an earlier test failed"
                elif v.status in _FAIL:
                    seen_fail = True
        return _finish(request, verdicts, resp)

    def _run_checker(
        self,
        request: ExecRequest,
        jobs: list[int],
        outputs: list[Any],
        expected: list[Any],
        verdicts: list[TestVerdict],
    ) -> None:
        """Checker mode: run the (task-supplied) checker in the sandbox too; only a plain ``True`` passes."""
        tests = []
        for i in jobs:
            t = request.tests[i]
            inp = t.stdin if request.style == "stdio" else list(t.args or [])
            tests.append(TestInput(args=[inp, outputs[i], expected[i]]))
        creq = ExecRequest(
            language="python",
            style="function",
            code=request.compare.checker or "",
            entry_point="check",
            tests=tests,
            limits=request.limits,
            mode="collect",
        )
        cres = self._execute(creq)
        for i, cv in zip(jobs, cres.verdicts, strict=True):
            if cv.status == "ok" and cv.output is True:
                verdicts[i].status = "pass"
            else:
                verdicts[i].status = "wrong_answer"
                verdicts[i].error = (
                    "checker rejected the output" if cv.status == "ok" else f"checker {cv.status}: {cv.error}"
                )


def _shutdown(workers: list[_Worker], scratch_parent: str | None) -> None:
    for w in workers:
        with contextlib.suppress(Exception):
            w.close()
    if scratch_parent:
        shutil.rmtree(scratch_parent, ignore_errors=True)


def _default_build_cache() -> str:
    """A build-artefact dir the sandbox uid can traverse (home dirs are often 0700), owned by us."""
    path = os.path.join(tempfile.gettempdir(), f"codefoundry-build-{os.geteuid()}")
    os.makedirs(path, mode=0o755, exist_ok=True)
    st = os.lstat(path)
    if st.st_uid != os.geteuid() or not os.path.isdir(path) or os.path.islink(path):
        path = tempfile.mkdtemp(prefix="codefoundry-build-")
    os.chmod(path, 0o755)
    return path


class _NoExpected:
    def __repr__(self) -> str:
        return "<no expected>"


_NO_EXPECTED: Any = _NoExpected()


def _all(request: ExecRequest, status: str, error: str, compile_output: str = "") -> ExecResult:
    n = max(len(request.tests), 1)
    verdicts = [TestVerdict(status=status, error=error) for _ in range(n)]  # type: ignore[arg-type]
    return ExecResult(status=status, passed=False, verdicts=verdicts, compile_output=compile_output)  # type: ignore[arg-type]


def _finish(request: ExecRequest, verdicts: list[TestVerdict], resp: dict[str, Any]) -> ExecResult:
    status = next((v.status for v in verdicts if v.status not in ("pass", "ok")), None)
    if status is None:
        status = "ok" if request.mode == "collect" else "pass"
    passed = bool(verdicts) and all(v.status in ("pass", "ok") for v in verdicts)
    return ExecResult(
        status=status,
        passed=passed,
        verdicts=verdicts,
        compile_output=str(resp.get("compile_output", "")),
        stderr=str(resp.get("log", "")),
        time_s=float(resp.get("wall_s") or 0.0),
        peak_memory_mb=round(float(resp.get("mem_kb") or 0) / 1024, 2),
    )
