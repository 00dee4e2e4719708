"""Infrastructure faults a scenario plays: NATS stopped or restarted, a link cut or slowed.

Every fault is healed in the scenario's cleanup, registered when the fault is made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from harness.faults import LinkProxy
from harness.faults.nats_server import restart_nats, start_nats, stop_nats

if TYPE_CHECKING:
    from harness.world import World


class Faults:
    def __init__(self, world: World) -> None:
        self._world = world
        self._proxy: LinkProxy | None = None

    def restart_nats(self) -> None:
        restart_nats(self._world, self._world.add_cleanup)

    def stop_nats(self) -> None:
        stop_nats(self._world, self._world.add_cleanup)

    def start_nats(self) -> None:
        """The stopped server starts again, on its port, with its store (stop_nats made it heal anyway)."""
        start_nats(self._world)

    def link_to_nats(self) -> str:
        """A link to NATS that can be cut or slowed; its URL is what a component connects to."""
        target = urlsplit(self._world.nats_url())
        self._proxy = LinkProxy(target.hostname, target.port).start()
        self._world.add_cleanup(self._proxy.close)
        return self._proxy.url()

    @property
    def link(self) -> LinkProxy:
        assert self._proxy is not None, "this scenario has no link that can be cut; add one in a Given"
        return self._proxy
