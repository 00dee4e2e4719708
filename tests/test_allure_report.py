"""The Allure report end to end: a real behave run, the report's build step (the pinned Allure 3, then the
analytics tag taken out) makes the single-file report, headless Chromium renders it, and the page shows the
capability and the number of scenarios, and names no analytics host."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "report"
ALLURE = REPORT / "node_modules" / ".bin" / "allure"
FEATURE = "features/codec/codec_formats.feature"
EPIC = "Message codec"
# What Allure's templates add to call Google Analytics when the page opens (report/build.mjs takes it out).
ANALYTICS = re.compile(r"googletagmanager|google-analytics|gtag\(|dataLayer")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync")


def _require(found: bool, what: str) -> None:
    """Skips locally when a tool is missing; CI installs them all, so there it fails."""
    if found:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is missing, and CI installs it (.ci/run)")
    pytest.skip(f"{what} is missing; install it to build the Allure report")


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _run(command: list[str], budget_s: float, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=budget_s, **kwargs)
    output = f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert done.returncode == 0, f"{' '.join(command)} exited {done.returncode}:\n{output}"
    return done


def _page_text(dom: str) -> str:
    dom = re.sub(r"<(script|style)\b.*?</\1>", " ", dom, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", dom)).split())


def test_single_file_report_shows_the_capability_and_the_scenario_count(tmp_path):
    chromium = _chromium()
    _require(chromium is not None, "Chromium (Debian package chromium)")
    _require(shutil.which("node") is not None and shutil.which("npm") is not None, "Node.js and npm")
    _require(ALLURE.exists(), "the pinned Allure 3 (npm --prefix report ci)")
    results, report = tmp_path / "allure-results", tmp_path / "allure-report"

    run = _run([sys.executable, "-m", "behave", "-f", "progress", "-D", f"allure_dir={results}", FEATURE], 300)
    passed = re.search(r"^(\d+) scenarios? passed", run.stdout, re.M)
    assert passed, f"behave printed no scenario summary:\n{run.stdout[-2000:]}"
    scenarios = int(passed.group(1))
    assert len(list(results.glob("*-result.json"))) == scenarios
    assert "infra.mode=embedded" in (results / "environment.properties").read_text()

    _run(["npm", "--prefix", str(REPORT), "run", "--silent", "build", "--", str(results), str(report)], 180)
    page = report / "index.html"
    assert page.exists(), f"no single-file report in {report}: {sorted(p.name for p in report.iterdir())}"
    calls = sorted({match.group() for match in ANALYTICS.finditer(page.read_text(encoding="utf-8"))})
    assert not calls, f"the report would call an analytics host when opened: it names {calls}"

    with tempfile.TemporaryDirectory() as profile:
        dom = _run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=20000",
                    "--dump-dom", page.as_uri()], 120).stdout
    text = _page_text(dom)
    assert EPIC in text, f"the report does not show the capability {EPIC!r}: {text[:1500]}"
    assert f"{scenarios} passed" in text, f"the report does not show {scenarios} passed scenarios: {text[:1500]}"
    assert "infra.mode embedded" in text, f"the environment panel does not show the infra mode: {text[:1500]}"
