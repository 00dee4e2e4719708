"""The reaper: what earlier runs left behind, removed at the start of a run (and by `harness.platform down`).

Servers, services and temp dirs of runs whose owner is gone (harness.infra.processes), their containers
(harness.infra.containers), and warm platforms gone stale (harness.infra.warm). It sits above the three so that
none of them imports another's cleanup.
"""

from __future__ import annotations

from pathlib import Path

from harness.infra.processes import STATE_DIR, reap_dead_runs
from harness.infra.warm import reap_stale


def reap_stale_runs(state_dir: Path = STATE_DIR) -> list[str]:
    """Reap every earlier run whose owner is gone, and stale warm platforms; the names of their records."""
    reaped = reap_stale(state_dir)
    for name, data in reap_dead_runs(state_dir):
        if data.get("containers"):  # containers mode; the engine is asked only when a run had some
            from harness.infra import containers

            containers.remove_containers(data["containers"])
        reaped.append(name)
    return reaped
