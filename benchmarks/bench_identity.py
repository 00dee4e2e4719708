"""What checking an API key costs a request (run from the repo root: python benchmarks/bench_identity.py).

Two figures, each as the median of N calls, repeated 3 times (the spread is the three medians):
- the key check alone (`bearer` + `Keys.tenant_of`) against the raw dependency it rests on (one
  hmac.new + hmac.compare_digest), in microseconds;
- the share of one guarded HTTP request (GET cache statistics from the gateway service with a tenant's
  key, on loopback) that the check takes;
- on the bus: connecting with a tenant's key (the server asks the services' auth callout) against
  connecting as the service user (the server checks its own password), and one request/reply round trip
  on a tenant's client (its permissions checked by the server) against the service user's (no permissions).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import statistics
import sys
import time

import httpx
import nats

from ai_contract import routes
from ai_platform.services.identity import Keys, bearer
from harness.infra.nats_auth import without_credentials
from harness.session import SuiteSession

REPETITIONS = 3
ECHO_SUBJECT = "ai.bench.echo.bench"  # the tenant "bench"'s own subject, on which no service listens


def median_us(call, count: int) -> float:
    samples = []
    for _ in range(count):
        began = time.perf_counter()
        call()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples) * 1e6


def spread(figures: list[float], unit: str) -> str:
    return f"{statistics.median(figures):8.2f} {unit} (runs: {', '.join(f'{f:.2f}' for f in figures)})"


def main(count: int = 2000) -> None:
    keys = Keys("bench-secret-0123456789", "bench-operator-0123456789")
    header = f"Bearer {keys.tenant_key('acme')}"
    secret = b"bench-secret-0123456789"
    signature = hmac.new(secret, b"acme", hashlib.sha256).hexdigest()

    def raw() -> bool:
        return hmac.compare_digest(hmac.new(secret, b"acme", hashlib.sha256).hexdigest(), signature)

    checks = [(median_us(lambda: keys.tenant_of(bearer(header)), count), median_us(raw, count))
              for _ in range(REPETITIONS)]
    session = SuiteSession({})
    try:
        gateway = session.services.url("gateway")
        with httpx.Client(timeout=30) as client:
            issued = client.post(gateway + routes.tenant_keys("bench"),
                                 headers={"Authorization": f"Bearer {session.operator_key}"}).json()["data"]["key"]
            guarded = {"Authorization": f"Bearer {issued}"}
            for _ in range(50):  # warm the connection and the route
                client.get(gateway + routes.CACHE_STATS, headers=guarded)
            http = [median_us(lambda: client.get(gateway + routes.CACHE_STATS, headers=guarded), count // 10) / 1000
                    for _ in range(REPETITIONS)]
        bus = [asyncio.run(bus_figures(session.infra.nats_url(), issued, count // 20)) for _ in range(REPETITIONS)]
    finally:
        session.close()
    print(f"API key check, median of {count} calls, {REPETITIONS} runs")
    print(f"  bearer + Keys.tenant_of        {spread([c for c, _ in checks], 'us')}")
    print(f"  raw hmac + compare_digest      {spread([r for _, r in checks], 'us')}")
    print(f"  ratio                          {spread([c / r for c, r in checks], 'x')}")
    print(f"HTTP on loopback, median of {count // 10} requests, {REPETITIONS} runs")
    print(f"  cache statistics, with a key   {spread(http, 'ms')}")
    shares = [check / 1000 / request * 100 for (check, _), request in zip(checks, http, strict=True)]
    print(f"  the check's share of it        {spread(shares, '%')}")
    print(f"NATS on loopback, median of {count // 20} connections and of {count // 2} round trips, {REPETITIONS} runs")
    print(f"  connect with a tenant's key    {spread([b[0] for b in bus], 'ms')}")
    print(f"  connect as the service user    {spread([b[1] for b in bus], 'ms')}")
    print(f"  ratio                          {spread([b[0] / b[1] for b in bus], 'x')}")
    print(f"  round trip, tenant's client    {spread([b[2] for b in bus], 'us')}")
    print(f"  round trip, service user       {spread([b[3] for b in bus], 'us')}")
    print(f"  ratio                          {spread([b[2] / b[3] for b in bus], 'x')}")


async def bus_figures(service_url: str, tenant_key: str, connections: int) -> tuple[float, float, float, float]:
    """Median connect times (ms) and request round trips (us): a tenant's client, then the service user."""
    server = without_credentials(service_url)

    async def connect_ms(**how) -> float:
        samples = []
        for _ in range(connections):
            began = time.perf_counter()
            client = await nats.connect(allow_reconnect=False, **how)
            samples.append((time.perf_counter() - began) * 1000)
            await client.close()
        return statistics.median(samples)

    async def round_trip_us(client) -> float:
        samples = []
        for _ in range(connections * 10):
            began = time.perf_counter()
            await client.request(ECHO_SUBJECT, b"ping", timeout=2)
            samples.append((time.perf_counter() - began) * 1e6)
        return statistics.median(samples)

    tenant_ms = await connect_ms(servers=[server], token=tenant_key, inbox_prefix="_INBOX.bench")
    service_ms = await connect_ms(servers=[service_url])
    echo = await nats.connect(servers=[service_url])  # a responder of the service's on a subject of the tenant's

    async def pong(msg) -> None:
        await msg.respond(b"pong")

    await echo.subscribe(ECHO_SUBJECT, cb=pong)
    await echo.flush()
    tenant = await nats.connect(servers=[server], token=tenant_key, inbox_prefix="_INBOX.bench")
    service = await nats.connect(servers=[service_url])
    figures = (tenant_ms, service_ms, await round_trip_us(tenant), await round_trip_us(service))
    for client in (tenant, service, echo):
        await client.close()
    return figures


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
