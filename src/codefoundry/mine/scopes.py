"""Which names a piece of module code takes from module scope, read off ``symtable`` (the compiler's view).

The extractor needs them to know what context to copy along with a function; the static checks need them
to know which names must resolve to builtins, imports or the seed's own definitions. Both read this one
walk, so a name the extractor did not copy is a name the checks see as unresolved.
"""

from __future__ import annotations

import symtable
import warnings
from dataclasses import dataclass, field


@dataclass
class ScopeNames:
    """Module-scope names as the nested scopes (functions, classes, lambdas, comprehensions) use them."""

    read: set[str] = field(default_factory=set)  # read from module scope (nested scopes or top level)
    written: set[str] = field(default_factory=set)  # assigned in module scope from a nested scope
    local: set[str] = field(default_factory=set)  # bound locally (or a parameter) in some nested scope


def scope_names(source: str) -> ScopeNames:
    """The module-scope names ``source`` uses (raises ``SyntaxError`` for code that does not compile)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = symtable.symtable(source, "<seed>", "exec")
    names = ScopeNames()

    def visit(scope: symtable.SymbolTable) -> None:
        for child in scope.get_children():
            for symbol in child.get_symbols():
                if symbol.is_global():
                    if symbol.is_referenced():
                        names.read.add(symbol.get_name())
                    if symbol.is_assigned():
                        names.written.add(symbol.get_name())
                elif symbol.is_local() or symbol.is_parameter():
                    names.local.add(symbol.get_name())
            visit(child)

    visit(table)
    # top-level statements other than defs (e.g. a constant's expression) read their names directly
    for symbol in table.get_symbols():
        if symbol.is_referenced() and not symbol.is_assigned() and not symbol.is_imported():
            names.read.add(symbol.get_name())
    return names
