"""Serving requests: dispatch by op, and run one candidate's tests (building it first when needed).

Function-style tests share one child (a Python candidate is imported once); a child that dies takes only its
current test with it: the run resumes in a fresh child from the next test. Stdio tests get one child each.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import tempfile
import time
from typing import Any

from codefoundry.sandbox import compare, harness, plaindata
from codefoundry.sandbox.protocol import (
    EarlyStop,
    MeasureRequest,
    Op,
    RunRequest,
    RunResponse,
    ServerError,
    TestResult,
)
from codefoundry.sandbox.server import classify
from codefoundry.sandbox.server.children import Job, child_env, child_plan, exec_job, run_child
from codefoundry.sandbox.server.diagnostics import measure, probe
from codefoundry.sandbox.server.setup import Worker
from codefoundry.sandbox.status import Status


def handle(worker: Worker, msg: dict[str, Any]) -> dict[str, Any]:
    """Serve one request message; the reply is a message too."""
    op = msg.get("op")
    if op == Op.RUN:
        return run_request(worker, RunRequest.from_dict(msg)).to_dict()
    if op == Op.PROBE:
        return probe(worker).to_dict()
    if op == Op.MEASURE:
        return measure(worker, MeasureRequest.from_dict(msg).n).to_dict()
    if op == Op.PING:
        return {"ok": True}
    return ServerError(f"unknown op {op!r}").to_dict()


def run_request(worker: Worker, req: RunRequest) -> RunResponse:
    """Build the candidate if its language compiles, then run its tests; the scratch dir goes after."""
    worker.seq += 1
    lang = req.language
    scratch = os.path.join(worker.setup.scratch_root, f"c{worker.seq}")
    os.mkdir(scratch, 0o700)
    if worker.setup.uid is not None:
        os.chown(scratch, worker.setup.uid, worker.setup.uid)
    resp = RunResponse(tests=[None] * len(req.tests))
    try:
        if lang.get("source"):
            src = os.path.join(scratch, lang["source"])
            with open(src, "w", encoding="utf-8") as f:
                f.write(req.program or req.code)
            if worker.setup.uid is not None:
                os.chown(src, worker.setup.uid, worker.setup.uid)
        art = None
        if lang.get("compile"):
            art, log, ok = _compile(worker, req, scratch)
            resp.compile_output = log[-65536:]
            if not ok:
                resp.compile_error = True
                return resp
        _run_tests(worker, req, scratch, art, resp)
        return resp
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


class EarlyJudge:
    """Notes failures as results arrive, so that ``stop_on_first_failure`` can stop the child early.

    Only a hint: the supervisor judges every test again, with the expected outputs it never sent.
    """

    def __init__(self, style: str, early: EarlyStop | None, stop: bool) -> None:
        self.style = style
        self.early = early
        self.stop = stop
        self.failed = False

    def __call__(self, idx: int, r: TestResult) -> bool:
        """Record test ``idx``'s result; False when the run should stop here."""
        if r.status != Status.OK:
            self.failed = True
        elif self.early is not None:
            exp_text = self.early.expected[idx]
            if exp_text is not None:
                try:
                    exp = plaindata.loads_plain(exp_text) if self.style == "function" else exp_text
                    out = plaindata.loads_plain(r.output) if self.style == "function" else r.output
                    good = compare.outputs_equal(
                        self.style, out, exp, self.early.mode, self.early.rel_tol, self.early.abs_tol
                    )
                except Exception:
                    good = False
                self.failed = self.failed or not good
        return not self.stopped()

    def stopped(self) -> bool:
        return self.stop and self.failed


