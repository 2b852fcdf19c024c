"""Token, cost and failure accounting per teacher and per stage, persisted in the run directory.

At 100k+ tasks the teacher bill is the cost of a run, so every paid call, cache hit, retry and failure is
counted where ``codefoundry status RUN`` can show it. The file is rewritten atomically (at most every
``flush_interval_s`` and on close) and a resumed run adds to what the previous one recorded.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

USAGE_FILE = "teacher_usage.json"


class Usage(BaseModel):
    """Counters of one (teacher, stage) pair."""

    calls: int = Field(0, description="HTTP calls answered by the server (paid)")
    samples: int = Field(0, description="samples (choices) received from the server")
    cache_hits: int = Field(0, description="samples served from the cache instead of the server")
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float = Field(0.0, description="sum of the latencies of the paid calls")
    first_sent_at: float | None = Field(None, description="wall clock: the first paid call went out")
    last_answer_at: float | None = Field(None, description="wall clock: the last paid call was answered")
    retries: int = 0
    retry_reasons: dict[str, int] = Field(default_factory=dict)
    failures: dict[str, int] = Field(default_factory=dict, description="requests given up, by reason")

    def add(self, other: Usage) -> None:
        for name in ("calls", "samples", "cache_hits", "prompt_tokens", "completion_tokens", "retries"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.cost_usd += other.cost_usd
        self.latency_s += other.latency_s
        if other.first_sent_at is not None:
            self.first_sent_at = min(self.first_sent_at or other.first_sent_at, other.first_sent_at)
        if other.last_answer_at is not None:
            self.last_answer_at = max(self.last_answer_at or other.last_answer_at, other.last_answer_at)
        for reason, count in other.retry_reasons.items():
            self.retry_reasons[reason] = self.retry_reasons.get(reason, 0) + count
        for reason, count in other.failures.items():
            self.failures[reason] = self.failures.get(reason, 0) + count


class _TeacherUsage(BaseModel):
    model: str = ""
    stages: dict[str, Usage] = Field(default_factory=dict)


class _UsageFile(BaseModel):
    version: int = 1
    teachers: dict[str, _TeacherUsage] = Field(default_factory=dict)


def _write_atomic(path: Path, text: str, *, durable: bool) -> None:
    """Write-then-rename, so a reader never sees half a file. ``durable`` adds an fsync (power loss); the
    periodic flushes during a run skip it: they run on the client's event loop and a killed *process* loses
    nothing that was renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".usage-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Accounting:
    """Thread-safe counters; ``path=None`` keeps them in memory only (tests, ``teacher check``)."""

    def __init__(self, path: Path | None = None, *, flush_interval_s: float = 1.0) -> None:
        self.path = Path(path) if path is not None else None
        self.flush_interval_s = flush_interval_s
        self._lock = threading.Lock()
        self._data = _UsageFile()
        self._dirty = False
        self._last_flush = 0.0
        if self.path is not None and self.path.exists():
            self._data = _UsageFile.model_validate_json(self.path.read_text(encoding="utf-8"))

    @classmethod
    def for_run(cls, run_dir: Path) -> Accounting:
        return cls(Path(run_dir) / USAGE_FILE)

    def _usage(self, teacher: str, model: str, stage: str) -> Usage:
        entry = self._data.teachers.setdefault(teacher, _TeacherUsage(model=model))
        entry.model = model or entry.model
        return entry.stages.setdefault(stage, Usage())

    def _touched(self) -> None:
        self._dirty = True
        if self.path is not None and time.monotonic() - self._last_flush >= self.flush_interval_s:
            self._flush_locked()

    def record_call(
        self,
        teacher: str,
        model: str,
        stage: str,
        *,
        prompt_tokens: int,
        completion_tokens: int,
        cost_usd: float,
        latency_s: float,
        samples: int,
        sent_at: float | None = None,
    ) -> None:
        with self._lock:
            usage = self._usage(teacher, model, stage)
            if sent_at:
                answered = sent_at + latency_s
                usage.first_sent_at = min(usage.first_sent_at or sent_at, sent_at)
                usage.last_answer_at = max(usage.last_answer_at or answered, answered)
            usage.calls += 1
            usage.samples += samples
            usage.prompt_tokens += prompt_tokens
            usage.completion_tokens += completion_tokens
            usage.cost_usd += cost_usd
            usage.latency_s += latency_s
            self._touched()

    def record_cache_hits(self, teacher: str, model: str, stage: str, samples: int) -> None:
        with self._lock:
            self._usage(teacher, model, stage).cache_hits += samples
            self._touched()

    def record_retry(self, teacher: str, model: str, stage: str, reason: str) -> None:
        with self._lock:
            usage = self._usage(teacher, model, stage)
            usage.retries += 1
            usage.retry_reasons[reason] = usage.retry_reasons.get(reason, 0) + 1
            self._touched()

    def record_failure(self, teacher: str, model: str, stage: str, reason: str) -> None:
        with self._lock:
            usage = self._usage(teacher, model, stage)
            usage.failures[reason] = usage.failures.get(reason, 0) + 1
            self._touched()

    def usage(self, teacher: str | None = None, stage: str | None = None) -> Usage:
        """Totals over the teachers and stages that match (None matches all)."""
        total = Usage()
        with self._lock:
            for name, entry in self._data.teachers.items():
                if teacher is not None and name != teacher:
                    continue
                for stage_name, usage in entry.stages.items():
                    if stage is None or stage_name == stage:
                        total.add(usage)
        return total

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return _summarize(self._data)

    def _flush_locked(self, durable: bool = False) -> None:
        if self.path is None or not self._dirty:
            return
        _write_atomic(self.path, self._data.model_dump_json(indent=1), durable=durable)
        self._dirty = False
        self._last_flush = time.monotonic()

    def flush(self) -> None:
        """Write the counters now (durably: this is the end of a batch or of the run)."""
        with self._lock:
            self._flush_locked(durable=True)

    close = flush


def _summarize(data: _UsageFile) -> dict[str, Any]:
    teachers: dict[str, Any] = {}
    grand = Usage()
    for name, entry in data.teachers.items():
        total = Usage()
        for usage in entry.stages.values():
            total.add(usage)
        grand.add(total)
        teachers[name] = {
            "model": entry.model,
            "total": total.model_dump(),
            "stages": {stage: usage.model_dump() for stage, usage in entry.stages.items()},
        }
    if not teachers:
        return {}
    return {"total": grand.model_dump(), "teachers": teachers}


def usage_summary(run_dir: Path) -> dict[str, Any]:
    """Calls, tokens, cost, cache hits, retries and failures of a run ({} if it never called a teacher)."""
    path = Path(run_dir) / USAGE_FILE
    if not path.exists():
        return {}
    return _summarize(_UsageFile.model_validate_json(path.read_text(encoding="utf-8")))
