"""Language plugins, looked up by name."""

from __future__ import annotations

from codefoundry.sandbox.languages.base import Language
from codefoundry.sandbox.languages.cpp import LANGUAGE as CPP
from codefoundry.sandbox.languages.go import LANGUAGE as GO
from codefoundry.sandbox.languages.java import LANGUAGE as JAVA
from codefoundry.sandbox.languages.javascript import LANGUAGE as JAVASCRIPT
from codefoundry.sandbox.languages.python import LANGUAGE as PYTHON
from codefoundry.sandbox.languages.rust import LANGUAGE as RUST

ALIASES = {
    "py": "python",
    "python3": "python",
    "js": "javascript",
    "node": "javascript",
    "c++": "cpp",
    "cxx": "cpp",
    "rs": "rust",
    "golang": "go",
}


def registry() -> dict[str, Language]:
    """All known languages (whether or not their toolchain is installed here)."""
    langs = [PYTHON, JAVASCRIPT, CPP, JAVA, RUST, GO]
    return {lang.name: lang for lang in langs}


def get_language(name: str) -> Language | None:
    name = name.lower()
    return registry().get(ALIASES.get(name, name))


__all__ = ["Language", "get_language", "registry"]
