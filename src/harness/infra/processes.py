"""Server processes and temp dirs this run owns, recorded so that nothing outlives us.

Every run writes a record (its own pid, the servers it started, its temp dirs) into a
state dir. A run that dies by SIGKILL cannot clean up; the next run reads the stale record,
stops those servers by pid and removes the dirs.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import random
import shutil
import signal
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import psutil

from harness.waiting import poll
from harness.worker import worker_number

STATE_DIR = Path(os.environ.get("LLM_ACCEPTANCE_STATE", Path(tempfile.gettempdir()) / "llm-acceptance-state"))
TEMP_PREFIX = "llm-acceptance-"


class RunRecord:
    """The pid file of one run: what it started and where it wrote."""

    def __init__(self, state_dir: Path = STATE_DIR) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self.path = state_dir / f"run-{os.getpid()}.json"
        me = psutil.Process()
        self._data = {"owner": _identity(me), "processes": [], "temp_dirs": [], "containers": []}
        self._stoppers: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self._save()

    def add_process(self, pid: int, name: str) -> None:
        try:
            self._data["processes"].append({**_identity(psutil.Process(pid)), "name": name})
        except psutil.NoSuchProcess:
            return
        self._save()

    def forget_process(self, pid: int) -> None:
        with self._lock:
            self._data["processes"] = [p for p in self._data["processes"] if p["pid"] != pid]
        self._save()

    @property
    def owner(self) -> dict:
        """The run's own process: pid and start time (a reused pid does not match)."""
        return dict(self._data["owner"])

    def add_container(self, container_id: str) -> None:
        """A Docker container of this run's (containers mode): removed by the next run if this one is killed."""
        with self._lock:
            self._data["containers"].append(container_id)
        self._save()

    def forget_container(self, container_id: str) -> None:
        with self._lock:
            self._data["containers"] = [c for c in self._data["containers"] if c != container_id]
        self._save()

    def new_temp_dir(self) -> Path:
        path = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX))
        self._data["temp_dirs"].append(str(path))
        self._save()
        return path

    def add_temp_dir(self, path: Path) -> None:
        """A dir this run now owns (a warm platform's it adopted): removed at close unless handed over."""
        self._data["temp_dirs"].append(str(path))
        self._save()

    def forget_temp_dir(self, path: Path) -> None:
        """Handed over (to a warm platform): close() leaves it."""
        self._data["temp_dirs"] = [d for d in self._data["temp_dirs"] if d != str(path)]
        self._save()

    def on_close(self, stopper: Callable[[], None]) -> None:
        """Register a graceful stop; run in reverse order by close()."""
        self._stoppers.append(stopper)

    def close(self) -> None:
        """Stop everything gracefully, then make sure by pid; idempotent."""
        errors = []
        while self._stoppers:
            stopper = self._stoppers.pop()
            try:
                stopper()
            except Exception as exc:  # keep stopping the rest
                errors.append(exc)
        _reap(self._data)
        self.path.unlink(missing_ok=True)
        if errors:
            raise errors[0]

    def _save(self) -> None:
        with self._lock:  # services stop in parallel threads, and each forgets its pid here
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self._data))
            tmp.replace(self.path)


def reap_dead_runs(state_dir: Path = STATE_DIR) -> list[tuple[str, dict]]:
    """Stop the servers and remove the temp dirs of earlier runs whose owner is gone; their records' names and
    contents (harness.infra.reaper removes the containers they list)."""
    reaped = []
    for record_path in sorted(state_dir.glob("run-*.json")):
        try:
            data = json.loads(record_path.read_text())
        except (OSError, ValueError):
            record_path.unlink(missing_ok=True)
            continue
        if _alive(data["owner"]):
            continue
        _reap(data)
        record_path.unlink(missing_ok=True)
        reaped.append((record_path.name, data))
    return reaped


def install_exit_guards(close: Callable[[], None]) -> None:
    """Close on interpreter exit and turn SIGTERM/SIGHUP into a normal exit."""
    atexit.register(close)

    def _exit(signum, _frame):
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _exit)


class AdoptedProcess(psutil.Process):
    """A process an earlier run started (a warm platform's), answering the parts of Popen the harness uses."""

    returncode: int | None = None

    def poll(self) -> int | None:
        try:
            if self.is_running() and self.status() != psutil.STATUS_ZOMBIE:
                return None
        except psutil.NoSuchProcess:
            pass
        self.returncode = -1 if self.returncode is None else self.returncode
        return self.returncode


