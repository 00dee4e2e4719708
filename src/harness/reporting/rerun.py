"""The rerun list (`-f rerun -o reports/rerun.txt`), written so that `behave @reports/rerun.txt` runs it.

behave reads the paths in a list file relative to the file's own directory, while its rerun formatter
writes them relative to the working directory: `reports/rerun.txt` would send the next run looking for
`reports/features/...`. This one writes each location relative to the list file.
"""

from __future__ import annotations

import os

from behave.formatter.rerun import RerunFormatter


class RerunList(RerunFormatter):
    def report_scenario_failures(self) -> None:
        target = self.stream_opener.name
        base = os.path.dirname(os.path.abspath(target)) if target else os.getcwd()
        self.stream.write(f"# -- RERUN: {len(self.failed_scenarios)} failing scenario(s) of the last run.\n")
        for scenario in self.failed_scenarios:
            self.stream.write(f"{os.path.relpath(os.path.abspath(scenario.filename), base)}:{scenario.line}\n")
