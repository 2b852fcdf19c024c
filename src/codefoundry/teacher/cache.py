"""A durable cache of teacher responses, so a resumed run pays for no call twice.

Keyed by a content hash of everything that determines a sample: model, endpoint, messages or prompt, sampling
parameters, response format and the sample index. A response is committed to SQLite (WAL) *before* the client
hands it to the caller, so a run killed at any instant has paid only for calls whose answers are on disk. The
API key and the server URL are not part of the key or the row: the same model behind another server (or the
embedded one on a new port) still hits.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    stage TEXT NOT NULL,
    payload TEXT NOT NULL,
    created REAL NOT NULL
)
"""


def cache_key(
    *,
    model: str,
    endpoint: str,
    messages: list[dict[str, Any]] | None,
    prompt: str | None,
    sampling: dict[str, Any],
    response_format: dict[str, Any] | None,
    sample_index: int,
) -> str:
    """The content hash of one sample; canonical JSON so dict order does not matter."""
    material = {
        "v": 1,
        "model": model,
        "endpoint": endpoint,
        "messages": messages,
        "prompt": prompt,
        "sampling": {k: v for k, v in sorted(sampling.items()) if v is not None},
        "response_format": response_format,
        "sample_index": sample_index,
    }
    blob = json.dumps(material, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class TeacherCache:
    """SQLite file of responses by content hash, with hit/miss counters for this process."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()
        # One connection shared across threads (generate_many runs its loop in a worker thread); the lock
        # serialises access. WAL + synchronous=NORMAL: a commit survives the death of this process.
        self._db = sqlite3.connect(self.path, timeout=60.0, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored payload for ``key``, counting a hit or a miss."""
        with self._lock:
            row = self._db.execute("SELECT payload FROM responses WHERE key = ?", (key,)).fetchone()
            if row is None:
                self.misses += 1
                return None
            self.hits += 1
        return json.loads(row[0])

    def get_many(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        """Payloads for those of ``keys`` that are stored (one query; counts each key)."""
        if not keys:
            return {}
        marks = ",".join("?" * len(keys))
        with self._lock:
            rows = self._db.execute(
                f"SELECT key, payload FROM responses WHERE key IN ({marks})", keys
            ).fetchall()
            self.hits += len(rows)
            self.misses += len(keys) - len(rows)
        return {key: json.loads(payload) for key, payload in rows}

    def present(self, keys: list[str]) -> set[str]:
        """Which of ``keys`` are stored, without counting hits or misses (for progress and tests)."""
        if not keys:
            return set()
        marks = ",".join("?" * len(keys))
        with self._lock:
            rows = self._db.execute(f"SELECT key FROM responses WHERE key IN ({marks})", keys).fetchall()
        return {row[0] for row in rows}

    def put_many(self, items: list[tuple[str, dict[str, Any]]], *, model: str, stage: str) -> None:
        """Commit several payloads in one transaction (the samples of one call land together)."""
        now = time.time()
        rows = [(key, model, stage, json.dumps(payload, ensure_ascii=False), now) for key, payload in items]
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT OR REPLACE INTO responses (key, model, stage, payload, created) VALUES (?,?,?,?,?)",
                    rows,
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def put(self, key: str, payload: dict[str, Any], *, model: str, stage: str = "") -> None:
        self.put_many([(key, payload)], model=model, stage=stage)

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def stats(self) -> dict[str, int]:
        return {"entries": len(self), "hits": self.hits, "misses": self.misses}

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> TeacherCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
