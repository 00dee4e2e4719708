"""The platform's HTTP services, measured in one run: the time to start all four, a unified query
end to end (scripted model), and one service hop against a bare uvicorn app on the same machine.
Prints figures; asserts nothing.

    python benchmarks/bench_services.py [queries]
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

import httpx

from ai_contract import routes
from harness.platform import ServiceProcess
from harness.platform.launch import uvicorn_launch
from harness.session import SuiteSession


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.95) - 1] * 1000


def tenant_headers(service_url: str, operator_key: str, tenant_id: str) -> dict[str, str]:
    """What a tenant's client sends: its key, issued by the operator route, and its id."""
    issued = httpx.post(service_url + routes.tenant_keys(tenant_id),
                        headers={"Authorization": f"Bearer {operator_key}"})
    return {"X-Tenant-ID": tenant_id, "Authorization": f"Bearer {issued.json()['data']['key']}"}


def timed(call, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        began = time.perf_counter()
        call()
        samples.append(time.perf_counter() - began)
    return samples


def main(queries: int = 200) -> None:
    session = SuiteSession({})
    try:
        session.database_url  # noqa: B018 - servers up first: the figure is the services' own start
        session.model_server  # noqa: B018
        began = time.perf_counter()
        query = session.services.url("query")
        started_s = time.perf_counter() - began
        gateway, rag = session.services.url("gateway"), session.services.url("rag")
        tenant = tenant_headers(rag, session.operator_key, "bench")

        env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
        echo = ServiceProcess("echo", env, session.infra.record, launch=uvicorn_launch("echo_app:create_app")).start()
        echo.wait_ready(30)
        with httpx.Client(timeout=30) as client:
            client.post(f"{rag}/api/v1/rag/documents", headers=tenant, json={
                "title": "Refund policy", "content": "Annual plans can be refunded within 30 days of purchase."})
            ask = {"query": "Within how many days can annual plans be refunded?", "mode": "rag"}
            for _ in range(10):  # warm every hop's connections
                client.post(f"{query}/api/v1/query", headers=tenant, json=ask)
            unified = timed(lambda: client.post(f"{query}/api/v1/query", headers=tenant, json=ask), queries)
            body = {"texts": ["warm"]}
            embeddings = timed(lambda: client.post(f"{gateway}/api/v1/gateway/embeddings", headers=tenant,
                                                   json=body), queries)
            hop = timed(lambda: client.get(f"{gateway}/health", headers=tenant), queries)
            bare = timed(lambda: client.get(f"{echo.url}/ready", headers=tenant), queries)
        echo.stop()
    finally:
        session.close()

    print(f"HTTP services, {queries} requests each, milliseconds (scripted model, loopback)")
    print(f"{'path':44}{'median':>10}{'p95':>10}")
    for name, samples in (("unified query, rag mode (query>rag>gateway)", unified),
                          ("gateway embeddings (LiteLLM to the model)", embeddings),
                          ("one hop: gateway /health, our middleware", hop), ("bare uvicorn app, same route", bare)):
        median, p95 = percentiles(samples)
        print(f"{name:44}{median:>10.2f}{p95:>10.2f}")
    print(f"{'one hop / bare app (median)':44}{statistics.median(hop) / statistics.median(bare):>9.2f}x"
          "   (target under 1.5x)")
    print(f"all four services started and ready in {started_s:.2f} s (target under 3 s)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
