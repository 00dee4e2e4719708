"""The NATS connection every component uses: explicit timeouts, reconnects, codec on every payload."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import nats
import nats.errors
import nats.js.errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import RetentionPolicy, StreamConfig
from opentelemetry import propagate

from ai_contract import codec
from ai_contract import headers as h
from ai_contract.errors import MessagingUnavailable
from ai_contract.subjects import DEAD_LETTER_STREAM, INGEST_STREAM, dead_letter, ingest_durable
from ai_contract.subjects import of_tenant as subjects_of_tenant
from ai_platform.messaging.tracing import producing

log = logging.getLogger("ai_platform.messaging")


def now() -> datetime:
    """A message's timestamp: timezone-aware, as the codec requires."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class ConnectionSettings:
    url: str
    name: str = "ai-platform"
    connect_timeout_s: float = 2.0
    reconnect_time_wait_s: float = 0.2
    max_reconnect_attempts: int = 150  # about 30 s of trying at the wait above
    reconnect_buffer_bytes: int = 8 * 1024 * 1024  # publishes held while disconnected
    drain_timeout_s: float = 5.0
    dedup_window_s: float = 120.0
    wire_format: codec.Format = "json"


class Bus:
    """Made by connect(): the client's callbacks count into it from the first moment."""

    nc: nats.NATS
    js: JetStreamContext

    def __init__(self, settings: ConnectionSettings) -> None:
        self.settings = settings
        self.errors: list[str] = []  # asynchronous errors the client reported
        self.reconnects = 0

    async def _on_error(self, exc: Exception) -> None:
        self.errors.append(f"{type(exc).__name__}: {exc}")

    async def _on_reconnect(self) -> None:
        self.reconnects += 1

    @classmethod
    async def connect(cls, settings: ConnectionSettings) -> Bus:
        bus = cls(settings)
        try:
            bus.nc = await asyncio.wait_for(
                nats.connect(
                    servers=[settings.url],
                    name=settings.name,
                    connect_timeout=settings.connect_timeout_s,
                    reconnect_time_wait=settings.reconnect_time_wait_s,
                    max_reconnect_attempts=settings.max_reconnect_attempts,
                    pending_size=settings.reconnect_buffer_bytes,
                    allow_reconnect=True,
                    error_cb=bus._on_error,
                    reconnected_cb=bus._on_reconnect,
                ),
                timeout=settings.connect_timeout_s,  # the whole connect, retries included
            )
        except (OSError, TimeoutError, nats.errors.Error) as exc:
            # The client retries a refused server until the timeout; its last error says why.
            cause = bus.errors[-1] if bus.errors else (str(exc) or type(exc).__name__)
            raise MessagingUnavailable(settings.url, cause) from None
        bus.js = bus.nc.jetstream()
        return bus

    async def close(self) -> None:
        """Drain: finish handling what was received and flush what was published, then close."""
        if self.nc.is_closed:
            return
        try:
            await asyncio.wait_for(self.nc.drain(), timeout=self.settings.drain_timeout_s)
        except (TimeoutError, nats.errors.Error):
            await self.nc.close()

    # streams ---------------------------------------------------------------------------------

    async def ensure_streams(self) -> None:
        """The ingestion stream (with de-duplication) and the dead-letter stream; idempotent."""
        for name, subjects in ((INGEST_STREAM, ["ai.rag.ingest.>"]), (DEAD_LETTER_STREAM, ["ai.dlq.>"])):
            config = StreamConfig(name=name, subjects=subjects, retention=RetentionPolicy.LIMITS,
                                  duplicate_window=self.settings.dedup_window_s)
            try:
                await self.js.add_stream(config)
            except nats.js.errors.BadRequestError:
                await self.js.update_stream(config)

    async def purge_tenant(self, tenant_id: str) -> None:
        """Remove a tenant from the streams: its queued and parked messages, and its consumer."""
        for stream in (INGEST_STREAM, DEAD_LETTER_STREAM):
            for subject in subjects_of_tenant(tenant_id):
                try:
                    await self.js.purge_stream(stream, subject=subject)
                except nats.js.errors.NotFoundError:
                    pass  # no stream yet: nothing of the tenant's is kept
        try:
            await self.js.delete_consumer(INGEST_STREAM, ingest_durable(tenant_id))
        except nats.js.errors.NotFoundError:
            pass

    # sending ---------------------------------------------------------------------------------

    def envelope(self, message_type: str, data, tenant_id: str, extra: dict | None = None) -> tuple[bytes, dict]:
        message_id = codec.new_message_id()
        payload = codec.encode(message_type, data, format=self.settings.wire_format, message_id=message_id)
        headers = {**codec.headers_for(self.settings.wire_format), h.TENANT: tenant_id, h.MESSAGE_ID: message_id,
                   **(extra or {})}
        propagate.inject(headers)  # W3C traceparent of the current span, when there is one
        return payload, headers

    async def publish(self, subject: str, message_type: str, data, tenant_id: str, extra: dict | None = None) -> None:
        with producing(subject, tenant_id):
            payload, headers = self.envelope(message_type, data, tenant_id, extra)
            await self.nc.publish(subject, payload, headers=headers)

    async def reply(self, msg: Msg, message_type: str, data, tenant_id: str) -> None:
        payload, headers = self.envelope(message_type, data, tenant_id, {h.SERVED_BY: self.settings.name})
        await self.nc.publish(msg.reply, payload, headers=headers)

    async def reply_error(self, msg: Msg, tenant_id: str, code: str, message: str,
                          request_id: str | None = None) -> None:
        """An error envelope in the body, and the code in the headers, for callers in any language."""
        if not msg.reply:
            return
        error = {"code": code, "message": message[:500], "request_id": request_id, "timestamp": now()}
        payload, headers = self.envelope("error", error, tenant_id, {
            h.ERROR_CODE: code, h.ERROR_MESSAGE: message[:500], h.SERVED_BY: self.settings.name})
        await self.nc.publish(msg.reply, payload, headers=headers)

    async def park(self, component: str, tenant_id: str, msg: Msg, reason: str, detail: str) -> None:
        """Put a message a consumer could not handle on the dead-letter subject, bytes untouched."""
        headers = {
            h.DEAD_LETTER_REASON: reason,
            h.DEAD_LETTER_DETAIL: detail[:500],
            h.ORIGINAL_SUBJECT: msg.subject,
            h.TENANT: tenant_id,
        }
        if msg.headers and h.MESSAGE_ID in msg.headers:
            headers[h.MESSAGE_ID] = "dlq-" + msg.headers[h.MESSAGE_ID]
        subject = dead_letter(component, tenant_id)
        with producing(subject, tenant_id):  # in the trace of the message's handling, for operators to find
            await self.js.publish(subject, msg.data, headers=headers)
        log.warning("parked a message from %s: %s (%s)", msg.subject, reason, detail)


def decode_message(msg: Msg) -> codec.Envelope:
    """The envelope of a received message; raises codec.CodecError when it is unreadable."""
    return codec.decode(msg.data, format=codec.format_from_headers(msg.headers))
