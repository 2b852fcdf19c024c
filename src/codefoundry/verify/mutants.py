"""AST mutants of a reference solution: small faults a test suite should notice.

Only the entry-point function is mutated (not the imports, constants or helpers copied along with it); a
program without one (a stdio task, entry point ``""``) is mutated as a whole module: every function and the
module-level code, except the ``if __name__ == "__main__":`` guard itself (a mutant that never runs its main
block is not a fault a test suite should have to find).
Operators: comparison swaps, arithmetic swaps, off-by-one integer constants, negated conditions, dropped
branches (``if`` body -> ``pass``, ``else`` removed), swapped call arguments, changed return values
(``return None``), flipped booleans, ``and``/``or`` swaps, slice bounds dropped, ``break``/``continue`` swaps
and emptied string constants. Nothing inside a ``raise`` statement is mutated (tests observe that an error is
raised, not which message it carries). Mutants are deduplicated by ``ast.unparse`` text, never equal to the
reference, and a per-task cap picks them round-robin over operators in a stable pseudo-random order.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from codefoundry.sandbox.languages import normalise_language

Transform = Callable[[ast.AST], None]

CMP_SWAPS: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
    ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
}  # fmt: skip
ARITH_SWAPS: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Add, ast.Div: ast.Mult, ast.FloorDiv: ast.Div,
    ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult, ast.LShift: ast.RShift, ast.RShift: ast.LShift,
    ast.BitAnd: ast.BitOr, ast.BitOr: ast.BitAnd, ast.BitXor: ast.BitOr, ast.MatMult: ast.Mult,
}  # fmt: skip
OPERATORS = (
    "cmp_swap", "arith_swap", "off_by_one", "negate_cond", "drop_branch", "drop_else", "swap_args",
    "return_none", "bool_flip", "boolop_swap", "slice_bound", "break_continue", "str_empty",
)  # fmt: skip


def supports(language: str) -> bool:
    """Whether mutants can be made of code in ``language``: the operators work on Python's AST only."""
    return normalise_language(language) == "python"


@dataclass(frozen=True)
class Mutant:
    """One mutated program: which operator made it, where, and its full source."""

    operator: str
    description: str
    code: str


def _sites(function: ast.FunctionDef | ast.Module) -> Iterator[tuple[int, str, str, Transform]]:
    """(node index in ast.walk order, operator, description, in-place transform) for every mutation site."""
    docstring = function.body[0] if ast.get_docstring(function) else None
    skip = {id(docstring), id(getattr(docstring, "value", None))} if docstring is not None else set()
    # a whole module: its main guard and its functions' and classes' docstrings are not behaviour
    for node in ast.walk(function) if isinstance(function, ast.Module) else ():
        if isinstance(node, ast.If) and _is_main_guard(node.test):
            skip.add(id(node))
            skip.update(id(sub) for sub in ast.walk(node.test))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and ast.get_docstring(node):
            skip.update(id(sub) for sub in ast.walk(node.body[0]))
    # what a ``raise`` builds (the exception's class and message) is not observable: a test sees a runtime
    # error either way, so mutating it only makes mutants no test could kill
    for node in ast.walk(function):
        if isinstance(node, ast.Raise):
            skip.update(id(sub) for sub in ast.walk(node))
    for index, node in enumerate(ast.walk(function)):
        if id(node) in skip:
            continue
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Compare):
            for position, op in enumerate(node.ops):
                new = CMP_SWAPS.get(type(op))
                if new is not None:
                    yield (
                        index,
                        "cmp_swap",
                        f"line {line}: {type(op).__name__} -> {new.__name__}",
                        _set_cmp(position, new),
                    )
        elif isinstance(node, ast.BinOp | ast.AugAssign):
            new_op = ARITH_SWAPS.get(type(node.op))
            if new_op is not None:
                yield (
                    index,
                    "arith_swap",
                    f"line {line}: {type(node.op).__name__} -> {new_op.__name__}",
                    _set_op(new_op),
                )
        elif isinstance(node, ast.Constant) and type(node.value) is int:
            for delta in (1, -1):
                yield (
                    index,
                    "off_by_one",
                    f"line {line}: {node.value} -> {node.value + delta}",
                    _add_const(delta),
                )
        elif isinstance(node, ast.Constant) and type(node.value) is bool:
            yield index, "bool_flip", f"line {line}: {node.value} -> {not node.value}", _flip_bool
        elif isinstance(node, ast.Constant) and type(node.value) is str and node.value:
            yield index, "str_empty", f"line {line}: {node.value[:20]!r} -> ''", _empty_str
        elif isinstance(node, ast.BoolOp):
            yield index, "boolop_swap", f"line {line}: {type(node.op).__name__} swapped", _swap_boolop
        elif isinstance(node, ast.Slice):
            for field in ("lower", "upper", "step"):
                if getattr(node, field) is not None:
                    yield index, "slice_bound", f"line {line}: slice {field} dropped", _drop_field(field)
        elif isinstance(node, ast.Call):
            positional = [a for a in node.args if not isinstance(a, ast.Starred)]
            if len(positional) == len(node.args) >= 2 and ast.dump(node.args[0]) != ast.dump(node.args[1]):
                yield index, "swap_args", f"line {line}: first two arguments swapped", _swap_args
        if isinstance(node, ast.If | ast.While | ast.IfExp):
            yield index, "negate_cond", f"line {line}: condition negated", _negate
        if isinstance(node, ast.If):
            if not (len(node.body) == 1 and isinstance(node.body[0], ast.Pass)):
                yield index, "drop_branch", f"line {line}: if body -> pass", _drop_body
            if node.orelse:
                yield index, "drop_else", f"line {line}: else removed", _drop_else
        if (
            isinstance(node, ast.Return)
            and node.value is not None
            and not (isinstance(node.value, ast.Constant) and node.value.value is None)
        ):
            yield index, "return_none", f"line {line}: return None", _return_none
        # statement-list swaps (break <-> continue) need the parent list
        for field in ("body", "orelse"):
            statements = getattr(node, field, None)
            if isinstance(statements, list):
                for position, statement in enumerate(statements):
                    if isinstance(statement, ast.Break | ast.Continue):
                        yield (
                            index,
                            "break_continue",
                            f"line {statement.lineno}: break/continue swapped",
                            _swap_jump(field, position),
                        )


