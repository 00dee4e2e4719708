"""The HTTP routes of the platform's services, as their OpenAPI documents name them."""

HEALTH = "/health"
READY = "/ready"

GENERATE = "/api/v1/gateway/generate"
GENERATE_STREAM = "/api/v1/gateway/generate/stream"
EMBEDDINGS = "/api/v1/gateway/embeddings"
CACHE_STATS = "/api/v1/gateway/cache/stats"
OPENAI_CHAT = "/v1/chat/completions"
OPENAI_EMBEDDINGS = "/v1/embeddings"
OPENAI_MODELS = "/v1/models"

DOCUMENTS = "/api/v1/rag/documents"
RAG_QUERY = "/api/v1/rag/query"
RAG_SEARCH = "/api/v1/rag/search"

AGENTS = "/api/v1/agents"
QUERY = "/api/v1/query"

# The operator's removal of everything a tenant owns (served by the RAG service).
TENANTS = "/api/v1/tenants"


def document(document_id: str) -> str:
    return f"{DOCUMENTS}/{document_id}"


def agent_chat(agent_id: str) -> str:
    return f"{AGENTS}/{agent_id}/chat"


def agent_execute(agent_id: str) -> str:
    return f"{AGENTS}/{agent_id}/execute"


def agent_messages(agent_id: str) -> str:
    """POST: the agent sends a message to another agent; GET: the messages it received."""
    return f"{AGENTS}/{agent_id}/messages"


def tenant(tenant_id: str) -> str:
    return f"{TENANTS}/{tenant_id}"


def tenant_keys(tenant_id: str) -> str:
    """POST, with the operator key: a key for the tenant, {tenant_id, key}."""
    return f"{TENANTS}/{tenant_id}/keys"
