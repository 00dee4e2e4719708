"""SQLAlchemy 2 + pgvector storage: documents, chunks with text and embeddings, agent memory, agents."""

from ai_platform.store.lazy import LazyStore
from ai_platform.store.store import (
    AgentDefinition,
    DocumentSummary,
    NewDocument,
    Passage,
    Store,
    StoredChunk,
    StoredDocument,
    StoreError,
    Turn,
)

__all__ = [
    "AgentDefinition", "DocumentSummary", "LazyStore", "NewDocument", "Passage", "Store", "StoreError",
    "StoredChunk", "StoredDocument", "Turn",
]
