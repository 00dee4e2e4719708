"""`make external`: the suite against the reference platform deployed as an external platform would be.

The platform command runs in its own process with the suite's scripted model and OTLP receiver as its
provider and exporter (ports chosen here); behave runs with -D platform=external and the endpoints the
platform command printed, as a team would run it against its own deployment; the platform stops after.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

from harness.infra.processes import free_port

# What the platform command prints, one "name url" line each, and the variable the suite reads it from.
ENDPOINT_VARIABLES = {"nats": "NATS_URL", "database": "DATABASE_URL", "gateway": "GATEWAY_SERVICE_URL",
                      "rag": "RAG_SERVICE_URL", "agent": "AGENT_SERVICE_URL", "query": "QUERY_SERVICE_URL"}
# ...and the launch file (-D launch_file), so that scenarios needing instances of their own run too, and the
# operator key (PLATFORM_OPERATOR_KEY), with which the suite issues its tenants' keys.
LAUNCH, OPERATOR_KEY = "launch", "operator-key"
START_BUDGET_S = 120.0
STOP_GRACE_S = 30.0


def run_against_platform(behave_args: list[str]) -> int:
    model_port, otlp_port = free_port(), free_port()
    command = [sys.executable, "-m", "harness.platform", "up", "--model-url", f"http://127.0.0.1:{model_port}/v1",
               "--otlp-endpoint", f"http://127.0.0.1:{otlp_port}"]
    platform = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        endpoints = _endpoints(platform)
        if endpoints is None:
            print("make external: the platform command did not print its endpoints", file=sys.stderr)
            return 1
        env = {**os.environ, **{ENDPOINT_VARIABLES[name]: url for name, url in endpoints.items()
                                if name in ENDPOINT_VARIABLES}, "PLATFORM_OPERATOR_KEY": endpoints[OPERATOR_KEY]}
        behave = [sys.executable, "-m", "behave", "-D", "platform=external", "-D", f"model_port={model_port}",
                  "-D", f"otlp_port={otlp_port}", "-D", f"launch_file={endpoints[LAUNCH]}", *behave_args]
        print(f"make external: {' '.join(behave)}", file=sys.stderr, flush=True)
        return subprocess.call(behave, env=env)
    finally:
        platform.send_signal(signal.SIGTERM)
        try:
            platform.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            os.killpg(platform.pid, signal.SIGKILL)
            platform.wait()


def _endpoints(platform: subprocess.Popen) -> dict[str, str] | None:
    """The endpoint lines, read until every one is in, the platform exits, or the budget runs out."""
    found: dict[str, str] = {}
    done = threading.Event()

    def read() -> None:
        for line in platform.stdout:
            name, _, url = line.strip().partition(" ")
            if name:
                found[name] = url.strip()
            if {*ENDPOINT_VARIABLES, LAUNCH, OPERATOR_KEY} <= set(found):
                break
        done.set()

    threading.Thread(target=read, daemon=True).start()
    done.wait(START_BUDGET_S)
    return found if {*ENDPOINT_VARIABLES, LAUNCH, OPERATOR_KEY} <= set(found) else None
