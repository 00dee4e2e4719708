"""Typed messaging errors. Each message says what a caller can do about it."""

from __future__ import annotations


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
