"""Code corpora for ``read.snippets``: source files in any language, or one code document per row of a table.

File corpora (``stdlib``, ``package``, ``dir``, ``files``) reuse the listing of ``mine/corpus.py`` with every
code extension of ``EXTENSIONS``; row corpora (``jsonl``, ``parquet``, ``datasets``) name the ``field`` that
holds the code and how to tell its language. Every corpus yields ``Document`` records whose ``path`` is relative
to the corpus (a file's path under its root, or ``NAME#ROW`` for a row), never a path of this machine.
A corpus that names something unusable (a missing path, a row without the field) raises one line naming it.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from codefoundry.mine.corpus import CorpusError, DirCorpus, FilesCorpus, PackageCorpus, StdlibCorpus
from codefoundry.records import SourceFile
from codefoundry.sandbox.languages import normalise_language

# File extension -> language. TypeScript is left out on purpose (no sandbox plugin, and its snippets would
# read as JavaScript); ``.h`` is taken as C++ (C headers read the same to a teacher).
EXTENSIONS: dict[str, str] = {
    ".py": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".cpp": "cpp",
    ".cc": "cpp",
    ".cxx": "cpp",
    ".hpp": "cpp",
    ".hh": "cpp",
    ".h": "cpp",
    ".c": "c",
    ".java": "java",
    ".rs": "rust",
    ".go": "go",
    ".rb": "ruby",
    ".sh": "bash",
    ".bash": "bash",
    ".kt": "kotlin",
    ".swift": "swift",
    ".scala": "scala",
    ".php": "php",
    ".cs": "csharp",
    ".lua": "lua",
    ".hs": "haskell",
}


def language_of(path: str) -> str | None:
    """The language a file's extension says (``None``: not a code file this stage reads)."""
    return EXTENSIONS.get(PurePosixPath(path).suffix.lower())


@dataclass(frozen=True)
class Document:
    """One code document: a file, or one row of a table. ``data`` is the file's bytes or the row's text;
    ``error`` says why a file could not be read (its data is then empty)."""

    source: str
    path: str  # relative to the corpus: a file's path under its root, or NAME#ROW
    language: str
    data: bytes | str
    module: str = ""
    package: str = ""
    version: str = ""
    licence: str = ""
    error: str = ""


class _Meta(BaseModel):
    """What a user may say about a corpus that has no package metadata of its own."""

    model_config = ConfigDict(extra="forbid")
    package: str = Field("", description="the distribution the code comes from (provenance)")
    version: str = ""
    licence: str = Field("", description="the code's licence, e.g. an SPDX expression (provenance)")


def _wanted(language: str | None, languages: set[str] | None) -> bool:
    return language is not None and (languages is None or language in languages)


def _file_documents(files: Iterable[SourceFile], languages: set[str] | None, **meta: str) -> Iterator[Document]:
    """The files of a listing in a wanted language (an unreadable file gets empty bytes: the stage drops it)."""
    for item in files:
        language = language_of(item.path)
        if not _wanted(language, languages):
            continue
        assert language is not None
        data, error = b"", ""
        try:
            data = (Path(item.root) / item.path).read_bytes()
        except OSError as exc:
            error = f"{type(exc).__name__}: {exc.strerror or exc}"  # not the path: it names this machine
        yield Document(
            source=item.source,
            path=item.path,
            language=language,
            data=data,
            module=item.module if language == "python" else "",
            package=meta.get("package") or item.package,
            version=meta.get("version") or item.version,
            licence=meta.get("licence") or item.licence,
            error=error,
        )


class StdlibCode(StdlibCorpus):
    """The Python standard library's ``.py`` files (as ``mine.functions`` lists them)."""

    def documents(self, languages: set[str] | None) -> Iterator[Document]:
        return _file_documents(self.files(), languages)


class PackageCode(PackageCorpus):
    """An installed package's code files of every known extension, with its distribution's metadata."""

    def documents(self, languages: set[str] | None) -> Iterator[Document]:
        return _file_documents(self.files(suffixes=tuple(EXTENSIONS)), languages)


class DirCode(DirCorpus, _Meta):
    """Every code file under a directory, any known extension."""

    def documents(self, languages: set[str] | None) -> Iterator[Document]:
        meta = {"package": self.package, "version": self.version, "licence": self.licence}
        return _file_documents(self.files(suffixes=tuple(EXTENSIONS)), languages, **meta)


class FilesCode(FilesCorpus, _Meta):
    """An explicit list of code files; each must have a known extension."""

    def documents(self, languages: set[str] | None) -> Iterator[Document]:
        files = self.files()
        for item in files:
            if language_of(item.path) is None:
                raise CorpusError(f"corpus file has no known code extension: {item.path} (known: {_known()})")
        meta = {"package": self.package, "version": self.version, "licence": self.licence}
        return _file_documents(files, languages, **meta)


def _known() -> str:
    return " ".join(sorted(EXTENSIONS))


