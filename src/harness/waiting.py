"""The one way a step waits: poll with a time budget, scaled for slow machines.

Budgets come from the step sentence or a named constant; `-D timeout_scale=3` multiplies every
one of them for a run on a slow or busy machine (like a test framework's timeout multiplier). A check of
how long the platform took is another thing: its upper bound is the platform's configured time limit plus
TIME_LIMIT_MARGIN_S, and no scale applies to it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

_scale = 1.0
_waited = {"seconds": 0.0, "polls": 0}  # what wait_until cost this run (the end-of-run profile prints it)
# What a busy machine may add to a time limit the platform is meant to keep (a timeout it was configured with):
# fixed, never scaled, so `-D timeout_scale` stretches how long a step waits but never what the platform may take.
TIME_LIMIT_MARGIN_S = 0.75


def set_scale(scale: float) -> None:
    global _scale
    if not scale > 0:
        raise ValueError(f"timeout_scale must be a positive number, got {scale!r}")
    _scale = scale


def scaled(budget_s: float) -> float:
    """A budget as this run allows it."""
    return budget_s * _scale


def wait_until(condition: Callable[[], T], budget_s: float, what: str, interval_s: float = 0.05) -> T:
    """Poll condition() until it is truthy and return its value, or fail saying what was awaited."""
    budget = scaled(budget_s)
    began = time.monotonic()
    try:
        value = poll(condition, budget, interval_s)
        if not value:
            raise AssertionError(f"waited {budget:g} s for {what}; it did not happen (last seen: {value!r})")
        return value
    finally:
        _waited["seconds"] += time.monotonic() - began
        _waited["polls"] += 1


def poll(condition: Callable[[], T], budget_s: float, interval_s: float = 0.05) -> T:
    """Call condition() until it is truthy and return that value, or its last value once budget_s has passed.

    The loop under wait_until, for the harness's own starts and stops: the budget is taken as given (the caller
    scales it) and the time is not counted among the steps' waits. A condition may raise to stop at once (a
    process that exited will never answer).
    """
    deadline = time.monotonic() + budget_s
    while True:
        value = condition()
        left = deadline - time.monotonic()
        if value or left <= 0:
            return value
        time.sleep(min(interval_s, left))


def waited_s() -> float:
    """Seconds this process spent in wait_until so far."""
    return _waited["seconds"]


def waits() -> int:
    return _waited["polls"]
