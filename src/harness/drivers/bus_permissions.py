"""Try the message bus as a hostile client would (CONTRACTS.md, "Bus permissions").

A client with no key or a wrong one, or a tenant's client reaching for another tenant's subjects, the
streams or the key-value buckets. What it can observe is what the specs check: the connection refused, the
permissions violation the server reports, and whether anything passed. Whether a message reached a subject
the client had no right to is seen through the operator's connection, which sees every subject.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from nats.aio.msg import Msg

from ai_contract import subjects
from ai_contract.errors import MessagingUnavailable
from harness.bus import Bus, ConnectionSettings
from harness.drivers.services import forged
from harness.infra.nats_auth import without_credentials
from harness.reporting import attach_json
from harness.waiting import scaled

if TYPE_CHECKING:
    from harness.world import World

VERDICT_BUDGET_S = 5.0  # how long the server may take to answer a round trip
# How long a message watched by the operator may take to pass (it or a violation ends the wait): on 2 cores with four
# workers a permitted message once took longer than 5 s (CI, December 2026); only a lost one spends all of it.
PASS_BUDGET_S = 15.0
# A probe's whole budget: a lost message ends in the verdict "nothing passed", not in the step running out of time.
PROBE_BUDGET_S = PASS_BUDGET_S + 3 * VERDICT_BUDGET_S
RESEND_S = 1.0  # how long a probe message may take before it is sent again
PROBE_MESSAGE = b'{"probe": true}'
ANSWER_BUDGET_S = 2.0  # how long an API subject may take to answer (a refused one never does: this is spent)

# A tenant's subjects, as the specs name them.
TENANT_SUBJECTS = {
    "completion requests": subjects.gateway_requests,
    "questions": subjects.rag_queries,
    "documents for ingestion": subjects.rag_ingest,
    "agent messages": subjects.agent_messages,
    "agent tasks": subjects.agent_tasks,
    "task results": subjects.agent_results,
    "dead letters": lambda tenant_id: subjects.dead_letter("gateway", tenant_id),
    "reply inbox": lambda tenant_id: f"{subjects.tenant_inbox_prefix(tenant_id)}.probe",
}
# What only the services may use: the JetStream API (streams, consumers, key-value buckets) and the wildcards.
SERVICE_SUBJECTS = {
    "the list of streams": "$JS.API.STREAM.NAMES",
    "the ingestion stream": f"$JS.API.STREAM.INFO.{subjects.INGEST_STREAM}",
    "the dead-letter stream": f"$JS.API.STREAM.INFO.{subjects.DEAD_LETTER_STREAM}",
    "the consumers of the ingestion stream": f"$JS.API.CONSUMER.LIST.{subjects.INGEST_STREAM}",
    "every key-value bucket": "$KV.>",
    "every tenant's subjects": "ai.>",
    "every reply inbox": "_INBOX.>",
}


@dataclass
class Probe:
    """What one attempt showed: the violation the client was told of, and what passed."""

    violation: str | None = None
    passed: list[str] = field(default_factory=list)  # subjects of the messages that got through


class BusPermissions:
    def __init__(self, world: World) -> None:
        self._world = world
        self._messaging = world.messaging
        self.refusal: str | None = None
        self.probe: Probe | None = None

    def _run(self, coro, budget_s: float = 15.0):
        return self._messaging.run(coro, budget_s)

    def connect_with(self, credential: str) -> None:
        """A client connects with the credential the spec names; keeps why it was refused (None: it got in)."""
        tenant_id = self._world.tenants.id_of()
        key = self._world.services.key_of(tenant_id)  # issued by a running service, which answers the server too
        token = {"no key": None, "a made-up key": "tk.made-up.0123456789abcdef0123456789",
                 "the tenant's key with another signature": forged(key), "the tenant's key": key,
                 "the operator's key": self._world.session.operator_key}[credential]
        settings = ConnectionSettings(without_credentials(self._world.nats_url()), name="stranger",
                                      connect_timeout_s=scaled(3.0), token=token, retry=False)
        try:
            bus = self._run(Bus.connect(settings))
        except MessagingUnavailable as exc:
            self.refusal = str(exc)
            return
        self.refusal = None
        self._world.add_cleanup(self._run, bus.close())

    def subject(self, what: str, of_tenant: str | None = None) -> str:
        """A tenant's subject by the spec's words, or a subject only the services may use."""
        if what in SERVICE_SUBJECTS:
            return SERVICE_SUBJECTS[what]
        return TENANT_SUBJECTS[what](self._world.tenants.id_of(of_tenant))

    def publish(self, tenant: str, subject: str) -> Probe:
        """The tenant's client publishes on the subject; the operator watches whether it arrives."""
        client, operator = self._client(tenant), self._messaging.operator

        async def attempt() -> Probe:
            probe = Probe()
            seen = await operator.nc.subscribe(subject, cb=_keeper(probe))
            await operator.nc.flush()
            await _settle(client, probe, operator, lambda: client.nc.publish(subject, PROBE_MESSAGE))
            await seen.unsubscribe()
            return probe

        return self._record("publish", subject, self._run(attempt(), PROBE_BUDGET_S))

    def subscribe(self, tenant: str, subject: str) -> Probe:
        """The tenant's client subscribes; the operator then publishes a message the subscription would match."""
        client, operator = self._client(tenant), self._messaging.operator
        target = subject.replace(">", "probe.one").replace("*", "probe")

        async def attempt() -> Probe:
            probe = Probe()
            await client.nc.subscribe(subject, cb=_keeper(probe))
            await _verdict(client, probe)  # the server's verdict on the subscription, before anything is sent
            await _settle(client, probe, operator, lambda: operator.nc.publish(target, PROBE_MESSAGE))
            return probe

        return self._record("subscribe", subject, self._run(attempt(), PROBE_BUDGET_S))

    def request(self, tenant: str, subject: str) -> Probe:
        """The tenant's client asks an API subject (the JetStream API); an answer is what passed."""
        client = self._client(tenant)

        async def attempt() -> Probe:
            probe = Probe()
            asking = asyncio.ensure_future(client.nc.request(subject, b"", timeout=scaled(ANSWER_BUDGET_S)))
            while not asking.done() and not _record_violation(client, probe):
                await asyncio.sleep(0.02)  # a refused request is never answered: its violation ends the wait
            if not asking.done():
                asking.cancel()
            try:
                probe.passed.append((await asking).subject)
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - refused, timed out, no responders
                pass
            await _verdict(client, probe)
            return probe

        return self._record("request", subject, self._run(attempt()))

    def _client(self, tenant: str) -> Bus:
        """A fresh client of the tenant, so a violation it is told of belongs to this attempt alone."""
        return self._messaging.connect(f"probe-{tenant}", tenant_id=self._world.tenants.id_of(tenant))

    def _record(self, act: str, subject: str, probe: Probe) -> Probe:
        attach_json(f"{act} on {subject}", {"violation": probe.violation, "passed": probe.passed})
        self.probe = probe
        return probe


