"""Where mined code comes from: the standard library, a directory, a list of files, an installed package.

Each corpus lists its Python files (or files of other suffixes, for ``read.snippets``) as ``SourceFile``
records, sorted, so a run always cuts the same batches.
A file's identity is its path relative to the corpus root plus the package and version it shipped in, never
where the corpus lies on this machine: the same corpus in two checkouts gives the same ids and exports.
Nothing is imported: an installed package is located with ``importlib.util.find_spec`` only.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import platform
import sysconfig
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from codefoundry.errors import UserError
from codefoundry.records import SourceFile


class CorpusError(UserError):
    """A corpus that names something unusable (a missing path or package); the message names it."""


# Parts of the standard library that are not library code (tests, installers, demos, vendored code) or that
# only make sense with a terminal or a display. IDLE's and lib2to3's helpers are library code and stay: the
# static checks and the sandbox runs decide which of their functions can be tasks.
STDLIB_SKIP_DIRS = frozenset(
    {
        "test",
        "tests",
        "idle_test",
        "tkinter",
        "turtledemo",
        "ensurepip",
        "site-packages",
        "dist-packages",
        "lib-dynload",
        "__pycache__",
        "pydoc_data",
        "venv",
        "msilib",
    }
)
STDLIB_SKIP_FILES = frozenset(
    {"__main__.py", "antigravity.py", "this.py", "__hello__.py", "turtle.py", "__phello__"}
)


class _Corpus(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StdlibCorpus(_Corpus):
    """The Python standard library's own ``.py`` files (the embedded default)."""

    kind: Literal["stdlib"] = "stdlib"

    def files(self) -> list[SourceFile]:
        root = Path(sysconfig.get_paths()["stdlib"])
        out = []
        for path in _walk(root, skip_dirs=STDLIB_SKIP_DIRS):
            rel = path.relative_to(root)
            if path.name in STDLIB_SKIP_FILES or path.name.startswith(("test_", "_sysconfigdata")):
                continue
            if rel.parts[0].startswith("config-"):
                continue
            out.append(
                SourceFile(
                    path=rel.as_posix(),
                    root=str(root),
                    source="stdlib",
                    module=_module_name(rel),
                    package="python",
                    version=platform.python_version(),
                    licence="PSF-2.0",
                )
            )
        return out


class DirCorpus(_Corpus):
    """Every ``.py`` file under a directory (module names relative to it)."""

    kind: Literal["dir"] = "dir"
    path: str

    def files(self, suffixes: tuple[str, ...] = (".py",)) -> list[SourceFile]:
        """The files ending in one of ``suffixes`` (module names for ``.py`` files only)."""
        root = Path(self.path).expanduser()
        if not root.is_dir():
            raise CorpusError(f"corpus directory does not exist: {root}")
        return [
            SourceFile(
                path=p.relative_to(root).as_posix(),
                root=str(root),
                source="dir",
                module=_module_name(p.relative_to(root)) if p.suffix == ".py" else "",
            )
            for p in _walk(root, skip_dirs=frozenset({"__pycache__"}), suffixes=suffixes)
        ]


class FilesCorpus(_Corpus):
    """An explicit list of files."""

    kind: Literal["files"] = "files"
    paths: list[str] = Field(min_length=1)

    def files(self) -> list[SourceFile]:
        paths = []
        for raw in self.paths:
            path = Path(raw).expanduser().absolute()
            if not path.is_file():
                raise CorpusError(f"corpus file does not exist: {path}")
            paths.append(path)
        root = Path(os.path.commonpath([p.parent for p in paths]))
        out = [
            SourceFile(path=p.relative_to(root).as_posix(), root=str(root), source="files", module=p.stem)
            for p in paths
        ]
        return sorted(out, key=lambda f: f.path)


class PackageCorpus(_Corpus):
    """An installed package, found by name without importing it."""

    kind: Literal["package"] = "package"
    name: str

    def files(self, suffixes: tuple[str, ...] = (".py",)) -> list[SourceFile]:
        """The package's files ending in one of ``suffixes`` (module names for ``.py`` files only)."""
        try:
            spec = importlib.util.find_spec(self.name)
        except (ImportError, ValueError):
            spec = None
        if spec is None or (spec.origin is None and not spec.submodule_search_locations):
            raise CorpusError(f"corpus package is not installed: {self.name}")
        label = f"package:{self.name}"
        meta = package_metadata(self.name)
        if spec.submodule_search_locations:
            out = []
            for location in spec.submodule_search_locations:
                root = Path(location)
                for path in _walk(root, frozenset({"__pycache__", "tests", "test"}), suffixes):
                    rel = _module_name(path.relative_to(root))
                    module = self.name if not rel else f"{self.name}.{rel}"
                    module = module if path.suffix == ".py" else ""
                    relative = (Path(self.name) / path.relative_to(root)).as_posix()
                    out.append(
                        SourceFile(path=relative, root=str(root.parent), source=label, module=module, **meta)
                    )
            return sorted(out, key=lambda f: f.path)
        assert spec.origin is not None
        if not spec.origin.endswith(".py"):
            raise CorpusError(f"corpus package has no Python source: {self.name} ({spec.origin})")
        origin = Path(spec.origin)
        return [SourceFile(path=origin.name, root=str(origin.parent), source=label, module=self.name, **meta)]


def package_metadata(import_name: str) -> dict[str, str]:
    """The distribution an importable package ships in: its name, version and licence (where declared)."""
    distributions = importlib.metadata.packages_distributions().get(import_name.split(".")[0], [])
    if not distributions:
        return {"package": import_name, "version": "", "licence": ""}
    name = distributions[0]
    try:
        meta = importlib.metadata.metadata(name)
    except importlib.metadata.PackageNotFoundError:
        return {"package": name, "version": "", "licence": ""}
    return {"package": name, "version": meta.get("Version", ""), "licence": _licence(meta)}


def _licence(meta: importlib.metadata.PackageMetadata) -> str:
    """An SPDX expression if declared, else a short License field, else the licence classifiers."""
    expression = meta.get("License-Expression")
    if expression:
        return expression
    declared = (meta.get("License") or "").strip()
    if declared and len(declared) <= 60 and "\n" not in declared:
        return declared
    classifiers = [c.rsplit("::", 1)[-1].strip() for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
    return ", ".join(classifiers)


Corpus = Annotated[StdlibCorpus | DirCorpus | FilesCorpus | PackageCorpus, Field(discriminator="kind")]


def _walk(root: Path, skip_dirs: frozenset[str], suffixes: tuple[str, ...] = (".py",)) -> list[Path]:
    """Files under ``root`` ending in one of ``suffixes``, sorted, pruning skipped directories (and hidden ones)."""
    out: list[Path] = []
    for path in sorted({p for suffix in suffixes for p in root.rglob(f"*{suffix}")}):
        rel_dirs = path.relative_to(root).parts[:-1]
        if any(part in skip_dirs or part.startswith(".") for part in rel_dirs):
            continue
        if path.is_file():
            out.append(path)
    return out


def _module_name(rel: Path) -> str:
    """Dotted module name of a file relative to its root: ``email/utils.py`` -> ``email.utils``."""
    parts = list(rel.with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)
