"""Drive the platform over NATS as its neighbouring components would: the API publishing and requesting,
a manager submitting tasks, agents and observers listening; and the platform's own workers, as service
processes (several replicas of a service, each its own process, killable by pid).

Each of those components is a client of one tenant, on the bus with the tenant's key and nothing more
(CONTRACTS.md, "Bus permissions"); only what an operator reads (streams, consumers, every reply inbox)
goes over the operator's connection, as the service user.

Workers of the run's services listen on the run's NATS. Scenarios that count, time or crash workers
(@own-workers) start replicas of a service on a NATS server of their own, fresh for the scenario.
Everything started here is registered for cleanup when it is created.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import nats.errors
import nats.js.errors
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig
from opentelemetry import propagate, trace
from opentelemetry.sdk.trace import TracerProvider

from ai_contract import codec, subjects
from ai_contract import headers as h
from ai_contract.errors import MessagingUnavailable
from harness.bus import Bus, ConnectionSettings, now
from harness.drivers.knowledge_base import document_id
from harness.infra.nats_auth import without_credentials
from harness.reporting import attach_json, attach_text
from harness.waiting import scaled, wait_until

if TYPE_CHECKING:
    from harness.platform import ServiceProcess
    from harness.world import World

CONNECT_TIMEOUT_S = 1.0
REQUEST_TIMEOUT_S = 5.0  # the platform's documented default request timeout
DELIVERY_BUDGET_S = 5.0  # how long a published message may take to reach its reader here

# Payloads a producer can get wrong, as a sentence names them.
UNREADABLE = ("garbage bytes", "a truncated envelope", "an envelope of schema version 9.0", "an empty document",
              "a document whose id holds a dot")
# The services that read NATS, as the specs name them: (service, message type, subject, waits for a reply).
READERS = {"gateway": ("gateway", "llm_request", subjects.gateway_requests, True),
           "RAG": ("rag", "rag_query", subjects.rag_queries, True),
           "agent": ("agent", "agent_task", subjects.agent_tasks, False)}
# A field of each message type given a value of the wrong type.
WRONG_TYPES = {"llm_request": ("model", 5), "rag_query": ("query", 5), "agent_task": ("task_id", 5),
               "agent_message": ("content", 5)}
# What else a service reads, by the specs' name: (message type, the tenant's subject, whether a caller waits).
OTHER_MESSAGES = {"message between agents": ("agent_message", subjects.agent_messages, False)}
FLAWS = ("an unknown major version", "a key written twice", "a field of the wrong type", "a truncated body")


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
        self._services = world.services  # built first: its tenant removal runs after this driver's cleanups
        self._services.holds_tenant_data()
        self._apis: dict[str, Bus] = {}  # the API's connection of each tenant
        self._operator: Bus | None = None
        self.buses: list[Bus] = []
        self.workers: dict[str, ServiceProcess] = {}  # service replicas, by the name the scenario gave them
        self.received: dict[tuple[str | None, str], list[codec.AgentMessage]] = {}  # (tenant, agent) -> inbox
        self.traces_seen: dict[tuple[str | None, str], list[str]] = {}  # (tenant, agent) -> trace ids it ran in
        self.published: list[str] = []  # document ids the API published, in order
        self.raw_payload: bytes | None = None  # the last bytes a producer sent as they were written
        self.raw_subject: str | None = None  # and the subject they were sent on
        # Operator settings of the scenario's RAG replicas (RAG_INGEST_ACK_WAIT_S, RAG_INGEST_MAX_DELIVER).
        self.ingestion_options: dict[str, str] = {}
        self.conversation_sent: list[dict] = []
        self.submitted_tasks: list[str] = []
        self.task_results = Observed()  # what the manager, listening on the results subject, received
        self.late_replies: Observed | None = None  # replies that reached reply inboxes, once watched
        self._telemetry = world.telemetry  # every request and publication runs in a client span of the suite

    def run(self, coro, budget_s: float = 30.0):
        return self._loop.run(coro, scaled(budget_s))

    def _run_traced(self, what: str, tenant_id: str, coro):
        """Run the coroutine in the suite's client span, whose traceparent the message headers carry."""
        async def traced():
            with self._telemetry.client_span(what, tenant_id):
                return await coro

        self._telemetry.settle()
        return self.run(traced())

    def tenant(self, name: str | None = None) -> str:
        return self._world.tenants.id_of(name)

    # connections --------------------------------------------------------------------------------

    def connect(self, name: str, url: str | None = None, wire_format: str = "json", *,
                tenant_id: str | None = None) -> Bus:
        """A client of the tenant (the scenario's, unless named): its key is its token, its inbox its own."""
        tenant_id = tenant_id or self.tenant()
        assert self.workers or not self._world.own_workers, (
            "a tenant's client gets onto the scenario's own NATS once a service instance there answers the bus's "
            "authorization requests: start an instance of a service before the component connects")
        key = self._services.key_of(tenant_id)  # issued by a running service, which also lets the key onto the bus
        return self._open(ConnectionSettings(
            without_credentials(url or self._world.nats_url()), name=name, connect_timeout_s=CONNECT_TIMEOUT_S,
            wire_format=wire_format, token=key, inbox_prefix=subjects.tenant_inbox_prefix(tenant_id)))

    def _open(self, settings: ConnectionSettings) -> Bus:
        bus = self.run(Bus.connect(settings))
        self.buses.append(bus)
        self._world.add_cleanup(self.run, bus.close())
        return bus

    def connect_api_through(self, url: str) -> Bus:
        """The API's connection goes through url (a fault proxy) instead of straight to NATS."""
        self._apis[self.tenant()] = self.connect("api", url)
        return self._apis[self.tenant()]

    @property
    def api(self) -> Bus:
        """The API's connection for the scenario's tenant."""
        return self.api_of(self.tenant())

    def api_of(self, tenant_id: str) -> Bus:
        if tenant_id not in self._apis:
            self._apis[tenant_id] = self.connect(f"api-{tenant_id}", tenant_id=tenant_id)
        return self._apis[tenant_id]

    @property
    def operator(self) -> Bus:
        """The operator's connection, as the service user: streams, consumers, every reply inbox."""
        if self._operator is None:
            self._operator = self._open(ConnectionSettings(self._world.nats_url(), name="operator",
                                                           connect_timeout_s=CONNECT_TIMEOUT_S))
        return self._operator

    def errors_reported(self) -> dict[str, list[str]]:
        """Asynchronous errors each connection's client reported."""
        return {bus.settings.name: bus.errors for bus in self.buses if bus.errors}

    # the platform's workers: service processes ---------------------------------------------------

    def service_workers(self, service: str) -> None:
        """The run's service is running with its NATS workers listening: it is ready only once they are."""
        assert not self._world.own_workers, (
            "this scenario runs its own replicas on a NATS of its own, where the run's services do not listen: "
            "drop @own-workers")
        self._services.url(service)

    def replicas(self, service: str, names: list[str], *, ready: bool = True) -> list[ServiceProcess]:
        """Replicas of a service, each its own process named as the scenario names it, on the scenario's NATS."""
        assert self._world.own_workers, "replicas listen on a NATS of the scenario's own: tag the scenario @own-workers"
        on_bus = self._world.session.infra.bus_credentials.service_settings(self._world.nats_url())
        settings = {**on_bus, **(self.ingestion_options if service == "rag" else {})}
        started = self._services.replicas(service, names, settings, ready=ready)
        self.workers.update(zip(names, started, strict=True))
        return started

    def gateway_worker(self, name: str) -> None:
        """A gateway replica that has served one request: a fresh process's first model call (client set-up) is
        not what a timing scenario measures. The warm-up leaves nothing in the model's journal or script."""
        self.replicas("gateway", [name])
        self.complete("Warm up, please.")
        self._world.session.model_journal.reset()

    def task_workers(self, names: list[str]) -> None:
        self.replicas("agent", names)

    def ingestion_worker(self, name: str = "ingestion-worker") -> None:
        self.replicas("rag", [name])

    def crash_while_ingesting(self, name: str = "ingestion-worker", budget_s: float = 10.0) -> None:
        """SIGKILL the replica once the model has been asked to embed the document it is ingesting."""
        model = self._world.model
        wait_until(lambda: model.requests_to("embedding"), budget_s, "the replica to ask for the document's embedding")
        self.workers[name].kill()

    def replica_ready(self, name: str) -> bool:
        """Whether the replica's readiness check passes now (its NATS workers listen)."""
        return self._services.is_ready(self.workers[name])

    def replica_readiness(self, name: str) -> dict:
        """The replica's readiness answer, as its operator reads it."""
        return self._services.readiness(self.workers[name])

    # agents of the tenant, played by the suite --------------------------------------------------

    def agent_inbox(self, agent: str, tenant: str | None = None) -> None:
        """An agent listening on its tenant's agent subject, in the queue group of its own id (CONTRACTS.md)."""
        inbox = self.received.setdefault((tenant, agent), [])
        traces = self.traces_seen.setdefault((tenant, agent), [])

        async def deliver(msg: Msg) -> None:
            if (msg.headers or {}).get(h.TARGET_AGENT) != agent:
                return  # addressed to another agent of the tenant
            inbox.append(codec.decode(msg.data, format=codec.format_from_headers(msg.headers)).data)
            carried = trace.get_current_span(propagate.extract(msg.headers or {})).get_span_context()
            traces.append(format(carried.trace_id, "032x"))

        bus = self.connect(f"agent-{agent}", tenant_id=self.tenant(tenant))
        self.run(bus.nc.subscribe(subjects.agent_messages(self.tenant(tenant)), queue=f"agent.{agent}", cb=deliver))
        self.run(bus.nc.flush())

    # what the API does --------------------------------------------------------------------------

    def publish_document(self, title: str, text: str, budget_s: float = 15.0, *, tenant: str | None = None) -> None:
        """Publish for ingestion until JetStream acknowledges it; the message id is the document's digest, so
        JetStream drops the same document published twice. The scenario's tenant publishes, unless named."""
        tenant_id = self.tenant(tenant)
        subject = subjects.rag_ingest(tenant_id)
        digest = hashlib.sha256(f"{tenant_id}\0{document_id(title)}\0{text}".encode()).hexdigest()[:32]
        document = {"document_id": document_id(title), "content": text, "tenant_id": tenant_id, "timestamp": now(),
                    "metadata": {"title": title}}
        api = self.api_of(tenant_id)

        async def publish() -> None:
            payload, headers = api.envelope("rag_document", document, tenant_id, {h.MESSAGE_ID: digest})
            deadline = time.monotonic() + budget_s
            while True:
                try:
                    await api.js.publish(subject, payload, headers=headers, timeout=1.0)
                    self.raw_payload = self.raw_payload or payload
                    self.raw_subject = self.raw_subject or subject
                    return
                except (nats.errors.Error, TimeoutError) as exc:  # a restarting server, or no stream yet
                    if time.monotonic() >= deadline:
                        raise MessagingUnavailable(subject, f"ingestion not acknowledged: {exc}") from None
                    await asyncio.sleep(0.1)

        self._run_traced(f"publish {title!r} for ingestion", tenant_id, publish())
        if tenant is None:
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
        return self._request(subjects.gateway_requests(tenant_id), "llm_request", request, tenant_id, timeout_s,
                             bus=self.api_of(tenant_id))

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
        apis = {t: self.api_of(self.tenant(t)) for t in prompts}  # connected here, not inside the coroutine below
        self._telemetry.settle()

        async def together():
            return await asyncio.gather(*(
                self._request_async(apis[t], subjects.gateway_requests(self.tenant(t)), "llm_request",
                                    self.llm_request(self.tenant(t), prompt=p), self.tenant(t), REQUEST_TIMEOUT_S)
                for t, p in prompts.items()))

        return dict(zip(prompts, self.run(together()), strict=True))

    def ask_rag(self, question: str, *, body_tenant: str | None = None, wire_format: str = "json",
                query_id: str | None = None) -> Reply:
        """Ask the tenant's RAG workers, in either wire format; the request body may name another tenant."""
        retrieval = self._world.config.retrieval
        parameters = {"top_k": retrieval.top_k, "similarity_threshold": retrieval.similarity_threshold}
        query = {"query_id": query_id or codec.new_message_id(), "query": question,
                 "tenant_id": self.tenant(body_tenant), "timestamp": now(), "parameters": parameters}
        bus = self.api if wire_format == "json" else self.connect(f"api-{wire_format}", wire_format=wire_format)
        return self._request(subjects.rag_queries(self.tenant()), "rag_query", query, self.tenant(),
                             REQUEST_TIMEOUT_S, bus=bus)

    def _request(self, subject: str, message_type: str, data: dict, tenant_id: str, timeout_s: float, *,
                 bus: Bus | None = None) -> Reply:
        """A request over the API's connection (or another), waited for a little past its own timeout."""
        bus = bus or self.api
        self._telemetry.settle()
        return self.run(self._request_async(bus, subject, message_type, data, tenant_id, timeout_s), timeout_s + 5)

    async def _request_async(self, bus: Bus, subject: str, message_type: str, data: dict, tenant_id: str,
                             timeout_s: float) -> Reply:
        with self._telemetry.client_span(f"request on {subject}", tenant_id):
            envelope, reply_headers = await bus.exchange(subject, message_type, data, tenant_id, timeout_s)
        return Reply(envelope, reply_headers.get(h.SERVED_BY, ""))

    def submit_tasks(self, count: int, agent: str = "helper", wire_format: str = "json") -> None:
        """The manager listens for results, then submits the tasks to the agent, in either wire format."""
        tenant_id = self.tenant()
        self.task_results = self.observe(subjects.agent_results(tenant_id))
        self.submitted_tasks = [f"task-{i:02d}" for i in range(1, count + 1)]
        api = self.api if wire_format == "json" else self.connect(f"manager-{wire_format}", wire_format=wire_format)
        for task_id in self.submitted_tasks:
            task = {"task_id": task_id, "agent_id": agent, "task_type": "answer", "timestamp": now(),
                    "parameters": {"question": f"Please handle task number {task_id}."}}
            self._run_traced(f"submit {task_id}", tenant_id,
                             api.publish(subjects.agent_tasks(tenant_id), "agent_task", task, tenant_id))

    def _agent_message(self, tenant_id: str, source: str, target: str, text: str):
        message = {"message_id": codec.new_message_id(), "source_agent_id": source, "target_agent_id": target,
                   "content": text, "timestamp": now()}
        return self.api_of(tenant_id).publish(subjects.agent_messages(tenant_id), "agent_message", message, tenant_id,
                                {h.SOURCE_AGENT: source, h.TARGET_AGENT: target})

    def send_agent_message(self, source: str, target: str, text: str, tenant: str | None = None) -> None:
        tenant_id = self.tenant(tenant)
        self.api_of(tenant_id)  # connected here, not inside the traced coroutine
        self._run_traced(f"message from {source} to {target}", tenant_id,
                         self._agent_message(tenant_id, source, target, text))

    def send_traced_agent_message(self, source: str, target: str, text: str) -> str:
        """Send inside a traced operation of the sender's; returns the operation's trace id."""
        tracer = TracerProvider().get_tracer("acceptance-suite")
        tenant_id = self.tenant()
        self.api  # noqa: B018 - connected here, not inside the coroutine below

        async def send() -> str:
            with tracer.start_as_current_span("agent.message.send") as span:
                await self._agent_message(tenant_id, source, target, text)
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
        if kind == "a document whose id holds a dot":  # the codec writes no such id: changed after encoding
            return codec.encode("rag_document", document).replace(b'"odd-one"', b'"odd.one"', 1)
        raise ValueError(f"no payload called {kind!r}; known: {', '.join(UNREADABLE)}")

    def flawed(self, message_type: str, flaw: str) -> bytes:
        """A message of the type, well formed but for the one flaw a producer got wrong."""
        tenant_id = self.tenant()
        data = {"llm_request": lambda: self.llm_request(tenant_id, prompt="Hello there."),
                "rag_query": lambda: {"query_id": codec.new_message_id(), "query": "When does the office open?",
                                      "tenant_id": tenant_id, "timestamp": now()},
                "agent_task": lambda: {"task_id": "task-flawed", "agent_id": "helper", "task_type": "answer",
                                       "parameters": {"question": "Please handle task number 0."},
                                       "timestamp": now()},
                "agent_message": lambda: {"message_id": codec.new_message_id(), "source_agent_id": "probe",
                                          "target_agent_id": "helper", "content": "Are you there, helper?",
                                          "message_type": "text", "timestamp": now(), "metadata": {}}}[message_type]()
        whole = codec.encode(message_type, data)
        if flaw == "an unknown major version":
            return whole.replace(b'"1.0"', b'"9.0"', 1)
        if flaw == "a key written twice":  # the envelope's type, written again at the end
            return whole.rstrip()[:-1] + b',"message_type":"' + message_type.encode() + b'"}'
        if flaw == "a field of the wrong type":
            envelope = json.loads(whole)
            field_name, value = WRONG_TYPES[message_type]
            envelope["data"][field_name] = value
            return json.dumps(envelope).encode()
        if flaw == "a truncated body":
            return whole[: len(whole) // 2]
        raise ValueError(f"no flaw called {flaw!r}; known: {', '.join(FLAWS)}")

    def send_flawed(self, reader: str, flaw: str, message: str | None = None) -> Msg | None:
        """A flawed message (the service's main kind unless another is named) on the tenant's subject of the
        service; the reply, for a service that replies."""
        _, message_type, tenant_subject, replies = READERS[reader]
        if message in OTHER_MESSAGES:
            message_type, tenant_subject, replies = OTHER_MESSAGES[message]
        raw = self.flawed(message_type, flaw)
        if replies:
            return self.request_raw(raw, tenant_subject(self.tenant()), codec.headers_for("json"))
        self.raw_payload, self.raw_subject = raw, tenant_subject(self.tenant())
        with self._raw_send(f"flawed {message_type}") as trace_headers:
            headers = {**trace_headers, h.TENANT: self.tenant(), **codec.headers_for("json")}
            self.run(self.api.nc.publish(tenant_subject(self.tenant()), raw, headers=headers))
            self.run(self.api.nc.flush())
        return None

    @contextmanager
    def _raw_send(self, what: str, tenant_id: str | None = None) -> Iterator[dict[str, str]]:
        """Bytes sent as they are, in the suite's client span all the same; yields the headers that carry it."""
        self._telemetry.settle()
        with self._telemetry.client_span(what, tenant_id or self.tenant()) as trace_headers:
            yield trace_headers

    def publish_bytes(self, raw: bytes, extra_headers: dict | None = None, *, tenant: str | None = None) -> None:
        """Bytes on the tenant's ingestion subject (the scenario's tenant's, unless named), as a producer wrote them."""
        tenant_id = self.tenant(tenant)
        self.raw_payload, self.raw_subject = raw, subjects.rag_ingest(tenant_id)
        attach_text("bytes the producer published", raw.hex(" "))
        with self._raw_send("bytes for ingestion", tenant_id) as trace_headers:
            self.run(self.api_of(tenant_id).js.publish(subjects.rag_ingest(tenant_id), raw, headers={
                **trace_headers, h.TENANT: tenant_id, **(extra_headers or {})}))

    def publish_raw(self, kind: str) -> None:
        self.publish_bytes(self.unreadable_payload(kind))

    def publish_naming(self, other: str) -> None:
        """A well-formed document on this tenant's ingestion subject whose body names another tenant."""
        document = {"document_id": "price-list", "content": "Prices for the next quarter.",
                    "tenant_id": self.tenant(other), "timestamp": now()}
        self.publish_bytes(codec.encode("rag_document", document))

    def request_raw(self, raw: bytes, subject: str | None = None, extra_headers: dict | None = None) -> Msg:
        """Send bytes as a request (a completion request unless another subject is named); the reply as it came."""
        subject = subject or subjects.gateway_requests(self.tenant())
        self.raw_payload, self.raw_subject = raw, subject
        with self._raw_send(f"bytes requested on {subject}") as trace_headers:
            return self.run(self.api.nc.request(subject, raw, timeout=REQUEST_TIMEOUT_S, headers={
                **trace_headers, h.TENANT: self.tenant(), **(extra_headers or {})}))

    def request_as(self, sender_tenant: str) -> Msg:
        """A valid completion request on this tenant's subject whose header claims another tenant."""
        payload = codec.encode("llm_request", self.llm_request(self.tenant(), prompt="Show me your documents."))
        with self._raw_send("a request claiming another tenant") as trace_headers:
            return self.run(self.api.nc.request(
                subjects.gateway_requests(self.tenant()), payload, timeout=REQUEST_TIMEOUT_S,
                headers={**trace_headers, h.TENANT: self.tenant(sender_tenant), **codec.headers_for("json")}))

    # what a neighbouring component observes -----------------------------------------------------

    def observe(self, subject: str, *, decode: bool = True, as_operator: bool = False) -> Observed:
        """Subscribe, as another component of the subject's tenant would (or the operator), and keep everything
        that arrives (decoded, or as it came)."""
        observed = Observed()

        async def collect(msg: Msg) -> None:
            observed.messages.append(codec.decode(msg.data).data if decode else msg)

        observer = self.operator if as_operator else self.connect("observer", tenant_id=subjects.tenant_of(subject))
        self.run(observer.nc.subscribe(subject, cb=collect))
        self.run(observer.nc.flush())
        return observed

    def watch_replies(self) -> None:
        """From now on, keep every reply a worker sends to a reply inbox (NATS's default `_INBOX.`)."""
        self.api  # noqa: B018 - connected first, so its own start is not what is watched
        if self.late_replies is None:
            self.late_replies = self.observe("_INBOX.>", decode=False, as_operator=True)

    def worker_replies(self) -> list[Msg]:
        assert self.late_replies is not None, "replies are watched from the API's first request on"
        return [m for m in self.late_replies.messages if h.SERVED_BY in (m.headers or {})]

    def reaches_nats(self) -> bool:
        """Whether the API's connection round-trips to the server now."""
        try:
            self.run(self.api.nc.flush(timeout=1), 2)
        except (nats.errors.Error, TimeoutError):
            return False
        return True

    def ingest_consumer(self):
        """The durable consumer the RAG service's ingestion workers share, as the JetStream API reports it."""
        return self.run(self.operator.js.consumer_info(subjects.INGEST_STREAM, subjects.ingest_durable(None)))

    def ingest_acknowledged(self, deliveries: int, budget_s: float):
        """The ingestion consumer once it has made at least that many deliveries and none awaits its ack."""
        def settled():
            info = self.ingest_consumer()
            return info.delivered.consumer_seq >= deliveries and info.num_ack_pending == 0 and info
        return wait_until(settled, budget_s, f"{deliveries} delivery(ies) of the document to be acknowledged")

    def ingest_stream_count(self) -> int:
        return self.stream_count(subjects.INGEST_STREAM, subjects.rag_ingest(self.tenant()))

    @staticmethod
    def error_body(reply: Msg) -> dict:
        """An error reply's body as a client in any language reads it: plain JSON."""
        return json.loads(reply.data)

    def parked(self, component: str, expected: int, *, tenant: str | None = None) -> list[Msg]:
        """Every message on the tenant's dead-letter subject: waits for `expected`, then reads on to the end."""
        subject = subjects.dead_letter(component, self.tenant(tenant))
        budget = scaled(DELIVERY_BUDGET_S)
        operator = self.operator

        async def read() -> list[Msg]:
            sub = await operator.js.subscribe(subject, ordered_consumer=True)
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
        operator = self.operator  # connected here, not inside the coroutine below

        async def count() -> int:
            try:
                info = await operator.js.stream_info(stream, subjects_filter=subject)
            except nats.js.errors.NotFoundError:
                return 0
            return (info.state.subjects or {}).get(subject, 0)
        return self.run(count())

    def tenant_in_streams(self, tenant: str | None = None) -> dict[str, int]:
        """Messages and consumers of the tenant that NATS keeps, read through the JetStream API."""
        tenant_id = self.tenant(tenant)
        operator = self.operator  # connected here, not inside the coroutine below

        async def read() -> dict[str, int]:
            js, kept = operator.js, {}
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

    # a tenant's own ingestion consumer: what an operator sets up for a tenant served by workers of its own -------

    def add_tenant_consumer(self, tenant: str | None = None) -> None:
        """The operator adds the durable consumer the platform names for the tenant (subjects.ingest_durable) on
        the ingestion stream, filtered to the tenant's subject; deleted in cleanup if still there."""
        tenant_id = self.tenant(tenant)
        operator, durable = self.operator, subjects.ingest_durable(tenant_id)
        config = ConsumerConfig(durable_name=durable, ack_policy=AckPolicy.EXPLICIT,
                                filter_subject=subjects.rag_ingest(tenant_id))
        self.run(operator.js.add_consumer(subjects.INGEST_STREAM, config))
        self._world.add_cleanup(self.run, _delete_consumer(operator, durable))

    def tenant_consumer(self, tenant: str | None = None) -> str | None:
        """The tenant's own ingestion consumer, by name, as the JetStream API reports it; None when there is none."""
        operator, durable = self.operator, subjects.ingest_durable(self.tenant(tenant))

        async def read() -> str | None:
            try:
                return (await operator.js.consumer_info(subjects.INGEST_STREAM, durable)).name
            except nats.js.errors.NotFoundError:
                return None
        return self.run(read())


async def _delete_consumer(operator: Bus, durable: str) -> None:
    try:
        await operator.js.delete_consumer(subjects.INGEST_STREAM, durable)
    except nats.js.errors.NotFoundError:
        pass  # removed with its tenant
