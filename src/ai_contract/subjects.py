"""Subject names: ai.<component>.<operation>.<tenant>, and the queue groups behind them."""

from __future__ import annotations

from ai_contract.ids import is_valid_id

AGENT_WORKERS = "agent.workers"
# An agent process reads its messages in the queue group of its own id (agent.<id>); the agent service, which
# hosts many agents, reads every agent's messages in one group of its own and keeps those of its agents.
AGENT_SERVICE_INBOX = "agent.service"
# agent_message.message_type: a request an agent answers, and the answer, which is not answered again.
REQUEST_MESSAGE, REPLY_MESSAGE = "text", "reply"
GATEWAY_WORKERS = "gateway.workers"
RAG_WORKERS = "rag.workers"
INGEST_STREAM = "AI_RAG_INGEST"
DEAD_LETTER_STREAM = "AI_DLQ"


def subject(component: str, operation: str, tenant_id: str) -> str:
    """A tenant's subject; a tenant id that could widen the subject (dots, wildcards) is refused."""
    if not is_valid_id(tenant_id):
        raise ValueError(f"tenant id {tenant_id!r} cannot be a subject token: use letters, digits, '-' or '_'")
    return f"ai.{component}.{operation}.{tenant_id}"


def agent_messages(tenant_id: str) -> str:
    return subject("agent", "message", tenant_id)


def agent_tasks(tenant_id: str) -> str:
    return subject("agent", "tasks", tenant_id)


def agent_results(tenant_id: str) -> str:
    return subject("agent", "results", tenant_id)


def gateway_requests(tenant_id: str) -> str:
    return subject("gateway", "requests", tenant_id)


def rag_ingest(tenant_id: str) -> str:
    return subject("rag", "ingest", tenant_id)


def rag_queries(tenant_id: str) -> str:
    return subject("rag", "queries", tenant_id)


def every_tenant(tenant_subject) -> str:
    """The wildcard a worker serving every tenant subscribes to, e.g. every_tenant(gateway_requests)."""
    return tenant_subject("_").rsplit(".", 1)[0] + ".*"


def tenant_of(subject_name: str) -> str:
    """The tenant a message's subject names: its last token."""
    return subject_name.rsplit(".", 1)[-1]


def dead_letter(component: str, tenant_id: str) -> str:
    return f"ai.dlq.{component}.{tenant_id}"


def ingest_durable(tenant_id: str | None) -> str:
    """The durable consumer through which ingestion workers share documents: one tenant's, or everyone's."""
    return f"rag-ingest-{tenant_id}" if tenant_id else "rag-ingest-all-tenants"


def of_tenant(tenant_id: str) -> list[str]:
    """Filters for every subject that carries the tenant's messages in a stream."""
    subject("any", "any", tenant_id)  # refuses a tenant id that could widen the filter
    return [f"ai.*.*.{tenant_id}"]


# Bus permissions (CONTRACTS.md, "Bus permissions"): the NATS server, not the platform's code, keeps tenants
# apart. A tenant's client connects with its tenant key as the token and may publish and subscribe only on
# its own subjects and its own reply inbox (a client sets that as its inbox prefix), nothing else. Streams,
# consumers and the gateway's cache bucket (the JetStream API) are the services' alone; services connect
# as service users of the account, and a connection with no key or a wrong one is refused.
PLATFORM_ACCOUNT = "PLATFORM"  # the account the services and every tenant's clients share


def tenant_inbox_prefix(tenant_id: str) -> str:
    """The inbox prefix a tenant's client uses, so the replies it waits for are on subjects only it may read."""
    subject("any", "any", tenant_id)
    return f"_INBOX.{tenant_id}"


def tenant_permissions(tenant_id: str) -> dict[str, list[str]]:
    """What a tenant's bus client may do: publish and subscribe on these subjects, nothing else."""
    own = of_tenant(tenant_id)
    return {"publish": own, "subscribe": [*own, f"{tenant_inbox_prefix(tenant_id)}.>"]}
