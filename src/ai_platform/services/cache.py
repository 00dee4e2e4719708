"""The gateway's response cache, one NATS JetStream key-value bucket shared by every gateway instance.

Keys: `answer.<tenant token>.<request hash>` holds an answer with its own expiry time, and
`stats.<tenant token>` the tenant's hit and miss counts. The tenant token is a hash of the tenant id
(KV keys allow only `[-/_=.a-zA-Z0-9]`), so tenants never share an entry and a tenant's entries are
one subject wildcard. Each entry carries its expiry because instances with different TTLs share the
bucket; the bucket's max_age only clears what nobody reads any more.

A cache must never fail a request: when NATS cannot be reached, a lookup is a miss and a store is
skipped. Only the statistics, which have nothing to fall back on, report it (CacheUnavailable).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Sequence

import nats.errors
import nats.js.errors
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig
from nats.js.kv import KeyValue

from ai_platform.gateway.results import Completion, Usage
from ai_platform.messaging import Bus, ConnectionSettings, MessagingUnavailable

BUCKET = "gateway_response_cache"
BUCKET_MAX_AGE_S = 24 * 3600.0  # a backstop; an entry's own expiry decides when it is stale
DEFAULT_TTL_S = 300.0
CONNECT_BUDGET_S = 1.0  # a request waits at most this long for a NATS that is down
RETRY_CONNECT_AFTER_S = 2.0  # after a failed connect, requests skip the cache this long without trying
OPERATION_TIMEOUT_S = 2.0
COUNTER_ATTEMPTS = 50  # read-modify-write rounds lost to other instances before a count is given up
ANSWERS, COUNTERS = "answer", "stats"

log = logging.getLogger(__name__)


class CacheUnavailable(Exception):
    """NATS, which holds the cache, cannot be reached."""


def tenant_token(tenant_id: str) -> str:
    """The tenant in a KV key: a tenant id may hold characters a key may not."""
    return hashlib.sha256(tenant_id.encode()).hexdigest()[:32]


def request_key(tenant_id: str, model: str, conversation: Sequence[dict], *, temperature: float | None = None,
                max_tokens: int | None = None, top_p: float | None = None, stop: Sequence[str] | None = None) -> str:
    """The entry of one request: the same tenant, model, conversation and sampling give the same key."""
    request = {"model": model, "conversation": [[turn["role"], turn["content"]] for turn in conversation],
               "temperature": temperature, "max_tokens": max_tokens, "top_p": top_p,
               "stop": list(stop) if stop is not None else None}
    digest = hashlib.sha256(json.dumps(request, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    return f"{ANSWERS}.{tenant_token(tenant_id)}.{digest}"


class ResponseCache:
    """Answers by request key, with per-tenant hit and miss counts. Off when there is no NATS URL."""

    def __init__(self, nats_url: str | None, ttl_s: float = DEFAULT_TTL_S) -> None:
        self.nats_url, self.ttl_s = nats_url, ttl_s
        self._bus: Bus | None = None
        self._kv: KeyValue | None = None
        self._lock = asyncio.Lock()
        self._retry_at = 0.0
        self._last_failure = ""

    @property
    def enabled(self) -> bool:
        return bool(self.nats_url)

    async def connect(self) -> None:
        """Open the bucket now if NATS answers; otherwise the first use tries again."""
        if self.enabled:
            await self.problem()

    async def problem(self) -> str | None:
        """What keeps the cache from NATS, or None (also when the cache is off: nothing to reach)."""
        if not self.enabled:
            return None
        try:
            await self._bucket()
        except CacheUnavailable as exc:
            return str(exc)
        return None

    async def lookup(self, tenant_id: str, key: str) -> Completion | None:
        """The unexpired answer stored under key, counting a hit or a miss for the tenant."""
        if not self.enabled:
            return None
        try:
            kv = await self._bucket()
            try:
                found = _fresh((await kv.get(key)).value, time.time())
            except nats.js.errors.KeyNotFoundError:
                found = None
            await self._count(kv, tenant_id, "hits" if found else "misses")
        except (CacheUnavailable, nats.errors.Error, TimeoutError) as exc:
            log.warning("response cache skipped: %s", exc)
            return None
        if found is None:
            return None
        return Completion(found["text"], found["model"], Usage(found["input_tokens"], found["output_tokens"]),
                          found.get("finish_reason", "stop"))

    async def store(self, key: str, answer: Completion) -> None:
        """Keep answer under key until this instance's TTL has passed."""
        if not self.enabled:
            return
        entry = {"expires_at": time.time() + self.ttl_s, "text": answer.text, "model": answer.model,
                 "input_tokens": answer.usage.input_tokens, "output_tokens": answer.usage.output_tokens,
                 "finish_reason": answer.finish_reason}
        try:
            await (await self._bucket()).put(key, json.dumps(entry).encode())
        except (CacheUnavailable, nats.errors.Error, TimeoutError) as exc:
            log.warning("response cache skipped: %s", exc)

    async def stats(self, tenant_id: str) -> dict:
        """The tenant's counts and unexpired entries, over every gateway instance."""
        if not self.enabled:
            return {"hits": 0, "misses": 0, "entries": 0, "enabled": False, "ttl_s": self.ttl_s}
        try:
            kv = await self._bucket()
            counts = await _counts(kv, tenant_id)
            entries = await _live_entries(kv, self._bus.js, tenant_id)
        except (nats.errors.Error, TimeoutError) as exc:
            raise CacheUnavailable(f"the cache statistics cannot be read: {exc or type(exc).__name__}") from None
        return {**counts, "entries": entries, "enabled": True, "ttl_s": self.ttl_s}

    async def close(self) -> None:
        if self._bus is not None:
            await self._bus.close()
            self._bus, self._kv = None, None

    async def _bucket(self) -> KeyValue:
        async with self._lock:
            if self._kv is None:
                if time.monotonic() < self._retry_at:
                    raise CacheUnavailable(self._last_failure)
                try:
                    if self._bus is None:
                        # Never give up reconnecting: while NATS is away the cache is skipped, not closed.
                        self._bus = await Bus.connect(ConnectionSettings(
                            self.nats_url, name="gateway-cache", connect_timeout_s=CONNECT_BUDGET_S,
                            max_reconnect_attempts=-1))
                    self._kv = await _open_bucket(self._bus.nc.jetstream(timeout=OPERATION_TIMEOUT_S))
                except (MessagingUnavailable, nats.errors.Error, TimeoutError) as exc:
                    self._retry_at = time.monotonic() + RETRY_CONNECT_AFTER_S
                    self._last_failure = str(exc) or type(exc).__name__
                    raise CacheUnavailable(self._last_failure) from None
        if not self._bus.nc.is_connected:  # reconnecting: do not wait for it on a request
            raise CacheUnavailable(f"the connection to NATS at {self.nats_url} is down")
        return self._kv

    async def _count(self, kv: KeyValue, tenant_id: str, field: str) -> None:
        """Add one to a counter that other instances update too: optimistic concurrency on its revision."""
        key = f"{COUNTERS}.{tenant_token(tenant_id)}"
        for _ in range(COUNTER_ATTEMPTS):
            try:
                current = await kv.get(key)
            except nats.js.errors.KeyNotFoundError:
                current = None
            counts = json.loads(current.value) if current else {"hits": 0, "misses": 0}
            counts[field] += 1
            try:
                if current is None:
                    await kv.create(key, json.dumps(counts).encode())
                else:
                    await kv.update(key, json.dumps(counts).encode(), last=current.revision)
                return
            except nats.js.errors.KeyWrongLastSequenceError:
                continue  # another instance counted in between: read again
        log.warning("a cache %s of tenant %s was not counted: %d concurrent updates won", field, tenant_id,
                    COUNTER_ATTEMPTS)


