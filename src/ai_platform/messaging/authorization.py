"""Who is on the bus: the services answer the NATS server's authorization requests (auth callout).

The server asks on `$SYS.REQ.USER.AUTH` whenever a client that is not a service user connects. A client
whose token is a tenant's key is let in as that tenant, with the tenant's permissions from the contract
(its own subjects and its own reply inbox); any other token, or none, is
refused. The answer is a user JWT signed with the issuer account key the server trusts
(NATS_AUTH_ISSUER_SEED), for the user key and the server named in the request, so the server, not our code,
enforces the permissions on every message. Every service instance with workers answers, in one queue group,
so the bus lets tenants in while any of them runs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import time
from collections.abc import Callable

import nacl.exceptions
import nacl.signing
import nkeys
from nats.aio.msg import Msg

from ai_contract import subjects
from ai_platform.messaging.bus import Bus

log = logging.getLogger("ai_platform.messaging")
AUTH_REQUESTS = "$SYS.REQ.USER.AUTH"
AUTH_GROUP = "platform.auth"
NO_LIMIT = -1
USER_LIFETIME_S = 24 * 3600  # a tenant reconnecting after a day is asked about again


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_jwt(claims: dict, signer: nkeys.KeyPair) -> str:
    """A NATS JWT: the claims with their id (base32 SHA-256 of the claims), signed by the issuer's nkey."""
    claims = {**claims, "iss": signer.public_key.decode(), "iat": int(time.time()), "jti": ""}
    claims["jti"] = base64.b32encode(hashlib.sha256(json.dumps(claims).encode()).digest()).decode().rstrip("=")
    signed = f"{_b64(json.dumps({'typ': 'JWT', 'alg': 'ed25519-nkey'}).encode())}.{_b64(json.dumps(claims).encode())}"
    return f"{signed}.{_b64(signer.sign(signed.encode()))}"


def decode_jwt(token: str) -> dict:
    """The claims of a JWT whose signature its issuer's key verifies; ValueError for anything else."""
    try:
        header, payload, signature = token.split(".")
        claims = json.loads(_unb64(payload))
        issuer = base64.b32decode(claims["iss"] + "=" * (-len(claims["iss"]) % 8))[1:-2]
        nacl.signing.VerifyKey(issuer).verify(f"{header}.{payload}".encode(), _unb64(signature))
    except (ValueError, KeyError, TypeError, nacl.exceptions.BadSignatureError) as exc:
        raise ValueError(f"not a signed NATS JWT: {type(exc).__name__}") from None
    return claims


def tenant_user(user_nkey: str, tenant_id: str, signer: nkeys.KeyPair) -> str:
    """The user JWT that lets one connection in as the tenant, with the contract's permissions."""
    allowed = subjects.tenant_permissions(tenant_id)
    return encode_jwt({
        "sub": user_nkey, "name": f"tenant {tenant_id}", "aud": subjects.PLATFORM_ACCOUNT,
        "exp": int(time.time()) + USER_LIFETIME_S,
        "nats": {"pub": {"allow": allowed["publish"]}, "sub": {"allow": allowed["subscribe"]},
                 "subs": NO_LIMIT, "data": NO_LIMIT, "payload": NO_LIMIT,
                 "type": "user", "version": 2},
    }, signer)


class BusAuthority:
    """Answers authorization requests: `tenant_of(token)` names the tenant a token is the key of, or None."""

    def __init__(self, bus: Bus, issuer_seed: str, tenant_of: Callable[[str], str | None]) -> None:
        self._bus, self._tenant_of = bus, tenant_of
        self._signer = nkeys.from_seed(issuer_seed.encode())
        self._subscription = None

    async def start(self) -> BusAuthority:
        self._subscription = await self._bus.nc.subscribe(AUTH_REQUESTS, queue=AUTH_GROUP, cb=self._answer)
        return self

    async def stop(self) -> None:
        if self._subscription is not None:
            await self._subscription.unsubscribe()
            self._subscription = None

    async def _answer(self, msg: Msg) -> None:
        try:
            request = decode_jwt(msg.data.decode())["nats"]
            user_nkey, server_id = request["user_nkey"], request["server_id"]["id"]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            log.warning("bus authorization: an unreadable request was ignored")
            return
        token = (request.get("connect_opts") or {}).get("auth_token") or ""
        tenant_id = self._tenant_of(token) if token else None
        answer = {"sub": user_nkey, "aud": server_id, "nats": {"type": "authorization_response", "version": 2}}
        if tenant_id is None:
            answer["nats"]["error"] = "no tenant key" if not token else "not a tenant key"
            log.info("bus authorization: refused a client (%s)", answer["nats"]["error"])
        else:
            answer["nats"]["jwt"] = tenant_user(user_nkey, tenant_id, self._signer)
        await msg.respond(encode_jwt(answer, self._signer).encode())
