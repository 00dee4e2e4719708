"""The gateway's response cache against a real nats-server with JetStream, then through the service."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sysconfig
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import psutil
import pytest
from conftest import as_tenant
from fastapi.testclient import TestClient

from ai_platform.gateway.results import Completion, Usage
from ai_platform.services import gateway as gateway_service
from ai_platform.services.cache import ResponseCache, request_key
from harness.llm import ScriptedModelServer

TEST_BUDGET_S = 15
SERVER_READY_S = 10.0
ANSWER = Completion("Refunds take five business days.", "scripted-primary", Usage(12, 6))
CONVERSATION = [{"role": "user", "content": "How long does a refund take?"}]


@pytest.fixture(scope="module")
def nats_url(tmp_path_factory) -> Iterator[str]:
    """One JetStream nats-server for the module, on a free port; gone when the module ends."""
    port = _free_port()
    binary = Path(sysconfig.get_path("scripts")) / "nats-server"
    server = psutil.Popen([str(binary), "-js", "-a", "127.0.0.1", "-p", str(port),
                           "-sd", str(tmp_path_factory.mktemp("jetstream"))],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_port(port, server)
        yield f"nats://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=5)
        assert not psutil.pid_exists(server.pid), "nats-server is still running"


def tenant() -> str:
    """A fresh tenant per test (the bucket outlives tests), with characters a KV key may not hold."""
    return f"acme corp/eu@{uuid.uuid4().hex}"


def run(coroutine: Awaitable):
    return asyncio.run(asyncio.wait_for(coroutine, TEST_BUDGET_S - 2))


def key(tenant_id: str, model: str = "chat", conversation: list[dict] = CONVERSATION, **sampling) -> str:
    return request_key(tenant_id, model, conversation, **sampling)


def test_a_repeated_request_is_a_miss_then_a_hit(nats_url):
    async def scenario():
        cache, who = ResponseCache(nats_url), tenant()
        try:
            assert await cache.lookup(who, key(who)) is None
            await cache.store(key(who), ANSWER)
            assert await cache.lookup(who, key(who)) == ANSWER
            assert await cache.stats(who) == {"hits": 1, "misses": 1, "entries": 1, "enabled": True, "ttl_s": 300.0}
        finally:
            await cache.close()
    run(scenario())


def test_tenants_never_share_an_entry(nats_url):
    async def scenario():
        cache, acme, globex = ResponseCache(nats_url), tenant(), tenant()
        try:
            assert key(acme) != key(globex)
            await cache.store(key(acme), ANSWER)
            assert await cache.lookup(globex, key(globex)) is None
            assert (await cache.stats(globex))["entries"] == 0
        finally:
            await cache.close()
    run(scenario())


def test_a_different_model_temperature_or_conversation_is_a_different_entry(nats_url):
    async def scenario():
        cache, who = ResponseCache(nats_url), tenant()
        try:
            await cache.store(key(who, temperature=0.2), ANSWER)
            others = [key(who, model="chat-backup", temperature=0.2), key(who, temperature=0.7),
                      key(who, [{"role": "user", "content": "How long does a refund of an annual plan take?"}],
                          temperature=0.2),
                      key(who, [{"role": "system", "content": "How long does a refund take?"}], temperature=0.2)]
            assert len({key(who, temperature=0.2), *others}) == 5
            for other in others:
                assert await cache.lookup(who, other) is None
            assert await cache.lookup(who, key(who, temperature=0.2)) == ANSWER
        finally:
            await cache.close()
    run(scenario())


def test_an_entry_expires_after_its_ttl(nats_url):
    async def scenario():
        cache, who = ResponseCache(nats_url, ttl_s=1.0), tenant()
        try:
            await cache.store(key(who), ANSWER)
            assert await cache.lookup(who, key(who)) == ANSWER
            await _poll(lambda: cache.lookup(who, key(who)), until=lambda found: found is None, budget_s=5.0)
        finally:
            await cache.close()
    run(scenario())


def test_counters_are_per_tenant_and_shared_by_two_instances(nats_url):
    async def scenario():
        first, second = ResponseCache(nats_url), ResponseCache(nats_url)  # two connections, as two gateways
        acme, globex = tenant(), tenant()
        try:
            await first.store(key(acme), ANSWER)
            # Concurrent counts from both instances: none is lost to a lost update.
            await asyncio.gather(*(cache.lookup(acme, key(acme)) for cache in (first, second) * 5),
                                 first.lookup(acme, key(acme, temperature=1.0)))
            await second.lookup(globex, key(globex))
            for cache in (first, second):
                assert await cache.stats(acme) == {"hits": 10, "misses": 1, "entries": 1, "enabled": True,
                                                   "ttl_s": 300.0}
                globex_stats = await cache.stats(globex)
                assert (globex_stats["hits"], globex_stats["misses"]) == (0, 1)
        finally:
            await first.close()
            await second.close()
    run(scenario())


def test_entries_counts_only_the_tenants_unexpired_entries(nats_url):
    async def scenario():
        lasting, brief = ResponseCache(nats_url), ResponseCache(nats_url, ttl_s=1.0)  # one bucket, two TTLs
        who, other = tenant(), tenant()
        try:
            await lasting.store(key(who), ANSWER)
            await brief.store(key(who, temperature=0.5), ANSWER)
            await lasting.store(key(other), ANSWER)
            assert (await lasting.stats(who))["entries"] == 2
            await _poll(lambda: lasting.stats(who), until=lambda stats: stats["entries"] == 1, budget_s=5.0)
            assert (await lasting.stats(other))["entries"] == 1
        finally:
            await lasting.close()
            await brief.close()
    run(scenario())


def test_without_nats_the_cache_is_off_and_says_so():
    async def scenario():
        cache, who = ResponseCache(None, ttl_s=60.0), tenant()
        await cache.connect()
        await cache.store(key(who), ANSWER)
        assert await cache.lookup(who, key(who)) is None
        assert await cache.problem() is None  # nothing to reach: the service stays ready
        assert await cache.stats(who) == {"hits": 0, "misses": 0, "entries": 0, "enabled": False, "ttl_s": 60.0}
    run(scenario())


def test_an_unreachable_nats_skips_the_cache_and_is_named():
    async def scenario():
        cache, who = ResponseCache(f"nats://127.0.0.1:{_free_port()}"), tenant()
        started = time.monotonic()
        await cache.store(key(who), ANSWER)
        assert await cache.lookup(who, key(who)) is None
        assert await cache.problem()
        assert time.monotonic() - started < 5.0  # a cache that is down costs a request little
        await cache.close()
    run(scenario())


def test_the_gateway_service_answers_a_repeated_request_from_the_cache(nats_url, monkeypatch):
    server = ScriptedModelServer(dimensions=16).start()
    try:
        for name, value in {"LLM_API_BASE": server.base_url, "LLM_API_KEY": "x",
                            "LLM_CHAT_MODEL": "openai/scripted-primary",
                            "LLM_EMBEDDING_MODEL": "openai/scripted-embedding",
                            "NATS_URL": nats_url, "GATEWAY_CACHE_TTL_S": "60"}.items():
            monkeypatch.setenv(name, value)
        who, other = as_tenant(f"acme-{uuid.uuid4().hex}"), as_tenant(f"globex-{uuid.uuid4().hex}")
        question = {"prompt": "How long does a refund take?", "temperature": 0.2}
        with TestClient(gateway_service.create_app()) as client:
            assert client.get("/ready").status_code == 200
            first = client.post("/api/v1/gateway/generate", json=question, headers=who).json()["data"]
            second = client.post("/api/v1/gateway/generate", json=question, headers=who).json()["data"]
            assert (first["cached"], second["cached"]) == (False, True)
            assert [second[k] for k in ("text", "model", "usage")] == [first[k] for k in ("text", "model", "usage")]
            assert len(server.script.journal("chat")) == 1

            streamed = client.post("/api/v1/gateway/generate", json={**question, "stream": True}, headers=who)
            assert streamed.status_code == 200 and '"done": true' in streamed.text
            assert len(server.script.journal("chat")) == 2

            mine = client.get("/api/v1/gateway/cache/stats", headers=who).json()["data"]
            theirs = client.get("/api/v1/gateway/cache/stats", headers=other).json()["data"]
            assert mine == {"hits": 1, "misses": 1, "entries": 1, "enabled": True, "ttl_s": 60.0}
            assert theirs == {"hits": 0, "misses": 0, "entries": 0, "enabled": True, "ttl_s": 60.0}
    finally:
        server.close()


async def _poll(probe: Callable[[], Awaitable], until: Callable, budget_s: float):
    deadline = time.monotonic() + budget_s
    while not until(result := await probe()):
        assert time.monotonic() < deadline, f"still {result!r} after {budget_s} s"
        await asyncio.sleep(0.1)
    return result


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, server: psutil.Popen) -> None:
    deadline = time.monotonic() + SERVER_READY_S
    while time.monotonic() < deadline:
        assert server.poll() is None, f"nats-server exited with {server.returncode}"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"nats-server did not listen on {port} within {SERVER_READY_S} s")
