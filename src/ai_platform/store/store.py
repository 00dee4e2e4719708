"""Document, chunk, memory and agent storage on PostgreSQL + pgvector. Every call is tenant-scoped."""

from __future__ import annotations

import uuid

from sqlalchemy import create_engine, delete, func, literal_column, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Engine

from ai_platform.store.records import (
    AgentDefinition,
    DocumentSummary,
    NewDocument,
    Passage,
    ReceivedMessage,
    StoredDocument,
    StoreError,
    Turn,
)
from ai_platform.store.schema import (
    build_agent_messages_table,
    build_agents_table,
    build_queued_documents_table,
    build_tables,
)

SCHEMA_LOCK = 7_361_942_018  # pg advisory lock key: services sharing a database create the schema one at a time


class Store:
    def __init__(self, database_url: str, dimensions: int, engine: Engine | None = None) -> None:
        self.dimensions = dimensions
        self.engine = engine or create_engine(database_url, pool_pre_ping=True)
        self._metadata, self.documents, self.chunks, self.memory = build_tables(dimensions)
        self.agents = build_agents_table(self._metadata)
        self.agent_messages = build_agent_messages_table(self._metadata)
        self.queued = build_queued_documents_table(self._metadata)

    def create_schema(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
        self._metadata.create_all(self.engine)

    def ensure_schema(self) -> None:
        """create_schema, safe when several processes start on the same database at once."""
        with self.engine.begin() as conn:
            conn.execute(select(func.pg_advisory_xact_lock(SCHEMA_LOCK)))
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
            self._metadata.create_all(conn)

    def close(self) -> None:
        self.engine.dispose()

    # documents -------------------------------------------------------------------------------

    def queue_document(self, tenant_id: str, document_id: str) -> str:
        """The ticket of a document accepted for ingestion; its message carries it to save_document."""
        _require_tenant(tenant_id)
        ticket = uuid.uuid4().hex
        with self.engine.begin() as conn:
            conn.execute(self.queued.insert().values(tenant_id=tenant_id, document_id=document_id, ticket=ticket))
        return ticket

    def unqueue(self, ticket: str) -> None:
        """A ticket whose message was never sent."""
        with self.engine.begin() as conn:
            conn.execute(delete(self.queued).where(self.queued.c.ticket == ticket))

    def save_document(self, tenant_id: str, document: NewDocument, chunks: list[tuple[str, list[float]]],
                      ticket: str | None = None) -> StoredDocument | None:
        """Store a document and all its chunks in one transaction, or nothing at all.

        Saving the same document id again with the same content changes nothing; with new
        content it replaces the old chunks. A queued document (its ticket) that a DELETE superseded is not
        stored: None, as is one whose ticket is gone (its tenant was removed while it was being embedded, or it was
        stored already and this is a redelivery). The ticket's row is locked first, as delete_document and
        purge_tenant lock it, so they never cross.
        """
        _require_tenant(tenant_id)
        for _, vector in chunks:
            if len(vector) != self.dimensions:
                raise StoreError(f"embedding has {len(vector)} dimensions, the store expects {self.dimensions}")
        d, c, q = self.documents, self.chunks, self.queued
        with self.engine.begin() as conn:
            if ticket is not None:
                mine = (q.c.ticket == ticket) & (q.c.tenant_id == tenant_id)
                entry = conn.execute(select(q.c.superseded).where(mine).with_for_update()).first()
                conn.execute(delete(q).where(mine))
                if entry is None or entry.superseded:  # a DELETE superseded it, or its tenant was removed
                    return None
            existing = conn.execute(
                select(d.c.id, d.c.content_hash)
                .where(d.c.tenant_id == tenant_id, d.c.document_id == document.document_id)
                .with_for_update()
            ).first()
            if existing is not None and existing.content_hash == document.content_hash:
                count = conn.scalar(select(func.count()).select_from(c).where(c.c.document_pk == existing.id))
                return StoredDocument(document.document_id, document.title, count, created=False)
            if existing is not None:
                conn.execute(delete(d).where(d.c.id == existing.id))
            pk = conn.scalar(
                d.insert()
                .values(tenant_id=tenant_id, document_id=document.document_id, title=document.title,
                        content_type=document.content_type, content_hash=document.content_hash,
                        metadata=document.metadata)
                .returning(d.c.id)
            )
            conn.execute(
                c.insert(),
                [{"document_pk": pk, "tenant_id": tenant_id, "ordinal": i, "text": body, "embedding": vector}
                 for i, (body, vector) in enumerate(chunks)],
            )
        return StoredDocument(document.document_id, document.title, len(chunks), created=True)

    def document_ids(self, tenant_id: str) -> list[str]:
        _require_tenant(tenant_id)
        d = self.documents
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(d.c.document_id).where(d.c.tenant_id == tenant_id).order_by(d.c.document_id)
            )
            return list(rows.scalars())

    def document_summaries(self, tenant_id: str, document_id: str | None = None) -> list[DocumentSummary]:
        """The tenant's documents with their chunk counts, by document id; only one when document_id is given."""
        _require_tenant(tenant_id)
        d, c = self.documents, self.chunks
        query = (
            select(d.c.document_id, d.c.title, d.c.content_type, func.count(c.c.id).label("chunk_count"))
            .outerjoin(c, c.c.document_pk == d.c.id)
            .where(d.c.tenant_id == tenant_id)
            .group_by(d.c.id)
            .order_by(d.c.document_id)
        )
        if document_id is not None:
            query = query.where(d.c.document_id == document_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [DocumentSummary(r.document_id, r.title, r.content_type, r.chunk_count) for r in rows]

    def delete_document(self, tenant_id: str, document_id: str) -> bool:
        """Delete a document and its chunks, and supersede its queued versions; False when the tenant has
        neither such a document nor one queued."""
        _require_tenant(tenant_id)
        d, q = self.documents, self.queued
        with self.engine.begin() as conn:
            superseded = conn.execute(update(q).where(q.c.tenant_id == tenant_id, q.c.document_id == document_id,
                                                      q.c.superseded.is_(False)).values(superseded=True))
            deleted = conn.execute(delete(d).where(d.c.tenant_id == tenant_id, d.c.document_id == document_id))
        return deleted.rowcount > 0 or superseded.rowcount > 0

    def search(self, tenant_id: str, embedding: list[float], top_k: int, threshold: float) -> list[Passage]:
        """The top_k nearest chunks of this tenant, keeping those with similarity >= threshold."""
        _require_tenant(tenant_id)
        d, c = self.documents, self.chunks
        distance = c.c.embedding.cosine_distance(embedding)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(d.c.document_id, d.c.title, c.c.ordinal, c.c.text, distance.label("distance"))
                .join(d, d.c.id == c.c.document_pk)
                .where(c.c.tenant_id == tenant_id)
                .order_by(distance)
                .limit(top_k)
            ).all()
        passages = [Passage(r.document_id, r.title, r.ordinal, r.text, 1.0 - float(r.distance)) for r in rows]
        return [p for p in passages if p.score >= threshold]

    # agent memory ----------------------------------------------------------------------------

    def append_turns(self, tenant_id: str, agent_id: str, session_id: str, turns: list[Turn]) -> None:
        _require_tenant(tenant_id)
        with self.engine.begin() as conn:
            conn.execute(
                self.memory.insert(),
                [{"tenant_id": tenant_id, "agent_id": agent_id, "session_id": session_id,
                  "role": t.role, "content": t.content} for t in turns],
            )

    def recent_turns(self, tenant_id: str, agent_id: str, session_id: str, limit: int) -> list[Turn]:
        _require_tenant(tenant_id)
        m = self.memory
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(m.c.role, m.c.content)
                .where(m.c.tenant_id == tenant_id, m.c.agent_id == agent_id, m.c.session_id == session_id)
                .order_by(m.c.id.desc())
                .limit(limit)
            ).all()
        return [Turn(r.role, r.content) for r in reversed(rows)]

    # agents ----------------------------------------------------------------------------------

    def save_agent(self, tenant_id: str, agent: AgentDefinition) -> bool:
        """Store the agent's definition, replacing one with the same id; True when it is new."""
        _require_tenant(tenant_id)
        a = self.agents
        values = {"name": agent.name, "description": agent.description, "system_prompt": agent.system_prompt,
                  "tool_ids": list(agent.tool_ids), "status": agent.status}
        upsert = pg_insert(a).values(tenant_id=tenant_id, agent_id=agent.agent_id, **values)
        upsert = upsert.on_conflict_do_update(constraint="agents_tenant_agent_key", set_=values)
        with self.engine.begin() as conn:
            # xmax is 0 only on a freshly inserted row version: PostgreSQL's way to tell insert from update.
            return bool(conn.scalar(upsert.returning(literal_column("xmax = 0"))))

    def agent_definitions(self, tenant_id: str, agent_id: str | None = None) -> list[AgentDefinition]:
        """The tenant's agents by id; only one when agent_id is given."""
        _require_tenant(tenant_id)
        a = self.agents
        query = select(a).where(a.c.tenant_id == tenant_id).order_by(a.c.agent_id)
        if agent_id is not None:
            query = query.where(a.c.agent_id == agent_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [AgentDefinition(r.agent_id, r.name, r.description, r.system_prompt, tuple(r.tool_ids), r.status)
                for r in rows]

    # messages between agents ----------------------------------------------------------------

    def receive_message(self, tenant_id: str, agent_id: str, message: ReceivedMessage) -> bool:
        """Keep a message the agent received; False when it already had it (a redelivery)."""
        _require_tenant(tenant_id)
        row = pg_insert(self.agent_messages).values(
            tenant_id=tenant_id, agent_id=agent_id, message_id=message.message_id,
            source_agent_id=message.source_agent_id, message_type=message.message_type, content=message.content)
        with self.engine.begin() as conn:
            kept = conn.scalar(row.on_conflict_do_nothing(constraint="agent_messages_once_key")
                               .returning(self.agent_messages.c.id))
        return kept is not None

    def received_messages(self, tenant_id: str, agent_id: str) -> list[ReceivedMessage]:
        """The messages the agent received, oldest first."""
        _require_tenant(tenant_id)
        m = self.agent_messages
        with self.engine.connect() as conn:
            rows = conn.execute(select(m).where(m.c.tenant_id == tenant_id, m.c.agent_id == agent_id)
                                .order_by(m.c.id)).all()
        return [ReceivedMessage(r.message_id, r.source_agent_id, r.message_type, r.content) for r in rows]

    # housekeeping ----------------------------------------------------------------------------

    def purge_tenant(self, tenant_id: str) -> None:
        """Delete every row of a tenant (chunks go with their documents), agents and their messages included.

        The queued tickets go first: that waits for an ingestion worker storing one of them to commit, so the
        documents' delete after it sees what that worker stored, and a worker that comes later finds no ticket."""
        _require_tenant(tenant_id)
        with self.engine.begin() as conn:
            conn.execute(delete(self.queued).where(self.queued.c.tenant_id == tenant_id))
            conn.execute(delete(self.documents).where(self.documents.c.tenant_id == tenant_id))
            conn.execute(delete(self.memory).where(self.memory.c.tenant_id == tenant_id))
            conn.execute(delete(self.agents).where(self.agents.c.tenant_id == tenant_id))
            conn.execute(delete(self.agent_messages).where(self.agent_messages.c.tenant_id == tenant_id))


def _require_tenant(tenant_id: str) -> None:
    if not tenant_id or not tenant_id.strip():
        raise StoreError("a tenant id is required for every store operation")
