"""The NATS workers a service runs for every tenant, beside its HTTP routes.

A service starts them in its lifespan when `NATS_URL` is set and `NATS_WORKERS` is not "off". NATS
may be down when the service starts: the workers keep trying in the background and `/ready` names
NATS until they listen. Each also answers the bus's authorization requests (messaging.authorization) when
given the issuer seed, so tenants' clients get onto the bus while any service runs. The gateway service
answers completion requests, the RAG service answers questions and ingests the JetStream stream, the agent
service runs tasks.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Callable, Mapping

import nats.errors

from ai_contract.settings import NATS_AUTH_ISSUER_SEED
from ai_platform.messaging import Bus, ConnectionSettings, MessagingError, PlatformClient
from ai_platform.messaging.authorization import BusAuthority
from ai_platform.services.http import Caller, ServiceError
from ai_platform.services.identity import keys_from_env

log = logging.getLogger("ai_platform.services")
RETRY_S = 0.5
FIRST_ATTEMPT_S = 3.0  # how long a starting service waits for its workers before it serves HTTP anyway
# Never give up reconnecting: a service outlives any NATS restart.
RECONNECT_FOREVER = -1


def workers_wanted(environ: Mapping[str, str] = os.environ) -> bool:
    return bool(environ.get("NATS_URL")) and environ.get("NATS_WORKERS", "on").strip().lower() != "off"


def instance_name(service: str, environ: Mapping[str, str] = os.environ) -> str:
    """This instance's name among its replicas (SERVICE_INSTANCE), as its replies' X-Served-By and its task
    results name it; by default the service and its pid."""
    return environ.get("SERVICE_INSTANCE", "").strip() or f"{service}-service-{os.getpid()}"


def caller_from_message(tenant_id: str) -> Caller:
    """Who asks when a message asks: its tenant, with the tenant's key for the services the work calls, and
    fresh ids (the trace it carried is the current context)."""
    return Caller(tenant_id, None, uuid.uuid4().hex, uuid.uuid4().hex, keys_from_env().tenant_key(tenant_id))


def bus_authority(bus: Bus, environ: Mapping[str, str] = os.environ) -> list[BusAuthority]:
    """The answerer of the bus's authorization requests, where the deployment gave the issuer seed."""
    seed = environ.get(NATS_AUTH_ISSUER_SEED, "").strip()
    return [BusAuthority(bus, seed, keys_from_env(environ).tenant_of)] if seed else []


class HostedWorkers:
    """Connects to NATS and starts the service's workers; close() drains them."""

    def __init__(self, service: str, start_workers: Callable[[Bus], list]) -> None:
        self.service = service
        self._start_workers = start_workers  # (bus) -> workers, each with start() and stop()
        self.bus: Bus | None = None
        self._workers: list = []
        self._task: asyncio.Task | None = None
        self._problem: str | None = "not connected yet"

    async def start(self) -> None:
        """Listening before the service takes its first request when NATS is up; in the background if not."""
        if not workers_wanted():
            self._problem = None
            return
        self._task = asyncio.create_task(self._connect_and_start(os.environ["NATS_URL"]))
        await asyncio.wait({self._task}, timeout=FIRST_ATTEMPT_S)

    def checked(self) -> dict[str, str | None]:
        """NATS among what /ready checks, with its problem or None, when this service runs workers."""
        return {"nats": self.problem()} if workers_wanted() else {}

    def problem(self) -> str | None:
        """Why the workers are not listening, or None: also while a connection they had is lost."""
        if self._problem is None and self.bus is not None and not self.bus.nc.is_connected:
            return "the connection to NATS is lost; reconnecting"
        return self._problem

    async def _connect_and_start(self, url: str) -> None:
        settings = ConnectionSettings(url, name=instance_name(self.service),
                                      max_reconnect_attempts=RECONNECT_FOREVER)
        while self.bus is None:
            try:
                self.bus = await Bus.connect(settings)
            except MessagingError as exc:
                self._problem = f"cannot be reached: {exc}"
                await asyncio.sleep(RETRY_S)
        while not self._workers:
            started = []
            try:
                for worker in [*bus_authority(self.bus), *self._start_workers(self.bus)]:
                    started.append(await worker.start())
                self._workers = started
            except (nats.errors.Error, TimeoutError) as exc:
                self._problem = f"workers not listening: {exc}"
                for worker in started:  # none is left half-subscribed before the next try
                    await worker.stop()
                await asyncio.sleep(RETRY_S)
        self._problem = None
        log.info("%s service: NATS workers listening for every tenant", self.service)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for worker in self._workers:
            await worker.stop()
        if self.bus is not None:
            await self.bus.close()


class OnDemandClient:
    """A NATS client connected on first use, for the HTTP routes that publish (whatever NATS_WORKERS says).
    Without NATS_URL a route that needs it is a 503 saying what the service cannot do: `without_nats`."""

    def __init__(self, nats_url: str | None, name: str, without_nats: str) -> None:
        self.url, self._name, self._without_nats = nats_url, name, without_nats
        self._bus: Bus | None = None
        self._client: PlatformClient | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> PlatformClient:
        async with self._lock:
            if self._client is None:
                if not self.url:
                    raise ServiceError(503, "DEPENDENCY_UNAVAILABLE", self._without_nats, {"dependency": "nats"})
                self._bus = await Bus.connect(ConnectionSettings(self.url, name=self._name))
                self._client = PlatformClient(self._bus)
            return self._client

    async def close(self) -> None:
        if self._bus is not None:
            await self._bus.close()
