"""NATS messaging: subjects ai.<component>.<operation>.<tenant>, workers, request/reply, JetStream ingestion.

Subjects and errors import at once; the connection, client and workers (and nats-py with them) on first use,
so code that only names an error does not pay for the NATS client.
"""

from importlib import import_module

from ai_contract import subjects
from ai_contract.errors import MessagingError, MessagingUnavailable

_ON_FIRST_USE = {
    "Bus": "ai_platform.messaging.bus", "ConnectionSettings": "ai_platform.messaging.bus",
    "decode_message": "ai_platform.messaging.bus", "PlatformClient": "ai_platform.messaging.client",
    **{name: "ai_platform.messaging.workers"
       for name in ("GatewayWorker", "HostedAgentsInbox", "IngestionWorker", "RagQueryWorker", "TaskWorker")},
}


def __getattr__(name: str):
    if name in _ON_FIRST_USE:
        return getattr(import_module(_ON_FIRST_USE[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Bus", "ConnectionSettings", "GatewayWorker", "HostedAgentsInbox", "IngestionWorker", "MessagingError",
    "MessagingUnavailable", "PlatformClient", "RagQueryWorker", "TaskWorker", "decode_message", "subjects",
]
