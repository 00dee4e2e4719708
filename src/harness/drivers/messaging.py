"""Drive the platform over NATS: connect components, host workers, send, request, and observe
what a neighbouring component could see (results, replies, dead letters, stream contents).

Everything started here is registered for cleanup when it is created: workers stop, connections
drain, the tenant's queued messages and consumers are purged.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import nats.errors
import nats.js.errors
from nats.aio.msg import Msg
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from ai_platform import codec
from ai_platform.messaging import (
    AgentInbox,
    Bus,
    ConnectionSettings,
    GatewayWorker,
    IngestionWorker,
    MessagingError,
    PlatformClient,
    RagQueryWorker,
    TaskWorker,
    headers,
    subjects,
)
from ai_platform.messaging.bus import now
from ai_platform.rag import DocumentRejected
from ai_platform.services.cache import forget_tenant
from harness.drivers.knowledge_base import document_id
from harness.reporting import attach_json, attach_text
from harness.waiting import scaled, wait_until

if TYPE_CHECKING:
    from harness.world import World

CONNECT_TIMEOUT_S = 1.0
REQUEST_TIMEOUT_S = 5.0  # the platform's documented default request timeout
DELIVERY_BUDGET_S = 5.0  # how long a published message may take to reach its reader here

# Payloads a producer can get wrong, as a sentence names them.
UNREADABLE = ("garbage bytes", "a truncated envelope", "an envelope of schema version 9.0", "an empty document")


@dataclass
class Reply:
    """A reply as the requesting component received it."""

    envelope: codec.Envelope
    served_by: str


@dataclass
class Observed:
    """Messages a component subscribed to a subject has seen: decoded data, or the messages as they came."""

    messages: list = field(default_factory=list)


class Messaging:
    def __init__(self, world: World) -> None:
        self._world = world
        self._loop = world.session.loop
        self._client: PlatformClient | None = None
        self.buses: list[Bus] = []
        self.workers: dict[str, object] = {}  # by the name the scenario gave them
        self.received: dict[tuple[str | None, str], list[codec.AgentMessage]] = {}  # (tenant, agent) -> inbox
        self.published: list[str] = []  # document ids the API published, in order
        self.raw_payload: bytes | None = None  # the last bytes a producer sent as they were written
        # Settings the scenario gave its ingestion workers (ack_wait_s, max_deliver); the rest are defaults.
        self.ingestion_options: dict[str, float] = {}
        self.conversation_sent: list[dict] = []
        self.submitted_tasks: list[str] = []
        self.task_results = Observed()  # what the manager, listening on the results subject, received
        self.traces_seen: dict[tuple[str | None, str], list[str]] = {}  # (tenant, agent) -> trace ids it ran in
        self.late_replies: Observed | None = None  # replies that reached reply inboxes, once watched
        world.add_cleanup(self._purge_tenants)  # registered first, so it runs after the workers stopped
        self._telemetry = world.telemetry  # every request and publication runs in a client span of the suite

    def run(self, coro, budget_s: float = 30.0):
        return self._loop.run(coro, scaled(budget_s))

    def _run_traced(self, what: str, tenant_id: str, coro):
        """Run the coroutine in the suite's client span: the Bus puts its traceparent in the message headers."""
        async def traced():
            with self._telemetry.client_span(what, tenant_id):
                return await coro

        self._telemetry.settle()
        return self.run(traced())

    def tenant(self, name: str | None = None) -> str:
        return self._world.tenants.id_of(name)

    # connections --------------------------------------------------------------------------------

    def connect(self, name: str, url: str | None = None, wire_format: str = "json") -> Bus:
        settings = ConnectionSettings(url or self._world.nats_url(), name=name,
                                      connect_timeout_s=CONNECT_TIMEOUT_S, wire_format=wire_format)
        bus = self.run(Bus.connect(settings))
        self.buses.append(bus)
        self._world.add_cleanup(self.run, bus.close())
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

    def errors_reported(self) -> dict[str, list[str]]:
        """Asynchronous errors each connection's client reported."""
        return {bus.settings.name: bus.errors for bus in self.buses if bus.errors}

    # workers ------------------------------------------------------------------------------------

    def service_workers(self, service: str) -> None:
        """The service is running with its NATS workers listening: it is ready only once they are."""
        assert not self._world.own_workers, (
            "this scenario hosts its own workers on a NATS of its own, where no service listens: drop @own-workers")
        self._world.services.url(service)

    def _start(self, name: str, worker):
        started = self.run(worker.start())
        self._world.add_cleanup(self.run, worker.stop())
        self.workers[name] = started
        return started

    def gateway_worker(self, name: str, tenant: str | None = None) -> GatewayWorker:
        gateway = self._world.platform.gateway
        served = tuple(d.name for d in gateway.settings.deployments)
        return self._start(name, GatewayWorker(self.connect(name), self.tenant(tenant), gateway.complete, served))

    def rag_worker(self, name: str = "rag-worker") -> RagQueryWorker:
        return self._start(name, RagQueryWorker(self.connect(name), self.tenant(), self._world.platform.answer_query))

    def task_worker(self, name: str) -> TaskWorker:
        return self._start(name, TaskWorker(self.connect(name), self.tenant(), name,
                                            self._world.platform.execute_task))

    def agent_inbox(self, agent: str, tenant: str | None = None) -> None:
        inbox = self.received.setdefault((tenant, agent), [])
        traces = self.traces_seen.setdefault((tenant, agent), [])

        async def deliver(message: codec.AgentMessage) -> None:  # what the agent itself is handed
            inbox.append(message)
            traces.append(format(trace.get_current_span().get_span_context().trace_id, "032x"))

        self._start(f"agent {agent} of {tenant}", AgentInbox(self.connect(f"agent-{agent}"), self.tenant(tenant),
                                                              agent, deliver))

    def ingestion_worker(self, name: str = "ingestion-worker") -> IngestionWorker:
        worker = IngestionWorker(self.connect(name), self.tenant(), self._world.platform.ingest_message,
                                 permanent_errors=(DocumentRejected,), **self.ingestion_options)
        return self._start(name, worker)

    def crash_after_storing(self, budget_s: float = 10.0) -> None:
        """A worker that stores the next document, then loses its connection before it can ack."""
        bus = self.connect("crashing-ingestion-worker")
        crashed = []

        def store_then_crash(tenant: str, message):
            stored = self._world.platform.ingest_message(tenant, message)
            self._loop.submit(bus.nc.close())
            crashed.append(stored)
            return stored

        worker = IngestionWorker(bus, self.tenant(), store_then_crash, **self.ingestion_options)
        self.run(worker.start())
        try:
            wait_until(lambda: crashed, budget_s, "the crashing worker to store the document")
        finally:
            self.run(worker.stop())

    # what the API does --------------------------------------------------------------------------

    def publish_document(self, title: str, text: str) -> None:
        publishing = self.client.publish_document(self.tenant(), document_id(title), title, text)
        self._run_traced(f"publish {title!r} for ingestion", self.tenant(), publishing)
        self.raw_payload = self.raw_payload or self.client.last_published
        self.published.append(document_id(title))

    def llm_request(self, tenant_id: str, *, prompt: str | None = None, messages: list[dict] | None = None,
                    model: str = "chat", **parameters) -> dict:
        """An llm_request as the API writes it: a prompt or a conversation, for the tenant the body names."""
        asked = {"prompt": prompt} if messages is None else {"messages": messages}
        return {"request_id": codec.new_message_id(), **asked, "model": model, "tenant_id": tenant_id,
                "timestamp": now(), **({"parameters": parameters} if parameters else {})}

    def complete(self, prompt: str, *, timeout_s: float = REQUEST_TIMEOUT_S, tenant: str | None = None,
                 model: str = "chat", body_tenant: str | None = None) -> Reply:
        """Ask for a completion on the tenant's subject; the body may name another tenant."""
        tenant_id = self.tenant(tenant)
        request = self.llm_request(self.tenant(body_tenant) if body_tenant else tenant_id, prompt=prompt, model=model)
        return self._request(subjects.gateway_requests(tenant_id), "llm_request", request, tenant_id, timeout_s)

    def complete_conversation(self, conversation: list[dict], *, temperature: float, max_tokens: int,
                              wire_format: str) -> Reply:
        """The API, writing `wire_format`, asks for the next turn of a conversation with its own parameters."""
        self.conversation_sent = conversation
        api = self.connect(f"api-{wire_format}", wire_format=wire_format)
        request = self.llm_request(self.tenant(), messages=conversation, temperature=temperature,
                                   max_tokens=max_tokens)
        return self._request(subjects.gateway_requests(self.tenant()), "llm_request", request, self.tenant(),
                             REQUEST_TIMEOUT_S, bus=api)

    def complete_all(self, prompts: dict[str | None, str]) -> dict[str | None, Reply]:
        """Several tenants ask at the same moment; each prompt is keyed by its tenant."""
        client = self.client  # connected here, not inside the coroutine below
        self._telemetry.settle()

        async def together():
            return await asyncio.gather(*(
                self._request_async(client.bus, subjects.gateway_requests(self.tenant(t)), "llm_request",
                                    self.llm_request(self.tenant(t), prompt=p), self.tenant(t), REQUEST_TIMEOUT_S)
                for t, p in prompts.items()))

        return dict(zip(prompts, self.run(together()), strict=True))

    def ask_rag(self, question: str, *, body_tenant: str | None = None) -> Reply:
        """Ask the tenant's RAG workers; the request body may name another tenant."""
        threshold = self._world.config.retrieval.similarity_threshold
        query = {"query_id": codec.new_message_id(), "query": question, "tenant_id": self.tenant(body_tenant),
                 "timestamp": now(), "parameters": {"top_k": 5, "similarity_threshold": threshold}}
        return self._request(subjects.rag_queries(self.tenant()), "rag_query", query, self.tenant(),
                             REQUEST_TIMEOUT_S)

    def _request(self, subject: str, message_type: str, data: dict, tenant_id: str, timeout_s: float, *,
                 bus: Bus | None = None) -> Reply:
        """A request over the API's connection (or another), waited for a little past its own timeout."""
        bus = bus or self.client.bus
        self._telemetry.settle()
        return self.run(self._request_async(bus, subject, message_type, data, tenant_id, timeout_s), timeout_s + 5)

    async def _request_async(self, bus: Bus, subject: str, message_type: str, data: dict, tenant_id: str,
                             timeout_s: float) -> Reply:
        with self._telemetry.client_span(f"request on {subject}", tenant_id):
            envelope, reply_headers = await bus.exchange(subject, message_type, data, tenant_id, timeout_s)
        return Reply(envelope, reply_headers.get(headers.SERVED_BY, ""))

    def submit_tasks(self, count: int, agent: str = "helper") -> None:
        """The manager listens for results, then submits the tasks to the agent."""
        self.task_results = self.observe(subjects.agent_results(self.tenant()))
        self.submitted_tasks = [f"task-{i:02d}" for i in range(1, count + 1)]
        for task_id in self.submitted_tasks:
            submitting = self.client.submit_task(self.tenant(), task_id, agent, "answer",
                                                 {"question": f"Please handle task number {task_id}."})
            self._run_traced(f"submit {task_id}", self.tenant(), submitting)

    def send_agent_message(self, source: str, target: str, text: str, tenant: str | None = None) -> None:
        sending = self.client.send_agent_message(self.tenant(tenant), source, target, text)
        self._run_traced(f"message from {source} to {target}", self.tenant(tenant), sending)

    def send_traced_agent_message(self, source: str, target: str, text: str) -> str:
        """Send inside a traced operation of the sender's; returns the operation's trace id."""
        tracer = TracerProvider().get_tracer("acceptance-suite")
        client = self.client  # connected here, not inside the coroutine below

        async def send() -> str:
            with tracer.start_as_current_span("agent.message.send") as span:
                await client.send_agent_message(self.tenant(), source, target, text)
                return format(span.get_span_context().trace_id, "032x")
        return self.run(send())

    # what a producer that gets it wrong does ----------------------------------------------------

    def unreadable_payload(self, kind: str) -> bytes:
        document = {"document_id": "odd-one", "content": "Some text.", "tenant_id": self.tenant(),
                    "timestamp": "2026-11-21T10:00:00+00:00"}
        if kind == "garbage bytes":
            return b"\x00\xffthis is not a message"
        if kind == "a truncated envelope":
            whole = codec.encode("rag_document", document)
            return whole[: len(whole) // 2]
        if kind == "an envelope of schema version 9.0":
            return codec.encode("rag_document", document).replace(b'"1.0"', b'"9.0"', 1)
        if kind == "an empty document":
            return codec.encode("rag_document", {**document, "content": ""})
        raise ValueError(f"no payload called {kind!r}; known: {', '.join(UNREADABLE)}")

    def publish_raw(self, kind: str) -> None:
        raw = self.raw_payload = self.unreadable_payload(kind)
        attach_text("bytes the producer published", raw.hex(" "))
        self.run(self.client.bus.js.publish(subjects.rag_ingest(self.tenant()), raw,
                                            headers={headers.TENANT: self.tenant()}))

    def publish_naming(self, other: str) -> None:
        """A well-formed document on this tenant's ingestion subject whose body names another tenant."""
        document = {"document_id": "price-list", "content": "Prices for the next quarter.",
                    "tenant_id": self.tenant(other), "timestamp": now()}
        raw = self.raw_payload = codec.encode("rag_document", document)
        self.run(self.client.bus.js.publish(subjects.rag_ingest(self.tenant()), raw,
                                            headers={headers.TENANT: self.tenant()}))

    def request_raw(self, raw: bytes) -> Msg:
        """Send bytes as a completion request and return the reply as it came back."""
        self.raw_payload = raw
        return self.run(self.client.bus.nc.request(subjects.gateway_requests(self.tenant()), raw,
                                                   timeout=REQUEST_TIMEOUT_S, headers={headers.TENANT: self.tenant()}))

    def request_as(self, sender_tenant: str) -> Msg:
        """A valid completion request on this tenant's subject whose header claims another tenant."""
        payload = codec.encode("llm_request", self.llm_request(self.tenant(), prompt="Show me your documents."))
        return self.run(self.client.bus.nc.request(
            subjects.gateway_requests(self.tenant()), payload, timeout=REQUEST_TIMEOUT_S,
            headers={headers.TENANT: self.tenant(sender_tenant), **codec.headers_for("json")}))

    # what a neighbouring component observes -----------------------------------------------------

    def observe(self, subject: str, *, decode: bool = True) -> Observed:
        """Subscribe, as another component would, and keep everything that arrives (decoded, or as it came)."""
        observed = Observed()

        async def collect(msg: Msg) -> None:
            observed.messages.append(codec.decode(msg.data).data if decode else msg)

        observer = self.connect("observer")
        self.run(observer.nc.subscribe(subject, cb=collect))
        self.run(observer.nc.flush())
        return observed

    def watch_replies(self) -> None:
        """From now on, keep every reply a worker sends to a reply inbox (NATS's default `_INBOX.`)."""
        self.client  # noqa: B018 - connected first, so its own start is not what is watched
        if self.late_replies is None:
            self.late_replies = self.observe("_INBOX.>", decode=False)

    def worker_replies(self) -> list[Msg]:
        assert self.late_replies is not None, "replies are watched from the API's first request on"
        return [m for m in self.late_replies.messages if headers.SERVED_BY in (m.headers or {})]

    def reaches_nats(self, name: str = "api") -> bool:
        """Whether the component's connection round-trips to the server now."""
        bus = self.client.bus if name == "api" else self.workers[name].bus
        try:
            self.run(bus.nc.flush(timeout=1), 2)
        except (nats.errors.Error, TimeoutError):
            return False
        return True

    def ingest_consumer(self):
        """The tenant's durable ingestion consumer, as the JetStream API reports it."""
        durable = subjects.ingest_durable(self.tenant())
        return self.run(self.client.bus.js.consumer_info(subjects.INGEST_STREAM, durable))

    def ingest_stream_count(self) -> int:
        return self.stream_count(subjects.INGEST_STREAM, subjects.rag_ingest(self.tenant()))

    @staticmethod
    def error_body(reply: Msg) -> dict:
        """An error reply's body as a client in any language reads it: plain JSON."""
        return json.loads(reply.data)

    def parked(self, component: str, expected: int) -> list[Msg]:
        """Every message on the tenant's dead-letter subject: waits for `expected`, then reads on to the end."""
        subject = subjects.dead_letter(component, self.tenant())
        budget = scaled(DELIVERY_BUDGET_S)

        async def read() -> list[Msg]:
            sub = await self.client.bus.js.subscribe(subject, ordered_consumer=True)
            found: list[Msg] = []
            deadline = asyncio.get_running_loop().time() + budget
            try:
                while asyncio.get_running_loop().time() < deadline:
                    try:
                        msg = await sub.next_msg(timeout=0.2)
                    except nats.errors.TimeoutError:
                        continue
                    found.append(msg)
                    if len(found) >= expected and msg.metadata.num_pending == 0:
                        break
            finally:
                await sub.unsubscribe()
            return found

        found = self.run(read(), budget + 5)
        attach_json(f"parked on {subject}", [{"headers": m.headers, "bytes": len(m.data)} for m in found])
        return found

    def stream_count(self, stream: str, subject: str) -> int:
        """How many messages a JetStream stream holds on a subject, as the NATS API reports it."""
        async def count() -> int:
            try:
                info = await self.client.bus.js.stream_info(stream, subjects_filter=subject)
            except nats.js.errors.NotFoundError:
                return 0
            return (info.state.subjects or {}).get(subject, 0)
        return self.run(count())

    def tenant_in_streams(self, tenant: str | None = None) -> dict[str, int]:
        """Messages and consumers of the tenant that NATS keeps, read through the JetStream API."""
        tenant_id = self.tenant(tenant)

        async def read() -> dict[str, int]:
            js, kept = self.client.bus.js, {}
            for stream in (subjects.INGEST_STREAM, subjects.DEAD_LETTER_STREAM):
                try:
                    info = await js.stream_info(stream, subjects_filter=f"ai.*.*.{tenant_id}")
                    kept[f"{stream} messages"] = sum((info.state.subjects or {}).values())
                    consumers = await js.consumers_info(stream)
                except nats.js.errors.NotFoundError:
                    continue
                kept[f"{stream} consumers"] = sum(tenant_id in (c.name or "") for c in consumers)
            return kept

        return self.run(read())

    def remove_tenant(self, tenant: str | None = None) -> None:
        """What NATS keeps of the tenant goes: its stream messages, its consumers, its cached answers."""
        self.run(_remove_from_nats(self.client.bus, self.tenant(tenant)))

    # cleanup ------------------------------------------------------------------------------------

    def _purge_tenants(self) -> None:
        """Remove the scenario's tenants from the streams, over a connection of its own."""
        try:
            bus = self.run(Bus.connect(ConnectionSettings(self._world.nats_url(), name="cleanup",
                                                          connect_timeout_s=CONNECT_TIMEOUT_S)), 10)
        except MessagingError:
            return  # NATS is gone; nothing of the scenario's is kept where the next one can see it
        try:
            for tenant_id in self._world.tenants.all_ids():
                self.run(_remove_from_nats(bus, tenant_id), 10)
        finally:
            self.run(bus.close(), 10)


async def _remove_from_nats(bus: Bus, tenant_id: str) -> None:
    """What the platform removes of a tenant on NATS: stream messages, consumers, cached answers."""
    await bus.purge_tenant(tenant_id)
    await forget_tenant(bus.js, tenant_id)