# Servers' ports are chosen below the kernel's ephemeral range: every outgoing connection takes its local port from
# that range, so one of the thousands a run makes could hold a port chosen there before our server binds it.
PORT_FLOOR = 20_000
# A port is free when chosen and bound by the server a moment later: in that moment another choice must not fall on
# it. So a process never hands out a port twice, and each parallel worker chooses from a slice of its own.
PORT_SLICES = 8
_handed_out: set[int] = set()


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing is bound to now and that this process has not handed out before, below the ephemeral range
    where the machine allows it (in the parallel worker's slice of it)."""
    first, last = _port_slice(PORT_FLOOR, _ephemeral_low())
    for _ in range(200 if last - first >= 1000 else 0):
        port = random.randrange(first, last)
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    with socket.socket() as sock:  # no room below the range (or all taken): any port the kernel gives
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _port_slice(low: int, high: int) -> tuple[int, int]:
    """The ports [first, last) this process chooses from: the whole span, or a parallel worker's share of it."""
    worker = worker_number()
    if worker is None:
        return low, high
    size = (high - low) // PORT_SLICES
    first = low + ((worker - 1) % PORT_SLICES) * size
    return first, first + size


@functools.cache
def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return PORT_FLOOR  # not Linux: the kernel's choice


class PortTaken(RuntimeError):
    """The server exited before it listened: another process may have bound its port since it was chosen."""


def wait_for_port(host: str, port: int, budget_s: float, process: psutil.Popen | None = None) -> None:
    """Poll until the process (ours) listens on host:port, or, without one, until something accepts there; fail
    after budget_s, at once if the process exits. The process's own sockets are what count: a port chosen by
    free_port() is free again at once, and another process may take it before ours binds it."""

    def accepts() -> bool:
        if process is not None and process.poll() is not None:
            raise PortTaken(f"server on port {port} exited with code {process.returncode} before it was ready")
        if process is not None:
            return any(connection.status == psutil.CONN_LISTEN and connection.laddr.port == port
                       for connection in process.net_connections(kind="tcp"))
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return True
        except OSError:
            return False

    if not poll(accepts, budget_s, 0.005):
        raise TimeoutError(f"nothing accepted connections on {host}:{port} within {budget_s} s")


class NotReady(Exception):
    """A started server did not answer in time, or exited first; the message says which."""


def exited(process: psutil.Popen | None) -> int | None:
    """The exit code of a process this run started, or None while it runs. Popen.poll() reaps it: a child that
    died is never mistaken for a live one (psutil sees a zombie as running)."""
    return None if process is None else process.poll()


def answer_of(client, url: str, timeout_s: float) -> str | None:
    """None when GET url answers 200, else what it answered (or why it did not)."""
    import httpx

    try:
        response = client.get(url, timeout=max(0.1, min(2.0, timeout_s)))
    except httpx.HTTPError as exc:
        return f"{urlsplit(url).path}: {type(exc).__name__} {exc}"
    if response.status_code == 200:
        return None
    return f"{urlsplit(url).path} answered {response.status_code} {response.text[:200]}"


@functools.cache
def tls() -> ssl.SSLContext:
    """The TLS settings of the suite's HTTP clients (`verify=tls()`), built once: building them loads the CA
    bundle, ~50 ms of CPU, and each scenario and each wait for a service makes a client."""
    import httpx

    return httpx.create_ssl_context()


def wait_until_answering(url: str, process: psutil.Popen | None, budget_s: float, poll_s: float = 0.02) -> None:
    """GET url until it answers 200 within budget_s; raise NotReady at once if the process (when ours) exits."""
    import httpx  # here: the infrastructure modes that never call it do not pay for the import

    deadline, last = time.monotonic() + budget_s, ["no answer yet"]
    # A proxy from the environment must not see loopback.
    with httpx.Client(trust_env=False, verify=tls()) as client:

        def answers() -> bool:
            code = exited(process)
            if code is not None:
                raise NotReady(f"exited with code {code} before it was ready (budget {budget_s:.1f} s)")
            last[0] = answer_of(client, url, deadline - time.monotonic()) or ""
            return not last[0]

        if not poll(answers, budget_s, poll_s):
            raise NotReady(f"was not ready within {budget_s:.1f} s; last: {last[0]}")


def kill_tree(pid: int, grace_s: float = 3.0) -> None:
    """Terminate a process and its children, killing whatever ignores SIGTERM."""
    try:
        root = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    try:
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:  # it ended while its children were listed
        procs = [root]
    for proc in procs:
        try:
            proc.terminate()
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(procs, timeout=grace_s)
    for proc in alive:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=grace_s)


def _identity(proc: psutil.Process) -> dict:
    return {"pid": proc.pid, "create_time": proc.create_time()}


def owner_alive(identity: dict) -> bool:
    """True when the process that identity names (pid and start time) still runs."""
    return _alive(identity)


def _alive(identity: dict) -> bool:
    """True when that exact process still runs (a reused pid does not count, nor a zombie: a run killed by
    SIGKILL stays one until its parent reaps it, and its servers must not wait for that)."""
    try:
        process = psutil.Process(identity["pid"])
        return (abs(process.create_time() - identity["create_time"]) < 0.01
                and process.status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def _reap(data: dict) -> None:
    for proc in reversed(data["processes"]):  # services before the servers they use, so they stop quietly
        if _alive(proc):
            kill_tree(proc["pid"])
    for temp_dir in data["temp_dirs"]:
        shutil.rmtree(temp_dir, ignore_errors=True)
