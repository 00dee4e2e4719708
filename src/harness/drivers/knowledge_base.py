"""Drive the knowledge base through the RAG service, as a tenant's client would; read back what is
stored through the API, and, where the stored chunks themselves are the point (@storage), with an
independent read of the database."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ai_contract import routes
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
    usage: dict  # prompt_tokens, completion_tokens, total_tokens, as the service reports them
    grounded: bool | None = None  # whether the answer rests on passages, as the service says


def similarity_threshold(phrase: str) -> float | None:
    """The threshold a spec names: "a similarity of at least 0.3" is 0.3; "the platform's own similarity
    threshold" is None, sent as no threshold at all."""
    if phrase == "the platform's own similarity threshold":
        return None
    prefix = "a similarity of at least "
    assert phrase.startswith(prefix), f"no similarity called {phrase!r}"
    return float(phrase.removeprefix(prefix))


def asked_with(top_k: int, threshold: float | None) -> dict:
    """The retrieval fields of a request: the threshold only when the caller chooses one."""
    return {"top_k": top_k, **({"threshold": threshold} if threshold is not None else {})}


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
            response = self._services.send("rag", "POST", routes.RAG_QUERY, tenant=tenant, body={
                "query": question, **asked_with(retrieval.top_k, retrieval.similarity_threshold)})
        data = data_or_refusal(response)
        passages = _passages(data["passages"])
        return Answer(data["answer"], data["sources"], passages, data["usage"], data.get("grounded"))

    def search(self, question: str, *, by_embedding: bool, top_k: int, threshold: float | None) -> list[Passage]:
        """The search route's passages for the question, sent as its text or as the embedding the gateway
        service gives it; the count, the scores and the passages must agree."""
        asked = asked_with(top_k, threshold)
        if by_embedding:
            embedded = data_or_refusal(self._services.embed([question]))
            asked["query_embedding"] = embedded["embeddings"][0]
        else:
            asked["query_text"] = question
        data = data_or_refusal(self._services.send("rag", "POST", routes.RAG_SEARCH, body=asked))
        passages = _passages(data["documents"])
        assert data["count"] == len(passages) and data["scores"] == [p.score for p in passages], (
            f"expected count and scores to match the {len(passages)} passages, got {data['count']} and "
            f"{data['scores']}")
        return passages

    def remove_tenant(self, tenant: str | None = None) -> None:
        """The operator's removal of a tenant: one call to the platform's operator API."""
        self._services.remove_tenant(self._world.tenants.id_of(tenant))

    # what is stored, read back through the API ------------------------------------------------

    def held(self, *, tenant: str | None = None) -> dict[str, int]:
        """The tenant's documents as the API lists them: document id -> number of chunks."""
        listed = self._services.send("rag", "GET", routes.DOCUMENTS, tenant=tenant, observation=True)
        assert listed.status_code == 200, f"expected the document list, got {listed.status_code}: {listed.text}"
        return {d["document_id"]: d["chunks"] for d in listed.json()["data"]["documents"]}

    def document_ids(self, *, tenant: str | None = None) -> list[str]:
        return sorted(self.held(tenant=tenant))

    def read(self, title: str, *, tenant: str | None = None):
        """The document as the API gives it by its id (the response, whatever its status)."""
        return self._services.send("rag", "GET", routes.document(document_id(title)), tenant=tenant,
                                   observation=True)

    # an independent read of the stored rows (@storage) ------------------------------------------

    def chunks(self, title: str, *, tenant: str | None = None) -> list[ChunkRow]:
        return self._world.database.chunks(self._world.tenants.id_of(tenant), document_id(title))

    def row_counts(self, *, tenant: str | None = None) -> dict[str, int]:
        return self._world.database.row_counts(self._world.tenants.id_of(tenant))


def _passages(found: list[dict]) -> list[Passage]:
    passages = [Passage(p["title"], p["text"], p["score"]) for p in found]
    attach_json("retrieved passages", [{"document": p.title, "score": round(p.score, 4), "text": p.text}
                                       for p in passages])
    return passages
