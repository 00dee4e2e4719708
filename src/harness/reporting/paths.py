"""Where a run writes the reports it makes itself: reports/, or for one worker of a parallel run reports/workers/<n>/
(LLM_ACCEPTANCE_WORKER=<n>, set by harness.parallel, which merges the workers' files into reports/)."""

from __future__ import annotations

import os
from pathlib import Path

from harness.worker import WORKER_VARIABLE

REPORTS = Path("reports")


def worker_dir(worker: str) -> Path:
    return REPORTS / "workers" / worker


def report_path(name: str) -> Path:
    worker = os.environ.get(WORKER_VARIABLE, "").strip()
    return (worker_dir(worker) if worker else REPORTS) / name
