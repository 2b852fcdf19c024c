"""Types guessed for untyped parameters from their names and the docstring's words.

Most standard-library functions carry no annotations, doctest values or defaults for their parameters. A
name (``s``, ``n``, ``items``, ``data``) or a phrase in the docstring (``bytes-like object``, ``list of
strings``) is the next best evidence; the guesses here only order what probing tries first, and the probe
run in the sandbox decides. Every type named here is in the plain-type language (``judge.plaintypes``).
"""

from __future__ import annotations

import re

# parameter-name hints for untyped parameters, most specific first
_NAME_HINTS: list[tuple[tuple[str, ...], str]] = [
    (
        (
            "flag", "strict", "reverse", "verbose", "quiet", "force", "recursive", "keepends", "ignorecase",
        ),
        "bool",
    ),
    (
        (
            "s", "st", "string", "text", "txt", "name", "word", "prefix", "suffix", "sep", "path", "url",
            "line", "char", "c", "ch", "pattern", "pat", "fmt", "format", "encoding", "errors", "mode",
            "ident",
            "host", "addr", "address", "tag", "msg", "message", "doc", "source", "src", "header", "label",
            "title", "filename", "fn", "p", "str", "template", "value_str", "input", "content", "chars",
            "delimiter", "quote", "token", "key", "newline", "field", "netloc", "scheme", "query", "fragment",
            "attr", "attrname", "modname", "module", "qualname", "typename", "cmd", "command", "arg",
            "word_sep", "email", "domain", "charset", "subtype", "maintype", "ctype", "hex", "hexstr",
        ),
        "str",
    ),
    (
        (
            "n", "i", "j", "k", "num", "number", "count", "size", "width", "length", "len", "index", "idx",
            "pos", "start", "end", "stop", "step", "base", "level", "depth", "limit", "offset", "year",
            "month",
            "day", "hour", "minute", "second", "code", "bits", "flags", "mask", "port", "precision", "places",
            "digits", "indent", "tabsize", "maxsplit", "lineno", "col", "r", "m", "nbytes", "integer", "int",
            "ndigits", "maxlen", "days", "weeks",
        ),
        "int",
    ),
    (("x", "y", "z", "f", "ratio", "angle", "value", "val", "v", "weight", "q", "t"), "float"),
    (
        (
            "items", "seq", "sequence", "iterable", "values", "lst", "list", "elements", "data", "xs", "arr",
            "array", "pairs", "coll", "collection", "iterables", "args", "nums", "numbers", "l", "li",
            "population", "points", "a_list", "iter",
        ),
        "list[int]",
    ),
    (("words", "parts", "lines", "paths", "names", "strings", "strs", "fields", "tokens"), "list[str]"),
    (("d", "dct", "mapping", "dict", "table", "kwargs", "kw", "map", "params", "env"), "dict[str, int]"),
    (
        (
            "b", "buf", "buffer", "bytes", "byts", "raw", "payload", "octets", "binary", "packed", "blob",
            "bs",
            "bdata", "binstr", "hexdata", "der_cert_bytes",
        ),
        "bytes",
    ),
]  # fmt: skip
CANDIDATE_TYPES = ("int", "str", "list[int]", "bytes", "float", "list[str]", "dict[str, int]", "bool")
# a second guess for names that often stand for two types (``data``: a list or bytes, ``s``: text or bytes)
_SECOND_HINTS = {
    "data": "bytes", "s": "bytes", "c": "bytes", "string": "bytes", "input": "bytes", "line": "bytes",
    "text": "bytes", "source": "bytes", "src": "bytes", "x": "int", "value": "int", "val": "int",
    "v": "int", "items": "list[str]", "seq": "list[str]", "sequence": "list[str]", "iterable": "list[str]",
    "lines": "list[str]", "args": "list[str]", "values": "list[str]", "parts": "list[str]", "a": "list[int]",
    "obj": "str", "o": "str", "arg": "int", "key": "int", "d": "dict[str, str]", "mapping": "dict[str, str]",
}  # fmt: skip
# words in a docstring that point at a type for the parameters that have no better hint
_DOC_HINTS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\bbytes\b|bytes-like|byte string|bytestring|\bbinary\b|\boctets?\b", re.I), "bytes"),
    (re.compile(r"\blist of (?:str|string|name|word|line)s?\b|\bsequence of (?:str|string)s?\b", re.I),
     "list[str]"),
    (re.compile(r"\b(?:list|sequence|iterable) of (?:int|integer|number)s?\b", re.I), "list[int]"),
    (re.compile(r"\b(?:dict|dictionary|mapping)\b", re.I), "dict[str, int]"),
]  # fmt: skip


def name_hint(name: str, *, suffixes: bool = True) -> str | None:
    """A type guessed from a parameter's name (``s`` -> str, ``n`` -> int, ``items`` -> list[int]); with
    ``suffixes`` also from how it ends (``widths`` -> list[str]), a weaker guess."""
    lowered = name.lower().strip("_")
    for names, type_text in _NAME_HINTS:
        if lowered in names:
            return type_text
    if not suffixes:
        return None
    for suffix, type_text in (
        ("s", "list[str]"),
        ("str", "str"),
        ("name", "str"),
        ("count", "int"),
        ("num", "int"),
        ("bytes", "bytes"),
    ):
        if lowered.endswith(suffix) and len(lowered) > 3:
            return type_text
    return None


def doc_hints(docstring: str) -> list[str]:
    """Types a docstring's words point at (``bytes-like object`` -> bytes), most telling first."""
    return [type_text for pattern, type_text in _DOC_HINTS if pattern.search(docstring or "")]


def candidates_for(name: str, docstring: str = "") -> list[str]:
    """Types to try for an untyped parameter: the name's hint, its second guess, the docstring's, the rest."""
    lowered = name.lower().strip("_")
    out: list[str] = []
    for type_text in [name_hint(name), _SECOND_HINTS.get(lowered), *doc_hints(docstring), *CANDIDATE_TYPES]:
        if type_text and type_text not in out:
            out.append(type_text)
    return out
