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

    def assert_platform_logged(self, text: str, what: str) -> None:
        """Some line the scenario's services logged holds the text: a masked log still says what happened."""
        lines = self._world.services.logs().splitlines()
        assert any(text in line for line in lines), (
            f"expected the platform's log to show {what} (a line with {text!r}); of its {len(lines)} lines none "
            f"does, the last are {[line[:120] for line in lines[-3:]]}")

    def assert_no_log_line_holds(self, text: str, what: str) -> None:
        """No line logged at any level holds the text; the watch must have seen some lines to say so."""
        lines = self.log_lines()
        assert lines, "expected the platform to log something at debug level, it logged nothing"
        holding = [line[:160] for line in lines if text in line]
        assert not holding, f"expected no log line to hold {what}, {len(holding)} do, e.g. {holding[:2]}"
