"""Each drop reason of the output parsers, and the shapes small models really answer in."""

from __future__ import annotations

from pydantic import BaseModel

from codefoundry.sandbox.languages import ALIASES, get_language, registry
from codefoundry.teacher.parse import (
    DROP_REASONS,
    code_blocks,
    extract_code,
    extract_json,
    from_response_failure,
    sections,
)
from codefoundry.teacher.types import Completion


class Task(BaseModel):
    title: str
    difficulty: int


def _c(text: str, finish: str | None = "stop", refusal: str | None = None) -> Completion:
    return Completion(text=text, index=0, finish_reason=finish, refusal=refusal)


def test_code_blocks_per_language() -> None:
    text = "A:\n```py\ndef f():\n    return 1\n```\nB:\n~~~cpp\nint main() {}\n~~~\n```\nplain\n```\n"
    blocks = code_blocks(text)
    assert [(b.language, b.code) for b in blocks] == [
        ("python", "def f():\n    return 1"),
        ("cpp", "int main() {}"),
        ("", "plain"),
    ]
    assert extract_code(text, "cpp").value == "int main() {}"
    assert extract_code(text, "python").value == "def f():\n    return 1"


def test_fence_tags_and_the_sandbox_share_one_alias_table() -> None:
    # what the sandbox and the parsers each accepted before they shared one table
    before = {"py": "python", "python3": "python", "js": "javascript", "node": "javascript", "c++": "cpp",
              "cxx": "cpp", "rs": "rust", "golang": "go", "sh": "bash", "shell": "bash", "ts": "typescript"}  # fmt: skip
    assert before.items() <= ALIASES.items()
    for alias, name in ALIASES.items():
        [block] = code_blocks(f"```{alias.upper()}\nx\n```")
        assert block.language == name
        language = get_language(f" {alias} ")
        assert (language.name if language else None) == (name if name in registry() else None)
    assert extract_code("```cc\nint main() {}\n```", "c++").value == "int main() {}"
    assert get_language("PY3") is get_language("python")


def test_longest_python_block_wins_and_untagged_is_accepted() -> None:
    text = "```python\nx = 1\n```\n```python\ndef g(a):\n    return a\n```"
    assert extract_code(text).value == "def g(a):\n    return a"
    assert extract_code("```\nprint(1)\n```").value == "print(1)"


def test_drop_empty() -> None:
    assert extract_code(_c("  \n")).reason == "empty"
    assert extract_json(_c("")).reason == "empty"


def test_drop_truncated_by_finish_reason() -> None:
    parsed = extract_code(_c("```python\ndef f():\n    return 1\n```", finish="length"))
    assert parsed.reason == "truncated" and "length" in parsed.detail


def test_drop_truncated_by_open_fence_or_open_json() -> None:
    assert extract_code("Sure:\n```python\ndef f(:\n").reason == "truncated"
    assert extract_json('Here: {"title": "x", "difficulty": ').reason == "truncated"


def test_drop_refusal() -> None:
    assert extract_code(_c("I'm sorry, but I can't help with that.")).reason == "refusal"
    assert extract_code(_c("As an AI language model, I cannot write that.")).reason == "refusal"
    assert extract_json(_c("", refusal="unsafe request")).reason == "refusal"
    # an apology followed by code is an answer, not a refusal
    assert extract_code("Sorry, I misread. Here:\n```python\nx = 2\n```").ok


def test_drop_no_code_block() -> None:
    parsed = extract_code("The answer is to loop over the list.")
    assert parsed.reason == "no_code_block" and "none" in parsed.detail
    parsed = extract_code("```cpp\nint x;\n```", "python")
    assert parsed.reason == "no_code_block" and "cpp" in parsed.detail


def test_unfenced_python_only_when_allowed() -> None:
    bare = "def f(x):\n    return x + 1\n"
    assert extract_code(bare).reason == "no_code_block"
    assert extract_code(bare, allow_unfenced=True).value == bare.strip("\n")
    assert extract_code("this is prose, not code", allow_unfenced=True).reason == "no_code_block"


def test_json_from_every_shape() -> None:
    want = {"title": "sum", "difficulty": 2}
    assert extract_json('{"title": "sum", "difficulty": 2}').value == want
    assert extract_json('Sure!\n```json\n{"title": "sum", "difficulty": 2}\n```\nDone.').value == want
    assert extract_json('The task is {"title": "sum", "difficulty": 2} as asked.').value == want
    assert extract_json('{"title": "sum", "difficulty": 2,}').value == want  # trailing comma
    assert extract_json("{'title': 'sum', 'difficulty': 2}").value == want  # Python literal
    assert extract_json('noise {"a": "}{"} {"title": "sum", "difficulty": 2}', Task).value == Task(**want)
    assert extract_json("[1, 2, 3]").value == [1, 2, 3]


def test_drop_bad_json() -> None:
    parsed = extract_json("no json here at all")
    assert parsed.reason == "bad_json"
    assert extract_json("{title: sum}").reason == "bad_json"


def test_drop_schema_mismatch() -> None:
    parsed = extract_json('{"title": "sum", "difficulty": "hard"}', Task)
    assert parsed.reason == "schema_mismatch" and "difficulty" in parsed.detail


def test_sections() -> None:
    text = (
        "## Problem\nAdd two numbers.\n\n**Solution:**\n```python\ndef add(a, b):\n    return a + b\n```\n"
        "Tests:\nassert add(1, 2) == 3\n"
    )
    parsed = sections(text, ["problem", "solution", "tests"])
    assert parsed.ok and parsed.value is not None
    assert parsed.value["problem"] == "Add two numbers."
    assert extract_code(parsed.value["solution"]).value == "def add(a, b):\n    return a + b"
    assert parsed.value["tests"] == "assert add(1, 2) == 3"


def test_drop_missing_section() -> None:
    parsed = sections("## Problem\nAdd two numbers.\n", ["Problem", "Solution"])
    assert parsed.reason == "missing_section" and parsed.detail == "Solution"
    assert sections(_c("## Problem\nx", finish="length"), ["problem"]).reason == "truncated"


def test_call_failure_becomes_a_drop() -> None:
    parsed = from_response_failure("timeout", "gave up after 6 retries")
    assert parsed.reason == "call_failed" and "timeout" in parsed.detail


def test_every_declared_reason_is_reachable() -> None:
    reached = {
        extract_code("").reason,
        extract_code(_c("x", finish="length")).reason,
        extract_code("I cannot do that.").reason,
        extract_code("prose").reason,
        extract_json("prose").reason,
        extract_json('{"title": 1}', Task).reason,
        sections("x", ["a"]).reason,
        from_response_failure("http_400").reason,
    }
    assert reached == set(DROP_REASONS)
