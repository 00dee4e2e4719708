"""How to start one more instance of a deployment's service: its launch file.

A deployment that hands the suite a launch file (`-D launch_file=<path>`) lets the scenarios that need
an instance of their own (operator settings such as a timeout or a fallback chain, replicas on a NATS of
their own, a service to kill) run against the deployment's own code, started by its own command with its
own settings, changed only where the scenario says. The file is JSON:

    {"services": {"gateway": {"command": ["uvicorn", "--factory", "my_gateway:app", "--port", "{port}"],
                              "environment": {"NATS_URL": "nats://...", "LLM_API_BASE": "...", ...}},
                  "rag": {...}, "agent": {...}, "query": {...}}}

`{host}` and `{port}` in the command are where the instance must listen; the suite chooses them. The
environment holds the deployment's operator settings (ai_contract.settings); the suite adds the scenario's.
It may hold secrets: the platform command writes it readable by its owner only.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from harness.infra.errors import ConfigurationError

SERVICES = ("gateway", "rag", "agent", "query")


@dataclass(frozen=True)
class Launch:
    """A command with {host} and {port} placeholders, and the settings the instance gets over the suite's own
    environment."""

    command: tuple[str, ...]
    environment: Mapping[str, str] = field(default_factory=dict)
    # What must be running before the command can work (the reference platform's instance launcher); a launch
    # file's commands need nothing.
    prepare: Callable[[], None] | None = field(default=None, compare=False)

    def argv(self, host: str, port: int) -> list[str]:
        return [part.replace("{host}", host).replace("{port}", str(port)) for part in self.command]

    def __repr__(self) -> str:  # the environment may hold a provider key
        return f"Launch({' '.join(self.command)!r}, {len(self.environment)} settings)"


def uvicorn_launch(app: str, environment: Mapping[str, str] | None = None) -> Launch:
    """The reference platform's way: `uvicorn --factory <app>`, with the interpreter that runs the suite."""
    return Launch((sys.executable, "-m", "uvicorn", "--factory", app, "--host", "{host}", "--port", "{port}",
                   "--log-level", "warning"), dict(environment or {}))


def write_launch_file(path: Path, launches: Mapping[str, Launch]) -> Path:
    """The file, created readable by its owner only (it holds the deployment's settings)."""
    document = {"services": {name: {"command": list(launch.command), "environment": dict(launch.environment)}
                             for name, launch in launches.items()}}
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(document, file, indent=2)
    return path


def read_launch_file(path: str | Path) -> dict[str, Launch]:
    """Every service's launch; a file that is missing or says something else is a one-sentence error."""
    where = f"-D launch_file={path}"
    try:
        document = json.loads(Path(path).read_text())
    except OSError as exc:
        raise ConfigurationError(f"{where} cannot be read: {exc.strerror}") from None
    except ValueError as exc:
        raise ConfigurationError(f"{where} is not JSON: {exc}") from None
    services = document.get("services") if isinstance(document, dict) else None
    if not isinstance(services, dict) or set(SERVICES) - set(services):
        raise ConfigurationError(f"{where} must name how to launch each of {', '.join(SERVICES)} under \"services\"")
    launches = {}
    for name in SERVICES:
        entry = services[name]
        command, environment = entry.get("command"), entry.get("environment", {})
        if not (isinstance(command, list) and command and all(isinstance(part, str) for part in command)):
            raise ConfigurationError(f"{where}: the {name} service's \"command\" must be a list of strings")
        if not any("{port}" in part for part in command):
            raise ConfigurationError(f"{where}: the {name} service's command must say where to listen with {{port}}")
        if not (isinstance(environment, dict) and all(isinstance(v, str) for v in environment.values())):
            raise ConfigurationError(f"{where}: the {name} service's \"environment\" must map names to strings")
        launches[name] = Launch(tuple(command), environment)
    return launches
