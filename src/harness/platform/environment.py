"""The environment a platform service gets: what an operator would set, taken from the suite's session.

The fleet adds where each service's dependencies listen (GATEWAY_SERVICE_URL and the like).
"""

from __future__ import annotations

import os
from typing import Any, Protocol

from ai_contract.settings import OPERATOR_SETTINGS

# The model names the platform offers, by the role the specs give them.
PLATFORM_MODEL_NAMES = {"primary": "chat", "backup": "chat-backup", "embedding": "embedding"}


class SuiteSettings(Protocol):
    """What the environment reads of the suite's session (harness.session.SuiteSession, which imports this
    module: a protocol keeps the import one-way)."""

    llm_profile: str
    dimensions: int
    infra: Any
    database_url: str
    otlp_endpoint: str
    key_secret: str | None
    operator_key: str

    def deployments(self) -> tuple: ...

# The suite's operator settings; they match the in-process platform's in harness.world. The scripted
# embedder scores related passages lower than a real model, hence a lower threshold than the 0.7 default.
SCRIPTED_SIMILARITY_THRESHOLD = 0.3
PLATFORM_SIMILARITY_THRESHOLD = 0.7
# all-MiniLM-L6-v2 (the local profile) scores a question that shares words with the right passage 0.71 to 0.84,
# a paraphrase with no word in common 0.41 to 0.55, and wrong or unrelated passages -0.14 to 0.25 (README,
# "The local profile"): 0.7 would drop every paraphrase, 0.35 keeps them all and stays 0.1 above the noise.
LOCAL_SIMILARITY_THRESHOLD = 0.35
SIMILARITY_THRESHOLDS = {"scripted": SCRIPTED_SIMILARITY_THRESHOLD, "local": LOCAL_SIMILARITY_THRESHOLD}
CHUNK_SIZE, CHUNK_OVERLAP = 300, 50
# The scripted model answers in milliseconds, so a slow-model scenario need not wait long for the 504.
SCRIPTED_GATEWAY_TIMEOUT_S, LIVE_GATEWAY_TIMEOUT_S = 2.0, 60.0
# Above the gateway's timeout, so a slow model surfaces as the gateway's 504, not as a caller's timeout.
DEPENDENCY_TIMEOUT_S = 15.0
# The local profile's real model shares 2 cores with the run and answers one call at a time (a few seconds
# each, more when calls queue): longer timeouts, kept in the same order and under the suite's HTTP client's 30 s.
LOCAL_GATEWAY_TIMEOUT_S, LOCAL_DEPENDENCY_TIMEOUT_S = 20.0, 25.0
LOOPBACK_HOSTS = "127.0.0.1,localhost"
# A body that stalls is answered 408 after this long: short, so its scenario does not wait long.
BODY_TIMEOUT_S = 3.0
# Every service exports its spans and metrics to the suite's OTLP receiver, soon after they happen: a Then
# step waits for them. Delta temporality sends only what changed since the last export (every tenant of
# the run is a series of its own; cumulative exports would repeat all of them twice a second).
TELEMETRY_SETTINGS = {
    "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
    "OTEL_BSP_SCHEDULE_DELAY": "100",
    "OTEL_METRIC_EXPORT_INTERVAL": "500",
    "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE": "delta",
    "OTEL_PYTHON_FASTAPI_EXCLUDED_URLS": "/health,/ready",  # the fleet's readiness polls are no one's request
}

# The contract between the harness and the services; never inherited from the shell that runs the suite.
SERVICE_VARIABLES = OPERATOR_SETTINGS
# What each service reads of them: two configurations that agree on these share one instance.
READS = {
    "gateway": frozenset({"LLM_API_BASE", "LLM_API_KEY", "LLM_CHAT_MODEL", "LLM_BACKUP_MODEL", "LLM_EMBEDDING_MODEL",
                          "GATEWAY_TIMEOUT_S", "GATEWAY_FALLBACKS", "GATEWAY_CACHE_TTL_S", "NATS_URL",
                          "NATS_WORKERS", "GATEWAY_PRICES", "SERVICE_INSTANCE"}),
    "rag": frozenset({"DATABASE_URL", "NATS_URL", "EMBEDDING_DIMENSIONS", "GATEWAY_SERVICE_URL", "DEPENDENCY_TIMEOUT_S",
                      "RAG_CHUNK_SIZE", "RAG_CHUNK_OVERLAP", "RAG_SIMILARITY_THRESHOLD", "NATS_WORKERS",
                      "SERVICE_INSTANCE", "RAG_INGEST_ACK_WAIT_S", "RAG_INGEST_MAX_DELIVER"}),
    "agent": frozenset({"DATABASE_URL", "NATS_URL", "EMBEDDING_DIMENSIONS", "GATEWAY_SERVICE_URL", "RAG_SERVICE_URL",
                        "DEPENDENCY_TIMEOUT_S", "NATS_WORKERS", "SERVICE_INSTANCE"}),
    "query": frozenset({"RAG_SERVICE_URL", "AGENT_SERVICE_URL", "DEPENDENCY_TIMEOUT_S"}),
}


