"""Result cache: SQLite keyed by a content hash of everything that can change a verdict.

One row per request, written in its own transaction (WAL journal), so a SIGKILL at any moment leaves either
the old or the new row, never a torn one.
"""

from __future__ import annotations

import hashlib
import json
import pathlib

from codefoundry.kvstore import KVStore
from codefoundry.sandbox.api import ExecRequest, ExecResult
from codefoundry.sandbox.plaindata import from_json_value, to_plain

ENGINE_VERSION = "4"  # bump when a change to the engine may change verdicts (4: the filesystem view)


def request_key(request: ExecRequest) -> str:
    """Hash of (language, style, code, entry point, tests incl. expected, limits, mode, stop flag, compare).

    Test data is hashed in its tagged plain form, so bytes and str, or a set and a list, never share a key
    and bytes that are not UTF-8 hash fine.
    """
    payload = request.model_dump(mode="json", exclude={"tests"})
    tests = [to_plain([t.args, t.stdin, t.expected, t.has_expected]) for t in request.tests]
    text = json.dumps([ENGINE_VERSION, payload, tests], sort_keys=True, default=repr, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _encode(result: ExecResult) -> str:
    """A result as JSON text, outputs in tagged plain form (bytes, sets, huge ints survive the round trip)."""
    data = result.model_copy(update={"cached": False}).model_dump(mode="python")
    for verdict in data["verdicts"]:
        verdict["output"] = to_plain(verdict["output"])
    return json.dumps(data, allow_nan=False)


def _decode(text: str) -> ExecResult:
    data = json.loads(text)
    for verdict in data["verdicts"]:
        verdict["output"] = from_json_value(verdict["output"])
    return ExecResult.model_validate(data)


class ResultCache:
    """Thread-safe get/put over one SQLite file (table ``results``: key, result JSON)."""

    def __init__(self, path: pathlib.Path) -> None:
        self._store = KVStore(
            path, table="results", columns=(("result", "TEXT NOT NULL"),), value="result", busy_timeout_s=30.0
        )

    def get(self, key: str) -> ExecResult | None:
        text = self._store.get(key)
        if text is None:
            return None
        try:
            res = _decode(text)
        except (ValueError, KeyError, TypeError):
            return None
        return res.model_copy(update={"cached": True})

    def put(self, key: str, result: ExecResult) -> None:
        self._store.put_many([(key, _encode(result))])

    def close(self) -> None:
        self._store.close()
