"""The reports of a run, set up from before_all: Allure results, JUnit skip reasons, the closing summary."""

from __future__ import annotations

import sys
from collections.abc import Mapping

from harness.reporting.allure_output import SETTINGS, enable_allure
from harness.reporting.junit import use_skip_reasons
from harness.reporting.run_summary import RunSummary


def suite_userdata(userdata: Mapping[str, str]) -> dict[str, str]:
    """The -D settings without the report's own, which the session does not read."""
    return {key: value for key, value in userdata.items() if key not in SETTINGS}


def start_run_reports(context, summary: RunSummary) -> None:
    enable_allure(context, summary.modes)
    use_skip_reasons(context.config)
    warn_misrouted_outputs(context.config)


def warn_misrouted_outputs(config) -> None:
    """behave pairs the n-th -o with the n-th -f; say so when the rerun list lands on the terminal."""
    files = [opener.name for opener in config.outputs if opener.name]
    formats = list(config.format or [])
    if "rerun" in formats[len(files):] and files:
        routed = ", ".join(f"{name} -> {path}" for name, path in zip(formats, files, strict=False))
        print(f"note: behave pairs each -o with the -f in the same position ({routed}); the rerun list goes to "
              "the terminal. Write -f rerun -o reports/rerun.txt first, then the terminal formatter.",
              file=sys.stderr)
