"""Document, chunk and memory storage on PostgreSQL + pgvector. Every call is tenant-scoped."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import create_engine, delete, func, select, text
from sqlalchemy.engine import Engine

from ai_platform.store.schema import build_tables


class StoreError(Exception):
    pass


@dataclass(frozen=True)
class NewDocument:
    document_id: str
    title: str
    content_type: str
    content_hash: str
    metadata: dict = field(default_factory=dict)


@dataclass(frozen=True)
class StoredDocument:
    document_id: str
    title: str
    chunk_count: int
    created: bool  # False when an identical document was already stored


@dataclass(frozen=True)
class Passage:
    document_id: str
    title: str
    ordinal: int
    text: str
    score: float  # cosine similarity, 1.0 is identical


@dataclass(frozen=True)
class StoredChunk:
    ordinal: int
    text: str
    dimensions: int


@dataclass(frozen=True)
class Turn:
    role: str
    content: str


class Store:
    def __init__(self, database_url: str, dimensions: int, engine: Engine | None = None) -> None:
        self.dimensions = dimensions
        self.engine = engine or create_engine(database_url, pool_pre_ping=True)
        self._metadata, self.documents, self.chunks, self.memory = build_tables(dimensions)

    def create_schema(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
        self._metadata.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    # documents -------------------------------------------------------------------------------

    def save_document(self, tenant_id: str, document: NewDocument,
                      chunks: list[tuple[str, list[float]]]) -> StoredDocument:
        """Store a document and all its chunks in one transaction, or nothing at all.

        Saving the same document id again with the same content changes nothing; with new
        content it replaces the old chunks.
        """
        _require_tenant(tenant_id)
        for _, vector in chunks:
            if len(vector) != self.dimensions:
                raise StoreError(f"embedding has {len(vector)} dimensions, the store expects {self.dimensions}")
        d, c = self.documents, self.chunks
        with self.engine.begin() as conn:
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

    def stored_chunks(self, tenant_id: str, document_id: str) -> list[StoredChunk]:
        _require_tenant(tenant_id)
        d, c = self.documents, self.chunks
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(c.c.ordinal, c.c.text, c.c.embedding)
                .join(d, d.c.id == c.c.document_pk)
                .where(c.c.tenant_id == tenant_id, d.c.tenant_id == tenant_id, d.c.document_id == document_id)
                .order_by(c.c.ordinal)
            ).all()
        return [StoredChunk(r.ordinal, r.text, len(r.embedding)) for r in rows]

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

    # housekeeping ----------------------------------------------------------------------------

    def purge_tenant(self, tenant_id: str) -> None:
        """Delete every row of a tenant (chunks go with their documents)."""
        _require_tenant(tenant_id)
        with self.engine.begin() as conn:
            conn.execute(delete(self.documents).where(self.documents.c.tenant_id == tenant_id))
            conn.execute(delete(self.memory).where(self.memory.c.tenant_id == tenant_id))

    def count_rows(self, tenant_id: str) -> dict[str, int]:
        _require_tenant(tenant_id)
        with self.engine.connect() as conn:
            return {
                table.name: conn.scalar(
                    select(func.count()).select_from(table).where(table.c.tenant_id == tenant_id)
                )
                for table in (self.documents, self.chunks, self.memory)
            }


def _require_tenant(tenant_id: str) -> None:
    if not tenant_id or not tenant_id.strip():
        raise StoreError("a tenant id is required for every store operation")
