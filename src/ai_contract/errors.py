"""Error codes and the errors a client meets.

HTTP: every error is the envelope {success: false, error: {code, message, details}, ...} with these codes.
NATS: a caller that cannot be served raises one of the typed errors below; each message says what a
caller can do about it.
"""

from __future__ import annotations

# HTTP status -> the code an error envelope carries (CONTRACTS.md, "Status codes").
VALIDATION_ERROR = "VALIDATION_ERROR"
UNAUTHENTICATED = "UNAUTHENTICATED"
TENANT_MISMATCH = "TENANT_MISMATCH"
FORBIDDEN = "FORBIDDEN"
NOT_FOUND = "NOT_FOUND"
DEPENDENCY_ERROR = "DEPENDENCY_ERROR"
DEPENDENCY_UNAVAILABLE = "DEPENDENCY_UNAVAILABLE"
DEPENDENCY_TIMEOUT = "DEPENDENCY_TIMEOUT"
DEPENDENCY_STATUS = {DEPENDENCY_ERROR: 502, DEPENDENCY_UNAVAILABLE: 503, DEPENDENCY_TIMEOUT: 504}


class MessagingError(Exception):
    reason = "messaging_error"


class MessagingUnavailable(MessagingError):
    reason = "unavailable"

    def __init__(self, url: str, cause: str) -> None:
        self.url = url
        super().__init__(f"cannot connect to NATS at {url}: {cause}")


class NoWorkerAvailable(MessagingError):
    reason = "no_responders"

    def __init__(self, subject: str) -> None:
        self.subject = subject
        super().__init__(f"no worker is available for {subject}: nobody is listening, so the request was not sent")


class RequestTimedOut(MessagingError):
    reason = "timeout"

    def __init__(self, subject: str, timeout_s: float) -> None:
        self.subject, self.timeout_s = subject, timeout_s
        super().__init__(f"no reply on {subject} within {timeout_s:g} s")


class WorkerFailed(MessagingError):
    """The worker answered, with an error instead of a result."""

    def __init__(self, subject: str, code: str, message: str) -> None:
        self.subject, self.reason = subject, code
        super().__init__(f"the worker on {subject} failed ({code}): {message}")