def configuration_of(name: str, env: dict[str, str]) -> frozenset:
    """What makes one deployment of the service differ from another: the settings it reads, and
    anything else in its environment that is not another service's setting."""
    reads = READS.get(name, SERVICE_VARIABLES)
    return frozenset((k, v) for k, v in env.items() if k in reads or k not in SERVICE_VARIABLES)


def service_environment(session: SuiteSettings, *, overrides: dict[str, str] | None = None) -> dict[str, str]:
    """The variables every service reads, over the rest of os.environ (PATH, provider keys, OTEL_*), and where
    it exports its telemetry (the suite's receiver)."""
    settings = deployment_settings(session)  # first: starting PostgreSQL sets XDG_RUNTIME_DIR in os.environ
    return {**inherited_environment(), **settings, **own_settings(overrides)}


def own_settings(overrides: dict[str, str] | None) -> dict[str, str]:
    """A scenario's settings for an instance of its own. Such an instance answers HTTP only (NATS_WORKERS off):
    the message bus's requests go to the platform's usual deployment, whichever scenario ran before."""
    return {"NATS_WORKERS": "off", **overrides} if overrides else {}


def inherited_environment() -> dict[str, str]:
    """What a service takes from the shell that runs the suite: everything but the operator settings."""
    env = {name: value for name, value in os.environ.items() if name not in SERVICE_VARIABLES}
    # Services call each other on loopback; a proxy from the shell must not carry those calls.
    for name in ("NO_PROXY", "no_proxy"):
        env[name] = ",".join(filter(None, (env.get(name), LOOPBACK_HOSTS)))
    env.pop("OTEL_SERVICE_NAME", None)  # each service names itself; a name from the shell would merge them all
    return env


def deployment_settings(session: SuiteSettings) -> dict[str, str]:
    """The operator's settings for the suite's deployment: the same on every call, or the fleet would start
    a second copy of each service."""
    offered = {deployment.name: deployment for deployment in session.deployments()}
    chat, backup, embedding = (offered[PLATFORM_MODEL_NAMES[role]] for role in ("primary", "backup", "embedding"))
    threshold = SIMILARITY_THRESHOLDS.get(session.llm_profile, PLATFORM_SIMILARITY_THRESHOLD)
    local = session.llm_profile == "local"
    settings = {
        # Known before PostgreSQL is up: it starts in the background while the services start (their /ready waits).
        "DATABASE_URL": session.infra.database_url(wait=False),
        "NATS_URL": session.infra.nats_url(),
        "LLM_CHAT_MODEL": chat.provider_model,
        "LLM_BACKUP_MODEL": backup.provider_model,
        "LLM_EMBEDDING_MODEL": embedding.provider_model,
        "EMBEDDING_DIMENSIONS": str(session.dimensions),
        "GATEWAY_TIMEOUT_S": f"{_gateway_timeout_s(session.llm_profile):g}",
        "GATEWAY_FALLBACKS": "",
        "DEPENDENCY_TIMEOUT_S": f"{LOCAL_DEPENDENCY_TIMEOUT_S if local else DEPENDENCY_TIMEOUT_S:g}",
        "RAG_CHUNK_SIZE": str(CHUNK_SIZE),
        "RAG_CHUNK_OVERLAP": str(CHUNK_OVERLAP),
        "RAG_SIMILARITY_THRESHOLD": f"{threshold:g}",
        # LiteLLM would otherwise fetch its model cost map from the internet at import.
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "NATS_WORKERS": "on",
        "HTTP_BODY_TIMEOUT_S": f"{BODY_TIMEOUT_S:g}",
        "PLATFORM_KEY_SECRET": session.key_secret or "",
        "PLATFORM_OPERATOR_KEY": session.operator_key,
        # The receiver is the same for the whole run, so the environment stays the same on every call.
        "OTEL_EXPORTER_OTLP_ENDPOINT": session.otlp_endpoint,
        **TELEMETRY_SETTINGS,
    }
    if session.infra.owns_nats:  # the suite's own NATS server trusts the run's issuer; else the shell's
        settings.update(session.infra.bus_credentials.service_settings(settings["NATS_URL"]))
    # The live profile leaves base and key to the provider's defaults and usual variables (OPENAI_API_KEY).
    if chat.api_base:
        settings["LLM_API_BASE"] = chat.api_base
    if chat.api_key:
        settings["LLM_API_KEY"] = chat.api_key
    return settings


def _gateway_timeout_s(profile: str) -> float:
    timeouts = {"scripted": SCRIPTED_GATEWAY_TIMEOUT_S, "local": LOCAL_GATEWAY_TIMEOUT_S}
    return timeouts.get(profile, LIVE_GATEWAY_TIMEOUT_S)
