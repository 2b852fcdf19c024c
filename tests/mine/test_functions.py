"""``mine.functions``: documented top-level functions become seeds; unparsable files are dropped, not fatal."""

from __future__ import annotations

from pathlib import Path

from codefoundry.mine.extract import extract_functions
from codefoundry.mine.functions import MineFunctions
from codefoundry.testing.stages import stage_context

FIXTURES = Path(__file__).parent.parent / "fixtures" / "mining"


def _stage(tmp_path: Path) -> MineFunctions:
    config = MineFunctions.Config(corpus={"kind": "dir", "path": str(FIXTURES)})
    return MineFunctions(config, stage_context(tmp_path))


def test_syntax_error_file_is_skipped_with_a_reason(tmp_path: Path) -> None:
    stage = _stage(tmp_path)
    result = stage.process_sync(stage.inputs())
    drops = {Path(d.record["path"]).name: d for d in result.drops if d.record}
    assert drops["broken.py"].reason == "syntax_error"
    assert "line 1" in drops["broken.py"].detail
    names = {seed.name for seed in result.records}
    assert {"clamp", "count_vowels", "digit_root"} <= names
    assert "undocumented" not in names


def test_seed_carries_provenance_and_the_context_it_needs(tmp_path: Path) -> None:
    stage = _stage(tmp_path)
    seeds = {s.name: s for s in stage.process_sync(stage.inputs()).records}
    hyp = seeds["hypotenuse"]
    assert hyp.code.startswith("import math")
    assert "LIMIT = 100" in hyp.code
    assert hyp.provenance.qualname == "hypotenuse" and hyp.provenance.line > 0
    assert hyp.provenance.path.endswith("pure.py")
    assert "def _digits" in seeds["digit_root"].code  # helper copied along


def test_undecodable_file_is_a_syntax_error(tmp_path: Path) -> None:
    (tmp_path / "latin.py").write_bytes(b"# -*- coding: utf-8 -*-\nx = '\xff\xfe'\n")
    stage = MineFunctions(
        MineFunctions.Config(corpus={"kind": "dir", "path": str(tmp_path)}), stage_context(tmp_path)
    )
    result = stage.process_sync(stage.inputs())
    assert [d.reason for d in result.drops] == ["syntax_error"]


def test_tables_built_by_module_code_are_copied_with_the_code_that_builds_them() -> None:
    source = (
        "STEP = 2\n"
        "TABLE = [0]\n"
        "total = 0\n"
        "for i in range(3):\n"
        "    total += i * STEP\n"
        "    TABLE.append(total)\n"
        "TABLE[0] = ord('a')\n"
        "\n"
        "def look(i):\n"
        '    """Entry i of the table."""\n'
        "    return TABLE[i]\n"
    )
    (item,) = extract_functions(source)
    namespace: dict = {}
    exec(item.code, namespace)  # noqa: S102 - our own literal source
    assert [namespace["look"](i) for i in range(4)] == [97, 0, 2, 6]
    assert item.code.count("TABLE = [0]") == 1 and "STEP = 2" in item.code


def test_constants_changed_by_other_module_code_are_not_copied() -> None:
    source = (
        "TABLE = [0]\n"
        "for i in range(3):\n"
        "    TABLE.append(compute(i))\n"  # a call the extractor cannot vouch for
        "\n"
        "def look(i):\n"
        '    """Entry i of the table."""\n'
        "    return TABLE[i]\n"
    )
    (item,) = extract_functions(source)
    assert "TABLE = [0]" not in item.code


def test_table_filled_by_subscript_assignment_is_one_binding() -> None:
    source = (
        "MAP = ['=%02X' % c for c in range(256)]\n"
        "for c in b'abc':\n"
        "    MAP[c] = chr(c)\n"
        "MAP[ord(' ')] = '_'\n"
        "\n"
        "def enc(octet):\n"
        '    """Encoded form of one octet."""\n'
        "    return MAP[octet]\n"
    )
    (item,) = extract_functions(source)
    namespace: dict = {}
    exec(item.code, namespace)  # noqa: S102 - our own literal source
    assert [namespace["enc"](o) for o in (97, 32, 10)] == ["a", "_", "=0A"]


def test_try_imports_and_package_imports_are_resolved() -> None:
    source = (
        "try:\n"
        "    import zlib as _zlib\n"
        "except ImportError:\n"
        "    _zlib = None\n"
        "import email.utils\n"
        "import email.header\n"
        "\n"
        "def f(data):\n"
        '    """Checksum and header."""\n'
        "    return _zlib.crc32(data), email.header, email.utils\n"
    )
    (item,) = extract_functions(source)
    assert "import zlib as _zlib" in item.code and "_zlib = None" not in item.code
    assert "import email.utils" in item.code and "import email.header" in item.code


def test_stdlib_relative_imports_become_absolute() -> None:
    source = 'from .utils import helper\n\ndef f(x):\n    """Doc."""\n    return helper(x)\n'
    (item,) = extract_functions(source, package="email")
    assert "from email.utils import helper" in item.code


def test_a_seed_keeps_up_to_twelve_helpers(tmp_path: Path) -> None:
    helpers = "".join(f"def _h{i}(x):\n    return x + {i}\n\n" for i in range(9))
    chain = " + ".join(f"_h{i}(x)" for i in range(9))
    (tmp_path / "many.py").write_text(
        helpers + f'def total(x):\n    """Sum of helpers."""\n    return {chain}\n'
    )
    stage = MineFunctions(
        MineFunctions.Config(corpus={"kind": "dir", "path": str(tmp_path)}), stage_context(tmp_path)
    )
    (seed,) = stage.process_sync(stage.inputs()).records
    assert all(f"def _h{i}(" in seed.code for i in range(9))


def test_star_imported_rebound_and_class_names_are_imported_from_the_stdlib_module() -> None:
    text = (
        "from _codecs import *\n\n"
        "class Codec:\n    def encode(self, text):\n        return text\n\n"
        "CACHE = {}\nCACHE = dict(a=1)\n\n"
        "def getencoder(encoding):\n"
        '    """Look up the encoder of ``encoding``."""\n'
        "    return lookup(encoding), Codec, CACHE, len\n"
    )
    (found,) = extract_functions(text, module="codecs")
    imports = found.preamble[0].splitlines()
    assert imports == ["from codecs import CACHE", "from codecs import Codec", "from codecs import lookup"]
    (plain,) = extract_functions(text)  # not an importable module: nothing is imported from it
    assert not any("import" in part for part in plain.preamble)
