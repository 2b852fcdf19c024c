"""``filter.near_dedup``: one problem per cluster of duplicates, a dataset-scope stage.

Exact copies are only part of what repeats in a synthetic set: a teacher asked twice writes the same task in
slightly other words, a mined function exists in two modules with its variables renamed. Training on those
repeats weighs a few tasks more than the rest and leaks between train and test splits, so they go, but only
one per group, and the best one stays.

Each problem is compared under the configured views (``shingles.View``: the normalised prompt, the
reference's normalised code, its code with identifiers and literals canonicalised). Per view:

1. **exact**: problems whose normalised view is the same string are duplicates (similarity 1.0); only the
   first of them goes on to step 2, which saves hashing the copies;
2. **near**: a MinHash of the view's shingles (word n-grams of a prompt, code-token n-grams of code; fixed
   seed) goes into a ``datasketch.MinHashLSH`` index at ``threshold``, its bands tuned to weigh a miss 19
   times a false candidate (``miss_weight``: a pair at exactly 0.8 is a candidate with probability 0.95, at
   0.85 0.994, where the equal-weight default finds 0.40 and 0.69); each candidate pair the index returns
   is confirmed by the **exact** Jaccard similarity of the two shingle sets (sorted hash arrays, an
   intersection per candidate: cheap, and no estimate noise near the threshold), kept when >= ``threshold``.

Pairs from every view join clusters (union-find). Each cluster keeps its best member: the most tests, then
the highest ``mutation_score`` (None lowest), then one with a reference, then the earliest in input order.
Every other member is dropped ``exact_duplicate`` or ``near_duplicate`` with the kept problem's id, the view
and the similarity in the detail (the link to the kept problem, or the chain through the cluster when the
two are only linked through another member).
"""

from __future__ import annotations

from collections import deque
from enum import StrEnum
from typing import Any

import numpy as np
from pydantic import Field

from codefoundry.filter.shingles import View, jaccard, shingle_hashes, tokens, view_text
from codefoundry.pipeline.stage import Resources, Scope, Stage, StageConfig, StageResult
from codefoundry.records import Problem


class NearDedupDrop(StrEnum):
    EXACT_DUPLICATE = "exact_duplicate"
    NEAR_DUPLICATE = "near_duplicate"


class NearDedupConfig(StageConfig):
    """Which views are compared, and how similar two problems must be to count as one."""

    views: list[View] = Field(
        default_factory=lambda: list(View),
        min_length=1,
        description="views compared (a pair on any one counts)",
    )
    ngram: int = Field(5, gt=0, description="shingle size: words for the prompt, code tokens for code")
    num_perm: int = Field(128, gt=0, description="MinHash permutations")
    threshold: float = Field(
        0.8, gt=0.0, le=1.0, description="Jaccard similarity from which two are duplicates"
    )
    miss_weight: float = Field(
        0.95,
        gt=0.0,
        lt=1.0,
        description="how the LSH bands are tuned: a missed pair (a duplicate kept) against a false candidate "
        "(one exact Jaccard more); 0.95 gives 16 bands of 8 for 128 permutations at 0.8",
    )
    seed: int = Field(1, description="MinHash seed (fixed: the same input gives the same clusters)")

    def lsh(self) -> Any:
        """A new empty ``datasketch.MinHashLSH`` with this config's banding."""
        from datasketch import MinHashLSH

        weights = (1 - self.miss_weight, self.miss_weight)
        return MinHashLSH(threshold=self.threshold, num_perm=self.num_perm, weights=weights)


# one link between two problems: (similarity, view, exact)
Link = tuple[float, View, bool]


def _identity(value: int) -> int:
    return value


