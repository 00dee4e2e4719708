"""Checks that the servers named by NATS_URL and DATABASE_URL answer, and are what they claim to be.

Run once before any scenario in external mode: a wrong URL then fails the run in one sentence within a few
seconds, instead of every scenario waiting out its client's retries.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Mapping
from urllib.parse import urlsplit

from harness.infra.errors import ConfigurationError

CONNECT_TIMEOUT_S = 3.0
POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")
NATS_SCHEMES = ("nats", "tls")
# What libpq says when something other than PostgreSQL answers (e.g. a NATS or HTTP server on that port).
NOT_POSTGRES_SIGNS = ("invalid response to SSL negotiation", "server closed the connection unexpectedly",
                      "expected authentication request")


def check_external_servers(environ: Mapping[str, str]) -> None:
    """Check each server whose variable is set; an unset one is reported by the first scenario that needs it."""
    if environ.get("NATS_URL"):
        check_nats(environ["NATS_URL"])
    if environ.get("DATABASE_URL"):
        check_postgres(environ["DATABASE_URL"])


def mask_credentials(url: str) -> str:
    """The URL with its password (or a NATS token, given as a user name alone) replaced by ***."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    userinfo, host = parts.netloc.rsplit("@", 1)
    user, has_password, _ = userinfo.partition(":")
    masked = f"{user}:***" if has_password else "***"
    return parts._replace(netloc=f"{masked}@{host}").geturl()


def check_nats(urls: str, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """A NATS server greets every client with INFO {json}, which also says whether JetStream is on."""
    problems = []
    for url in (u.strip() for u in urls.split(",") if u.strip()):  # NATS_URL may list a cluster's servers
        problem = _nats_problem(url, timeout_s)
        if problem is None:
            return
        problems.append(f"{mask_credentials(url)} {problem}")
    raise ConfigurationError(f"NATS_URL {'; '.join(problems)}")


def _nats_problem(url: str, timeout_s: float) -> str | None:
    parts = urlsplit(url if "://" in url else f"nats://{url}")
    if parts.scheme not in NATS_SCHEMES:
        return f"is not a NATS URL: use nats://host:port (got the scheme {parts.scheme}://)"
    host, port = parts.hostname or "127.0.0.1", parts.port or 4222
    try:
        sock = socket.create_connection((host, port), timeout=timeout_s)
    except OSError as exc:
        return f"cannot be reached: {_socket_cause(exc, timeout_s)}"
    try:
        with sock:
            greeting = sock.makefile("rb").readline(64 * 1024)
    except OSError as exc:
        greeting = b""
        if not isinstance(exc, TimeoutError):
            return f"accepted the connection, then failed: {_socket_cause(exc, timeout_s)}"
    if not greeting.startswith(b"INFO "):
        return "accepted the connection but is not a NATS server: it sent no INFO greeting"
    try:
        info = json.loads(greeting[5:])
    except ValueError:
        return "accepted the connection but is not a NATS server: its INFO greeting is not JSON"
    if not info.get("jetstream"):
        return "is a NATS server without JetStream, which the suite needs: start nats-server with -js"
    return None


def check_postgres(url: str, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Connect and look for pgvector: the store creates the vector extension and its tables on first use."""
    import psycopg

    shown = mask_credentials(url)
    scheme = urlsplit(url).scheme
    if scheme not in POSTGRES_SCHEMES:
        raise ConfigurationError(f"DATABASE_URL {shown} is not a PostgreSQL URL: use postgresql://user:password"
                                 f"@host:port/database (got the scheme {scheme or 'none'})")
    libpq_url = url.replace("postgresql+psycopg://", "postgresql://", 1)
    try:
        with psycopg.connect(libpq_url, connect_timeout=max(1, round(timeout_s))) as connection:
            vector = connection.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'").fetchone()
    except psycopg.errors.ConnectionTimeout:
        raise ConfigurationError(f"DATABASE_URL {shown} cannot be reached: no PostgreSQL answer within "
                                 f"{timeout_s:g} s") from None
    except psycopg.Error as exc:
        cause = postgres_cause(str(exc))
        if any(sign in str(exc) for sign in NOT_POSTGRES_SIGNS):
            raise ConfigurationError(f"DATABASE_URL {shown} accepted the connection but is not a PostgreSQL "
                                     f"server ({cause})") from None
        raise ConfigurationError(f"DATABASE_URL {shown} cannot be used: {cause}") from None
    if vector is None:
        raise ConfigurationError(f"DATABASE_URL {shown} has no pgvector extension, which the suite needs: "
                                 "install pgvector on that server (e.g. the pgvector/pgvector image)")


def postgres_cause(message: str) -> str:
    """libpq's reason, without its host preamble, FATAL: prefix and hint lines."""
    first = message.strip().splitlines()[0] if message.strip() else "unknown error"
    cause = first.rsplit(" failed: ", 1)[-1]
    cause = re.sub(r"^(FATAL|ERROR):\s*", "", cause)
    cause = re.sub(r"\s+", " ", cause).strip().rstrip(".") or "unknown error"
    return cause[0].lower() + cause[1:] if cause[1:2].islower() else cause  # "Connection refused", not "FATAL"


def _socket_cause(exc: OSError, timeout_s: float) -> str:
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"no answer within {timeout_s:g} s"
    if isinstance(exc, socket.gaierror):
        return f"unknown host ({exc.strerror})"
    return (exc.strerror or str(exc)).lower()
