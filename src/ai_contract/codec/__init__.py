"""The message codec: a versioned envelope around every message the platform sends.

    raw = encode("agent_message", {...}, format="msgpack")
    envelope = decode(raw)            # format detected from the bytes
    envelope.data.content             # typed, current shape, whatever version was sent

The messaging layer puts ``headers_for(format)`` on NATS messages, reads them back with
``format_from_headers(headers)``, and parks any :class:`CodecError` on a dead-letter subject
with ``error.reason``. A worker that cannot serve a request replies with an ``error`` message
(:class:`ErrorReply`: a snake_case ``code``, a one-sentence ``message``, ``details``, the
``request_id`` and a ``timestamp``).
"""

from .envelope import (
    DEFAULT_MAX_SIZE,
    SUPPORTED_VERSIONS,
    Envelope,
    decode,
    encode,
    new_message_id,
    validate,
)
from .errors import (
    CodecError,
    DecodeError,
    EncodeError,
    FieldError,
    MessageTooLargeError,
    UnknownMessageTypeError,
    UnsupportedFormatError,
    UnsupportedVersionError,
    ValidationError,
)
from .formats import (
    CONTENT_TYPE_HEADER,
    CONTENT_TYPES,
    FORMATS,
    Format,
    detect_format,
    format_from_headers,
    headers_for,
)
from .schemas import (
    CURRENT_VERSIONS,
    MESSAGE_TYPES,
    json_schema,
    json_schemas,
    write_json_schemas,
)
from .schemas.v1 import (
    AgentMessage,
    AgentTask,
    ChatMessage,
    Chunk,
    EmbeddingRequest,
    ErrorReply,
    LLMParameters,
    LLMRequest,
    LLMResponse,
    QueryParameters,
    RAGDocument,
    RAGQuery,
    RAGResult,
    ResultMetadata,
    TokenUsage,
)

__all__ = [
    "CONTENT_TYPES",
    "CONTENT_TYPE_HEADER",
    "CURRENT_VERSIONS",
    "DEFAULT_MAX_SIZE",
    "FORMATS",
    "MESSAGE_TYPES",
    "SUPPORTED_VERSIONS",
    "AgentMessage",
    "AgentTask",
    "ChatMessage",
    "Chunk",
    "CodecError",
    "DecodeError",
    "EmbeddingRequest",
    "EncodeError",
    "Envelope",
    "ErrorReply",
    "FieldError",
    "Format",
    "LLMParameters",
    "LLMRequest",
    "LLMResponse",
    "MessageTooLargeError",
    "QueryParameters",
    "RAGDocument",
    "RAGQuery",
    "RAGResult",
    "ResultMetadata",
    "TokenUsage",
    "UnknownMessageTypeError",
    "UnsupportedFormatError",
    "UnsupportedVersionError",
    "ValidationError",
    "decode",
    "detect_format",
    "encode",
    "format_from_headers",
    "headers_for",
    "json_schema",
    "json_schemas",
    "new_message_id",
    "validate",
    "write_json_schemas",
]
