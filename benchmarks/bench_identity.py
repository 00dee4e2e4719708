"""What checking an API key costs a request (run from the repo root: python benchmarks/bench_identity.py).

Two figures, each as the median of N calls, repeated 3 times (the spread is the three medians):
- the key check alone (`bearer` + `Keys.tenant_of`) against the raw dependency it rests on (one
  hmac.new + hmac.compare_digest), in microseconds;
- the share of one guarded HTTP request (GET cache statistics from the gateway service with a tenant's
  key, on loopback) that the check takes.
"""

from __future__ import annotations

import hashlib
import hmac
import statistics
import sys
import time

import httpx

from ai_contract import routes
from ai_platform.services.identity import Keys, bearer
from harness.session import SuiteSession

REPETITIONS = 3


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


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
