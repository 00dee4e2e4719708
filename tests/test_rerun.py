"""The rerun flow as the README shows it: `behave -f rerun -o reports/rerun.txt -f pretty features/`, then
`behave @reports/rerun.txt` or `make rerun`, on a tiny project with the suite's own behave settings and Makefile.

behave reads the locations in an @file relative to the file's directory; its own rerun formatter writes them
relative to the working directory, so the list sent the next run to reports/features/... (the suite's formatter,
harness.reporting.rerun:RerunList, writes them relative to the list)."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEST_BUDGET_S = 120

# Two features, one in a sub-folder, each with a scenario that passes and one that fails until "fixed" exists.
FEATURES = {
    "features/first.feature": "Feature: first\n  Scenario: first passes\n    Given a step that passes\n"
                              "  Scenario: first fails\n    Given a step that fails until fixed\n",
    "features/more/second.feature": "Feature: second\n  Scenario: second passes\n    Given a step that passes\n\n"
                                    "  Scenario: second fails\n    Given a step that fails until fixed\n",
}
STEPS = """from pathlib import Path
from behave import given
@given("a step that passes")
def passes(context): pass
@given("a step that fails until fixed")
def fails(context): assert Path("fixed").exists(), "not fixed yet"
"""
FAILED = ["features/first.feature:4", "features/more/second.feature:5"]


def project(tmp_path: Path) -> Path:
    """A behave project with the suite's settings (its formatters among them) and its Makefile."""
    for name, text in FEATURES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    (tmp_path / "features" / "steps").mkdir()
    (tmp_path / "features" / "steps" / "steps.py").write_text(STEPS)
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    shutil.copy(ROOT / "Makefile", tmp_path)
    return tmp_path


def run(cwd: Path, *command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=60)


def behave(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return run(cwd, sys.executable, "-m", "behave", *args)


def failing(done: subprocess.CompletedProcess) -> list[str]:
    """The locations behave lists under "Failing scenarios:"."""
    return re.findall(r"^\s+(features/\S+:\d+)\s", done.stdout.split("Failing scenarios:")[-1], re.M)


def first_run(tmp_path: Path) -> Path:
    first = behave(tmp_path, "-f", "rerun", "-o", "reports/rerun.txt", "-f", "pretty", "features/")
    assert "2 scenarios passed, 2 failed" in first.stdout, first.stdout + first.stderr
    return tmp_path / "reports" / "rerun.txt"


def test_behave_at_the_rerun_list_runs_exactly_the_failed_scenarios(tmp_path):
    root = project(tmp_path)
    first_run(root)

    again = behave(root, "@reports/rerun.txt")
    assert again.returncode == 1, again.stdout + again.stderr
    assert "0 scenarios passed, 2 failed, 2 skipped" in again.stdout, again.stdout + again.stderr
    assert failing(again) == FAILED, again.stdout


def test_make_rerun_runs_the_failed_scenarios_until_they_pass(tmp_path):
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    root = project(tmp_path)
    rerun = first_run(root)
    venv = f"VENV={sys.prefix}"  # the Makefile runs $(VENV)/bin/behave

    still = run(root, "make", "-s", "rerun", venv, "FORMAT=progress")
    assert still.returncode != 0 and "0 scenarios passed, 2 failed, 2 skipped" in still.stdout, (
        still.stdout + still.stderr)
    assert failing(still) == FAILED, still.stdout
    assert rerun.exists(), "expected the scenarios that failed again to stay in the rerun list"

    (root / "fixed").touch()
    fixed = run(root, "make", "-s", "rerun", venv, "FORMAT=progress")
    assert fixed.returncode == 0 and "2 scenarios passed, 0 failed, 2 skipped" in fixed.stdout, (
        fixed.stdout + fixed.stderr)
    assert not rerun.exists(), "expected behave to remove the rerun list once nothing failed"
    nothing = run(root, "make", "-s", "rerun", venv)
    assert "no reports/rerun.txt: the last run had no failed scenario" in nothing.stdout, nothing.stdout
