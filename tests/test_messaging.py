"""Messaging internals that need no scenario: subject rules, connection errors, the bus on a real server."""

import asyncio
from datetime import UTC, datetime

import pytest

from ai_platform.messaging import Bus, ConnectionSettings, MessagingUnavailable, subjects
from harness.infra.processes import free_port


@pytest.mark.parametrize("tenant", ["", "a.b", "a*", ">", "a b"])
def test_a_tenant_id_that_would_widen_a_subject_is_refused(tenant):
    with pytest.raises(ValueError, match="tenant id"):
        subjects.gateway_requests(tenant)


def test_subjects_follow_the_contract():
    assert subjects.agent_tasks("acme") == "ai.agent.tasks.acme"
    assert subjects.rag_ingest("acme") == "ai.rag.ingest.acme"
    assert subjects.dead_letter("rag", "acme") == "ai.dlq.rag.acme"


def test_connecting_to_a_closed_port_names_the_url():
    url = f"nats://127.0.0.1:{free_port()}"
    with pytest.raises(MessagingUnavailable, match=url.replace(".", r"\.")):
        asyncio.run(Bus.connect(ConnectionSettings(url, connect_timeout_s=0.5)))


@pytest.fixture(scope="module")
def nats_url():
    from harness.infra import Infrastructure

    infra = Infrastructure("embedded")
    yield infra.nats_url()
    infra.close()


def test_every_message_carries_content_type_id_tenant(nats_url):
    async def publish_and_read():
        bus = await Bus.connect(ConnectionSettings(nats_url))
        sub = await bus.nc.subscribe("ai.agent.message.t1")
        await bus.publish("ai.agent.message.t1", "agent_message", {
            "message_id": "m1", "source_agent_id": "a", "target_agent_id": "b", "content": "hello",
            "timestamp": datetime.now(UTC)}, "t1")
        msg = await sub.next_msg(timeout=2)
        await bus.close()
        return msg

    msg = asyncio.run(publish_and_read())
    assert msg.headers["Content-Type"] == "application/json"
    assert msg.headers["X-Tenant-ID"] == "t1" and msg.headers["Nats-Msg-Id"]
