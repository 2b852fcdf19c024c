"""The supervisor: the trusted side. It owns the fork-servers, holds expected outputs and decides verdicts.

It never runs candidate code. ``Sandbox`` turns each ``ExecRequest`` into a ``protocol.RunRequest`` for a
free fork-server (``pool.py``) and judges the reply itself (``verdicts.py``): from each fork-server it
receives, per test, a status and either plain-data JSON text (function style) or captured stdout (stdio
style), which it re-parses (only plain types survive) and compares with the expected output.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pathlib
import secrets
import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from codefoundry.sandbox import cgroups, isolation, plaindata
from codefoundry.sandbox.api import (
    ExecRequest,
    ExecResult,
    Limits,
    ProgramRun,
    SandboxError,
    TestInput,
)
from codefoundry.sandbox.cache import ResultCache, request_key
from codefoundry.sandbox.config import LayerReport, SandboxConfig
from codefoundry.sandbox.languages import get_language, registry
from codefoundry.sandbox.layers import layer_report
from codefoundry.sandbox.pool import Pool, WorkerProcess, shutdown
from codefoundry.sandbox.protocol import (
    EarlyStop,
    MeasureReply,
    MeasureRequest,
    RunLimits,
    RunRequest,
    RunResponse,
)
from codefoundry.sandbox.status import Status
from codefoundry.sandbox.verdicts import all_verdicts, expected_outputs, judge_response

__all__ = ["ProgramRun", "Sandbox", "SandboxError"]

log = logging.getLogger("codefoundry.sandbox")


class Sandbox:
    """The single entry point for running untrusted code.

    Use as a context manager (starts the warm fork-servers) or call ``close()``. ``run_many`` spreads
    requests over the workers and returns results in input order.
    """

    def __init__(self, config: SandboxConfig | None = None, cache_path: pathlib.Path | None = None) -> None:
        self.config = config or SandboxConfig()
        self._cache = ResultCache(cache_path) if cache_path is not None else None
        self._workers: list[WorkerProcess] = []
        self._free = Pool()
        self._start_lock = threading.Lock()
        self._layers: dict[str, LayerReport] = {}
        self._scratch_parent: str | None = None
        self._n_workers = self.config.worker_count()
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
            cgroups.remove_stale_cgroups("/sys/fs/cgroup/pids")
            # A worker with its own filesystem view keeps its scratch there and creates nothing on the host;
            # only a worker without one makes this directory.
            base = self.config.scratch_root or tempfile.gettempdir()
            _remove_stale_scratch(base)
            self._scratch_parent = os.path.join(
                base, f"codefoundry-sandbox-{os.getpid()}-{secrets.token_hex(4)}"
            )
            os.makedirs(self._build_cache, exist_ok=True)
            view_paths = [
                root for lang in registry().values() if lang.available()[0] for root in lang.view_roots()
            ]
            seccomp = _seccomp_program() if "seccomp" in self.config.layers else (None, "")
            try:
                for i in range(self._n_workers):
                    w = WorkerProcess(
                        i, self.config, self._scratch_parent, self._build_cache, view_paths, seccomp
                    )
                    self._workers.append(w)
                    self._free.put(w)
            except BaseException:
                self._close_workers()
                raise
            # Stop the servers and remove scratch even if the caller never calls close().
            self._finalizer = weakref.finalize(self, shutdown, list(self._workers), self._scratch_parent)
            report = self._workers[0].report
            assert report is not None  # a worker that started has reported
            self._layers = layer_report(self.config.layers, report)
            missing = [k for k, v in self._layers.items() if not v.active and not k.startswith("lang:")]
            for k in missing:
                log.warning("sandbox isolation layer %r is NOT active: %s", k, self._layers[k].detail)
            if missing and self.config.require_isolation:
                self._close_workers()
                raise SandboxError(f"require_isolation is set but layers are missing: {', '.join(missing)}")

    def layers(self) -> dict[str, LayerReport]:
        """What the start-up probe found, per isolation layer (and ``lang:<name>`` per language)."""
        self._ensure_started()
        return dict(self._layers)

    def measure_overhead(self, n: int = 100) -> dict[str, float]:
        """Median fork-to-reap milliseconds with progressively more layers (for doctor and the bench)."""
        self._ensure_started()
        w = self._free.get()
        try:
            resp = w.call(MeasureRequest(n=n), timeout=120)
        finally:
            self._free.put(w)
        return MeasureReply.from_dict(resp).median_ms

    def _close_workers(self) -> None:
        for w in self._workers:
            w.close()
        self._workers = []
        self._free = Pool()
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
        if self._cache is not None and key is not None and result.status != Status.SANDBOX_ERROR:
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
        res, resp = self._execute_with_response(req)
        v = res.verdicts[0]
        first = resp.tests[0] if resp is not None and resp.tests else None
        return ProgramRun(
            status=v.status,
            exit_code=first.exit_code if first is not None else None,
            stdout=v.output if isinstance(v.output, str) else "",
            stderr=res.stderr or res.compile_output,
            time_s=v.time_s,
            peak_memory_mb=v.peak_memory_mb,
            error=v.error,
        )

    def _execute(self, request: ExecRequest) -> ExecResult:
        return self._execute_with_response(request)[0]

    def _execute_with_response(self, request: ExecRequest) -> tuple[ExecResult, RunResponse | None]:
        """Run one request on a fork-server and judge it; also the fork-server's reply, when there was one."""
        lang = get_language(request.language)
        if lang is None:
            return all_verdicts(request, Status.COMPILE_ERROR, f"unknown language {request.language!r}"), None
        ok, why = lang.available()
        if not ok:
            return all_verdicts(request, Status.COMPILE_ERROR, why, compile_output=why), None
        if request.style not in lang.styles:
            why = f"{lang.name} does not support {request.style} style here"
            return all_verdicts(request, Status.COMPILE_ERROR, why), None
        self._ensure_started()
        judge = request.mode == "judge"
        expected, expected_text = expected_outputs(request)
        if request.style == "function":
            tests_payload = [plaindata.dumps_plain(list(t.args or [])) for t in request.tests]
        else:
            tests_payload = [t.stdin or "" for t in request.tests]
        early = None
        # Expected outputs reach the fork-server (to stop at the first wrong answer) only when the child
        # execs a runtime or binary, which replaces its memory: a Python child is a fork of the server and
        # would inherit them. Python candidates still stop at the first error, crash or timeout.
        exec_child = lang.mode == "exec"
        if judge and exec_child and request.stop_on_first_failure and request.compare.mode != "checker":
            early = EarlyStop(
                expected=expected_text,
                mode=request.compare.mode,
                rel_tol=request.compare.float_rel_tol,
                abs_tol=request.compare.float_abs_tol,
            )
        req = RunRequest(
            language=lang.spec(),
            style=request.style,
            code=request.code,
            program=lang.program(request),
            entry_point=request.entry_point,
            tests=tests_payload,
            limits=RunLimits.from_dict(request.limits.model_dump()),
            stop_on_first_failure=request.stop_on_first_failure,
            early_stop=early,
            build_cache=self._build_cache,
        )
        budget = (
            request.limits.time_s + (lang.compile_time_s if lang.compile else 0) + self.config.server_grace_s
        )
        w = self._free.get(None if request.worker is None else request.worker % len(self._workers))
        try:
            raw = w.call(req, timeout=budget)
        finally:
            self._free.put(w)
        resp = RunResponse.from_dict(raw)
        return judge_response(request, resp, expected, self._execute), resp


