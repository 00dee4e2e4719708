"""What a run shows about a scenario: its report attachments, and what the platform logged."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.reporting import allure as report
from harness.reporting.log_watch import LogWatch

if TYPE_CHECKING:
    from harness.world import World


class Evidence:
    """Watching starts when the driver is made: the suite's own loggers at debug level, and a gateway
    service deployed with LOG_LEVEL=DEBUG, from its start."""

    def __init__(self, world: World) -> None:
        self._world = world
        self._first_attachment = len(report.attached)
        self.logs = LogWatch().start()
        world.add_cleanup(self.logs.stop)
        world.services.deploy_with(LOG_LEVEL="DEBUG")  # an instance of its own: its whole log is watched

    def attachments(self) -> list[str]:
        """Every body this scenario handed to the report since the watch began, as written."""
        return report.attached[self._first_attachment:]

    def log_lines(self) -> list[str]:
        """What the suite's process logged since the watch began, and all the scenario's services logged (each an
        instance of its own, deployed for the watch)."""
        return [*self.logs.lines, *self._world.services.logs().splitlines()]
