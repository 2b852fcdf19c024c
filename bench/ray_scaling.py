"""The Ray runner against the local runner, same teacher + sandbox workload, same run.

Workload: OSS-Instruct over standard-library snippets against the project's scripted OpenAI-compatible
server on 127.0.0.1 (``codefoundry.testing.teacher_server``: fixed latency per call, verifiable tasks chosen
by a hash of the request, so every runner gets the same ones), then reference verification and mutation testing in the sandbox, then dedup. Run three times in
fresh run directories: the local runner, Ray with 1 stage worker, Ray with 2 (one local cluster, started once
and timed apart). Prints tasks/s, the ratios to the local runner, whether the exports are byte-identical,
and the per-batch scheduling overhead: a one-record batch of a cheap stage sent to a stage worker actor
versus processed in the driver, in ms. Usage: ``python bench/ray_scaling.py [--seeds 60] [--latency 0.05]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from codefoundry.pipeline.runner import RunnerKind, RunnerOptions
from codefoundry.recipe import recipe_from_dict
from codefoundry.runs import execute
from codefoundry.testing.teacher_server import ScriptedServer


def _recipe(base_url: str, seeds: int) -> dict[str, Any]:
    return {
        "name": "ray-scaling",
        "teachers": {
            "default": {
                "base_url": base_url,
                "model": "scripted",
                "max_retries": 0,
                "max_concurrency": 8,
            }
        },
        "stages": [
            {"kind": "mine.functions", "corpus": {"kind": "stdlib"}},
            {"kind": "synth.oss_instruct", "limit": seeds, "min_tests": 3, "batch_size": 4},
            {"kind": "verify.reference", "batch_size": 4},
            {"kind": "verify.mutation", "batch_size": 4},
            {"kind": "filter.dedup"},
        ],
    }


def _run(recipe: dict[str, Any], run_dir: Path, runner: RunnerOptions) -> tuple[float, int, dict[str, bytes]]:
    started = time.perf_counter()
    execute(recipe_from_dict(recipe), run_dir, runner=runner)
    seconds = time.perf_counter() - started
    exports = {p.name: p.read_bytes() for p in sorted((run_dir / "export").iterdir())}
    return seconds, exports["sft.jsonl"].count(b"\n"), exports


def _dispatch_overhead(calls: int) -> dict[str, float]:
    """Median ms of a one-record batch of ``mine.functions`` (the smallest standard-library file): in the
    driver, and sent to a stage worker."""
    import ray

    from codefoundry.pipeline.ray.actors import StageWorker
    from codefoundry.pipeline.registry import stage_classes
    from codefoundry.pipeline.services import Services
    from codefoundry.pipeline.stage import StageContext

    with tempfile.TemporaryDirectory() as tmp:
        cls = stage_classes()["mine.functions"]
        config = cls.Config.model_validate({"corpus": {"kind": "stdlib"}})
        local = cls(config, StageContext(Services(Path(tmp)), "00-mine.functions"))
        source = min(local.inputs(), key=lambda f: len(f.model_dump_json()))  # the smallest file: cheap
        worker = ray.remote(StageWorker).options(num_cpus=0).remote(tmp, {}, None, None)
        identity = ("00-mine.functions", "mine.functions", config.model_dump(mode="json"))
        ray.get(worker.setup.remote(*identity))

        async def timed(call: Any) -> list[float]:
            times = []
            for _ in range(calls):
                started = time.perf_counter()
                await call()
                times.append(1000 * (time.perf_counter() - started))
            return times

        local_ms = asyncio.run(timed(lambda: local.process([source])))
        remote_ms = asyncio.run(timed(lambda: worker.process.remote(*identity, [source])))
        ray.kill(worker)
    return {"driver_ms": statistics.median(local_ms), "actor_ms": statistics.median(remote_ms)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=60)
    ap.add_argument("--latency", type=float, default=0.05, help="the scripted teacher's seconds per call")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    import ray

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    server = ScriptedServer(latency_s=args.latency, tasks=True).start()
    recipe = _recipe(server.base_url, args.seeds)
    fig: dict[str, Any] = {"seeds": args.seeds, "teacher_latency_s": args.latency, "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        local_s, tasks, local_exports = _run(recipe, Path(tmp) / "local", RunnerOptions())
        started = time.perf_counter()
        ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False)
        fig["ray_cluster_start_s"] = round(time.perf_counter() - started, 2)
        fig["local"] = {
            "seconds": round(local_s, 2),
            "tasks": tasks,
            "tasks_per_s": round(tasks / local_s, 2),
        }
        identical = True
        for workers in (1, 2):
            options = RunnerOptions(kind=RunnerKind.RAY, workers=workers)
            seconds, count, exported = _run(recipe, Path(tmp) / f"ray-{workers}", options)
            identical &= exported == local_exports
            fig[f"ray_{workers}"] = {
                "seconds": round(seconds, 2),
                "tasks": count,
                "tasks_per_s": round(count / seconds, 2),
                "ratio_to_local": round(local_s / seconds, 2),
            }
        fig["exports_identical"] = identical
        fig["per_batch"] = {k: round(v, 3) for k, v in _dispatch_overhead(200).items()}
        fig["per_batch"]["overhead_ms"] = round(
            fig["per_batch"]["actor_ms"] - fig["per_batch"]["driver_ms"], 3
        )
        ray.shutdown()
    server.stop()
    print(
        f"workload: {args.seeds} OSS-Instruct seeds, teacher latency {args.latency}s, {os.cpu_count()} cores"
    )
    print(
        f"local runner : {fig['local']['seconds']:7.2f} s  {fig['local']['tasks']} tasks  {fig['local']['tasks_per_s']} tasks/s"
    )
    for workers in (1, 2):
        f = fig[f"ray_{workers}"]
        print(
            f"ray, {workers} worker{'s' if workers > 1 else ' '}: {f['seconds']:7.2f} s  {f['tasks']} tasks  {f['tasks_per_s']} tasks/s  ratio {f['ratio_to_local']}x"
        )
    print(f"local cluster start: {fig['ray_cluster_start_s']} s (not in the Ray times)")
    print(f"exports byte-identical to the local run: {identical}")
    pb = fig["per_batch"]
    print(
        f"per-batch scheduling overhead: {pb['overhead_ms']} ms (one-record batch: driver {pb['driver_ms']} ms, stage worker {pb['actor_ms']} ms)"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(fig, indent=2))
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
