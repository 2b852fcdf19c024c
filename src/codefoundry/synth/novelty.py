"""Self-Instruct's novelty filter: an instruction is kept only if its ROUGE-L F-measure against every
instruction kept so far is below a threshold (0.7 in the paper), found without comparing all pairs.

ROUGE-L here is exactly what Self-Instruct computes with ``rouge_score`` (no stemming): text lowercased,
split on anything but ``[a-z0-9]``, F = 2 * LCS / (len(a) + len(b)). An F of 0.7 needs an LCS of at least
0.35 * (len(a) + len(b)) tokens, and the LCS is part of the two texts' multiset intersection, so the token
multisets (each token numbered by its occurrence) of such a pair have a Jaccard similarity of at least
0.35 / 0.65 = 0.54. A MinHash LSH index (``datasketch``, 256 permutations, 64 bands of 4, chosen for a
threshold of 0.45 with misses weighed nine times a false candidate: a pair at Jaccard 0.54 is found with
probability 0.997) returns the kept instructions that can reach the threshold; only those get the exact
(bit-parallel) LCS. So each new instruction costs a hash and its candidates instead of one comparison per
kept instruction. ``bench/novelty.py`` measures both the decisions and the speed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_NON_ALPHANUM = re.compile(r"[^a-z0-9]+")


def rouge_tokens(text: str) -> list[str]:
    """``rouge_score``'s default tokenizer (no stemmer)."""
    return [t for t in _NON_ALPHANUM.sub(" ", text.lower()).split() if t]


def lcs_length(a: list[str], b: list[str]) -> int:
    """Length of the longest common subsequence, bit-parallel (Hyyro 2004): one bit per token of ``b``, a
    few integer operations per token of ``a`` instead of a row of the DP table."""
    if not a or not b:
        return 0
    masks: dict[str, int] = {}
    for i, token in enumerate(b):
        masks[token] = masks.get(token, 0) | (1 << i)
    full = (1 << len(b)) - 1
    v = full
    for token in a:
        u = v & masks.get(token, 0)
        v = ((v + u) | (v - u)) & full
    return len(b) - v.bit_count()


def rouge_l(a: list[str], b: list[str]) -> float:
    """ROUGE-L F-measure of two token lists (symmetric)."""
    if not a or not b:
        return 0.0
    return 2 * lcs_length(a, b) / (len(a) + len(b))


@dataclass
class Verdict:
    """What the filter decided for one instruction, and why."""

    kept: bool
    score: float = 0.0  # the highest ROUGE-L against a kept instruction (0 when nothing was close)
    nearest: str | None = None  # the key of that kept instruction


@dataclass
class NoveltyFilter:
    """Instructions kept so far, indexed for the ROUGE-L test; ``check`` decides and, if novel, keeps."""

    threshold: float = 0.7
    num_perm: int = 256
    lsh_threshold: float = 0.45
    miss_weight: float = 0.9  # how the LSH bands are tuned: missing a close pair vs returning a far one
    seed: int = 1
    _tokens: dict[str, list[str]] = field(default_factory=dict, init=False)
    _lsh: Any = field(default=None, init=False)

    def __post_init__(self) -> None:
        from datasketch import MinHashLSH

        # a missed pair keeps a near-duplicate, an extra candidate costs one exact LCS: weigh misses heavily
        weights = (1 - self.miss_weight, self.miss_weight)
        self._lsh = MinHashLSH(threshold=self.lsh_threshold, num_perm=self.num_perm, weights=weights)

    def __len__(self) -> int:
        return len(self._tokens)

    def _minhash(self, tokens: list[str]) -> Any:
        from datasketch import MinHash

        seen: dict[str, int] = {}
        shingles = []
        for token in tokens:  # numbered occurrences: the multiset, as a set
            seen[token] = seen.get(token, 0) + 1
            shingles.append(f"{token}\x00{seen[token]}".encode())
        minhash = MinHash(num_perm=self.num_perm, seed=self.seed)
        minhash.update_batch(shingles)
        return minhash

    def keep(self, key: str, text: str) -> None:
        """Keep ``text`` whatever its scores (a seed instruction: the pool starts from it)."""
        if key not in self._tokens:
            tokens = rouge_tokens(text)
            self._tokens[key] = tokens
            self._lsh.insert(key, self._minhash(tokens))

    def check(self, key: str, text: str, *, keep: bool = True) -> Verdict:
        """Is ``text`` novel against everything kept? If it is (and ``keep``), it is kept under ``key``."""
        if key in self._tokens:
            raise ValueError(f"novelty filter: key {key!r} was already kept")
        tokens = rouge_tokens(text)
        minhash = self._minhash(tokens)
        verdict = Verdict(kept=True)
        for other in self._lsh.query(minhash):
            score = rouge_l(tokens, self._tokens[other])
            if score > verdict.score:
                verdict.score, verdict.nearest = score, other
        verdict.kept = verdict.score < self.threshold
        if verdict.kept and keep:
            self._tokens[key] = tokens
            self._lsh.insert(key, minhash)
        return verdict


def exact_novelty(texts: list[str], threshold: float = 0.7) -> list[bool]:
    """The all-pairs reference (Self-Instruct's own loop): each text against every text kept before it."""
    kept: list[list[str]] = []
    decisions = []
    for text in texts:
        tokens = rouge_tokens(text)
        novel = all(rouge_l(tokens, other) < threshold for other in kept)
        if novel:
            kept.append(tokens)
        decisions.append(novel)
    return decisions
