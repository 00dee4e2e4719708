"""Tools an agent can use. The knowledge-base tool is RAG retrieval, scoped to the agent's tenant."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from ai_platform.rag import Retriever
from ai_platform.store import Passage


@dataclass(frozen=True)
class ToolResult:
    tool: str
    context: str  # what the model is shown
    sources: list[str] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)


class Tool(Protocol):
    name: str

    def run(self, tenant_id: str, query: str) -> ToolResult: ...


class KnowledgeBaseTool:
    name = "knowledge_base_search"

    def __init__(self, retriever: Retriever) -> None:
        self._retriever = retriever

    def run(self, tenant_id: str, query: str) -> ToolResult:
        passages = self._retriever.search(tenant_id, query)
        if not passages:
            return ToolResult(self.name, "The knowledge base has nothing relevant to this message.")
        context = "\n\n".join(f"[{i}] ({p.title})\n{p.text}" for i, p in enumerate(passages, start=1))
        return ToolResult(self.name, context, list(dict.fromkeys(p.title for p in passages)), passages)