def find_links(problems: list[Problem], config: NearDedupConfig) -> dict[int, dict[int, Link]]:
    """Every confirmed duplicate pair, by input position: ``links[i][j]`` is the strongest link of i and j."""
    from datasketch import LeanMinHash, MinHash

    links: dict[int, dict[int, Link]] = {}

    def link(i: int, j: int, found: Link) -> None:
        for a, b in ((i, j), (j, i)):
            old = links.setdefault(a, {}).get(b)
            if old is None or found[0] > old[0]:
                links[a][b] = found

    for view in config.views:
        first: dict[str, int] = {}
        todo: list[tuple[int, str]] = []
        for i, problem in enumerate(problems):
            text = view_text(problem, view)
            if not text:
                continue
            j = first.setdefault(text, i)
            if j != i:
                link(j, i, (1.0, view, True))
            else:
                todo.append((i, text))
        lsh = config.lsh()
        cache: dict[str, int] = {}
        shingles: dict[int, np.ndarray] = {}
        for i, text in todo:
            hashes = shingle_hashes(tokens(text, view), config.ngram, cache)
            if not len(hashes):
                continue
            shingles[i] = hashes
            minhash = MinHash(num_perm=config.num_perm, seed=config.seed, hashfunc=_identity)
            minhash.update_batch(hashes.tolist())
            lean = LeanMinHash(minhash)
            for j in sorted(lsh.query(lean)):  # earlier problems only: each pair is checked once
                similarity = jaccard(shingles[j], hashes)
                if similarity >= config.threshold:
                    link(j, i, (similarity, view, False))
            lsh.insert(i, lean, check_duplication=False)
    return links


def clusters(count: int, links: dict[int, dict[int, Link]]) -> list[list[int]]:
    """Connected components of the links (union-find), each in input order; singletons left out."""
    parent = list(range(count))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, others in links.items():
        for j in others:
            a, b = root(i), root(j)
            if a != b:
                parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = {}
    for i in sorted(links):
        groups.setdefault(root(i), []).append(i)
    return [sorted(g) for g in groups.values() if len(g) > 1]


def rank(problem: Problem, position: int) -> tuple[int, float, int, int]:
    """Sort key of a cluster's members, best first: most tests, highest mutation score (None lowest), a
    reference present, earliest in input order."""
    score = problem.mutation_score if problem.mutation_score is not None else -1.0
    return (-len(problem.tests), -score, problem.reference is None, position)


class NearDedup(Stage[Problem, Problem]):
    """Keep the best problem of each cluster of exact or near duplicates; drop the others with the kept one."""

    kind = "filter.near_dedup"
    Config = NearDedupConfig
    input_type = Problem
    output_type = Problem
    scope = Scope.DATASET
    drop_reasons = NearDedupDrop
    config: NearDedupConfig

    @classmethod
    def resources(cls, config: StageConfig) -> Resources:
        return Resources(cpu_bound=True)

    async def process_all(self, records: list[Problem]) -> StageResult[Problem]:
        return await self.context.services.in_python(self.dedup, records)

    def dedup(self, records: list[Problem]) -> StageResult[Problem]:
        """The stage's work as a plain function (a worker thread runs it in a run)."""
        links = find_links(records, self.config)
        dropped: dict[int, tuple[NearDedupDrop, str]] = {}
        for group in clusters(len(records), links):
            kept = min(group, key=lambda i: rank(records[i], i))
            for member, chain in _paths(kept, links).items():
                exact = all(found[2] for _, found in chain)
                reason = NearDedupDrop.EXACT_DUPLICATE if exact else NearDedupDrop.NEAR_DUPLICATE
                steps = "".join(
                    f" -({view} {similarity:.3f})-> {records[j].id}" for j, (similarity, view, _) in chain
                )
                dropped[member] = (reason, f"duplicate of {records[kept].id}: this{steps}")
        result: StageResult[Problem] = StageResult()
        for i, problem in enumerate(records):
            if i in dropped:
                result.drops.append(self.drop(problem, *dropped[i]))
            else:
                result.records.append(problem)
        return result


def _paths(kept: int, links: dict[int, dict[int, Link]]) -> dict[int, list[tuple[int, Link]]]:
    """For each other member of ``kept``'s cluster, its shortest chain of links back to ``kept`` (breadth
    first, strongest link first): ``[(next member, link), ...]``, its own link first."""
    reached: dict[int, list[tuple[int, Link]]] = {kept: []}
    queue = deque([kept])
    while queue:
        at = queue.popleft()
        for other, found in sorted(links[at].items(), key=lambda item: (-item[1][0], item[0])):
            if other not in reached:
                reached[other] = [(at, found), *reached[at]]
                queue.append(other)
    del reached[kept]
    return reached
