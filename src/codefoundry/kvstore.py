"""One SQLite table of rows by text key, safe to share across threads: the store under the run's caches.

The sandbox's result cache and the teacher's response cache both need the same things from a file: a write
that survives a SIGKILL at any instant (WAL, one transaction per write, ``synchronous=NORMAL``: no fsync per
commit, so durable against the death of the process, and against power loss up to the last checkpoint), reads
that never see a torn row, and one connection shared by threads (serialised by a lock). Each cache keeps its
own table, columns and encoding, so run directories written before this module existed read unchanged.
Imports nothing of codefoundry: the sandbox and the teacher both use it and neither imports the other.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz_0123456789")


class KVStore:
    """Rows of one table, keyed by a ``key TEXT PRIMARY KEY`` column, with one value column read back.

    ``columns`` are the table's other columns in order, as ``(name, SQL type)``; ``value`` names the one that
    ``get``/``get_many`` return. A row for ``put_many`` is ``(key, *columns)`` in that order.
    """

    def __init__(
        self,
        path: Path,
        *,
        table: str,
        columns: Sequence[tuple[str, str]],
        value: str,
        busy_timeout_s: float = 60.0,
    ) -> None:
        names = [table, *(name for name, _ in columns)]
        if any(not name or not set(name) <= _NAME_CHARS for name in names):
            raise ValueError(f"table and column names must be lowercase identifiers: {names}")
        if value not in names[1:]:
            raise ValueError(f"value column {value!r} is not one of the columns")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            # private to its owner (SQLite gives its -wal and -shm files the same mode): a cache holds
            # expected outputs and teacher answers, which no other user (no sandboxed candidate) may read
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        self._table = table
        self._value = value
        all_columns = ["key", *(name for name, _ in columns)]
        self._insert = (
            f"INSERT OR REPLACE INTO {table} ({', '.join(all_columns)}) "
            f"VALUES ({', '.join('?' * len(all_columns))})"
        )
        self._width = len(all_columns)
        self._lock = threading.Lock()
        # autocommit mode (isolation_level=None): transactions are begun and committed explicitly below
        self._db = sqlite3.connect(
            str(self.path), timeout=busy_timeout_s, check_same_thread=False, isolation_level=None
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        definitions = ", ".join(["key TEXT PRIMARY KEY", *(f"{name} {kind}" for name, kind in columns)])
        self._db.execute(f"CREATE TABLE IF NOT EXISTS {table} ({definitions})")

    def get(self, key: str) -> Any | None:
        """The value stored under ``key``, or None."""
        with self._lock:
            row = self._db.execute(
                f"SELECT {self._value} FROM {self._table} WHERE key = ?", (key,)
            ).fetchone()
        return None if row is None else row[0]

    def get_many(self, keys: Sequence[str]) -> dict[str, Any]:
        """Values of those of ``keys`` that are stored, in one query."""
        if not keys:
            return {}
        marks = ",".join("?" * len(keys))
        with self._lock:
            rows = self._db.execute(
                f"SELECT key, {self._value} FROM {self._table} WHERE key IN ({marks})", list(keys)
            ).fetchall()
        return dict(rows)

    def present(self, keys: Sequence[str]) -> set[str]:
        """Which of ``keys`` are stored, without reading their values."""
        if not keys:
            return set()
        marks = ",".join("?" * len(keys))
        with self._lock:
            rows = self._db.execute(
                f"SELECT key FROM {self._table} WHERE key IN ({marks})", list(keys)
            ).fetchall()
        return {row[0] for row in rows}

    def put_many(self, rows: Iterable[Sequence[Any]]) -> None:
        """Write rows ``(key, *columns)`` in one transaction: committed together, or (on error) none."""
        rows = [tuple(row) for row in rows]
        if any(len(row) != self._width for row in rows):
            raise ValueError(f"each row needs {self._width} values: key and the columns in order")
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(self._insert, rows)
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute(f"SELECT COUNT(*) FROM {self._table}").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
