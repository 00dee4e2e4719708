"""SQLAlchemy 2 + pgvector storage: documents, chunks with text and embeddings, agent memory."""

from ai_platform.store.store import NewDocument, Passage, Store, StoredChunk, StoredDocument, StoreError, Turn

__all__ = ["NewDocument", "Passage", "Store", "StoreError", "StoredChunk", "StoredDocument", "Turn"]
