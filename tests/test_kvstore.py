"""The SQLite store under the sandbox's and the teacher's caches: rows round-trip, a write is all or nothing and
visible to another connection as soon as it returns, and files written by the caches before they shared the
store still read."""

from __future__ import annotations

import ast
import os
import sqlite3
import threading
from pathlib import Path

import pytest

import codefoundry
from codefoundry.kvstore import KVStore
from codefoundry.sandbox.api import ExecResult, TestVerdict
from codefoundry.sandbox.cache import ResultCache
from codefoundry.teacher.cache import TeacherCache

# the tables as the caches created them before the shared store: existing run directories hold these
OLD_TEACHER_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    stage TEXT NOT NULL,
    payload TEXT NOT NULL,
    created REAL NOT NULL
)
"""
OLD_SANDBOX_SCHEMA = "CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, result TEXT NOT NULL)"

COLUMNS = (("label", "TEXT NOT NULL"), ("body", "TEXT NOT NULL"))


def _store(path: Path) -> KVStore:
    return KVStore(path, table="items", columns=COLUMNS, value="body")


def _columns(path: Path, table: str) -> list[tuple[str, str, int, int]]:
    """(name, type, not null, primary key) of each column, as SQLite reports them."""
    with sqlite3.connect(path) as db:
        rows = db.execute(f"PRAGMA table_info({table})").fetchall()
    return [(name, kind, notnull, pk) for _, name, kind, notnull, _, pk in rows]


def test_rows_round_trip(tmp_path: Path) -> None:
    store = _store(tmp_path / "sub" / "kv.sqlite")
    assert store.get("a") is None and store.get_many([]) == {} and store.present([]) == set()
    store.put_many([("a", "x", "1"), ("b", "y", "2")])
    store.put_many([("a", "x", "3")])  # a key written again is replaced
    assert store.get("a") == "3"
    assert store.get_many(["a", "b", "c"]) == {"a": "3", "b": "2"}
    assert store.present(["b", "c"]) == {"b"}
    assert len(store) == 2
    assert store.path == tmp_path / "sub" / "kv.sqlite"
    store.close()
    with sqlite3.connect(tmp_path / "sub" / "kv.sqlite") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_write_is_visible_to_another_connection_when_it_returns(tmp_path: Path) -> None:
    store = _store(tmp_path / "kv.sqlite")
    store.put_many([("k", "label", "value")])
    with sqlite3.connect(tmp_path / "kv.sqlite") as other:  # what a new process would read after a kill
        assert other.execute("SELECT body FROM items WHERE key = 'k'").fetchone() == ("value",)
    store.close()


def test_a_write_is_all_or_nothing(tmp_path: Path) -> None:
    store = _store(tmp_path / "kv.sqlite")
    with pytest.raises(sqlite3.IntegrityError):
        store.put_many([("ok", "x", "1"), ("bad", "x", None)])  # NOT NULL fails on the second row
    assert len(store) == 0
    with pytest.raises(ValueError, match="3 values"):
        store.put_many([("short", "x")])
    store.put_many([("after", "x", "1")])  # the connection is usable again
    assert store.get("after") == "1"
    store.close()


def test_threads_share_one_store(tmp_path: Path) -> None:
    store = _store(tmp_path / "kv.sqlite")

    def write(k: int) -> None:
        for i in range(50):
            store.put_many([(f"{k}-{i}", "t", str(i))])
            assert store.get(f"{k}-{i}") == str(i)

    threads = [threading.Thread(target=write, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(store) == 200
    store.close()


def test_names_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="identifiers"):
        KVStore(tmp_path / "kv.sqlite", table="items; DROP", columns=COLUMNS, value="body")
    with pytest.raises(ValueError, match="value column"):
        KVStore(tmp_path / "kv.sqlite", table="items", columns=COLUMNS, value="key")


def test_teacher_cache_reads_a_file_written_before_the_shared_store(tmp_path: Path) -> None:
    path = tmp_path / "teacher.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(OLD_TEACHER_SCHEMA)
        db.execute(
            "INSERT INTO responses (key, model, stage, payload, created) VALUES (?,?,?,?,?)",
            ("old", "m", "s", '{"text": "hi", "finish_reason": "stop"}', 1.0),
        )
    before = _columns(path, "responses")
    with TeacherCache(path) as cache:
        assert cache.get("old") == {"text": "hi", "finish_reason": "stop"}
        assert cache.get_many(["old", "new"]) == {"old": {"text": "hi", "finish_reason": "stop"}}
        cache.put("new", {"text": "ünï"}, model="m", stage="s")
        assert cache.stats() == {"entries": 2, "hits": 2, "misses": 1}
    assert _columns(path, "responses") == before
    fresh = tmp_path / "fresh.sqlite"
    TeacherCache(fresh).close()
    assert _columns(fresh, "responses") == before  # a new file has the very same table
    with sqlite3.connect(path) as db:
        row = db.execute("SELECT model, stage, payload FROM responses WHERE key = 'new'").fetchone()
    assert row == ("m", "s", '{"text": "ünï"}')


def test_result_cache_reads_a_file_written_before_the_shared_store(tmp_path: Path) -> None:
    path = tmp_path / "executions.sqlite"
    result = ExecResult(status="pass", passed=True, verdicts=[TestVerdict(status="pass", output=b"\xff")])
    with sqlite3.connect(path) as db:
        db.execute(OLD_SANDBOX_SCHEMA)
    before = _columns(path, "results")
    cache = ResultCache(path)
    cache.put("k", result)
    cache.close()
    with sqlite3.connect(path) as db:
        [(text,)] = db.execute("SELECT result FROM results WHERE key = 'k'").fetchall()
        db.execute("INSERT INTO results (key, result) VALUES ('copy', ?)", (text,))
        db.execute("INSERT INTO results (key, result) VALUES ('garbled', '{')")
    cache = ResultCache(path)
    copy = cache.get("copy")
    assert copy is not None and copy.cached and copy.verdicts[0].output == b"\xff"
    assert cache.get("garbled") is None and cache.get("missing") is None
    cache.close()
    assert _columns(path, "results") == before
    fresh = tmp_path / "fresh.sqlite"
    ResultCache(fresh).close()
    assert _columns(fresh, "results") == before


def test_the_store_and_the_caches_keep_their_layers() -> None:
    """kvstore imports nothing of codefoundry; the sandbox and the teacher caches do not import each other."""
    root = Path(codefoundry.__file__).parent

    def imports(relative: str) -> set[str]:
        tree = ast.parse((root / relative).read_text())
        found = {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        found |= {a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
        return found

    assert not any(name.startswith("codefoundry") for name in imports("kvstore.py"))
    assert not any(name.startswith("codefoundry.teacher") for name in imports("sandbox/cache.py"))
    assert not any(name.startswith("codefoundry.sandbox") for name in imports("teacher/cache.py"))


def test_a_new_store_is_private_to_its_owner(tmp_path: Path) -> None:
    """Caches hold expected outputs: the file and its WAL are 0600, whatever the umask."""
    old = os.umask(0o022)
    try:
        store = _store(tmp_path / "private.sqlite")
        store.put_many([("k", "v", 1)])
        modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()}
        store.close()
    finally:
        os.umask(old)
    assert modes["private.sqlite"] == 0o600
    assert all(mode == 0o600 for mode in modes.values()), modes
