"""What OpenTelemetry costs the platform, measured in one run: the same workload with the services
exporting traces and metrics to the suite's OTLP receiver (the suite's default) and with the SDK
disabled (OTEL_SDK_DISABLED=true), side by side.

Workloads: a unified query over HTTP (query > rag > gateway > scripted model, a new question each
time so the gateway's cache does not answer), and a completion over NATS request/reply answered
by the gateway service's worker. Three repetitions, alternating off and on, and every figure is
printed: the spread matters more than the best run. The receiver decodes every export in this
process, on the same cores as the services: a collector elsewhere would cost them less.

    python benchmarks/bench_telemetry.py [requests per repetition]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time

import httpx
from bench_services import tenant_headers

from ai_contract import codec
from ai_platform.messaging import Bus, ConnectionSettings, subjects
from ai_platform.messaging.bus import now
from harness.session import SuiteSession

TENANT = "bench"
REPETITIONS = 3
# "on" exports at the SDK's default intervals (spans every 5 s, metrics every 60 s), as a deployment would; the
# suite's own runs export every 100 ms so that Then steps need not wait.
SETTINGS = {"off": {"OTEL_SDK_DISABLED": "true"},
            "on": {"OTEL_BSP_SCHEDULE_DELAY": "5000", "OTEL_METRIC_EXPORT_INTERVAL": "60000"}}


def deployment(telemetry: str, **more: str) -> dict[str, str]:
    """Overrides for one deployment; each names itself, so the fleet starts one instance per setting."""
    return {"BENCH_TELEMETRY": telemetry, "NATS_WORKERS": "off", **SETTINGS[telemetry], **more}


HEADERS: dict[str, str] = {}  # the bench tenant's key and id, once issued


def timed(call, count: int) -> list[float]:
    samples = []
    for index in range(count):
        began = time.perf_counter()
        call(index)
        samples.append(time.perf_counter() - began)
    return samples


def http_queries(client: httpx.Client, query_url: str, count: int, label: str) -> list[float]:
    def ask(index: int) -> None:
        question = f"Within how many days can annual plans be refunded? ({label} {index})"
        answered = client.post(f"{query_url}/api/v1/query", headers=HEADERS,
                               json={"query": question, "mode": "rag"})
        answered.raise_for_status()
    return timed(ask, count)


def nats_requests(nats_url: str, count: int, label: str) -> list[float]:
    async def run() -> list[float]:
        bus = await Bus.connect(ConnectionSettings(nats_url, name="bench", connect_timeout_s=2))
        try:
            samples = []
            for index in range(count):
                request = {"request_id": codec.new_message_id(), "prompt": f"Say hello ({label} {index}).",
                           "model": "chat", "tenant_id": TENANT, "timestamp": now()}
                began = time.perf_counter()
                payload, headers = bus.envelope("llm_request", request, TENANT)
                reply = await bus.nc.request(subjects.gateway_requests(TENANT), payload, timeout=10, headers=headers)
                samples.append(time.perf_counter() - began)
                answer = codec.decode(reply.data, format=codec.format_from_headers(reply.headers))
                assert answer.message_type == "llm_response", f"the gateway worker answered {answer}"
            return samples
        finally:
            await bus.close()
    return asyncio.run(run())


def main(count: int = 100) -> None:
    session = SuiteSession({})
    figures: dict[tuple[str, str], list[float]] = {}  # (workload, telemetry) -> median per repetition, ms
    try:
        session.database_url  # noqa: B018 - servers up first
        session.model_server  # noqa: B018
        services = session.services
        queries = {telemetry: services.url("query", deployment(telemetry)) for telemetry in SETTINGS}
        rag = services.url("rag", deployment("on"))
        HEADERS.update(tenant_headers(rag, session.operator_key, TENANT))
        with httpx.Client(timeout=30) as client:
            client.post(f"{rag}/api/v1/rag/documents", headers=HEADERS, json={
                "title": "Refund policy", "content": "Annual plans can be refunded within 30 days of purchase."})
            for telemetry, url in queries.items():  # warm every hop's connections
                http_queries(client, url, 10, f"warm {telemetry}")
            for repetition in range(REPETITIONS):
                for telemetry, url in queries.items():
                    samples = http_queries(client, url, count, f"{telemetry} {repetition}")
                    figures.setdefault(("unified query over HTTP", telemetry), []).append(
                        statistics.median(samples) * 1000)
        # Only one gateway at a time answers on NATS (all instances would share the queue group).
        for repetition in range(REPETITIONS):
            for telemetry in SETTINGS:
                gateway = services.process("gateway", deployment(telemetry, NATS_WORKERS="on",
                                                                 GATEWAY_INSTANCE=f"nats-{repetition}"))
                nats_requests(session.infra.nats_url(), 10, "warm")
                samples = nats_requests(session.infra.nats_url(), count, f"{telemetry} {repetition}")
                figures.setdefault(("completion over NATS", telemetry), []).append(statistics.median(samples) * 1000)
                gateway.stop()
        received = len(session.receiver.store.spans())
    finally:
        session.close()

    print(f"Telemetry on (OTLP/HTTP export to the suite's receiver) and off (OTEL_SDK_DISABLED=true), {count} "
          f"requests per repetition, median milliseconds per repetition")
    print(f"{'workload':28}{'telemetry':>10}   {'repetition 1, 2, 3':24}{'on / off':>10}")
    for workload in ("unified query over HTTP", "completion over NATS"):
        off, on = figures[(workload, "off")], figures[(workload, "on")]
        print(f"{workload:28}{'off':>10}   {', '.join(f'{m:6.2f}' for m in off):24}")
        ratios = [a / b for a, b in zip(on, off, strict=True)]
        print(f"{'':28}{'on':>10}   {', '.join(f'{m:6.2f}' for m in on):24}"
              f"{', '.join(f'{r:.2f}x' for r in ratios):>10}")
        print(f"{'':28}{'':>10}   ratio spread {min(ratios):.2f}x to {max(ratios):.2f}x")
    print(f"spans received by the suite's receiver during the run: {received}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
