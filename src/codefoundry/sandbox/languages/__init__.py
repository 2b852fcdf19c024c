"""Language plugins, looked up by name."""

from __future__ import annotations

from codefoundry.sandbox.languages.base import Language
from codefoundry.sandbox.languages.cpp import LANGUAGE as CPP
from codefoundry.sandbox.languages.go import LANGUAGE as GO
from codefoundry.sandbox.languages.java import LANGUAGE as JAVA
from codefoundry.sandbox.languages.javascript import LANGUAGE as JAVASCRIPT
from codefoundry.sandbox.languages.python import LANGUAGE as PYTHON
from codefoundry.sandbox.languages.rust import LANGUAGE as RUST

# Other names for a language, as fence tags, file extensions and recipes spell them. The one table: the
# sandbox looks languages up through it and the teacher's parsers normalise code-fence tags with it. Some
# targets (typescript, bash) have no plugin: their fences are still recognised, but get_language says None.
ALIASES = {
    "py": "python",
    "python3": "python",
    "py3": "python",
    "js": "javascript",
    "node": "javascript",
    "ts": "typescript",
    "c++": "cpp",
    "cc": "cpp",
    "cxx": "cpp",
    "rs": "rust",
    "golang": "go",
    "sh": "bash",
    "shell": "bash",
    "zsh": "bash",
}


def normalise_language(name: str) -> str:
    """The canonical name of a language ("Py3 " -> "python"); unknown names come back lowercased."""
    name = name.strip().lower()
    return ALIASES.get(name, name)


def registry() -> dict[str, Language]:
    """All known languages (whether or not their toolchain is installed here)."""
    langs = [PYTHON, JAVASCRIPT, CPP, JAVA, RUST, GO]
    return {lang.name: lang for lang in langs}


def get_language(name: str) -> Language | None:
    return registry().get(normalise_language(name))


__all__ = ["ALIASES", "Language", "get_language", "normalise_language", "registry"]
