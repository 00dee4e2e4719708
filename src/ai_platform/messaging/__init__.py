"""NATS messaging: subjects ai.<component>.<operation>.<tenant>, workers, request/reply, JetStream ingestion."""

from ai_platform.messaging import subjects
from ai_platform.messaging.bus import Bus, ConnectionSettings, decode_message
from ai_platform.messaging.client import PlatformClient
from ai_platform.messaging.errors import (
    MessagingError,
    MessagingUnavailable,
    NoWorkerAvailable,
    RequestTimedOut,
    WorkerFailed,
)
from ai_platform.messaging.workers import AgentInbox, GatewayWorker, IngestionWorker, RagQueryWorker, TaskWorker

__all__ = [
    "AgentInbox", "Bus", "ConnectionSettings", "GatewayWorker", "IngestionWorker", "MessagingError",
    "MessagingUnavailable", "NoWorkerAvailable", "PlatformClient", "RagQueryWorker", "RequestTimedOut",
    "TaskWorker", "WorkerFailed", "decode_message", "subjects",
]
