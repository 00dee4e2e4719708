"""Deterministic text embeddings: the same text always gives the same vector, and texts that
share words get similar vectors, so retrieval results are reproducible without a real model.

Each content word (lower-cased, light stemming, stop words dropped) is hashed onto a few signed
dimensions; the sum is L2-normalised. Cosine similarity then tracks word overlap.
"""

from __future__ import annotations

import hashlib
import math
import re

STOP_WORDS = frozenset(
    "a an and are as at be by can do does for from has have how i if in is it its me my of on or "
    "our so that the their them there these this to was we were what when where which who why "
    "will with you your about into than then also any all".split()
)
_WORD = re.compile(r"[a-z0-9]+")
_HASHES_PER_WORD = 4


def content_words(text: str) -> list[str]:
    return [_stem(w) for w in _WORD.findall(text.lower()) if w not in STOP_WORDS]


def embed(text: str, dimensions: int) -> list[float]:
    vector = [0.0] * dimensions
    for word in content_words(text):
        digest = hashlib.blake2b(word.encode(), digest_size=2 * _HASHES_PER_WORD * 4).digest()
        for i in range(_HASHES_PER_WORD):
            chunk = int.from_bytes(digest[i * 8 : i * 8 + 8], "big")
            index, sign = chunk % dimensions, 1.0 if (chunk >> 40) & 1 else -1.0
            vector[index] += sign
    norm = math.sqrt(sum(v * v for v in vector))
    if norm == 0.0:
        # Text with no content words still needs a valid, non-zero vector.
        vector[0], norm = 1.0, 1.0
    return [v / norm for v in vector]


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word
