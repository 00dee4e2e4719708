"""The Allure results of a run: switched on from before_all, so they survive any `-f` a user passes.

`-D allure=off` writes none, `-D allure_dir=PATH` moves them (default reports/allure-results),
`-D allure_history=keep` keeps the previous run's results instead of emptying the directory.
Hooks do not run with --dry-run or --steps-catalog, so those write nothing.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import allure_commons
from allure_behave.formatter import AllureFormatter
from allure_behave.listener import AllureListener
from allure_commons.model2 import Status as AllureStatus
from allure_commons.model2 import StatusDetails
from behave.formatter.base import StreamOpener
from behave.model_type import Status

DEFAULT_DIR = "reports/allure-results"
SETTINGS = ("allure", "allure_dir", "allure_history")  # the -D keys read here, not by the session
# What allure-behave and this module write into the results directory; nothing else is removed.
RESULT_FILES = ("*-result.json", "*-container.json", "*-attachment*", "environment.properties")
VERSIONED_PACKAGES = ("llm-platform-acceptance", "behave", "allure-behave", "litellm", "nats-py", "psycopg")


class SuiteAllureFormatter(AllureFormatter):
    """allure-behave's formatter; it empties its directory first (unless `-D allure_history=keep`) and
    keeps the scenarios the harness skipped, with their reason."""

    def __init__(self, stream_opener, config):
        if config.userdata.get("allure_history") != "keep":
            clear_results(Path(stream_opener.name))
        super().__init__(stream_opener, config)
        allure_commons.plugin_manager.unregister(self.listener)
        self.listener = SkipReasonListener(config)
        allure_commons.plugin_manager.register(self.listener)


class _ShowSkipped:
    """The run's configuration, as seen by the listener: skipped scenarios are reported."""

    show_skipped = True

    def __init__(self, config) -> None:
        self._config = config

    def __getattr__(self, name):
        return getattr(self._config, name)


class SkipReasonListener(AllureListener):
    """Reports a scenario skipped with a reason (by a hook) as skipped with that reason, and leaves
    out the scenarios the tag expression excluded."""

    def __init__(self, config) -> None:
        super().__init__(_ShowSkipped(config))
        self.hide_excluded = True
        self._skip_reason: str | None = None

    def stop_scenario(self, scenario):
        self._skip_reason = scenario.skip_reason if scenario.status == Status.skipped else None
        try:
            super().stop_scenario(scenario)
        finally:
            self._skip_reason = None

    @allure_commons.hookimpl(tryfirst=True)
    def report_result(self, result):
        if self._skip_reason and result.status == AllureStatus.SKIPPED:
            result.statusDetails = StatusDetails(message=self._skip_reason)


def clear_results(directory: Path) -> None:
    for pattern in RESULT_FILES:
        for path in directory.glob(pattern):
            path.unlink(missing_ok=True)


def results_dir(context) -> Path:
    path = Path(context.config.userdata.get("allure_dir", DEFAULT_DIR))
    base = getattr(context._runner, "base_dir", None)  # where environment.py is, like behave's own paths
    return path if path.is_absolute() or not base else Path(base) / path


def enable_allure(context, environment: dict[str, str]) -> Path | None:
    """Adds the Allure formatter to the run (unless `-D allure=off` or `-f allure` already did) and
    writes the environment panel's properties. The results directory, or None."""
    switch = context.config.userdata.get("allure", "on")
    if switch not in ("on", "off"):
        raise ValueError(f"-D allure={switch} is not known; choose on or off")
    if switch == "off":
        return None
    formatters = context._runner.formatters
    existing = next((f for f in formatters if isinstance(f, AllureFormatter)), None)
    if existing is not None:
        directory = Path(existing.stream_opener.name)
    else:
        directory = results_dir(context)
        formatters.append(SuiteAllureFormatter(StreamOpener(filename=str(directory)), context.config))
    directory.mkdir(parents=True, exist_ok=True)
    write_environment(directory, {**environment, **package_versions()})
    return directory


def package_versions() -> dict[str, str]:
    versions = {}
    for package in VERSIONED_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return versions


def write_environment(directory: Path, properties: dict[str, str]) -> None:
    """environment.properties: Allure's environment panel."""
    lines = [f"{key}={_escape(str(value))}" for key, value in properties.items()]
    (directory / "environment.properties").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n")
