"""SQLAlchemy 2 + pgvector storage: documents, chunks with text and embeddings, agent memory, agents.

The records import at once; `Store` and `LazyStore` (and SQLAlchemy with them) on first use, so code that
only names a record does not pay for the database driver.
"""

from importlib import import_module

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

_ON_FIRST_USE = {"Store": "ai_platform.store.store", "LazyStore": "ai_platform.store.lazy"}


def __getattr__(name: str):
    if name in _ON_FIRST_USE:
        return getattr(import_module(_ON_FIRST_USE[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AgentDefinition", "DocumentSummary", "LazyStore", "NewDocument", "Passage", "ReceivedMessage", "Store",
    "StoreError", "StoredDocument", "Turn",
]
