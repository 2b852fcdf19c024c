"""How busy the pipeline keeps a teacher server while the sandbox verifies: OSS-Instruct over 400 seeds.

Anchor: the server's capacity. The project's scripted OpenAI-compatible server runs in a process of its own
with 64 slots and 0.5 s per reply (like a GPU server with a fixed batch); it answers each OSS-Instruct request
with a real task (solution + tests) that the pipeline verifies in the sandbox, then a second sandbox stage
judges every kept reference again. The figure is the share of the server's capacity the run used:
``replies / (busy span x slots / latency)``, measured from both sides: the client (its own accounting in the
run's ``teacher_usage.json``: paid calls, when the first went out and the last was answered) and the server
(its own start and finish times). The bound is what a perfectly packed server would take for the same replies.

    .venv/bin/python bench/pipeline_stream.py [--seeds 400] [--slots 64] [--latency 0.5]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from codefoundry.recipe import recipe_from_dict
from codefoundry.runs import execute
from codefoundry.teacher.accounting import usage_summary

GOAL = 0.85


def _recipe(base_url: str, seeds: int, slots: int, workers: int | None) -> Any:
    return recipe_from_dict(
        {
            "name": "bench-stream",
            "sandbox": {"workers": workers},
            "teachers": {
                "default": {"base_url": base_url, "model": "scripted-teacher", "max_concurrency": slots}
            },
            "stages": [
                {"kind": "mine.functions", "corpus": {"kind": "stdlib"}},
                {"kind": "synth.oss_instruct", "teacher": "default", "limit": seeds},
                {"kind": "verify.reference"},
            ],
        },
        "bench recipe",
    )


def _share(replies: int, span: float, slots: int, latency: float) -> float:
    return replies / (span * slots / latency) if span > 0 else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=400)
    parser.add_argument("--slots", type=int, default=64)
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="sandbox workers (default: one per core; the scripted server shares this machine's cores)",
    )
    parser.add_argument(
        "--timeline", default=None, help="write the server's [start, end] per reply here (JSON)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cf-bench-stream-") as tmp:
        stats_path = Path(tmp) / "server.json"
        server = subprocess.Popen(
            [sys.executable, "-m", "codefoundry.testing.teacher_server", "--latency", str(args.latency),
             "--slots", str(args.slots), "--tasks", "--stats", str(stats_path)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert server.stdout is not None and server.stdin is not None
        base_url = server.stdout.readline().strip()
        try:
            started = time.perf_counter()
            summary = execute(_recipe(base_url, args.seeds, args.slots, args.workers), Path(tmp) / "run")
            wall = time.perf_counter() - started
            client_side = usage_summary(Path(tmp) / "run")["teachers"]["default"]["total"]
        finally:
            server.stdin.close()
            server.wait(timeout=30)
        server_side: dict[str, Any] = json.loads(stats_path.read_text())
        if args.timeline:
            Path(args.timeline).write_text(json.dumps(server_side["timeline"]))
    replies = client_side["calls"]
    client_span = client_side["last_answer_at"] - client_side["first_sent_at"]
    client_share = _share(replies, client_span, args.slots, args.latency)
    bound = replies * args.latency / args.slots
    for stage in summary["stages"]:
        print(
            f"{stage['stage']:<24} kept {stage['records']:>5}  dropped {stage['drops']:>5}  {stage['seconds']:>6.1f} s"
        )
    print(
        f"replies: {replies} (server: {server_side.get('replies')}); verified tasks: {summary['final']['tasks']}"
    )
    print(
        f"teacher busy span: client {client_span:.2f} s, server {server_side.get('busy_span_s')} s; "
        f"bound {bound:.2f} s; peak in flight at the server {server_side.get('peak_in_flight')} of {args.slots}"
    )
    print(f"whole run: {wall:.1f} s")
    print(f"capacity used: client {client_share:.3f}, server {server_side.get('capacity_used')}; "
          f"goal {GOAL}; ratio to goal {client_share / GOAL:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
