"""A service's error envelope, as a typed error the Then steps can check like any product error."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx


class ServiceRefusal(Exception):
    """An HTTP service answered with the contract's error envelope."""

    def __init__(self, status: int, code: str, message: str, details: dict, *, streamed_before: str = "") -> None:
        super().__init__(message)
        self.status, self.code, self.details = status, code, details
        self.streamed_before = streamed_before  # an error event midway: the text the caller had received first

    @property
    def model(self) -> str | None:
        return self._deepest("model")

    @property
    def reason(self) -> str | None:
        """The most specific reason down the chain of failed dependencies (e.g. provider_unavailable)."""
        return self._deepest("reason")

    def _deepest(self, key: str):
        found, details = None, self.details
        while details:
            found = details.get(key, found)
            details = (details.get("error") or {}).get("details") or {}
        return found

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.args[0]}"


def data_or_refusal(response: httpx.Response):
    """The success envelope's data; an error envelope raises ServiceRefusal; anything else is a broken answer."""
    body = response.json()
    if response.is_success:
        return body["data"]
    error = body["error"]
    raise ServiceRefusal(response.status_code, error["code"], error["message"], error.get("details") or {})
