"""Does the teacher client keep a server saturated? Achieved request rate versus concurrency / latency.

Starts the scripted OpenAI-compatible server (``codefoundry.teacher.testing``) in a process of its own on
127.0.0.1 with a fixed latency per request, sends N distinct chat requests through ``TeacherClient`` with a
concurrency limit C (with the SQLite response cache on, as in a real run), and prints the achieved req/s, the
theoretical C / latency, their ratio (goal >= 0.95), and the client's CPU time per request. Bounded: the
server is killed at the end, and the whole bench has a deadline.

    .venv/bin/python bench/teacher_client.py [--requests 1000] [--concurrency 16] [--latency 0.05]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from codefoundry.teacher.accounting import Accounting
from codefoundry.teacher.cache import TeacherCache
from codefoundry.teacher.client import TeacherClient, TeacherRequest
from codefoundry.teacher.config import TeacherConfig

GOAL_RATIO = 0.95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.05, help="server seconds per request")
    parser.add_argument("--no-cache", action="store_true", help="measure the client without its SQLite cache")
    parser.add_argument("--deadline", type=float, default=300.0, help="give up after this many seconds")
    args = parser.parse_args()

    server = subprocess.Popen(
        [sys.executable, "-m", "codefoundry.teacher.testing", "--latency", str(args.latency)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        base_url = server.stdout.readline().strip()
        if not base_url.startswith("http://127.0.0.1:"):
            raise SystemExit(f"scripted server did not start (said {base_url!r})")
        config = TeacherConfig(
            base_url=base_url,
            model="bench",
            max_concurrency=args.concurrency,
            timeout_s=max(10.0, args.latency * 20),
            max_retries=2,
        )
        requests = [
            TeacherRequest(messages=[{"role": "user", "content": f"bench request {i}"}], stage="bench")
            for i in range(args.requests)
        ]
        with tempfile.TemporaryDirectory(prefix="cf-bench-teacher-") as tmp:
            cache = None if args.no_cache else TeacherCache(Path(tmp) / "teacher.sqlite")
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
        if wall > args.deadline:
            raise SystemExit(f"bench ran past its deadline ({wall:.0f} s)")
    finally:
        server.kill()
        server.wait(10)

    failed = sum(not r.ok for r in responses)
    achieved = len(timed) / wall
    theoretical = args.concurrency / args.latency
    ratio = achieved / theoretical
    usage = accounting.usage()
    print(
        f"requests: {len(timed)} (+{len(requests) - len(timed)} warm-up), failed: {failed}, "
        f"retries: {usage.retries}, concurrency C={args.concurrency}, latency {args.latency * 1000:.0f} ms, "
        f"cache {'off' if args.no_cache else 'on'}"
    )
    print(f"achieved: {achieved:.1f} req/s in {wall:.2f} s")
    print(f"theoretical: C / latency = {theoretical:.1f} req/s")
    print(f"ratio: {ratio:.3f} (goal >= {GOAL_RATIO})  {'OK' if ratio >= GOAL_RATIO else 'BELOW GOAL'}")
    print(f"client CPU: {cpu * 1000 / len(timed):.3f} ms per request ({cpu:.2f} s total)")
    # where the gap goes: the latency the client saw per call, versus the cycle a slot actually took
    seen = usage.latency_s / max(usage.calls, 1)
    cycle = args.concurrency / achieved
    print(
        f"per call: server latency {args.latency * 1000:.1f} ms, seen by the client {seen * 1000:.1f} ms, "
        f"slot cycle {cycle * 1000:.1f} ms (client-side gap {max(0.0, cycle - seen) * 1000:.1f} ms)"
    )
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