def _keeper(probe: Probe):
    async def keep(msg: Msg) -> None:
        probe.passed.append(msg.subject)
    return keep


async def _settle(client: Bus, probe: Probe, operator: Bus, send) -> None:
    """Send, then round trips until a violation is reported to the client, a message the watcher sees passed, or the
    budget is spent. Core NATS delivers at most once, and under a loaded CI machine a permitted probe was seen not
    to arrive: the message is sent again every RESEND_S until one passes (a refused subject refuses every one)."""
    loop = asyncio.get_running_loop()
    deadline, sent = loop.time() + scaled(PASS_BUDGET_S), None
    while loop.time() < deadline:
        if sent is None or loop.time() - sent >= RESEND_S:
            await send()
            sent = loop.time()
        await client.nc.flush()
        await operator.nc.flush()
        if _record_violation(client, probe) or probe.passed:
            return
        await asyncio.sleep(0.05)


async def _verdict(client: Bus, probe: Probe) -> None:
    """The server's verdict on what the client sent so far. The server answers a client's commands in order and
    nats-py reports a permissions violation before it reads the next PONG, so after one round trip the verdict is
    in: a violation, or none."""
    await client.nc.flush(timeout=scaled(VERDICT_BUDGET_S))
    _record_violation(client, probe)


def _record_violation(client: Bus, probe: Probe) -> bool:
    violations = [e for e in client.errors if "permissions violation" in e.lower()]
    if violations:
        probe.violation = violations[-1]
    return bool(violations)
