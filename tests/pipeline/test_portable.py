"""Ids and exports do not depend on the machine: the same corpus mined from two places gives the same data."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from codefoundry.recipe import recipe_from_dict
from codefoundry.runs import execute

CORPUS = Path(__file__).parent.parent / "fixtures" / "corpus"


def _mine(corpus: Path, run_dir: Path) -> dict[str, bytes]:
    recipe = recipe_from_dict(
        {
            "name": "portable",
            "stages": [
                {"kind": "mine.functions", "corpus": {"kind": "dir", "path": str(corpus)}},
                {"kind": "mine.tasks"},
                {"kind": "testgen.mined"},
                {"kind": "verify.reference"},
                {"kind": "filter.dedup"},
            ],
        }
    )
    execute(recipe, run_dir)
    return {p.name: p.read_bytes() for p in sorted((run_dir / "export").iterdir())}


def test_a_corpus_mined_from_two_paths_gives_identical_ids_and_exports(tmp_path: Path) -> None:
    first, second = tmp_path / "checkout-a" / "corpus", tmp_path / "elsewhere" / "deeper" / "code"
    shutil.copytree(CORPUS, first)
    shutil.copytree(CORPUS, second)
    a = _mine(first, tmp_path / "run-a")
    b = _mine(second, tmp_path / "run-b")
    assert set(a) == {"rl.jsonl", "rl.parquet", "sft.jsonl", "sft.parquet"}
    assert a == b  # byte for byte: same ids, same rows
    assert a["sft.jsonl"].count(b"\n") > 0
    machine_paths = [str(tmp_path), str(CORPUS.parent), sys.prefix, sys.base_prefix, str(Path.home())]
    for name, data in a.items():
        text = data.decode("utf-8", errors="replace")
        for path in machine_paths:
            assert path not in text, f"{name} holds the build machine's path {path}"
        if name.endswith(".jsonl"):
            assert '"origin": "textutil.py:' in text or '"origin": "numbers.py:' in text
