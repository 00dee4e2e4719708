"""Tables: documents, their chunks with text and embeddings (HNSW cosine index), agent memory, agents and
the messages agents received.

Every table carries tenant_id, and every query filters on it.
"""

from __future__ import annotations

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)


def build_tables(dimensions: int) -> tuple[MetaData, Table, Table, Table]:
    metadata = MetaData()
    documents = Table(
        "documents",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("tenant_id", String(128), nullable=False, index=True),
        Column("document_id", String(256), nullable=False),
        Column("title", Text, nullable=False),
        Column("content_type", String(128), nullable=False),
        Column("content_hash", String(64), nullable=False),
        Column("metadata", JSON, nullable=False, default=dict),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        UniqueConstraint("tenant_id", "document_id", name="documents_tenant_document_key"),
    )
    chunks = Table(
        "chunks",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("document_pk", BigInteger, ForeignKey("documents.id", ondelete="CASCADE"), nullable=False, index=True),
        Column("tenant_id", String(128), nullable=False, index=True),
        Column("ordinal", Integer, nullable=False),
        Column("text", Text, nullable=False),
        Column("embedding", Vector(dimensions), nullable=False),
        Index(
            "chunks_embedding_hnsw",
            "embedding",
            postgresql_using="hnsw",
            postgresql_with={"m": 16, "ef_construction": 64},
            postgresql_ops={"embedding": "vector_cosine_ops"},
        ),
    )
    memory = Table(
        "agent_memory",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("tenant_id", String(128), nullable=False),
        Column("agent_id", String(128), nullable=False),
        Column("session_id", String(128), nullable=False),
        Column("role", String(16), nullable=False),
        Column("content", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Index("agent_memory_session", "tenant_id", "agent_id", "session_id", "id"),
    )
    return metadata, documents, chunks, memory


def build_agents_table(metadata: MetaData) -> Table:
    """Agent definitions, one per (tenant, agent id), as the agent service stores them."""
    return Table(
        "agents",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("tenant_id", String(128), nullable=False, index=True),
        Column("agent_id", String(256), nullable=False),
        Column("name", Text, nullable=False),
        Column("description", Text, nullable=False, default=""),
        Column("system_prompt", Text, nullable=True),
        Column("tool_ids", JSON, nullable=False, default=list),
        Column("status", String(16), nullable=False, default="active"),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        UniqueConstraint("tenant_id", "agent_id", name="agents_tenant_agent_key"),
    )


def build_agent_messages_table(metadata: MetaData) -> Table:
    """The messages each agent received from other agents, once each (a redelivered message is the same row)."""
    return Table(
        "agent_messages",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("tenant_id", String(128), nullable=False),
        Column("agent_id", String(256), nullable=False),
        Column("message_id", String(256), nullable=False),
        Column("source_agent_id", String(256), nullable=False),
        Column("message_type", String(32), nullable=False),
        Column("content", Text, nullable=False),
        Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        UniqueConstraint("tenant_id", "agent_id", "message_id", name="agent_messages_once_key"),
        Index("agent_messages_inbox", "tenant_id", "agent_id", "id"),
    )


def build_queued_documents_table(metadata: MetaData) -> Table:
    """Documents accepted for ingestion (202) and not stored yet, by the ticket their message carries. A DELETE
    of the document marks its entries superseded; the ingestion worker stores a document only if its entry is
    not, so a delete right after an add is never lost, and an add after a delete (a new ticket) is stored."""
    return Table(
        "queued_documents",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("tenant_id", String(128), nullable=False),
        Column("document_id", String(256), nullable=False),
        Column("ticket", String(64), nullable=False, unique=True),
        Column("superseded", Boolean, nullable=False, default=False),
        Column("queued_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Index("queued_documents_by_document", "tenant_id", "document_id"),
    )
