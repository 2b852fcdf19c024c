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
import threading
import time
from pathlib import Path
from typing import Any

from codefoundry.kvstore import KVStore

# the table of every teacher.sqlite written so far; the value read back is the payload (JSON text)
_COLUMNS = (
    ("model", "TEXT NOT NULL"),
    ("stage", "TEXT NOT NULL"),
    ("payload", "TEXT NOT NULL"),
    ("created", "REAL NOT NULL"),
)


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
        # one connection shared across threads (generate_many runs its loop in a worker thread)
        self._store = KVStore(path, table="responses", columns=_COLUMNS, value="payload", busy_timeout_s=60.0)
        self.path = self._store.path
        self.hits = 0
        self.misses = 0
        self._counts = threading.Lock()

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored payload for ``key``, counting a hit or a miss."""
        text = self._store.get(key)
        with self._counts:
            if text is None:
                self.misses += 1
                return None
            self.hits += 1
        return json.loads(text)

    def get_many(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        """Payloads for those of ``keys`` that are stored (one query; counts each key)."""
        if not keys:
            return {}
        stored = self._store.get_many(keys)
        with self._counts:
            self.hits += len(stored)
            self.misses += len(keys) - len(stored)
        return {key: json.loads(text) for key, text in stored.items()}

    def present(self, keys: list[str]) -> set[str]:
        """Which of ``keys`` are stored, without counting hits or misses (for progress and tests)."""
        return self._store.present(keys)

    def put_many(self, items: list[tuple[str, dict[str, Any]]], *, model: str, stage: str) -> None:
        """Commit several payloads in one transaction (the samples of one call land together)."""
        now = time.time()
        self._store.put_many(
            (key, model, stage, json.dumps(payload, ensure_ascii=False), now) for key, payload in items
        )

    def put(self, key: str, payload: dict[str, Any], *, model: str, stage: str = "") -> None:
        self.put_many([(key, payload)], model=model, stage=stage)

    def __len__(self) -> int:
        return len(self._store)

    def stats(self) -> dict[str, int]:
        return {"entries": len(self), "hits": self.hits, "misses": self.misses}

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> TeacherCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
