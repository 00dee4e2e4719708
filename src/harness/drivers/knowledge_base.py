"""Drive the knowledge base: add documents, ask questions, look at what is stored."""

from __future__ import annotations

import re

from ai_platform.rag import Document, RagAnswer
from ai_platform.store import StoredChunk, StoredDocument
from harness.drivers.exchange import model_exchange
from harness.reporting import attach_json
from harness.world import World


def document_id(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "untitled"


def add_document(world: World, title: str, text: str, *, tenant: str | None = None,
                 content_type: str = "text/plain") -> StoredDocument:
    tenant_id = world.tenants.id_of(tenant) if tenant else world.tenant
    stored = world.platform.ingestor.ingest(tenant_id, Document(document_id(title), title, text, content_type))
    attach_json(f"stored {title}", {"document_id": stored.document_id, "chunks": stored.chunk_count,
                                    "created": stored.created})
    return stored


def ask(world: World, question: str, *, tenant: str | None = None) -> RagAnswer:
    tenant_id = world.tenants.id_of(tenant) if tenant else world.tenant
    with model_exchange(world):
        answer = world.platform.retriever.answer(tenant_id, question)
    attach_json("retrieved passages", [
        {"document": p.title, "chunk": p.ordinal, "score": round(p.score, 4), "text": p.text}
        for p in answer.passages
    ])
    return answer


def titles(world: World, *, tenant: str | None = None) -> list[str]:
    tenant_id = world.tenants.id_of(tenant) if tenant else world.tenant
    return world.platform.store.document_ids(tenant_id)


def chunks_of(world: World, title: str, *, tenant: str | None = None) -> list[StoredChunk]:
    tenant_id = world.tenants.id_of(tenant) if tenant else world.tenant
    return world.platform.store.stored_chunks(tenant_id, document_id(title))


def rows_of(world: World, *, tenant: str | None = None) -> dict[str, int]:
    tenant_id = world.tenants.id_of(tenant) if tenant else world.tenant
    return world.platform.store.count_rows(tenant_id)
