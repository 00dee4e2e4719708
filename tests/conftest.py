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
