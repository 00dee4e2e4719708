"""Which worker of a parallel run this process is: harness.parallel numbers its behave processes from 1 in
LLM_ACCEPTANCE_WORKER; a serial run has none. Kept apart from reporting, so the infrastructure can ask too."""

from __future__ import annotations

import os

WORKER_VARIABLE = "LLM_ACCEPTANCE_WORKER"


def worker_number() -> int | None:
    """This process's number in a parallel run, or None outside one."""
    value = os.environ.get(WORKER_VARIABLE, "").strip()
    return int(value) if value.isdigit() and int(value) >= 1 else None
