"""Infrastructure providers: embedded (default), containers, external.

Servers start lazily, once per run, when the first step needs them, and stop in close().
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping

from harness.infra.errors import ConfigurationError, InfrastructureUnavailable
from harness.infra.nats_auth import BusCredentials
from harness.infra.processes import RunRecord, install_exit_guards, reap_stale_runs

MODES = ("embedded", "containers", "external")


def select_mode(userdata: Mapping[str, str], environ: Mapping[str, str] = os.environ) -> str:
    mode = userdata.get("infra")
    if mode is None:
        mode = "external" if environ.get("NATS_URL") or environ.get("DATABASE_URL") else "embedded"
    if mode not in MODES:
        raise ConfigurationError(f"-D infra={mode} is not known; choose {', '.join(MODES[:-1])} or {MODES[-1]}")
    return mode


class Infrastructure:
    """The servers of one run. Ask for a URL and the server behind it starts if needed."""

    def __init__(self, mode: str, environ: Mapping[str, str] = os.environ,
                 userdata: Mapping[str, str] | None = None) -> None:
        self.mode = mode
        self.startup_seconds: dict[str, float] = {}
        self._started: set[str] = set()
        self._failed: dict[str, Exception] = {}  # a server that could not start: later askers get its error at once
        self.reaped = reap_stale_runs()
        self.record = RunRecord()
        self.isolated_nats = None  # made on first use: see isolated_nats_url()
        self.images: dict[str, str] = {}  # containers mode: the image of each server
        self.bus_credentials = BusCredentials.fresh()  # the suite's NATS servers' service user and issuer
        install_exit_guards(self.close)
        if mode == "embedded":
            from harness.infra.embedded import EmbeddedNats, EmbeddedPostgres

            root = self.record.new_temp_dir()
            self.nats = EmbeddedNats(self.record, root, self.bus_credentials)
            self.postgres = EmbeddedPostgres(self.record, root)
        elif mode == "containers":
            from harness.infra import containers

            try:  # each way this cannot work is one sentence, before any scenario
                client = containers.engine_client(environ)
                self.reaped += containers.reap_stale_containers(client)
                self.images = containers.select_images(client, userdata or {}, environ)
            except InfrastructureUnavailable:
                self.record.close()
                raise
            containers.configure_testcontainers()
            self.nats = containers.ContainerNats(self.record, self.images["nats_image"], self.bus_credentials)
            self.postgres = containers.ContainerPostgres(self.record, self.images["postgres_image"])
        else:
            from harness.infra.external import ExternalServer

            self.nats = ExternalServer(environ.get("NATS_URL", "nats://127.0.0.1:4222"))
            self.postgres = ExternalServer(_sqlalchemy_url(environ.get("DATABASE_URL", "")))

    @property
    def owns_nats(self) -> bool:
        """The run started the NATS server (embedded or containers): it trusts the run's bus credentials."""
        return self.mode != "external"

    @property
    def can_control_nats(self) -> bool:
        """Only embedded NATS can be stopped and restarted by a scenario."""
        return self.mode == "embedded"

    def nats_url(self) -> str:
        self._ensure("nats", self.nats)
        return self.nats.url

    def isolated_nats_url(self) -> str:
        """A NATS server where no platform service listens, for scenarios that host their own workers.

        Embedded in every mode (the nats-server wheel), so such a scenario can always stop and restart it.
        """
        if self.isolated_nats is None:
            from harness.infra.embedded import EmbeddedNats

            self.isolated_nats = EmbeddedNats(self.record, self.record.new_temp_dir(), self.bus_credentials)
        self._ensure("isolated_nats", self.isolated_nats)
        return self.isolated_nats.url

    def discard_isolated_nats(self) -> None:
        """Stop the isolated server and drop its store: the next scenario that asks gets a fresh one."""
        if self.isolated_nats is not None:
            self.isolated_nats.stop()
            self._started.discard("isolated_nats")
            self.isolated_nats = None

    def database_url(self) -> str:
        if self.mode == "external" and not self.postgres.url:
            raise InfrastructureUnavailable("external mode needs DATABASE_URL for scenarios that use PostgreSQL")
        self._ensure("postgres", self.postgres)
        return self.postgres.url

    def close(self) -> None:
        for name in sorted(self._started):  # each name is the attribute that holds the server
            self.record.on_close(getattr(self, name).stop)
        self._started.clear()
        self.record.close()

    def _ensure(self, name: str, server) -> None:
        if name in self._started:
            return
        if name in self._failed and self.mode == "containers":  # a container's wait runs out slowly: once per run
            raise InfrastructureUnavailable(f"{name} did not start earlier in this run: {self._failed[name]}")
        began = time.perf_counter()
        try:
            server.start()
        except Exception as exc:
            self._failed[name] = exc
            raise
        self._started.add(name)
        self.startup_seconds[name] = time.perf_counter() - began


def _sqlalchemy_url(url: str) -> str:
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme):]
    return url


__all__ = ["ConfigurationError", "Infrastructure", "InfrastructureUnavailable", "select_mode", "MODES"]
