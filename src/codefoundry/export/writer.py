"""Write rows as JSON lines and Parquet that ``datasets.load_dataset`` reads as they are.

Test inputs and outputs are arbitrary JSON (mixed types inside one list), which Arrow cannot type; they
are stored as JSON text columns, so every column has one type and both formats hold the same rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from codefoundry.durable import write_jsonl, write_with

__all__ = ["write_jsonl", "write_parquet", "write_rows"]


def write_parquet(path: Path, rows: list[dict[str, Any]]) -> None:
    """Atomically write ``rows`` as one Parquet file (pyarrow infers the schema from the rows)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(rows)
    write_with(path, lambda handle: pq.write_table(table, handle))


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
