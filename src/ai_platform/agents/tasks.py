"""An agent task as traces and metrics see it: the span agent.task.execute, the task counter by
status and the task duration, for the current tenant. Every entry point that runs a task uses it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from ai_platform import telemetry


@contextmanager
def executing_task(agent_id: str, task_id: str, task_type: str) -> Iterator[None]:
    began, status = time.perf_counter(), "failed"
    try:
        with telemetry.span("agent.task.execute", **{"agent.id": agent_id, "task.id": task_id, "task.type": task_type}):
            yield
        status = "done"
    finally:
        attributes = telemetry.tenant_attributes(status=status)
        telemetry.tasks_executed.add(1, attributes)
        telemetry.task_duration.record(time.perf_counter() - began, attributes)
