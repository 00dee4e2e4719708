"""Stop and restart the embedded NATS server (same port, same JetStream store), healed in cleanup."""

from __future__ import annotations

from collections.abc import Callable

from harness.session import SuiteSession


def _controlled_nats(session: SuiteSession):
    if not session.infra.can_control_nats:
        raise RuntimeError(f"NATS can be stopped only in embedded mode, not {session.infra.mode}")
    session.infra.nats_url()  # started once, so its address is known and kept across restarts
    return session.infra.nats


def restart_nats(session: SuiteSession, add_cleanup: Callable) -> None:
    nats = _controlled_nats(session)
    add_cleanup(nats.start)  # whatever the scenario does next, the server is up for the next one
    nats.restart()


def stop_nats(session: SuiteSession, add_cleanup: Callable) -> None:
    nats = _controlled_nats(session)
    add_cleanup(nats.start)
    nats.stop()
