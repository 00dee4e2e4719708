"""CI's reading of behave's closing counts, and a failed cleanup shown as such instead of ending the run."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from harness.reporting.counts import closing_counts, main


def test_every_kind_of_error_counts_as_a_failure(tmp_path, capsys):
    output = tmp_path / "output.txt"
    output.write_text("2 features passed, 0 failed, 1 error, 0 skipped\n"
                      "7 scenarios passed, 1 failed, 1 hook_error, 2 cleanup_error, 3 skipped\n"
                      "20 steps passed, 1 failed, 4 skipped\n")
    assert closing_counts(output.read_text())["scenario"] == [7, 1, 3, 3]
    assert main(["behave", str(output)]) == 1
    assert capsys.readouterr().out == "behave: 7 passed, 4 failed, 3 skipped\n"


def test_a_clean_run_passes_and_a_run_without_counts_fails(tmp_path, capsys):
    clean, cut = tmp_path / "clean.txt", tmp_path / "cut.txt"
    clean.write_text("first run\n1 scenario passed, 1 failed, 0 skipped\nsecond run\n483 scenarios passed, 0 failed, "
                     "8 skipped\n")
    cut.write_text("Traceback (most recent call last):\n")
    assert main(["external", str(clean)]) == 0
    assert main(["local-profile", str(cut)]) == 1
    assert capsys.readouterr().out.splitlines() == ["external: 483 passed, 0 failed, 8 skipped",
                                                    "local-profile: behave printed no scenario summary"]


def test_a_failed_cleanup_is_reported_and_the_run_goes_on(tmp_path):
    steps = tmp_path / "features" / "steps"
    steps.mkdir(parents=True)
    (tmp_path / "features" / "cleanup.feature").write_text(textwrap.dedent("""\
        Feature: cleanups
          Scenario: its cleanup fails
            Given something to clean up
          Scenario: the next one
            Given something to clean up
        """))
    (steps / "steps.py").write_text(textwrap.dedent("""\
        from behave import given

        @given("something to clean up")
        def made(context):
            if context.scenario.name == "its cleanup fails":
                context.add_cleanup(lambda: 1 / 0)
        """))
    (tmp_path / "features" / "environment.py").write_text(
        "from harness.reporting.progress_fix import mark_cleanup_errors\n\n\n"
        "def before_all(context):\n    mark_cleanup_errors()\n")
    run = subprocess.run([sys.executable, "-m", "behave", "-f", "progress", "features"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert "KeyError" not in run.stdout + run.stderr, run.stdout + run.stderr
    assert "ZeroDivisionError" in run.stdout, run.stdout
    assert closing_counts(run.stdout)["scenario"] == [1, 0, 1, 0], run.stdout
    assert run.returncode != 0
