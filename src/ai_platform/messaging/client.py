"""What callers (the API, other components) use to reach workers over NATS."""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid

import nats.errors

from ai_contract import headers as h
from ai_contract import subjects
from ai_contract.errors import MessagingUnavailable
from ai_platform.messaging.bus import Bus, now
from ai_platform.messaging.tracing import producing


class PlatformClient:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self.last_published: bytes | None = None
        self._streams_ready = False

    async def publish_document(self, tenant_id: str, document_id: str, title: str, content: str, *,
                               ticket: str | None = None, budget_s: float = 15.0) -> str:
        """Publish for ingestion until JetStream acknowledges it, within budget_s.

        The message id is derived from the document, its content and its ticket (in the metadata: see
        Store.queue_document), so a retry is dropped by JetStream's de-duplication window, and the same
        document queued again after a delete is not.
        """
        digest = hashlib.sha256(f"{tenant_id}\0{document_id}\0{content}\0{ticket}".encode()).hexdigest()[:32]
        metadata = {"title": title, **({"ticket": ticket} if ticket else {})}
        document = {"document_id": document_id, "content": content, "tenant_id": tenant_id, "timestamp": now(),
                    "metadata": metadata}
        with producing(subjects.rag_ingest(tenant_id), tenant_id):  # the ingestion continues this trace
            payload, headers = self.bus.envelope("rag_document", document, tenant_id, {h.MESSAGE_ID: digest})
            if not self._streams_ready:  # publishing first must not depend on a worker having started
                await self.bus.ensure_streams()
                self._streams_ready = True
            deadline = time.monotonic() + budget_s
            while True:
                try:
                    await self.bus.js.publish(subjects.rag_ingest(tenant_id), payload, headers=headers, timeout=1.0)
                    self.last_published = payload
                    return digest
                except (nats.errors.Error, TimeoutError) as exc:
                    if time.monotonic() >= deadline:
                        cause = f"ingestion not acknowledged: {exc}"
                        raise MessagingUnavailable(self.bus.settings.url, cause) from None
                    await asyncio.sleep(0.1)

    async def send_agent_message(self, tenant_id: str, source: str, target: str, content: str) -> str:
        """Publish a request from one agent to another; its message id."""
        message = {"message_id": uuid.uuid4().hex, "source_agent_id": source, "target_agent_id": target,
                   "content": content, "message_type": subjects.REQUEST_MESSAGE, "timestamp": now()}
        await self.bus.publish(subjects.agent_messages(tenant_id), "agent_message", message, tenant_id,
                               {h.SOURCE_AGENT: source, h.TARGET_AGENT: target})
        return message["message_id"]