class _RowsCode(_Meta):
    """A table with one code document per row."""

    kind: str
    path: str = Field(description="the file (or, for datasets, the directory save_to_disk wrote)")
    field: str = Field(description="the column holding the code")
    language_field: str | None = Field(None, description="the column holding each row's language")
    language: str | None = Field(None, description="the language of every row (when no language_field)")
    path_field: str | None = Field(
        None, description="the column holding each row's file path (its extension tells the language)"
    )

    @model_validator(mode="after")
    def _one_way_to_a_language(self) -> _RowsCode:
        if not (self.language_field or self.language or self.path_field):
            raise ValueError("set language_field, language or path_field: the rows' language must come from somewhere")
        return self

    def _label(self) -> str:
        return Path(self.path).expanduser().name

    def _rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        raise NotImplementedError

    def documents(self, languages: set[str] | None) -> Iterator[Document]:
        where = Path(self.path).expanduser()
        name = self._label()
        source = f"{self.kind}:{name}"
        for number, row in self._rows():
            code = _string(where, number, row, self.field)
            row_path = _string(where, number, row, self.path_field) if self.path_field else ""
            language = self._row_language(where, number, row, row_path)
            if not _wanted(language, languages):
                continue
            assert language is not None
            yield Document(
                source=source,
                path=row_path or f"{name}#{number}",
                language=language,
                data=code,
                package=self.package,
                version=self.version,
                licence=self.licence,
            )

    def _row_language(self, where: Path, number: int, row: dict[str, Any], row_path: str) -> str | None:
        if self.language_field:
            return normalise_language(_string(where, number, row, self.language_field))
        if self.language:
            return normalise_language(self.language)
        return language_of(row_path)


def _string(where: Path, number: int, row: dict[str, Any], field: str) -> str:
    """A row's string field, or one error line naming the file, the row and the field."""
    if field not in row:
        columns = ", ".join(sorted(row)[:12])
        raise CorpusError(f"{where}:{number}: no field {field!r} in the row (it has: {columns})")
    value = row[field]
    if not isinstance(value, str):
        raise CorpusError(f"{where}:{number}: field {field!r}: expected a string, got {type(value).__name__}")
    return value


def _existing_file(path: str) -> Path:
    where = Path(path).expanduser()
    if not where.is_file():
        raise CorpusError(f"corpus file does not exist: {where}")
    return where


class JsonlCode(_RowsCode):
    """A JSONL (or JSONL.gz) file, one JSON object per line; rows are numbered by line."""

    kind: Literal["jsonl"] = "jsonl"

    def _rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        where = _existing_file(self.path)
        opener = gzip.open if where.suffix == ".gz" else open
        with opener(where, "rt", encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise CorpusError(f"{where}:{number}: not JSON ({exc.msg})") from None
                if not isinstance(row, dict):
                    raise CorpusError(f"{where}:{number}: expected a JSON object per line")
                yield number, row


class ParquetCode(_RowsCode):
    """A Parquet file; rows are numbered from 1, read a batch at a time."""

    kind: Literal["parquet"] = "parquet"

    def _rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        where = _existing_file(self.path)
        try:
            table = pq.ParquetFile(where)
        except (pa.ArrowException, OSError) as exc:
            raise CorpusError(f"{where}: not a Parquet file ({_first_line(exc)})") from None
        columns = [c for c in (self.field, self.language_field, self.path_field) if c]
        missing = [c for c in columns if c not in table.schema_arrow.names]
        if missing:
            raise CorpusError(f"{where}:1: no field {missing[0]!r} in the row (it has: {', '.join(table.schema_arrow.names[:12])})")
        number = 0
        for batch in table.iter_batches(columns=columns):
            for row in batch.to_pylist():
                number += 1
                yield number, row


class DatasetsCode(_RowsCode):
    """A Hugging Face dataset written by ``save_to_disk`` (``split`` picks one of a DatasetDict's splits)."""

    kind: Literal["datasets"] = "datasets"
    split: str | None = None

    def _rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        try:
            import datasets
        except ImportError:
            raise CorpusError("the datasets corpus needs the `datasets` package: pip install datasets") from None
        where = Path(self.path).expanduser()
        if not where.is_dir():
            raise CorpusError(f"corpus dataset directory does not exist: {where}")
        try:
            loaded = datasets.load_from_disk(str(where))
        except (FileNotFoundError, ValueError, OSError) as exc:
            raise CorpusError(f"{where}: not a dataset saved with save_to_disk ({_first_line(exc)})") from None
        if isinstance(loaded, datasets.DatasetDict):
            splits = sorted(loaded)
            if self.split is None and len(splits) != 1:
                raise CorpusError(f"{where}: the dataset has splits {', '.join(splits)}: set `split`")
            split = self.split or splits[0]
            if split not in loaded:
                raise CorpusError(f"{where}: no split {split!r} (it has: {', '.join(splits)})")
            loaded = loaded[split]
        elif self.split is not None:
            raise CorpusError(f"{where}: `split` given but the dataset has no splits")
        columns = [c for c in (self.field, self.language_field, self.path_field) if c]
        missing = [c for c in columns if c not in loaded.column_names]
        if missing:
            raise CorpusError(f"{where}:1: no field {missing[0]!r} in the row (it has: {', '.join(loaded.column_names[:12])})")
        yield from enumerate(loaded.select_columns(columns), 1)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


CodeCorpus = Annotated[
    StdlibCode | PackageCode | DirCode | FilesCode | JsonlCode | ParquetCode | DatasetsCode,
    Field(discriminator="kind"),
]
