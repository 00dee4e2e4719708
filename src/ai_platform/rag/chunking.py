"""Split text into overlapping chunks of at most `size` characters.

Each chunk starts after the previous one and no later than where the previous one ended, so
chunking always ends and leaves no gap. Cuts prefer whitespace in the second half of a window,
so words stay whole where possible.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChunkingPolicy:
    size: int = 800
    overlap: int = 100

    def __post_init__(self) -> None:
        if self.size <= 0:
            raise ValueError(f"chunk size must be positive, got {self.size}")
        if not 0 <= self.overlap < self.size:
            raise ValueError(
                f"chunk overlap must be at least 0 and smaller than the size {self.size}, got {self.overlap}"
            )


def chunk_text(text: str, policy: ChunkingPolicy = ChunkingPolicy()) -> list[str]:
    text = text.strip()
    chunks: list[str] = []
    start = 0
    while start < len(text):
        end = min(start + policy.size, len(text))
        if end < len(text):
            cut = text.rfind(" ", start + policy.size // 2, end)
            if cut > start:
                end = cut
        piece = text[start:end].strip()
        if piece:
            chunks.append(piece)
        if end >= len(text):
            break
        # Step back by the overlap, but never to or before the previous start.
        start = max(end - policy.overlap, start + 1)
    return chunks
