"""The run directory: the recipe snapshot, append-only shards per stage, a manifest, caches, drops.

Layout::

    RUN/
      recipe.yaml              snapshot of the recipe the run was started with
      manifest.jsonl           one line per committed shard (the truth about what is done)
      stages/NN-kind/shard-BBBBB.jsonl   records a batch produced
      stages/NN-kind/drops-BBBBB.jsonl   records a batch dropped, with reasons
      cache/executions.sqlite  sandbox results by content hash
      cache/teacher.sqlite     teacher responses by content hash
      export/                  exported datasets
      summary.json             the end-of-run summary

A shard is written to a temporary file, fsynced and renamed; only then is its manifest line appended and
fsynced. A crash between the two leaves an orphan shard that the manifest does not list: it is simply
recomputed (same content, same name) on resume, so nothing is lost and nothing is counted twice.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from codefoundry.records import Drop


class ShardEntry(BaseModel):
    """One committed batch of one stage."""

    model_config = ConfigDict(extra="forbid")
    stage: str
    batch: int
    key: str  # content hash of the batch's input ids
    records: int
    drops: int
    seconds: float = 0.0


class StageDone(BaseModel):
    """Marks a stage as finished (every batch committed)."""

    model_config = ConfigDict(extra="forbid")
    stage: str
    done: bool = True
    records: int
    drops: int


def _atomic_write_lines(path: Path, lines: list[str]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        for line in lines:
            handle.write(line)
            handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def write_json_atomic(path: Path, payload: Any) -> None:
    """Write a JSON file so that readers see the old or the new content, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=2, sort_keys=True, default=str)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class RunDir:
    """Reads and writes one run directory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.manifest_path = path / "manifest.jsonl"
        self.recipe_path = path / "recipe.yaml"
        self.cache_dir = path / "cache"
        self.export_dir = path / "export"
        self.summary_path = path / "summary.json"

    def create(self) -> None:
        for sub in (self.path, self.path / "stages", self.cache_dir):
            sub.mkdir(parents=True, exist_ok=True)

    def exists(self) -> bool:
        return self.recipe_path.exists()

    # ---- manifest -------------------------------------------------------------------------------------
    def manifest(self) -> tuple[dict[tuple[str, int], ShardEntry], dict[str, StageDone]]:
        """Committed shards by (stage, batch) and finished stages. A torn last line is ignored."""
        shards: dict[tuple[str, int], ShardEntry] = {}
        done: dict[str, StageDone] = {}
        if not self.manifest_path.exists():
            return shards, done
        with open(self.manifest_path, encoding="utf-8") as handle:
            for line in handle:
                if not line.endswith("\n"):
                    break  # torn write from a crash: not committed
                data = json.loads(line)
                if data.get("done"):
                    entry = StageDone.model_validate(data)
                    done[entry.stage] = entry
                else:
                    shard = ShardEntry.model_validate(data)
                    shards[(shard.stage, shard.batch)] = shard
        return shards, done

    def _append_manifest(self, payload: BaseModel) -> None:
        self._repair_manifest_tail()
        with open(self.manifest_path, "a", encoding="utf-8") as handle:
            handle.write(payload.model_dump_json() + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def _repair_manifest_tail(self) -> None:
        """Cut a torn last line (left by a crash) so the next append starts on a fresh line."""
        if not self.manifest_path.exists():
            return
        data = self.manifest_path.read_bytes()
        if data and not data.endswith(b"\n"):
            keep = data[: data.rfind(b"\n") + 1]
            with open(self.manifest_path, "r+b") as handle:
                handle.truncate(len(keep))
                handle.flush()
                os.fsync(handle.fileno())

    # ---- shards ---------------------------------------------------------------------------------------
    def stage_dir(self, stage: str) -> Path:
        return self.path / "stages" / stage

    def commit_batch(
        self,
        stage: str,
        batch: int,
        key: str,
        records: list[BaseModel],
        drops: list[Drop],
        seconds: float,
    ) -> ShardEntry:
        """Write one batch's records and drops, then record it in the manifest."""
        directory = self.stage_dir(stage)
        directory.mkdir(parents=True, exist_ok=True)
        _atomic_write_lines(directory / f"shard-{batch:05d}.jsonl", [r.model_dump_json() for r in records])
        _atomic_write_lines(directory / f"drops-{batch:05d}.jsonl", [d.model_dump_json() for d in drops])
        entry = ShardEntry(
            stage=stage, batch=batch, key=key, records=len(records), drops=len(drops), seconds=seconds
        )
        self._append_manifest(entry)
        return entry

    def mark_done(self, stage: str, records: int, drops: int) -> None:
        self._append_manifest(StageDone(stage=stage, records=records, drops=drops))

    def _committed(self, stage: str) -> list[ShardEntry]:
        shards, _ = self.manifest()
        return sorted((s for (name, _b), s in shards.items() if name == stage), key=lambda s: s.batch)

    def iter_records(self, stage: str) -> Iterator[dict[str, Any]]:
        """Records of a stage, in batch order, from committed shards only."""
        for entry in self._committed(stage):
            path = self.stage_dir(stage) / f"shard-{entry.batch:05d}.jsonl"
            with open(path, encoding="utf-8") as handle:
                for line in handle:
                    if line.strip():
                        yield json.loads(line)

    def iter_drops(self, stage: str | None = None) -> Iterator[Drop]:
        """Drops of one stage (or all stages), from committed shards only."""
        shards, _ = self.manifest()
        for (name, batch), _entry in sorted(shards.items()):
            if stage is not None and name != stage:
                continue
            path = self.stage_dir(name) / f"drops-{batch:05d}.jsonl"
            with open(path, encoding="utf-8") as handle:
                for line in handle:
                    if line.strip():
                        yield Drop.model_validate_json(line)
