"""Drive the gateway: completions and streams, as a platform component would."""

from __future__ import annotations

from ai_platform.gateway import Completion, Stream
from harness.drivers.exchange import model_exchange
from harness.world import World


def complete(world: World, prompt: str, **parameters) -> Completion:
    with model_exchange(world):
        return world.platform.gateway.complete([{"role": "user", "content": prompt}], **parameters)


def stream(world: World, prompt: str) -> tuple[list[str], Stream]:
    with model_exchange(world):
        streamed = world.platform.gateway.stream([{"role": "user", "content": prompt}])
        pieces = list(streamed)
    return pieces, streamed
