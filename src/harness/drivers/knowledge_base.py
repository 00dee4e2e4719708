"""Drive the knowledge base: add documents and ask questions as a tenant; read back what is stored."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ai_platform.rag import Document, RagAnswer
from ai_platform.store import StoredDocument
from harness.drivers.database import ChunkRow
from harness.drivers.exchange import model_exchange
from harness.reporting import attach_json

if TYPE_CHECKING:
    from harness.world import World


def document_id(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "untitled"


class KnowledgeBase:
    def __init__(self, world: World) -> None:
        self._world = world
        self.texts: dict[str, str] = {}  # title -> the text the scenario added last

    def add(self, title: str, text: str, *, tenant: str | None = None,
            content_type: str = "text/plain") -> StoredDocument:
        self.texts[title] = text
        tenant_id = self._world.tenants.id_of(tenant)
        stored = self._world.platform.ingestor.ingest(tenant_id, Document(document_id(title), title, text,
                                                                          content_type))
        attach_json(f"stored {title}", {"document_id": stored.document_id, "chunks": stored.chunk_count,
                                        "created": stored.created})
        return stored

    def ask(self, question: str, *, tenant: str | None = None) -> RagAnswer:
        tenant_id = self._world.tenants.id_of(tenant)
        retriever = self._world.platform.retriever
        with model_exchange(self._world):
            answer = retriever.answer(tenant_id, question)
        attach_json("retrieved passages", [
            {"document": p.title, "chunk": p.ordinal, "score": round(p.score, 4), "text": p.text}
            for p in answer.passages
        ])
        return answer

    def remove_tenant(self, tenant: str | None = None) -> None:
        self._world.platform.remove_tenant(self._world.tenants.id_of(tenant))

    # an independent read of what is stored ------------------------------------------------------

    def document_ids(self, *, tenant: str | None = None) -> list[str]:
        return self._world.database.document_ids(self._world.tenants.id_of(tenant))

    def chunks(self, title: str, *, tenant: str | None = None) -> list[ChunkRow]:
        return self._world.database.chunks(self._world.tenants.id_of(tenant), document_id(title))

    def row_counts(self, *, tenant: str | None = None) -> dict[str, int]:
        return self._world.database.row_counts(self._world.tenants.id_of(tenant))
