"""The bus authority on a real nats-server configured as the suite configures it: who gets in, and with what."""

import asyncio

import nats
import nats.errors
import nkeys
import pytest

from ai_platform.messaging import Bus, ConnectionSettings
from ai_platform.messaging.authorization import BusAuthority, decode_jwt, encode_jwt
from ai_platform.services.identity import Keys
from harness.infra.nats_auth import BusCredentials, shown, without_credentials

KEYS = Keys("a-key-secret-for-tests", "an-operator-key-for-tests")


def test_a_jwt_decodes_only_with_its_signature():
    signer = nkeys.from_seed(BusCredentials.fresh().issuer_seed.encode())
    token = encode_jwt({"sub": "someone", "nats": {"type": "user"}}, signer)
    assert decode_jwt(token)["sub"] == "someone"
    header, payload, signature = token.split(".")
    with pytest.raises(ValueError, match="not a signed NATS JWT"):
        decode_jwt(f"{header}.{payload[:-2]}AA.{signature}")


def test_credentials_never_show_in_a_repr_or_a_shown_url():
    credentials = BusCredentials.fresh()
    url = credentials.service_url("127.0.0.1", 4222)
    assert credentials.service_password not in repr(credentials) and credentials.issuer_seed not in repr(credentials)
    assert credentials.service_password not in shown(url)
    assert without_credentials(url) == "nats://127.0.0.1:4222"


@pytest.fixture(scope="module")
def bus_server():
    from harness.infra import Infrastructure

    infra = Infrastructure("embedded")
    yield infra.nats_url(), infra.bus_credentials
    infra.close()


def test_a_tenant_key_gets_its_own_subjects_and_nothing_else(bus_server):
    url, credentials = bus_server

    async def check():
        service = await Bus.connect(ConnectionSettings(url))
        authority = await BusAuthority(service, credentials.issuer_seed, KEYS.tenant_of).start()
        errors = []

        async def collect(exc):
            errors.append(str(exc))

        tenant = await nats.connect(without_credentials(url), token=KEYS.tenant_key("acme"),
                                    inbox_prefix="_INBOX.acme", error_cb=collect)
        await tenant.publish("ai.gateway.requests.globex", b"x")
        await tenant.flush()
        await asyncio.sleep(0.2)
        for token in (None, KEYS.tenant_key("acme")[:-3] + "AAA", "an-operator-key-for-tests"):
            with pytest.raises(nats.errors.Error, match="Authorization Violation"):
                await nats.connect(without_credentials(url), token=token, allow_reconnect=False, connect_timeout=2)
        await tenant.close()
        await authority.stop()
        await service.close()
        return errors

    errors = asyncio.run(check())
    assert any('permissions violation for publish to "ai.gateway.requests.globex"' in e for e in errors), errors
