"""The bus authorization a NATS server of the suite's starts with (CONTRACTS.md, "Bus permissions").

One account holds the services and every tenant's clients. The services connect as the service user, whose
password only the run knows; anyone else is an auth callout: the server asks the platform's services, which
let a tenant's key in with the tenant's permissions, signed with the issuer key named here. The suite makes
the credentials and the server's configuration; it never decides who gets in.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import nkeys

from ai_contract import subjects
from ai_contract.settings import NATS_AUTH_ISSUER_SEED, NATS_URL

SERVICE_USER = "platform"


@dataclass(frozen=True)
class BusCredentials:
    """The service user's password and the issuer seed of one run's NATS servers; repr shows neither."""

    service_password: str = field(repr=False)
    issuer_seed: str = field(repr=False)

    @classmethod
    def fresh(cls) -> BusCredentials:
        seed = nkeys.encode_seed(secrets.token_bytes(32), nkeys.PREFIX_BYTE_ACCOUNT).decode()
        return cls(secrets.token_urlsafe(24), seed)

    @property
    def issuer(self) -> str:
        """The issuer's public account key, which the server trusts."""
        return nkeys.from_seed(self.issuer_seed.encode()).public_key.decode()

    def service_url(self, host: str, port: int) -> str:
        return f"nats://{SERVICE_USER}:{self.service_password}@{host}:{port}"

    def server_config(self, host: str, port: int, store_dir: str) -> str:
        q = json.dumps  # quoted strings, as the server's configuration format reads JSON strings
        account = subjects.PLATFORM_ACCOUNT
        return "\n".join([
            f"listen: {q(f'{host}:{port}')}",
            f"jetstream {{ store_dir: {q(store_dir)} }}",
            f"accounts {{ {account} {{ jetstream: enabled, users: [ "
            f"{{ user: {q(SERVICE_USER)}, password: {q(self.service_password)} }} ] }} }}",
            f"authorization {{ auth_callout {{ issuer: {q(self.issuer)}, account: {account}, "
            f"auth_users: [ {q(SERVICE_USER)} ] }} }}",
            ""])

    def service_settings(self, url: str) -> dict[str, str]:
        """What a service instance needs to be on this bus and let tenants in."""
        return {NATS_URL: url, NATS_AUTH_ISSUER_SEED: self.issuer_seed}


def without_credentials(url: str) -> str:
    """The server's address as a tenant's client uses it: no user or password (its key goes as its token)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    return urlunsplit(parts._replace(netloc=f"{netloc}:{parts.port}" if parts.port else netloc))


def shown(url: str) -> str:
    """A URL fit for a message or a report: the password masked."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)))
