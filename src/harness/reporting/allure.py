"""Allure attachments and labels. Everything attached goes through redact(): no key or auth
header ever reaches a report."""

from __future__ import annotations

import json
from pathlib import Path

import allure
import allure_commons
from allure_commons.model2 import Label
from allure_commons.reporter import AllureReporter
from behave.model import ScenarioOutline

SECRET_FIELDS = frozenset(
    {"api_key", "apikey", "authorization", "proxy-authorization", "x-api-key", "password", "secret",
     "access_token", "client_secret"}
)
REDACTED = "[redacted]"
_secret_values: set[str] = set()
# Every body handed to Allure in this run, as written, so a scenario can check its own.
attached: list[str] = []

EPICS = {"rag": "RAG", "agents": "Agents", "gateway": "LLM gateway", "codec": "Message codec",
         "messaging": "NATS messaging", "observability": "Traces and metrics", "services": "HTTP services",
         "e2e": "End to end", "local_model": "Real local models"}


def register_secret(value: str | None) -> None:
    """A value (an API key) that must never appear in an attachment, whatever field holds it."""
    if value and len(value) >= 4:
        _secret_values.add(value)


def redact(value):
    if isinstance(value, dict):
        return {k: REDACTED if str(k).lower() in SECRET_FIELDS else redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str):
        for secret in _secret_values:
            value = value.replace(secret, REDACTED)
        return value
    return value


def attach_text(name: str, text: str) -> None:
    _attach(name, redact(text), allure.attachment_type.TEXT)


def attach_svg(name: str, svg: str) -> None:
    """A picture (a trace's waterfall), redacted like any text: its tooltips carry span attributes."""
    _attach(name, redact(svg), allure.attachment_type.SVG)


def attach_json(name: str, payload) -> None:
    _attach(name, json.dumps(redact(payload), indent=2, ensure_ascii=False, default=str),
            allure.attachment_type.JSON)


def _attach(name: str, body: str, kind) -> None:
    attached.append(body)
    allure.attach(body, name=name, attachment_type=kind)


def label_scenario(scenario) -> None:
    """Epic from the capability folder, story from the scenario (outline) name.

    allure-behave reads labels only from tags; this adds them to the running test instead, so
    feature files stay free of reporting tags.
    """
    reporter = _reporter()
    if reporter is None:
        return
    test = reporter.get_test(None)
    if test is None:
        return
    folder = Path(scenario.filename).parent.name
    test.labels.append(Label(name="epic", value=EPICS.get(folder, folder.title())))
    test.labels.append(Label(name="story", value=story_of(scenario)))


def story_of(scenario) -> str:
    """The scenario's name; for a row of an outline, the outline's name as written (placeholders and
    all), so every row of an outline shares one story."""
    if getattr(scenario, "_row", None) is not None and isinstance(scenario.parent, ScenarioOutline):
        return scenario.parent.name
    return scenario.name


def _reporter() -> AllureReporter | None:
    for plugin in allure_commons.plugin_manager.get_plugins():
        logger = getattr(plugin, "logger", None)
        if isinstance(logger, AllureReporter):
            return logger
    return None
