"""Composition root: one object that wires gateway, store, RAG and agents from settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from ai_platform.agents import Agent, KnowledgeBaseTool
from ai_platform.gateway import Gateway, GatewaySettings
from ai_platform.rag import ChunkingPolicy, Ingestor, RetrievalSettings, Retriever
from ai_platform.store import Store


@dataclass(frozen=True)
class PlatformSettings:
    database_url: str
    gateway: GatewaySettings
    embedding_dimensions: int = 1536
    chunking: ChunkingPolicy = field(default_factory=ChunkingPolicy)
    retrieval: RetrievalSettings = field(default_factory=RetrievalSettings)


class Platform:
    def __init__(self, settings: PlatformSettings, store: Store | None = None) -> None:
        self.settings = settings
        self.store = store or Store(settings.database_url, settings.embedding_dimensions)
        self.gateway = Gateway(settings.gateway)
        self.ingestor = Ingestor(self.store, self.gateway, settings.chunking)
        self.retriever = Retriever(self.store, self.gateway, settings.retrieval)

    def agent(self, agent_id: str, tenant_id: str) -> Agent:
        """An agent of this tenant with the knowledge base as its tool."""
        return Agent(agent_id, tenant_id, self.gateway, self.store, [KnowledgeBaseTool(self.retriever)])
