"""Unified queries per second at concurrency 1, 10 and 50 (query > rag > gateway > scripted model), against a
bare uvicorn app answering the same clients in the same run. Three rounds; prints each figure's spread
(lowest to highest of the rounds), never the best one alone. Asserts nothing: the throughput at 10 and 50 should
not fall below the single-stream rate, and every request should answer 200.

    python benchmarks/bench_throughput.py [requests per level]
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

import httpx
from bench_services import tenant_headers

from harness.platform import ServiceProcess
from harness.platform.launch import uvicorn_launch
from harness.session import SuiteSession

LEVELS = (1, 10, 50)
ROUNDS = 3


async def load(url: str, headers: dict[str, str], body: dict | None, requests: int, concurrency: int) -> dict:
    """`requests` calls from `concurrency` clients at once: requests per second, median latency, errors."""
    latencies: list[float] = []
    errors: list[str] = []
    remaining = iter(range(requests))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        async def one_client() -> None:
            for _ in remaining:
                began = time.perf_counter()
                try:
                    response = await (client.post(url, headers=headers, json=body) if body is not None
                                      else client.get(url, headers=headers))
                    if response.status_code != 200:
                        errors.append(str(response.status_code))
                except httpx.HTTPError as exc:
                    errors.append(type(exc).__name__)
                latencies.append(time.perf_counter() - began)

        began = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(concurrency)))
        wall = time.perf_counter() - began
    return {"qps": requests / wall, "p50_ms": statistics.median(latencies) * 1000, "errors": errors}


def spread(values: list[float], unit: str = "") -> str:
    return f"{statistics.median(values):8.1f}{unit} ({min(values):.1f}-{max(values):.1f})"


def main(requests: int = 200) -> None:
    session = SuiteSession({})
    try:
        query, rag = session.services.url("query"), session.services.url("rag")
        tenant = tenant_headers(rag, session.operator_key, "throughput")
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
        echo = ServiceProcess("echo", env, session.infra.record, launch=uvicorn_launch("echo_app:create_app")).start()
        echo.wait_ready(30)
        httpx.post(f"{rag}/api/v1/rag/documents", headers=tenant, timeout=30, json={
            "title": "Refund policy", "content": "Annual plans can be refunded within 30 days of purchase."})
        ask = {"query": "Within how many days can annual plans be refunded?", "mode": "rag"}
        asyncio.run(load(f"{query}/api/v1/query", tenant, ask, 20, 10))  # every hop's connections warm
        unified: dict[int, list[dict]] = {level: [] for level in LEVELS}
        bare: dict[int, list[dict]] = {level: [] for level in LEVELS}
        for _ in range(ROUNDS):
            for level in LEVELS:
                unified[level].append(asyncio.run(load(f"{query}/api/v1/query", tenant, ask, requests, level)))
                bare[level].append(asyncio.run(load(f"{echo.url}/ready", tenant, None, requests, level)))
        echo.stop()
    finally:
        session.close()

    single = [run["qps"] for run in unified[1]]
    print(f"Unified queries, rag mode, {requests} requests per level, {ROUNDS} rounds: median (lowest-highest)")
    print(f"{'concurrency':>11}  {'queries/s':>22}  {'p50 ms':>22}  {'vs 1 stream':>22}  {'bare app req/s':>24}"
          "  errors")
    for level in LEVELS:
        qps = [run["qps"] for run in unified[level]]
        ratios = [rate / base for rate, base in zip(qps, single, strict=True)]
        errors = sum(len(run["errors"]) for run in unified[level]) + sum(len(run["errors"]) for run in bare[level])
        kinds = sorted({error for run in unified[level] + bare[level] for error in run["errors"]})
        print(f"{level:>11}  {spread(qps):>22}  {spread([run['p50_ms'] for run in unified[level]]):>22}  "
              f"{spread(ratios, 'x'):>22}  {spread([run['qps'] for run in bare[level]]):>24}  {errors}"
              + (f" ({', '.join(kinds)})" if kinds else ""))
    print("throughput at 10 and 50 should stay at or above 1.0x the single stream, with 0 errors")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
