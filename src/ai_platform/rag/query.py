"""Retrieval-augmented answers: embed the question, retrieve, ground the prompt, cite sources."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ai_contract.answers import NOT_IN_KNOWLEDGE_BASE
from ai_platform import telemetry
from ai_platform.gateway import Usage
from ai_platform.store import Passage

GROUNDING_INSTRUCTIONS = (
    "Answer the question using only the numbered passages below. "
    "If they do not contain the answer, say that the knowledge base does not cover it. "
    "Cite passages by their number."
)

if TYPE_CHECKING:
    from ai_platform.gateway import Gateway
    from ai_platform.store import Store


@dataclass(frozen=True)
class RetrievalSettings:
    top_k: int = 5
    similarity_threshold: float = 0.7  # the platform's documented default

    def __post_init__(self) -> None:
        if self.top_k < 1:
            raise ValueError(f"top_k must be at least 1, got {self.top_k}")
        if not -1.0 <= self.similarity_threshold <= 1.0:
            raise ValueError(f"similarity_threshold must be between -1 and 1, got {self.similarity_threshold}")


@dataclass(frozen=True)
class RagAnswer:
    question: str
    answer: str
    sources: list[str]  # document titles, in order of first use
    passages: list[Passage]
    usage: Usage
    grounded: bool  # False when nothing relevant was retrieved and the model was not asked


class Retriever:
    def __init__(self, store: Store, gateway: Gateway, settings: RetrievalSettings = RetrievalSettings()) -> None:
        self._store, self._gateway, self.settings = store, gateway, settings

    def search(self, tenant_id: str, question: str, settings: RetrievalSettings | None = None) -> list[Passage]:
        settings = settings or self.settings
        with telemetry.span("rag.embedding.generate"):
            [vector] = self._gateway.embed([question])
        began, error = time.perf_counter(), None
        try:
            with telemetry.span("rag.vector.search", **{"rag.top_k": settings.top_k}) as searching:
                found = self._store.search(tenant_id, vector, settings.top_k, settings.similarity_threshold)
                searching.set_attribute("results.count", len(found))
        except Exception as exc:
            error = exc
            raise
        finally:
            telemetry.search_duration.record(time.perf_counter() - began,
                                             telemetry.tenant_attributes(**telemetry.outcome(error)))
        return found

    def answer(self, tenant_id: str, question: str, settings: RetrievalSettings | None = None) -> RagAnswer:
        began, answer, error = time.perf_counter(), None, None
        try:
            with telemetry.span("rag.query", **{"rag.tenant_id": tenant_id, "rag.query.length": len(question)}):
                answer = self._answer(tenant_id, question, settings)
        except Exception as exc:
            error = exc
            raise
        finally:  # a failed question is counted and timed too, with its error
            grounded = answer.grounded if answer else None
            attributes = telemetry.tenant_attributes(grounded=grounded, **telemetry.outcome(error))
            telemetry.queries_completed.add(1, attributes)
            telemetry.query_duration.record(time.perf_counter() - began, attributes)
        return answer

    def _answer(self, tenant_id: str, question: str, settings: RetrievalSettings | None) -> RagAnswer:
        if not question.strip():
            raise ValueError("the question is empty")
        passages = self.search(tenant_id, question, settings)
        if not passages:
            # Nothing relevant: say so rather than let the model invent an answer.
            return RagAnswer(question, NOT_IN_KNOWLEDGE_BASE, [], [], Usage(0, 0), grounded=False)
        with telemetry.span("rag.response.generate", **{"rag.passages.count": len(passages)}):
            completion = self._gateway.complete(grounded_messages(question, passages))
        return RagAnswer(question, completion.text, _sources(passages), passages, completion.usage, grounded=True)


def grounded_messages(question: str, passages: list[Passage]) -> list[dict]:
    context = "\n\n".join(f"[{i}] ({p.title})\n{p.text}" for i, p in enumerate(passages, start=1))
    return [
        {"role": "system", "content": f"{GROUNDING_INSTRUCTIONS}\n\n{context}"},
        {"role": "user", "content": question},
    ]


def _sources(passages: list[Passage]) -> list[str]:
    return list(dict.fromkeys(p.title for p in passages))
