"""Result cache: SQLite keyed by a content hash of everything that can change a verdict.

One row per request, written in its own transaction (WAL journal), so a SIGKILL at any moment leaves either
the old or the new row, never a torn one.
"""

from __future__ import annotations

import hashlib
import json
import pathlib
import sqlite3
import threading

from codefoundry.sandbox.api import ExecRequest, ExecResult

ENGINE_VERSION = "1"  # bump when a change to the engine may change verdicts


def request_key(request: ExecRequest) -> str:
    """Hash of (language, style, code, entry point, tests incl. expected, limits, mode, stop flag, compare)."""
    payload = request.model_dump(mode="json")
    text = json.dumps([ENGINE_VERSION, payload], sort_keys=True, default=repr, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class ResultCache:
    """Thread-safe get/put over one SQLite file."""

    def __init__(self, path: pathlib.Path) -> None:
        path = pathlib.Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, result TEXT NOT NULL)")

    def get(self, key: str) -> ExecResult | None:
        with self._lock:
            row = self._db.execute("SELECT result FROM results WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            res = ExecResult.model_validate_json(row[0])
        except ValueError:
            return None
        return res.model_copy(update={"cached": True})

    def put(self, key: str, result: ExecResult) -> None:
        text = result.model_copy(update={"cached": False}).model_dump_json()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("INSERT OR REPLACE INTO results (key, result) VALUES (?, ?)", (key, text))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            self._db.close()
