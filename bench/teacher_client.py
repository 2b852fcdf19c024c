"""Does the teacher client keep a server saturated? Achieved request rate versus concurrency / latency.

Starts the scripted OpenAI-compatible server (``codefoundry.testing.teacher_server``) in a process of its own on
127.0.0.1 with a fixed latency per request, sends N distinct chat requests through ``TeacherClient`` with a
concurrency limit C (with the SQLite response cache on, as in a real run), and prints the achieved req/s, the
theoretical C / latency, their ratio (goal >= 0.95), and the client's CPU time per request; then, as a
measuring stick, the rate a bare asyncio socket client reaches against the same server on this host. Bounded:
the server is killed at the end, and the whole bench has a deadline.

    .venv/bin/python bench/teacher_client.py [--requests 1000] [--concurrency 32] [--latency 0.5] [--repeat 3]

The default latency, 0.5 s, is a short LLM call; ``--latency 0.05 --concurrency 8`` is a stress in which
this host's own floor (the bare-socket client) sits near the goal, and the client reaches about 0.91.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from codefoundry.teacher.accounting import Accounting
from codefoundry.teacher.cache import TeacherCache
from codefoundry.teacher.client import TeacherClient
from codefoundry.teacher.config import TeacherConfig
from codefoundry.teacher.types import TeacherRequest

GOAL_RATIO = 0.95


def _one_run(base_url: str, args: argparse.Namespace, tmp: Path) -> dict[str, float]:
    config = TeacherConfig(
        base_url=base_url,
        model="bench",
        max_concurrency=args.concurrency,
        timeout_s=max(10.0, args.latency * 20),
        max_retries=2,
    )
    tag = time.time_ns()  # distinct prompts per run: nothing is served from a previous run's cache
    requests = [
        TeacherRequest(messages=[{"role": "user", "content": f"bench {tag} request {i}"}], stage="bench")
        for i in range(args.requests)
    ]
    cache = None if args.no_cache else TeacherCache(tmp / f"teacher-{tag}.sqlite")
    accounting = Accounting()
    client = TeacherClient(config, cache, accounting)
    # warm-up: open the connections once, so the figure is the steady state a long run sees
    client.generate_many(requests[: args.concurrency])
    timed = requests[args.concurrency :] if len(requests) > 2 * args.concurrency else requests
    cpu0, wall0 = time.process_time(), time.perf_counter()
    responses = client.generate_many(timed)
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    if cache is not None:
        cache.close()
    usage = accounting.usage()
    achieved = len(timed) / wall
    return {
        "requests": len(timed),
        "failed": sum(not r.ok for r in responses),
        "retries": usage.retries,
        "wall": wall,
        "achieved": achieved,
        "ratio": achieved / (args.concurrency / args.latency),
        "cpu_ms": cpu * 1000 / len(timed),
        "seen_ms": 1000 * usage.latency_s / max(usage.calls, 1),
        "cycle_ms": 1000 * args.concurrency / achieved,
    }


async def _floor(base_url: str, concurrency: int, count: int) -> float:
    """The host's floor: C bare asyncio sockets doing keep-alive HTTP/1.1 by hand, no library, no cache, no
    accounting. Not how codefoundry talks to teachers, only a measuring stick: what part of the gap to the
    theoretical rate belongs to this host (loopback, scheduler, the server) rather than to the client."""
    host, _, port = base_url.split("//")[1].split("/")[0].partition(":")
    pending = iter(range(count))

    async def lane() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        for i in pending:
            body = json.dumps(
                {"model": "bench", "messages": [{"role": "user", "content": f"floor {i}"}]}
            ).encode()
            head = f"POST /v1/chat/completions HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            writer.write(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
            await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            json.loads(await reader.readexactly(length))
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(concurrency)))
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--latency",
        type=float,
        default=0.5,
        help="server seconds per request (a short LLM call; 0.05 is a stress)",
    )
    parser.add_argument(
        "--jitter",
        type=float,
        default=0.0,
        help="server latency varies uniformly by +- this fraction (same mean), as real generations do",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs; the median is the figure")
    parser.add_argument("--no-cache", action="store_true", help="measure the client without its SQLite cache")
    parser.add_argument("--no-floor", action="store_true", help="skip the bare-socket reference run")
    parser.add_argument("--deadline", type=float, default=300.0, help="give up after this many seconds")
    args = parser.parse_args()

    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "codefoundry.testing.teacher_server",
            "--latency",
            str(args.latency),
            "--fast",
            "--jitter",
            str(args.jitter),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    runs: list[dict[str, float]] = []
    started = time.monotonic()
    try:
        assert server.stdout is not None
        base_url = server.stdout.readline().strip()
        if not base_url.startswith("http://127.0.0.1:"):
            raise SystemExit(f"scripted server did not start (said {base_url!r})")
        with tempfile.TemporaryDirectory(prefix="cf-bench-teacher-") as tmp:
            for _ in range(args.repeat):
                if time.monotonic() - started > args.deadline:
                    print(f"deadline of {args.deadline:.0f} s reached after {len(runs)} runs")
                    break
                runs.append(_one_run(base_url, args, Path(tmp)))
        floor = asyncio.run(_floor(base_url, args.concurrency, args.requests)) if not args.no_floor else None
    finally:
        server.kill()
        server.wait(10)

    theoretical = args.concurrency / args.latency
    print(
        f"C={args.concurrency}, server latency {args.latency * 1000:.0f} ms (+-{args.jitter:.0%}), "
        f"cache {'off' if args.no_cache else 'on'}, {args.requests} requests per run "
        f"({args.concurrency} of them warm-up), load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    for i, run in enumerate(runs, 1):
        print(
            f"  run {i}: {run['achieved']:.1f} req/s in {run['wall']:.2f} s, ratio {run['ratio']:.3f}, "
            f"failed {run['failed']:.0f}, retries {run['retries']:.0f}, client CPU {run['cpu_ms']:.3f} ms/req, "
            f"call seen by client {run['seen_ms']:.1f} ms, slot cycle {run['cycle_ms']:.1f} ms"
        )
    median = sorted(runs, key=lambda r: r["ratio"])[(len(runs) - 1) // 2]  # the lower median
    print(f"achieved: {median['achieved']:.1f} req/s (median run)")
    print(f"theoretical: C / latency = {theoretical:.1f} req/s")
    verdict = "OK" if median["ratio"] >= GOAL_RATIO else "BELOW GOAL"
    print(f"ratio: {median['ratio']:.3f} (goal >= {GOAL_RATIO})  {verdict}")
    print(f"client CPU: {median['cpu_ms']:.3f} ms per request")
    if floor is not None:
        print(
            f"host floor (bare asyncio sockets, same server and C): {floor:.1f} req/s, ratio "
            f"{floor / theoretical:.3f}; codefoundry reaches {median['achieved'] / floor:.3f} of it"
        )
    if any(run["failed"] for run in runs):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
