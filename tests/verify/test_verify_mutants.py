"""AST mutant operators: each makes the expected change; mutants are distinct and never the reference."""

from __future__ import annotations

import ast

from codefoundry.verify.mutants import generate, select

CODE = '''import math

def f(items, limit=3):
    """Sum items above a limit until a negative one."""
    total = 0
    for x in items[1:]:
        if x > limit and x != 7:
            total += x * 2
        elif x < 0:
            break
        else:
            continue
    return total == 0 or math.isfinite(total)
'''


def _by_operator() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for mutant in generate(CODE, "f"):
        out.setdefault(mutant.operator, []).append(mutant.code)
    return out


def test_each_operator_makes_its_change() -> None:
    mutants = _by_operator()
    assert any("x >= limit" in m for m in mutants["cmp_swap"])
    assert any("x == 7" in m for m in mutants["cmp_swap"])
    assert any("total += x + 2" in m for m in mutants["arith_swap"])
    assert any("total -= x * 2" in m for m in mutants["arith_swap"])
    assert any("x != 8" in m for m in mutants["off_by_one"]) and any(
        "limit=2" in m for m in mutants["off_by_one"]
    )
    assert any("if not (x > limit and x != 7)" in m for m in mutants["negate_cond"])
    assert any("or x != 7" in m for m in mutants["boolop_swap"])
    assert any("items[:]" in m for m in mutants["slice_bound"])
    assert any("return None" in m for m in mutants["return_none"])
    assert any(
        "math.isfinite" in m and "x < 0:\n            continue" in m for m in mutants["break_continue"]
    )
    assert any("else:\n            continue" not in m and "elif" in m for m in mutants["drop_else"])
    assert any("if x > limit and x != 7:\n            pass" in m for m in mutants["drop_branch"])


def test_swapped_arguments_and_flipped_booleans() -> None:
    code = 'def g(a, b):\n    """Doc."""\n    ok = True\n    return divmod(a, b), ok, "sep"\n'
    operators = {m.operator: m.code for m in generate(code, "g")}
    assert "divmod(b, a)" in operators["swap_args"]
    assert "ok = False" in operators["bool_flip"]
    assert "''" in operators["str_empty"] and '"""Doc."""' in operators["str_empty"]  # docstring untouched


def test_mutants_are_distinct_valid_and_not_the_reference() -> None:
    mutants = generate(CODE, "f")
    texts = [m.code for m in mutants]
    assert len(texts) == len(set(texts))
    assert ast.unparse(ast.parse(CODE)) not in texts
    for text in texts:
        compile(text, "<mutant>", "exec")
        assert "import math" in text  # the context is kept, only f is mutated


def test_selection_is_capped_stable_and_spread_over_operators() -> None:
    mutants = generate(CODE, "f")
    picked = select(mutants, 8, salt="p1")
    assert len(picked) == 8
    assert picked == select(list(reversed(mutants)), 8, salt="p1")
    assert len({m.operator for m in picked}) == 8
    assert select(mutants, 1000) and len(select(mutants, 1000)) == len(mutants)


def test_nothing_inside_a_raise_is_mutated() -> None:
    code = (
        "def g(n):\n"
        '    """Half of an even n."""\n'
        "    if n % 2:\n"
        "        raise ValueError('odd: ' + str(n + 1))\n"
        "    return n // 2\n"
    )
    mutants = list(generate(code, "g"))
    assert mutants and all(
        "raise ValueError('odd: ' + str(n + 1))" in m.code for m in mutants if "raise" in m.code
    )
    assert not any(m.operator == "str_empty" for m in mutants)
    assert any(m.operator == "drop_branch" for m in mutants)  # the branch itself is still dropped


STDIO = '''import sys

def solve(a, b):
    """Sum of two numbers."""
    return a + b

data = sys.stdin.read().split()
if __name__ == "__main__":
    print(solve(int(data[0]), int(data[1])) if data else 0)
'''


def test_program_without_entry_point_is_mutated_as_a_module() -> None:
    mutants = generate(STDIO, "")
    operators = {m.operator for m in mutants}
    assert {"arith_swap", "return_none", "off_by_one"} <= operators
    assert any("line 9" in m.description for m in mutants)  # module-level code, not only functions
    for mutant in mutants:
        tree = ast.parse(mutant.code)
        guard = next(s for s in tree.body if isinstance(s, ast.If))
        assert ast.unparse(guard.test) == "__name__ == '__main__'", mutant.description  # the guard stays
        solve = next(s for s in tree.body if isinstance(s, ast.FunctionDef))
        assert ast.get_docstring(solve) == "Sum of two numbers."  # docstrings are not behaviour
    assert generate(STDIO, "missing") == []  # a named entry point still means that function only
