"""Workers behind the subjects. Each decodes with the codec, checks the tenant, does the work
through the platform's own components, and parks what it cannot read on the dead-letter subject."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import nats.errors
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from opentelemetry import trace

from ai_contract import codec, subjects
from ai_contract import headers as h
from ai_contract.ids import is_valid_id
from ai_platform import telemetry
from ai_platform.messaging.bus import Bus, decode_message, now
from ai_platform.messaging.tracing import processing

log = logging.getLogger("ai_platform.messaging")


class RequestRefused(Exception):
    """A readable request this worker will not serve; the caller is told why."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class Worker:
    """A subscription with a handler; stop() drains it.

    A worker serves one tenant, or every tenant (tenant_id None, as a service runs it): then it
    subscribes to the wildcard and each message's tenant is the one its subject names.
    nats-py runs a subscription's callbacks one after another. Request/reply workers set
    `in_flight` above 1 so one slow request does not hold up the ones behind it.
    """

    component = "worker"
    in_flight = 1

    def __init__(self, bus: Bus, tenant_id: str | None) -> None:
        self.bus, self.tenant_id = bus, tenant_id
        self.handled = 0
        self._subscription: Subscription | None = None
        self._slots = asyncio.Semaphore(self.in_flight)
        self._running: set[asyncio.Task] = set()

    async def _subscribe(self, tenant_subject: Callable[[str], str], queue: str) -> None:
        await self.bus.ensure_streams()  # where this worker parks what it cannot read
        subject = tenant_subject(self.tenant_id) if self.tenant_id else subjects.every_tenant(tenant_subject)
        callback = self._on_message if self.in_flight == 1 else self._dispatch
        self._subscription = await self.bus.nc.subscribe(subject, queue=queue, cb=callback)

    async def _dispatch(self, msg: Msg) -> None:
        await self._slots.acquire()  # back-pressure: at most in_flight at once
        task = asyncio.create_task(self._on_message(msg))
        self._running.add(task)
        task.add_done_callback(lambda done: (self._running.discard(done), self._slots.release()))

    async def _on_message(self, msg: Msg) -> None:
        tenant = self.tenant_id or subjects.tenant_of(msg.subject)
        with processing(msg, tenant):  # the work continues the sender's trace
            await self._process(msg, tenant)

    async def _process(self, msg: Msg, tenant: str) -> None:
        try:
            envelope = decode_message(msg)
        except codec.CodecError as exc:
            await self.bus.park(self.component, tenant, msg, exc.reason, str(exc))
            await self.bus.reply_error(msg, tenant, exc.reason, str(exc))
            return
        sender_tenant = (msg.headers or {}).get(h.TENANT)
        if sender_tenant != tenant:
            await self.bus.reply_error(msg, tenant, "tenant_mismatch",
                                       f"the subject is tenant {tenant}'s, the sender is {sender_tenant}")
            return
        try:
            await self.handle(envelope, msg, tenant)
            self.handled += 1
        except Exception as exc:  # the caller gets the reason; the worker keeps serving
            log.warning("%s failed on %s: %s", self.component, msg.subject, exc)
            telemetry.mark_failed(trace.get_current_span(), exc)  # the nats.process span of this message
            reason = getattr(exc, "reason", "worker_failed")  # a snake_case code, as the error envelope requires
            await self.bus.reply_error(msg, tenant, reason, str(exc))

    @staticmethod
    def _require_tenant(body_tenant: str, tenant: str) -> None:
        """The tenant the message body names must be the one whose subject it came on."""
        if body_tenant != tenant:
            raise RequestRefused("tenant_mismatch",
                                 f"the request names tenant {body_tenant}; it came on tenant {tenant}'s subject")

    async def handle(self, envelope: codec.Envelope, msg: Msg, tenant: str) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        if self._subscription is not None:
            try:
                await self._subscription.drain()
            except nats.errors.Error:
                pass
            self._subscription = None
        if self._running:  # let accepted requests finish, as a drain promises
            await asyncio.gather(*self._running, return_exceptions=True)


class GatewayWorker(Worker):
    """Answers llm_request with llm_response on ai.gateway.requests.<t>, queue gateway.workers."""

    component = "gateway"
    in_flight = 16

    def __init__(self, bus: Bus, tenant_id: str | None, complete: Callable, models: tuple[str, ...]) -> None:
        super().__init__(bus, tenant_id)
        self._complete = complete  # Gateway.complete
        self.models = models  # the model names this gateway serves

    async def start(self) -> GatewayWorker:
        await self._subscribe(subjects.gateway_requests, subjects.GATEWAY_WORKERS)
        return self

    async def handle(self, envelope: codec.Envelope, msg: Msg, tenant: str) -> None:
        request: codec.LLMRequest = envelope.data
        self._require_tenant(request.tenant_id, tenant)
        if request.model not in self.models:
            raise RequestRefused("unknown_model", f"model {request.model!r} is not served here; "
                                                  f"served models: {', '.join(self.models)}")
        messages = ([{"role": m.role, "content": m.content} for m in request.messages] if request.messages
                    else [{"role": "user", "content": request.prompt or ""}])
        completion = await asyncio.to_thread(
            self._complete, messages, model=request.model, temperature=request.parameters.temperature,
            max_tokens=request.parameters.max_tokens,
        )
        usage = completion.usage
        await self.bus.reply(msg, "llm_response", {
            "request_id": request.request_id, "response": completion.text, "model": completion.model,
            "tokens": {"prompt": usage.input_tokens, "completion": usage.output_tokens, "total": usage.total_tokens},
            "timestamp": now(),
        }, tenant)


