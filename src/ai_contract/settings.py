"""The operator settings a service instance reads from its environment.

A deployment that gives the suite a launch file (harness.platform.launch) lets it start more instances of
its services with some of these changed, the way an operator would redeploy: a scenario that needs a
provider timeout, a fallback chain, a cache TTL or a replica of its own then runs against the deployment's
own code. Values are strings, as environment variables are.
"""

# Where the service's servers and neighbours are.
DATABASE_URL, NATS_URL = "DATABASE_URL", "NATS_URL"
GATEWAY_SERVICE_URL, RAG_SERVICE_URL, AGENT_SERVICE_URL = "GATEWAY_SERVICE_URL", "RAG_SERVICE_URL", "AGENT_SERVICE_URL"
# The model provider: an OpenAI-compatible base URL and key, and the provider model behind each platform model.
LLM_API_BASE, LLM_API_KEY = "LLM_API_BASE", "LLM_API_KEY"
LLM_CHAT_MODEL, LLM_BACKUP_MODEL, LLM_EMBEDDING_MODEL = "LLM_CHAT_MODEL", "LLM_BACKUP_MODEL", "LLM_EMBEDDING_MODEL"
EMBEDDING_DIMENSIONS = "EMBEDDING_DIMENSIONS"
# The gateway: seconds before a model call gives up; "primary:backup,..." model names; seconds a cached answer
# lives; "model=<input USD per million tokens>/<output>,...".
GATEWAY_TIMEOUT_S, GATEWAY_FALLBACKS = "GATEWAY_TIMEOUT_S", "GATEWAY_FALLBACKS"
GATEWAY_CACHE_TTL_S, GATEWAY_PRICES = "GATEWAY_CACHE_TTL_S", "GATEWAY_PRICES"
# Seconds a service waits for a service it calls.
DEPENDENCY_TIMEOUT_S = "DEPENDENCY_TIMEOUT_S"
# RAG: chunking, the similarity a passage needs, and the ingestion consumer's redelivery.
RAG_CHUNK_SIZE, RAG_CHUNK_OVERLAP = "RAG_CHUNK_SIZE", "RAG_CHUNK_OVERLAP"
RAG_SIMILARITY_THRESHOLD = "RAG_SIMILARITY_THRESHOLD"
RAG_INGEST_ACK_WAIT_S, RAG_INGEST_MAX_DELIVER = "RAG_INGEST_ACK_WAIT_S", "RAG_INGEST_MAX_DELIVER"
# "on": the instance serves its NATS subjects (queue groups); "off": HTTP only, so a differently configured
# instance never takes the deployment's bus work. SERVICE_INSTANCE names one replica among others.
NATS_WORKERS, SERVICE_INSTANCE = "NATS_WORKERS", "SERVICE_INSTANCE"
# Who may call: the secret the services check tenant keys with, and the operator's key (never logged).
PLATFORM_KEY_SECRET, PLATFORM_OPERATOR_KEY = "PLATFORM_KEY_SECRET", "PLATFORM_OPERATOR_KEY"
# The seed of the account key the NATS server trusts as its auth callout issuer (an "SA..." nkey seed): services
# that hold it let a tenant's client onto the bus with the tenant's key. NATS_URL names the service user.
NATS_AUTH_ISSUER_SEED = "NATS_AUTH_ISSUER_SEED"
# Seconds a service waits for a request's body before it answers 408 (its OpenAPI document states it).
HTTP_BODY_TIMEOUT_S = "HTTP_BODY_TIMEOUT_S"
# Debug logging, for an operator hunting a problem (no secret may appear even then); every service reads it.
LOG_LEVEL = "LOG_LEVEL"

# The settings one service reads and another may not (LOG_LEVEL and the keys, read by all, are not among them).
OPERATOR_SETTINGS = frozenset({
    DATABASE_URL, NATS_URL, GATEWAY_SERVICE_URL, RAG_SERVICE_URL, AGENT_SERVICE_URL, LLM_API_BASE, LLM_API_KEY,
    LLM_CHAT_MODEL, LLM_BACKUP_MODEL, LLM_EMBEDDING_MODEL, EMBEDDING_DIMENSIONS, GATEWAY_TIMEOUT_S, GATEWAY_FALLBACKS,
    GATEWAY_CACHE_TTL_S, GATEWAY_PRICES, DEPENDENCY_TIMEOUT_S, RAG_CHUNK_SIZE, RAG_CHUNK_OVERLAP,
    RAG_SIMILARITY_THRESHOLD, RAG_INGEST_ACK_WAIT_S, RAG_INGEST_MAX_DELIVER, NATS_WORKERS, SERVICE_INSTANCE,
})
