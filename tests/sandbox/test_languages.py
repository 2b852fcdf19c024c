"""Each language end to end (skipped with a reason when its toolchain is missing here)."""

from __future__ import annotations

import pathlib
import time

import pytest

from codefoundry.sandbox import ExecRequest, Limits, TestInput
from codefoundry.sandbox.languages import get_language

ADD = {
    "python": "a, b = map(int, input().split())\nprint(a + b)\n",
    "javascript": "const v = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/).map(Number);\nconsole.log(v[0] + v[1]);\n",
    "cpp": "#include <iostream>\nint main() { long a, b; std::cin >> a >> b; std::cout << a + b << std::endl; }\n",
    "rust": (
        "use std::io::Read;\nfn main() { let mut s = String::new(); std::io::stdin().read_to_string(&mut s).unwrap();\n"
        ' let v: Vec<i64> = s.split_whitespace().map(|x| x.parse().unwrap()).collect(); println!("{}", v[0] + v[1]); }\n'
    ),
    "go": 'package main\nimport "fmt"\nfunc main() { var a, b int; fmt.Scan(&a, &b); fmt.Println(a + b) }\n',
    "java": (
        "import java.util.*;\npublic class Main { public static void main(String[] x) {\n"
        " Scanner s = new Scanner(System.in); System.out.println(s.nextLong() + s.nextLong()); } }\n"
    ),
}
LIMITS = Limits(time_s=20, per_test_time_s=10, cpu_s=20)


def need(lang: str) -> None:
    ok, why = get_language(lang).available()
    if not ok:
        pytest.skip(f"{lang}: {why}")


def stdio(lang: str, code: str, tests: list[tuple[str, str]], limits: Limits = LIMITS) -> ExecRequest:
    return ExecRequest(
        language=lang,
        style="stdio",
        code=code,
        tests=[TestInput(stdin=i, expected=o) for i, o in tests],
        limits=limits,
    )


@pytest.mark.parametrize("lang", list(ADD))
def test_stdio_add(sandbox, lang):
    need(lang)
    res = sandbox.run(stdio(lang, ADD[lang], [("1 2\n", "3\n"), ("40 2\n", "42\n"), ("1 1\n", "3\n")]))
    assert [v.status for v in res.verdicts] == ["pass", "pass", "wrong_answer"], (
        res.compile_output,
        res.verdicts,
    )


@pytest.mark.parametrize("lang", ["cpp", "rust", "go"])
def test_compiled_once_then_cached(sandbox, lang):
    need(lang)
    code = ADD[lang] + f"\n// build {time.time_ns()}\n"
    artefacts = pathlib.Path(sandbox._build_cache)
    before = set(artefacts.iterdir())
    first = sandbox.run(stdio(lang, code, [("1 2\n", "3\n")]))
    built = set(artefacts.iterdir()) - before
    second = sandbox.run(stdio(lang, code, [("2 2\n", "4\n")]))
    assert first.passed and second.passed
    assert len(built) == 1 and (next(iter(built)) / ".ok").exists()
    assert set(artefacts.iterdir()) - before == built  # the second run built nothing


def test_compile_error_is_reported(sandbox):
    need("cpp")
    res = sandbox.run(stdio("cpp", "int main() { return undefined_name; }\n", [("", "")]))
    assert res.status == "compile_error" and "undefined_name" in res.compile_output


def test_compiler_bomb_is_contained(sandbox):
    need("cpp")
    t0 = time.perf_counter()
    res = sandbox.run(stdio("cpp", '#include "/dev/zero"\nint main() {}\n', [("", "")]))
    assert res.status == "compile_error"
    assert time.perf_counter() - t0 < 90


def test_cpp_runtime_limits(sandbox):
    need("cpp")
    loop = "int main() { volatile long x = 0; for (;;) x++; }\n"
    res = sandbox.run(stdio("cpp", loop, [("", "")], Limits(time_s=3, per_test_time_s=1, cpu_s=2)))
    assert res.verdicts[0].status == "timeout"
    hog = "#include <vector>\n#include <cstdio>\nint main() { std::vector<char*> v; for (;;) { char* p = new char[1 << 24]; for (int i = 0; i < (1 << 24); i += 4096) p[i] = 1; v.push_back(p); } }\n"
    res = sandbox.run(stdio("cpp", hog, [("", "")], Limits(memory_mb=128)))
    assert res.verdicts[0].status == "memory_limit", res.verdicts[0]
    crash = "int main() { int* p = nullptr; return *p; }\n"
    res = sandbox.run(stdio("cpp", crash, [("", "")]))
    assert res.verdicts[0].status == "runtime_error" and "SIGSEGV" in res.verdicts[0].error


def test_javascript_function_style(sandbox):
    need("javascript")
    code = "function add(a, b) { if (a < 0) throw new RangeError('neg'); return a + b; }\nfunction odd() {}\n"
    tests = [
        TestInput(args=[1, 2], expected=3),
        TestInput(args=[0.5, 2], expected=2.5),
        TestInput(args=[-1, 1], expected=0),
    ]
    res = sandbox.run(ExecRequest(language="javascript", code=code, entry_point="add", tests=tests))
    assert [v.status for v in res.verdicts] == ["pass", "pass", "runtime_error"]
    assert res.verdicts[2].error == "RangeError: neg"
    res = sandbox.run(
        ExecRequest(
            language="javascript",
            code="function f() { return new Map(); }",
            entry_point="f",
            tests=[TestInput(args=[], expected={})],
        )
    )
    assert res.verdicts[0].status == "runtime_error" and "unserialisable" in res.verdicts[0].error


def test_javascript_is_isolated_too(sandbox):
    need("javascript")
    code = "const net = require('net'); const s = net.connect(80, '127.0.0.1'); s.on('error', e => { console.log('blocked ' + e.code); }); s.on('connect', () => console.log('connected'));\n"
    res = sandbox.run(stdio("javascript", code, [("", "x")]))
    assert "connected" not in (res.verdicts[0].output or "")


def test_unknown_language_and_unsupported_style(sandbox):
    res = sandbox.run(ExecRequest(language="cobol", code="", tests=[TestInput(args=[])]))
    assert res.status == "compile_error" and "unknown language" in res.verdicts[0].error
    res = sandbox.run(ExecRequest(language="cpp", code="", entry_point="f", tests=[TestInput(args=[])]))
    assert res.status == "compile_error" and "style" in res.verdicts[0].error
