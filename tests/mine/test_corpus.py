"""Corpora: what each lists, and a missing path or package as one clear error naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from codefoundry.errors import UserError
from codefoundry.mine.corpus import CorpusError, DirCorpus, FilesCorpus, PackageCorpus, StdlibCorpus

FIXTURES = Path(__file__).parent.parent / "fixtures" / "mining"


def test_missing_directory_is_one_line_naming_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir"
    with pytest.raises(CorpusError) as info:
        DirCorpus(path=str(missing)).files()
    assert str(missing) in str(info.value)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, UserError) and isinstance(info.value, ValueError)


def test_missing_file_and_package(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="absent.py"):
        FilesCorpus(paths=[str(tmp_path / "absent.py")]).files()
    with pytest.raises(CorpusError, match="no_such_package_xyz"):
        PackageCorpus(name="no_such_package_xyz").files()


def test_dir_corpus_is_sorted_with_module_names() -> None:
    files = DirCorpus(path=str(FIXTURES)).files()
    paths = [f.path for f in files]
    assert paths == sorted(paths)
    assert {f.module for f in files} >= {"pure", "broken", "rejects"}


def test_package_corpus_finds_files_without_importing() -> None:
    files = PackageCorpus(name="json").files()
    assert any(f.module == "json.decoder" for f in files)


def test_stdlib_corpus_skips_tests_and_gui() -> None:
    files = StdlibCorpus().files()
    modules = {f.module for f in files}
    assert "posixpath" in modules and "textwrap" in modules
    assert not any(m.startswith(("test.", "tkinter", "ensurepip")) for m in modules)
    assert not any(".idle_test." in m for m in modules)
    assert "idlelib.pyparse" in modules and "lib2to3.fixer_util" in modules  # library code of tools
    assert not any(Path(f.path).name == "__main__.py" for f in files)
