"""``mine.functions``: the source stage that turns a code corpus into seeds (documented top-level functions)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field

from codefoundry.mine.corpus import Corpus, StdlibCorpus
from codefoundry.mine.extract import SourceError, extract_functions, read_source
from codefoundry.pipeline.stage import StageConfig, StageResult, ThreadedStage
from codefoundry.records import Provenance, Seed, SourceFile


class MineFunctionsDrop(StrEnum):
    UNREADABLE = "unreadable"
    TOO_LARGE = "too_large"
    SYNTAX_ERROR = "syntax_error"
    NO_FUNCTIONS = "no_functions"


class MineFunctionsConfig(StageConfig):
    corpus: Corpus = Field(default_factory=StdlibCorpus)
    include_helpers: bool = Field(
        True, description="copy the module-level helper functions a function calls into its seed"
    )
    max_helpers: int = Field(12, ge=0, description="most helper functions copied into one seed")
    max_file_kb: int = Field(1024, gt=0, description="larger files are skipped (generated tables, not code)")
    batch_size: int = 16


class MineFunctions(ThreadedStage[SourceFile, Seed]):
    """Lists the corpus's files and emits one seed per documented top-level function."""

    kind = "mine.functions"
    Config = MineFunctionsConfig
    input_type = None
    output_type = Seed
    drop_reasons = MineFunctionsDrop
    config: MineFunctionsConfig

    def inputs(self) -> list[SourceFile]:
        """The corpus's files, sorted by path; a missing path or package raises ``CorpusError``."""
        return sorted(self.config.corpus.files(), key=lambda f: f.path)

    def process_batch(self, batch: list[SourceFile]) -> StageResult[Seed]:
        result: StageResult[Seed] = StageResult()
        for source_file in batch:
            path = Path(source_file.root) / source_file.path
            try:
                data = path.read_bytes()
            except OSError as exc:
                result.drops.append(self.drop(source_file, MineFunctionsDrop.UNREADABLE, f"{type(exc).__name__}: {exc}"))
                continue
            if len(data) > self.config.max_file_kb * 1024:
                result.drops.append(self.drop(source_file, MineFunctionsDrop.TOO_LARGE, f"{len(data)} bytes"))
                continue
            try:
                extracted = extract_functions(
                    read_source(data),
                    include_helpers=self.config.include_helpers,
                    max_helpers=self.config.max_helpers,
                    package=_package(source_file) if source_file.source == "stdlib" else None,
                    module=source_file.module if source_file.source == "stdlib" and source_file.module else None,
                )
            except SourceError as exc:
                result.drops.append(self.drop(source_file, MineFunctionsDrop.SYNTAX_ERROR, f"{source_file.path}: {exc}"))
                continue
            if not extracted:
                result.drops.append(
                    self.drop(source_file, MineFunctionsDrop.NO_FUNCTIONS, "no documented top-level function")
                )
                continue
            for item in extracted:
                result.records.append(
                    Seed(
                        name=item.name,
                        code=item.code,
                        docstring=item.docstring,
                        module=source_file.module,
                        provenance=Provenance(
                            source=source_file.source,
                            path=source_file.path,
                            qualname=item.name,
                            line=item.line,
                            method="mine",
                            package=source_file.package,
                            version=source_file.version,
                            licence=source_file.licence,
                        ),
                    )
                )
        return result


def _package(source_file: SourceFile) -> str | None:
    """The package a standard-library module belongs to (for resolving its relative imports)."""
    if not source_file.module:
        return None
    if Path(source_file.path).name == "__init__.py":
        return source_file.module
    return source_file.module.rpartition(".")[0] or None
