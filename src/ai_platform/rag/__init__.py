"""RAG: chunking, ingestion, retrieval with a similarity threshold, grounded answers with sources."""

from ai_platform.rag.chunking import ChunkingPolicy, chunk_text
from ai_platform.rag.errors import DocumentRejected, EmptyDocument, UnsupportedDocumentType
from ai_platform.rag.ingestion import SUPPORTED_TYPES, Document, Ingestor
from ai_platform.rag.query import NOT_IN_KNOWLEDGE_BASE, RagAnswer, RetrievalSettings, Retriever, grounded_messages

__all__ = [
    "NOT_IN_KNOWLEDGE_BASE", "SUPPORTED_TYPES", "ChunkingPolicy", "Document", "DocumentRejected",
    "EmptyDocument", "Ingestor", "RagAnswer", "RetrievalSettings", "Retriever", "UnsupportedDocumentType",
    "chunk_text", "grounded_messages",
]
