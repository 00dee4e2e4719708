"""Version 1.0 shapes of every message type: the current shape readers see.

Rules for evolving these shapes within major 1 (a new minor):
add fields only, always with a default, and never change a field's type or meaning.
Anything else is a new major with a migration in ``codec.migrations``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

VERSION = "1.0"

Id = Annotated[str, Meta(min_length=1, max_length=256, description="Opaque identifier.")]
Name = Annotated[str, Meta(min_length=1, max_length=256)]
Timestamp = Annotated[
    datetime, Meta(tz=True, description="When the producer made it; RFC 3339 with a timezone.")
]
# Metadata holds JSON values: str, int, float, bool, null, lists and string-keyed maps.
Metadata = dict[str, Any]
NonNegativeInt = Annotated[int, Meta(ge=0)]
NonNegativeFloat = Annotated[float, Meta(ge=0)]

# Shapes are kw_only Structs: built by name, and unknown fields are ignored on read.


class AgentMessage(msgspec.Struct, kw_only=True):
    """A message from one agent to another."""

    message_id: Id
    source_agent_id: Id
    target_agent_id: Id
    content: str
    message_type: Name = "text"
    timestamp: Timestamp
    metadata: Metadata = {}


class AgentTask(msgspec.Struct, kw_only=True):
    """A unit of work a manager hands to an agent worker."""

    task_id: Id
    agent_id: Id
    task_type: Name
    parameters: Metadata = {}
    priority: Annotated[int, Meta(ge=0, le=10, description="0 lowest, 10 highest.")] = 5
    timestamp: Timestamp


class ChatMessage(msgspec.Struct, kw_only=True):
    """One turn of a chat conversation sent to the model."""

    role: Literal["system", "user", "assistant", "tool"]
    content: str


class LLMParameters(msgspec.Struct, kw_only=True):
    temperature: Annotated[float, Meta(ge=0, le=2)] = 0.7
    max_tokens: Annotated[int, Meta(ge=1)] | None = None


class LLMRequest(msgspec.Struct, kw_only=True):
    """A completion request to the gateway: a prompt or chat messages, not both."""

    request_id: Id
    prompt: str | None = None
    messages: list[ChatMessage] | None = None
    model: Name
    tenant_id: Id
    parameters: LLMParameters = msgspec.field(default_factory=LLMParameters)
    timestamp: Timestamp

    def __post_init__(self) -> None:
        if (self.prompt is None) == (self.messages is None):
            raise ValueError("exactly one of prompt or messages is required")


class TokenUsage(msgspec.Struct, kw_only=True):
    prompt: NonNegativeInt = 0
    completion: NonNegativeInt = 0
    total: NonNegativeInt = 0


class LLMResponse(msgspec.Struct, kw_only=True):
    """The gateway's answer to an llm_request, with usage and cost."""

    request_id: Id
    response: str
    tokens: TokenUsage = msgspec.field(default_factory=TokenUsage)
    cost: NonNegativeFloat = 0.0
    model: Name
    timestamp: Timestamp


class EmbeddingRequest(msgspec.Struct, kw_only=True):
    """Texts to embed with one model for one tenant."""

    request_id: Id
    texts: Annotated[list[str], Meta(min_length=1)]
    model: Name
    tenant_id: Id


class Chunk(msgspec.Struct, kw_only=True):
    chunk_id: Id
    content: str
    embedding: list[float] = []
    metadata: Metadata = {}


class RAGDocument(msgspec.Struct, kw_only=True):
    """A document to ingest, optionally already chunked and embedded."""

    document_id: Id
    content: str
    metadata: Metadata = {}
    chunks: list[Chunk] = []
    tenant_id: Id
    timestamp: Timestamp


class QueryParameters(msgspec.Struct, kw_only=True):
    top_k: Annotated[int, Meta(ge=1, le=100)] = 5
    similarity_threshold: Annotated[float, Meta(ge=0, le=1)] = 0.7


class RAGQuery(msgspec.Struct, kw_only=True):
    """A question to the knowledge base of one tenant."""

    query_id: Id
    query: Annotated[str, Meta(min_length=1)]
    tenant_id: Id
    parameters: QueryParameters = msgspec.field(default_factory=QueryParameters)
    timestamp: Timestamp


class ResultMetadata(msgspec.Struct, kw_only=True):
    tokens: NonNegativeInt = 0
    cost: NonNegativeFloat = 0.0


class RAGResult(msgspec.Struct, kw_only=True):
    """The grounded answer to a rag_query, with the sources it used."""

    query_id: Id
    answer: str
    sources: list[str] = []
    metadata: ResultMetadata = msgspec.field(default_factory=ResultMetadata)
    timestamp: Timestamp


# Short snake_case, like the codec's own reasons; "(?!\n)$" is the end of the text in Python
# and in JSON Schema alike (Python's "$" alone also matches before a final line break).
ReasonCode = Annotated[
    str,
    Meta(
        min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*(?!\n)$",
        description="Short snake_case reason, e.g. rate_limited.",
    ),
]


class ErrorReply(msgspec.Struct, kw_only=True):
    """The reply a worker sends instead of a result when it cannot serve a request."""

    code: ReasonCode
    message: Annotated[str, Meta(min_length=1, description="One sentence for people.")]
    details: Metadata = {}
    request_id: Id | None = None
    timestamp: Timestamp


SHAPES: dict[str, type[msgspec.Struct]] = {
    "agent_message": AgentMessage,
    "agent_task": AgentTask,
    "llm_request": LLMRequest,
    "llm_response": LLMResponse,
    "embedding_request": EmbeddingRequest,
    "rag_document": RAGDocument,
    "rag_query": RAGQuery,
    "rag_result": RAGResult,
    "error": ErrorReply,
}
