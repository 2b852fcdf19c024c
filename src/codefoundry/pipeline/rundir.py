"""The run directory: the recipe snapshot, append-only shards per stage, a manifest, caches, drops.

Layout::

    RUN/
      recipe.yaml              snapshot of the recipe of the latest run in this directory
      manifest.jsonl           one line per committed shard, one per finished stage (the truth about what is done)
      stages/NN-kind/FP/shard-BBBBB.jsonl   records a batch produced (FP: the stage's fingerprint)
      stages/NN-kind/FP/drops-BBBBB.jsonl   records a batch dropped, with reasons
      cache/executions.sqlite  sandbox results by content hash
      cache/teacher.sqlite     teacher responses by content hash
      export/                  exported datasets
      summary.json             the end-of-run summary

Every manifest line carries the stage's fingerprint (``pipeline/fingerprint.py``). Readers ask for a stage's
records *at a fingerprint*: lines of an older configuration of the stage are ignored, so a stage whose
data-relevant config changed is re-run beside the old shards (each fingerprint has its own folder), and
going back to the old config finds the old work again.

A shard is written to a temporary file, fsynced and renamed; only then is its manifest line appended and
fsynced. A crash between the two leaves an orphan shard that the manifest does not list: it is recomputed
(same content, same name) on resume, so nothing is lost and nothing is counted twice. Only one process (the
runner's driver) appends to the manifest.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from codefoundry.durable import write_lines, write_text
from codefoundry.records import Drop


class ShardEntry(BaseModel):
    """One committed batch of one stage."""

    model_config = ConfigDict(extra="forbid")
    stage: str
    batch: int
    key: str  # content hash of the batch's input ids
    fingerprint: str = ""
    records: int
    drops: int
    seconds: float = 0.0


class StageDone(BaseModel):
    """Marks a stage as finished at a fingerprint: batches ``0 .. batches-1`` are its whole output."""

    model_config = ConfigDict(extra="forbid")
    stage: str
    done: bool = True
    fingerprint: str = ""
    batches: int = 0
    records: int
    drops: int
    seconds: float = 0.0  # wall time from its first batch to its end, in the run that finished it


@dataclass
class Manifest:
    """The manifest as read: the latest line per (stage, fingerprint, batch), and finished stages."""

    shards: dict[tuple[str, str, int], ShardEntry] = field(default_factory=dict)
    done: dict[tuple[str, str], StageDone] = field(default_factory=dict)

    def shard(self, stage: str, fingerprint: str, batch: int) -> ShardEntry | None:
        return self.shards.get((stage, fingerprint, batch))

    def finished(self, stage: str, fingerprint: str) -> StageDone | None:
        return self.done.get((stage, fingerprint))

    def committed(self, stage: str, fingerprint: str) -> list[ShardEntry]:
        """The stage's committed batches at ``fingerprint``, in batch order (all of them once it is done)."""
        entries = sorted(
            (e for (name, fp, _b), e in self.shards.items() if name == stage and fp == fingerprint),
            key=lambda e: e.batch,
        )
        done = self.finished(stage, fingerprint)
        if done is not None:
            entries = [e for e in entries if e.batch < done.batches]
        return entries


class RunDir:
    """Reads and writes one run directory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.manifest_path = path / "manifest.jsonl"
        self.recipe_path = path / "recipe.yaml"
        self.cache_dir = path / "cache"
        self.export_dir = path / "export"
        self.summary_path = path / "summary.json"
        self._append_lock = threading.Lock()  # commits come from worker threads; one append at a time

    def create(self) -> None:
        """Make the folders; the run directory is private to its owner (0700): its shards and caches hold
        every task's expected outputs, and sandboxed candidates run as other users."""
        for sub in (self.path, self.path / "stages", self.cache_dir):
            sub.mkdir(parents=True, exist_ok=True)
        os.chmod(self.path, 0o700)

    def exists(self) -> bool:
        return self.recipe_path.exists()

    def write_recipe(self, text: str) -> None:
        write_text(self.recipe_path, text)

    # ---- manifest -------------------------------------------------------------------------------------
    def manifest(self) -> Manifest:
        """What the manifest says is committed. A torn last line (a crash mid-append) is ignored."""
        manifest = Manifest()
        if not self.manifest_path.exists():
            return manifest
        with open(self.manifest_path, encoding="utf-8") as handle:
            for line in handle:
                if not line.endswith("\n"):
                    break  # torn write from a crash: not committed
                data = json.loads(line)
                if data.get("done"):
                    done = StageDone.model_validate(data)
                    manifest.done[(done.stage, done.fingerprint)] = done
                else:
                    shard = ShardEntry.model_validate(data)
                    manifest.shards[(shard.stage, shard.fingerprint, shard.batch)] = shard
        return manifest

    def _append_manifest(self, payload: BaseModel) -> None:
        with self._append_lock:
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
    def stage_dir(self, stage: str, fingerprint: str) -> Path:
        return self.path / "stages" / stage / (fingerprint or "unversioned")

    def shard_path(self, stage: str, fingerprint: str, batch: int) -> Path:
        return self.stage_dir(stage, fingerprint) / f"shard-{batch:05d}.jsonl"

    def drops_path(self, stage: str, fingerprint: str, batch: int) -> Path:
        return self.stage_dir(stage, fingerprint) / f"drops-{batch:05d}.jsonl"

    def commit_batch(
        self,
        stage: str,
        batch: int,
        key: str,
        records: list[BaseModel],
        drops: list[Drop],
        seconds: float,
        fingerprint: str,
    ) -> ShardEntry:
        """Write one batch's records and drops, then record it in the manifest."""
        write_lines(self.shard_path(stage, fingerprint, batch), [r.model_dump_json() for r in records])
        write_lines(self.drops_path(stage, fingerprint, batch), [d.model_dump_json() for d in drops])
        entry = ShardEntry(
            stage=stage,
            batch=batch,
            key=key,
            fingerprint=fingerprint,
            records=len(records),
            drops=len(drops),
            seconds=round(seconds, 4),
        )
        self._append_manifest(entry)
        return entry

    def mark_done(
        self, stage: str, fingerprint: str, batches: int, records: int, drops: int, seconds: float = 0.0
    ) -> None:
        done = StageDone(
            stage=stage,
            fingerprint=fingerprint,
            batches=batches,
            records=records,
            drops=drops,
            seconds=round(seconds, 2),
        )
        self._append_manifest(done)

    def read_shard(self, stage: str, fingerprint: str, batch: int) -> list[dict[str, Any]]:
        """The records of one committed batch."""
        with open(self.shard_path(stage, fingerprint, batch), encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]

    def iter_records(self, stage: str, fingerprint: str) -> Iterator[dict[str, Any]]:
        """Records of a stage at a fingerprint, in batch order, from committed shards only."""
        for entry in self.manifest().committed(stage, fingerprint):
            yield from self.read_shard(stage, fingerprint, entry.batch)

    def iter_drops(self, stage: str, fingerprint: str) -> Iterator[Drop]:
        """Drops of a stage at a fingerprint, from committed shards only."""
        for entry in self.manifest().committed(stage, fingerprint):
            with open(self.drops_path(stage, fingerprint, entry.batch), encoding="utf-8") as handle:
                for line in handle:
                    if line.strip():
                        yield Drop.model_validate_json(line)
