"""The suite's own NATS client: what any client of the platform writes on the wire, from the contract alone.

It encodes with the contract's codec, sets the contract's headers and the W3C trace context of the current
span, and maps what nats-py raises onto the contract's typed errors. It shares no code with the platform's
own connection, so a platform that writes the wire wrongly cannot be matched by the same mistake here.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime

import nats
import nats.errors
from nats.js import JetStreamContext
from opentelemetry import propagate

from ai_contract import codec
from ai_contract import headers as h
from ai_contract.errors import MessagingUnavailable, NoWorkerAvailable, RequestTimedOut, WorkerFailed
from harness.infra.nats_auth import shown

DRAIN_TIMEOUT_S = 5.0


def now() -> datetime:
    """A message's timestamp: timezone-aware, as the codec requires."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class ConnectionSettings:
    """Where and as whom: a tenant's client gives its key as the token and reads replies on its own inbox
    prefix; the operator's connection names the service user in the URL."""

    url: str
    name: str = "acceptance-suite"
    connect_timeout_s: float = 2.0
    wire_format: codec.Format = "json"
    token: str | None = field(default=None, repr=False)
    inbox_prefix: str = "_INBOX"
    retry: bool = True  # False: the first refusal is the answer (a client that probes who may connect)


class Bus:
    """One connection of a component the suite plays (the API, a manager, an observer)."""

    nc: nats.NATS
    js: JetStreamContext

    def __init__(self, settings: ConnectionSettings) -> None:
        self.settings = settings
        self.errors: list[str] = []  # asynchronous errors the client reported

    async def _on_error(self, exc: Exception) -> None:
        self.errors.append(f"{type(exc).__name__}: {exc}")

    @classmethod
    async def connect(cls, settings: ConnectionSettings) -> Bus:
        bus = cls(settings)
        try:
            bus.nc = await asyncio.wait_for(nats.connect(
                servers=[settings.url], name=settings.name, connect_timeout=settings.connect_timeout_s,
                reconnect_time_wait=0.2, max_reconnect_attempts=-1, allow_reconnect=settings.retry,
                token=settings.token, inbox_prefix=settings.inbox_prefix,
                error_cb=bus._on_error), timeout=settings.connect_timeout_s)
        except (OSError, TimeoutError, nats.errors.Error) as exc:
            refusals = [e for e in bus.errors if "authorization violation" in e.lower()]  # the server's verdict
            cause = (refusals or bus.errors or [str(exc) or type(exc).__name__])[-1]
            raise MessagingUnavailable(shown(settings.url), cause) from None
        bus.js = bus.nc.jetstream()
        return bus

    async def close(self) -> None:
        if self.nc.is_closed:
            return
        try:
            await asyncio.wait_for(self.nc.drain(), timeout=DRAIN_TIMEOUT_S)
        except (TimeoutError, nats.errors.Error):
            await self.nc.close()

    def envelope(self, message_type: str, data, tenant_id: str, extra: dict | None = None) -> tuple[bytes, dict]:
        """The bytes and headers of a message, as the contract says a client writes them."""
        message_id = codec.new_message_id()
        payload = codec.encode(message_type, data, format=self.settings.wire_format, message_id=message_id)
        headers = {**codec.headers_for(self.settings.wire_format), h.TENANT: tenant_id, h.MESSAGE_ID: message_id,
                   **(extra or {})}
        propagate.inject(headers)
        return payload, headers

    async def publish(self, subject: str, message_type: str, data, tenant_id: str, extra: dict | None = None) -> None:
        payload, headers = self.envelope(message_type, data, tenant_id, extra)
        await self.nc.publish(subject, payload, headers=headers)

    async def exchange(self, subject: str, message_type: str, data, tenant_id: str,
                       timeout_s: float) -> tuple[codec.Envelope, dict[str, str]]:
        """A request and its reply's envelope and headers; an error reply raises WorkerFailed."""
        payload, headers = self.envelope(message_type, data, tenant_id)
        try:
            reply = await self.nc.request(subject, payload, timeout=timeout_s, headers=headers)
        except nats.errors.NoRespondersError:
            raise NoWorkerAvailable(subject) from None
        except nats.errors.TimeoutError:
            raise RequestTimedOut(subject, timeout_s) from None
        envelope = codec.decode(reply.data, format=codec.format_from_headers(reply.headers))
        if envelope.message_type == "error":
            raise WorkerFailed(subject, envelope.data.code, envelope.data.message)
        return envelope, dict(reply.headers or {})
