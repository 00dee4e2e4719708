"""Fixtures the test modules share."""

import signal
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def time_budget(request) -> Iterator[None]:
    """A module that names TEST_BUDGET_S has each of its tests fail, naming the budget, rather than hang."""
    seconds = getattr(request.module, "TEST_BUDGET_S", None)
    if seconds is None:
        yield
        return

    def expired(*_):
        raise TimeoutError(f"the test took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# The deployment's keys, for tests that build a service in this process.
KEY_SECRET, OPERATOR_KEY = "test-key-secret-0123456789", "test-operator-key-0123456789"


@pytest.fixture(autouse=True)
def platform_keys(monkeypatch) -> None:
    monkeypatch.setenv("PLATFORM_KEY_SECRET", KEY_SECRET)
    monkeypatch.setenv("PLATFORM_OPERATOR_KEY", OPERATOR_KEY)


def as_tenant(tenant_id: str) -> dict[str, str]:
    """The headers a tenant's client sends: its key, and its id."""
    from ai_platform.services.identity import Keys

    return {"X-Tenant-ID": tenant_id, "Authorization": f"Bearer {Keys(KEY_SECRET, OPERATOR_KEY).tenant_key(tenant_id)}"}
