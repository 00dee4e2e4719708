"""Where a run's time went: printed at its end, and kept in reports/profile.json.

The file holds every scenario's duration by feature file; the parallel runner balances its shards with it
(harness.parallel). The printout names each server and service start (how long, and why a service got a new
process: the settings in which it differs from the first instance of that service), the slowest scenarios, and
the time steps spent polling for something to happen.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from harness import waiting
from harness.reporting.paths import report_path

if TYPE_CHECKING:
    from harness.platform.processes import ServiceStart

PROFILE_PATH = report_path("profile.json")
SLOWEST_SHOWN = 10


@dataclass(frozen=True)
class ScenarioTime:
    feature: str  # the feature file, as behave names it
    location: str
    name: str
    seconds: float
    status: str
    service_starts: int  # service processes started by its steps and its cleanups
    with_cleanups: float | None = None  # seconds from its start to the next scenario's: its cleanups too


class RunProfile:
    def __init__(self) -> None:
        self.began = time.monotonic()
        self.scenarios: list[ScenarioTime] = []
        self._starts_seen = 0
        self._began_at: float | None = None

    def scenario_began(self, starts: list[ServiceStart]) -> None:
        """Services started since the last scenario's steps ended were started by its cleanups: its share."""
        self._close_last(starts)
        self._began_at = time.monotonic()

    def _close_last(self, starts: list[ServiceStart]) -> None:
        """The last scenario's cleanups are over: count them in."""
        if self.scenarios and self._began_at is not None:
            last = self.scenarios[-1]
            self.scenarios[-1] = replace(last, service_starts=last.service_starts + len(starts) - self._starts_seen,
                                         with_cleanups=round(time.monotonic() - self._began_at, 3))
        self._starts_seen, self._began_at = len(starts), None

    def scenario_ended(self, scenario, starts: list[ServiceStart]) -> None:
        """Called after the scenario's steps, before its cleanups."""
        new = len(starts) - self._starts_seen
        self._starts_seen = len(starts)
        self.scenarios.append(ScenarioTime(scenario.filename, str(scenario.location), scenario.name,
                                           round(scenario.duration, 3), scenario.status.name, new))

    def lines(self, servers: dict[str, float], starts: list[ServiceStart]) -> list[str]:
        wall = time.monotonic() - self.began
        played = [s for s in self.scenarios if s.status != "skipped"]
        lines = [f"profile: {len(played)} scenario(s) in {sum(s.seconds for s in played):.1f} s of {wall:.1f} s "
                 f"wall; steps waited {waiting.waited_s():.1f} s in {waiting.waits()} poll(s)"]
        if servers:
            lines.append("  servers: " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in servers.items()))
        by_service: dict[str, list[ServiceStart]] = defaultdict(list)
        for start in starts:
            by_service[start.service].append(start)
        if starts:
            lines.append(f"  service starts: {len(starts)}, {sum(s.seconds for s in starts):.1f} s until ready ("
                         + ", ".join(f"{name} {len(group)}x {sum(s.seconds for s in group):.1f} s"
                                     for name, group in by_service.items()) + ")")
            reasons: dict[tuple[str, str], list[float]] = defaultdict(list)
            for start in starts:
                reasons[(start.service, start.why)].append(start.seconds)
            for (service, why), seconds in sorted(reasons.items(), key=lambda item: -sum(item[1])):
                lines.append(f"    {service} {len(seconds)}x {sum(seconds):.1f} s: {why}")
        slowest = sorted(played, key=lambda s: -s.seconds)[:SLOWEST_SHOWN]
        if slowest:
            lines.append(f"  slowest {len(slowest)} scenario(s):")
            lines.extend(f"    {s.seconds:6.2f} s  {s.location}  {s.name}"
                         + (f" ({s.service_starts} service start(s))" if s.service_starts else "")
                         for s in slowest)
        return lines

    def write(self, servers: dict[str, float], starts: list[ServiceStart], path: Path = PROFILE_PATH) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._close_last(starts)
        features: dict[str, float] = defaultdict(float)  # what the parallel runner balances: cleanups included
        for scenario in self.scenarios:
            features[scenario.feature] += scenario.with_cleanups or scenario.seconds
        path.write_text(json.dumps({
            "wall_s": round(time.monotonic() - self.began, 3),
            "waited_s": round(waiting.waited_s(), 3),
            "servers": {name: round(seconds, 3) for name, seconds in servers.items()},
            "service_starts": [asdict(start) for start in starts],
            "features": {name: round(seconds, 3) for name, seconds in sorted(features.items())},
            "scenarios": [asdict(scenario) for scenario in self.scenarios],
        }, indent=1) + "\n")