def _remove_stale_scratch(base: str) -> None:
    """Scratch directories of sandboxes whose process is gone (killed before it could clean up)."""
    with contextlib.suppress(OSError):
        for name in os.listdir(base):
            parts = name.split("-")
            if name.startswith("codefoundry-sandbox-") and len(parts) == 4 and parts[2].isdigit():
                path = os.path.join(base, name)
                if not os.path.exists(f"/proc/{parts[2]}") and os.stat(path).st_uid == os.geteuid():
                    shutil.rmtree(path, ignore_errors=True)


def _seccomp_program() -> tuple[bytes | None, str]:
    """The fork-servers' seccomp program, compiled here (libseccomp stays out of the fork-servers)."""
    notes: dict[str, tuple[bool, str]] = {}
    program = isolation.build_seccomp(notes)
    return program, notes["seccomp"][1]


def _default_build_cache() -> str:
    """A build-artefact dir the sandbox uid can traverse (home dirs are often 0700), owned by us."""
    path = os.path.join(tempfile.gettempdir(), f"codefoundry-build-{os.geteuid()}")
    os.makedirs(path, mode=0o755, exist_ok=True)
    st = os.lstat(path)
    if st.st_uid != os.geteuid() or not os.path.isdir(path) or os.path.islink(path):
        path = tempfile.mkdtemp(prefix="codefoundry-build-")
    os.chmod(path, 0o755)
    return path