class RagQueryWorker(Worker):
    """Answers rag_query with rag_result on ai.rag.queries.<t>, queue rag.workers."""

    component = "rag"
    in_flight = 16

    def __init__(self, bus: Bus, tenant_id: str | None, answer: Callable) -> None:
        super().__init__(bus, tenant_id)
        self._answer = answer  # (tenant_id, question, top_k, threshold) -> RagAnswer

    async def start(self) -> RagQueryWorker:
        await self._subscribe(subjects.rag_queries, subjects.RAG_WORKERS)
        return self

    async def handle(self, envelope: codec.Envelope, msg: Msg, tenant: str) -> None:
        query: codec.RAGQuery = envelope.data
        self._require_tenant(query.tenant_id, tenant)
        result = await asyncio.to_thread(self._answer, tenant, query.query, query.parameters.top_k,
                                         query.parameters.similarity_threshold)
        await self.bus.reply(msg, "rag_result", {
            "query_id": query.query_id, "answer": result.answer, "sources": result.sources,
            "metadata": {"tokens": result.usage.total_tokens}, "timestamp": now(),
        }, tenant)


class TaskWorker(Worker):
    """Runs agent_task from ai.agent.tasks.<t> (queue agent.workers), reports on ai.agent.results.<t>."""

    component = "agent"

    def __init__(self, bus: Bus, tenant_id: str | None, worker_id: str, execute: Callable) -> None:
        super().__init__(bus, tenant_id)
        self.worker_id = worker_id
        self._execute = execute  # (tenant_id, AgentTask) -> str

    async def start(self) -> TaskWorker:
        await self._subscribe(subjects.agent_tasks, subjects.AGENT_WORKERS)
        return self

    async def handle(self, envelope: codec.Envelope, msg: Msg, tenant: str) -> None:
        task: codec.AgentTask = envelope.data
        try:
            outcome, status = await asyncio.to_thread(self._execute, tenant, task), "done"
        except Exception as exc:  # a task published has no reply inbox: the result tells the manager why
            log.warning("task %s failed: %s", task.task_id, exc)
            outcome, status = f"{type(exc).__name__}: {exc}"[:500], "failed"
        await self.bus.publish(subjects.agent_results(tenant), "agent_message", {
            "message_id": f"result-{task.task_id}", "source_agent_id": self.worker_id,
            "target_agent_id": task.agent_id, "content": outcome, "timestamp": now(),
            "metadata": {"task_id": task.task_id, "worker_id": self.worker_id, "status": status},
        }, tenant)


class HostedAgentsInbox(Worker):
    """The agent service's side of ai.agent.message.<t>: a message for one of its agents is kept, and a request
    is answered by that agent, whose reply goes back to the sender on the same subject."""

    component = "agent"
    in_flight = 8  # one agent thinking does not hold up the others' mail

    def __init__(self, bus: Bus, receive: Callable[[str, codec.AgentMessage], str | None]) -> None:
        super().__init__(bus, None)
        self._receive = receive  # (tenant_id, message) -> the reply's text, or None when there is none to send

    async def start(self) -> HostedAgentsInbox:
        await self._subscribe(subjects.agent_messages, subjects.AGENT_SERVICE_INBOX)
        return self

    async def handle(self, envelope: codec.Envelope, msg: Msg, tenant: str) -> None:
        message: codec.AgentMessage = envelope.data
        if (msg.headers or {}).get(h.TARGET_AGENT) != message.target_agent_id:
            raise ValueError(f"a message for {message.target_agent_id} carried another target in its header")
        answer = await asyncio.to_thread(self._receive, tenant, message)
        if answer is not None:
            await self.bus.publish(subjects.agent_messages(tenant), "agent_message", {
                "message_id": f"reply-{message.message_id}", "source_agent_id": message.target_agent_id,
                "target_agent_id": message.source_agent_id, "content": answer,
                "message_type": subjects.REPLY_MESSAGE, "timestamp": now(),
                "metadata": {"in_reply_to": message.message_id},
            }, tenant, {h.SOURCE_AGENT: message.target_agent_id, h.TARGET_AGENT: message.source_agent_id})


