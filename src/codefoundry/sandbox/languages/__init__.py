"""Language plugins, looked up by name."""

from __future__ import annotations

from codefoundry.sandbox.languages.base import Language
from codefoundry.sandbox.languages.python import LANGUAGE as PYTHON

ALIASES = {"py": "python", "python3": "python", "js": "javascript", "node": "javascript", "c++": "cpp"}


def registry() -> dict[str, Language]:
    """All known languages (whether or not their toolchain is installed here)."""
    langs = [PYTHON]
    return {lang.name: lang for lang in langs}


def get_language(name: str) -> Language | None:
    name = name.lower()
    return registry().get(ALIASES.get(name, name))


__all__ = ["Language", "get_language", "registry"]
