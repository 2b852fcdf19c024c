"""``filter.near_dedup`` against datatrove's MinHash dedup, on the same records in the same run.

Records: code tasks made from real functions (``ast``; the standard library's, then the installed
packages'): the instruction is "Write a function NAME(ARGS) that ..." with the docstring's first paragraph,
the solution is the function's source; each distinct by instruction and by normalised code. When the
functions run out (or ``--base`` caps them), further records join three functions of similar size into one
task ("... Then write another function ..."), far from each part.
About ``--planted`` of the records are then planted near-duplicates of a clean record, with known ground
truth: identifiers renamed, a few words changed, sentences reordered, whitespace changed (one or two of
those each). Everything is shuffled with a fixed seed.

Both methods see the same records: codefoundry's stage with the ``instruction`` and ``solution`` views (and,
separately, all three views), datatrove's ``MinhashDedupSignature -> MinhashDedupBuckets ->
MinhashDedupCluster -> MinhashDedupFilter`` on the text instruction + solution, with a ``MinhashConfig`` of
the same shingle size and the same banding as codefoundry's LSH (bands x rows = num_perm), a whitespace word
tokenizer (datatrove's English one needs spaCy; its own text simplification still runs), local folders in a
temporary directory, one task for the signatures, one per bucket for the buckets on 2 workers. Timed: from
the records in memory to the survivors (codefoundry: the stage's work; datatrove: its four steps, disk
included). Printed: records/s of each, the ratio codefoundry/datatrove, recall on the planted
near-duplicates (a copy counts as caught when it and its original do not both survive) and the false-positive
rate on the clean records (a record with no planted copy that is dropped; the standard library has a few
natural near-duplicates, which count here).

Usage: ``python bench/dedup.py [--records 100000] [--base N] [--planted 0.1] [--json FILE]``; needs
datatrove (``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import argparse
import ast
import json
import random
import sys
import sysconfig
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from codefoundry.filter.near_dedup import NearDedup, NearDedupConfig
from codefoundry.filter.shingles import View, normalise_code, normalise_text
from codefoundry.records import Problem, Provenance, Solution, Task
from codefoundry.testing.stages import stage_context

FILLER = [
    "value",
    "result",
    "item",
    "count",
    "total",
    "index",
    "number",
    "list",
    "string",
    "entry",
    "data",
    "element",
    "key",
    "field",
]


def stdlib_functions(limit: int) -> list[tuple[str, str]]:
    """(instruction, solution) of documented functions of the standard library, then of the installed
    packages (as ``bench/novelty.py`` gathers docstrings), in a fixed order, distinct by both."""
    paths = sysconfig.get_paths()
    files = [p for p in sorted(Path(paths["stdlib"]).rglob("*.py")) if "site-packages" not in p.parts]
    files += sorted(Path(paths["purelib"]).rglob("*.py"))
    seen_text: set[str] = set()
    seen_code: set[str] = set()
    out: list[tuple[str, str]] = []
    for path in files:
        if {"test", "tests", "idlelib"} & set(path.parts):
            continue
        try:
            source = path.read_text(encoding="utf-8")
            tree = ast.parse(source)
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef) or len(node.body) < 3:
                continue
            doc = ast.get_docstring(node)
            segment = ast.get_source_segment(source, node)
            if not doc or not segment or len(doc.split()) < 6:
                continue
            paragraph = " ".join(doc.strip().split("\n\n")[0].split())
            args = ", ".join(a.arg for a in node.args.args if a.arg not in ("self", "cls"))
            text = f"Write a function {node.name}({args}) that does the following. {paragraph}"
            code = textwrap.dedent(segment)
            key_text, key_code = normalise_text(text), normalise_code(code)
            if key_text in seen_text or key_code in seen_code:
                continue
            seen_text.add(key_text)
            seen_code.add(key_code)
            out.append((text, code))
            if len(out) >= limit:
                return out
    return out


def composites(base: list[tuple[str, str]], count: int, rng: random.Random) -> list[tuple[str, str]]:
    """``count`` records joining three base functions of similar size (no part more than twice another's,
    in text and in code; two composites share at most one part), so a composite is far from each part and
    from another composite (Jaccard about 1/2 at most, 1/3 and 1/5 for parts of equal size)."""
    if count <= 0:
        return []
    by_size = sorted(range(len(base)), key=lambda i: (len(base[i][0].split()), len(base[i][1])))
    out: list[tuple[str, str]] = []
    used: set[tuple[int, int]] = set()  # two composites share at most one part
    for _ in range(64):
        order = list(by_size)
        for start in range(0, len(order), 24):  # shuffle within windows of similar text length
            window = order[start : start + 24]
            rng.shuffle(window)
            order[start : start + 24] = window
        for k in range(0, len(order) - 2, 3):
            triple = sorted(order[k : k + 3])
            pairs = {(triple[0], triple[1]), (triple[0], triple[2]), (triple[1], triple[2])}
            if pairs & used:
                continue
            parts = [base[i] for i in triple]
            words, chars = [len(t.split()) for t, _ in parts], [len(c) for _, c in parts]
            if max(words) > 2 * min(words) or max(chars) > 2 * min(chars):
                continue
            used |= pairs
            text = " Then write another function. ".join(t for t, _ in parts)
            out.append((text, "\n\n".join(c for _, c in parts)))
            if len(out) >= count:
                return out
    return out


class _Rename(ast.NodeTransformer):
    """Renames every argument and assigned local name of a function (not builtins, not attributes)."""

    def __init__(self, names: set[str], rng: random.Random) -> None:
        self.map = {n: f"{rng.choice(FILLER)}_{n[:3]}{rng.randrange(100)}" for n in sorted(names)}

    def visit_Name(self, node: ast.Name) -> ast.AST:
        node.id = self.map.get(node.id, node.id)
        return node

    def visit_arg(self, node: ast.arg) -> ast.AST:
        node.arg = self.map.get(node.arg, node.arg)
        return node


def rename(code: str, rng: random.Random) -> str:
    tree = ast.parse(code)
    names = {a.arg for a in ast.walk(tree) if isinstance(a, ast.arg) and a.arg not in ("self", "cls")}
    names |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return ast.unparse(_Rename(names, rng).visit(tree))


def change_words(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    for _ in range(max(1, len(words) // 40)):  # about one word in forty
        words[rng.randrange(len(words))] = rng.choice(FILLER)
    return " ".join(words)


def reorder(text: str, rng: random.Random) -> str:
    sentences = text.split(". ")
    if len(sentences) < 3:
        return change_words(text, rng)
    i = rng.randrange(1, len(sentences) - 1)
    sentences[i], sentences[i + 1] = sentences[i + 1], sentences[i]
    return ". ".join(sentences)


def whitespace(text: str, code: str, rng: random.Random) -> tuple[str, str]:
    text = text.replace(". ", ".\n\n", 1).replace(" ", "  ", 3)
    lines = [line.replace("    ", "  ") for line in code.splitlines()]
    lines.insert(rng.randrange(1, len(lines)), "")
    return text, "\n".join(lines) + "\n"


def plant(text: str, code: str, rng: random.Random) -> tuple[str, str]:
    """One near-duplicate of (text, code): one or two of the four changes."""
    for op in rng.sample(["rename", "words", "reorder", "whitespace"], rng.choice((1, 2))):
        if op == "rename":
            code = rename(code, rng)
        elif op == "words":
            text = change_words(text, rng)
        elif op == "reorder":
            text = reorder(text, rng)
        else:
            text, code = whitespace(text, code, rng)
    return text, code


def build(n: int, base_cap: int | None, planted: float, seed: int) -> tuple[list[tuple[str, str]], list[int]]:
    """The records and each one's group (its clean original's index; a clean record is its own group)."""
    rng = random.Random(seed)
    copies = int(n * planted)
    clean = stdlib_functions(min(n - copies, base_cap or n))
    clean += composites(clean, n - copies - len(clean), rng)  # fewer when the functions cannot make more
    records = [(t, c, i) for i, (t, c) in enumerate(clean)]
    while len(records) < len(clean) + copies:
        i = rng.randrange(len(clean))
        records.append((*plant(*clean[i], rng), i))
    rng.shuffle(records)
    return [(t, c) for t, c, _ in records], [g for _, _, g in records]


def score(groups: list[int], kept: set[int]) -> tuple[float, float, int, int]:
    """Recall on planted copies and false-positive rate on clean records (see the module's docstring)."""
    members: dict[int, list[int]] = {}
    for i, g in enumerate(groups):
        members.setdefault(g, []).append(i)
    caught = planted = dropped_clean = clean = 0
    for group in members.values():
        if len(group) == 1:
            clean += 1
            dropped_clean += group[0] not in kept
            continue
        survivors = sum(i in kept for i in group)
        planted += len(group) - 1
        caught += len(group) - max(survivors, 1)
    return caught / max(planted, 1), dropped_clean / max(clean, 1), planted, clean


def run_codefoundry(problems: list[Problem], views: list[View], work: Path) -> tuple[set[int], float]:
    stage = NearDedup(NearDedupConfig(views=views), stage_context(work, name="bench"))
    started = time.perf_counter()
    result = stage.dedup(problems)
    seconds = time.perf_counter() - started
    position = {p.id: i for i, p in enumerate(problems)}
    return {position[p.id] for p in result.records}, seconds


def run_datatrove(texts: list[str], bands: int, rows: int, ngram: int, work: Path) -> tuple[set[int], float]:
    from datatrove.data import Document
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.utils.word_tokenizers import WordTokenizer

    class Whitespace(WordTokenizer):
        def word_tokenize(self, text: str) -> list[str]:
            return text.split()

        def sent_tokenize(self, text: str) -> list[str]:
            return [text]

        def span_tokenize(self, text: str) -> list[tuple[int, int]]:
            return [(0, len(text))]

    config = MinhashConfig(n_grams=ngram, num_buckets=bands, hashes_per_bucket=rows, seed=1)
    kept: list[int] = []

    def collect(data: Any, rank: int = 0, world_size: int = 1) -> Any:
        for doc in data:
            kept.append(int(doc.id))
            yield doc

    def run(name: str, pipeline: list[Any], tasks: int, workers: int) -> None:
        LocalPipelineExecutor(
            pipeline=pipeline, tasks=tasks, workers=workers, logging_dir=str(work / "logs" / name)
        ).run()

    started = time.perf_counter()
    docs = [Document(text=t, id=str(i)) for i, t in enumerate(texts)]
    signature = MinhashDedupSignature(str(work / "sigs"), config, language=Whitespace("en"))
    if _xxhash_refuses_str():  # xxhash 4 hashes bytes only; datatrove 0.10 hands it str (it pins xxhash<4)
        import xxhash

        signature._hash_func = lambda text: xxhash.xxh64_intdigest(text.encode())
    run("sigs", [docs, signature], 1, 1)
    run("buckets", [MinhashDedupBuckets(str(work / "sigs"), str(work / "buckets"), config=config)], bands, 2)
    run("cluster", [MinhashDedupCluster(str(work / "buckets"), str(work / "remove"), config=config)], 1, 1)
    run("filter", [docs, MinhashDedupFilter(str(work / "remove")), collect], 1, 1)
    return set(kept), time.perf_counter() - started


def _xxhash_refuses_str() -> bool:
    import xxhash

    try:
        xxhash.xxh64_intdigest("a")
    except TypeError:
        return True
    return False


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--base", type=int, default=None, help="at most this many standard-library functions")
    ap.add_argument("--planted", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    try:
        import datatrove  # noqa: F401
    except ImportError:
        print("datatrove is not installed: pip install -e '.[bench]'", file=sys.stderr)
        return 2
    from loguru import logger

    logger.remove()  # datatrove's per-task logs still go to the logging folders
    texts, groups = build(args.records, args.base, args.planted, args.seed)
    problems = []
    for i, (text, code) in enumerate(texts):
        task = Task(prompt=text, entry_point=f"f{i}", provenance=Provenance(source="bench", qualname=str(i)))
        problems.append(Problem(task=task, reference=Solution(task_id=task.id, code=code)))
    config = NearDedupConfig()
    lsh = config.lsh()
    fig: dict[str, Any] = {"records": len(texts), "bands": lsh.b, "rows": lsh.r, "ngram": config.ngram}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        runs = {
            "codefoundry": run_codefoundry(problems, [View.INSTRUCTION, View.SOLUTION], work / "cf"),
            "codefoundry_3_views": run_codefoundry(problems, list(View), work / "cf3"),
            "datatrove": run_datatrove(
                [f"{t}\n\n{c}" for t, c in texts], lsh.b, lsh.r, config.ngram, work / "dt"
            ),
        }
    recall, fpr, planted, clean = score(groups, set(range(len(texts))))
    print(
        f"records: {len(texts)} ({clean} clean, {planted} planted near-duplicates); "
        f"shingles of {config.ngram}, {lsh.b} bands x {lsh.r} rows, threshold {config.threshold}"
    )
    for name, (kept, seconds) in runs.items():
        recall, fpr, _, _ = score(groups, kept)
        rate = len(texts) / seconds
        fig[name] = {
            "seconds": round(seconds, 2),
            "records_per_s": round(rate),
            "kept": len(kept),
            "recall": round(recall, 4),
            "false_positive_rate": round(fpr, 4),
        }
        print(
            f"  {name:20s} {seconds:7.2f} s  {rate:9.0f} records/s  kept {len(kept):6d}  "
            f"recall {recall:.3f}  false positives {fpr:.4f}"
        )
    ratio = fig["codefoundry"]["records_per_s"] / fig["datatrove"]["records_per_s"]
    fig["throughput_ratio_codefoundry_over_datatrove"] = round(ratio, 2)
    print(f"throughput codefoundry (instruction + solution) / datatrove: {ratio:.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps(fig, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