class IngestionWorker:
    """Stores rag_document messages from the JetStream stream on ai.rag.ingest.<t>.

    A durable pull consumer with explicit acks: a document is acknowledged only after it is
    stored, so a crash before the ack means redelivery, and idempotent storage means a
    redelivered document is stored once. Unreadable messages, refused documents and documents
    that fail max_deliver times are parked on ai.dlq.rag.<t> with the reason.
    """

    def __init__(self, bus: Bus, tenant_id: str | None, ingest: Callable, *, ack_wait_s: float = 30.0,
                 max_deliver: int = 5, permanent_errors: tuple[type[Exception], ...] = ()) -> None:
        self.bus, self.tenant_id = bus, tenant_id
        self._ingest = ingest  # (tenant_id, RAGDocument) -> StoredDocument
        self.ack_wait_s, self.max_deliver = ack_wait_s, max_deliver
        self._permanent = permanent_errors
        self.durable = subjects.ingest_durable(tenant_id)
        # One tenant's documents, or, as the RAG service runs it, every tenant's.
        self._subject = subjects.rag_ingest(tenant_id) if tenant_id else subjects.every_tenant(subjects.rag_ingest)
        self.stored = 0
        self.deliveries: list[int] = []  # how many times each handled message had been delivered
        self._task: asyncio.Task | None = None
        self._stopping = asyncio.Event()

    async def start(self) -> IngestionWorker:
        await self.bus.ensure_streams()
        config = ConsumerConfig(
            durable_name=self.durable, ack_policy=AckPolicy.EXPLICIT, deliver_policy=DeliverPolicy.ALL,
            ack_wait=self.ack_wait_s, max_deliver=self.max_deliver + 1,  # one more, to park it ourselves
            filter_subject=self._subject,
        )
        self._subscription = await self.bus.js.pull_subscribe(
            self._subject, durable=self.durable, stream=subjects.INGEST_STREAM, config=config
        )
        self._task = asyncio.create_task(self._run(), name=self.durable)
        return self

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            await self._task
            self._task = None
            try:
                await self._subscription.unsubscribe()
            except nats.errors.Error:
                pass

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                batch = await self._subscription.fetch(10, timeout=0.25)
            except (TimeoutError, nats.errors.TimeoutError):
                continue
            except nats.errors.Error as exc:  # disconnected, reconnecting: try again shortly
                log.info("ingestion fetch paused: %s", exc)
                await asyncio.sleep(0.1)
                continue
            pending = list(batch)
            working = asyncio.create_task(self._working_on(pending))
            try:
                while pending:
                    await self._handle(pending[0])
                    pending.pop(0)
            finally:
                working.cancel()

    async def _working_on(self, pending: list[Msg]) -> None:
        """Tell JetStream at half the ack wait that the batch's unfinished documents are being worked on: a slow
        model or a long batch is not taken for a lost worker (and its documents delivered twice), while a worker
        that dies stops telling, so its documents come back within the ack wait."""
        while True:
            await asyncio.sleep(self.ack_wait_s / 2)
            for msg in list(pending):
                await _quietly(msg.in_progress())

    async def _handle(self, msg: Msg) -> None:
        with processing(msg, subjects.tenant_of(msg.subject)):  # the ingestion continues the publisher's trace
            await self._store(msg)

    async def _store(self, msg: Msg) -> None:
        self.deliveries.append(msg.metadata.num_delivered)
        try:
            envelope = decode_message(msg)
        except codec.CodecError as exc:
            return await self._park(msg, exc.reason, str(exc))
        tenant = subjects.tenant_of(msg.subject)
        if envelope.data.tenant_id != tenant:  # a document is stored only for the tenant whose subject it came on
            named = envelope.data.tenant_id
            return await self._park(msg, "tenant_mismatch", f"the document names tenant {named}; it came on {tenant}'s")
        if not is_valid_id(envelope.data.document_id):  # HTTP's rule on NATS too: an id is addressable everywhere
            return await self._park(msg, "invalid_id", f"the document id {envelope.data.document_id!r} is not 1 to "
                                    "64 letters, digits, '-' or '_'")
        try:
            await asyncio.to_thread(self._ingest, tenant, envelope.data)
        except self._permanent as exc:
            return await self._park(msg, getattr(exc, "reason", "rejected"), str(exc))
        except Exception as exc:
            if msg.metadata.num_delivered >= self.max_deliver:
                return await self._park(msg, "max_deliveries", f"failed {self.max_deliver} times, last: {exc}")
            log.info("ingestion will retry %s: %s", msg.subject, exc)
            return await _quietly(msg.nak(delay=0.2))
        self.stored += 1
        await _quietly(msg.ack())

    async def _park(self, msg: Msg, reason: str, detail: str) -> None:
        await self.bus.park("rag", subjects.tenant_of(msg.subject), msg, reason, detail)
        await _quietly(msg.term())


async def _quietly(action: Awaitable) -> None:
    """Acks over a connection that is reconnecting may fail; redelivery covers it."""
    try:
        await action
    except nats.errors.Error as exc:
        log.info("ack not sent: %s", exc)
