"""A run that calls a teacher for N prompts; the resume test SIGKILLs it mid-way and starts it again."""

from __future__ import annotations

import sys
from pathlib import Path

from codefoundry.teacher.accounting import Accounting
from codefoundry.teacher.cache import TeacherCache
from codefoundry.teacher.client import TeacherClient
from codefoundry.teacher.config import TeacherConfig
from codefoundry.teacher.types import TeacherRequest


def requests(count: int) -> list[TeacherRequest]:
    return [
        TeacherRequest(
            messages=[{"role": "user", "content": f"prompt {i}"}], n=2 if i % 3 == 0 else 1, stage="s"
        )
        for i in range(count)
    ]


def config(base_url: str) -> TeacherConfig:
    return TeacherConfig(
        base_url=base_url, model="scripted-teacher", max_concurrency=4, api_key_env="CF_TEST_TEACHER_KEY"
    )


def main() -> None:
    base_url, run_dir, count = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    cache = TeacherCache(run_dir / "cache" / "teacher.sqlite")
    client = TeacherClient(config(base_url), cache, Accounting.for_run(run_dir))
    responses = client.generate_many(requests(count))
    failed = [r for r in responses if not r.ok]
    print(f"done {len(responses)} failed {len(failed)} hits {cache.hits} misses {cache.misses}", flush=True)


if __name__ == "__main__":
    main()
