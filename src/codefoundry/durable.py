"""Durable file writes: readers see the old content or the new, never half, even after a power loss.

Every file the project writes for others to read (shards, manifests, recipe snapshots, exports, summaries)
goes through here: written to a temporary file beside the target, flushed and fsynced, then renamed over it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any


def write_with(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Call ``write`` on a temporary binary file, fsync it, and rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    write_with(path, lambda handle: handle.write(text.encode("utf-8")))


def write_lines(path: Path, lines: Iterable[str]) -> None:
    """One line per item, each ending in a newline."""
    write_with(path, lambda handle: handle.writelines(line.encode("utf-8") + b"\n" for line in lines))


def write_json(path: Path, payload: Any) -> None:
    write_text(path, json.dumps(payload, indent=2, sort_keys=True, default=str))


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    write_lines(path, (json.dumps(row, ensure_ascii=False) for row in rows))
