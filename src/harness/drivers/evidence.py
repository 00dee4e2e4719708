"""What a run shows about a scenario: its report attachments, and what the platform logged."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.reporting import allure as report
from harness.reporting.log_watch import LogWatch

if TYPE_CHECKING:
    from harness.world import World


class Evidence:
    def __init__(self, world: World) -> None:
        self._first_attachment = len(report.attached)
        self.logs = LogWatch().start()
        world.add_cleanup(self.logs.stop)

    def attachments(self) -> list[str]:
        """Every body this scenario handed to the report since the watch began, as written."""
        return report.attached[self._first_attachment:]

    def log_lines(self) -> list[str]:
        return self.logs.lines
