from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Deployment:
    """One model name the platform offers, served by a provider model at an OpenAI-compatible URL."""

    name: str
    provider_model: str  # e.g. "openai/gpt-4o-mini"
    api_base: str | None = None
    api_key: str | None = None

    def __repr__(self) -> str:  # never print the key
        return f"Deployment(name={self.name!r}, provider_model={self.provider_model!r}, api_base={self.api_base!r})"


@dataclass(frozen=True)
class Price:
    """What the operator pays a provider, in USD per million tokens."""

    input_per_million: float
    output_per_million: float = 0.0

    def of(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input_per_million + output_tokens * self.output_per_million) / 1_000_000


@dataclass(frozen=True)
class GatewaySettings:
    deployments: tuple[Deployment, ...]
    chat_model: str = "chat"
    embedding_model: str = "embedding"
    fallbacks: dict[str, list[str]] = field(default_factory=dict)
    timeout_s: float = 60.0  # the platform's documented gateway timeout
    num_retries: int = 0
    prices: dict[str, Price] = field(default_factory=dict)  # by model name; a model without one is not costed
