"""The rerun flow as the README shows it: `-f rerun -o reports/rerun.txt`, then `behave @reports/rerun.txt`."""

import subprocess
import sys
import tomllib
from pathlib import Path

SUITE_SETTINGS = Path(__file__).parent.parent / "pyproject.toml"

FEATURE = """Feature: two
  Scenario: passes
    Given a step that passes
  Scenario: fails
    Given a step that fails
"""
STEPS = """from behave import given
@given("a step that passes")
def passes(context): pass
@given("a step that fails")
def fails(context): assert False
"""


def behave(project: Path, *args: str) -> subprocess.CompletedProcess:
    # behave pairs each -o with the -f in the same position: the rerun list's pair comes first
    return subprocess.run([sys.executable, "-m", "behave", *args[:-1], "-f", "progress", args[-1]], cwd=project,
                          capture_output=True, text=True, timeout=60)


def test_the_rerun_list_runs_again_exactly_the_failed_scenarios(tmp_path):
    (tmp_path / "features" / "steps").mkdir(parents=True)
    (tmp_path / "features" / "two.feature").write_text(FEATURE)
    (tmp_path / "features" / "steps" / "steps.py").write_text(STEPS)
    (tmp_path / "reports").mkdir()
    rerun = tomllib.loads(SUITE_SETTINGS.read_text())["tool"]["behave"]["formatters"]["rerun"]  # the suite's own
    (tmp_path / "pyproject.toml").write_text(f'[tool.behave.formatters]\nrerun = "{rerun}"\n')

    first = behave(tmp_path, "-f", "rerun", "-o", "reports/rerun.txt", "features/")
    assert "1 scenario passed, 1 failed" in first.stdout, first.stdout + first.stderr

    again = behave(tmp_path, "@reports/rerun.txt")
    assert "0 scenarios passed, 1 failed, 1 skipped" in again.stdout, again.stdout + again.stderr
