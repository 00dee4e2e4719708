"""behave's JUnit report (`--junit`), plus the scenarios a hook skipped, each with its reason."""

from __future__ import annotations

from behave.model_type import Status
from behave.reporter.junit import JUnitReporter


def skip_reason(scenario) -> str | None:
    """Why a hook skipped the scenario; None if it ran or the tag expression left it out."""
    return scenario.skip_reason if scenario.status == Status.skipped else None


class SkipReasonJUnitReporter(JUnitReporter):
    """Writes `<skipped message="reason"/>` for a scenario skipped with a reason and, as before, leaves
    out the scenarios the tag expression excluded (unless `--show-skipped`)."""

    def __init__(self, config) -> None:
        super().__init__(config)
        self.show_skipped_always = True  # the filtering is done below, by reason

    def feature(self, feature):
        explained = any(skip_reason(s) for s in feature.walk_scenarios())
        if feature.status == Status.skipped and not explained and not self.config.show_skipped:
            return
        super().feature(feature)

    def _process_scenario(self, scenario, report):
        reason = skip_reason(scenario)
        if scenario.status == Status.skipped and not reason and not self.config.show_skipped:
            return
        written = len(report.testcases)
        super()._process_scenario(scenario, report)
        if reason and len(report.testcases) > written:
            element = report.testcases[-1].find("skipped")
            if element is not None:
                element.set("message", reason)


def use_skip_reasons(config) -> None:
    """Swaps behave's JUnit reporter, if `--junit` asked for one, for the one that names skip reasons."""
    config.reporters[:] = [SkipReasonJUnitReporter(config) if type(r) is JUnitReporter else r
                           for r in config.reporters]
