"""Request/reply through the platform's messaging layer and codec, against raw nats-py on the same
server in the same run. Prints median and p95 round trips and their ratio; asserts nothing.

    python benchmarks/bench_messaging.py [requests]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from datetime import UTC, datetime

import nats

from ai_platform.messaging import Bus, ConnectionSettings, subjects
from ai_platform.messaging.workers import GatewayWorker, Worker
from harness.infra import Infrastructure

TENANT = "bench"
SUBJECT_RAW = "bench.raw"


class EchoGateway(Worker):
    """A gateway-shaped worker that answers at once, so the figures are the messaging cost alone."""

    component = "gateway"
    in_flight = GatewayWorker.in_flight  # the real worker's dispatch path

    async def start(self) -> EchoGateway:
        await self._subscribe(subjects.gateway_requests, subjects.GATEWAY_WORKERS)
        return self

    async def handle(self, envelope, msg, tenant) -> None:
        request = envelope.data
        await self.bus.reply(msg, "llm_response", {
            "request_id": request.request_id, "response": request.prompt, "model": request.model,
            "tokens": {"prompt": 3, "completion": 3, "total": 6}, "timestamp": datetime.now(UTC),
        }, tenant)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def measure(url: str, count: int) -> dict[str, list[float]]:
    raw_server, raw_client = await nats.connect(url), await nats.connect(url)

    async def echo(msg):
        await msg.respond(msg.data)

    await raw_server.subscribe(SUBJECT_RAW, queue="raw.workers", cb=echo)
    worker_bus = await Bus.connect(ConnectionSettings(url, name="bench-worker"))
    await EchoGateway(worker_bus, TENANT).start()
    caller = await Bus.connect(ConnectionSettings(url, name="bench-caller"))
    body = b'{"prompt": "What is the capital of France?"}'

    async def raw_once():
        await raw_client.request(SUBJECT_RAW, body, timeout=2)

    async def ours_once():
        request = {"request_id": "r-1", "prompt": "What is the capital of France?", "model": "chat",
                   "tenant_id": TENANT, "timestamp": datetime.now(UTC)}
        await caller.request(f"ai.gateway.requests.{TENANT}", "llm_request", request, TENANT, timeout_s=2)

    samples: dict[str, list[float]] = {"raw nats-py": [], "platform layer + codec": []}
    for _ in range(200):  # warm up both paths
        await raw_once()
        await ours_once()
    # Interleave the two so that machine noise hits both alike.
    for _ in range(count):
        for name, once in (("raw nats-py", raw_once), ("platform layer + codec", ours_once)):
            began = time.perf_counter_ns()
            await once()
            samples[name].append((time.perf_counter_ns() - began) / 1e6)
    for connection in (caller, worker_bus):
        await connection.close()
    await raw_client.close()
    await raw_server.close()
    return samples


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    infra = Infrastructure("embedded")
    try:
        samples = asyncio.run(measure(infra.nats_url(), count))
    finally:
        infra.close()
    raw = samples["raw nats-py"]
    print(f"request/reply round trip over loopback NATS, {count} requests each, milliseconds")
    print(f"{'path':<26}{'median':>10}{'p95':>10}")
    for name, values in samples.items():
        print(f"{name:<26}{statistics.median(values):>10.3f}{percentile(values, 0.95):>10.3f}")
    ours = samples["platform layer + codec"]
    print(f"{'ratio ours / raw':<26}{statistics.median(ours) / statistics.median(raw):>9.2f}x"
          f"{percentile(ours, 0.95) / percentile(raw, 0.95):>9.2f}x   (target under 1.5x)")


if __name__ == "__main__":
    main()