def _run_tests(worker: Worker, req: RunRequest, scratch: str, art: str | None, resp: RunResponse) -> None:
    """Run every test (in as few children as the style allows) and fill ``resp``."""
    lang, style, tests, limits = req.language, req.style, req.tests, req.limits
    n = len(tests)
    out_cap = limits.output_kb * 1024
    t_start = time.monotonic()
    total_deadline = t_start + limits.time_s
    per_test = limits.per_test_time_s
    worker.set_pids_max(limits.processes)
    judge_early = EarlyJudge(style, req.early_stop, req.stop_on_first_failure)
    results = resp.tests
    logs: list[str] = []
    fmt = {"src": os.path.join(scratch, lang.get("source") or ""), "art": art or "", "dir": scratch}
    fmt.update(mem=limits.memory_mb, scratch_root=worker.setup.scratch_root)
    env = child_env(scratch, {k: v.format(**fmt) for k, v in lang.get("env", {}).items()})
    in_process = lang["mode"] == "python"
    i = 0
    maxrss = 0
    precise = False
    while i < n:
        if judge_early.stopped():
            break
        if time.monotonic() >= total_deadline:
            for j in range(i, n):
                results[j] = TestResult(Status.TIMEOUT, error="not run: candidate wall-clock limit reached")
            break
        plan = child_plan(worker, scratch, limits, lang)
        job: Job
        if style == "function":
            chunk = list(range(i, n))
            if in_process:
                job = _python_function_job(req, tests[i:], i, precise, env, scratch, out_cap)
                stdin_data = None
            else:
                job = exec_job([a.format(**fmt) for a in lang["run"]], env)
                stdin_data = json.dumps({"first": i, "tests": tests[i:], "cap": out_cap}).encode()
            merge = True
        else:
            chunk = [i]
            if in_process:
                job = _python_stdio_job(req.code, env, scratch)
            else:
                job = exec_job([a.format(**fmt) for a in lang["run"]], env)
            stdin_data = (tests[i] or "").encode()
            merge = False
        oc = run_child(
            worker,
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
            first_test=None if style == "function" and in_process else i,
        )
        maxrss = max(maxrss, oc.maxrss_kb)
        if oc.iso_error:
            resp.sandbox_error = f"isolation failed in child: {oc.iso_error}"
            return
        if style == "function":
            logs.append(oc.stdout.decode("utf-8", "replace"))
            for idx, r in oc.results.items():
                if i <= idx < n and results[idx] is None:
                    r.peak_kb = oc.maxrss_kb
                    results[idx] = r
            missing = [j for j in chunk if results[j] is None]
            if not missing:
                i = n
                continue
            j = missing[0]
            if oc.killed_for == "stopped":
                break
            if not precise and in_process:
                # Results may have been coalesced and lost with the child: re-run from the first
                # missing test, flushing every result, so the failure lands on the right test.
                precise = True
                i = j
                continue
            r = classify.failure(oc, limits, style)
            r.peak_kb = oc.maxrss_kb
            results[j] = r
            judge_early(j, r)
            i = j + 1
        else:
            logs.append(oc.stderr.decode("utf-8", "replace"))
            r = classify.stdio_result(oc, limits)
            results[i] = r
            judge_early(i, r)
            i += 1
    for j in range(n):
        if results[j] is None:
            results[j] = TestResult(Status.SKIPPED, error="not run: an earlier test failed")
    resp.log = "".join(logs)[-max(out_cap, 65536) :]
    resp.wall_s = round(time.monotonic() - t_start, 6)
    resp.peak_kb = maxrss


def _python_function_job(
    req: RunRequest, texts: list[str], first: int, precise: bool, env: dict[str, str], scratch: str, cap: int
) -> Job:
    """Import the candidate in the child and call its entry point on tests ``first``, ``first + 1``..."""
    code, entry = req.code, req.entry_point

    def job() -> None:
        os.environ.clear()
        os.environ.update(env)
        tempfile.tempdir = scratch
        if precise:
            harness.FLUSH_EVERY_S = 0.0
        harness.run_function(code, entry, texts, first, cap)

    return job


def _python_stdio_job(code: str, env: dict[str, str], scratch: str) -> Job:
    """Run the candidate as ``__main__`` in the child, on the stdin already wired to it."""

    def job() -> None:
        os.environ.clear()
        os.environ.update(env)
        tempfile.tempdir = scratch
        harness.run_stdio(code)

    return job


def _compile(worker: Worker, req: RunRequest, scratch: str) -> tuple[str | None, str, bool]:
    """Compile once per (language, code) into the build cache; returns (artefact, log, ok)."""
    lang = req.language
    key = hashlib.sha256(
        json.dumps([lang["name"], lang["compile"], lang.get("source"), req.code]).encode()
    ).hexdigest()[:32]
    cache_dir, run_dir = worker.build_dirs(req.build_cache)
    final = os.path.join(cache_dir, key)
    if os.path.exists(os.path.join(final, ".ok")):
        return os.path.join(run_dir, key), "", True
    src = os.path.join(scratch, lang["source"])
    outdir = os.path.join(scratch, "build")
    os.makedirs(outdir)
    if worker.setup.uid is not None:
        os.chown(outdir, worker.setup.uid, worker.setup.uid)
    fmt = {"src": src, "out": outdir, "dir": scratch, "mem": req.limits.memory_mb}
    fmt["scratch_root"] = worker.setup.scratch_root
    argv = [a.format(**fmt) for a in lang["compile"]]
    for d in lang.get("compile_dirs") or []:
        os.makedirs(d.format(**fmt), mode=0o700, exist_ok=True)
    env = child_env(scratch, {k: v.format(**fmt) for k, v in lang.get("compile_env", {}).items()})
    plan = child_plan(worker, scratch, req.limits, lang, compile_step=True)
    worker.set_pids_max(256)
    ctime = float(lang.get("compile_time_s", 60))
    oc = run_child(
        worker,
        plan,
        exec_job(argv, env),
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
    return os.path.join(run_dir, key), log, True
