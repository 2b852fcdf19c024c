"""The novelty filter (MinHash LSH prefilter + exact ROUGE-L) against Self-Instruct's all-pairs ROUGE-L.

Instructions: 20,000 by default, "Write a function to ..." plus the first sentence of a docstring of the
standard library's and then the installed packages' functions and classes (real, varied text with natural
near-duplicates: the same helper documented in several modules), and when those run out, light rewordings of
them (a word swapped or dropped). The all-pairs reference is ``rouge_score`` itself, as
Self-Instruct calls it, on a sample (the first ``--sample`` instructions: it is quadratic), and our exact
all-pairs loop on the same sample; the filter runs on the sample (decisions compared) and on all of them.
Prints decisions agreeing, seconds, and the speed ratios; the full all-pairs time is extrapolated from the
sample (quadratic in the instructions kept). Usage: ``python bench/novelty.py [--n 20000] [--sample 1500]``.
"""

from __future__ import annotations

import argparse
import ast
import json
import random
import sys
import sysconfig
import time
from pathlib import Path

from codefoundry.synth.novelty import NoveltyFilter, exact_novelty


def docstring_instructions(limit: int) -> list[str]:
    """First sentences of docstrings of the standard library, then of the installed packages, as
    instructions (in a fixed order)."""
    paths = sysconfig.get_paths()
    files = [p for p in sorted(Path(paths["stdlib"]).rglob("*.py")) if "site-packages" not in p.parts]
    files += sorted(Path(paths["purelib"]).rglob("*.py"))
    seen: set[str] = set()
    out: list[str] = []
    for path in files:
        if "test" in path.parts or "tests" in path.parts:
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                doc = ast.get_docstring(node)
                if not doc:
                    continue
                sentence = " ".join(doc.strip().split("\n\n")[0].split()).split(". ")[0].rstrip(".")
                if len(sentence.split()) < 4 or sentence in seen:
                    continue
                seen.add(sentence)
                out.append(f"Write a function to {sentence[0].lower()}{sentence[1:]}.")
                if len(out) >= limit:
                    return out
    return out


def reword(text: str, rng: random.Random) -> str:
    words = text.split()
    i = rng.randrange(len(words))
    if rng.random() < 0.5 and len(words) > 6:
        del words[i]
    else:
        j = min(i + 1, len(words) - 1)
        words[i], words[j] = words[j], words[i]
    return " ".join(words)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--sample", type=int, default=1_500)
    ap.add_argument("--threshold", type=float, default=0.7)
    ap.add_argument("--lsh-threshold", type=float, default=NoveltyFilter.lsh_threshold)
    ap.add_argument("--num-perm", type=int, default=NoveltyFilter.num_perm)
    ap.add_argument("--miss-weight", type=float, default=NoveltyFilter.miss_weight)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    rng = random.Random(0)
    texts = docstring_instructions(args.n)
    real = len(texts)
    while len(texts) < args.n:
        texts.append(reword(texts[rng.randrange(real)], rng))
    rng.shuffle(texts)
    sample = texts[: args.sample]

    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    started = time.perf_counter()
    kept: list[str] = []
    reference = []
    for text in sample:  # Self-Instruct's loop: every kept instruction scored against the new one
        novel = all(scorer.score(other, text)["rougeL"].fmeasure < args.threshold for other in kept)
        if novel:
            kept.append(text)
        reference.append(novel)
    rouge_score_s = time.perf_counter() - started

    started = time.perf_counter()
    exact = exact_novelty(sample, args.threshold)
    exact_s = time.perf_counter() - started

    def run_filter(items: list[str]) -> tuple[list[bool], float]:
        started = time.perf_counter()
        novelty = NoveltyFilter(
            threshold=args.threshold,
            num_perm=args.num_perm,
            lsh_threshold=args.lsh_threshold,
            miss_weight=args.miss_weight,
        )
        decisions = [novelty.check(str(i), t).kept for i, t in enumerate(items)]
        return decisions, time.perf_counter() - started

    fast_sample, fast_sample_s = run_filter(sample)
    fast_all, fast_all_s = run_filter(texts)

    agree = sum(a == b for a, b in zip(reference, fast_sample, strict=True))
    # all-pairs work grows with (instructions x instructions kept): extrapolate the sample's time by it
    scale = (len(texts) * sum(fast_all)) / (len(sample) * max(1, sum(reference)))
    fig = {
        "instructions": len(texts),
        "from_docstrings": real,
        "sample": len(sample),
        "sample_agree": agree,
        "exact_loop_agrees_with_rouge_score": exact == reference,
        "sample_kept": sum(reference),
        "all_kept": sum(fast_all),
        "rouge_score_sample_s": round(rouge_score_s, 2),
        "exact_loop_sample_s": round(exact_s, 2),
        "filter_sample_s": round(fast_sample_s, 3),
        "filter_all_s": round(fast_all_s, 2),
        "ratio_on_sample_vs_rouge_score": round(rouge_score_s / fast_sample_s, 1),
        "rouge_score_all_s_extrapolated": round(rouge_score_s * scale, 0),
        "ratio_on_all_vs_rouge_score_extrapolated": round(rouge_score_s * scale / fast_all_s, 1),
    }
    print(f"instructions: {len(texts)} ({real} from docstrings, the rest reworded copies)")
    print(
        f"sample of {len(sample)}: decisions agree {agree}/{len(sample)} with rouge_score's all-pairs loop "
        f"(kept {sum(reference)}); our exact loop agrees: {exact == reference}"
    )
    print(
        f"  rouge_score all pairs {rouge_score_s:.2f} s, our exact loop {exact_s:.2f} s, filter {fast_sample_s:.3f} s: "
        f"{fig['ratio_on_sample_vs_rouge_score']}x (goal >= 20x)"
    )
    print(
        f"all {len(texts)}: filter {fast_all_s:.2f} s, kept {sum(fast_all)}; rouge_score all pairs extrapolated "
        f"{fig['rouge_score_all_s_extrapolated']:.0f} s: {fig['ratio_on_all_vs_rouge_score_extrapolated']}x"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(fig, indent=2))
    return 0 if agree == len(sample) else 1


if __name__ == "__main__":
    sys.exit(main())
