"""Drive the gateway as a platform component would: completions and streams."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ai_platform.gateway import Completion, Stream
from harness.drivers.exchange import model_exchange

if TYPE_CHECKING:
    from harness.world import World


class GatewayDriver:
    def __init__(self, world: World) -> None:
        self._world = world
        world.platform  # noqa: B018 - built here, so a timed request measures the request, not the start

    def complete(self, prompt: str, **parameters) -> Completion:
        gateway = self._world.platform.gateway
        with model_exchange(self._world):
            return gateway.complete([{"role": "user", "content": prompt}], **parameters)

    def stream(self, prompt: str) -> Stream:
        """The stream, read to its end: its pieces and its completion are complete."""
        gateway = self._world.platform.gateway
        with model_exchange(self._world):
            streamed = gateway.stream([{"role": "user", "content": prompt}])
            for _ in streamed:
                pass
        return streamed
