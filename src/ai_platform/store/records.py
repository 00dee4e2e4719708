"""What the store takes and gives back: plain records, importable without SQLAlchemy."""

from __future__ import annotations

from dataclasses import dataclass, field


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
class Turn:
    role: str
    content: str


@dataclass(frozen=True)
class DocumentSummary:
    document_id: str
    title: str
    content_type: str
    chunk_count: int


@dataclass(frozen=True)
class AgentDefinition:
    agent_id: str
    name: str
    description: str = ""
    system_prompt: str | None = None
    tool_ids: tuple[str, ...] = ()
    status: str = "active"


@dataclass(frozen=True)
class ReceivedMessage:
    """A message another agent sent to an agent: a request ("text") or the answer to one ("reply")."""

    message_id: str
    source_agent_id: str
    message_type: str
    content: str
