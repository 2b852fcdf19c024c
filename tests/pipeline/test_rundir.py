"""The run directory keeps exactly what was committed, even after a torn write, per stage fingerprint."""

from __future__ import annotations

from pathlib import Path

from codefoundry.pipeline.rundir import RunDir
from codefoundry.records import Drop, SourceFile

FP = "f" * 16


def _records(n: int) -> list[SourceFile]:
    return [SourceFile(path=f"{i}.py", root="/x", source="test") for i in range(n)]


def test_commit_then_read_back_in_batch_order(tmp_path: Path) -> None:
    run_dir = RunDir(tmp_path)
    run_dir.create()
    run_dir.commit_batch("00-a", 1, "k1", _records(2)[1:], [], 0.1, FP)
    run_dir.commit_batch(
        "00-a", 0, "k0", _records(1), [Drop(stage="a", record_id="r", reason="why")], 0.1, FP
    )
    ids = [r["id"] for r in run_dir.iter_records("00-a", FP)]
    assert ids == [r.id for r in _records(2)]
    assert [d.reason for d in run_dir.iter_drops("00-a", FP)] == ["why"]


def test_torn_manifest_line_is_not_committed_and_is_repaired(tmp_path: Path) -> None:
    run_dir = RunDir(tmp_path)
    run_dir.create()
    run_dir.commit_batch("00-a", 0, "k0", _records(1), [], 0.1, FP)
    with open(run_dir.manifest_path, "a") as handle:
        handle.write('{"stage": "00-a", "batch": 1, "key"')  # a crash mid-append
    assert [e.batch for e in run_dir.manifest().committed("00-a", FP)] == [0]
    run_dir.commit_batch("00-a", 1, "k1", _records(2)[1:], [], 0.1, FP)
    assert [e.batch for e in run_dir.manifest().committed("00-a", FP)] == [0, 1]
    assert len(list(run_dir.iter_records("00-a", FP))) == 2


def test_orphan_shard_without_manifest_line_is_ignored(tmp_path: Path) -> None:
    run_dir = RunDir(tmp_path)
    run_dir.create()
    run_dir.commit_batch("00-a", 0, "k0", _records(1), [], 0.1, FP)
    orphan = run_dir.shard_path("00-a", FP, 1)
    orphan.write_text(_records(2)[1].model_dump_json() + "\n")
    assert len(list(run_dir.iter_records("00-a", FP))) == 1


def test_another_fingerprint_of_a_stage_is_kept_apart(tmp_path: Path) -> None:
    run_dir = RunDir(tmp_path)
    run_dir.create()
    run_dir.commit_batch("00-a", 0, "k0", _records(3), [], 0.1, FP)
    run_dir.mark_done("00-a", FP, 1, 3, 0)
    other = "0" * 16
    run_dir.commit_batch("00-a", 0, "k0", _records(1), [], 0.1, other)
    assert len(list(run_dir.iter_records("00-a", FP))) == 3
    assert len(list(run_dir.iter_records("00-a", other))) == 1
    assert run_dir.manifest().finished("00-a", other) is None


def test_a_finished_stage_reads_only_its_batches(tmp_path: Path) -> None:
    """A stage re-cut into fewer batches (another batch size) must not read the old run's last batches."""
    run_dir = RunDir(tmp_path)
    run_dir.create()
    for batch in range(3):
        run_dir.commit_batch("00-a", batch, f"old{batch}", _records(1), [], 0.1, FP)
    run_dir.commit_batch("00-a", 0, "new0", _records(2), [], 0.1, FP)
    run_dir.mark_done("00-a", FP, 1, 2, 0)
    assert len(list(run_dir.iter_records("00-a", FP))) == 2


def test_the_run_directory_is_private_to_its_owner(tmp_path: Path) -> None:
    run_dir = RunDir(tmp_path / "run")
    run_dir.create()
    assert (run_dir.path.stat().st_mode & 0o777) == 0o700
    run_dir.path.chmod(0o755)  # an older run directory is closed again when it is reused
    run_dir.create()
    assert (run_dir.path.stat().st_mode & 0o777) == 0o700
