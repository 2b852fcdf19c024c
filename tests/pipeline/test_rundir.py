"""The run directory keeps exactly what was committed, even after a torn write."""

from __future__ import annotations

from pathlib import Path

from codefoundry.pipeline.rundir import RunDir
from codefoundry.records import Drop, SourceFile


def _records(n: int) -> list[SourceFile]:
    return [SourceFile(path=f"/x/{i}.py", source="test") for i in range(n)]


def test_commit_then_read_back_in_batch_order(tmp_path: Path) -> None:
    run_dir = RunDir(tmp_path)
    run_dir.create()
    run_dir.commit_batch("00-a", 1, "k1", _records(2)[1:], [], 0.1)
    run_dir.commit_batch("00-a", 0, "k0", _records(1), [Drop(stage="a", record_id="r", reason="why")], 0.1)
    ids = [r["id"] for r in run_dir.iter_records("00-a")]
    assert ids == [r.id for r in _records(2)]
    assert [d.reason for d in run_dir.iter_drops("00-a")] == ["why"]


def test_torn_manifest_line_is_not_committed_and_is_repaired(tmp_path: Path) -> None:
    run_dir = RunDir(tmp_path)
    run_dir.create()
    run_dir.commit_batch("00-a", 0, "k0", _records(1), [], 0.1)
    with open(run_dir.manifest_path, "a") as handle:
        handle.write('{"stage": "00-a", "batch": 1, "key"')  # a crash mid-append
    shards, _ = run_dir.manifest()
    assert list(shards) == [("00-a", 0)]
    run_dir.commit_batch("00-a", 1, "k1", _records(2)[1:], [], 0.1)
    shards, _ = run_dir.manifest()
    assert sorted(shards) == [("00-a", 0), ("00-a", 1)]
    assert len(list(run_dir.iter_records("00-a"))) == 2


def test_orphan_shard_without_manifest_line_is_ignored(tmp_path: Path) -> None:
    run_dir = RunDir(tmp_path)
    run_dir.create()
    run_dir.commit_batch("00-a", 0, "k0", _records(1), [], 0.1)
    orphan = run_dir.stage_dir("00-a") / "shard-00001.jsonl"
    orphan.write_text(_records(2)[1].model_dump_json() + "\n")
    assert len(list(run_dir.iter_records("00-a"))) == 1
