"""An independent read of what the platform stored: plain SQL on the tables the contract names.

Only scenarios tagged @storage read here: an external platform's database is read only when the run is
given its DATABASE_URL.

Then steps about persistence read through here rather than through the platform's own store
helpers, so a platform that reports one thing and stores another is caught.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, text

if TYPE_CHECKING:
    from harness.world import World

# queued_documents: documents accepted for background ingestion (202) and not stored yet.
TENANT_TABLES = ("documents", "chunks", "agent_memory", "agents", "agent_messages", "queued_documents")


@dataclass(frozen=True)
class ChunkRow:
    ordinal: int
    text: str
    dimensions: int


class Database:
    def __init__(self, world: World) -> None:
        self._world = world
        self._engine = create_engine(world.session.database_url)
        world.add_cleanup(self._engine.dispose)

    def _rows(self, sql: str, **params) -> list:
        with self._engine.connect() as conn:
            return conn.execute(text(sql), params).all()

    def document_ids(self, tenant_id: str) -> list[str]:
        rows = self._rows("SELECT document_id FROM documents WHERE tenant_id = :t ORDER BY document_id", t=tenant_id)
        return [r.document_id for r in rows]

    def chunks(self, tenant_id: str, document_id: str) -> list[ChunkRow]:
        rows = self._rows(
            "SELECT c.ordinal, c.text, vector_dims(c.embedding) AS dims FROM chunks c"
            " JOIN documents d ON d.id = c.document_pk"
            " WHERE d.tenant_id = :t AND d.document_id = :d ORDER BY c.ordinal", t=tenant_id, d=document_id)
        return [ChunkRow(r.ordinal, r.text, r.dims) for r in rows]

    def row_counts(self, tenant_id: str) -> dict[str, int]:
        """Rows of every tenant-scoped table that carry this tenant id."""
        return {table: self._rows(f"SELECT count(*) AS n FROM {table} WHERE tenant_id = :t", t=tenant_id)[0].n
                for table in TENANT_TABLES}
