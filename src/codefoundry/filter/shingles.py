"""The views of a problem that near-duplicate removal compares, normalised, and their shingles.

Three views, because duplicates hide in different places: the same task asked in slightly other words
(``instruction``), the same code pasted twice with other formatting or comments (``solution``), and the same
code with its variables renamed and its constants changed (``code_ast``: identifiers and literals replaced by
placeholders, so a rename leaves the view unchanged). Each view is a string (its exact key) and a sorted array
of 32-bit shingle hashes (word or code-token n-grams) that MinHash and the exact Jaccard both read.

Hashes are stable across processes and machines (CRC-32 of each token, a fixed polynomial over the n-gram),
never Python's salted ``hash``: the same records give the same shingles, hence the same clusters, everywhere.
"""

from __future__ import annotations

import ast
import builtins
import keyword
import re
import zlib
from enum import StrEnum

import numpy as np

from codefoundry.records import Problem
from codefoundry.synth.solve import strip_docstrings


class View(StrEnum):
    """What of a problem is compared: its prompt, its reference's code, or that code's canonical shape."""

    INSTRUCTION = "instruction"
    SOLUTION = "solution"
    CODE_AST = "code_ast"


_WORD = re.compile(r"\w+")
_CODE_TOKEN = re.compile(r"""[A-Za-z_]\w*|\d[\w.]*|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|`[^`]*`|\S""")
_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
# kept as they are by the fallback tokenizer: renaming a keyword would make every program look alike
_OTHER_KEYWORDS = """if else for while do return break continue switch case default fn func function let var const
mut int long short char void bool boolean float double string String auto struct class enum impl pub static
public private protected new delete nil null true false this self use import package"""
_KEEP = frozenset(keyword.kwlist) | frozenset(dir(builtins)) | frozenset(_OTHER_KEYWORDS.split())
_BUILTINS = frozenset(dir(builtins))


def normalise_text(text: str) -> str:
    """Lowercase, whitespace collapsed: spacing and case never make two prompts different."""
    return " ".join(text.lower().split())


def normalise_code(code: str, language: str = "python") -> str:
    """Python: re-printed by ``ast`` without comments, docstrings or formatting; else (or unparsable):
    comments dropped, every line's whitespace collapsed, blank lines gone."""
    if language == "python":
        try:
            return ast.unparse(strip_docstrings(ast.parse(code)))
        except (SyntaxError, ValueError, RecursionError):
            pass
    lines = (" ".join(line.split()) for line in _COMMENTS.sub(" ", code).splitlines())
    return "\n".join(line for line in lines if line)


class _Canonical(ast.NodeTransformer):
    """Renames identifiers to v0, v1, ... in order of first appearance and literals to one per type.

    Builtins (``len``, ``range``) and attribute names (``.append``) keep their names: a rename never
    touches them, and keeping them stops every short function from looking alike.
    """

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def _name(self, name: str) -> str:
        if name in _BUILTINS:
            return name
        return self.names.setdefault(name, f"v{len(self.names)}")

    def visit_Name(self, node: ast.Name) -> ast.AST:
        node.id = self._name(node.id)
        return node

    def visit_arg(self, node: ast.arg) -> ast.AST:
        node.arg = self._name(node.arg)
        node.annotation = None
        return node

    def _def(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> ast.AST:
        node.name = self._name(node.name)
        return self.generic_visit(node)

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _def

    def visit_Global(self, node: ast.Global | ast.Nonlocal) -> ast.AST:
        node.names = [self._name(n) for n in node.names]
        return node

    visit_Nonlocal = visit_Global

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        value = node.value
        if value is None or value is Ellipsis or isinstance(value, bool):
            return node
        placeholder = {str: "S", bytes: b"B", int: 0, float: 0.0, complex: 0j}.get(type(value), value)
        return ast.copy_location(ast.Constant(placeholder), node)


def _canonical_tokens(code: str) -> str:
    """The fallback: comments dropped, identifiers (not keywords) to v0, v1, ..., numbers to 0, strings to S."""
    names: dict[str, str] = {}
    out = []
    for token in _CODE_TOKEN.findall(_COMMENTS.sub(" ", code)):
        first = token[0]
        if first.isalpha() or first == "_":
            out.append(token if token in _KEEP else names.setdefault(token, f"v{len(names)}"))
        elif first.isdigit():
            out.append("0")
        elif first in "\"'`":
            out.append("S")
        else:
            out.append(token)
    return " ".join(out)


def canonical_code(code: str, language: str = "python") -> str:
    """The code with identifiers and literals canonicalised (``ast`` for Python, else a tokenizer)."""
    if language == "python":
        try:
            tree = _Canonical().visit(strip_docstrings(ast.parse(code)))
            return ast.unparse(tree)
        except (SyntaxError, ValueError, RecursionError):
            pass
    return _canonical_tokens(code)


def view_text(problem: Problem, view: View) -> str:
    """The normalised view of ``problem`` (empty when it has none: no reference for the code views)."""
    if view is View.INSTRUCTION:
        return normalise_text(problem.task.prompt)
    reference = problem.reference
    if reference is None or not reference.code.strip():
        return ""
    if view is View.SOLUTION:
        return normalise_code(reference.code, reference.language)
    return canonical_code(reference.code, reference.language)


def tokens(text: str, view: View) -> list[str]:
    """Words of an instruction (punctuation gone), code tokens of a code view."""
    return _WORD.findall(text) if view is View.INSTRUCTION else _CODE_TOKEN.findall(text)


_MULT = np.uint64(0x100000001B3)  # FNV-64's prime: mixes each token's position into the n-gram hash


def shingle_hashes(items: list[str], ngram: int, cache: dict[str, int] | None = None) -> np.ndarray:
    """Sorted unique 32-bit hashes of the ``ngram``-grams of ``items`` (one shingle of all of them when
    fewer): a token hashed once (CRC-32, ``cache`` shared across records), the n-grams combined in numpy."""
    if not items:
        return np.empty(0, dtype=np.uint32)
    cache = {} if cache is None else cache
    ids = np.fromiter(
        (cache[t] if t in cache else cache.setdefault(t, zlib.crc32(t.encode())) for t in items),
        dtype=np.uint64,
        count=len(items),
    )
    width = min(ngram, len(ids))
    count = len(ids) - width + 1
    combined = np.zeros(count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(width):
            combined = combined * _MULT + ids[k : k + count]
        combined ^= combined >> np.uint64(29)
    return np.unique((combined & np.uint64(0xFFFFFFFF)).astype(np.uint32))


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted unique hash arrays."""
    if not len(a) or not len(b):
        return 0.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)
