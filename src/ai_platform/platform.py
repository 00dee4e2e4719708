"""Composition root: one object that wires gateway, store, RAG and agents from settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from ai_platform.agents import Agent, KnowledgeBaseTool
from ai_platform.agents.tasks import executing_task
from ai_platform.codec import AgentTask, RAGDocument
from ai_platform.gateway import Gateway, GatewaySettings
from ai_platform.rag import ChunkingPolicy, Document, Ingestor, RagAnswer, RetrievalSettings, Retriever
from ai_platform.store import Store, StoredDocument


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

    def remove_tenant(self, tenant_id: str) -> None:
        """Delete everything the tenant stored: documents, chunks and agent memory."""
        self.store.purge_tenant(tenant_id)

    # What the messaging workers call -------------------------------------------------------

    def ingest_message(self, tenant_id: str, message: RAGDocument) -> StoredDocument:
        metadata = dict(message.metadata)
        title = str(metadata.get("title") or message.document_id)
        content_type = str(metadata.get("content_type") or "text/plain")
        document = Document(message.document_id, title, message.content, content_type, metadata)
        return self.ingestor.ingest(tenant_id, document)

    def answer_query(self, tenant_id: str, question: str, top_k: int, threshold: float) -> RagAnswer:
        return self.retriever.answer(tenant_id, question, RetrievalSettings(top_k, threshold))

    def execute_task(self, tenant_id: str, task: AgentTask) -> str:
        """An "answer" task: the task's agent answers the question in a session of its own."""
        with executing_task(task.agent_id, task.task_id, task.task_type):
            if task.task_type != "answer":
                raise ValueError(f"unknown task type {task.task_type!r}; this platform runs 'answer' tasks")
            question = str(task.parameters.get("question", ""))
            return self.agent(task.agent_id, tenant_id).ask(tenant_id, f"task-{task.task_id}", question).text
