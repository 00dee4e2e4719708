"""Drive the knowledge base through the RAG service, as a tenant's client would; read back what is
stored with an independent read of the database."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.drivers.database import ChunkRow
from harness.drivers.exchange import model_exchange
from harness.drivers.refusal import data_or_refusal
from harness.reporting import attach_json

if TYPE_CHECKING:
    from harness.world import World


def document_id(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "untitled"


@dataclass(frozen=True)
class Passage:
    title: str
    text: str
    score: float


@dataclass(frozen=True)
class Answer:
    """The RAG service's answer as its caller receives it."""

    answer: str
    sources: list[str]
    passages: list[Passage]


class KnowledgeBase:
    def __init__(self, world: World) -> None:
        self._world = world
        self._services = world.services
        self.texts: dict[str, str] = {}  # title -> the text the scenario added last

    def add(self, title: str, text: str, *, tenant: str | None = None, content_type: str = "text/plain") -> dict:
        self.texts[title] = text
        with model_exchange(self._world):
            response = self._services.send("rag", "POST", "/api/v1/rag/documents", tenant=tenant, body={
                "document_id": document_id(title), "title": title, "content": text, "content_type": content_type})
        return data_or_refusal(response)

    def ask(self, question: str, *, tenant: str | None = None) -> Answer:
        retrieval = self._world.config.retrieval
        with model_exchange(self._world):
            response = self._services.send("rag", "POST", "/api/v1/rag/query", tenant=tenant, body={
                "query": question, "top_k": retrieval.top_k, "threshold": retrieval.similarity_threshold})
        data = data_or_refusal(response)
        passages = [Passage(p["title"], p["text"], p["score"]) for p in data["passages"]]
        attach_json("retrieved passages", [{"document": p.title, "score": round(p.score, 4), "text": p.text}
                                           for p in passages])
        return Answer(data["answer"], data["sources"], passages)

    def remove_tenant(self, tenant: str | None = None) -> None:
        """The operator's removal of a tenant, through the platform's own function for it."""
        self._world.platform.remove_tenant(self._world.tenants.id_of(tenant))

    # an independent read of what is stored ------------------------------------------------------

    def document_ids(self, *, tenant: str | None = None) -> list[str]:
        return self._world.database.document_ids(self._world.tenants.id_of(tenant))

    def chunks(self, title: str, *, tenant: str | None = None) -> list[ChunkRow]:
        return self._world.database.chunks(self._world.tenants.id_of(tenant), document_id(title))

    def row_counts(self, *, tenant: str | None = None) -> dict[str, int]:
        return self._world.database.row_counts(self._world.tenants.id_of(tenant))
