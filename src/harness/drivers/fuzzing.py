"""Schemathesis against a service's own OpenAPI document: every operation, every check, requests the
document allows and requests it forbids. A fixed seed and a bounded number of examples keep a run
repeatable and short; `-D fuzz_examples=N` asks for more or fewer.

Tenant routes are tried with a tenant's key, operator routes with the operator's. Its JUnit report goes
beside behave's in reports/junit.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ai_contract.headers import AUTHORIZATION
from ai_contract.routes import TENANTS
from harness.reporting import attach_text
from harness.world import World

CONFIG = Path(__file__).with_name("schemathesis.toml")
JUNIT_DIR = Path("reports/junit")
SEED = 20261206
BUDGET_S = 600
OPERATOR_PATHS = f"^{re.escape(TENANTS)}/"


@dataclass(frozen=True)
class FuzzRun:
    """What schemathesis said of one service: its exit status, the failures by code, and its summary line."""

    service: str
    status: int
    failures: dict[str, int]
    summary: str
    output: str

    @property
    def clean(self) -> bool:
        return self.status == 0 and not self.failures


class Fuzzing:
    def __init__(self, world: World) -> None:
        self._world = world
        self.runs: list[FuzzRun] = []

    def fuzz(self, service: str) -> list[FuzzRun]:
        """Both runs for the service: its tenant routes with a tenant's key, its operator routes with the operator's."""
        services = self._world.services
        base = services.url(service)
        tenant = self._world.tenants.id_of(None)
        services.holds_tenant_data()  # the fuzzer adds documents and agents: the tenant is removed at the end
        tenant_key = services.key_of(tenant, base)
        self.runs = [self._run(service, base, tenant_key, "--exclude-path-regex", "tenant"),
                     self._run(service, base, self._world.session.operator_key, "--include-path-regex", "operator")]
        return self.runs

    def _run(self, service: str, base: str, key: str, selection: str, who: str) -> FuzzRun:
        JUNIT_DIR.mkdir(parents=True, exist_ok=True)
        junit = (JUNIT_DIR / f"schemathesis-{service}-{who}.xml").resolve()
        examples = self._world.session.fuzz_examples
        # No example database: each run starts from the seed alone, so the same code gets the same verdict.
        command = [sys.executable, "-m", "harness.drivers.schemathesis_cli", "--no-color", "--config-file",
                   str(CONFIG), "run", f"{base}/openapi.json", "--checks", "all", "--seed", str(SEED),
                   "--max-examples", str(examples),
                   "--generation-database", "none", "--workers", "1", selection, OPERATOR_PATHS,
                   "--header", f"{AUTHORIZATION}: Bearer {key}",
                   "--report", "junit", "--report-junit-path", str(junit)]
        # In a directory of its own: schemathesis keeps the failures it found there and tries them first next time.
        with tempfile.TemporaryDirectory(prefix="schemathesis-") as fresh:
            done = subprocess.run(command, capture_output=True, text=True, timeout=BUDGET_S, cwd=fresh)
        output = done.stdout + done.stderr
        attach_text(f"schemathesis: the {service} service's {who} routes", output)
        failures = {code: int(count) for code, count in re.findall(r"❌ (ST\d+)[^:\n]*: (\d+)", output)}
        summary = next((line.strip("= ") for line in reversed(output.splitlines()) if " in " in line
                        and ("passed" in line or "failure" in line or "issues" in line)), "no summary")
        return FuzzRun(service, done.returncode, failures, summary, output)
