"""``mine.tasks``: keep the seeds that can be tasks and turn each into a problem (task + reference solution).

The task shows the function's signature and docstring, not its body, in a natural instruction; the
reference solution is the seed's own code (its imports, constants and helpers included), which later stages
run in the sandbox as the oracle for the tests.
"""

from __future__ import annotations

import ast
from enum import StrEnum

from pydantic import Field

from codefoundry.mine.checks import Analysis, Rejection, StaticConfig, analyse, own_nodes
from codefoundry.pipeline.stage import StageConfig, StageResult, ThreadedStage
from codefoundry.records import (
    Author,
    AuthorKind,
    Problem,
    ProblemReports,
    Seed,
    Solution,
    SolutionRole,
    Style,
    Task,
)

INSTRUCTION = (
    "Implement the Python function `{name}` described below. Keep the signature; the docstring says what "
    "it must do. You may use the Python standard library."
)
IN_PLACE_NOTE = (
    "It works in place: the tests check what it returns and the contents of its arguments after the call."
)
GENERATOR_NOTE = (
    "It may be written as a generator or return a list: the tests compare the items it produces, in order."
)


class MakeTasksDrop(StrEnum):
    """Why a seed cannot be a task (the static checks' reasons, ``mine/checks.py``)."""

    NO_DOCSTRING = "no_docstring"
    SYNTAX_ERROR = "syntax_error"
    NO_FUNCTION = "no_function"
    ASYNC = "async"
    DECORATED = "decorated"
    NO_ARGUMENTS = "no_arguments"
    UNSUPPORTED_SIGNATURE = "unsupported_signature"
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    GLOBAL_MUTATION = "global_mutation"
    NOT_SELF_CONTAINED = "not_self_contained"
    IO_CALL = "io_call"
    NETWORK = "network"
    TIME = "time"
    RANDOMNESS = "randomness"
    DYNAMIC_CODE = "dynamic_code"
    INTERPRETER_STATE = "interpreter_state"
    NON_PLAIN_TYPES = "non_plain_types"


class MakeTasksConfig(StageConfig):
    min_lines: int = Field(1, ge=1, description="fewest code lines in the body (docstring excluded)")
    max_lines: int = Field(60, ge=1, description="most code lines in the body (docstring excluded)")
    batch_size: int = 64


class MakeTasks(ThreadedStage[Seed, Problem]):
    """Static checks, then the task prompt and the reference solution."""

    kind = "mine.tasks"
    Config = MakeTasksConfig
    input_type = Seed
    output_type = Problem
    drop_reasons = MakeTasksDrop
    config: MakeTasksConfig

    def process_batch(self, batch: list[Seed]) -> StageResult[Problem]:
        result: StageResult[Problem] = StageResult()
        limits = StaticConfig(self.config.min_lines, self.config.max_lines)
        for seed in batch:
            if not seed.docstring.strip():
                result.drops.append(self.drop(seed, MakeTasksDrop.NO_DOCSTRING))
                continue
            analysis = analyse(seed.code, seed.name, limits)
            if isinstance(analysis, Rejection):
                result.drops.append(self.drop(seed, MakeTasksDrop(analysis.reason), analysis.detail))
                continue
            result.records.append(build_problem(seed, analysis))
        return result


def build_problem(seed: Seed, analysis: Analysis) -> Problem:
    """The task (prompt with signature + docstring) and the reference (the seed's code)."""
    stub, signature = function_stub(seed.code, analysis.function)
    instruction = INSTRUCTION.format(name=seed.name)
    generator = is_generator(analysis.function)
    in_place = not generator and returns_nothing(analysis.function)
    if generator:
        instruction += " " + GENERATOR_NOTE
    if in_place:
        instruction += " " + IN_PLACE_NOTE
    prompt = instruction + "\n\n```python\n" + stub + "\n```\n"
    task = Task(
        prompt=prompt,
        style=Style.FUNCTION,
        language="python",
        entry_point=seed.name,
        signature=signature,
        observe_args=in_place,
        provenance=seed.provenance,
        features=features(seed, analysis),
    )
    reference = Solution(
        task_id=task.id,
        language="python",
        code=seed.code,
        role=SolutionRole.REFERENCE,
        author=Author(kind=AuthorKind.CORPUS, name=seed.provenance.source),
    )
    return Problem(task=task, reference=reference, reports=ProblemReports(seed_id=seed.id, module=seed.module))


def is_generator(function: ast.FunctionDef) -> bool:
    """Whether the function's own body yields (nested functions and lambdas excluded)."""
    return any(isinstance(node, ast.Yield | ast.YieldFrom) for node in own_nodes(function))


def returns_nothing(function: ast.FunctionDef) -> bool:
    """Whether the function never returns a value (no ``return <expr>`` other than ``return None``): a
    procedure whose effect, if any, is on its arguments."""
    for node in own_nodes(function):
        value = node.value if isinstance(node, ast.Return) else None
        if value is not None and not (isinstance(value, ast.Constant) and value.value is None):
            return False
    return True


def function_stub(code: str, function: ast.FunctionDef) -> tuple[str, str]:
    """(the def line(s) plus the original docstring literal, the signature alone)."""
    header = ast.FunctionDef(
        name=function.name,
        args=function.args,
        body=[ast.Pass()],
        decorator_list=[],
        returns=function.returns,
        type_comment=None,
    )
    rendered = ast.unparse(ast.fix_missing_locations(header))
    signature = rendered.splitlines()[0].removesuffix(":")
    doc_node = function.body[0]
    literal = ast.get_source_segment(code, doc_node) or repr(ast.get_docstring(function, clean=False))
    return f"{signature}:\n    {literal}", signature


def features(seed: Seed, analysis: Analysis) -> list[str]:
    """Tags for coverage reports: the module, the imports, the constructs the reference uses."""
    found: set[str] = set()
    if seed.module:
        found.add(f"module:{seed.module}")
    for dotted in analysis.imports.values():
        found.add(f"import:{dotted.split('.')[0]}")
    function = analysis.function
    kinds = {
        ast.For: "loop",
        ast.While: "loop",
        ast.ListComp: "comprehension",
        ast.SetComp: "comprehension",
        ast.DictComp: "comprehension",
        ast.GeneratorExp: "comprehension",
        ast.Lambda: "lambda",
        ast.Try: "exceptions",
        ast.Raise: "exceptions",
        ast.Slice: "slicing",
        ast.Dict: "dict",
        ast.Set: "set",
        ast.IfExp: "conditional_expression",
        ast.JoinedStr: "f_string",
        ast.BinOp: "arithmetic",
    }
    for node in ast.walk(function):
        tag = kinds.get(type(node))
        if tag:
            found.add(tag)
        if isinstance(node, ast.Yield | ast.YieldFrom):
            found.add("generator")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == function.name:
            found.add("recursion")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr
            in (
                "split",
                "join",
                "strip",
                "replace",
                "startswith",
                "endswith",
                "lower",
                "upper",
                "find",
            )
        ):
            found.add("string_methods")
    helpers = [s for s in analysis.tree.body if isinstance(s, ast.FunctionDef) and s is not function]
    if helpers:
        found.add("helpers")
    if ">>>" in seed.docstring:
        found.add("doctest")
    args = function.args
    if function.returns is not None or any(a.annotation is not None for a in [*args.posonlyargs, *args.args]):
        found.add("type_hints")
    return sorted(found)
