"""Write rows as JSON lines and Parquet that ``datasets.load_dataset`` reads as they are.

Test inputs and outputs are arbitrary JSON (mixed types inside one list), which Arrow cannot type; they
are stored as JSON text columns, so every column has one type and both formats hold the same rows.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    """Atomically write ``rows`` as JSON lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def write_parquet(path: Path, rows: list[dict[str, Any]]) -> None:
    """Atomically write ``rows`` as one Parquet file (pyarrow infers the schema from the rows)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(pa.Table.from_pylist(rows), tmp)
    os.replace(tmp, path)


def write_rows(directory: Path, name: str, rows: list[dict[str, Any]], formats: list[str]) -> list[Path]:
    """Write one dataset in every requested format; returns the files written."""
    written = []
    if "jsonl" in formats:
        write_jsonl(directory / f"{name}.jsonl", rows)
        written.append(directory / f"{name}.jsonl")
    if "parquet" in formats:
        write_parquet(directory / f"{name}.parquet", rows)
        written.append(directory / f"{name}.parquet")
    return written