def _is_main_guard(test: ast.expr) -> bool:
    """``__name__ == "__main__"`` (either way round)."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    names = [s.id for s in sides if isinstance(s, ast.Name)]
    values = [s.value for s in sides if isinstance(s, ast.Constant)]
    return names == ["__name__"] and values == ["__main__"]


def _set_cmp(position: int, new: type[ast.cmpop]) -> Transform:
    def apply(node: ast.AST) -> None:
        assert isinstance(node, ast.Compare)
        node.ops[position] = new()

    return apply


def _set_op(new: type[ast.operator]) -> Transform:
    def apply(node: ast.AST) -> None:
        node.op = new()  # type: ignore[attr-defined]

    return apply


def _add_const(delta: int) -> Transform:
    def apply(node: ast.AST) -> None:
        assert isinstance(node, ast.Constant)
        node.value = node.value + delta

    return apply


def _flip_bool(node: ast.AST) -> None:
    assert isinstance(node, ast.Constant)
    node.value = not node.value


def _empty_str(node: ast.AST) -> None:
    assert isinstance(node, ast.Constant)
    node.value = ""


def _swap_boolop(node: ast.AST) -> None:
    assert isinstance(node, ast.BoolOp)
    node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()


def _drop_field(field: str) -> Transform:
    def apply(node: ast.AST) -> None:
        setattr(node, field, None)

    return apply


def _swap_args(node: ast.AST) -> None:
    assert isinstance(node, ast.Call)
    node.args[0], node.args[1] = node.args[1], node.args[0]


def _negate(node: ast.AST) -> None:
    node.test = ast.UnaryOp(op=ast.Not(), operand=node.test)  # type: ignore[attr-defined]


def _drop_body(node: ast.AST) -> None:
    assert isinstance(node, ast.If)
    node.body = [ast.Pass()]


def _drop_else(node: ast.AST) -> None:
    assert isinstance(node, ast.If)
    node.orelse = []


def _return_none(node: ast.AST) -> None:
    assert isinstance(node, ast.Return)
    node.value = ast.Constant(value=None)


def _swap_jump(field: str, position: int) -> Transform:
    def apply(node: ast.AST) -> None:
        statements = getattr(node, field)
        old = statements[position]
        statements[position] = ast.Continue() if isinstance(old, ast.Break) else ast.Break()

    return apply


def _entry(tree: ast.Module, name: str) -> ast.FunctionDef | None:
    found = None
    for statement in tree.body:
        if isinstance(statement, ast.FunctionDef) and statement.name == name:
            found = statement
    return found


def generate(code: str, entry_point: str) -> list[Mutant]:
    """Every distinct mutant of ``entry_point`` in ``code`` (site order), none equal to the reference; with
    ``entry_point`` empty (a stdio program), of the whole module."""
    tree = ast.parse(code)
    function: ast.FunctionDef | ast.Module | None = _entry(tree, entry_point) if entry_point else tree
    if function is None:
        return []
    original = ast.unparse(tree)
    seen = {original}
    out: list[Mutant] = []
    nodes = list(ast.walk(function))
    for index, operator, description, transform in list(_sites(function)):
        node = nodes[index]
        # mutate in place, render, restore: transforms only touch the site node's own fields
        saved = {
            key: (list(value) if isinstance(value, list) else value) for key, value in vars(node).items()
        }
        try:
            transform(node)
            text = ast.unparse(ast.fix_missing_locations(tree))
            compile(text, "<mutant>", "exec")
        except (SyntaxError, ValueError, TypeError, RecursionError):
            continue
        finally:
            vars(node).clear()
            vars(node).update(saved)
        if text in seen:
            continue
        seen.add(text)
        out.append(Mutant(operator, description, text))
    return out


def select(mutants: list[Mutant], limit: int, salt: str = "") -> list[Mutant]:
    """Up to ``limit`` mutants, round-robin over operators, each operator's in a stable shuffled order."""
    by_operator: dict[str, list[Mutant]] = {}
    for mutant in mutants:
        by_operator.setdefault(mutant.operator, []).append(mutant)
    queues = [
        sorted(group, key=lambda m: hashlib.sha256((salt + m.code).encode()).hexdigest())
        for _op, group in sorted(by_operator.items(), key=lambda kv: OPERATORS.index(kv[0]))
    ]
    picked: list[Mutant] = []
    depth = 0
    while len(picked) < limit and any(depth < len(q) for q in queues):
        for queue in queues:
            if depth < len(queue) and len(picked) < limit:
                picked.append(queue[depth])
        depth += 1
    return picked
