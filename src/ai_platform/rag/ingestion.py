"""Ingestion: check, chunk, embed through the gateway, then store in one transaction."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ai_platform import telemetry
from ai_platform.rag.chunking import ChunkingPolicy, chunk_text
from ai_platform.rag.errors import EmptyDocument, UnsupportedDocumentType
from ai_platform.store import NewDocument, StoredDocument

SUPPORTED_TYPES = ("text/plain", "text/markdown")

if TYPE_CHECKING:
    from ai_platform.gateway import Gateway
    from ai_platform.store import Store


@dataclass(frozen=True)
class Document:
    document_id: str
    title: str
    content: str
    content_type: str = "text/plain"
    metadata: dict = field(default_factory=dict)
    ticket: str | None = None  # a queued document's: a DELETE since it was queued supersedes it


class Ingestor:
    def __init__(self, store: Store, gateway: Gateway, policy: ChunkingPolicy | None = None) -> None:
        self._store, self._gateway, self._policy = store, gateway, policy or ChunkingPolicy()

    def ingest(self, tenant_id: str, document: Document) -> StoredDocument | None:
        """Store the document with its chunks and embeddings, or raise and store nothing; None when a DELETE
        superseded the queued document."""
        try:
            with telemetry.span("rag.document.ingest", **{"rag.document.id": document.document_id}) as ingesting:
                stored = self._ingest(tenant_id, document)
                if stored is None:
                    ingesting.set_attribute("rag.document.superseded", True)
                    return None
                ingesting.set_attribute("chunks.count", stored.chunk_count)
        except Exception as exc:  # counted as a failed ingestion, where the operator can see it
            telemetry.documents_ingested.add(1, telemetry.tenant_attributes(**telemetry.outcome(exc)))
            raise
        telemetry.documents_ingested.add(1, telemetry.tenant_attributes(**telemetry.outcome(None)))
        return stored

    def _ingest(self, tenant_id: str, document: Document) -> StoredDocument | None:
        if document.content_type.split(";")[0].strip().lower() not in SUPPORTED_TYPES:
            raise UnsupportedDocumentType(document.document_id, document.content_type, SUPPORTED_TYPES)
        chunks = chunk_text(document.content, self._policy)
        if not chunks:
            raise EmptyDocument(document.document_id)
        # Embed everything before the transaction opens: a model failure leaves no rows behind.
        vectors = self._gateway.embed(chunks)
        record = NewDocument(
            document_id=document.document_id,
            title=document.title,
            content_type=document.content_type,
            content_hash=hashlib.sha256(document.content.encode()).hexdigest(),
            metadata=document.metadata,
        )
        return self._store.save_document(tenant_id, record, list(zip(chunks, vectors, strict=True)), document.ticket)
