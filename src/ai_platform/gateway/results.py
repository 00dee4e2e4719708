"""What a model call gives back. Kept apart from the gateway, so code that only reads results
(RAG, agents, the HTTP services other than the gateway) never imports LiteLLM."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Usage:
    input_tokens: int
    output_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True)
class Completion:
    text: str
    model: str  # the provider model that actually answered
    usage: Usage
    finish_reason: str = "stop"  # "length" when the answer was cut at max_tokens


@dataclass(frozen=True)
class Embeddings:
    vectors: list[list[float]]
    model: str
    usage: Usage
