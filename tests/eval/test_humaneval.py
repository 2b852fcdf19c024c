"""HumanEval check() conversion: plain literal asserts become judged-outside tests."""

from __future__ import annotations

from codefoundry.eval.humaneval import convert_check, judge_result, load_problems


def test_conversion_covers_most_problems():
    probs = load_problems()
    assert len(probs) == 164
    converted = [p for p in probs.values() if p.cases is not None]
    assert len(converted) >= 140
    assert probs["HumanEval/32"].cases is None and probs["HumanEval/32"].why_in_child


def test_convert_kinds():
    cases, why = convert_check(
        "def check(candidate):\n"
        "    assert candidate(1, (2, 3)) == [4]\n"
        "    assert abs(candidate(2.0) - 1.5) < 1e-6\n"
        "    assert candidate('x')\n"
        "    assert not candidate('')\n"
        "    assert True\n"
    )
    assert why == "" and [c.kind for c in cases] == ["eq", "approx", "truthy", "falsy"]
    assert cases[0].args == [1, (2, 3)] and cases[1].tol == 1e-6
    cases, why = convert_check("def check(candidate):\n    assert candidate(x) == 1\n")
    assert cases is None and "literal" in why


def test_wrong_and_forged_completions_fail(sandbox):
    probs = load_problems()
    p = probs["HumanEval/2"]  # truncate_number: abs(candidate(x) - v) < 1e-6
    forged = "    class A(float):\n        def __sub__(self, o): return 0.0\n    return A(0)\n"
    for completion, want in (
        (p.extra["canonical_solution"], True),
        ("    return 0.0\n", False),
        (forged, False),
    ):
        from codefoundry.eval.humaneval import build_request

        res = sandbox.run(build_request(p, completion))
        assert judge_result(p, res)[0] is want, completion