async def forget_tenant(js: JetStreamContext, tenant_id: str) -> None:
    """Remove the tenant's answers and counts, for every gateway instance: part of removing a tenant."""
    token = tenant_token(tenant_id)
    for subject in (f"$KV.{BUCKET}.{ANSWERS}.{token}.>", f"$KV.{BUCKET}.{COUNTERS}.{token}"):
        try:
            await js.purge_stream(f"KV_{BUCKET}", subject=subject)
        except nats.js.errors.NotFoundError:
            return  # no gateway has cached anything yet


async def _open_bucket(js: JetStreamContext) -> KeyValue:
    try:
        return await js.key_value(BUCKET)
    except nats.js.errors.BucketNotFoundError:
        return await js.create_key_value(KeyValueConfig(bucket=BUCKET, ttl=BUCKET_MAX_AGE_S))


async def _counts(kv: KeyValue, tenant_id: str) -> dict:
    try:
        counts = json.loads((await kv.get(f"{COUNTERS}.{tenant_token(tenant_id)}")).value)
    except nats.js.errors.KeyNotFoundError:
        return {"hits": 0, "misses": 0}
    return {"hits": counts["hits"], "misses": counts["misses"]}


async def _live_entries(kv: KeyValue, js: JetStreamContext, tenant_id: str) -> int:
    """The tenant's unexpired entries: its keys, as the bucket's stream lists them, and each one's latest value.
    (A KV watch can say it has caught up before it delivers an entry that was already stored.)"""
    prefix = f"$KV.{BUCKET}."
    info = await js.stream_info(f"KV_{BUCKET}", subjects_filter=f"{prefix}{ANSWERS}.{tenant_token(tenant_id)}.>")
    live, now = 0, time.time()
    for subject in info.state.subjects or {}:
        try:
            entry = await kv.get(subject.removeprefix(prefix))
        except nats.js.errors.KeyNotFoundError:  # deleted or purged since
            continue
        live += bool(entry.value) and _fresh(entry.value, now) is not None
    return live


def _fresh(value: bytes, now: float) -> dict | None:
    """The stored answer, or None once it has expired."""
    entry = json.loads(value)
    return entry if entry["expires_at"] > now else None
