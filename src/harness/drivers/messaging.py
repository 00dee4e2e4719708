"""Drive the platform over NATS: connect components, start workers, send, request, wait.

Everything started here is registered for cleanup when it is created: workers stop, connections
drain, the scenario's durable consumer is deleted.
"""

from __future__ import annotations

import time

import nats.errors

from ai_platform.messaging import (
    AgentInbox,
    Bus,
    ConnectionSettings,
    GatewayWorker,
    IngestionWorker,
    PlatformClient,
    RagQueryWorker,
    TaskWorker,
    subjects,
)
from ai_platform.rag import DocumentRejected
from harness.world import World

CONNECT_TIMEOUT_S = 1.0


class Messaging:
    def __init__(self, world: World, add_cleanup) -> None:
        self.world, self._add_cleanup = world, add_cleanup
        self.loop = world.session.loop
        self._client: PlatformClient | None = None
        self.buses: list[Bus] = []
        # Settings the scenario gave its ingestion workers (ack_wait_s, max_deliver); the rest are defaults.
        self.ingestion_options: dict[str, float] = {}

    def run(self, coro, budget_s: float = 30.0):
        return self.loop.run(coro, budget_s)

    def connect(self, name: str, url: str | None = None) -> Bus:
        settings = ConnectionSettings(url or self.world.session.infra.nats_url(), name=name,
                                      connect_timeout_s=CONNECT_TIMEOUT_S)
        bus = self.run(Bus.connect(settings))
        self.buses.append(bus)
        self._add_cleanup(self.run, bus.close())
        return bus

    def connect_api_through(self, url: str) -> PlatformClient:
        """The API's connection goes through url (a fault proxy) instead of straight to NATS."""
        self._client = PlatformClient(self.connect("api", url))
        return self._client

    @property
    def client(self) -> PlatformClient:
        if self._client is None:
            self._client = PlatformClient(self.connect("api"))
        return self._client

    def _start(self, worker):
        started = self.run(worker.start())
        self._add_cleanup(self.run, worker.stop())
        return started

    def gateway_worker(self, tenant_id: str) -> GatewayWorker:
        return self._start(GatewayWorker(self.connect("gateway-worker"), tenant_id,
                                         self.world.platform.gateway.complete))

    def rag_worker(self, tenant_id: str) -> RagQueryWorker:
        return self._start(RagQueryWorker(self.connect("rag-worker"), tenant_id, self.world.platform.answer_query))

    def task_worker(self, tenant_id: str, worker_id: str) -> TaskWorker:
        return self._start(TaskWorker(self.connect(worker_id), tenant_id, worker_id,
                                      self.world.platform.execute_task))

    def agent_inbox(self, tenant_id: str, agent_id: str) -> AgentInbox:
        return self._start(AgentInbox(self.connect(f"agent-{agent_id}"), tenant_id, agent_id))

    def ingestion_worker(self, tenant_id: str) -> IngestionWorker:
        bus = self.connect("ingestion-worker")
        worker = IngestionWorker(bus, tenant_id, self.world.platform.ingest_message,
                                 permanent_errors=(DocumentRejected,), **self.ingestion_options)
        self._add_cleanup(self._delete_consumer, worker.durable)  # runs after the worker has stopped
        return self._start(worker)

    def _delete_consumer(self, durable: str) -> None:
        async def delete():
            bus = self.client.bus
            try:
                await bus.js.delete_consumer(subjects.INGEST_STREAM, durable)
            except Exception:  # the stream may be gone with a stopped server; nothing is left then
                pass
        self.run(delete())

    def parked(self, component: str, tenant_id: str, expected: int, budget_s: float = 5.0) -> list:
        """Messages on the tenant's dead-letter subject, read from the dead-letter stream."""
        async def read():
            sub = await self.client.bus.js.subscribe(subjects.dead_letter(component, tenant_id), ordered_consumer=True)
            found, deadline = [], time.monotonic() + budget_s
            while len(found) < expected and time.monotonic() < deadline:
                try:
                    found.append(await sub.next_msg(timeout=0.2))
                except nats.errors.TimeoutError:
                    continue
            await sub.unsubscribe()
            return found
        return self.run(read(), budget_s + 5)


def wait_until(condition, budget_s: float, what: str, interval_s: float = 0.05):
    """Poll condition() until it is truthy, or fail after budget_s saying what was awaited."""
    deadline = time.monotonic() + budget_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"waited {budget_s} s for {what}; it did not happen")
        time.sleep(interval_s)


def crash_after_storing(messaging: Messaging, tenant_id: str, budget_s: float = 10.0) -> None:
    """A worker that stores the next document, then loses its connection before it can ack."""
    bus = messaging.connect("crashing-ingestion-worker")
    crashed = []

    def store_then_crash(tenant: str, message):
        stored = messaging.world.platform.ingest_message(tenant, message)
        messaging.loop.submit(bus.nc.close())
        crashed.append(stored)
        return stored

    worker = IngestionWorker(bus, tenant_id, store_then_crash, **messaging.ingestion_options)
    messaging.run(worker.start())
    try:
        wait_until(lambda: crashed, budget_s, "the crashing worker to store the document")
    finally:
        messaging.run(worker.stop())


DEFAULT_TIMEOUT_S = 5.0


def bus_of(context) -> Messaging:
    """The scenario's messaging driver, made on first use; what it starts is cleaned up with the scenario."""
    world = context.world
    if not hasattr(world, "messaging"):
        world.messaging = Messaging(world, context.add_cleanup)
        world.inboxes, world.ingestion_workers, world.gateway_workers = {}, [], []
    return world.messaging


def tenant_id(context, tenant: str | None = None) -> str:
    return context.world.tenants.id_of(tenant) if tenant else context.world.tenant
