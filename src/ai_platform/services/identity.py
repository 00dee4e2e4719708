"""Who is calling: tenant keys and the operator key, as the deployment configures them.

A tenant key is `tk.<tenant>.<signature>`: the signature is an HMAC-SHA256 of the tenant id under the
deployment's key secret (PLATFORM_KEY_SECRET), so every service checks a key on its own, with no shared
store, and the tenant comes from the key, never from what the caller claims. The operator issues keys
(POST /api/v1/tenants/{tenant}/keys) and removes tenants with the operator key (PLATFORM_OPERATOR_KEY).
Keys are compared in constant time and never logged, printed or put on a span.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Mapping

from ai_contract.ids import is_valid_id
from ai_contract.settings import PLATFORM_KEY_SECRET, PLATFORM_OPERATOR_KEY
from ai_platform.services.config import required

TENANT_KEY_PREFIX = "tk"


class Keys:
    """The deployment's key secret and operator key; repr and str show neither."""

    def __init__(self, secret: str, operator_key: str) -> None:
        self._secret, self._operator_key = secret.encode(), operator_key.encode()

    def __repr__(self) -> str:
        return "Keys(secret=***, operator_key=***)"

    __str__ = __repr__

    def tenant_key(self, tenant_id: str) -> str:
        if not is_valid_id(tenant_id):
            raise ValueError("a tenant id is letters, digits, '-' or '_', at most 64 of them")
        return f"{TENANT_KEY_PREFIX}.{tenant_id}.{self._signature(tenant_id)}"

    def tenant_of(self, key: str) -> str | None:
        """The tenant whose key this is, or None for anything else."""
        prefix, _, rest = key.partition(".")
        tenant_id, _, signature = rest.rpartition(".")
        if prefix != TENANT_KEY_PREFIX or not is_valid_id(tenant_id):
            return None
        return tenant_id if hmac.compare_digest(signature.encode(), self._signature(tenant_id).encode()) else None

    def is_operator(self, key: str) -> bool:
        return hmac.compare_digest(key.encode(), self._operator_key)

    def _signature(self, tenant_id: str) -> str:
        digest = hmac.new(self._secret, tenant_id.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def keys_from_env(environ: Mapping[str, str] = os.environ) -> Keys:
    return Keys(required(PLATFORM_KEY_SECRET, environ), required(PLATFORM_OPERATOR_KEY, environ))


def bearer(authorization: str | None) -> str | None:
    """The key of an `Authorization: Bearer <key>` header, as the official OpenAI clients send it."""
    scheme, _, key = (authorization or "").strip().partition(" ")
    return key.strip() or None if scheme.lower() == "bearer" else None
