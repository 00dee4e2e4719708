"""Stop and restart the scenario's NATS server (same port, same JetStream store), healed in cleanup."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.world import World


def _controlled_nats(world: World):
    """The embedded server the scenario's components use: its own (@own-workers), or the run's."""
    infra = world.session.infra
    if not world.own_workers and not infra.can_control_nats:
        raise RuntimeError(f"NATS can be stopped only in embedded mode, not {infra.mode}")
    world.nats_url()  # started once, so its address is known and kept across restarts
    return infra.isolated_nats if world.own_workers else infra.nats


def restart_nats(world: World, add_cleanup: Callable) -> None:
    nats = _controlled_nats(world)
    add_cleanup(nats.start)  # whatever the scenario does next, the server is up for the next one
    nats.restart()


def stop_nats(world: World, add_cleanup: Callable) -> None:
    nats = _controlled_nats(world)
    add_cleanup(nats.start)
    nats.stop()


def start_nats(world: World) -> None:
    _controlled_nats(world).start()
